// True-peak detector: estimates the inter-sample peaks of a band-limited signal, as ITU-R
// BS.1770-4 Annex 2 does but close to an ideal (infinitely long sinc) reconstruction: it
// oversamples 8x in two stages, takes the largest magnitude among the oversampled points, and
// refines it between them.
//
// Oversampling factor: 8 at every sample rate (BS.1770-4 asks for at least 4x below 96 kHz and
// gives a 12-tap-per-phase example; libebur128 uses that at 4x, 2x and 1x below 96 kHz, below
// 192 kHz and above). For each input sample the detector returns the largest |value| at the 8
// points t = n - latency() + k / 8, k = 0 .. 7 (the input sample latency() frames back, k = 0,
// returned exactly, and the interpolated points between it and the next sample), and, for the
// accurate design, at the crests between them: wherever a point is a crest of its two
// neighbours (the parabola through the three curves away from zero, its vertex within half a
// step), the parabola's vertex. The grid alone reads a peak lying between its points up to
// 1 - cos(pi f / (8 fs)) low (0.17 dB at Nyquist); the parabola leaves about 1e-4 of it.
//
// Accurate design, two stages (linear phase; both are windowed sincs with the cutoff halfway
// between the passband and its first image, normalised to unity gain at DC):
//  1. 2x: a half-band interpolator. Its even points are the input samples; each odd point, the
//     half-sample point, is sum_k c_k (x[p - k] + x[p + 1 + k]) over 192 taps either side
//     (384 in all; Kaiser window, beta 4). Near Nyquist an interpolator must be long: content
//     1 % below it (a +-1 pattern at 0.49 fs) beats against Nyquist over some 50 samples, and
//     what a reconstruction makes of it depends on samples that far away and farther. This
//     stage's gain is within 0.012 dB of the ideal up to 0.49 fs (0.98 of Nyquist, 21.6 kHz at
//     44.1 kHz), -0.06 dB at 0.494 fs, +0.03 dB at 0.495 fs and -0.4 dB at 0.497 fs, and falls
//     to 0 at Nyquist for the half-sample point (where the ideal reconstruction of a Nyquist
//     tone is 0 too).
//  2. 2x to 8x: three phases of 12 taps each on the 2x stream (Kaiser, beta 8), whose content
//     lies below a quarter of its rate, so a short filter is exact to 1e-4 there.
// Latency 195 frames: the half-band's 192 and 3 more for the second stage's 6 taps ahead on the
// 2x stream. Against an ideal reconstruction (the tests' FFT and direct-sum reference): sines,
// noise, drums, sweeps to 0.9 of Nyquist and the drums driven 18 dB into hard clipping within
// 0.03 dB; a 20 kHz sine and sines at 0.95 and 0.975 of Nyquist within 0.006 dB; +-1 patterns
// at 0.49 fs within 0.08 dB; white noise to Nyquist 0.04 dB low. What it still reads low is
// energy in the last percent of the band with a long reach: the abrupt start or end of a
// full-scale tone at 0.99 of Nyquist (up to 0.35 dB at that instant), other clipped drums up to
// 0.16 dB. BS.1770-4's 4x, 12-tap example reads up to 0.7 dB low from its grid alone and 1 to 2 dB
// low on clipped drums.
//
// Reference design: the 49-tap Hann-windowed prototype libebur128 uses (12 taps per phase at its
// 4x below 96 kHz, 24 at its 2x below 192 kHz; at 192 kHz and above it reads the sample peak),
// taps left unnormalised as theirs are, placed on the same 8x grid (points 2, 4 and 6 at 4x),
// not refined. It reads what libebur128 reads (the tests find its readings within 1e-5 dB): up
// to 0.11 dB high near 0.65 of Nyquist, and far low near Nyquist.
// Both: the larger of the two estimates, never below either. The limiter uses it, so that it
// holds its ceiling on meters of either kind.
//
// Cost (bench/true_peak_cost.cpp, 64-frame blocks, one channel, docs/performance.md): about 482
// instructions per sample for the accurate design and 517 for both (the one-stage 64-tap design
// before: 515 and 613); 40 ns per sample for either on the machine of docs/performance.md, with
// SSE only (the one-stage design: 28 and 41). Four consecutive outputs share each step of the
// first stage, and single samples cost about four times as much per sample: feed it blocks.
//
// Threads: the constructor computes the filters (control thread). process() and reset() are
// wait-free and allocation-free (audio thread). The detector holds no heap memory.
#pragma once


