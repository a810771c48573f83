// The compressor against its analytic static curve (Giannoulis, Massberg & Reiss 2012, eq. 4, with
// the soft knee) and against the one-pole time constants that define attack_ms and release_ms.
#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <random>

#include <fmt/format.h>

#include "dsp/compressor.hpp"
#include "dsp/fast_math.hpp"
#include "signals.hpp"

using namespace rtmix;

namespace {

/// The static curve, written out independently of the code under test.
double expected_output_db(double x, double threshold, double ratio, double knee) {
    if (2.0 * (x - threshold) < -knee) return x;
    if (2.0 * std::fabs(x - threshold) <= knee) {
        const double t = x - threshold + knee / 2.0;
        return x + (1.0 / ratio - 1.0) * t * t / (2.0 * knee);
    }
    return threshold + (x - threshold) / ratio;
}

dsp::Compressor make(const dsp::CompressorSettings& s, double fs) {
    dsp::Compressor c;
    c.set(s);
    c.prepare(fs, 20.0f);
    return c;
}

/// Noise whose level steps through loud, mid and quiet sections (about -6, -25 and -70 dBFS, each
/// 0.1 to 0.4 s long), so that a compressor attacks, releases and rests.
std::vector<float> sectioned_noise(std::size_t frames, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    std::uniform_int_distribution<std::size_t> length(4800, 19200);
    const float levels[3] = {0.5f, 0.056f, 0.0003f};
    std::vector<float> x(frames);
    std::size_t i = 0;
    for (int section = 0; i < frames; ++section) {
        const std::size_t end = std::min(frames, i + length(rng));
        for (; i < end; ++i) x[i] = levels[section % 3] * noise(rng);
    }
    return x;
}

/// The compressor written out in double precision with std::log10/std::pow and the branching
/// attack/release filter: the reference for the gains process() applies.
std::vector<double> reference_gains(const dsp::CompressorSettings& s, double fs, const std::vector<float>* const* in,
                                    std::size_t channels) {
    const auto coef = [&](double ms) { return ms <= 0.0 ? 0.0 : std::exp(-1000.0 / (ms * fs)); };
    const double attack = coef(s.attack_ms), release = coef(s.release_ms), rms_coef = coef(10.0);
    const std::size_t frames = in[0]->size();
    std::vector<double> gains(frames);
    double gr = 0.0, ms = 0.0;
    for (std::size_t i = 0; i < frames; ++i) {
        double level_db;
        if (s.detector == dsp::Detector::peak) {
            double peak = 0.0;
            for (std::size_t ch = 0; ch < channels; ++ch) peak = std::max(peak, std::fabs(double((*in[ch])[i])));
            level_db = peak > 0.0 ? std::max(20.0 * std::log10(peak), -200.0) : -200.0;
        } else {
            double sum = 0.0;
            for (std::size_t ch = 0; ch < channels; ++ch) sum += double((*in[ch])[i]) * (*in[ch])[i];
            ms = rms_coef * ms + (1.0 - rms_coef) * sum / double(channels);
            level_db = ms > 0.0 ? std::max(10.0 * std::log10(ms), -200.0) : -200.0;
        }
        const double target = expected_output_db(level_db, s.threshold_db, s.ratio, s.knee_db) - level_db;
        const double c = target < gr ? attack : release;
        gr = c * gr + (1.0 - c) * target;
        gains[i] = std::pow(10.0, gr / 20.0);
    }
    return gains;
}

void run(dsp::Compressor& c, std::vector<float>& x) {
    float* ch[1] = {x.data()};
    for (std::size_t pos = 0; pos < x.size(); pos += 256) {
        float* block[1] = {ch[0] + pos};
        c.process(block, 1, static_cast<std::uint32_t>(std::min<std::size_t>(256, x.size() - pos)));
    }
}

}  // namespace

TEST_CASE("compressor static curve from steady sines matches the soft-knee formula within 0.25 dB", "[compressor]") {
    const double fs = 48000.0;
    struct Curve { double threshold, ratio, knee; };
    const Curve curve = GENERATE(Curve{-20, 4, 6}, Curve{-12, 2, 0}, Curve{-30, 10, 12});
    for (double level_db : {-45.0, -32.0, -24.0, -21.0, -20.0, -18.0, -14.0, -6.0, 0.0}) {
        dsp::CompressorSettings s;
        s.enabled = true;
        s.threshold_db = static_cast<float>(curve.threshold);
        s.ratio = static_cast<float>(curve.ratio);
        s.knee_db = static_cast<float>(curve.knee);
        s.attack_ms = 1.0f;
        s.release_ms = 500.0f;
        dsp::Compressor c = make(s, fs);
        const double amplitude = std::pow(10.0, level_db / 20.0);
        std::vector<float> x = test::sine(1000.0, fs, 96000, amplitude);
        const double in_peak = test::peak(x.data(), 48000, 96000);
        run(c, x);
        const double out_peak = test::peak(x.data(), 48000, 96000);
        INFO("threshold " << curve.threshold << " ratio " << curve.ratio << " knee " << curve.knee << " level "
                          << level_db);
        CHECK(test::to_db(out_peak) ==
              Approx(expected_output_db(test::to_db(in_peak), curve.threshold, curve.ratio, curve.knee)).margin(0.25));
    }
}

