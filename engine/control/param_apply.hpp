// Turning a resolved parameter and a value into model updates and audio-thread messages.
// Control side only.
#pragma once

#include <vector>

#include "control/param_change.hpp"
#include "control/param_table.hpp"
#include "session/model.hpp"

namespace rtmix::engine {

/// The model's current value of the parameter (words as their index, booleans as 0/1).
double read_param(const ResolvedParam& p, double sample_rate);

/// Stores `value` (already validated) in the model.
void write_param(const ResolvedParam& p, double value, double sample_rate);

/// Appends the message that carries the model's value of `p` to the audio thread. Mute, solo and
/// solo_safe carry nothing themselves; see mute_changes().
void param_changes(const ResolvedParam& p, std::vector<ParamChange>& out);

/// Appends a mute message for every strip whose effective mute (own mute or silenced by a solo)
/// differs from what the audio side was last told; `mutes` receives the new effective mutes.
void mute_changes(const Model& model, std::vector<bool>& mutes, std::vector<ParamChange>& out);

/// Records `mutes` (from mute_changes) as what the audio side now knows.
void commit_mutes(Model& model, const std::vector<bool>& mutes);

/// Checks `value` against the parameter's kind and range; the message names the path and range.
Status validate_number(const ResolvedParam& p, std::string_view path, double value);

/// Converts a word ("rms", "highpass", "on", "-3.5") to the value of the parameter.
Status parse_word(const ResolvedParam& p, std::string_view path, std::string_view word, double& value);

}  // namespace rtmix::engine
