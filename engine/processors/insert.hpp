// Insert: one processor in a strip's insert list, with what every insert has around its
// processor: `enabled` (unless the processor has its own), `mix` (dry/wet, for kinds with
// ProcessorInfo::wet_dry), a dry path delayed by the processor's latency (so that bypassing or
// mixing never shifts time), and the fade that takes it out of the mix when it is removed.
//
// Signal: wet = the processor's output; dry = the input delayed by the processor's latency;
// out = dry + g (wet - dry), g = enabled x mix x (not being removed), ramped over the smoothing
// time. While g is exactly 1 the output is the processor's output bit for bit, and no dry copy is
// made. The processor runs whatever g is, so its state is current when it is switched back on.
// A stereo kind on a mono signal gets the signal on both sides and leaves stereo.
//
// Messages (ParamChange::param): the processor's parameters (0 ... param_count - 1), then the
// insert's own (insert_params() from `first_extra`), then the commands below.
//
// Threads: constructor on the control side (allocates); the rest on the audio thread, wait-free.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dsp/smoother.hpp"
#include "processors/compensation.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

class Insert final : public RtObject {
public:
    /// Commands of the engine (ParamChange::param).
    static constexpr std::uint16_t set_latency = 0xFFFE;  ///< value: the processor's latency in frames
    static constexpr std::uint16_t fade_out = 0xFFFF;     ///< removal: g ramps to 0 (dry)

    /// `param_count`: the processor's parameters (all groups); `first_extra`, `extra_count`: which
    /// of insert_params() the insert adds; `stereo`, `sidechain`: as its ProcessorInfo says;
    /// `max_latency_frames`: the longest delay its dry path needs.
    Insert(std::unique_ptr<Processor> processor, const ProcessorSetup& setup, std::uint16_t param_count,
           std::uint16_t first_extra, std::uint16_t extra_count, bool stereo, bool sidechain,
           std::uint32_t max_latency_frames);

    Processor& processor() noexcept { return *processor_; }
    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override;
    /// Processes `channels` (1 or 2) of `audio` in place; returns the channels it leaves (2 for a
    /// stereo kind). `key`: the sidechain source's tap, or null; the insert aligns it with its own
    /// signal (key_delay()) before its processor listens to it.
    std::uint32_t process(float* const* audio, std::uint32_t channels, std::uint32_t frames,
                          const float* const* key = nullptr, std::uint32_t key_channels = 0) noexcept;
    /// Back to rest (Processor::reset()): the processor and the dry path cleared, the dry/wet
    /// ramp and the key's alignment at their targets.
    void reset() noexcept;
    /// The delay that aligns the sidechain key with the insert's signal (set by the render plan).
    CompensationDelay& key_delay() noexcept { return key_delay_; }

private:
    void update_gain() noexcept;

    std::unique_ptr<Processor> processor_;
    std::uint16_t param_count_, first_extra_, extra_count_;
    bool stereo_;
    bool enabled_ = true;
    float mix_ = 1.0f;
    bool removing_ = false;
    dsp::LinearSmoother wet_;
    // The dry path: the input of this run (for the crossfade), and a ring per channel that
    // delays it by the processor's latency.
    std::vector<float> dry_[2];
    std::vector<float> ring_[2];
    std::uint32_t ring_mask_ = 0, write_ = 0, latency_ = 0;
    // The sidechain key, aligned: 2 x max_block_frames.
    CompensationDelay key_delay_;
    std::vector<float> key_scratch_;
    const float* key_view_[2] = {nullptr, nullptr};
    std::uint32_t max_block_frames_;
};

/// Channels after an insert of `info` that receives `channels`.
inline std::uint32_t channels_after(const ProcessorInfo& info, std::uint32_t channels) noexcept {
    return info.stereo ? 2 : channels;
}

}  // namespace rtmix::engine