TEST_CASE("RMS detection compresses by the curve evaluated at the signal's RMS level", "[compressor]") {
    const double fs = 44100.0;
    dsp::CompressorSettings s;
    s.enabled = true;
    s.detector = dsp::Detector::rms;
    s.threshold_db = -24.0f;
    s.ratio = 3.0f;
    s.knee_db = 0.0f;
    s.attack_ms = 5.0f;
    s.release_ms = 200.0f;
    for (double level_db : {-40.0, -20.0, -10.0}) {
        dsp::Compressor c = make(s, fs);
        std::vector<float> x = test::sine(440.0, fs, 88200, std::pow(10.0, level_db / 20.0));
        const double in_rms_db = test::to_db(test::rms(x.data(), 44100, 88200));
        run(c, x);
        const double out_rms_db = test::to_db(test::rms(x.data(), 44100, 88200));
        INFO("level " << level_db);
        CHECK(out_rms_db == Approx(expected_output_db(in_rms_db, -24.0, 3.0, 0.0)).margin(0.25));
    }
}

TEST_CASE("attack and release follow their time constants within 10 %", "[compressor]") {
    const double fs = 48000.0;
    const double attack_ms = GENERATE(5.0, 20.0);
    const double release_ms = GENERATE(50.0, 300.0);
    dsp::CompressorSettings s;
    s.enabled = true;
    s.threshold_db = -20.0f;
    s.ratio = 4.0f;
    s.knee_db = 0.0f;
    s.attack_ms = static_cast<float>(attack_ms);
    s.release_ms = static_cast<float>(release_ms);
    dsp::Compressor c = make(s, fs);
    // A DC step from -40 dBFS to 0 dBFS and back: the final gain reduction is -15 dB.
    const std::size_t step = 48000, frames = 3 * 48000;
    std::vector<float> x(frames, 0.01f);
    std::fill(x.begin() + step, x.begin() + 2 * step, 1.0f);
    std::vector<float> in = x;
    run(c, x);
    const double full_gr = expected_output_db(0.0, -20, 4, 0) - 0.0;
    auto gr_at = [&](std::size_t i) { return test::to_db(x[i] / in[i]); };
    std::size_t i = step;
    while (gr_at(i) > full_gr * (1.0 - std::exp(-1.0))) ++i;
    CHECK(static_cast<double>(i - step) / fs * 1000.0 == Approx(attack_ms).epsilon(0.10));
    i = 2 * step;
    const double at_release = gr_at(2 * step);
    while (gr_at(i) < at_release * std::exp(-1.0)) ++i;
    CHECK(static_cast<double>(i - 2 * step) / fs * 1000.0 == Approx(release_ms).epsilon(0.10));
}

TEST_CASE("a stereo-linked compressor applies the same gain to both channels", "[compressor]") {
    dsp::CompressorSettings s;
    s.enabled = true;
    s.threshold_db = -30.0f;
    s.ratio = 8.0f;
    dsp::Compressor c = make(s, 48000.0);
    std::vector<float> loud = test::sine(200.0, 48000.0, 48000, 0.9);
    std::vector<float> quiet = test::sine(3000.0, 48000.0, 48000, 0.01);
    const std::vector<float> quiet_in = quiet;
    float* ch[2] = {loud.data(), quiet.data()};
    c.process(ch, 2, 48000);
    // The quiet side is far below threshold on its own, yet it is turned down like the loud side.
    const double quiet_gain_db = test::to_db(test::rms(quiet.data(), 24000, 48000) / test::rms(quiet_in.data(), 24000, 48000));
    CHECK(quiet_gain_db < -10.0);
    CHECK(quiet_gain_db == Approx(c.gain_reduction_db()).margin(0.5));
}