#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace rtmix::dsp {

enum class TruePeakDesign : std::uint8_t { accurate, reference, both };

class TruePeakDetector {
public:
    /// First stage (2x): taps on each side of the half-sample point (the half-band's odd phase
    /// has 2 * half_band_reach taps, its even phase is the sample itself).
    static constexpr std::uint32_t half_band_reach = 192;
    /// Second stage (2x to 8x): taps per phase, on the 2x stream.
    static constexpr std::uint32_t stage2_taps = 12;
    static constexpr std::uint32_t max_factor = 8;
    /// Frames by which an estimate lags its input sample.
    static constexpr std::uint32_t latency_frames = half_band_reach + stage2_taps / 4;
    /// Input samples an estimate depends on, counting back from the newest (the detector's
    /// memory): after this many samples of new input, earlier input has no effect.
    static constexpr std::uint32_t memory_frames = 2 * half_band_reach + stage2_taps / 2;

    /// Oversampling factor: 8 at every sample rate.
    static std::uint32_t factor_for(double sample_rate) noexcept;
    /// libebur128's factor at `sample_rate`, which the reference design copies: 4 below 96 kHz,
    /// 2 below 192 kHz, else 1.
    static std::uint32_t reference_factor_for(double sample_rate) noexcept;
    /// Frames by which an estimate lags its input sample: latency_frames.
    static std::uint32_t latency_for(double sample_rate) noexcept;

    /// Designs the interpolator(s) for `sample_rate` (control thread).
    explicit TruePeakDetector(double sample_rate, TruePeakDesign design = TruePeakDesign::accurate);

    std::uint32_t factor() const noexcept { return max_factor; }
    std::uint32_t reference_factor() const noexcept { return ref_factor_; }
    std::uint32_t latency() const noexcept { return latency_frames; }
    TruePeakDesign design() const noexcept { return design_; }

    /// Takes input sample n and returns the largest |value| among the oversampled points from
    /// sample n - latency() up to (not including) sample n - latency() + 1. Wait-free. Costs
    /// about four times as much as a sample in a block.
    float process(float x) noexcept {
        float peak;
        process(&x, &peak, 1);
        return peak;
    }

    /// process() for `frames` samples: peaks[i] is the estimate for in[i]. Wait-free. Blocks
    /// are much cheaper per sample than single samples: four outputs share each vector step.
    void process(const float* in, float* peaks, std::uint32_t frames) noexcept;

    /// Clears the interpolators' history (as if preceded by silence). Wait-free.
    void reset() noexcept;

private:
    // Four floats (one SSE or NEON register) with GCC/Clang vector arithmetic.
    typedef float Vec4 __attribute__((vector_size(16)));
    static constexpr std::uint32_t x_history = 2 * half_band_reach - 1;
    static constexpr std::uint32_t u_history = stage2_taps;
    static constexpr std::uint32_t max_ref_phases = 3;
    static constexpr std::uint32_t max_ref_taps = 24;  // libebur128's 48 / 2 at its 2x

    template <bool accurate, std::uint32_t ref_phases>
    void run(const float* in, float* peaks, std::uint32_t frames) noexcept;

    // half_[k]: the first stage's tap k (the inputs k + 1/2 samples either side of the
    // half-sample point), in all four lanes.
    Vec4 half_[half_band_reach] = {};
    // stage2_[r - 1][k]: the second stage's phase r (the point r / 4 of a 2x step after u[m]),
    // tap k (u[m - M/2 + 1 + k]).
    Vec4 stage2_[3][stage2_taps] = {};
    // ref_[q - 1][t]: the reference's phase q (the point q / R after the delayed sample), tap t
    // (the input latency() - 24 / R + t samples back).
    Vec4 ref_[max_ref_phases][max_ref_taps] = {};
    std::array<float, x_history> x_hist_{};  // the last inputs, oldest first
    std::array<float, u_history> u_hist_{};  // the last points of the 2x stream, oldest first
    float last_point_ = 0.0f;                // the last 8x point of the previous output
    std::uint32_t ref_factor_ = 4;
    TruePeakDesign design_ = TruePeakDesign::accurate;
};

}  // namespace rtmix::dsp
