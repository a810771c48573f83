#include "processors/strip_params.hpp"

#include <array>

#include "processors/processor.hpp"

namespace rtmix {

namespace {

using engine::StripMessage;

constexpr std::array<ParamInfo, 9> strip = {{
    {.key = "trim_db", .unit = "dB", .min = -60, .max = 24, .description = "input gain before everything else"},
    {.key = "invert", .kind = ValueKind::boolean, .max = 1, .description = "polarity; ramps through zero, no click"},
    {.key = "delay_ms", .unit = "ms", .min = 0, .max = engine::max_alignment_delay_ms, .smoothing = Smoothing::crossfade,
     .description = "alignment delay, rounded to whole samples"},
    {.key = "delay_samples", .unit = "samples", .min = 0, .max = engine::max_alignment_delay_ms / 1000.0,
     .smoothing = Smoothing::crossfade, .description = "the same delay in samples", .per_second = true},
    {.key = "gain_db", .unit = "dB", .min = -120, .max = 12, .description = "the fader; -120 (or \"-inf\") is silence",
     .minus_inf = true},
    {.key = "pan", .min = -1, .max = 1, .description = "-1 left ... 1 right; mono source: equal power; stereo: balance"},
    {.key = "mute", .kind = ValueKind::boolean, .max = 1, .description = "silences the strip's output and its sends"},
    {.key = "solo", .kind = ValueKind::boolean, .max = 1, .description = "solo in place", .strips = on_tracks | on_buses},
    {.key = "solo_safe", .kind = ValueKind::boolean, .max = 1, .description = "never silenced by another strip's solo",
     .strips = on_buses},
}};

constexpr std::array<ParamInfo, 2> send = {{
    {.key = "level_db", .unit = "dB", .min = -120, .max = 12, .description = "-120 (or \"-inf\") is off", .minus_inf = true},
    {.key = "pre_fader", .kind = ValueKind::boolean, .max = 1, .smoothing = Smoothing::immediate,
     .description = "pre-fader: after the inserts, panned and muted, not scaled by the fader"},
}};

constexpr std::array<ParamInfo, 2> insert = {{
    {.key = "enabled", .kind = ValueKind::boolean, .max = 1, .def = 1, .smoothing = Smoothing::crossfade,
     .description = "off: the insert passes its input through, delayed by its latency"},
    {.key = "mix", .min = 0, .max = 1, .def = 1, .description = "0 dry only, 1 wet only (parallel processing in between)"},
}};

constexpr std::array<ParamInfo, 1> master_limiter = {{
    {.key = "enabled", .kind = ValueKind::boolean, .max = 1, .smoothing = Smoothing::crossfade,
     .description = "0 is a full bypass with no latency; a change crossfades over the smoothing ramp", .latency = true},
}};

constexpr auto at(StripMessage m) { return static_cast<std::size_t>(m); }
using engine::param_index_matches;
static_assert(param_index_matches(strip, at(StripMessage::trim_db), "trim_db"));
static_assert(param_index_matches(strip, at(StripMessage::invert), "invert"));
static_assert(param_index_matches(strip, at(StripMessage::delay_ms), "delay_ms"));
static_assert(param_index_matches(strip, at(StripMessage::delay_samples), "delay_samples"));
static_assert(param_index_matches(strip, at(StripMessage::gain_db), "gain_db"));
static_assert(param_index_matches(strip, at(StripMessage::pan), "pan"));
static_assert(param_index_matches(strip, at(StripMessage::mute), "mute"));
static_assert(param_index_matches(strip, at(StripMessage::solo), "solo"));
static_assert(param_index_matches(strip, at(StripMessage::solo_safe), "solo_safe"));
static_assert(at(StripMessage::send_level_db) == strip.size());
static_assert(param_index_matches(send, at(StripMessage::send_level_db) - strip.size(), "level_db"));
static_assert(param_index_matches(send, at(StripMessage::send_pre_fader) - strip.size(), "pre_fader"));
static_assert(param_index_matches(insert, static_cast<std::size_t>(engine::InsertParam::enabled), "enabled"));
static_assert(param_index_matches(insert, static_cast<std::size_t>(engine::InsertParam::mix), "mix"));

}  // namespace

std::span<const ParamInfo> strip_params() noexcept { return strip; }
std::span<const ParamInfo> send_params() noexcept { return send; }
std::span<const ParamInfo> insert_params() noexcept { return insert; }

std::span<const ParamInfo> insert_params(const ProcessorInfo& type) noexcept {
    const auto has = [&](std::string_view key) {
        for (const ParamInfo& p : type.params)
            if (p.key == key) return true;
        return false;
    };
    // Always a contiguous part: [enabled], [enabled, mix], [mix] or nothing.
    const std::size_t first = has("enabled") ? 1 : 0;
    const std::size_t last = type.wet_dry && !has("mix") ? 2 : 1;
    return std::span<const ParamInfo>(insert).subspan(first, last > first ? last - first : 0);
}
std::span<const ParamInfo> master_limiter_params() noexcept { return master_limiter; }

}  // namespace rtmix