TEST_CASE("makeup gain raises the output by makeup_db, and a disabled compressor is transparent", "[compressor]") {
    dsp::CompressorSettings s;
    s.enabled = true;
    s.threshold_db = 0.0f;
    s.ratio = 1.0f;
    s.makeup_db = 6.0f;
    dsp::Compressor c = make(s, 48000.0);
    std::vector<float> x(4800, 0.25f);
    float* ch[1] = {x.data()};
    c.process(ch, 1, 4800);
    CHECK(x.back() == Approx(0.25 * std::pow(10.0, 6.0 / 20.0)).epsilon(1e-4));

    s.enabled = false;
    dsp::Compressor off = make(s, 48000.0);
    std::vector<float> y(4800, 0.7f);
    float* ych[1] = {y.data()};
    off.process(ych, 1, 4800);
    CHECK(y.back() == 0.7f);
}

TEST_CASE("fast_log2 is within 8e-6 of log2 for levels from 1e-20 to 1e6", "[compressor]") {
    // Every 61st float in the range: amplitudes from -200 dB to +120 dB, powers from -200 dB.
    double worst = 0.0;
    const auto first = std::bit_cast<std::uint32_t>(1e-20f), last = std::bit_cast<std::uint32_t>(1e6f);
    for (std::uint32_t bits = first; bits <= last; bits += 61) {
        const float x = std::bit_cast<float>(bits);
        worst = std::max(worst, std::fabs(double(dsp::fast_log2(x)) - std::log2(double(x))));
    }
    INFO("largest error " << worst << " (" << worst * 6.0206 << " dB as an amplitude level)");
    CHECK(worst <= 8e-6);
    CHECK(dsp::fast_log2(1.0f) == 0.0f);
    CHECK(dsp::fast_log2(0.25f) == -2.0f);
}

TEST_CASE("fast_exp2 is within 3e-7 of exp2 relative from 2^-125 to 2^127 and exactly 1 at 0", "[compressor]") {
    double worst = 0.0;
    auto check = [&](float x) { worst = std::max(worst, std::fabs(double(dsp::fast_exp2(x)) / std::exp2(double(x)) - 1.0)); };
    // 2^22 + 1 points evenly over the range, and every 37th float of either sign from 1e-9 to 1.
    for (std::uint32_t k = 0; k <= (1u << 22); ++k) check(-125.0f + 252.0f * static_cast<float>(k) / float(1u << 22));
    for (auto bits = std::bit_cast<std::uint32_t>(1e-9f); bits <= std::bit_cast<std::uint32_t>(1.0f); bits += 37) {
        check(std::bit_cast<float>(bits));
        check(-std::bit_cast<float>(bits));
    }
    INFO("largest relative error " << worst << " (" << worst * 8.6859 << " dB)");
    CHECK(worst <= 3e-7);
    CHECK(dsp::fast_exp2(0.0f) == 1.0f);
    CHECK(dsp::fast_exp2(-0.0f) == 1.0f);
    CHECK(dsp::fast_exp2(-3.0f) == 0.125f);
    // Outside the range it clamps to normal floats.
    CHECK(dsp::fast_exp2(-1e4f) == dsp::fast_exp2(-125.0f));
    CHECK(dsp::fast_exp2(-1e4f) > 0.0f);
    CHECK(std::isfinite(dsp::fast_exp2(1e4f)));
}

TEST_CASE("the gain computer is within 1e-4 dB of the static curve for levels from -200 dB to +60 dB", "[compressor]") {
    // attack = release = 0: the gain reduction is the gain computer's target at every sample.
    struct Curve { float threshold, ratio, knee; };
    const Curve curve = GENERATE(Curve{-20, 4, 6}, Curve{-60, 100, 0}, Curve{-60, 1.5f, 24}, Curve{0, 100, 24},
                                 Curve{-24, 3, 6}, Curve{-12, 10, 0});
    dsp::CompressorSettings s;
    s.enabled = true;
    s.threshold_db = curve.threshold;
    s.ratio = curve.ratio;
    s.knee_db = curve.knee;
    s.attack_ms = 0.0f;
    s.release_ms = 0.0f;
    dsp::Compressor c = make(s, 48000.0);
    std::vector<float> x;
    for (float a = 1e-10f; a < 1000.0f; a = std::bit_cast<float>(std::bit_cast<std::uint32_t>(a) + 997)) x.push_back(a);
    const std::vector<float> in = x;
    run(c, x);
    double worst = 0.0;
    bool unity_below_knee = true;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const double level_db = 20.0 * std::log10(double(in[i]));
        const double want = expected_output_db(level_db, curve.threshold, curve.ratio, curve.knee) - level_db;
        worst = std::max(worst, std::fabs(test::to_db(double(x[i]) / in[i]) - want));
        if (level_db < curve.threshold - curve.knee / 2 - 0.01) unity_below_knee = unity_below_knee && x[i] == in[i];
    }
    INFO("threshold " << curve.threshold << " ratio " << curve.ratio << " knee " << curve.knee << ": largest error "
                      << worst << " dB");
    CHECK(worst <= 1e-4);
    CHECK(unity_below_knee);  // gain exactly 1 below the knee
}

