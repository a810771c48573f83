#include "dsp/pitch_detect.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace rtmix::dsp {

void MirrorRing::allocate(std::uint32_t min_size) {
    size_ = 1;
    while (size_ < min_size) size_ <<= 1;
    mask_ = size_ - 1;
    data_.assign(2 * static_cast<std::size_t>(size_), 0.0f);
    count_ = 0;
}

void MirrorRing::clear() noexcept {
    std::fill(data_.begin(), data_.end(), 0.0f);
    count_ = 0;
}

float squared_difference(const float* a, const float* b, std::uint32_t n) noexcept {
    // Two 4-lane accumulators (GCC/Clang vector extensions: SSE on x86-64's baseline), lane k of
    // the pair summing the elements i with i % 8 == k.
    using v4 = float __attribute__((vector_size(16)));
    v4 lo = {0, 0, 0, 0}, hi = {0, 0, 0, 0};
    std::uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4 a0, a1, b0, b1;
        std::memcpy(&a0, a + i, sizeof a0);
        std::memcpy(&a1, a + i + 4, sizeof a1);
        std::memcpy(&b0, b + i, sizeof b0);
        std::memcpy(&b1, b + i + 4, sizeof b1);
        const v4 d0 = a0 - b0, d1 = a1 - b1;
        lo += d0 * d0;
        hi += d1 * d1;
    }
    float acc[8] = {lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]};
    for (std::uint32_t k = 0; i < n; ++i, ++k) {
        const float d = a[i] - b[i];
        acc[k] += d * d;
    }
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

namespace {

constexpr float dip_threshold = 0.15f;   // the first dip of d' below this is the period
constexpr float voiced_on = 0.15f;       // d' at the period: voiced below this...
constexpr float voiced_hold = 0.25f;     // ...and stays voiced below this
constexpr float silence_rms = 1e-3f;     // -60 dBFS

}  // namespace

void PitchDetector::prepare(double fs, double max_period) {
    fs_ = fs;
    decim_ = static_cast<std::uint32_t>(std::max(1.0, std::round(fs / 12000.0)));
    const double fsd = fs / decim_;
    // 4th-order Butterworth lowpass at fsd / 4 (bilinear transform), two sections.
    const double k = std::tan(std::numbers::pi * 0.25 * fsd / fs);
    const double qs[2] = {0.54119610014619698, 1.3065629648763766};
    for (int s = 0; s < 2; ++s) {
        const double norm = 1.0 / (1.0 + k / qs[s] + k * k);
        lp_[s].b0 = static_cast<float>(k * k * norm);
        lp_[s].b1 = static_cast<float>(2.0 * k * k * norm);
        lp_[s].b2 = lp_[s].b0;
        lp_[s].a1 = static_cast<float>(2.0 * (k * k - 1.0) * norm);
        lp_[s].a2 = static_cast<float>((1.0 - k / qs[s] + k * k) * norm);
    }
    max_period_ = static_cast<std::uint32_t>(std::ceil(max_period));
    max_lag_d_ = max_period_ / decim_ + 2;
    low_.allocate(2 * max_lag_d_ + 8);
    d_.assign(max_lag_d_ + 2, 0.0f);
    dn_.assign(max_lag_d_ + 2, 1.0f);
    reset();
}

void PitchDetector::reset() noexcept {
    for (Biquad& b : lp_) b.z1 = b.z2 = 0.0f;
    phase_ = 0;
    low_.clear();
}

void PitchDetector::push(float x) noexcept {
    const float y = lp_[1].run(lp_[0].run(x));
    if (++phase_ >= decim_) {
        phase_ = 0;
        // Tiny values become 0, so a decaying filter never runs through subnormal numbers.
        low_.push(std::abs(y) < 1e-20f ? 0.0f : y);
    }
}

