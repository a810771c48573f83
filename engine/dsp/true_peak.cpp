// True-peak detector; see true_peak.hpp for the designs and their accuracy.
//
// Processing, per block of up to 64 inputs, in linear buffers on the stack: (1) the half-band
// stage, four inputs at a time (one vector per tap pair, four accumulators), appends two points
// per input to the 2x stream; (2) the 4x stage, four points of the 2x stream at a time, writes
// the 8x grid in time order (a 4x4 transpose); (3) each output's 8 points are refined and
// reduced to their largest magnitude; (4) phase 0 and the reference design, four outputs at a
// time. Every output is computed the same way whatever its position in a block, so the
// estimates do not depend on how the input is split into blocks.
#include "dsp/true_peak.hpp"

#include <cstddef>
#include <cstring>

namespace rtmix::dsp {
namespace {

constexpr double half_band_beta = 4.0;
constexpr double stage2_beta = 8.0;
constexpr double pi_d = 3.14159265358979323846;
// Outputs per pass over the stack buffers.
constexpr std::uint32_t block_frames = 64;
// libebur128's prototype: 49 taps, centred on tap 24.
constexpr std::uint32_t ref_length = 48;

// Modified Bessel function of the first kind, order 0, by its power series (converges fast for
// the arguments a Kaiser window needs).
double bessel_i0(double x) {
    double sum = 1.0;
    double term = 1.0;
    const double q = 0.25 * x * x;
    for (int k = 1; k < 200; ++k) {
        term *= q / (static_cast<double>(k) * static_cast<double>(k));
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return sum;
}

// sinc(d) times a Kaiser window reaching zero weight at |d| = half_width.
double windowed_sinc(double d, double half_width, double beta) {
    const double r = d / half_width;
    const double window = bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(beta);
    return (d == 0.0 ? 1.0 : std::sin(pi_d * d) / (pi_d * d)) * window;
}

}  // namespace

std::uint32_t TruePeakDetector::factor_for(double) noexcept { return max_factor; }

std::uint32_t TruePeakDetector::reference_factor_for(double sample_rate) noexcept {
    if (sample_rate < 96000.0) return 4;
    if (sample_rate < 192000.0) return 2;
    return 1;
}

std::uint32_t TruePeakDetector::latency_for(double) noexcept { return latency_frames; }

TruePeakDetector::TruePeakDetector(double sample_rate, TruePeakDesign design)
    : ref_factor_(reference_factor_for(sample_rate)), design_(design) {
    const auto splat = [](double c) {
        const auto v = static_cast<float>(c);
        return Vec4{v, v, v, v};
    };
    constexpr std::uint32_t K = half_band_reach, M = stage2_taps;

    // First stage: the half-sample point between x[p] and x[p + 1] is
    // sum_k c_k (x[p - k] + x[p + 1 + k]), c_k = sinc(k + 1/2) kaiser(k + 1/2), normalised to
    // unity gain at DC.
    {
        double c[K];
        double sum = 0.0;
        for (std::uint32_t k = 0; k < K; ++k) {
            c[k] = windowed_sinc(static_cast<double>(k) + 0.5, static_cast<double>(K), half_band_beta);
            sum += 2.0 * c[k];
        }
        for (std::uint32_t k = 0; k < K; ++k) half_[k] = splat(c[k] / sum);
    }
    // Second stage: the point r / 4 of a step after u[m] on the 2x stream u is
    // sum_k b_r[k] u[m - M/2 + 1 + k], b_r[k] = sinc(d) kaiser(d) at the distance
    // d = k - M/2 + 1 - r/4 (a lowpass at the 2x stream's Nyquist frequency, twice the input's),
    // each phase normalised to unity gain at DC.
    for (std::uint32_t r = 1; r < 4; ++r) {
        double b[M];
        double sum = 0.0;
        for (std::uint32_t k = 0; k < M; ++k) {
            const double d = static_cast<double>(k) + 1.0 - 0.5 * M - 0.25 * static_cast<double>(r);
            b[k] = windowed_sinc(d, 0.5 * M, stage2_beta);
            sum += b[k];
        }
        for (std::uint32_t k = 0; k < M; ++k) stage2_[r - 1][k] = splat(b[k] / sum);
    }

    // Reference design: libebur128's 49-tap prototype h[j] = sinc((j - 24) / R) * hann(j),
    // j = 0 .. 48, hann(j) = (1 - cos(2 pi j / 48)) / 2, split into R phases of 48 / R taps,
    // left unnormalised as such meters leave it. Tap j of phase j % R weighs the input
    // latency() - 24 / R + j / R samples back, so that both designs estimate the same points.
    if (ref_factor_ > 1) {
        const std::uint32_t r = ref_factor_;
        for (std::uint32_t j = 1; j < ref_length; ++j) {
            const std::uint32_t p = j % r;
            if (p == 0) continue;  // the sinc's zeros, and phase 0's centre tap (the sample)
            const double arg = pi_d * (static_cast<double>(j) - 0.5 * ref_length) / static_cast<double>(r);
            const double window = 0.5 * (1.0 - std::cos(2.0 * pi_d * static_cast<double>(j) / ref_length));
            ref_[p - 1][j / r] = splat(std::sin(arg) / arg * window);
        }
    }
}

// Not instrumented by ThreadSanitizer: the loop reads and writes only this detector's own state
// and the caller's buffers, which one thread owns while it runs (the handoffs around it are
// instrumented where they happen); instrumented, its 8x filter was most of the sanitizer build's
// time in every render.
template <bool accurate, std::uint32_t ref_phases>
__attribute__((no_sanitize("thread"))) void TruePeakDetector::run(const float* in, float* peaks,
                                                                 std::uint32_t frames) noexcept {
    constexpr std::uint32_t K = half_band_reach, M = stage2_taps, L = latency_frames;
    constexpr std::uint32_t hx = x_history, hu = u_history;
    // The reference's taps, for libebur128's factor R = ref_phases + 1: tap t weighs the input
    // ref_back + t samples back.
    constexpr std::uint32_t ref_taps = ref_phases > 0 ? ref_length / (ref_phases + 1) : 0;
    constexpr std::uint32_t ref_back = ref_phases > 0 ? L - ref_length / 2 / (ref_phases + 1) : 0;
    static_assert(ref_back + ref_taps <= hx + 1);
    typedef int Vec4i __attribute__((vector_size(16)));
    const auto load = [](const float* p) {
        Vec4 v;
        std::memcpy(&v, p, sizeof v);
        return v;
    };
    const auto store = [](float* p, Vec4 v) { std::memcpy(p, &v, sizeof v); };
    const auto vabs = [](Vec4 v) { return v < 0.0f ? -v : v; };
    const auto vmax = [](Vec4 p, Vec4 q) { return p > q ? p : q; };

    // xb[hx + i] is in[i]; three spare zeros let the last group of four read past the block.
    float xb[hx + block_frames + 3];
    // ub: the 2x stream, u[2q] = x[q], u[2q + 1] the half-sample point after it; ub[hu + 2i]
    // and ub[hu + 2i + 1] come from in[i] (the point K samples back and the one after it).
    float ub[hu + 2 * block_frames + 8];
    // grid[1 + 8i + k]: the 8x point k / 8 after the delayed sample of output i; grid[0] the
    // previous output's last point, grid[1 + 8n] the next sample.
    float grid[1 + 8 * block_frames + 8];
    float acc_peaks[block_frames + 4];
    while (frames > 0) {
        const std::uint32_t n = std::min(frames, block_frames);
        std::memcpy(xb, x_hist_.data(), hx * sizeof(float));
        std::memcpy(xb + hx, in, n * sizeof(float));
        xb[hx + n] = xb[hx + n + 1] = xb[hx + n + 2] = 0.0f;
        if constexpr (accurate) {
            std::memcpy(ub, u_hist_.data(), hu * sizeof(float));
            // Stage 1, four inputs at a time: for in[i], the half-sample point between
            // x[i - K] and x[i - K + 1]. Four accumulators shorten the chain of additions.
            for (std::uint32_t i = 0; i < n; i += 4) {
                const float* x = xb + hx + i;
                Vec4 a0 = {}, a1 = {}, a2 = {}, a3 = {};
                for (std::uint32_t k = 0; k < K; k += 4) {
                    a0 += half_[k] * (load(x - K - k) + load(x - K + 1 + k));
                    a1 += half_[k + 1] * (load(x - K - k - 1) + load(x - K + 2 + k));
                    a2 += half_[k + 2] * (load(x - K - k - 2) + load(x - K + 3 + k));
                    a3 += half_[k + 3] * (load(x - K - k - 3) + load(x - K + 4 + k));
                }
                const Vec4 h = (a0 + a1) + (a2 + a3);
                const Vec4 s = load(x - K);
                store(ub + hu + 2 * i, __builtin_shuffle(s, h, Vec4i{0, 4, 1, 5}));
                store(ub + hu + 2 * i + 4, __builtin_shuffle(s, h, Vec4i{2, 6, 3, 7}));
            }
            // Stage 2, two outputs (four points of the 2x stream) at a time: output i is the
            // sample M / 4 before the 2x points stage 1 made for in[i], at ub[hu + 2i - M/2].
            for (std::uint32_t i = 0; i < n; i += 2) {
                const float* u = ub + hu + 2 * i - M / 2;
                Vec4 q1 = {}, q2 = {}, q3 = {};
                for (std::uint32_t k = 0; k < M; ++k) {
                    const Vec4 v = load(u - M / 2 + 1 + k);
                    q1 += stage2_[0][k] * v;
                    q2 += stage2_[1][k] * v;
                    q3 += stage2_[2][k] * v;
                }
                const Vec4 u0 = load(u);
                // Lanes are 2x points; the grid wants them in time order: a 4x4 transpose.
                const Vec4 t0 = __builtin_shuffle(u0, q1, Vec4i{0, 4, 1, 5});
                const Vec4 t1 = __builtin_shuffle(q2, q3, Vec4i{0, 4, 1, 5});
                const Vec4 t2 = __builtin_shuffle(u0, q1, Vec4i{2, 6, 3, 7});
                const Vec4 t3 = __builtin_shuffle(q2, q3, Vec4i{2, 6, 3, 7});
                float* g = grid + 1 + 8 * i;
                store(g, __builtin_shuffle(t0, t1, Vec4i{0, 1, 4, 5}));
                store(g + 4, __builtin_shuffle(t0, t1, Vec4i{2, 3, 6, 7}));
                store(g + 8, __builtin_shuffle(t2, t3, Vec4i{0, 1, 4, 5}));
                store(g + 12, __builtin_shuffle(t2, t3, Vec4i{2, 3, 6, 7}));
            }
            grid[0] = last_point_;
            grid[1 + 8 * n] = xb[hx + n - L];  // the sample after the last output's
            last_point_ = grid[8 * n];
            // The largest magnitude among each output's 8 points and, wherever a point is a
            // crest (its neighbours' parabola curves away from zero through it, with its vertex
            // within half a step), the vertex's magnitude.
            for (std::uint32_t i = 0; i < n; ++i) {
                Vec4 m = {0.0f, 0.0f, 0.0f, 0.0f};
                for (std::uint32_t half = 0; half < 8; half += 4) {
                    const float* g = grid + 1 + 8 * i + half;
                    const Vec4 prev = load(g - 1), here = load(g), next = load(g + 1);
                    const Vec4 d1 = next - prev, d2 = prev - 2.0f * here + next;
                    const Vec4 vertex = here - d1 * d1 / (8.0f * d2);
                    const auto crest = (vabs(d1) <= vabs(d2)) & (d2 * here < 0.0f);
                    m = vmax(m, vabs(here));
                    m = vmax(m, crest ? vabs(vertex) : Vec4{0.0f, 0.0f, 0.0f, 0.0f});
                }
                m = vmax(m, __builtin_shuffle(m, Vec4i{2, 3, 0, 1}));
                m = vmax(m, __builtin_shuffle(m, Vec4i{1, 0, 3, 2}));
                acc_peaks[i] = m[0];
            }
            std::memcpy(u_hist_.data(), ub + 2 * n, hu * sizeof(float));
        }
        // Phase 0 (the delayed sample) and the reference design, four outputs at a time.
        for (std::uint32_t i = 0; i < n; i += 4) {
            const float* x = xb + hx + i;
            Vec4 m;
            if constexpr (accurate)
                m = load(acc_peaks + i);
            else
                m = vabs(load(x - L));
            if constexpr (ref_phases > 0) {
                Vec4 r[ref_phases] = {};
                for (std::uint32_t t = 0; t < ref_taps; ++t) {
                    const Vec4 v = load(x - ref_back - t);
#pragma GCC unroll 4
                    for (std::uint32_t q = 0; q < ref_phases; ++q) r[q] += v * ref_[q][t];
                }
#pragma GCC unroll 4
                for (std::uint32_t q = 0; q < ref_phases; ++q) m = vmax(m, vabs(r[q]));
            }
            float out[4];
            std::memcpy(out, &m, sizeof out);
            std::memcpy(peaks + i, out, std::min(4u, n - i) * sizeof(float));
        }
        std::memcpy(x_hist_.data(), xb + n, hx * sizeof(float));
        in += n;
        peaks += n;
        frames -= n;
    }
}

void TruePeakDetector::process(const float* in, float* peaks, std::uint32_t frames) noexcept {
    const bool accurate = design_ != TruePeakDesign::reference;
    const bool reference = design_ != TruePeakDesign::accurate && ref_factor_ > 1;
    if (accurate && reference) {
        if (ref_factor_ == 4)
            run<true, 3>(in, peaks, frames);
        else
            run<true, 1>(in, peaks, frames);
    } else if (accurate) {
        run<true, 0>(in, peaks, frames);
    } else if (reference) {
        if (ref_factor_ == 4)
            run<false, 3>(in, peaks, frames);
        else
            run<false, 1>(in, peaks, frames);
    } else {
        run<false, 0>(in, peaks, frames);  // the reference at 192 kHz and up: the delayed sample peak
    }
}

void TruePeakDetector::reset() noexcept {
    x_hist_.fill(0.0f);
    u_hist_.fill(0.0f);
    last_point_ = 0.0f;
}

}  // namespace rtmix::dsp
