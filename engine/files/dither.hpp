// Quantizer: float samples to integer samples of a file's word length, with dither.
//
// - none: rounding to the nearest step. The error follows the signal (distortion on quiet,
//   smooth material).
// - tpdf: triangular-PDF dither of 2 LSB peak to peak (the sum of two independent uniform values
//   of one step each) added before rounding. The total error then has zero mean and a variance of
//   1/4 LSB^2 whatever the signal: the first two moments of the error are independent of the
//   signal (Lipshitz, Wannamaker & Vanderkooy, "Quantization and dither: a theoretical survey",
//   JAES 1992). Noise 4.8 dB above plain rounding, and no signal-dependent distortion.
// - shaped: the same dither inside an error-feedback loop whose filter is designed for the sample
//   rate, so that the noise spectrum follows the threshold of hearing (below): least where hearing
//   is most sensitive (2-5 kHz), more towards the top of the band and above 16 kHz. More total
//   noise power, less audible; meant for 16-bit masters. Designed for 44.1 to 96 kHz; other rates
//   are refused (shaped_dither_designed()), since the band it shapes would be the wrong one.
//
// The shape the noise follows, in dB: Terhardt's approximation of the threshold in quiet
// (Terhardt 1979, as perceptual coders use it), f in kHz,
//     T(f) = 3.64 f^-0.8 - 6.5 exp(-0.6 (f - 3.3)^2) + 0.001 f^4,
// taken at 500 Hz below 500 Hz (a short filter cannot follow its steep rise there in so narrow a
// band, and flat noise there is below the threshold anyway) and capped at 30 dB (above about
// 12.7 kHz, and the whole inaudible band above 20 kHz at 88.2 and 96 kHz). The filter is the
// prediction-error filter of the weighting 10^(-T/10) (autocorrelation by integration over the
// band, Levinson-Durbin): the noise it leaves, white error through it, has the power spectrum
// 10^(T/10) up to a constant, within about 1 dB at 44.1 and 48 kHz (16 taps) and 1.5 dB at 96 kHz
// (24 taps).
//
// Deterministic: a fixed seed, so the same render gives the same file. Control side (file
// writing); one Quantizer per channel; next() does no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace rtmix::files {

enum class DitherMode { none, tpdf, shaped };

/// The sample rates noise-shaped dither has a design for.
constexpr double shaped_dither_min_rate = 44100.0, shaped_dither_max_rate = 96000.0;
inline bool shaped_dither_designed(double sample_rate) noexcept {
    return sample_rate >= shaped_dither_min_rate && sample_rate <= shaped_dither_max_rate;
}

/// The most taps a shaping filter has.
constexpr std::size_t max_shaping_taps = 24;

/// The error-feedback filter of shaped dither at `sample_rate`: the error fed back is
/// sum(h[k] * e[n-1-k]) for k < taps, so the noise transfer is 1 - sum(h[k] z^-(k+1)).
struct ShapingFilter {
    std::array<double, max_shaping_taps> h{};
    std::size_t taps = 0;
};
/// Designs it (control side). Only for shaped_dither_designed() rates: throws std::invalid_argument
/// naming the rate otherwise.
ShapingFilter design_shaping_filter(double sample_rate);

class Quantizer {
public:
    /// `bits`: 16 or 24. `seed` makes the channels' dither independent. Shaped dither needs a
    /// designed `sample_rate` (std::invalid_argument otherwise).
    Quantizer(unsigned bits, DitherMode mode, std::uint64_t seed, double sample_rate);

    /// Quantizes one sample (full scale +-1.0) to a signed integer of `bits` bits, clamped to the
    /// word's range; counts clamped samples in clipped().
    std::int32_t next(float x) noexcept;

    std::uint64_t clipped() const noexcept { return clipped_; }
    double scale() const noexcept { return scale_; }

private:
    double uniform() noexcept;  // in [-0.5, 0.5)

    double scale_;
    std::int32_t min_, max_;
    DitherMode mode_;
    std::uint64_t state_;
    ShapingFilter filter_;
    std::array<double, max_shaping_taps> error_{};  // past total errors, newest first (shaped)
    std::uint64_t clipped_ = 0;
};

}  // namespace rtmix::files
