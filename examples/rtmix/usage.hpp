// What every rtmix command shares: the usage error it throws and the exit codes it returns.
#pragma once

#include <string>

namespace rtmix::cli {

/// A mistake on the command line; main() prints it with a hint and exits with exit_usage.
struct UsageError {
    std::string message;
};

/// Exit codes: success, the work failed (render, unreadable file), usage or session error.
constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2;

}  // namespace rtmix::cli
