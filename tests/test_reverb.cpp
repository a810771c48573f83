// Tests of the FDN reverb against measurements that do not depend on its internals:
// Schroeder backward integration for the RT60, long-run means, peaks and slopes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "dsp/reverb.hpp"

using rtmix::dsp::Reverb;
using rtmix::dsp::ReverbParam;

namespace {

constexpr double two_pi = 6.283185307179586;

// Processes whole buffers in engine-sized blocks.
void run_reverb(Reverb& reverb, std::vector<float>& left, std::vector<float>& right,
                std::size_t block_frames = 64) {
    for (std::size_t i = 0; i < left.size(); i += block_frames) {
        const auto n = static_cast<std::uint32_t>(std::min(block_frames, left.size() - i));
        reverb.process(left.data() + i, right.data() + i, n);
    }
}

// The wet stereo response of a fresh reverb to a unit impulse on both inputs, 3 x decay_s long.
std::pair<std::vector<float>, std::vector<float>> impulse_response(double fs, float decay_s, float damping) {
    Reverb reverb(fs);
    reverb.set(ReverbParam::damping, damping);
    reverb.set(ReverbParam::mix, 1.0f);
    reverb.set(ReverbParam::decay_s, decay_s);
    reverb.reset();
    const auto frames = static_cast<std::size_t>(3.0 * decay_s * fs);
    std::vector<float> left(frames, 0.0f), right(frames, 0.0f);
    left[0] = right[0] = 1.0f;
    run_reverb(reverb, left, right);
    return {std::move(left), std::move(right)};
}

// RT60 from an impulse response's energy (Schroeder 1965): backward-integrate the energy,
// fit a least-squares line to the decay curve between -5 and -35 dB (T30) and extrapolate the
// slope to 60 dB. Returns seconds, or 0 if the curve never reaches -35 dB.
double schroeder_t30_s(const std::vector<double>& energy, double sample_rate) {
    std::vector<double> edc(energy.size());
    double sum = 0.0;
    for (std::size_t i = energy.size(); i-- > 0;) {
        sum += energy[i];
        edc[i] = sum;
    }
    const double total = edc[0];
    std::size_t begin = 0, end = 0;
    for (std::size_t i = 0; i < edc.size(); ++i) {
        const double db = 10.0 * std::log10(edc[i] / total);
        if (begin == 0 && db <= -5.0) begin = i;
        if (db <= -35.0) {
            end = i;
            break;
        }
    }
    if (end <= begin) return 0.0;
    // Least squares of level (dB) against time (s).
    double st = 0.0, sl = 0.0, stt = 0.0, stl = 0.0;
    const auto count = static_cast<double>(end - begin + 1);
    for (std::size_t i = begin; i <= end; ++i) {
        const double t = static_cast<double>(i) / sample_rate;
        const double level = 10.0 * std::log10(edc[i] / total);
        st += t;
        sl += level;
        stt += t * t;
        stl += t * level;
    }
    const double slope_db_per_s = (count * stl - st * sl) / (count * stt - st * st);
    return -60.0 / slope_db_per_s;
}

// Largest |second difference| relative to the peak. A sinusoid at w rad/frame gives
// 2 (1 - cos w); a step of height h adds about h / peak.
double curvature_ratio(const std::vector<float>& x, std::size_t begin, std::size_t end) {
    double peak = 0.0, d2 = 0.0;
    for (std::size_t i = begin + 2; i < end; ++i) {
        peak = std::max(peak, static_cast<double>(std::fabs(x[i])));
        d2 = std::max(d2, static_cast<double>(std::fabs(x[i] - 2.0f * x[i - 1] + x[i - 2])));
    }
    return d2 / peak;
}

}  // namespace

TEST_CASE("reverb tail decays by 60 dB in decay_s (Schroeder T30)", "[reverb]") {
    const double fs = GENERATE(44100.0, 48000.0, 96000.0);
    const float decay_s = GENERATE(0.5f, 2.0f, 4.0f);
    CAPTURE(fs, decay_s);

    const auto [left, right] = impulse_response(fs, decay_s, 0.0f);
    const std::size_t frames = left.size();

    std::vector<double> energy(frames);
    for (std::size_t i = 0; i < frames; ++i)
        energy[i] =
            static_cast<double>(left[i]) * left[i] + static_cast<double>(right[i]) * right[i];
    const double rt60_s = schroeder_t30_s(energy, fs);
    CAPTURE(rt60_s);
    REQUIRE(rt60_s == Approx(decay_s).epsilon(0.15));
}

