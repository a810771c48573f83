// True-peak detector: estimates the inter-sample peaks of a band-limited signal, as ITU-R
// BS.1770-4 Annex 2 does but closer to an ideal (infinitely long sinc) reconstruction: it
// oversamples 8x with a long polyphase FIR interpolator and takes the largest magnitude among
// the oversampled points.
//
// Oversampling factor: 8 at every sample rate (BS.1770-4 asks for at least 4x below 96 kHz and
// libebur128 uses 4x, 2x and 1x below 96 kHz, below 192 kHz and above). For each input sample
// the detector returns the largest |value| at the 8 points t = n - latency() + k / 8,
// k = 0 .. 7: the input sample latency() frames back (k = 0, returned exactly) and the
// interpolated points between it and the next sample. latency() is 24 frames.
//
// Two interpolator designs, both windowed sincs with the cutoff at the input Nyquist frequency
// (so the sinc's zeros fall on every `factor`-th tap and phase 0 is a pure delay):
//  - accurate: 48 taps per phase at 8x, Kaiser window (beta 7), each phase normalised to unity
//    gain at DC. Its error against an ideal band-limited interpolation stays below 0.005 dB up
//    to 0.9 of Nyquist (19.8 kHz at 44.1 kHz) and 0.03 dB at 0.93; above that it falls away
//    (about 1 dB at 0.97 of Nyquist, 6 dB at Nyquist, where an ideal reconstruction's
//    half-sample points are 0 anyway). The 8x grid itself reads a peak between its points at
//    most 1 - cos(pi f / (8 fs)) low: 0.14 dB for an isolated peak of content at 0.9 of
//    Nyquist, nothing for sustained tones whose crests drift across the grid. On programme
//    material and the tests' torture signals it reads within 0.1 dB of an ideal
//    reconstruction; BS.1770-4's 4x, 12-tap example reads up to 0.7 dB low from the grid alone
//    and several dB low above 0.8 of Nyquist.
//  - reference: the 49-tap Hann-windowed prototype libebur128 uses (12 taps per phase at its
//    4x below 96 kHz, 24 at its 2x below 192 kHz; at 192 kHz and above it reads the sample
//    peak), taps left unnormalised as theirs are, placed on the same 8x grid. It reads what
//    libebur128 reads (the tests find its readings within 1e-5 dB): up to 0.11 dB high near
//    0.65 of Nyquist, and far low near Nyquist.
//  - both: the larger of the two estimates, never below either. The limiter uses it, so that it
//    holds its ceiling on meters of either kind.
// Cost with SSE, processing blocks: see docs/mastering.md (about 20 to 25 ns per sample for
// accurate or both on the machine the figures there come from; reference alone about 3); four
// consecutive outputs share each vector step, so single samples cost more.
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
    /// History length in input samples: the accurate design's taps per phase.
    static constexpr std::uint32_t taps_per_phase = 48;
    static constexpr std::uint32_t max_factor = 8;

    /// Oversampling factor: 8 at every sample rate.
    static std::uint32_t factor_for(double sample_rate) noexcept;
    /// libebur128's factor at `sample_rate`, which the reference design copies: 4 below 96 kHz,
    /// 2 below 192 kHz, else 1.
    static std::uint32_t reference_factor_for(double sample_rate) noexcept;
    /// Frames by which an estimate lags its input sample: taps_per_phase / 2 (24).
    static std::uint32_t latency_for(double sample_rate) noexcept;

    /// Designs the interpolator(s) for `sample_rate` (control thread).
    explicit TruePeakDetector(double sample_rate, TruePeakDesign design = TruePeakDesign::accurate);

    std::uint32_t factor() const noexcept { return max_factor; }
    std::uint32_t reference_factor() const noexcept { return ref_factor_; }
    std::uint32_t latency() const noexcept { return taps_per_phase / 2; }
    TruePeakDesign design() const noexcept { return design_; }

    /// Takes input sample n and returns the largest |value| among the oversampled points from
    /// sample n - latency() up to (not including) sample n - latency() + 1. Wait-free.
    float process(float x) noexcept {
        float peak;
        process(&x, &peak, 1);
        return peak;
    }

    /// process() for `frames` samples: peaks[i] is the estimate for in[i]. Wait-free. Blocks
    /// are much cheaper per sample than single samples: four outputs share each vector step.
    void process(const float* in, float* peaks, std::uint32_t frames) noexcept;

    /// Clears the interpolator's history (as if preceded by silence). Wait-free.
    void reset() noexcept;

private:
    // Four floats (one SSE or NEON register) with GCC/Clang vector arithmetic.
    typedef float Vec4 __attribute__((vector_size(16)));
    static constexpr std::uint32_t history_length = taps_per_phase - 1;
    static constexpr std::uint32_t phases = max_factor - 1;  // phase 0 needs no filter
    static constexpr std::uint32_t max_ref_phases = 3;

    template <bool accurate, std::uint32_t ref_phases>
    void run(const float* in, float* peaks, std::uint32_t frames) noexcept;

    // acc_[p - 1][k]: tap k (the input k samples back) of phase p, repeated in all four lanes,
    // which hold four consecutive outputs. ref_[q - 1][k]: the reference's phase q (the point
    // q / ref_factor_ after the delayed sample), its taps shifted so that both designs share
    // latency(); outside [latency() - 24 / ref_factor_, latency() + 24 / ref_factor_) they are 0.
    Vec4 acc_[phases][taps_per_phase] = {};
    Vec4 ref_[max_ref_phases][taps_per_phase] = {};
    std::array<float, history_length> history_{};  // the last inputs, oldest first
    std::uint32_t ref_factor_ = 4;
    TruePeakDesign design_ = TruePeakDesign::accurate;
};

}  // namespace rtmix::dsp
