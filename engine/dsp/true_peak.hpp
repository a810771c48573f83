// True-peak detector: estimates the inter-sample peaks of a band-limited signal as in
// ITU-R BS.1770-4 Annex 2, by oversampling with a polyphase FIR interpolator and taking the
// largest magnitude among the oversampled points.
//
// Oversampling factor: 4 below 96 kHz, 2 below 192 kHz, 1 (the sample peak) from 192 kHz up,
// the factors BS.1770-4 and libebur128 use. For each input sample the detector returns the
// largest |value| at the `factor` points t = n - latency() + k / factor, k = 0 .. factor - 1:
// the input sample `latency()` frames back (k = 0, returned exactly) and the interpolated
// points between it and the next sample. latency() is 12 frames whenever factor > 1.
//
// Two interpolator designs, both windowed sincs with the cutoff at the input Nyquist frequency
// (so the sinc's zeros fall on every `factor`-th tap and phase 0 is a pure delay):
//  - accurate: 24 taps per phase, Kaiser window (beta 6), each phase normalised to unity gain
//    at DC. Against an ideal band-limited interpolation its error is below 0.12 % (0.01 dB)
//    up to 0.8 of Nyquist and 0.18 % (0.015 dB) at 0.83 of Nyquist (20 kHz at 48 kHz); above
//    0.85 of Nyquist it falls away (about 1 dB at 0.9).
//  - reference: a 49-tap Hann-windowed prototype (12 taps per phase at 4x, 24 at 2x), the
//    short design common meters use (libebur128's; BS.1770-4's example filter has the same
//    length), taps left unnormalised as theirs are. It reads what such meters read (the tests
//    find libebur128's readings within 2e-6 dB): up to 0.11 dB high near 0.65 of Nyquist,
//    0.8 to 1.8 dB low at 0.83 of Nyquist, and, on broadband signals with energy near Nyquist,
//    a few tenths of a dB away from the accurate design in either direction (the two
//    filters' phase responses differ there).
//  - both: the larger of the two estimates, never below either. A limiter driven by it holds
//    its ceiling on meters of either kind.
// Cost with SSE, processing blocks: about 2, 4 and 4 to 7 ns per sample for reference,
// accurate and both (four consecutive outputs share each vector step); single samples cost
// more, as each fills a whole vector step.
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
    static constexpr std::uint32_t taps_per_phase = 24;
    static constexpr std::uint32_t max_factor = 4;

    /// Oversampling factor at `sample_rate`: 4 below 96 kHz, 2 below 192 kHz, else 1.
    static std::uint32_t factor_for(double sample_rate) noexcept;
    /// Frames by which an estimate lags its input sample at `sample_rate`: 12, or 0 when the
    /// factor is 1.
    static std::uint32_t latency_for(double sample_rate) noexcept;

    /// Designs the interpolator(s) for `sample_rate` (control thread).
    explicit TruePeakDetector(double sample_rate, TruePeakDesign design = TruePeakDesign::accurate);

    std::uint32_t factor() const noexcept { return factor_; }
    std::uint32_t latency() const noexcept { return latency_; }
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
    static constexpr std::uint32_t max_phases = max_factor - 1;  // phase 0 needs no filter

    template <std::uint32_t phases, bool accurate, bool reference>
    void run(const float* in, float* peaks, std::uint32_t frames) noexcept;

    // acc_[p - 1][k], ref_[p - 1][k]: tap k (the input k samples back) of phase p, repeated in
    // all four lanes, which hold four consecutive outputs. The reference's taps are shifted so
    // that both designs share latency(); outside [ref_begin_, ref_end_) they are zero.
    Vec4 acc_[max_phases][taps_per_phase] = {};
    Vec4 ref_[max_phases][taps_per_phase] = {};
    std::array<float, history_length> history_{};  // the last inputs, oldest first
    std::uint32_t ref_begin_ = 0, ref_end_ = 0;
    std::uint32_t factor_ = 4;
    std::uint32_t latency_ = taps_per_phase / 2;
    TruePeakDesign design_ = TruePeakDesign::accurate;
};

}  // namespace rtmix::dsp