TEST_CASE("reverb damping shortens the high-frequency decay and keeps the low one", "[reverb]") {
    // The damping filters have DC gain 1, so the RT60 of the band below a few hundred Hz must
    // stay at decay_s, while the band above a few kHz must die much sooner.
    const double fs = 48000.0;
    const float decay_s = 2.0f;
    const auto [left, right] = impulse_response(fs, decay_s, 1.0f);
    const std::size_t frames = left.size();

    // Low band: three one-pole lowpasses at 150 Hz. High band: third difference (+18 dB/oct).
    const double a = std::exp(-two_pi * 150.0 / fs);
    std::vector<double> low(frames), high(frames);
    for (const auto* ch : {&left, &right}) {
        double s1 = 0.0, s2 = 0.0, s3 = 0.0, x1 = 0.0, x2 = 0.0, x3 = 0.0;
        for (std::size_t i = 0; i < frames; ++i) {
            const double x = (*ch)[i];
            s1 = (1.0 - a) * x + a * s1;
            s2 = (1.0 - a) * s1 + a * s2;
            s3 = (1.0 - a) * s2 + a * s3;
            const double d3 = x - 3.0 * x1 + 3.0 * x2 - x3;
            x3 = x2;
            x2 = x1;
            x1 = x;
            low[i] += s3 * s3;
            high[i] += d3 * d3;
        }
    }
    const double low_rt60_s = schroeder_t30_s(low, fs);
    const double high_rt60_s = schroeder_t30_s(high, fs);
    CAPTURE(low_rt60_s, high_rt60_s);
    CHECK(low_rt60_s == Approx(decay_s).epsilon(0.15));
    CHECK(high_rt60_s > 0.0);
    CHECK(high_rt60_s < 0.5 * decay_s);
}

TEST_CASE("reverb output has no DC for a constant input", "[reverb]") {
    const double fs = 48000.0;
    Reverb reverb(fs);
    reverb.set(ReverbParam::mix, 1.0f);
    reverb.set(ReverbParam::decay_s, 4.0f);
    reverb.reset();

    const auto frames = static_cast<std::size_t>(8.0 * fs);
    std::vector<float> left(frames, 0.5f), right(frames, 0.5f);
    run_reverb(reverb, left, right);

    double mean_l = 0.0, mean_r = 0.0, early_peak = 0.0;
    const auto last_second = static_cast<std::size_t>(fs);
    for (std::size_t i = frames - last_second; i < frames; ++i) {
        mean_l += left[i];
        mean_r += right[i];
    }
    for (std::size_t i = 0; i < last_second; ++i)
        early_peak = std::max(early_peak, static_cast<double>(std::fabs(left[i])));
    mean_l /= static_cast<double>(last_second);
    mean_r /= static_cast<double>(last_second);
    CAPTURE(mean_l, mean_r);
    CHECK(early_peak > 1e-3);  // the step did reach the output (the check is not vacuous)
    CHECK(std::fabs(mean_l) < 1e-3);
    CHECK(std::fabs(mean_r) < 1e-3);
}

TEST_CASE("reverb stays finite and bounded for 60 s of full-scale noise at extreme settings",
          "[reverb]") {
    const double fs = 48000.0;
    Reverb reverb(fs);
    reverb.set(ReverbParam::decay_s, 30.0f);
    reverb.set(ReverbParam::damping, 0.0f);
    reverb.set(ReverbParam::size, 1.0f);
    reverb.set(ReverbParam::mix, 1.0f);
    reverb.reset();

    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> noise(-1.0f, 1.0f);
    constexpr std::uint32_t block = 64;
    std::vector<float> left(block), right(block);
    const auto blocks = static_cast<std::size_t>(60.0 * fs / block);
    double peak = 0.0;
    std::size_t non_finite = 0;
    for (std::size_t b = 0; b < blocks; ++b) {
        // Slow sweeps of the parameters that move delay lengths and loop gains.
        const double t = static_cast<double>(b * block) / fs;
        reverb.set(ReverbParam::size, static_cast<float>(0.5 + 0.5 * std::sin(two_pi * t / 7.3)));
        reverb.set(ReverbParam::decay_s,
                   static_cast<float>(20.0 + 10.0 * std::cos(two_pi * t / 11.0)));
        reverb.set(ReverbParam::predelay_ms,
                   static_cast<float>(250.0 + 250.0 * std::sin(two_pi * t / 5.0)));
        reverb.set(ReverbParam::width, static_cast<float>(0.5 + 0.5 * std::sin(two_pi * t / 3.0)));
        for (std::uint32_t i = 0; i < block; ++i) {
            left[i] = noise(rng);
            right[i] = noise(rng);
        }
        reverb.process(left.data(), right.data(), block);
        for (std::uint32_t i = 0; i < block; ++i) {
            if (!std::isfinite(left[i]) || !std::isfinite(right[i])) ++non_finite;
            peak = std::max({peak, static_cast<double>(std::fabs(left[i])),
                             static_cast<double>(std::fabs(right[i]))});
        }
    }
    CAPTURE(peak);
    REQUIRE(non_finite == 0);
    REQUIRE(peak < 100.0);
    REQUIRE(peak > 0.1);  // the reverb really was sounding
}

