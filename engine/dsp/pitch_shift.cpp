#include "dsp/pitch_shift.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace rtmix::dsp {

std::uint32_t PsolaShifter::latency_for(double fs, double min_hz) noexcept {
    return static_cast<std::uint32_t>(std::ceil(fs / (2.0 * min_hz))) + 8;
}

void PsolaShifter::prepare(double fs, double max_period, std::uint32_t latency) {
    latency_ = latency;
    max_period_ = max_period;
    default_period_ = std::round(fs * 0.005);
    for (std::uint32_t i = 0; i <= table_size + 1; ++i) {
        const double u = std::min(1.0, static_cast<double>(i) / table_size);
        hann_[i] = static_cast<float>(0.5 + 0.5 * std::cos(std::numbers::pi * u));
    }
    reset();
}

void PsolaShifter::reset() noexcept {
    for (Grain& g : grains_) g.live = false;
    period_ = default_period_;
    ratio_ = 1.0;
    active_ = false;
    last_s_ = -static_cast<double>(latency_) - period_;
    grid_valid_ = false;
}

double PsolaShifter::next_half() const noexcept {
    return active_ && !formants_ ? period_ / ratio_ : period_;
}

double PsolaShifter::spacing() const noexcept { return active_ ? period_ / ratio_ : period_; }

void PsolaShifter::spawn() noexcept {
    // The oldest free slot; if every slot were taken (it never is: at most about 2 r + 1 grains
    // overlap) the one that ends first gives way.
    Grain* slot = nullptr;
    for (Grain& g : grains_)
        if (!g.live) {
            slot = &g;
            break;
        }
    if (slot == nullptr) {
        slot = &grains_[0];
        for (Grain& g : grains_)
            if (g.s + g.half < slot->s + slot->half) slot = &g;
    }
    Grain& g = *slot;
    // The period and ratio now set both this grain's distance from the last one and the grid
    // step, so that at r = 1 the analysis marks are the synthesis marks however T moves.
    const double t = period_;
    const double s = last_s_ + spacing();
    last_s_ = s;
    g.s = s;
    g.live = true;
    if (!active_) {
        grid_valid_ = false;
        g.a = s;
        g.half = t;
        g.rate = 1.0;
        g.gain = 1.0f;
        return;
    }
    if (!grid_valid_) {
        grid_ = s;
        grid_valid_ = true;
    } else {
        grid_ += t * std::round((s - grid_) / t);  // the grid mark nearest to s
    }
    g.a = grid_;
    if (formants_) {
        g.half = t;
        g.rate = 1.0;
        g.gain = static_cast<float>(1.0 / std::sqrt(ratio_));
    } else {
        g.half = t / ratio_;
        g.rate = ratio_;
        g.gain = 1.0f;
    }
}

float PsolaShifter::read(const MirrorRing& in, double q) const noexcept {
    const auto newest = static_cast<double>(in.count()) - 1.0;
    q = std::clamp(q, newest - static_cast<double>(in.size()) + 3.0, newest - 2.0);
    const double fl = std::floor(q);
    const auto f = static_cast<float>(q - fl);
    const float* x = in.at(static_cast<std::uint64_t>(static_cast<std::int64_t>(fl) - 1));
    // Catmull-Rom through x[0] ... x[3], between x[1] and x[2].
    return x[1] + 0.5f * f * (x[2] - x[0] + f * (2.0f * x[0] - 5.0f * x[1] + 4.0f * x[2] - x[3] +
                                                   f * (3.0f * (x[1] - x[2]) + x[3] - x[0])));
}

float PsolaShifter::next(const MirrorRing& in) noexcept {
    const double p = static_cast<double>(in.count()) - 1.0 - latency_;
    while (last_s_ + spacing() - next_half() <= p) spawn();
    float out = 0.0f;
    for (Grain& g : grains_) {
        if (!g.live) continue;
        const double from_centre = p - g.s;
        const double u = std::abs(from_centre) / g.half;
        if (u >= 1.0) {
            if (from_centre > 0.0) g.live = false;
            continue;
        }
        const double pos = u * table_size;
        const auto i = static_cast<std::uint32_t>(pos);
        const auto frac = static_cast<float>(pos - i);
        const float w = hann_[i] + frac * (hann_[i + 1] - hann_[i]);
        out += g.gain * w * read(in, g.a + from_centre * g.rate);
    }
    return out;
}

}  // namespace rtmix::dsp
