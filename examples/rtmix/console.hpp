// The live console of `rtmix play`: commands read line by line from a terminal or a pipe change
// the mix while it plays (set, mute, solo, transport, automation recording, save), and meters
// show what it does.
//
// The pure parts (time and command parsing, the Console that runs one line and returns what it
// prints) need no audio device, so tests drive them with a Player whose process() they call
// themselves. run_console() adds the input loop, the periodic health checks and the live display.
// Everything here runs on the main thread and only calls the control side of the library.
#pragma once

#include <rtmix/live.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtmix::cli {

class SessionReloader;

struct ConsoleOptions {
    std::FILE* out = stdout;  // messages, meters
    int in_fd = 0;            // commands (a terminal or a pipe)
    const std::atomic<bool>* interrupted = nullptr;  // set by SIGINT: quit
    SessionReloader* reloader = nullptr;  // `reload`, and --watch at every tick
};

enum class ConsoleEnd { quit, input_closed, backend_failed, rate_changed };

/// Runs the console until `quit`, end of input, a backend failure or a sample-rate change.
/// On rate_changed, `new_rate` is the backend's new rate (the caller rebuilds the player).
/// End of input is `quit` when the input is a terminal (Ctrl-D), input_closed otherwise.
ConsoleEnd run_console(Player& player, Backend& backend, const ConsoleOptions& options, double& new_rate);

/// "90", "12.5", "1:30", "1:30.25", "1:02:03" -> seconds; nothing for anything else (negative,
/// empty parts, seconds or minutes of 60 and more after a colon, a fraction before the last part).
std::optional<double> parse_time(std::string_view text);
/// Seconds for people: "1:30.0", "1:02:03.5".
std::string format_time(double seconds);

/// One console line, split into words. A word in double quotes may hold spaces (a strip named
/// "lead vox"); inside quotes, \" and \\ stand for " and \. A word starting with # begins a comment.
struct Command {
    std::string name;               ///< the command (aliases resolved: "exit" is "quit"); empty: nothing to do
    std::vector<std::string> args;
    std::string error;              ///< unknown command, wrong arguments or bad quoting; then name is empty
};
Command parse_command(std::string_view line);

/// The console's state and its commands, without any input or output of its own.
class Console {
public:
    /// `backend` may be null (tests): status then reports no backend and tick() checks only the
    /// player.
    Console(Player& player, Backend* backend);
    /// `reload` re-reads the session file through `reloader`, and tick() lets it watch the file.
    void set_reloader(SessionReloader* reloader) noexcept { reloader_ = reloader; }

    /// Runs one line and returns what it prints: lines ending in '\n', empty for a blank line or a
    /// comment. A change is acknowledged with "ok: ...", a failure starts with "error: ".
    std::string execute(std::string_view line);
    /// After `quit`.
    bool quit_requested() const noexcept { return quit_; }
    /// After `watch`: true once (the caller then runs the live display).
    bool take_watch_request() noexcept;

    /// What tick() found: lines to print, and whether the console must end.
    struct Tick {
        std::string output;
        std::optional<ConsoleEnd> end;  ///< backend_failed or rate_changed
        double new_rate = 0.0;
    };
    /// Reads the backend's status and the player's stream health. Called about ten times a
    /// second; new xruns and underruns are reported at most once a second, a stream error and
    /// each of the backend's notes once. `quiet` (during a watch, whose frames show the counts):
    /// only the checks; the error and the notes wait for the next tick that is not quiet.
    Tick tick(std::chrono::steady_clock::time_point now, bool quiet = false);

    /// One snapshot of every strip's meters, the master loudness and the transport (`meters`).
    std::string meters_text() const;
    /// One frame of the live display (`watch`): bars, peak hold, gain reduction; no escape codes.
    std::string watch_frame() const;
    /// The command list (`help`).
    static std::string help_text();

private:
    struct StripRef {
        std::string path;  ///< "track.kick", "bus.drums", "master"
        std::string label; ///< "track kick", for people
    };

    std::string run(const Command& c);
    std::string set_parameter(const std::string& path, const std::string& value);
    std::string get_parameter(const std::string& path);
    /// touch, latch, write, read: Engine::record(); `seconds`: a touch's timeout.
    std::string record(const std::string& path, AutomationMode mode, const std::string* seconds);
    std::string strip_flag(const std::string& name, const char* key, bool on);
    std::string unsolo_all();
    std::string status_text();
    std::string save(const std::string& file);
    SessionReloader* reloader_ = nullptr;
    std::string reload_pending_;  // what a reload during a quiet tick found, printed at the next
    /// "kick", "track.kick", "bus.drums" -> the strip path, or an error message (`error` set).
    std::string resolve_strip(const std::string& name, bool allow_master, std::string& error) const;
    std::string transport_line() const;
    std::string health_line() const;
    /// Takes the backend's counters in (status() hands each reading out once).
    void absorb(const BackendStatus& status);

    Player& player_;
    Backend* backend_;
    std::vector<StripRef> strips_;  // tracks, buses, then the master: the meters' order
    bool quit_ = false;
    bool watch_ = false;

    // Health, as counted by tick().
    std::uint64_t xruns_ = 0, xruns_reported_ = 0;
    std::uint64_t underruns_ = 0;  // the total at the last report
    std::vector<std::pair<std::string, std::uint64_t>> track_underruns_reported_;
    std::string stream_error_reported_;
    /// Non-finite signals, per strip: when the last was reported, and how many came since.
    struct Repeated {
        std::chrono::steady_clock::time_point last{};
        std::uint64_t since = 0;
    };
    std::map<std::string, Repeated> non_finite_;
    std::vector<std::string> notes_;  // the backend's notes not yet printed
    std::chrono::steady_clock::time_point last_report_{};
    std::uint64_t callbacks_ = 0;       // the backend's callback count at the last reading
    double load_sum_ = 0.0;             // load x callbacks since the last `status`
    std::uint64_t load_callbacks_ = 0;
    double load_peak_ = 0.0;            // the largest callback load since the last `status`
};

}  // namespace rtmix::cli
