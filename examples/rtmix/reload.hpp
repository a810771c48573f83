// Re-reading the session file while it plays: the console's `reload` and `rtmix play --watch`.
// The file is loaded again (with the same --set overrides) and Player::reload() applies what
// changed; a file that does not load, or a change the running mix cannot take, is reported with
// its place and the mix plays on as it was. Runs on the console's (main) thread.
#pragma once

#include <rtmix/live.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace rtmix::cli {

class SessionReloader {
public:
    /// `watch`: poll() follows the file; otherwise only reload() reads it.
    SessionReloader(std::filesystem::path file, std::vector<std::string> overrides, bool watch);

    /// Reads the file now and applies it; returns what to print.
    std::string reload(Player& player);
    /// With watch: looks at the file (at most every 100 ms) and, once a change has stood still
    /// for one look (an editor's save is complete), reloads it. Returns what to print, or "".
    std::string poll(Player& player, std::chrono::steady_clock::time_point now);
    bool watching() const noexcept { return watch_; }

private:
    struct Stamp {
        std::filesystem::file_time_type mtime{};
        std::uintmax_t size = 0;
        bool exists = false;
        bool operator==(const Stamp&) const = default;
    };
    Stamp look() const;

    std::filesystem::path file_;
    std::vector<std::string> overrides_;
    bool watch_ = false;
    Stamp loaded_;   // the file as last read
    Stamp seen_;     // as the last look found it
    std::string text_;  // what the file held when last read
    std::chrono::steady_clock::time_point next_look_{};
};

}  // namespace rtmix::cli