PitchEstimate PitchDetector::analyse(const MirrorRing& full, std::uint64_t wanted, float min_hz, float max_hz,
                                     bool was_voiced) noexcept {
    PitchEstimate out;
    const double fsd = fs_ / decim_;
    if (!(min_hz < max_hz)) std::swap(min_hz, max_hz);  // automation may cross them
    // 1. Coarse: decimated lags 1 ... pmax over a window of pmax samples.
    const std::uint32_t pmax =
        std::min(max_lag_d_, static_cast<std::uint32_t>(std::ceil(fsd / static_cast<double>(min_hz))) + 2);
    const std::uint32_t pmin = std::max<std::uint32_t>(2, static_cast<std::uint32_t>(fsd / static_cast<double>(max_hz)) - 1);
    if (pmin + 2 >= pmax) return out;
    const std::uint32_t w = pmax;
    const std::uint64_t end = low_.count();
    const float* win = low_.at(end - w);
    float energy = 0.0f;
    {
        float acc[8] = {};
        for (std::uint32_t i = 0; i < w; ++i) acc[i & 7] += win[i] * win[i];
        energy = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
    if (!(energy > silence_rms * silence_rms * static_cast<float>(w))) return out;
    float running = 0.0f;
    for (std::uint32_t tau = 1; tau <= pmax; ++tau) {
        const float d = squared_difference(win, low_.at(end - w - tau), w);
        d_[tau] = d;
        running += d;
        dn_[tau] = running > 0.0f ? d * static_cast<float>(tau) / running : 1.0f;
    }
    std::uint32_t best = 0;
    for (std::uint32_t tau = pmin; tau < pmax; ++tau)
        if (dn_[tau] < dip_threshold) {
            while (tau + 1 < pmax && dn_[tau + 1] < dn_[tau]) ++tau;
            best = tau;
            break;
        }
    if (best == 0) {
        best = pmin;
        for (std::uint32_t tau = pmin + 1; tau < pmax; ++tau)
            if (dn_[tau] < dn_[best]) best = tau;
    }
    out.aperiodicity = dn_[best];
    if (!(dn_[best] < (was_voiced ? voiced_hold : voiced_on))) return out;

    // 2. Fine: full-rate lags around decim x best, over two candidate periods.
    const double coarse = static_cast<double>(best) * decim_;
    const std::uint32_t span = 2 * decim_;
    const auto lo_limit = static_cast<std::uint32_t>(std::max(2.0, std::floor(fs_ / static_cast<double>(max_hz))));
    const auto hi_limit = std::min(max_period_ + 1, static_cast<std::uint32_t>(std::ceil(fs_ / static_cast<double>(min_hz))) + 1);
    const auto centre = static_cast<std::uint32_t>(coarse);
    const std::uint32_t lo = std::max(lo_limit, centre > span ? centre - span : 1u);
    const std::uint32_t hi = std::min(hi_limit, centre + span);
    if (lo + 2 > hi) return out;
    const std::uint32_t fw = std::clamp<std::uint32_t>(static_cast<std::uint32_t>(2.0 * coarse), 32, 2 * max_period_);
    const std::uint64_t fend = std::min<std::uint64_t>(wanted + static_cast<std::uint64_t>(2.5 * coarse), full.count());
    float dmin = 0.0f, dprev = 0.0f, dnext = 0.0f;
    std::uint32_t tmin = 0;
    float last = 0.0f;
    for (std::uint32_t tau = lo; tau <= hi; ++tau) {
        const float d = squared_difference(full.at(fend - fw), full.at(fend - fw - tau), fw);
        if (tmin == 0 || d < dmin) {
            tmin = tau;
            dmin = d;
            dprev = last;
            dnext = -1.0f;
        } else if (tau == tmin + 1) {
            dnext = d;
        }
        last = d;
    }
    if (tmin == lo || tmin == hi || dnext < 0.0f) return out;  // no minimum inside the range: not a period
    double period = tmin;
    const double den = static_cast<double>(dprev) - 2.0 * dmin + dnext;
    if (den > 0.0) period += 0.5 * (static_cast<double>(dprev) - dnext) / den;
    if (period < fs_ / max_hz || period > fs_ / min_hz) return out;
    out.voiced = true;
    out.period = period;
    return out;
}

}  // namespace rtmix::dsp
