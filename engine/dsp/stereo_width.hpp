// Stereo width in mid/side: M = (L + R) / 2, S = (L - R) / 2, then L = gm M + gs S,
// R = gm M - gs S with gm = 10^(mid_db / 20) and gs = width 10^(side_db / 20). Width 0 folds the
// image to mono (L = R exactly), 1 leaves it as it is, 2 doubles the side. The two gains ramp
// linearly over the smoothing time. While both stand at exactly 1 (width 1, 0 dB, 0 dB) the
// signal is not touched at all: the identity is exact, not merely (L + R) / 2 + (L - R) / 2. A
// mono signal is all mid: only the mid gain applies.
//
// Cost: about 0.1 ns per frame at rest (nothing done), about 1 ns per stereo frame otherwise.
//
// Threads: prepare() on the control side; set(), process() on the audio thread, wait-free.
#pragma once

#include <cstdint>

#include "dsp/smoother.hpp"

namespace rtmix::dsp {

class StereoWidth {
public:
    void prepare(double sample_rate, float smoothing_ms) noexcept;
    void set(float width, float mid_db, float side_db) noexcept;
    void process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept;
    /// Ends the ramps: the gains stand at their targets (it has no other state).
    void settle() noexcept {
        mid_.reset(mid_.target());
        side_.reset(side_.target());
    }

private:
    LinearSmoother mid_, side_;
};

}  // namespace rtmix::dsp
