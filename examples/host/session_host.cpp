// A host that takes its mix from a session file: loads and checks it, builds the mix in an
// engine, and plays a few seconds of silence through it (a real host would feed its inputs and
// stream the stems; `rtmix render` does that offline). Prints the strips and the master's meter.
//   rtmix_session_host SESSION.toml
#include <rtmix/session.hpp>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: rtmix_session_host SESSION.toml\n");
        return 2;
    }
    try {
        const rtmix::Session session = rtmix::Session::load(argv[1]);
        rtmix::Engine engine(session.engine_options());
        session.apply(engine);
        for (const rtmix::SessionStrip& s : session.strips()) std::printf("%s\n", s.path().c_str());

        // The audio side: input channel c of a block is the c-th channel of the tracks, in order.
        const std::uint32_t frames = session.block_frames();
        std::vector<std::vector<float>> in(session.input_channels(), std::vector<float>(frames, 0.0f));
        std::vector<const float*> inputs;
        for (auto& ch : in) inputs.push_back(ch.data());
        std::vector<float> left(frames), right(frames);
        float* outputs[2] = {left.data(), right.data()};
        for (int block = 0; block < 100; ++block)
            engine.process(inputs.data(), static_cast<std::uint32_t>(inputs.size()), outputs, frames);

        rtmix::StripMeter m{};
        engine.meter("master", m);
        std::printf("master peak: %.1f dBFS\n", m.peak_hold_dbfs);
        return 0;
    } catch (const rtmix::SessionError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
}
