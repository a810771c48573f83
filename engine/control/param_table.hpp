// The table of every parameter a strip has: its path below the strip, kind, unit, range and
// default. Path resolution, validation, suggestions and docs/parameters.md all follow it.
// Control side only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtmix/status.hpp"
#include "session/model.hpp"

namespace rtmix::engine {

enum class Field : std::uint8_t {
    trim_db, invert, delay_ms, delay_samples,
    eq_type, eq_freq_hz, eq_gain_db, eq_q, eq_slope,
    comp_enabled, comp_threshold_db, comp_ratio, comp_knee_db, comp_attack_ms, comp_release_ms,
    comp_makeup_db, comp_detector,
    gain_db, pan, mute, solo, solo_safe,
    send_level_db, send_pre_fader,
    reverb, delay,
    limiter,
};

enum class ValueKind : std::uint8_t { number, boolean, word };

/// Where a parameter lives below a strip: "gain_db", "eq.N.freq_hz", "send.BUS.level_db", ...
enum class Scope : std::uint8_t { strip, eq_band, send, reverb, delay, limiter };

struct ParamSpec {
    Scope scope;
    std::string_view key;  // the last path component
    Field field;
    ValueKind kind;
    double min, max, def;
    std::span<const std::string_view> words;  // the accepted words of a word parameter
    std::uint8_t effect_param;                // dsp::ReverbParam / DelayParam / LimiterParam
};

/// Every entry of the table (in documentation order).
std::span<const ParamSpec> param_specs();

/// A path resolved against the model.
struct ResolvedParam {
    StripModel* strip = nullptr;
    const ParamSpec* spec = nullptr;
    std::uint32_t index = 0;  // EQ band (0-based), send position in strip->sends, effect position
    double min = 0, max = 0;  // the range in force (delay_samples depends on the sample rate)
};

/// Resolves `path`; an unknown path yields Code::unknown_path with the closest valid path.
Status resolve_param(Model& model, std::string_view path, double sample_rate, ResolvedParam& out);

/// Every valid path of the model's strips, sorted.
std::vector<std::string> all_param_paths(const Model& model);

/// The closest candidate to `word` by edit distance, or empty when nothing is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// Number of EQ bands a strip exposes ("eq.1" ... "eq.8").
constexpr std::uint32_t eq_band_count = 8;

}  // namespace rtmix::engine
