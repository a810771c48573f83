// `rtmix play SESSION [options]` and `rtmix devices`.
#pragma once

#include <string_view>
#include <vector>

namespace rtmix::cli {

/// Plays a session live with the console on stdin. Returns the exit code; throws UsageError and
/// rtmix::SessionError for main() to report.
int run_play(const std::vector<std::string_view>& args);
/// Lists PortAudio's host APIs and devices.
int run_devices(const std::vector<std::string_view>& args);

}  // namespace rtmix::cli
