// Sums and peaks over a block, with 8 partial results instead of one running value.
//
// A loop that adds into one float is a chain of dependent additions (4 cycles each), and the
// compiler may not reorder float additions by itself. With 8 independent partial results the
// loop vectorizes and the additions overlap. The result differs from the one-accumulator sum only
// by rounding (the order of the additions), and depends on nothing but the samples.
//
// Pure functions, wait-free: safe on the audio thread.
#pragma once

#include <cmath>
#include <cstdint>

namespace rtmix::dsp {

/// Largest |x| (at least `peak`) and the sum of x^2 over n samples.
inline void peak_and_energy(const float* x, std::uint32_t n, float& peak, float& energy) noexcept {
    constexpr std::uint32_t k = 8;
    float p[k] = {}, e[k] = {};
    std::uint32_t i = 0;
    for (; i + k <= n; i += k)
        for (std::uint32_t j = 0; j < k; ++j) {
            const float v = x[i + j];
            const float a = std::fabs(v);
            p[j] = p[j] < a ? a : p[j];
            e[j] += v * v;
        }
    for (std::uint32_t j = 0; i + j < n; ++j) {
        const float v = x[i + j];
        const float a = std::fabs(v);
        p[j] = p[j] < a ? a : p[j];
        e[j] += v * v;
    }
    float pk = peak, sum = 0.0f;
    for (std::uint32_t j = 0; j < k; ++j) {
        pk = pk < p[j] ? p[j] : pk;
        sum += e[j];
    }
    peak = pk;
    energy = sum;
}

/// The sum of x^2 over n samples.
inline float energy(const float* x, std::uint32_t n) noexcept {
    constexpr std::uint32_t k = 8;
    float e[k] = {};
    std::uint32_t i = 0;
    for (; i + k <= n; i += k)
        for (std::uint32_t j = 0; j < k; ++j) e[j] += x[i + j] * x[i + j];
    for (std::uint32_t j = 0; i + j < n; ++j) e[j] += x[i + j] * x[i + j];
    float sum = 0.0f;
    for (std::uint32_t j = 0; j < k; ++j) sum += e[j];
    return sum;
}

}  // namespace rtmix::dsp
