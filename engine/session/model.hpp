// The mutable mix model held by the control side: strips (tracks, buses, the master), their
// routing, sends, bus inserts and the last value of every parameter.
//
// Only the control side touches it (under the engine's control mutex). Each strip owns its
// audio-side Strip through a shared_ptr that render plans share, so the DSP state outlives any
// plan that still points at it and survives every recompile.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsp/compressor.hpp"
#include "dsp/eq.hpp"
#include "graph/effect_unit.hpp"
#include "graph/strip.hpp"

namespace rtmix::engine {

class MasterChain;

enum class StripKind : std::uint8_t { track, bus, master };

/// Marks something removed by the user that still plays out a fade before it leaves the render
/// plan: it is invisible to names and paths, but the plan keeps it until the audio thread has
/// applied the fade message (`sequence`) and played a fade's worth of frames after that.
struct Fade {
    std::uint64_t sequence = 0;                   // 0: not fading
    std::uint64_t started_at_frame = UINT64_MAX;  // when the control side saw the message applied
    bool active() const noexcept { return sequence != 0; }
};

struct SendModel {
    std::uint32_t bus_id = 0;
    std::uint32_t slot = 0;  // index into the source Strip's send states
    float level_db = 0.0f;
    bool pre_fader = false;
    Fade fade;
};

struct EffectModel {
    Effect kind = Effect::reverb;
    std::shared_ptr<EffectUnit> unit;
    std::array<float, 8> values{};  // indexed by dsp::ReverbParam / dsp::DelayParam
    Fade fade;                      // removed: the mix fades to dry first
};

struct StripModel {
    std::uint32_t id = 0;
    StripKind kind = StripKind::track;
    std::string name;            // without prefix; "master" for the master
    std::uint32_t channels = 2;  // tracks: 1 or 2 input channels
    std::uint32_t input_channel = 0;

    enum class Output : std::uint8_t { master, bus, none };
    Output output = Output::master;
    std::uint32_t output_bus = 0;  // id, when output == bus
    std::vector<SendModel> sends;
    std::vector<EffectModel> effects;

    // Parameter values as the user set them.
    float trim_db = 0.0f;
    bool invert = false;
    std::uint32_t delay_frames = 0;
    std::array<dsp::EqBandSettings, dsp::max_eq_bands> eq{};
    dsp::CompressorSettings comp{};
    float gain_db = 0.0f;
    float pan = 0.0f;
    std::array<float, 8> limiter{};  // the master's limiter, indexed by dsp::LimiterParam
    bool mute = false;
    bool solo = false;
    bool solo_safe = false;
    bool effective_mute = false;  // what the audio side was last told

    std::shared_ptr<Strip> strip;
    std::shared_ptr<MasterChain> chain;  // the master's: limiter and loudness meter
    Fade fade;  // set for strips in Model::fading

    /// "track.NAME", "bus.NAME" or "master".
    std::string path() const;
};

struct Model {
    std::vector<StripModel> strips;  // strips[0] is the master; then in order of creation
    std::vector<StripModel> fading;  // removed strips fading out; still in the render plan
    std::uint32_t next_id = 1;

    StripModel* find(std::uint32_t id);
    const StripModel* find(std::uint32_t id) const;
    /// Looks up "track.NAME", "bus.NAME" or "master".
    StripModel* find_path(std::string_view path);
    const StripModel* find_path(std::string_view path) const;
    StripModel* find(StripKind kind, std::string_view name);

    /// Effective mute of every strip, indexed like `strips`: its own mute, or silenced because
    /// something else is soloed (solo-in-place; see docs/parameters.md).
    std::vector<bool> effective_mutes() const;

    /// A routing cycle as "bus 'a' -> bus 'b' -> bus 'a'", if there is one.
    std::optional<std::string> find_cycle() const;

    /// The ids a strip feeds directly: its output bus and the buses it sends to (with the sends
    /// still fading out after their removal, unless `include_fading` is false).
    std::vector<std::uint32_t> destinations(const StripModel& s, bool include_fading = true) const;
};

}  // namespace rtmix::engine
