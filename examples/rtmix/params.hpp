// rtmix params: every parameter of a session's mix with its kind, unit, range, default, current
// value and description, for people and (--json) for scripts and remote controls.
#pragma once

#include <string_view>
#include <vector>

namespace rtmix::cli {

/// `rtmix params SESSION [--json] [FILTER]`; returns the exit code.
int run_params(const std::vector<std::string_view>& args);

}  // namespace rtmix::cli
