// Parameter paths against the model: resolution (with a suggestion for a typo), validation,
// reading and writing values, and the messages that carry a value to the audio thread.
//
// A path is the strip ("track.vox", "bus.drums", "master"), then what owns the parameter, then its
// key: the strip itself ("gain_db"), a send ("send.verb.level_db"), or one of the strip's
// processors ("eq.2.freq_hz", "compressor.ratio", "insert.1.threshold_db", "reverb.decay_s",
// "limiter.ceiling_dbtp"). What each owner's parameters are comes from their declarations
// (rtmix/parameters.hpp); nothing here lists parameters. Control side only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control/param_change.hpp"
#include "rtmix/parameters.hpp"
#include "rtmix/status.hpp"
#include "model/model.hpp"

namespace rtmix::engine {

struct ResolvedParam {
    enum class Owner : std::uint8_t { strip, send, slot };
    StripModel* strip = nullptr;
    Owner owner = Owner::strip;
    std::uint32_t send = 0;         // Owner::send: the send's position in strip->sends
    SlotModel* slot = nullptr;      // Owner::slot
    InsertModel* insert = nullptr;  // Owner::slot, when the slot is an insert
    std::uint32_t index = 0;        // into the owner's values
    const ParamInfo* param = nullptr;
    double min = 0.0, max = 0.0;    // the range in force (per-second ranges at the sample rate)
};

/// Resolves `path`; an unknown path yields Code::unknown_path with the closest valid path.
Status resolve_param(Model& model, std::string_view path, double sample_rate, ResolvedParam& out);

/// Every valid path of the model's strips, sorted.
std::vector<std::string> all_param_paths(const Model& model);

/// The model's value of the parameter (words as their index, booleans as 0/1).
double read_param(const ResolvedParam& p);

/// Stores `value` (already validated) in the model, as the float the audio side takes.
void write_param(const ResolvedParam& p, double value, double sample_rate);

/// Appends the message that carries the model's value of `p` to the audio thread. Solo and
/// solo_safe carry nothing themselves; see mute_changes().
void param_changes(const ResolvedParam& p, std::vector<ParamChange>& out);

/// True for the parameters of the solo logic (solo, solo_safe): they decide which strips the
/// solos silence.
bool affects_mutes(const ResolvedParam& p);

/// Appends a solo_mute message for every strip whose silencing by the solo logic differs from
/// what the audio side was last told; `mutes` receives the new ones. A strip's own mute is a
/// parameter of its own (and may be automated).
void mute_changes(const Model& model, std::vector<bool>& mutes, std::vector<ParamChange>& out);

/// Records `mutes` (from mute_changes) as what the audio side now knows.
void commit_mutes(Model& model, const std::vector<bool>& mutes);

/// Checks `value` against the parameter's kind, choices and range; the message names the path
/// and the range.
Status validate_number(const ResolvedParam& p, std::string_view path, double value);

/// Converts a word ("rms", "highpass", "on", "-3.5", "-inf") to the value of the parameter.
Status parse_word(const ResolvedParam& p, std::string_view path, std::string_view word, double& value);

/// The public description of a resolved parameter.
ParameterInfo describe(const ResolvedParam& p, std::string path);

}  // namespace rtmix::engine
