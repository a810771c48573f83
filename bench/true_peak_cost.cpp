// Cost of the true-peak detector and of the master limiter, alone (no engine around them): ns
// per sample of one detector channel (accurate design: the meters'; both designs: the
// limiter's), and ns per 64-frame stereo block of the limiter while it limits, on noise
// 6 dB over full scale at 48 kHz. Each figure is the lowest of --repeats runs of --seconds of
// audio processed in --frames blocks (the lowest: the run the machine's neighbours disturbed
// least). For instruction counts, run it under
//   valgrind --tool=callgrind --toggle-collect='rtmix::dsp::TruePeakDetector::process*' ...
// (or 'rtmix::dsp::Limiter::process*').
//
//   rtmix_bench_true_peak [--frames 64] [--seconds 10] [--repeats 5] [--rate 48000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dsp/limiter.hpp"
#include "dsp/true_peak.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
    std::uint32_t frames = 64, repeats = 5;
    double seconds = 10.0, rate = 48000.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--frames") frames = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
        else if (a == "--seconds") seconds = std::atof(argv[i + 1]);
        else if (a == "--repeats") repeats = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
        else if (a == "--rate") rate = std::atof(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    const auto total = static_cast<std::size_t>(seconds * rate) / frames * frames;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> white(-2.0f, 2.0f);
    std::vector<float> left(total), right(total), peaks(frames);
    for (std::size_t i = 0; i < total; ++i) {
        left[i] = white(rng);
        right[i] = white(rng);
    }
    volatile float sink = 0.0f;

    const auto detector = [&](rtmix::dsp::TruePeakDesign design) {
        double best = 1e9;
        for (std::uint32_t r = 0; r < repeats; ++r) {
            rtmix::dsp::TruePeakDetector det(rate, design);
            const auto t0 = Clock::now();
            for (std::size_t i = 0; i < total; i += frames) {
                det.process(left.data() + i, peaks.data(), frames);
                sink = sink + peaks[0];
            }
            best = std::min(best, seconds_since(t0) / static_cast<double>(total) * 1e9);
        }
        return best;
    };
    const double accurate = detector(rtmix::dsp::TruePeakDesign::accurate);
    const double both = detector(rtmix::dsp::TruePeakDesign::both);

    double limiter = 1e9;
    std::vector<float> l(frames), r(frames);
    for (std::uint32_t rep = 0; rep < repeats; ++rep) {
        rtmix::dsp::Limiter lim(rate, 20.0f);
        lim.set(rtmix::dsp::LimiterParam::enabled, 1.0f);
        lim.set(rtmix::dsp::LimiterParam::ceiling_dbtp, -1.0f);
        lim.reset();
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < total; i += frames) {
            std::memcpy(l.data(), left.data() + i, frames * sizeof(float));
            std::memcpy(r.data(), right.data() + i, frames * sizeof(float));
            lim.process(l.data(), r.data(), frames);
            sink = sink + l[0];
        }
        limiter = std::min(limiter, seconds_since(t0) / static_cast<double>(total / frames) * 1e6);
    }
    std::printf("true-peak detector, %u-frame blocks, %.0f Hz: accurate %.1f ns/sample, both %.1f ns/sample\n", frames,
                rate, accurate, both);
    std::printf("limiter (stereo, limiting, latency %u frames): %.2f us per %u-frame block (%.1f ns per frame)\n",
                rtmix::dsp::Limiter::latency_frames_for(rate, 5.0f), limiter, frames,
                limiter * 1e3 / static_cast<double>(frames));
    return 0;
}
