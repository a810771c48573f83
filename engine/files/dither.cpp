#include "files/dither.hpp"

#include <algorithm>
#include <cmath>

namespace rtmix::files {

namespace {

// The E-weighted error filter: the error fed back is sum(h[k] * e[n-1-k]).
constexpr std::array<double, 5> e_weighted = {2.033, -2.165, 1.959, -1.590, 0.6149};

}  // namespace

Quantizer::Quantizer(unsigned bits, DitherMode mode, std::uint64_t seed)
    : scale_(std::ldexp(1.0, static_cast<int>(bits) - 1)),
      min_(-static_cast<std::int32_t>(scale_)),
      max_(static_cast<std::int32_t>(scale_) - 1),
      mode_(mode),
      state_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}

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
    if (mode_ == DitherMode::shaped)
        for (std::size_t k = 0; k < e_weighted.size(); ++k) v -= e_weighted[k] * error_[k];
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
        for (std::size_t k = error_.size() - 1; k > 0; --k) error_[k] = error_[k - 1];
        error_[0] = e;
    }
    return static_cast<std::int32_t>(q);
}

}  // namespace rtmix::files
