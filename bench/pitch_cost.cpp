// Cost of pitch correction (the `pitch` insert), in three figures:
//  1. per instance per block: one mono track with and without a pitch insert, on a synthetic voice
//     (a glottal pulse train through vowel formants, its pitch drifting, so the corrector works
//     all the time) and on noise (unvoiced: the detector runs, the shifter idles); the difference
//     of the medians of process() per block;
//  2. per second of audio offline: 60 s of that voice through one track with the insert, in
//     1024-frame blocks, minus the same without it;
//  3. a session: 48 tracks, 8 of them mono voices with a pitch insert, the other 40 the benchmark
//     mix's stereo tracks (mix.hpp: 4 EQ bands, compressor, a send to a reverb return, 4 group
//     buses), at 128-frame blocks on one thread: the share of the deadline.
//
//   rtmix_bench_pitch [--frames 64] [--blocks 20000] [--rate 48000]
// Measures wall time on this thread after a warm-up; run on an otherwise idle machine, in a
// Release build.
#include <rtmix/engine.hpp>

#include "mix.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

namespace {

using rtmix::bench::check;
using Clock = std::chrono::steady_clock;

/// `seconds` of a voice at `rate`: harmonics up to 8 kHz, -12 dB/octave above 300 Hz, through
/// the formants of /a/, its pitch wandering around 150-300 Hz.
std::vector<float> voice(double rate, double seconds) {
    const auto n = static_cast<std::size_t>(rate * seconds);
    std::vector<double> x(n);
    double phase = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        const double f0 = 200.0 * std::exp2(0.5 * std::sin(0.7 * t) + 0.03 * std::sin(2 * std::numbers::pi * 5.5 * t));
        double s = 0.0;
        for (int k = 1; k * f0 < 8000.0; ++k) s += std::sin(k * phase) / (1.0 + (k * f0 / 300.0) * (k * f0 / 300.0));
        x[i] = s;
        phase = std::fmod(phase + 2 * std::numbers::pi * f0 / rate, 2 * std::numbers::pi);
    }
    for (const auto& [f, bw] : {std::pair{730.0, 80.0}, std::pair{1090.0, 90.0}, std::pair{2440.0, 120.0}}) {
        const double r = std::exp(-std::numbers::pi * bw / rate);
        const double a1 = 2 * r * std::cos(2 * std::numbers::pi * f / rate), a2 = -r * r, g = 1 - a1 - a2;
        double y1 = 0, y2 = 0;
        for (double& v : x) {
            const double y = g * v + a1 * y1 + a2 * y2;
            y2 = y1;
            y1 = y;
            v = y;
        }
    }
    double peak = 1e-30;
    for (double v : x) peak = std::max(peak, std::abs(v));
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(0.3 * x[i] / peak);
    return out;
}

/// Median (and min) of process() per block over `blocks` blocks of `frames`, the input read from
/// `signal` (looped) on every input channel.
struct Timing {
    double min = 0.0, p50 = 0.0, p99 = 0.0, max = 0.0;
};
Timing run(rtmix::Engine& e, const std::vector<float>& signal, std::uint32_t frames, int blocks) {
    const std::uint32_t channels = e.input_channels();
    std::vector<const float*> in(channels);
    std::vector<float> l(frames), r(frames);
    float* out[2] = {l.data(), r.data()};
    std::size_t pos = 0;
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(blocks));
    for (int b = -2000; b < blocks; ++b) {
        if (pos + frames > signal.size()) pos = 0;
        for (std::uint32_t c = 0; c < channels; ++c) in[c] = signal.data() + (pos + 997 * c) % (signal.size() - frames);
        pos += frames;
        const auto t0 = Clock::now();
        e.process(in.data(), channels, out, frames);
        const auto t1 = Clock::now();
        if (b >= 0) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(us.begin(), us.end());
    return {us.front(), us[us.size() / 2], us[us.size() * 99 / 100], us.back()};
}

