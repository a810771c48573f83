#include "processors/compensation.hpp"

#include <algorithm>

namespace rtmix::engine {

namespace {

// A ring's frames [from, from + n) as at most two contiguous pieces: copies instead of a masked
// index per sample.
void write_ring(float* ring, std::uint32_t mask, std::uint32_t from, const float* x, std::uint32_t n) noexcept {
    const std::uint32_t start = from & mask, first = std::min(n, mask + 1 - start);
    std::copy_n(x, first, ring + start);
    std::copy_n(x + first, n - first, ring);
}

void read_ring(const float* ring, std::uint32_t mask, std::uint32_t from, float* x, std::uint32_t n) noexcept {
    const std::uint32_t start = from & mask, first = std::min(n, mask + 1 - start);
    std::copy_n(ring + start, first, x);
    std::copy_n(ring, n - first, x + first);
}

}  // namespace

std::uint32_t delay_memory_frames(std::uint32_t frames, std::uint32_t max_block_frames) noexcept {
    const std::uint64_t needed = 2ull * (static_cast<std::uint64_t>(frames) + max_block_frames + 1);
    std::uint32_t size = 1024;
    while (size < needed) size <<= 1;
    return size;
}

void CompensationDelay::adopt(DelayMemory* memory, std::uint32_t frames) noexcept {
    if (memory != memory_ && memory != nullptr) {
        // A larger memory: bring the history along (the frames just before write_).
        if (memory_ != nullptr) {
            const std::uint32_t old_mask = memory_->capacity - 1, new_mask = memory->capacity - 1;
            const std::uint32_t keep = std::min(memory_->capacity, memory->capacity);
            for (std::uint32_t c = 0; c < 2; ++c) {
                const float* from = memory_->channel(c);
                float* to = memory->channel(c);
                for (std::uint32_t k = 1; k <= keep; ++k) to[(write_ - k) & new_mask] = from[(write_ - k) & old_mask];
            }
        }
        memory_ = memory;
    }
    if (memory_ == nullptr) frames = 0;
    frames = std::min(frames, memory_ != nullptr ? memory_->capacity / 2 : 0u);
    if (frames == delay_) return;
    // Crossfade from where the output is now (the old tap, or the blend under way) to the new tap.
    old_delay_ = xfade_done_ < ramp_frames_ && xfade_done_ * 2 < ramp_frames_ ? old_delay_ : delay_;
    delay_ = frames;
    xfade_done_ = 0;
}

void CompensationDelay::run(float* const* audio, std::uint32_t frames) noexcept {
    const std::uint32_t mask = memory_->capacity - 1;
    const std::uint32_t w = write_;
    for (std::uint32_t c = 0; c < 2; ++c) write_ring(memory_->channel(c), mask, w, audio[c], frames);
    write_ = w + frames;
    const bool fading = xfade_done_ < ramp_frames_;
    if (delay_ == 0 && !fading) return;
    const float inv_ramp = 1.0f / static_cast<float>(ramp_frames_);
    for (std::uint32_t c = 0; c < 2; ++c) {
        const float* ring = memory_->channel(c);
        float* x = audio[c];
        if (!fading) {
            read_ring(ring, mask, w - delay_, x, frames);
            continue;
        }
        for (std::uint32_t i = 0; i < frames; ++i) {
            // Once the crossfade is over, the new tap as it is (as in the blocks that follow).
            const std::uint32_t done = xfade_done_ + i;
            const float old_tap = ring[(w + i - old_delay_) & mask];
            const float new_tap = ring[(w + i - delay_) & mask];
            x[i] = done >= ramp_frames_ ? new_tap : old_tap + static_cast<float>(done) * inv_ramp * (new_tap - old_tap);
        }
    }
    if (fading) xfade_done_ = std::min(xfade_done_ + frames, ramp_frames_);
}

}  // namespace rtmix::engine
