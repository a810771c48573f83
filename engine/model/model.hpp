// The mutable mix model held by the control side: strips (tracks, buses, the master), their
// routing, sends, processors (the built-in EQ and compressor, inserts, the master's limiter) and
// the last value of every parameter.
//
// Only the control side touches it (under the engine's control mutex). The audio-side objects
// (each strip's Strip, each insert's Insert, the master chain) belong to the model through
// shared_ptrs that render plans share, so their state outlives any plan that still points at it
// and survives every recompile. Parameter values are kept by index, as their processor kind
// declares them (rtmix/parameters.hpp): no layer keeps a list of parameters of its own.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "automation/lane.hpp"
#include "control/param_change.hpp"
#include "processors/insert.hpp"
#include "processors/strip.hpp"
#include "processors/processor.hpp"

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

/// Automation of one parameter: its lane and the address of its messages.
struct LaneModel {
    std::uint32_t index = 0;  // the parameter, in its owner's values
    ParamChange address;      // target, param, slot: where its values go
    bool ramped = false;      // the target follows a ramp length (a strip's gains, pan, sends)
    std::shared_ptr<LaneData> data;  // never changed once published: a new lane is a new LaneData;
                                     // null for a parameter recorded without a lane yet
    // Recording (Engine::record()); rec < 0: not recorded.
    std::int32_t rec = -1;
    std::uint32_t rec_serial = 0;
    AutomationMode rec_mode = AutomationMode::read;
    bool stepped = false;
    std::uint32_t glide = 32;
    std::int64_t touch_timeout = 0;
    double base = 0.0;
};

/// The lane of parameter `index` in `lanes`, or null.
inline const LaneModel* find_lane(const std::vector<LaneModel>& lanes, std::uint32_t index) noexcept {
    for (const LaneModel& l : lanes)
        if (l.index == index) return &l;
    return nullptr;
}

/// A processor of a strip and its parameter values: the kind's parameters (group-major), then
/// the slot's own `extras` (an insert's enabled and mix; the master limiter's enabled).
struct SlotModel {
    const ProcessorKind* kind = nullptr;
    std::span<const ParamInfo> extras;
    std::vector<double> values;
    RtObject* target = nullptr;  // receives the messages, indexed like `values`
    // Sidechain (kinds with ProcessorInfo::sidechain): the id of the strip whose key the detector
    // listens to, and the memory of the delay that aligns that key (allocated by the compile).
    static constexpr std::uint32_t no_source = UINT32_MAX;
    std::uint32_t sidechain = no_source;
    std::shared_ptr<DelayMemory> key_memory;
    std::vector<LaneModel> lanes;  // automation of its parameters

    /// A slot at every default.
    static SlotModel make(const ProcessorKind& kind, std::span<const ParamInfo> extras, RtObject* target);
    std::uint32_t own_count() const noexcept {
        return static_cast<std::uint32_t>(kind->info.params.size()) * kind->info.groups;
    }
    const ParamInfo& param(std::uint32_t index) const noexcept {
        const std::uint32_t own = own_count();
        return index < own ? kind->info.params[index % kind->info.params.size()] : extras[index - own];
    }
    /// The processor's latency for the current values (0 for kinds without one).
    std::uint32_t latency_frames(double sample_rate) const;
};

struct InsertModel {
    std::string name;  // the named bus effects ("reverb", "delay"); empty: numbered ("insert.N")
    bool pre = false;  // runs before the EQ (the named effects always), else after the compressor
    SlotModel slot;
    std::shared_ptr<Insert> unit;
    std::uint32_t latency = 0;  // what the insert was last told (frames)
    Fade fade;                  // removed: fading to dry
};

struct SendModel {
    std::uint32_t bus_id = 0;
    std::uint32_t slot = 0;  // index into the source Strip's send states
    std::array<double, 2> values{0.0, 0.0};  // send_params(): level_db, pre_fader
    Fade fade;
    std::vector<LaneModel> lanes;  // automation of its parameters

    double level_db() const noexcept { return values[0]; }
    bool pre_fader() const noexcept { return values[1] != 0.0; }
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

    std::vector<double> values;  // strip_params(), as the user set them
    std::vector<LaneModel> lanes;  // automation of strip_params()
    SlotModel eq, compressor;    // built in
    std::vector<InsertModel> inserts;  // in the order they run within `pre` and within the rest
    SlotModel limiter;           // the master's (kind null elsewhere)
    bool solo_muted = false;     // silenced by the solo logic, as the audio side was last told

    std::shared_ptr<Strip> strip;
    std::shared_ptr<MasterChain> chain;  // the master's: limiter and loudness meter
    // Memory of the latency compensation of each output (output_edge, send_edge()), allocated
    // by the compile that first needs it and kept while the strip lives.
    std::array<std::shared_ptr<DelayMemory>, edge_count> compensation;
    Fade fade;  // set for strips in Model::fading

    /// "track.NAME", "bus.NAME" or "master".
    std::string path() const;
    double value(StripMessage p) const noexcept { return values[static_cast<std::size_t>(p)]; }
    bool flag(StripMessage p) const noexcept { return value(p) != 0.0; }
    /// The path prefix of an insert below the strip ("reverb", "insert.2"); empty while it fades.
    std::string insert_prefix(const InsertModel& insert) const;
    /// The insert of that prefix, or null.
    InsertModel* find_insert(std::string_view prefix);
    /// Frames the strip's processors delay its signal by: its inserts (those fading out too)
    /// and its compressor's lookahead.
    std::uint32_t chain_latency(double sample_rate) const;
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
    std::vector<bool> solo_mutes() const;

    /// The ids of the strips with a processor whose sidechain listens to `source`.
    std::vector<std::uint32_t> key_listeners(const StripModel& source) const;

    /// A routing cycle as "bus 'a' -> bus 'b' -> bus 'a'" (sidechains shown as "-sidechain->"),
    /// if there is one.
    std::optional<std::string> find_cycle() const;
    /// Whether strip `id` reaches itself (outputs, sends, sidechains): after adding one edge
    /// from `id` to a graph that had no cycle, the only cycle there can be. Visits only what
    /// `id` reaches, so an edit of a large mix does not search all of it.
    bool reaches_itself(std::uint32_t id) const;

    /// The ids a strip feeds directly: its output bus and the buses it sends to (with the sends
    /// still fading out after their removal, unless `include_fading` is false).
    std::vector<std::uint32_t> destinations(const StripModel& s, bool include_fading = true) const;
};

}  // namespace rtmix::engine
