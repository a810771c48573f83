#include "dsp/key_filter.hpp"

#include <algorithm>
#include <cmath>

namespace rtmix::dsp {

void KeyFilter::set(double sample_rate, float freq_hz) noexcept {
    on_ = freq_hz > 0.0f;
    if (!on_) return;
    const double f = std::min(static_cast<double>(freq_hz), 0.45 * sample_rate);
    const float g = static_cast<float>(std::tan(3.14159265358979323846 * f / sample_rate));
    k_ = 1.41421356f;  // 1 / Q
    a1_ = 1.0f / (1.0f + g * (g + k_));
    a2_ = g * a1_;
    a3_ = g * a2_;
}

void KeyFilter::process(std::uint32_t c, const float* in, float* out, std::uint32_t frames) noexcept {
    float ic1 = ic1_[c & 1], ic2 = ic2_[c & 1];
    for (std::uint32_t i = 0; i < frames; ++i) {
        const float v0 = in[i];
        const float v3 = v0 - ic2;
        const float v1 = a1_ * ic1 + a2_ * v3;
        const float v2 = ic2 + a2_ * ic1 + a3_ * v3;
        ic1 = 2.0f * v1 - ic1;
        ic2 = 2.0f * v2 - ic2;
        out[i] = v0 - k_ * v1 - v2;  // the highpass output of the SVF
    }
    ic1_[c & 1] = ic1;
    ic2_[c & 1] = ic2;
}

void KeyFilter::reset() noexcept {
    ic1_[0] = ic1_[1] = ic2_[0] = ic2_[1] = 0.0f;
}

}  // namespace rtmix::dsp
