// Parameter metadata: what every parameter of a strip, a send and each processor type is, declared
// once beside its processor and read by everything else (path resolution and validation, session
// files, the console, docs/parameters.md, remote controls).
//
//   for (const rtmix::ProcessorInfo* p : rtmix::processor_types())       // "compressor", "gate", ...
//       for (const rtmix::ParamInfo& param : p->params) ...              // key, kind, unit, range
//
// Everything here is static and read-only: it may be read from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rtmix {

/// What a parameter's value is: a number in its unit, a boolean (0 or 1), or one of its words
/// (held as the word's index).
enum class ValueKind : std::uint8_t { number, boolean, word };

/// How a change of the parameter reaches the sound.
enum class Smoothing : std::uint8_t {
    ramp,       ///< moves linearly over EngineOptions::smoothing_ms
    glide,      ///< glides its own way over about the smoothing time (EQ: log steps; delay: tape)
    crossfade,  ///< the old and new settings crossfade over the smoothing time (types, on/off)
    immediate,  ///< takes effect at once (time constants, detector choices, lookahead)
};

/// The strips a strip parameter belongs to (ParamInfo::strips).
enum StripKinds : std::uint8_t { on_tracks = 1, on_buses = 2, on_master = 4, on_all = 7 };

/// One parameter of a processor, a strip or a send.
struct ParamInfo {
    std::string_view key{};  ///< the last part of its path: "threshold_db"
    ValueKind kind = ValueKind::number;
    std::string_view unit{};  ///< "dB", "ms", "Hz", "s", "dB/oct", "samples", "cents", "semitones", or empty (a ratio)
    double min = 0.0, max = 0.0, def = 0.0;  ///< booleans 0 ... 1; words 0 ... count - 1
    std::span<const std::string_view> words{};  ///< a word parameter's words, in index order
    std::span<const double> choices{};        ///< a number that takes only these values (EQ slope)
    Smoothing smoothing = Smoothing::ramp;
    std::string_view description{};  ///< one line, for people
    bool minus_inf = false;   ///< "-inf" (or -infinity) means `min`, which is silence
    bool latency = false;     ///< a change changes the processor's latency
    bool per_second = false;  ///< min and max are per second: the range in force is them times the sample rate
    std::uint8_t strips = on_all;  ///< strip parameters: the strips that have it
};

/// A kind of processor: its parameters and what the engine needs to know about it.
struct ProcessorInfo {
    std::string_view type{};     ///< "compressor": the `type` of an insert, the prefix of its paths
    std::string_view title{};    ///< "Compressor"
    std::string_view summary{};  ///< one line, for people
    std::span<const ParamInfo> params{};
    /// More than 1: the parameters repeat per group (the EQ's bands), addressed "N.key" (N from 1).
    std::uint32_t groups = 1;
    bool insert = true;     ///< can be an insert (the EQ is built into every strip only)
    bool tail = false;      ///< rings on after its input stops (reverb, delay)
    bool sidechain = false; ///< its detector can listen to another strip (Engine::set_sidechain())
    bool stereo = false;    ///< its output is stereo: a mono strip is stereo from it on
    bool wet_dry = false;   ///< as an insert it has a `mix` (dry/wet) besides its own parameters
    bool mono = false;      ///< runs on one channel: refused where the signal is stereo (pitch)
};

/// Every processor type, in documentation order: the built-in EQ, then the insert types.
std::span<const ProcessorInfo* const> processor_types() noexcept;
/// The processor type named `type`, or null.
const ProcessorInfo* find_processor_type(std::string_view type) noexcept;

/// The fixed parameters of every strip: input stage, alignment delay, fader, pan, mute, solo.
std::span<const ParamInfo> strip_params() noexcept;
/// The parameters of a send (`send.BUS.level_db`, `send.BUS.pre_fader`).
std::span<const ParamInfo> send_params() noexcept;
/// What an insert can have besides its processor's parameters: `enabled` and `mix`.
std::span<const ParamInfo> insert_params() noexcept;
/// What an insert of `type` has of them: `enabled` unless the processor has its own, `mix` for
/// processors with ProcessorInfo::wet_dry that have none of their own.
std::span<const ParamInfo> insert_params(const ProcessorInfo& type) noexcept;
/// `enabled` of the master's limiter (`master.limiter.enabled`), which a limiter insert lacks: off
/// by default, and off means no latency at all.
std::span<const ParamInfo> master_limiter_params() noexcept;

/// One parameter of a mix as Engine::parameter_info() describes it.
struct ParameterInfo {
    std::string path;  ///< "track.vox.insert.2.threshold_db"
    ValueKind kind = ValueKind::number;
    std::string unit;
    double min = 0.0, max = 0.0;  ///< the range in force (per-second ranges at the engine's rate)
    double def = 0.0;
    std::vector<std::string> words;
    std::vector<double> choices;
    Smoothing smoothing = Smoothing::ramp;
    std::string description;
    bool minus_inf = false;
};

/// "number", "boolean" or "word"; "ramp", "glide", "crossfade" or "immediate".
std::string_view to_string(ValueKind kind) noexcept;
std::string_view to_string(Smoothing smoothing) noexcept;

/// The candidate closest to `word` by edit distance, for "did you mean" messages; empty when
/// none is close enough to look like a typo of it.
std::string closest_match(std::string_view word, std::span<const std::string> candidates);

}  // namespace rtmix