TEST_CASE("compressed noise matches a double-precision reference within 1e-3 dB", "[compressor]") {
    const double fs = 48000.0;
    const dsp::Detector detector = GENERATE(dsp::Detector::peak, dsp::Detector::rms);
    const std::uint32_t channels = GENERATE(1u, 2u);
    dsp::CompressorSettings s;
    s.enabled = true;
    s.detector = detector;
    s.threshold_db = -24.0f;
    s.ratio = 3.0f;
    s.knee_db = 6.0f;
    s.attack_ms = 5.0f;
    s.release_ms = 80.0f;
    std::vector<float> x[2] = {sectioned_noise(96000, 1), sectioned_noise(96000, 2)};
    const std::vector<float>* in[2] = {&x[0], &x[1]};
    const std::vector<double> want = reference_gains(s, fs, in, channels);
    const std::vector<float> x0 = x[0];
    dsp::Compressor c = make(s, fs);
    float* ch[2] = {x[0].data(), x[1].data()};
    c.process(ch, channels, 96000);
    double worst = 0.0;
    for (std::size_t i = 0; i < x0.size(); ++i)
        if (x0[i] != 0.0f) worst = std::max(worst, std::fabs(test::to_db(double(x[0][i]) / x0[i] / want[i])));
    INFO("largest difference " << worst << " dB");
    CHECK(worst <= 1e-3);
}

TEST_CASE("the output does not depend on the block sizes", "[compressor]") {
    const dsp::Detector detector = GENERATE(dsp::Detector::peak, dsp::Detector::rms);
    dsp::CompressorSettings s;
    s.enabled = true;
    s.detector = detector;
    s.threshold_db = -30.0f;
    s.ratio = 4.0f;
    s.attack_ms = 3.0f;
    s.release_ms = 40.0f;
    s.makeup_db = 3.0f;
    const std::size_t frames = 4 * 48000;
    const std::vector<float> left = sectioned_noise(frames, 3), right = sectioned_noise(frames, 4);
    auto render = [&](auto next_block) {
        dsp::Compressor c = make(s, 48000.0);
        std::vector<float> l = left, r = right;
        dsp::CompressorSettings changed = s;
        changed.makeup_db = 9.0f;  // a makeup ramp halfway through
        for (std::size_t pos = 0; pos < frames;) {
            if (pos == frames / 2) c.set(changed);
            const std::size_t end = pos < frames / 2 ? frames / 2 : frames;
            const auto n = static_cast<std::uint32_t>(std::min(next_block(), end - pos));
            float* ch[2] = {l.data() + pos, r.data() + pos};
            c.process(ch, 2, n);
            pos += n;
        }
        return std::make_pair(l, r);
    };
    const auto whole = render([] { return std::size_t{64}; });
    std::mt19937 rng(5);
    std::uniform_int_distribution<std::size_t> size(1, 300);
    const auto ragged = render([&] { return size(rng); });
    CHECK(whole.first == ragged.first);
    CHECK(whole.second == ragged.second);
}

TEST_CASE("after a release the gain reduction comes to rest at exactly 0 dB", "[compressor]") {
    dsp::CompressorSettings s;
    s.enabled = true;
    s.threshold_db = -20.0f;
    s.ratio = 4.0f;
    s.attack_ms = 1.0f;
    s.release_ms = 50.0f;
    dsp::Compressor c = make(s, 48000.0);
    // 0.1 s at 0 dBFS, then -40 dBFS: 15 dB of reduction, released well within 1 s (16 release times).
    std::vector<float> x(48000, 0.01f);
    std::fill(x.begin(), x.begin() + 4800, 1.0f);
    run(c, x);
    CHECK(c.gain_reduction_db() == 0.0f);
    std::vector<float> quiet = test::sine(440.0, 48000.0, 4800, 0.05);
    const std::vector<float> quiet_in = quiet;
    run(c, quiet);
    CHECK(quiet == quiet_in);  // gain exactly 1
    CHECK(c.block_max_reduction_db() == 0.0f);
}

