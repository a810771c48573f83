// True-peak detector; see true_peak.hpp for the designs and their accuracy.
//
// Processing: a block is appended to the last 63 inputs in a linear buffer on the stack, and
// four consecutive outputs are computed together: for each tap k one vector load brings the
// four inputs k samples back, and every phase multiplies it by its (broadcast) coefficient.
// Each phase accumulates in its own register, so the additions of the phases proceed in
// parallel; the largest |value| of the phases and of phase 0 (the delayed sample) is the
// estimate.
#include "dsp/true_peak.hpp"

#include <cstddef>
#include <cstring>

namespace rtmix::dsp {
namespace {

constexpr double kaiser_beta = 5.5;
constexpr double pi_d = 3.14159265358979323846;
// Outputs per pass over the stack buffer.
constexpr std::uint32_t block_frames = 64;
// libebur128's prototype: 49 taps, centred on tap 24.
constexpr std::uint32_t ref_length = 48;

// Modified Bessel function of the first kind, order 0, by its power series (converges fast for
// the arguments a Kaiser window needs).
double bessel_i0(double x) {
    double sum = 1.0;
    double term = 1.0;
    const double q = 0.25 * x * x;
    for (int k = 1; k < 64; ++k) {
        term *= q / (static_cast<double>(k) * static_cast<double>(k));
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return sum;
}

}  // namespace

std::uint32_t TruePeakDetector::factor_for(double) noexcept { return max_factor; }

std::uint32_t TruePeakDetector::reference_factor_for(double sample_rate) noexcept {
    if (sample_rate < 96000.0) return 4;
    if (sample_rate < 192000.0) return 2;
    return 1;
}

std::uint32_t TruePeakDetector::latency_for(double) noexcept { return taps_per_phase / 2; }

TruePeakDetector::TruePeakDetector(double sample_rate, TruePeakDesign design)
    : ref_factor_(reference_factor_for(sample_rate)), design_(design) {
    constexpr std::uint32_t f = max_factor;
    const auto splat = [](double c) {
        const auto v = static_cast<float>(c);
        return Vec4{v, v, v, v};
    };

    // Accurate design. Prototype lowpass at the oversampled rate: h[j] = sinc((j - c) / F)
    // * kaiser(j), j = 0 .. F T, centred on c = F T / 2. Phase p takes taps j = F k + p: the
    // fractional delay T / 2 - p / F input samples. (Phase 0 is the delayed sample itself.)
    {
        constexpr std::uint32_t length = f * taps_per_phase;  // the prototype has length + 1 taps
        const double centre = 0.5 * static_cast<double>(length);
        const double i0_beta = bessel_i0(kaiser_beta);
        for (std::uint32_t p = 1; p < f; ++p) {
            double phase[taps_per_phase];
            double sum = 0.0;
            for (std::uint32_t k = 0; k < taps_per_phase; ++k) {
                const std::uint32_t j = f * k + p;
                const double arg = pi_d * (static_cast<double>(j) - centre) / static_cast<double>(f);
                const double r = 2.0 * static_cast<double>(j) / static_cast<double>(length) - 1.0;
                const double window = bessel_i0(kaiser_beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0_beta;
                phase[k] = std::sin(arg) / arg * window;
                sum += phase[k];
            }
            // Unity gain at DC for every phase: a constant signal reads exactly its value.
            for (std::uint32_t k = 0; k < taps_per_phase; ++k) acc_[p - 1][k] = splat(phase[k] / sum);
        }
    }

    // Reference design: libebur128's 49-tap prototype h[j] = sinc((j - 24) / R) * hann(j),
    // j = 0 .. 48, hann(j) = (1 - cos(2 pi j / 48)) / 2, split into R phases of 48 / R taps,
    // left unnormalised as such meters leave it. Its own latency is 24 / R frames; its taps are
    // shifted by latency() - 24 / R so that both designs estimate the same points.
    if (ref_factor_ > 1) {
        const std::uint32_t r = ref_factor_;
        const std::uint32_t begin = latency() - ref_length / 2 / r;
        for (std::uint32_t j = 1; j < ref_length; ++j) {
            const std::uint32_t p = j % r;
            if (p == 0) continue;  // the sinc's zeros, and phase 0's centre tap (the sample)
            const double arg = pi_d * (static_cast<double>(j) - 0.5 * ref_length) / static_cast<double>(r);
            const double window = 0.5 * (1.0 - std::cos(2.0 * pi_d * static_cast<double>(j) / ref_length));
            ref_[p - 1][j / r + begin] = splat(std::sin(arg) / arg * window);
        }
    }
}

template <bool accurate, std::uint32_t ref_phases>
void TruePeakDetector::run(const float* in, float* peaks, std::uint32_t frames) noexcept {
    constexpr std::uint32_t h = history_length;
    constexpr std::uint32_t lag = taps_per_phase / 2;
    // The reference's taps, for libebur128's factor R = ref_phases + 1: [lag - 24 / R, lag + 24 / R).
    constexpr std::uint32_t ref_lo = ref_phases > 0 ? lag - ref_length / 2 / (ref_phases + 1) : lag;
    constexpr std::uint32_t ref_hi = ref_phases > 0 ? lag + ref_length / 2 / (ref_phases + 1) : lag;
    // buf[h + i] is in[i]; three spare zeros let the last group of four read past the block.
    float buf[h + block_frames + 3];
    Vec4 last7 = {0.0f, 0.0f, 0.0f, last_phase7_};  // lane 3: phase 7 of the previous output
    while (frames > 0) {
        const std::uint32_t n = std::min(frames, block_frames);
        std::memcpy(buf, history_.data(), h * sizeof(float));
        std::memcpy(buf + h, in, n * sizeof(float));
        buf[h + n] = buf[h + n + 1] = buf[h + n + 2] = 0.0f;
        for (std::uint32_t i = 0; i < n; i += 4) {
            const float* x = buf + h + i;  // x[-k .. 3 - k]: inputs k back from outputs i .. i + 3
            // One accumulator per phase and design; the loops over them are unrolled, so they
            // stay in registers (7 + 3 of the 16 an x86-64 has).
            Vec4 a[phases > 0 ? phases : 1] = {}, r[max_ref_phases] = {};
            const auto load = [x](std::uint32_t k) {
                Vec4 v;
                std::memcpy(&v, x - k, sizeof v);
                return v;
            };
            if constexpr (accurate) {
                for (std::uint32_t k = 0; k < taps_per_phase; ++k) {
                    const Vec4 v = load(k);
#pragma GCC unroll 8
                    for (std::uint32_t p = 0; p < phases; ++p) a[p] += v * acc_[p][k];
                    if (ref_phases > 0 && k >= ref_lo && k < ref_hi) {
#pragma GCC unroll 4
                        for (std::uint32_t q = 0; q < ref_phases; ++q) r[q] += v * ref_[q][k];
                    }
                }
            } else {
                for (std::uint32_t k = ref_lo; k < ref_hi; ++k) {
                    const Vec4 v = load(k);
#pragma GCC unroll 4
                    for (std::uint32_t q = 0; q < ref_phases; ++q) r[q] += v * ref_[q][k];
                }
            }

            // The largest magnitude of phase 0 (the delayed sample) and of every filtered phase.
            const Vec4 y0 = load(lag);
            const auto vabs = [](Vec4 v) { return v < 0.0f ? -v : v; };
            const auto vmax = [](Vec4 p, Vec4 q) { return p > q ? p : q; };
            Vec4 m = vabs(y0);
            if constexpr (accurate) {
#pragma GCC unroll 8
                for (std::uint32_t p = 0; p < phases; ++p) m = vmax(m, vabs(a[p]));
                // Refinement between the points: at each point k = 0 .. 7 that is a crest (its
                // neighbours' parabola curves away from zero through it, with its vertex
                // within half a step), the vertex's magnitude. Point -1 is the previous
                // output's phase 7 (lane l - 1, or the previous group's or block's last).
                typedef int Vec4i __attribute__((vector_size(16)));
                const Vec4 ym1 = __builtin_shuffle(last7, a[phases - 1], Vec4i{3, 4, 5, 6});
                last7 = a[phases - 1];
                const auto refine = [&](Vec4 prev, Vec4 here, Vec4 next) {
                    const Vec4 d1 = next - prev, d2 = prev - 2.0f * here + next;
                    const Vec4 vertex = here - d1 * d1 / (8.0f * d2);
                    const auto crest = (vabs(d1) <= vabs(d2)) & (d2 * here < 0.0f);
                    m = vmax(m, crest ? vabs(vertex) : Vec4{0.0f, 0.0f, 0.0f, 0.0f});
                };
                refine(ym1, y0, a[0]);
                refine(y0, a[0], a[1]);
#pragma GCC unroll 8
                for (std::uint32_t p = 1; p + 1 < phases; ++p) refine(a[p - 1], a[p], a[p + 1]);
                refine(a[phases - 2], a[phases - 1], load(lag - 1));
            }
#pragma GCC unroll 4
            for (std::uint32_t q = 0; q < ref_phases; ++q) m = vmax(m, vabs(r[q]));
            float out[4];
            std::memcpy(out, &m, sizeof out);
            std::memcpy(peaks + i, out, std::min(4u, n - i) * sizeof(float));
            if (i + 4 > n) {
                // A partial last group: the next output follows lane n - 1 - i.
                const float l = last7[n - 1 - i];
                last7 = Vec4{0.0f, 0.0f, 0.0f, l};
            }
        }
        std::memcpy(history_.data(), buf + n, h * sizeof(float));
        last_phase7_ = last7[3];
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
    history_.fill(0.0f);
    last_phase7_ = 0.0f;
}

}  // namespace rtmix::dsp
