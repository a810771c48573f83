// A minimal host: builds a small mix in code, runs an "audio thread" that calls process() at the
// pace of a 48 kHz device, changes parameters from the main thread while it plays, and prints
// meters. docs/embedding.md walks through it.
#include <rtmix/engine.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

namespace {

void check(const rtmix::Status& s) {
    if (!s) {
        std::fprintf(stderr, "rtmix: %s\n", s.message().c_str());
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int blocks = 1500;  // 8 s at 256 frames
    if (argc == 3 && std::strcmp(argv[1], "--blocks") == 0) blocks = std::atoi(argv[2]);
    constexpr double rate = 48000.0;
    constexpr std::uint32_t frames = 256;

    // 1. The mix: two tracks into a bus, a reverb return, the master.
    rtmix::Engine engine({.sample_rate = rate, .max_block_frames = frames});
    check(engine.add_track("bass", 1));   // reads input channel 0
    check(engine.add_track("pad", 2));    // reads input channels 1 and 2
    check(engine.add_bus("music"));
    check(engine.add_bus("verb"));
    check(engine.add_effect("bus.verb", rtmix::Effect::reverb));
    check(engine.set_output("track.bass", "bus.music"));
    check(engine.set_output("track.pad", "bus.music"));
    check(engine.add_send("track.pad", "bus.verb", -8.0));
    check(engine.set("track.bass.eq.1.type", "highpass"));
    check(engine.set("track.bass.eq.1.freq_hz", 35.0));
    check(engine.set("track.bass.compressor.enabled", 1.0));
    check(engine.set("track.bass.compressor.threshold_db", -18.0));
    check(engine.set("bus.verb.reverb.decay_s", 2.5));

    // 2. The audio thread: synthesises its inputs and calls process() once per period.
    std::atomic<bool> running{true};
    std::thread audio([&] {
        std::vector<float> bass(frames), pad_l(frames), pad_r(frames), out_l(frames), out_r(frames);
        const float* inputs[3] = {bass.data(), pad_l.data(), pad_r.data()};
        float* outputs[2] = {out_l.data(), out_r.data()};
        const auto period = std::chrono::microseconds(static_cast<long>(1e6 * frames / rate));
        auto next = std::chrono::steady_clock::now();
        double t = 0.0;
        for (int b = 0; b < blocks && running; ++b) {
            for (std::uint32_t i = 0; i < frames; ++i, t += 1.0 / rate) {
                bass[i] = 0.6f * static_cast<float>(std::sin(2 * std::numbers::pi * 55.0 * t));
                pad_l[i] = 0.2f * static_cast<float>(std::sin(2 * std::numbers::pi * 220.0 * t));
                pad_r[i] = 0.2f * static_cast<float>(std::sin(2 * std::numbers::pi * 277.2 * t));
            }
            engine.process(inputs, 3, outputs, frames);  // wait-free
            next += period;
            std::this_thread::sleep_until(next);  // stands in for the device's clock
        }
        running = false;
    });

    // 3. The control thread (here: main) moves parameters while audio runs and polls meters.
    for (int tick = 0; running; ++tick) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        check(engine.set("track.pad.pan", std::sin(tick * 0.3)));      // smoothed, no zipper noise
        check(engine.set("track.bass.gain_db", tick % 20 < 10 ? 0.0 : -6.0));
        rtmix::StripMeter master{}, bass{};
        engine.meter("master", master);
        engine.meter("track.bass", bass);
        std::printf("master %6.1f / %6.1f dBFS peak, bass GR %5.1f dB\n", master.peak_dbfs[0], master.peak_dbfs[1],
                    bass.gain_reduction_db);
        for (const rtmix::Event& e : engine.poll_events()) std::printf("event: %s\n", e.message.c_str());
    }
    audio.join();
    return 0;
}
