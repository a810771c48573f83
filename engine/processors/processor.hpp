// Processor: the audio-thread face of every processor kind (EQ, compressor, gate, reverb, ...),
// and ProcessorKind: what the engine knows of a kind besides its public ProcessorInfo.
//
// Life cycle: a kind's create() builds an instance on the control side (it allocates every buffer
// there, for the longest settings its parameters allow); the instance then receives its
// parameters through apply() and runs in process(), both on the audio thread. Instances belong to
// the mix model, not to render plans, so their state (envelopes, tails, delay lines) survives
// every recompile.
//
// A parameter is addressed by its index in the kind's ProcessorInfo::params (for a kind with
// groups, group * params.size() + index). A kind that keeps an enum of its parameters checks it
// against its ProcessorInfo at compile time (param_index_matches()).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "control/param_change.hpp"
#include "rtmix/parameters.hpp"

namespace rtmix::engine {

/// What one run of a processor reads and writes.
struct ProcessIo {
    float* const* audio = nullptr;   ///< `channels` buffers, processed in place
    std::uint32_t channels = 2;      ///< 1 or 2; stereo kinds (ProcessorInfo::stereo) always get 2
    std::uint32_t frames = 0;
    const float* const* key = nullptr;  ///< sidechain: `key_channels` buffers, or null (listen to `audio`)
    std::uint32_t key_channels = 0;
};

class Processor : public RtObject {
public:
    /// Sets parameter `param` (its index; see above) to `value`, already validated. Wait-free.
    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override = 0;
    /// Processes one run of frames in place. Wait-free: no allocation, lock, I/O or exception.
    virtual void process(const ProcessIo& io) noexcept = 0;
    /// Back to rest at the current settings: the state cleared as after a long silence, and every
    /// ramp, glide and crossfade at its target. Used after a non-finite signal, and before the
    /// first frame of a mix (then nothing has sounded, so the values simply stand). Wait-free.
    virtual void reset() noexcept = 0;
    /// Gain reduction now and the most in the last run, in dB (<= 0), for dynamics; else 0.
    virtual float gain_reduction_db() const noexcept { return 0.0f; }
    virtual float block_max_reduction_db() const noexcept { return 0.0f; }
};

struct ProcessorSetup;

/// The processor of a stereo DSP class that takes its parameters as an enum in the order of its
/// kind's declaration (`set(Param, value)`), processes a stereo block in place
/// (`process(left, right, frames)`) and resets (`reset()`): the reverb and the delay.
template <class Dsp, class Param>
class StereoDspProcessor final : public Processor {
public:
    explicit StereoDspProcessor(const ProcessorSetup& setup);
    void apply(std::uint16_t param, std::uint8_t, float value) noexcept override {
        dsp_.set(static_cast<Param>(param), value);
    }
    void process(const ProcessIo& io) noexcept override { dsp_.process(io.audio[0], io.audio[1], io.frames); }
    void reset() noexcept override { dsp_.reset(); }

private:
    Dsp dsp_;
};

struct ProcessorSetup {
    double sample_rate = 48000.0;
    float smoothing_ms = 20.0f;
    std::uint32_t max_block_frames = 1024;
};

template <class Dsp, class Param>
StereoDspProcessor<Dsp, Param>::StereoDspProcessor(const ProcessorSetup& setup) : dsp_(setup.sample_rate) {}

/// A processor kind as the engine sees it.
struct ProcessorKind {
    const ProcessorInfo& info;
    /// A new instance with every parameter at its default. Control side; allocates.
    std::unique_ptr<Processor> (*create)(const ProcessorSetup& setup);
    /// Its latency in frames for these parameter values (own parameters, group-major); null when
    /// it has none. Also true while bypassed: a bypassed insert keeps its delay.
    std::uint32_t (*latency_frames)(std::span<const double> values, double sample_rate) = nullptr;
    /// The most latency_frames() can be at `sample_rate`; null when it has no latency.
    std::uint32_t (*max_latency_frames)(double sample_rate) = nullptr;
};

/// The kind named `type`, or null; every kind, in documentation order.
const ProcessorKind* find_kind(std::string_view type) noexcept;
std::span<const ProcessorKind* const> kinds() noexcept;

/// Compile-time check that an enum of a kind's parameters matches its ProcessorInfo: entry
/// `index` of `params` has key `key`.
constexpr bool param_index_matches(std::span<const ParamInfo> params, std::size_t index, std::string_view key) {
    return index < params.size() && params[index].key == key;
}

}  // namespace rtmix::engine
