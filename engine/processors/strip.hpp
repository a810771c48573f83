// Strip: the DSP state and processing of one channel strip (a track, a bus or the master).
//
// Order of processing: input trim and polarity -> alignment delay -> pre-inserts -> EQ ->
// compressor -> post-inserts -> [pre-fader send taps] -> fader -> pan/balance -> mute ->
// [post-fader send taps] -> output, then meters. A mono track is mono up to the pan (or up to an
// insert with a stereo output), stereo after it. The EQ and the compressor are the strip's own
// processors (processors/eq.hpp, processors/compressor.hpp); the inserts belong to the model and
// come with the render plan (StripIo).
//
// A Strip belongs to a stable node id, not to a render plan: plans come and go as the routing
// changes, the Strip (filter memories, compressor envelope, delay line) carries on, so a reroute
// does not click.
//
// Threads: the constructor allocates (control thread). apply(), process(), publish_meter() and
// reset_meter_holds() run on the audio thread and are wait-free.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "control/meter_slot.hpp"
#include "control/param_change.hpp"
#include "dsp/smoother.hpp"
#include "processors/compensation.hpp"
#include "processors/insert.hpp"
#include "processors/strip_params.hpp"
#include "processors/compressor.hpp"
#include "processors/eq.hpp"

namespace rtmix::engine {

constexpr std::uint32_t max_sends = 16;
static_assert((max_sends & (max_sends - 1)) == 0, "send slots are masked");
/// What latency compensation can delay in a strip: its main output, one output per send slot,
/// and a track's input (when a sidechain into it comes later than its own signal).
constexpr std::uint32_t output_edge = 0;
constexpr std::uint32_t send_edge(std::uint32_t slot) noexcept { return 1 + slot; }
constexpr std::uint32_t input_edge = 1 + max_sends;
constexpr std::uint32_t edge_count = 2 + max_sends;
/// No buffer (sidechains).
constexpr std::uint32_t no_buffer = UINT32_MAX;

/// A render plan's stereo buffers as a strip sees them in one run: channel c of buffer b.
struct PlanBuffers {
    float* storage = nullptr;
    std::uint32_t stride = 0;  // frames per channel
    std::uint32_t pos = 0;     // where this run starts
    float* channel(std::uint32_t b, std::uint32_t c) const noexcept {
        return storage + (static_cast<std::size_t>(b) * 2 + c) * stride + pos;
    }
};

/// What one strip reads and writes for one run of frames (all pointers already offset).
struct StripIo {
    const float* input[2] = {nullptr, nullptr};  // nullptr: silence
    float* output[2] = {nullptr, nullptr};       // stereo; may alias input
    // Inserts before the EQ and after the compressor, in order.
    Insert* const* pre_inserts = nullptr;
    std::uint32_t pre_count = 0;
    Insert* const* post_inserts = nullptr;
    std::uint32_t post_count = 0;
    // Channels through the EQ and compressor, and from the post-inserts on (a stereo insert makes
    // a mono strip stereo); both are the strip's channels() without such inserts.
    std::uint32_t mid_channels = 1;
    std::uint32_t back_channels = 1;
    struct SendTap {
        std::uint32_t slot;
        float* out[2];
    };
    const SendTap* sends = nullptr;
    std::uint32_t send_count = 0;
    // Sidechains: the plan's buffers; the buffer this strip writes its key into for the strips
    // that listen to it (its signal after the inserts, before the fader), and the keys its own
    // compressor and inserts (pre then post, one per insert) listen to, each another strip's key
    // tap, or no_buffer.
    PlanBuffers buffers;
    std::uint32_t key_tap = no_buffer;
    std::uint32_t compressor_key = no_buffer;
    const std::uint32_t* insert_keys = nullptr;
};

class Strip final : public RtObject {
public:
    /// `channels`: 1 or 2, the width from the input to the pan (buses and master: 2).
    Strip(std::uint32_t id, std::uint32_t channels, double sample_rate, float smoothing_ms,
          std::uint32_t max_block_frames);

