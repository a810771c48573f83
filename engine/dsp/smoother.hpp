// Linear parameter ramp: the smoothing every continuous control uses to avoid zipper noise.
//
// A new target starts a straight-line ramp from the current value that lasts `ramp_frames`
// samples, so the largest step between two samples is |target - current| / ramp_frames.
// All members are wait-free and safe on the audio thread.
#pragma once

#include <cstdint>

namespace rtmix::dsp {

class LinearSmoother {
public:
    /// Jumps to `value` at once (used when a strip is created or reset).
    void reset(float value) noexcept {
        current_ = target_ = value;
        step_ = 0.0f;
        remaining_ = 0;
    }

    /// Number of samples a ramp takes; at least 1.
    void set_ramp_frames(std::uint32_t frames) noexcept { ramp_frames_ = frames > 0 ? frames : 1; }

    /// Starts a ramp from the current value to `target`.
    void set_target(float target) noexcept {
        target_ = target;
        if (target_ == current_) {
            remaining_ = 0;
            step_ = 0.0f;
            return;
        }
        remaining_ = ramp_frames_;
        step_ = (target_ - current_) / static_cast<float>(ramp_frames_);
    }

    /// Starts a ramp from the current value to `target` that takes `frames` samples (at least 1)
    /// instead of the usual length (automation: straight lines between its points).
    void set_target(float target, std::uint32_t frames) noexcept {
        const std::uint32_t usual = ramp_frames_;
        ramp_frames_ = frames > 0 ? frames : 1;
        set_target(target);
        ramp_frames_ = usual;
    }

    /// Value of the next sample. Computed from the target rather than accumulated, so rounding
    /// never piles up into a larger final step.
    float next() noexcept {
        if (remaining_ == 0) return current_;
        --remaining_;
        current_ = target_ - step_ * static_cast<float>(remaining_);
        return current_;
    }

    /// True while a ramp is under way.
    bool moving() const noexcept { return remaining_ != 0; }
    float current() const noexcept { return current_; }
    float target() const noexcept { return target_; }

    /// Writes the next `frames` values to `out`.
    void fill(float* out, std::uint32_t frames) noexcept {
        if (!moving()) {
            for (std::uint32_t i = 0; i < frames; ++i) out[i] = current_;
            return;
        }
        for (std::uint32_t i = 0; i < frames; ++i) out[i] = next();
    }

    /// Multiplies `frames` samples of `buffer` by the ramp, in place.
    void apply(float* buffer, std::uint32_t frames) noexcept {
        if (!moving()) {
            const float g = current_;
            if (g == 1.0f) return;
            for (std::uint32_t i = 0; i < frames; ++i) buffer[i] *= g;
            return;
        }
        for (std::uint32_t i = 0; i < frames; ++i) buffer[i] *= next();
    }

private:
    float current_ = 0.0f;
    float target_ = 0.0f;
    float step_ = 0.0f;
    std::uint32_t remaining_ = 0;
    std::uint32_t ramp_frames_ = 1;
};

}  // namespace rtmix::dsp