TEST_CASE("reverb with mix 0 passes the input through unchanged after the ramp", "[reverb]") {
    const double fs = 48000.0;
    Reverb reverb(fs);
    reverb.set(ReverbParam::mix, 1.0f);
    reverb.reset();

    std::mt19937 rng(7);
    std::uniform_real_distribution<float> noise(-1.0f, 1.0f);
    const auto fill = [&](std::vector<float>& v) {
        for (float& x : v) x = noise(rng);
    };
    // Fill the tail first, so a leak of wet signal would show.
    std::vector<float> left(static_cast<std::size_t>(0.5 * fs)), right(left.size());
    fill(left);
    fill(right);
    run_reverb(reverb, left, right);

    reverb.set(ReverbParam::mix, 0.0f);
    std::vector<float> ramp_l(static_cast<std::size_t>(0.025 * fs)), ramp_r(ramp_l.size());
    fill(ramp_l);
    fill(ramp_r);
    run_reverb(reverb, ramp_l, ramp_r);  // 25 ms > the 20 ms mix ramp

    std::vector<float> in_l(static_cast<std::size_t>(fs)), in_r(in_l.size());
    fill(in_l);
    fill(in_r);
    std::vector<float> out_l = in_l, out_r = in_r;
    run_reverb(reverb, out_l, out_r);
    double worst = 0.0;
    for (std::size_t i = 0; i < in_l.size(); ++i)
        worst = std::max({worst, static_cast<double>(std::fabs(out_l[i] - in_l[i])),
                          static_cast<double>(std::fabs(out_r[i] - in_r[i]))});
    REQUIRE(worst < 1e-6);
}

TEST_CASE("reverb parameter changes while a tone plays cause no discontinuity", "[reverb]") {
    // A static reverb is linear and time-invariant, so once the onset has died away a sine input
    // gives a pure sine output whose curvature ratio is 2 (1 - cos w). Smoothed parameter moves
    // only bend the amplitude and (size glide, at most 2 %) the pitch slowly. A jump of the
    // output by h adds about h / peak to the ratio: the 4x bound fails for any step above
    // ~0.5 % of the peak, far below the ~20 % jumps an unsmoothed change would make.
    struct Change {
        ReverbParam param;
        float to;
    };
    const Change change =
        GENERATE(Change{ReverbParam::size, 0.1f}, Change{ReverbParam::size, 1.0f},
                 Change{ReverbParam::decay_s, 0.1f}, Change{ReverbParam::decay_s, 30.0f},
                 Change{ReverbParam::damping, 1.0f}, Change{ReverbParam::mix, 0.3f},
                 Change{ReverbParam::width, 0.0f});
    CAPTURE(static_cast<int>(change.param), change.to);
    const double fs = 48000.0;
    const double w = two_pi * 300.0 / fs;
    Reverb reverb(fs);
    reverb.set(ReverbParam::decay_s, 0.5f);
    reverb.set(ReverbParam::damping, 0.3f);
    reverb.set(ReverbParam::mix, 1.0f);
    reverb.reset();

    const auto frames = static_cast<std::size_t>(3.0 * fs);
    std::vector<float> left(frames), right(frames);
    for (std::size_t i = 0; i < frames; ++i) {
        left[i] = static_cast<float>(0.5 * std::sin(w * static_cast<double>(i)));
        right[i] = static_cast<float>(0.5 * std::cos(w * static_cast<double>(i)));
    }
    constexpr std::size_t block = 64;
    // 2 s = 4 decay times: the onset transient is 240 dB down by then.
    const std::size_t change_at = static_cast<std::size_t>(2.0 * fs) / block * block;
    for (std::size_t i = 0; i < frames; i += block) {
        if (i == change_at) reverb.set(change.param, change.to);
        reverb.process(left.data() + i, right.data() + i, static_cast<std::uint32_t>(block));
    }
    const double pure = 2.0 * (1.0 - std::cos(w));
    const auto half_s = static_cast<std::size_t>(0.5 * fs);
    // Windows start two frames early so the first changed frame's curvature is included.
    const double before_l = curvature_ratio(left, change_at - half_s, change_at);
    const double after_l = curvature_ratio(left, change_at - 2, frames);
    const double after_r = curvature_ratio(right, change_at - 2, frames);
    CAPTURE(pure, before_l, after_l, after_r);
    CHECK(before_l < 1.05 * pure);  // the steady state really is a pure tone
    CHECK(after_l < 4.0 * pure);
    CHECK(after_r < 4.0 * pure);
}

