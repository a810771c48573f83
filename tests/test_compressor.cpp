// The compressor against its analytic static curve (Giannoulis, Massberg & Reiss 2012, eq. 4, with
// the soft knee) and against the one-pole time constants that define attack_ms and release_ms.
#include <catch2/catch.hpp>

#include "dsp/compressor.hpp"
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
