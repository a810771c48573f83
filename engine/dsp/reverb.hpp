// Algorithmic stereo reverb for return buses: an 8-line feedback delay network.
//
// Signal flow: stereo in -> predelay -> input diffusion (short allpasses) -> 8 delay lines mixed
// through an orthogonal (Hadamard) feedback matrix; each line has a one-pole damping lowpass and
// a gain chosen so that the line's energy falls 60 dB in `decay_s` seconds (the RT60 at low
// frequencies); stereo output taps -> DC blocker -> width (mid/side) -> dry/wet mix.
// The idea follows Jot & Chaigne (1991), "Digital delay networks for designing artificial
// reverberators".
//
// Threads: the constructor allocates every buffer (control thread). set(), process() and reset()
// are wait-free, never allocate and are meant for the audio thread.
#pragma once

#include <cstdint>

#include "dsp/param_range.hpp"

namespace rtmix::dsp {

enum class ReverbParam : std::uint8_t { decay_s, predelay_ms, damping, size, width, mix };

/// Range and default of each reverb parameter (the engine validates against these).
constexpr ParamRange reverb_range(ReverbParam p) noexcept {
    switch (p) {
        case ReverbParam::decay_s: return {0.1f, 30.0f, 2.0f};       // RT60, seconds
        case ReverbParam::predelay_ms: return {0.0f, 500.0f, 20.0f};  // milliseconds
        case ReverbParam::damping: return {0.0f, 1.0f, 0.5f};         // 0 = bright, 1 = dark
        case ReverbParam::size: return {0.0f, 1.0f, 0.7f};            // scales the delay lengths
        case ReverbParam::width: return {0.0f, 1.0f, 1.0f};           // 0 = mono, 1 = full stereo
        case ReverbParam::mix: return {0.0f, 1.0f, 1.0f};             // 0 = dry, 1 = wet only
    }
    return {0.0f, 0.0f, 0.0f};
}

class Reverb {
public:
    /// Allocates all delay memory for `sample_rate` (control thread).
    explicit Reverb(double sample_rate);
    ~Reverb();
    Reverb(const Reverb&) = delete;
    Reverb& operator=(const Reverb&) = delete;

    /// Sets one parameter; `value` is already inside reverb_range(). Wait-free, audio thread.
    /// Changes are smoothed: no clicks when parameters move while audio runs.
    void set(ReverbParam param, float value) noexcept;

    /// Processes one stereo block in place. Wait-free, audio thread.
    void process(float* left, float* right, std::uint32_t frames) noexcept;

    /// Clears all delay lines and filter states (silences the tail). Wait-free.
    void reset() noexcept;

private:
    struct Impl;
    Impl* impl_;
};

}  // namespace rtmix::dsp