std::unique_ptr<rtmix::Engine> one_track(double rate, std::uint32_t frames, bool pitch) {
    auto e = std::make_unique<rtmix::Engine>(
        rtmix::EngineOptions{.sample_rate = rate, .max_block_frames = frames, .loudness_meter = false});
    check(e->add_track("vox", 1));
    if (pitch) {
        check(e->add_insert("track.vox", "pitch"));
        check(e->set("track.vox.insert.1.key", "A"));
        check(e->set("track.vox.insert.1.scale", "minor"));
    }
    return e;
}

}  // namespace

int main(int argc, char** argv) {
    int frames = 64, blocks = 20000;
    double rate = 48000.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--frames") frames = std::atoi(argv[i + 1]);
        else if (a == "--blocks") blocks = std::atoi(argv[i + 1]);
        else if (a == "--rate") rate = std::atof(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    const auto block = static_cast<std::uint32_t>(frames);
    const std::vector<float> sung = voice(rate, 8.0);
    const std::vector<float> noise = rtmix::bench::noise_inputs(1, static_cast<std::uint32_t>(rate * 8.0))[0];

    std::printf("1. one mono track, %u-frame blocks at %.0f Hz, %d blocks (us per block: min / p50 / p99)\n", block,
                rate, blocks);
    for (const auto& [name, signal] : {std::pair{"voice", &sung}, std::pair{"noise", &noise}}) {
        auto without = one_track(rate, block, false);
        auto with = one_track(rate, block, true);
        const Timing a = run(*without, *signal, block, blocks), b = run(*with, *signal, block, blocks);
        std::printf("   %-6s without %6.2f / %6.2f / %6.2f   with pitch %6.2f / %6.2f / %6.2f   insert (p50) %.2f us\n",
                    name, a.min, a.p50, a.p99, b.min, b.p50, b.p99, b.p50 - a.p50);
    }

    {
        const double seconds = 60.0;
        double cost[2] = {};
        for (const bool pitch : {false, true}) {
            auto e = one_track(rate, 1024, pitch);
            std::vector<float> l(1024), r(1024);
            float* out[2] = {l.data(), r.data()};
            const auto total = static_cast<std::size_t>(seconds * rate);
            const auto t0 = Clock::now();
            for (std::size_t pos = 0; pos < total; pos += 1024) {
                const float* in[1] = {sung.data() + pos % (sung.size() - 1024)};
                e->process(in, 1, out, 1024);
            }
            cost[pitch] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / seconds;
        }
        std::printf("2. offline, 1024-frame blocks: %.2f ms of CPU per second of voice with the insert, %.2f without: "
                    "%.2f ms for the insert (%.0fx real time)\n",
                    cost[1], cost[0], cost[1] - cost[0], 1000.0 / (cost[1] - cost[0]));
    }

    {
        rtmix::Engine e(rtmix::EngineOptions{.sample_rate = rate, .max_block_frames = 128,
                                             .param_queue_capacity = 1u << 16});
        rtmix::bench::build_mix(e, 40);
        check(e.batch([&] {
            for (int v = 0; v < 8; ++v) {
                const std::string name = rtmix::bench::numbered("vox", v), path = "track." + name;
                check(e.add_track(name, 1));
                check(e.set_output(path, rtmix::bench::numbered("bus.group", v % 4)));
                check(e.add_send(path, "bus.verb", -18.0));
                check(e.set(path + ".eq.1.type", "highpass"));
                check(e.set(path + ".eq.1.freq_hz", 90.0));
                check(e.set(path + ".compressor.enabled", 1.0));
                check(e.add_insert(path, "pitch"));
            }
            return rtmix::Status{};
        }));
        const Timing t = run(e, sung, 128, blocks / 2);
        const double deadline = 1e6 * 128 / rate;
        std::printf("3. 48 tracks (8 with pitch correction), 128-frame blocks, one thread: p50 %.1f us (%.1f %% of the "
                    "%.0f us deadline), p99 %.1f us (%.1f %%), max %.1f us (%.1f %%); latency %u frames\n",
                    t.p50, 100 * t.p50 / deadline, deadline, t.p99, 100 * t.p99 / deadline, t.max,
                    100 * t.max / deadline, e.latency_frames());
    }
    return 0;
}
