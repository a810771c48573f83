// Stereo delay effect for return buses: one delay line per channel with feedback, a one-pole
// lowpass in the feedback path (`damping`, each repeat a little darker) and a dry/wet mix.
// A change of `time_ms` glides the read position (tape-style) instead of jumping, so moving
// the time never clicks.
//
// Threads: the constructor allocates (control thread); set(), process(), reset() are wait-free,
// never allocate and are meant for the audio thread.
#pragma once

#include <cstdint>

#include "dsp/param_range.hpp"

namespace rtmix::dsp {

enum class DelayParam : std::uint8_t { time_ms, feedback, damping, mix };

constexpr ParamRange delay_range(DelayParam p) noexcept {
    switch (p) {
        case DelayParam::time_ms: return {1.0f, 2000.0f, 375.0f};  // milliseconds
        case DelayParam::feedback: return {0.0f, 0.95f, 0.35f};    // linear gain of each repeat
        case DelayParam::damping: return {0.0f, 1.0f, 0.3f};       // 0 = repeats stay bright
        case DelayParam::mix: return {0.0f, 1.0f, 1.0f};           // 0 = dry, 1 = wet only
    }
    return {0.0f, 0.0f, 0.0f};
}

class StereoDelay {
public:
    /// Allocates the delay memory for the longest time at `sample_rate` (control thread).
    explicit StereoDelay(double sample_rate);
    ~StereoDelay();
    StereoDelay(const StereoDelay&) = delete;
    StereoDelay& operator=(const StereoDelay&) = delete;

    /// Sets one parameter; `value` is already inside delay_range(). Wait-free, audio thread.
    void set(DelayParam param, float value) noexcept;

    /// Processes one stereo block in place. Wait-free, audio thread.
    void process(float* left, float* right, std::uint32_t frames) noexcept;

    /// Clears the delay lines. Wait-free.
    void reset() noexcept;

private:
    struct Impl;
    Impl* impl_;
};

}  // namespace rtmix::dsp