TEST_CASE("reverb predelay holds back the tail by predelay_ms", "[reverb]") {
    const double fs = 48000.0;
    Reverb reverb(fs);
    reverb.set(ReverbParam::predelay_ms, 100.0f);
    reverb.set(ReverbParam::mix, 1.0f);
    reverb.reset();

    std::vector<float> left(static_cast<std::size_t>(0.3 * fs), 0.0f), right(left.size(), 0.0f);
    left[0] = 1.0f;
    run_reverb(reverb, left, right);
    const auto predelay_frames = static_cast<std::size_t>(0.1 * fs);
    std::size_t first = left.size();
    for (std::size_t i = 0; i < left.size(); ++i) {
        if (left[i] != 0.0f || right[i] != 0.0f) {
            first = i;
            break;
        }
    }
    CAPTURE(first);
    REQUIRE(first >= predelay_frames);
    REQUIRE(first < predelay_frames + static_cast<std::size_t>(0.1 * fs));
}

TEST_CASE("reverb impulse tail has a moderate level at default settings", "[reverb]") {
    // A unit impulse should come back neither hot nor buried: total wet energy within
    // -20..0 dB of the impulse's and no single sample near full scale.
    const double fs = 48000.0;
    Reverb reverb(fs);
    std::vector<float> left(static_cast<std::size_t>(6.0 * fs), 0.0f), right(left.size(), 0.0f);
    left[0] = 1.0f;
    run_reverb(reverb, left, right);
    double energy = 0.0, peak = 0.0;
    for (std::size_t i = 0; i < left.size(); ++i) {
        energy += static_cast<double>(left[i]) * left[i];
        peak = std::max(peak, static_cast<double>(std::fabs(left[i])));
    }
    const double energy_db = 10.0 * std::log10(energy);
    CAPTURE(energy_db, peak);
    CHECK(energy_db > -20.0);
    CHECK(energy_db < 0.0);
    CHECK(peak < 0.5);
}

TEST_CASE("reverb with width 0 is mono and reset silences the tail", "[reverb]") {
    const double fs = 48000.0;
    Reverb reverb(fs);
    reverb.set(ReverbParam::width, 0.0f);
    reverb.set(ReverbParam::mix, 1.0f);
    reverb.reset();

    std::vector<float> left(static_cast<std::size_t>(0.5 * fs), 0.0f), right(left.size(), 0.0f);
    left[0] = 1.0f;
    run_reverb(reverb, left, right);
    double diff = 0.0, peak = 0.0;
    for (std::size_t i = 0; i < left.size(); ++i) {
        diff = std::max(diff, static_cast<double>(std::fabs(left[i] - right[i])));
        peak = std::max(peak, static_cast<double>(std::fabs(left[i])));
    }
    CHECK(peak > 1e-3);
    CHECK(diff < 1e-7);

    reverb.reset();
    std::vector<float> silent_l(static_cast<std::size_t>(0.5 * fs), 0.0f),
        silent_r(silent_l.size(), 0.0f);
    run_reverb(reverb, silent_l, silent_r);
    for (std::size_t i = 0; i < silent_l.size(); ++i) {
        if (silent_l[i] != 0.0f || silent_r[i] != 0.0f) FAIL("tail after reset at frame " << i);
    }
}