    std::uint32_t id() const noexcept { return id_; }
    std::uint32_t channels() const noexcept { return channels_; }
    MeterSlot& meter() noexcept { return meter_; }
    const MeterSlot& meter() const noexcept { return meter_; }

    /// Takes a StripMessage (graph/strip_params.hpp); `slot` is the send's for send messages.
    void apply(std::uint16_t message, std::uint8_t slot, float value) noexcept override;
    /// Trim, fader, pan and send levels ramp in exactly `frames` frames (automation).
    void apply_ramped(std::uint16_t message, std::uint8_t slot, float value, std::uint32_t frames) noexcept override;
    /// apply_ramped() at frame `offset` of the next run (automation lanes of trim, fader, pan and
    /// send levels, without cutting the graph's run there). In order of offset; at most
    /// max_scheduled() per run. Audio thread, wait-free.
    void schedule(std::uint32_t offset, std::uint16_t message, std::uint8_t slot, float value,
                  std::uint32_t frames) noexcept {
        if (scheduled_count_ < scheduled_.size()) scheduled_[scheduled_count_++] = {offset, frames, value, message, slot};
    }
    std::size_t max_scheduled() const noexcept { return scheduled_.size(); }

    /// Processes `frames` frames. Returns false if the signal went non-finite (it was zeroed and
    /// the DSP state cleared) and this is the first block of such an episode. Audio thread.
    bool process(const StripIo& io, std::uint32_t frames) noexcept;

    /// process() in four steps, for a group of strips run together: process_front() (input
    /// stage, alignment delay, pre-inserts) leaves the signal in io.output; then the EQ runs on it
    /// (in lanes, dsp/eq_lanes.hpp, or by eq().process()), then the compressor (by
    /// dsp::Compressor::process_group() or compressor().process()), both on io.mid_channels; then
    /// process_back() (post-inserts and everything after) returns what process() returns.
    void process_front(const StripIo& io, std::uint32_t frames) noexcept;
    dsp::Equalizer& eq() noexcept { return eq_.equalizer(); }
    dsp::Compressor& compressor() noexcept { return comp_.compressor(); }
    /// Before the compressor runs: points its detector at its sidechain key (aligned, in
    /// key_scratch_) or at `work`, its own signal (through its sidechain highpass), for this run.
    void prepare_compressor_key(const StripIo& io, float* const* work, std::uint32_t frames) noexcept;
    bool process_back(const StripIo& io, std::uint32_t frames) noexcept;

    /// The built-in processors, as targets of their parameters' messages.
    EqProcessor& eq_processor() noexcept { return eq_; }
    CompressorProcessor& compressor_processor() noexcept { return comp_; }

    /// Audio thread, when a new render plan comes: output `edge` (output_edge, send_edge(),
    /// input_edge) is delayed by `frames` from now on, in `memory` (see CompensationDelay::adopt()).
    void adopt_delay(std::uint32_t edge, DelayMemory* memory, std::uint32_t frames) noexcept {
        delays_[edge % edge_count].adopt(memory, frames);
    }
    /// The delay that aligns the compressor's sidechain key with the strip's own signal.
    CompensationDelay& compressor_key_delay() noexcept { return key_delay_; }

    /// Before the first frame of a mix (nothing has sounded): every ramp, glide and crossfade of
    /// the strip, its EQ, compressor and delays jumps to its target, so the values set so far
    /// stand from frame 0. Its inserts are the plan's (Insert::reset()). Audio thread, wait-free.
    void settle() noexcept;

