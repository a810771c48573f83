// KeyFilter: the highpass a dynamics processor's detector may listen through (`sidechain_hpf_hz`),
// so that a kick's low end does not pump a bus or a bass key a gate. A 2nd-order Butterworth
// highpass (Q = 1/sqrt 2), as a trapezoidal state-variable filter (Zavalishin), which stays
// stable when the cutoff moves. 0 Hz: off (the signal passes as it is).
//
// Threads: set(), process() and reset() are wait-free (audio thread).
#pragma once

#include <cstdint>

namespace rtmix::dsp {

class KeyFilter {
public:
    /// The cutoff in Hz (0: off), limited to 0.45 x `sample_rate`.
    void set(double sample_rate, float freq_hz) noexcept;
    bool on() const noexcept { return on_; }
    /// Filters channel `c` (0 or 1) of `frames` samples from `in` into `out` (may be the same).
    void process(std::uint32_t c, const float* in, float* out, std::uint32_t frames) noexcept;
    void reset() noexcept;

private:
    bool on_ = false;
    float a1_ = 0.0f, a2_ = 0.0f, a3_ = 0.0f, k_ = 0.0f;
    float ic1_[2] = {0.0f, 0.0f}, ic2_[2] = {0.0f, 0.0f};
};

}  // namespace rtmix::dsp
