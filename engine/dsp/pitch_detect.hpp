// PitchDetector: the fundamental period of a mono voice, every hop, for the pitch corrector
// (pitch_correct.hpp). A YIN-style estimator in two stages:
//
//  1. Coarse, on a decimated copy: the input through a 4th-order Butterworth lowpass at
//     0.25 fs/D (two biquads), one sample in D kept, D = round(fs / 12 kHz) (4 at 44.1 and
//     48 kHz, so 3 kHz at 48 kHz). Over the newest W = P_max decimated samples (P_max: the
//     longest period the range allows, fs / min_hz, over D, plus 2), the difference function
//     d(tau) = sum over the window of (x[i] - x[i - tau])^2 for tau = 1 ... P_max, its cumulative
//     mean normalized form d'(tau) = d(tau) tau / sum_{k <= tau} d(k), and the period is the
//     first tau (from fs / max_hz on) where d' dips below 0.15, followed down to its local
//     minimum; without one, the lowest d' of the range. Taking the first dip, not the deepest,
//     guards against octave-low errors (a period of 2 P dips about as deep as P); a half period
//     never dips on a voice unless its even harmonics rule it.
//  2. Fine, at the full rate, around D x that lag (+-2D): the same d(tau) over a window of two
//     candidate periods placed, as far as the input reaches, around the samples the shifter is
//     about to read (so the estimate is centred where it is used), and a parabola through the
//     smallest d(tau) and its neighbours for the fraction of a sample. A smallest d(tau) at an
//     end of the lags is no period: unvoiced.
//
// Voicing: a frame is voiced when the decimated window's RMS is above -60 dBFS and d' at the
// chosen lag is below 0.15 (below 0.25 to stay voiced: hysteresis), and the period is inside the
// range. Noise, breaths, consonants and chords give no dip that deep (d' stays near 1 for noise)
// and so pass through the corrector untouched.
//
// Cost (P the longest period in decimated samples, 202 at 48 kHz and min_hz = 60): P^2
// multiply-adds for the coarse stage and 4D+1 lags of 2 periods for the fine one, every hop.
//
// Threads: prepare() allocates (control side); push(), analyse() and reset() are wait-free.
#pragma once

#include <cstdint>
#include <vector>

namespace rtmix::dsp {

/// A power-of-two ring written twice (at i and i + size), so that any run of up to `size`
/// consecutive samples is contiguous in memory. Positions are absolute sample counts.
class MirrorRing {
public:
    void allocate(std::uint32_t min_size);
    void clear() noexcept;
    void push(float x) noexcept {
        const std::uint32_t i = static_cast<std::uint32_t>(count_) & mask_;
        data_[i] = x;
        data_[i + size_] = x;
        ++count_;
    }
    /// Samples pushed so far; the newest is at position count() - 1.
    std::uint64_t count() const noexcept { return count_; }
    std::uint32_t size() const noexcept { return size_; }
    /// `n` (<= size) contiguous samples from absolute position `pos` (within the last `size`).
    const float* at(std::uint64_t pos) const noexcept { return data_.data() + (static_cast<std::uint32_t>(pos) & mask_); }

private:
    std::vector<float> data_;
    std::uint32_t size_ = 0, mask_ = 0;
    std::uint64_t count_ = 0;
};

struct PitchEstimate {
    bool voiced = false;
    double period = 0.0;      ///< in samples at the full rate (fractional); 0 when unvoiced
    float aperiodicity = 1.0f;  ///< d' at the chosen lag: near 0 periodic, near 1 noise
};

class PitchDetector {
public:
    /// For sample rate `fs` and periods up to `max_period` full-rate samples. Allocates.
    void prepare(double fs, double max_period);
    void reset() noexcept;
    /// Every input sample, in order (feeds the decimated copy).
    void push(float x) noexcept;
    /// The period of the signal ending at `full`'s newest sample. The fine stage's window is
    /// centred one period after absolute position `wanted` when the input reaches that far (a
    /// window of 2 periods over lags of a period: it ends 2.5 periods after it), else it ends at
    /// the newest sample. `was_voiced`: hysteresis.
    PitchEstimate analyse(const MirrorRing& full, std::uint64_t wanted, float min_hz, float max_hz,
                          bool was_voiced) noexcept;
    std::uint32_t decimation() const noexcept { return decim_; }

private:
    struct Biquad {
        float b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
        float z1 = 0, z2 = 0;
        float run(float x) noexcept {
            const float y = b0 * x + z1;
            z1 = b1 * x - a1 * y + z2;
            z2 = b2 * x - a2 * y;
            return y;
        }
    };
    double fs_ = 48000.0;
    std::uint32_t decim_ = 4, phase_ = 0;
    Biquad lp_[2];
    MirrorRing low_;          // the decimated signal
    std::vector<float> d_, dn_;  // d(tau), d'(tau)
    std::uint32_t max_lag_d_ = 0;  // the longest decimated lag any range needs
    std::uint32_t max_period_ = 0;
};

/// Sum of (a[i] - b[i])^2 over n samples, in 8 independent partial sums (vectorizable; the same
/// order whatever calls it, so the same bits).
float squared_difference(const float* a, const float* b, std::uint32_t n) noexcept;

}  // namespace rtmix::dsp
