// Decibel and time-constant conversions shared by the DSP code.
// All functions are pure, noexcept and safe on the audio thread.
#pragma once

#include <cmath>

namespace rtmix::dsp {

/// Linear amplitude of a level in decibels (0 dB -> 1.0).
inline float db_to_gain(float db) noexcept { return std::exp2(db * 0.16609640474436813f); }

/// Level in decibels of a linear amplitude; `floor_db` for silence.
inline float gain_to_db(float gain, float floor_db = -200.0f) noexcept {
    return gain > 0.0f ? 6.020599913279624f * std::log2(gain) : floor_db;
}

/// Coefficient `a` of the one-pole smoother y += (1 - a) * (x - y) whose step response
/// reaches 1 - 1/e of the way in `time_ms` milliseconds.
inline float one_pole_coefficient(float time_ms, double sample_rate) noexcept {
    if (time_ms <= 0.0f) return 0.0f;
    return static_cast<float>(std::exp(-1000.0 / (static_cast<double>(time_ms) * sample_rate)));
}

constexpr float pi = 3.14159265358979323846f;

}  // namespace rtmix::dsp
