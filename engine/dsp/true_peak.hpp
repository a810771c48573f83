// True-peak detector: estimates the inter-sample peaks of a band-limited signal, as ITU-R
// BS.1770-4 Annex 2 does but closer to an ideal (infinitely long sinc) reconstruction: it
// oversamples 8x with a long polyphase FIR interpolator, takes the largest magnitude among the
// oversampled points, and refines it between them.
//
// Oversampling factor: 8 at every sample rate (BS.1770-4 asks for at least 4x below 96 kHz;
// libebur128 uses 4x, 2x and 1x below 96 kHz, below 192 kHz and above). For each input sample
// the detector returns the largest |value| at the 8 points t = n - latency() + k / 8,
// k = 0 .. 7 (the input sample latency() frames back, k = 0, returned exactly, and the
// interpolated points between it and the next sample), and, for the accurate design, at the
// crests between them: wherever a point is a crest of its two neighbours (the parabola through
// the three curves away from zero, its vertex within half a step), the parabola's vertex. The
// grid alone reads a peak lying between its points up to 1 - cos(pi f / (8 fs)) low (0.17 dB at
// Nyquist); the parabola leaves about 1e-4 of it. latency() is 32 frames.
//
// Two interpolator designs, both windowed sincs with the cutoff at the input Nyquist frequency
// (so the sinc's zeros fall on every `factor`-th tap and phase 0 is a pure delay):
//  - accurate: 64 taps per phase at 8x, Kaiser window (beta 5.5), each phase normalised to
//    unity gain at DC. Its gain against an ideal interpolation is within 0.01 dB up to 0.93 of
//    Nyquist (20.5 kHz at 44.1 kHz), 0.12 dB at 0.95, 1.8 dB low at 0.97, and falls to 0 at
//    Nyquist for the half-sample phase (where an ideal reconstruction of a Nyquist tone is 0
//    too). On programme material it reads within 0.05 dB of an ideal reconstruction (tested:
//    pink noise, drums, sweeps and tones up to 0.9 of Nyquist, short and faded); on material
//    with much energy in the last few percent of the band, which hard clipping puts there, it
//    reads low (drums driven 18 dB into clipping: 0.05 to 0.16 dB). BS.1770-4's 4x, 12-tap
//    example reads up to 0.7 dB low from its grid alone and 1 dB low on the clipped drums.
//  - reference: the 49-tap Hann-windowed prototype libebur128 uses (12 taps per phase at its
//    4x below 96 kHz, 24 at its 2x below 192 kHz; at 192 kHz and above it reads the sample
//    peak), taps left unnormalised as theirs are, placed on the same 8x grid, not refined. It
//    reads what libebur128 reads (the tests find its readings within 1e-5 dB): up to 0.11 dB
//    high near 0.65 of Nyquist, and far low near Nyquist.
//  - both: the larger of the two estimates, never below either. The limiter uses it, so that it
//    holds its ceiling on meters of either kind.
// Cost with SSE, processing blocks of 64: about 27 ns per sample for accurate, 35 for both and
// 3.5 for reference on the machine of docs/performance.md (the 4x, 24-tap design before: 9, 12
// and 4); four consecutive outputs share each vector step, so single samples cost more.
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
    static constexpr std::uint32_t taps_per_phase = 64;
    static constexpr std::uint32_t max_factor = 8;

    /// Oversampling factor: 8 at every sample rate.
    static std::uint32_t factor_for(double sample_rate) noexcept;
    /// libebur128's factor at `sample_rate`, which the reference design copies: 4 below 96 kHz,
    /// 2 below 192 kHz, else 1.
    static std::uint32_t reference_factor_for(double sample_rate) noexcept;
    /// Frames by which an estimate lags its input sample: taps_per_phase / 2 (32).
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
    float last_phase7_ = 0.0f;  // the accurate design's phase 7 for the last output (refinement)
    std::uint32_t ref_factor_ = 4;
    TruePeakDesign design_ = TruePeakDesign::accurate;
};

}  // namespace rtmix::dsp
