#include "files/dither.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace rtmix::files {

namespace {

constexpr double pi = 3.14159265358979323846;

/// The noise shape in dB (dither.hpp): Terhardt's threshold in quiet, flat below 500 Hz, capped.
double noise_shape_db(double hz) {
    const double f = std::max(hz, 500.0) / 1000.0;
    const double threshold = 3.64 * std::pow(f, -0.8) - 6.5 * std::exp(-0.6 * (f - 3.3) * (f - 3.3)) + 1e-3 * std::pow(f, 4.0);
    return std::min(threshold, 30.0);
}

}  // namespace

ShapingFilter design_shaping_filter(double sample_rate) {
    if (!shaped_dither_designed(sample_rate))
        throw std::invalid_argument(fmt::format(
            "noise-shaped dither has designs for {:g} to {:g} Hz only, not {:g} Hz: use TPDF dither at this rate",
            shaped_dither_min_rate, shaped_dither_max_rate, sample_rate));
    ShapingFilter out;
    out.taps = sample_rate <= 48000.0 ? 16 : max_shaping_taps;
    const std::size_t p = out.taps;
    // Autocorrelation of the weighting W = 10^(-shape/10) over 0 ... fs/2 (midpoint rule).
    constexpr int points = 8192;
    std::vector<double> r(p + 1, 0.0);
    for (int i = 0; i < points; ++i) {
        const double x = (i + 0.5) / points;  // frequency as a fraction of fs/2
        const double w = std::pow(10.0, -noise_shape_db(x * sample_rate / 2.0) / 10.0);
        for (std::size_t k = 0; k <= p; ++k) r[k] += w * std::cos(pi * x * static_cast<double>(k));
    }
    // Levinson-Durbin: A(z) = 1 + sum a[k] z^-k whitens W, so |A|^2 follows 1/W, the shape.
    std::vector<double> a(p + 1, 0.0), previous(p + 1, 0.0);
    a[0] = 1.0;
    double error = r[0];
    for (std::size_t m = 1; m <= p; ++m) {
        double acc = r[m];
        for (std::size_t k = 1; k < m; ++k) acc += a[k] * r[m - k];
        const double reflection = -acc / error;
        previous = a;
        for (std::size_t k = 1; k < m; ++k) a[k] = previous[k] + reflection * previous[m - k];
        a[m] = reflection;
        error *= 1.0 - reflection * reflection;
    }
    for (std::size_t k = 0; k < p; ++k) out.h[k] = -a[k + 1];
    return out;
}

Quantizer::Quantizer(unsigned bits, DitherMode mode, std::uint64_t seed, double sample_rate)
    : scale_(std::ldexp(1.0, static_cast<int>(bits) - 1)),
      min_(-static_cast<std::int32_t>(scale_)),
      max_(static_cast<std::int32_t>(scale_) - 1),
      mode_(mode),
      state_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {
    if (mode == DitherMode::shaped) filter_ = design_shaping_filter(sample_rate);
}

double Quantizer::uniform() noexcept {
    // splitmix64: small, fast and statistically sound for dither.
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53 - 0.5;
}

std::int32_t Quantizer::next(float x) noexcept {
    double v = static_cast<double>(x) * scale_;
    const std::size_t taps = filter_.taps;
    if (mode_ == DitherMode::shaped)
        for (std::size_t k = 0; k < taps; ++k) v -= filter_.h[k] * error_[k];
    const double wanted = v;
    if (mode_ != DitherMode::none) v += uniform() + uniform();
    double q = std::nearbyint(v);
    if (q < min_ || q > max_) {
        ++clipped_;
        q = std::clamp(q, static_cast<double>(min_), static_cast<double>(max_));
    }
    if (mode_ == DitherMode::shaped) {
        // The error of this sample against what the loop wanted; bounded so that a clipped
        // stretch cannot drive the loop unstable.
        const double e = std::clamp(q - wanted, -4.0, 4.0);
        for (std::size_t k = taps - 1; k > 0; --k) error_[k] = error_[k - 1];
        error_[0] = e;
    }
    return static_cast<std::int32_t>(q);
}

}  // namespace rtmix::files