    /// Publishes the meters accumulated since the last call; `frames` is how much audio that was.
    void publish_meter(std::uint32_t frames) noexcept;
    void reset_meter_holds() noexcept;

private:
    void update_output_gains() noexcept;
    /// Runs `fill(from, count)` over [0, frames) in pieces, applying the scheduled changes whose
    /// message `takes` at their offsets in between.
    template <class Takes, class Fill>
    void run_scheduled(std::uint32_t frames, Takes&& takes, Fill&& fill) noexcept {
        std::uint32_t at = 0;
        for (std::uint32_t i = 0; i < scheduled_count_; ++i) {
            const Scheduled& e = scheduled_[i];
            if (!takes(e)) continue;
            const std::uint32_t to = e.offset < frames ? e.offset : frames;
            if (to > at) fill(at, to - at);
            at = to > at ? to : at;
            apply_ramped(e.message, e.slot, e.value, e.ramp);
        }
        if (frames > at) fill(at, frames - at);
    }
    /// set_target() with the ramp of the change being applied (automation's, or the usual).
    void retarget(dsp::LinearSmoother& smoother, float target) noexcept {
        if (ramp_override_ != 0) smoother.set_target(target, ramp_override_);
        else smoother.set_target(target);
    }
    /// Runs insert `i` of the pre- (or post-) inserts on `work`; returns the channels it leaves.
    std::uint32_t run_insert(const StripIo& io, bool pre, std::uint32_t i, float* const* work, std::uint32_t channels,
                             std::uint32_t frames) noexcept;
    void run_alignment_delay(float* const* work, std::uint32_t frames) noexcept;
    void clear_dsp_state(const StripIo& io) noexcept;

    // Per-sample gain ramps of one run: pre[2], post[2], send level.
    std::vector<float> ramps_;
    std::uint32_t max_block_frames_;

    std::uint32_t id_;
    std::uint32_t channels_;
    double sample_rate_;
    std::uint32_t ramp_frames_;
    std::uint32_t ramp_override_ = 0;  // apply_ramped()'s length while it applies; 0: the usual
    // Changes scheduled inside the next run (schedule()).
    struct Scheduled {
        std::uint32_t offset, ramp;
        float value;
        std::uint16_t message;
        std::uint8_t slot;
    };
    std::vector<Scheduled> scheduled_;
    std::uint32_t scheduled_count_ = 0;

    // Input stage.
    float trim_db_ = 0.0f;
    bool invert_ = false;
    dsp::LinearSmoother input_gain_;

    // Alignment delay: a power-of-two ring per channel, crossfaded between taps on a change.
    std::vector<float> ring_[2];
    std::uint32_t ring_mask_ = 0;
    std::uint32_t write_pos_ = 0;
    std::uint32_t delay_frames_ = 0;
    std::uint32_t old_delay_frames_ = 0;
    std::uint32_t xfade_done_ = 0;  // frames of the crossfade already run; == ramp when idle
    std::uint32_t max_delay_frames_ = 0;

    EqProcessor eq_;
    CompressorProcessor comp_;

    // Output stage: post[c] = fader * pan[c] * mute, pre[c] = pan[c] * mute.
    std::uint32_t back_channels_;  // the pan law's: equal power for 1, balance for 2
    float gain_db_ = 0.0f;
    float pan_ = 0.0f;
    bool mute_ = false;       // its own mute (set or automated)
    bool solo_mute_ = false;  // silenced by the solo logic
    dsp::LinearSmoother post_gain_[2];
    dsp::LinearSmoother pre_gain_[2];
    dsp::LinearSmoother output_fade_;  // on the main output only: the new side of a reroute

    struct Send {
        float level_db = 0.0f;
        bool pre_fader = false;
        dsp::LinearSmoother level;
    };
    std::array<Send, max_sends> sends_{};
    std::array<CompensationDelay, edge_count> delays_{};  // latency compensation of each output
    CompensationDelay key_delay_;   // aligns the compressor's sidechain key
    std::vector<float> key_scratch_;  // the compressor's aligned key: 2 x max_block_frames
    const float* key_view_[2] = {nullptr, nullptr};

    // Meter accumulators (audio thread only).
    float peak_env_[2] = {0.0f, 0.0f};
    float mean_square_[2] = {0.0f, 0.0f};
    float rms_coef_ = 0.0f;
    float peak_hold_ = 0.0f;
    float max_reduction_db_ = 0.0f;
    std::uint32_t meter_frames_ = 0;
    float block_peak_[2] = {0.0f, 0.0f};
    bool non_finite_ = false;

    MeterSlot meter_;
};

}  // namespace rtmix::engine
