// True-peak detector; see true_peak.hpp for the designs and their accuracy.
//
// Processing: a block is appended to the last 23 inputs in a linear buffer on the stack, and
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

constexpr double kaiser_beta = 6.0;
constexpr double pi_d = 3.14159265358979323846;
// Outputs per pass over the stack buffer.
constexpr std::uint32_t block_frames = 64;

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

std::uint32_t TruePeakDetector::factor_for(double sample_rate) noexcept {
    if (sample_rate < 96000.0) return 4;
    if (sample_rate < 192000.0) return 2;
    return 1;
}

std::uint32_t TruePeakDetector::latency_for(double sample_rate) noexcept {
    return factor_for(sample_rate) > 1 ? taps_per_phase / 2 : 0;
}

TruePeakDetector::TruePeakDetector(double sample_rate, TruePeakDesign design)
    : factor_(factor_for(sample_rate)), latency_(latency_for(sample_rate)), design_(design) {
    if (factor_ == 1) return;
    const std::uint32_t f = factor_;
    const auto splat = [](double c) {
        const auto v = static_cast<float>(c);
        return Vec4{v, v, v, v};
    };

    // Accurate design. Prototype lowpass at the oversampled rate: h[j] = sinc((j - c) / F)
    // * kaiser(j), j = 0 .. F T, centred on c = F T / 2. Phase p takes taps j = F k + p: the
    // fractional delay T / 2 - p / F input samples. (Phase 0 is the delayed sample itself.)
    {
        const std::uint32_t length = f * taps_per_phase;  // the prototype has length + 1 taps
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

    // Reference design: a 49-tap prototype h[j] = sinc((j - 24) / F) * hann(j), j = 0 .. 48,
    // hann(j) = (1 - cos(2 pi j / 48)) / 2, split into F phases of 48 / F taps, left
    // unnormalised as such meters leave it. Its own latency is 24 / F frames; its taps are
    // shifted by latency_ - 24 / F so that both designs estimate the same points.
    {
        constexpr std::uint32_t length = 48;
        ref_begin_ = latency_ - length / 2 / f;
        ref_end_ = ref_begin_ + length / f;
        for (std::uint32_t j = 1; j < length; ++j) {
            const std::uint32_t p = j % f;
            if (p == 0) continue;  // the sinc's zeros, and phase 0's centre tap (the sample)
            const double arg = pi_d * (static_cast<double>(j) - 0.5 * length) / static_cast<double>(f);
            const double window = 0.5 * (1.0 - std::cos(2.0 * pi_d * static_cast<double>(j) / length));
            ref_[p - 1][j / f + ref_begin_] = splat(std::sin(arg) / arg * window);
        }
    }
}

template <std::uint32_t phases, bool accurate, bool reference>
void TruePeakDetector::run(const float* in, float* peaks, std::uint32_t frames) noexcept {
    constexpr std::uint32_t h = history_length;
    constexpr std::uint32_t lag = taps_per_phase / 2;
    constexpr std::uint32_t ref_lo = lag - 24 / (phases + 1), ref_hi = ref_lo + 48 / (phases + 1);
    // buf[h + i] is in[i]; three spare zeros let the last group of four read past the block.
    float buf[h + block_frames + 3];
    while (frames > 0) {
        const std::uint32_t n = std::min(frames, block_frames);
        std::memcpy(buf, history_.data(), h * sizeof(float));
        std::memcpy(buf + h, in, n * sizeof(float));
        buf[h + n] = buf[h + n + 1] = buf[h + n + 2] = 0.0f;
        for (std::uint32_t i = 0; i < n; i += 4) {
            const float* x = buf + h + i;  // x[-k .. 3 - k]: inputs k back from outputs i .. i + 3
            // One accumulator per phase and design, named rather than in an array so that they
            // stay in registers at any optimisation level.
            Vec4 a0 = {0.0f, 0.0f, 0.0f, 0.0f}, a1 = a0, a2 = a0, r0 = a0, r1 = a0, r2 = a0;
            const auto load = [x](std::uint32_t k) {
                Vec4 v;
                std::memcpy(&v, x - k, sizeof v);
                return v;
            };
            const auto tap_accurate = [&](std::uint32_t k) {
                const Vec4 v = load(k);
                a0 += v * acc_[0][k];
                if constexpr (phases == 3) {
                    a1 += v * acc_[1][k];
                    a2 += v * acc_[2][k];
                }
                return v;
            };
            const auto tap_reference = [&](std::uint32_t k, Vec4 v) {
                r0 += v * ref_[0][k];
                if constexpr (phases == 3) {
                    r1 += v * ref_[1][k];
                    r2 += v * ref_[2][k];
                }
            };
            // Taps outside the reference's range exist only in the accurate design.
            if constexpr (accurate)
                for (std::uint32_t k = 0; k < ref_lo; ++k) (void)tap_accurate(k);
            for (std::uint32_t k = ref_lo; k < ref_hi; ++k) {
                if constexpr (accurate && reference)
                    tap_reference(k, tap_accurate(k));
                else if constexpr (accurate)
                    (void)tap_accurate(k);
                else
                    tap_reference(k, load(k));
            }
            if constexpr (accurate)
                for (std::uint32_t k = ref_hi; k < taps_per_phase; ++k) (void)tap_accurate(k);

            // The largest magnitude of phase 0 (the delayed sample) and of every filtered phase.
            const Vec4 phase0 = load(lag);
            float out[4];
            for (std::uint32_t l = 0; l < 4; ++l) {
                float m = std::fabs(phase0[l]);
                if constexpr (accurate) {
                    m = std::max(m, std::fabs(a0[l]));
                    if constexpr (phases == 3) m = std::max(m, std::max(std::fabs(a1[l]), std::fabs(a2[l])));
                }
                if constexpr (reference) {
                    m = std::max(m, std::fabs(r0[l]));
                    if constexpr (phases == 3) m = std::max(m, std::max(std::fabs(r1[l]), std::fabs(r2[l])));
                }
                out[l] = m;
            }
            std::memcpy(peaks + i, out, std::min(4u, n - i) * sizeof(float));
        }
        std::memcpy(history_.data(), buf + n, h * sizeof(float));
        in += n;
        peaks += n;
        frames -= n;
    }
}

void TruePeakDetector::process(const float* in, float* peaks, std::uint32_t frames) noexcept {
    if (factor_ == 1) {
        for (std::uint32_t i = 0; i < frames; ++i) peaks[i] = std::fabs(in[i]);
        return;
    }
    const bool accurate = design_ != TruePeakDesign::reference;
    const bool reference = design_ != TruePeakDesign::accurate;
    if (factor_ == 4) {
        if (accurate && reference)
            run<3, true, true>(in, peaks, frames);
        else if (accurate)
            run<3, true, false>(in, peaks, frames);
        else
            run<3, false, true>(in, peaks, frames);
    } else {
        if (accurate && reference)
            run<1, true, true>(in, peaks, frames);
        else if (accurate)
            run<1, true, false>(in, peaks, frames);
        else
            run<1, false, true>(in, peaks, frames);
    }
}

void TruePeakDetector::reset() noexcept { history_.fill(0.0f); }

}  // namespace rtmix::dsp
