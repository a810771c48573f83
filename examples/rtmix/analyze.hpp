// rtmix analyze: loudness of audio files (BS.1770-4 / EBU R128), as text, JSON or a plot.
#pragma once

#include <string_view>
#include <vector>

namespace rtmix::cli {

/// Runs `rtmix analyze FILE... [--json] [--plot OUT.png|OUT.svg]` (arguments after "analyze").
/// Throws UsageError for a command-line mistake; returns an exit code otherwise.
int run_analyze(const std::vector<std::string_view>& args);

}  // namespace rtmix::cli
