// Test signals and measurements with known answers: sines, impulses, a single-bin DFT, levels.
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

namespace rtmix::test {

constexpr double pi = 3.14159265358979323846;

inline std::vector<float> sine(double freq_hz, double sample_rate, std::size_t frames, double amplitude = 1.0) {
    std::vector<float> x(frames);
    for (std::size_t i = 0; i < frames; ++i)
        x[i] = static_cast<float>(amplitude * std::sin(2.0 * pi * freq_hz * static_cast<double>(i) / sample_rate));
    return x;
}

inline std::vector<float> impulse(std::size_t frames, float amplitude = 1.0f) {
    std::vector<float> x(frames, 0.0f);
    if (frames > 0) x[0] = amplitude;
    return x;
}

/// The response at `freq_hz` of a filter whose impulse response is `h`: sum h[n] e^{-jwn}.
inline std::complex<double> dft_at(const std::vector<float>& h, double freq_hz, double sample_rate) {
    std::complex<double> acc = 0.0;
    const double w = 2.0 * pi * freq_hz / sample_rate;
    for (std::size_t n = 0; n < h.size(); ++n) acc += static_cast<double>(h[n]) * std::polar(1.0, -w * static_cast<double>(n));
    return acc;
}

inline double to_db(double gain) { return 20.0 * std::log10(std::max(gain, 1e-30)); }

inline double peak(const float* x, std::size_t begin, std::size_t end) {
    double p = 0.0;
    for (std::size_t i = begin; i < end; ++i) p = std::max(p, static_cast<double>(std::fabs(x[i])));
    return p;
}

inline double rms(const float* x, std::size_t begin, std::size_t end) {
    double s = 0.0;
    for (std::size_t i = begin; i < end; ++i) s += static_cast<double>(x[i]) * x[i];
    return std::sqrt(s / static_cast<double>(end - begin));
}

}  // namespace rtmix::test
