#include "processors/insert.hpp"

#include <algorithm>

#include "processors/strip_params.hpp"

namespace rtmix::engine {

Insert::Insert(std::unique_ptr<Processor> processor, const ProcessorSetup& setup, std::uint16_t param_count,
               std::uint16_t first_extra, std::uint16_t extra_count, bool stereo, bool sidechain,
               std::uint32_t max_latency_frames)
    : processor_(std::move(processor)),
      param_count_(param_count),
      first_extra_(first_extra),
      extra_count_(extra_count),
      stereo_(stereo),
      max_block_frames_(setup.max_block_frames) {
    wet_.set_ramp_frames(static_cast<std::uint32_t>(setup.smoothing_ms * 1e-3 * setup.sample_rate));
    key_delay_.set_ramp_frames(static_cast<std::uint32_t>(setup.smoothing_ms * 1e-3 * setup.sample_rate));
    wet_.reset(1.0f);
    std::uint32_t ring = 1;
    while (ring < max_latency_frames + setup.max_block_frames) ring <<= 1;
    ring_mask_ = ring - 1;
    for (int c = 0; c < 2; ++c) {
        dry_[c].assign(setup.max_block_frames, 0.0f);
        if (max_latency_frames > 0) ring_[c].assign(ring, 0.0f);
    }
    if (sidechain) key_scratch_.assign(2 * static_cast<std::size_t>(setup.max_block_frames), 0.0f);
}

void Insert::apply(std::uint16_t param, std::uint8_t slot, float value) noexcept {
    if (param < param_count_) {
        processor_->apply(param, slot, value);
        return;
    }
    if (param == set_latency) {
        latency_ = std::min(static_cast<std::uint32_t>(value), ring_[0].empty() ? 0u : ring_mask_);
        return;
    }
    if (param == fade_out) {
        removing_ = true;
        update_gain();
        return;
    }
    const std::uint32_t extra = param - param_count_;
    if (extra >= extra_count_) return;
    switch (static_cast<InsertParam>(first_extra_ + extra)) {
        case InsertParam::enabled: enabled_ = value != 0.0f; break;
        case InsertParam::mix: mix_ = value; break;
    }
    update_gain();
}

void Insert::update_gain() noexcept { wet_.set_target(removing_ || !enabled_ ? 0.0f : mix_); }

std::uint32_t Insert::process(float* const* audio, std::uint32_t channels, std::uint32_t frames,
                              const float* const* key, std::uint32_t key_channels) noexcept {
    if (stereo_ && channels == 1) std::copy_n(audio[0], frames, audio[1]);
    const std::uint32_t out_channels = stereo_ ? 2 : channels;
    const bool blend = wet_.moving() || wet_.current() != 1.0f;
    const bool delayed = !ring_[0].empty();
    if (blend || delayed)
        for (std::uint32_t c = 0; c < out_channels; ++c) std::copy_n(audio[c], frames, dry_[c].data());
    if (key != nullptr && key_scratch_.empty()) key = nullptr;  // a kind without a sidechain
    if (key != nullptr) {
        // The key, copied from the source's tap and delayed to meet this insert's input.
        float* aligned[2] = {key_scratch_.data(), key_scratch_.data() + max_block_frames_};
        for (std::uint32_t c = 0; c < 2; ++c) std::copy_n(key[c < key_channels ? c : 0], frames, aligned[c]);
        key_delay_.process(aligned, frames);
        key_view_[0] = aligned[0];
        key_view_[1] = aligned[1];
        key = key_view_;
        key_channels = 2;
    }
    processor_->process({audio, out_channels, frames, key, key_channels});
    if (delayed) {
        // The dry signal through the latency ring: written always, so that a crossfade starts
        // from the real recent input.
        const std::uint32_t w = write_;
        for (std::uint32_t c = 0; c < out_channels; ++c) {
            float* ring = ring_[c].data();
            float* dry = dry_[c].data();
            for (std::uint32_t i = 0; i < frames; ++i) ring[(w + i) & ring_mask_] = dry[i];
            for (std::uint32_t i = 0; i < frames; ++i) dry[i] = ring[(w + i - latency_) & ring_mask_];
        }
        if (out_channels == 1) {  // keep the other side's ring in step for a later stereo run
            float* ring = ring_[1].data();
            for (std::uint32_t i = 0; i < frames; ++i) ring[(w + i) & ring_mask_] = dry_[0][i];
        }
        write_ = (w + frames) & ring_mask_;
    }
    if (!blend) return out_channels;
    const float* dry[2] = {dry_[0].data(), dry_[1].data()};
    if (!wet_.moving()) {
        const float g = wet_.current();
        for (std::uint32_t c = 0; c < out_channels; ++c)
            for (std::uint32_t i = 0; i < frames; ++i) audio[c][i] = dry[c][i] + g * (audio[c][i] - dry[c][i]);
        return out_channels;
    }
    // One ramp for every channel. Where it ends at 1, the processor's output as it is (as in the
    // runs that follow).
    for (std::uint32_t i = 0; i < frames; ++i) {
        const float g = wet_.next();
        if (g == 1.0f) continue;
        for (std::uint32_t c = 0; c < out_channels; ++c) audio[c][i] = dry[c][i] + g * (audio[c][i] - dry[c][i]);
    }
    return out_channels;
}

void Insert::reset() noexcept {
    processor_->reset();
    for (auto& r : ring_) std::fill(r.begin(), r.end(), 0.0f);
    wet_.reset(wet_.target());
    key_delay_.settle();
}

}  // namespace rtmix::engine
