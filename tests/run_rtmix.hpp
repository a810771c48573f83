// Runs the rtmix program as a process for the program tests: stdin is /dev/null, stdout and
// stderr go to files, read back once it has exited (so stderr is not a terminal). Needs RTMIX_CLI,
// the program's path, and Catch2.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "files.hpp"

extern char** environ;

namespace rtmix::test {

struct Result {
    int exit_code = -1;  ///< -1 when the program did not exit normally (a signal)
    std::string out, err;
};

/// Runs `rtmix` with `args`; stdin is /dev/null, stdout and stderr go to files in DIR/io, read
/// back once it has exited. With `file_size_limit`, the program cannot make a file larger than
/// that many bytes (RLIMIT_FSIZE, SIGXFSZ ignored: its writes fail with EFBIG), as on a full disk.
inline Result run_rtmix(const TempDir& dir, const std::vector<std::string>& args, rlim_t file_size_limit = RLIM_INFINITY) {
    std::filesystem::create_directories(dir / "io");
    const std::string out_file = (dir / "io/stdout").string(), err_file = (dir / "io/stderr").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    std::string program = RTMIX_CLI;
    argv.push_back(program.data());
    std::vector<std::string> copies = args;
    for (std::string& a : copies) argv.push_back(a.data());
    argv.push_back(nullptr);

    // The limit and the ignored signal are inherited by the child; this process gets its own back
    // right after the spawn.
    rlimit saved_limit{};
    struct sigaction saved_action {};
    const bool limited = file_size_limit != RLIM_INFINITY;
    if (limited) {
        REQUIRE(getrlimit(RLIMIT_FSIZE, &saved_limit) == 0);
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        REQUIRE(sigaction(SIGXFSZ, &ignore, &saved_action) == 0);
        rlimit limit = saved_limit;
        limit.rlim_cur = file_size_limit;
        REQUIRE(setrlimit(RLIMIT_FSIZE, &limit) == 0);
    }
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, RTMIX_CLI, &actions, nullptr, argv.data(), environ);
    if (limited) {
        setrlimit(RLIMIT_FSIZE, &saved_limit);
        sigaction(SIGXFSZ, &saved_action, nullptr);
    }
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(spawned == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = test::read_bytes(out_file);
    r.err = test::read_bytes(err_file);
    return r;
}

/// Runs `rtmix` with `args`, its stdin and stdout pipes: `input` is written to stdin (then
/// closed), stdout is read from the pipe until the program closes it; stderr goes to DIR/io/stderr.
inline Result run_rtmix_piped(const TempDir& dir, const std::vector<std::string>& args, const std::string& input = {}) {
    std::filesystem::create_directories(dir / "io");
    const std::string err_file = (dir / "io/stderr").string();
    int in_pipe[2], out_pipe[2];
    REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    std::string program = RTMIX_CLI;
    argv.push_back(program.data());
    std::vector<std::string> copies = args;
    for (std::string& a : copies) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, RTMIX_CLI, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    REQUIRE(spawned == 0);
    // The input first (small: it fits the pipe's buffer, or the program reads it), then stdout.
    struct sigaction ignore {}, saved {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &saved);  // the program may exit without reading its input
    for (std::size_t done = 0; done < input.size();) {
        const ssize_t n = ::write(in_pipe[1], input.data() + done, input.size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(in_pipe[1]);
    sigaction(SIGPIPE, &saved, nullptr);
    Result r;
    char buffer[65536];
    for (ssize_t n; (n = ::read(out_pipe[0], buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        REQUIRE(n > 0);
        r.out.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out_pipe[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = test::read_bytes(err_file);
    return r;
}

}  // namespace rtmix::test
