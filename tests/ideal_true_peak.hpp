// An ideal true-peak estimator for the tests: the largest |x(t)| of the band-limited
// reconstruction x(t) = sum_n x[n] sinc(t - n) of a finite signal (silence before and after),
// found in double precision with no filter of the code under test:
//  1. FFT zero-padding: the signal, padded with zeros to a power of two P >= 2 N + 2048, is
//     transformed and its spectrum placed in one 16 times longer (the Nyquist bin split between
//     the two ends, so the result stays real); the inverse transform is the exact periodic
//     band-limited interpolation at 16x. With at least N + 2048 zeros between the periods it
//     differs from the aperiodic one by the sinc tails from a period away (below 1e-4 of the
//     signal's peak).
//  2. Refinement: a peak between two 16x points lies at most 1 - cos(pi / 32) (0.042 dB) above
//     the nearer one. Around the 16x local maxima within 0.045 dB of the largest (the 64 highest
//     of them), |x(t)| is maximised by golden-section search over +-1/16 sample, each value
//     summed directly as sum_n x[n] sinc(t - n) over the whole signal. That removes the 16x
//     grid's own error.
// The result is the signal's peak under an infinitely long sinc interpolator, within about 1e-6.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

namespace rtmix::test {

/// In-place iterative radix-2 FFT; `inverse` uses e^{+i...} and does not scale.
inline void fft(std::vector<std::complex<double>>& a, bool inverse) {
    const std::size_t n = a.size();
    for (std::size_t i = 1, j = 0; i < n; ++i) {
        std::size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) std::swap(a[i], a[j]);
    }
    const double pi_d = 3.14159265358979323846;
    for (std::size_t len = 2; len <= n; len <<= 1) {
        const double angle = 2.0 * pi_d / static_cast<double>(len) * (inverse ? 1.0 : -1.0);
        const std::size_t half = len / 2;
        // Twiddles computed directly per index (no accumulated rounding).
        std::vector<std::complex<double>> w(half);
        for (std::size_t k = 0; k < half; ++k) w[k] = std::polar(1.0, angle * static_cast<double>(k));
        for (std::size_t i = 0; i < n; i += len)
            for (std::size_t k = 0; k < half; ++k) {
                const std::complex<double> u = a[i + k], v = a[i + k + half] * w[k];
                a[i + k] = u + v;
                a[i + k + half] = u - v;
            }
    }
}

/// x(t) = sum_n x[n] sinc(t - n), directly.
inline double sinc_reconstruction(const float* x, std::size_t n, double t) {
    const double pi_d = 3.14159265358979323846;
    const double s = std::sin(pi_d * (t - std::floor(t)));  // sin(pi (t - m)) = +-s
    // sin(pi (t - m)) = (-1)^(m - floor t) * s, so every term is (-1)^... s / (pi (t - m)).
    const auto base = static_cast<long long>(std::floor(t));
    if (s == 0.0) return (base >= 0 && static_cast<std::size_t>(base) < n) ? x[base] : 0.0;
    double sum = 0.0;
    for (std::size_t m = 0; m < n; ++m) {
        if (x[m] == 0.0f) continue;
        const double d = t - static_cast<double>(m);
        const double sign = ((base - static_cast<long long>(m)) & 1) ? -1.0 : 1.0;
        sum += static_cast<double>(x[m]) * sign / d;
    }
    return sum * s / pi_d;
}

/// The ideal (infinitely long sinc) true peak of x[0 .. n), linear; see above.
inline double ideal_true_peak(const float* x, std::size_t n) {
    constexpr std::size_t factor = 16;
    std::size_t p = 1;
    while (p < 2 * n + 2048) p <<= 1;
    std::vector<std::complex<double>> a(p, 0.0);
    for (std::size_t i = 0; i < n; ++i) a[i] = x[i];
    fft(a, false);
    std::vector<std::complex<double>> b(p * factor, 0.0);
    for (std::size_t k = 0; k < p / 2; ++k) b[k] = a[k];
    for (std::size_t k = p / 2 + 1; k < p; ++k) b[p * factor - p + k] = a[k];
    b[p / 2] = 0.5 * a[p / 2];
    b[p * factor - p / 2] = 0.5 * a[p / 2];
    fft(b, true);
    const double scale = 1.0 / static_cast<double>(p);  // F / (F P)
    double grid_max = 0.0;
    const std::size_t points = (n + 1) * factor;  // up to one sample past the end
    std::vector<double> v(points);
    for (std::size_t m = 0; m < points; ++m) {
        v[m] = std::fabs(b[m].real()) * scale;
        grid_max = std::max(grid_max, v[m]);
    }
    // Candidates: local maxima within 0.045 dB of the grid's largest (the 64 highest).
    std::vector<std::size_t> candidates;
    const double floor_level = grid_max * 0.99483;
    for (std::size_t m = 0; m < points; ++m) {
        const double left = m > 0 ? v[m - 1] : 0.0, right = m + 1 < points ? v[m + 1] : 0.0;
        if (v[m] >= floor_level && v[m] >= left && v[m] >= right) candidates.push_back(m);
    }
    std::sort(candidates.begin(), candidates.end(), [&v](std::size_t i, std::size_t j) { return v[i] > v[j]; });
    if (candidates.size() > 64) candidates.resize(64);
    double best = grid_max;
    const double golden = 0.5 * (std::sqrt(5.0) - 1.0);
    for (std::size_t m : candidates) {
        const auto f = [&](double t) { return std::fabs(sinc_reconstruction(x, n, t)); };
        double lo = (static_cast<double>(m) - 1.0) / factor, hi = (static_cast<double>(m) + 1.0) / factor;
        double c = hi - golden * (hi - lo), d = lo + golden * (hi - lo);
        double fc = f(c), fd = f(d);
        for (int it = 0; it < 20; ++it) {
            if (fc > fd) {
                hi = d;
                d = c;
                fd = fc;
                c = hi - golden * (hi - lo);
                fc = f(c);
            } else {
                lo = c;
                c = d;
                fc = fd;
                d = lo + golden * (hi - lo);
                fd = f(d);
            }
        }
        best = std::max({best, fc, fd});
    }
    return best;
}

inline double ideal_true_peak(const std::vector<float>& x) { return ideal_true_peak(x.data(), x.size()); }

}  // namespace rtmix::test
