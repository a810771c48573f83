// DelayBuffer: a power-of-two circular buffer of samples with whole and fractional reads, and
// flush_denormal() for the states that recirculate through it. Shared by the reverb and the
// stereo delay.
//
// Threads: allocate() allocates (control thread); everything else is wait-free (audio thread).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtmix::dsp {

/// Adding and removing a tiny constant turns a subnormal value into zero and leaves normal audio
/// unchanged, so decaying feedback states never fall into slow subnormal arithmetic.
inline float flush_denormal(float x) noexcept {
    constexpr float tiny = 1e-18f;
    return (x + tiny) - tiny;
}

struct DelayBuffer {
    std::vector<float> data;
    std::uint32_t mask = 0;
    std::uint32_t write = 0;

    /// Room for reads up to `max_delay_frames` (plus one for interpolation). Control thread.
    void allocate(std::size_t max_delay_frames) {
        std::size_t size = 1;
        while (size < max_delay_frames + 2) size <<= 1;
        data.assign(size, 0.0f);
        mask = static_cast<std::uint32_t>(size - 1);
        write = 0;
    }
    void clear() noexcept {
        std::fill(data.begin(), data.end(), 0.0f);
        write = 0;
    }
    void push(float x) noexcept {
        data[write] = x;
        write = (write + 1) & mask;
    }
    /// The sample pushed `delay_frames` pushes before the last one (0: the last one), linearly
    /// interpolated between neighbours. `Frames` is float or double (for long, slow glides).
    template <class Frames>
    float read(Frames delay_frames) const noexcept {
        const auto whole = static_cast<std::uint32_t>(delay_frames);
        const auto frac = static_cast<float>(delay_frames - static_cast<Frames>(whole));
        const std::uint32_t i = write - 1 - whole;
        const float a = data[i & mask];
        const float b = data[(i - 1) & mask];
        return a + frac * (b - a);
    }
    float read_int(std::uint32_t delay_frames) const noexcept { return data[(write - 1 - delay_frames) & mask]; }
};

}  // namespace rtmix::dsp
