// Latency compensation on a strip's outputs: the graph delays the shorter paths into every sum
// (a bus's inputs, its sends, the master) so that everything arrives aligned. Each output of a
// strip (its main output and each send) has a CompensationDelay; the render plan says how long it
// is and hands over its memory.
//
// The memory (DelayMemory) is allocated on the control side when a compile first needs a delay on
// that output, or a longer one than the memory holds, and belongs to the model and the plans that
// use it. When the audio thread adopts a plan whose memory for an output is new, it copies the
// history of the old memory into it (bounded work: the old memory's size, once), so a longer
// delay still starts from the real recent signal. A change of length crossfades from the old tap
// to the new one over the smoothing time, as the alignment delay does: no click.
//
// Threads: DelayMemory is built on the control side. adopt() and process() run on the audio
// thread and are wait-free.
#pragma once

#include <cstdint>
#include <vector>

namespace rtmix::engine {

/// Two channels of `capacity` frames (a power of two).
struct DelayMemory {
    explicit DelayMemory(std::uint32_t frames) : capacity(frames), samples(2 * static_cast<std::size_t>(frames), 0.0f) {}
    std::uint32_t capacity;
    std::vector<float> samples;
    float* channel(std::uint32_t c) noexcept { return samples.data() + static_cast<std::size_t>(c) * capacity; }
};

/// The memory a delay of `frames` needs with blocks of up to `max_block_frames`, with room to
/// grow (a power of two).
std::uint32_t delay_memory_frames(std::uint32_t frames, std::uint32_t max_block_frames) noexcept;

class CompensationDelay {
public:
    void set_ramp_frames(std::uint32_t frames) noexcept { ramp_frames_ = frames > 0 ? frames : 1; }
    /// Takes `memory` (which holds at least `frames` plus a block) and delays by `frames` from the
    /// next process() on. Null memory with 0 frames: nothing to do, as before any latency.
    void adopt(DelayMemory* memory, std::uint32_t frames) noexcept;
    /// Delays two channels of `frames` frames in place (nothing to do, inline, while no latency
    /// has ever needed it).
    void process(float* const* audio, std::uint32_t frames) noexcept {
        if (memory_ != nullptr) run(audio, frames);
    }
    std::uint32_t frames() const noexcept { return delay_; }
    /// Ends a crossfade under way: the delay stands at its length (nothing has sounded yet).
    void settle() noexcept {
        old_delay_ = delay_;
        xfade_done_ = ramp_frames_;
    }

private:
    void run(float* const* audio, std::uint32_t frames) noexcept;

    DelayMemory* memory_ = nullptr;
    std::uint32_t write_ = 0;
    std::uint32_t delay_ = 0, old_delay_ = 0;
    std::uint32_t ramp_frames_ = 1;
    std::uint32_t xfade_done_ = 1;  // == ramp_frames_ when no crossfade runs
};

}  // namespace rtmix::engine
