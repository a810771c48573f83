#include "dsp/pitch_correct.hpp"

#include <algorithm>
#include <cmath>

namespace rtmix::dsp {

void PitchCorrector::prepare(double fs) {
    fs_ = fs;
    latency_ = latency_frames(fs);
    hop_ = static_cast<std::uint32_t>(std::max(16.0, std::round(fs / 375.0)));
    const double max_period = fs / lowest_hz;
    // The input: the detector's fine window (2 periods over lags up to a period, ending up to L
    // ahead of the output) and the shifter's reads (resampling grains reach back about 3 periods).
    in_.allocate(static_cast<std::uint32_t>(4.0 * max_period) + latency_ + 64);
    detector_.prepare(fs, max_period);
    shifter_.prepare(fs, max_period, latency_);
    fade_step_ = static_cast<float>(1.0 / std::max(1.0, std::round(fs * 0.005)));
    set(s_);
    reset();
}

void PitchCorrector::set(const PitchSettings& s) noexcept {
    s_ = s;
    auto clampf = [](float v, float lo, float hi) { return v >= lo ? (v <= hi ? v : hi) : lo; };  // NaN: lo
    s_.key = std::min<std::uint32_t>(s.key, 11);
    s_.scale = std::min<std::uint32_t>(s.scale, static_cast<std::uint32_t>(scales.size() - 1));
    s_.a4_hz = clampf(s.a4_hz, 400.0f, 480.0f);
    s_.speed_ms = clampf(s.speed_ms, 0.0f, 200.0f);
    s_.amount = clampf(s.amount, 0.0f, 1.0f);
    s_.hold_cents = clampf(s.hold_cents, 0.0f, 100.0f);
    s_.min_hz = clampf(s.min_hz, static_cast<float>(lowest_hz), 1200.0f);
    s_.max_hz = clampf(s.max_hz, static_cast<float>(lowest_hz), 1200.0f);
    s_.transpose = clampf(s.transpose, -12.0f, 12.0f);
    mask_ = scale_mask(s_.key, s_.scale, s.notes);
    if (mask_ == 0) mask_ = 0xFFF;  // an empty set (refused before it gets here) corrects to semitones
}

void PitchCorrector::reset() noexcept {
    in_.clear();
    detector_.reset();
    shifter_.reset();
    hop_phase_ = 0;
    voiced_ = false;
    target_ = -1;
    correction_ = 0.0;
    period_ = 0.0;
    detected_hz_ = 0.0f;
    fade_ = 0.0f;
}

void PitchCorrector::analyse() noexcept {
    const auto newest = static_cast<std::int64_t>(in_.count()) - 1;
    const std::int64_t wanted = std::max<std::int64_t>(0, newest - latency_ + hop_ / 2);
    const PitchEstimate e =
        detector_.analyse(in_, static_cast<std::uint64_t>(wanted), s_.min_hz, s_.max_hz, voiced_);
    if (!e.voiced) {
        voiced_ = false;
        target_ = -1;
        correction_ = 0.0;
        detected_hz_ = 0.0f;
        shifter_.set_voice(false, 0.0, 1.0, s_.formants);
        return;
    }
    if (!voiced_) correction_ = 0.0;  // a voice starts uncorrected, then glides at the speed
    voiced_ = true;
    period_ = e.period;
    detected_hz_ = static_cast<float>(fs_ / e.period);
    const double m = 69.0 + 12.0 * std::log2(fs_ / (e.period * s_.a4_hz));
    // The nearest note of the scale.
    const auto base = static_cast<int>(std::floor(m + 0.5));
    int best = -1;
    double best_distance = 1e9;
    for (int k = -6; k <= 6; ++k) {
        const int n = base + k;
        if ((mask_ >> (((n % 12) + 12) % 12) & 1) == 0) continue;
        const double d = std::abs(m - n);
        if (d < best_distance) {
            best_distance = d;
            best = n;
        }
    }
    const bool keep = target_ >= 0 && (mask_ >> (target_ % 12) & 1) != 0 &&
                      std::abs(m - target_) <= best_distance + s_.hold_cents / 100.0;
    if (!keep) target_ = best;
    const double wanted_cents = s_.amount * 100.0 * (target_ - m);
    const double alpha = s_.speed_ms > 0.0f ? 1.0 - std::exp(-static_cast<double>(hop_) / (s_.speed_ms * 1e-3 * fs_)) : 1.0;
    correction_ += alpha * (wanted_cents - correction_);
    const double ratio = std::exp2((correction_ + 100.0 * s_.transpose) / 1200.0);
    shifter_.set_voice(true, e.period, ratio, s_.formants);
}

void PitchCorrector::process(float* audio, std::uint32_t frames) noexcept {
    for (std::uint32_t i = 0; i < frames; ++i) {
        const float x = audio[i];
        in_.push(x);
        detector_.push(x);
        if (++hop_phase_ >= hop_) {
            hop_phase_ = 0;
            analyse();
        }
        const float wet = shifter_.next(in_);
        const float dry = *in_.at(in_.count() - 1 - latency_);
        if (voiced_) fade_ = std::min(1.0f, fade_ + fade_step_);
        else fade_ = std::max(0.0f, fade_ - fade_step_);
        audio[i] = fade_ == 0.0f ? dry : dry + fade_ * (wet - dry);
    }
}

}  // namespace rtmix::dsp