TEST_CASE("with lookahead the audio waits for its gain: a step is already reduced when it comes out", "[compressor]") {
    const double fs = 48000.0;
    dsp::CompressorSettings s;
    s.enabled = true;
    s.threshold_db = -20.0f;
    s.ratio = 4.0f;
    s.knee_db = 0.0f;
    s.attack_ms = 2.0f;
    s.release_ms = 50.0f;
    s.lookahead_ms = 5.0f;
    dsp::Compressor c = make(s, fs);
    const std::uint32_t lookahead = 240;  // 5 ms at 48 kHz
    CHECK(dsp::Compressor::lookahead_frames(fs, 5.0f) == lookahead);
    const std::size_t onset = 1000, frames = 4096;
    std::vector<float> x(frames, 0.0f);
    for (std::size_t i = onset; i < frames; ++i) x[i] = 0.5f;  // a step to -6.02 dBFS
    std::vector<float> y = x;
    float* buffers[1] = {y.data()};
    for (std::size_t pos = 0; pos < frames; pos += 100) {  // blocks of 100: chunks do not line up
        float* b[1] = {buffers[0] + pos};
        c.process(b, 1, static_cast<std::uint32_t>(std::min<std::size_t>(100, frames - pos)));
    }
    // Nothing before the step's delayed arrival.
    for (std::size_t i = 0; i < onset + lookahead; ++i) REQUIRE(y[i] == 0.0f);
    // Its first sample out carries the reduction of lookahead + 1 attack steps toward the static
    // curve's: target * (1 - a^(L + 1)), a = exp(-1 / (attack * fs)).
    const double in_db = 20.0 * std::log10(0.5);
    const double target = expected_output_db(in_db, -20.0, 4.0, 0.0) - in_db;
    const double a = std::exp(-1.0 / (2e-3 * fs));
    const double reduction = target * (1.0 - std::pow(a, static_cast<double>(lookahead + 1)));
    CHECK(20.0 * std::log10(y[onset + lookahead] / 0.5) == Approx(reduction).margin(1e-3));
    CHECK(reduction < 0.9 * target);  // most of the way there already (5 ms = 2.5 attack times)
    // Settled, the static curve.
    CHECK(20.0 * std::log10(y.back() / 0.5) == Approx(target).margin(1e-3));
}

TEST_CASE("the lookahead delays a disabled compressor too, so switching it never shifts time", "[compressor]") {
    dsp::CompressorSettings s;
    s.lookahead_ms = 1.0f;  // 48 frames
    dsp::Compressor c = make(s, 48000.0);
    std::vector<float> x = test::impulse(256);
    float* b[1] = {x.data()};
    c.process(b, 1, 256);
    for (std::size_t i = 0; i < 256; ++i) CHECK(x[i] == (i == 48 ? 1.0f : 0.0f));
}

TEST_CASE("with the default times a steady sine up to 0 dBFS settles above the static curve, by up to 1.2 dB",
          "[compressor]") {
    // The peak detector reads |x| sample by sample: the gain reduction the curve asks for is
    // largest at the sine's crests and nothing near its zero crossings. The smoothing filter moves
    // towards more reduction with the attack time (10 ms) and back with the release time (100 ms),
    // so it settles where the two pulls balance over a cycle: below the reduction the crest asks
    // for. The output sits above the curve evaluated at the sine's peak, most where the curve
    // bends most (the knee and above), less with a shorter attack or a longer release.
    const double fs = 48000.0;
    const dsp::CompressorSettings defaults{.enabled = true};
    double worst = 0.0, least = 1e9;
    std::string table;
    for (const double freq : {50.0, 100.0, 1000.0, 10000.0}) {
        for (double level_db = -40.0; level_db <= 0.0; level_db += 2.0) {
            dsp::Compressor c = make(defaults, fs);
            std::vector<float> x = test::sine(freq, fs, 96000, std::pow(10.0, level_db / 20.0));
            const double in_peak = test::to_db(test::peak(x.data(), 48000, 96000));
            run(c, x);
            const double above = test::to_db(test::peak(x.data(), 48000, 96000)) -
                                 expected_output_db(in_peak, defaults.threshold_db, defaults.ratio, defaults.knee_db);
            table += fmt::format("{} Hz {} dB: {:+.2f}\n", freq, level_db, above);
            worst = std::max(worst, above);
            least = std::min(least, above);
        }
    }
    INFO(table << "worst " << worst << ", least " << least);
    // docs/parameters.md: "up to 1.2 dB" (1.23 at 0 dBFS, whatever the frequency).
    CHECK(worst <= 1.25);
    CHECK(worst >= 1.15);  // the documented figure is the real one, not a loose bound
    CHECK(least >= -0.05);  // never below the curve
}
