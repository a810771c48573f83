#include "console.hpp"

#include "reload.hpp"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <exception>

#include <fmt/format.h>

namespace rtmix::cli {

namespace {

using Clock = std::chrono::steady_clock;
using Kind = SessionStrip::Kind;

// --- Words ------------------------------------------------------------------------------------

/// Edits (insertions, deletions, substitutions, swaps of neighbours) that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

/// The candidate nearest to `word` if it looks like a typo of it (the engine's rule: at most a
/// third of the word, and at least 2, edits away), else empty.
std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = std::string_view::npos;
    for (const std::string& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best_distance <= std::max<std::size_t>(2, word.size() / 3) ? best : std::string{};
}

/// " (did you mean 'x'?)" or empty.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    const std::string best = closest(word, candidates);
    return best.empty() ? std::string{} : fmt::format(" (did you mean '{}'?)", best);
}

/// A whole finite number ("-3", "+2.5", "1e-3"); "-inf" and "nan" are words for the engine.
std::optional<double> parse_number(std::string_view text) {
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (first != last && *first == '+') ++first;
    double v = 0.0;
    const auto [end, ec] = std::from_chars(first, last, v);
    if (first == last || ec != std::errc{} || end != last || !std::isfinite(v)) return std::nullopt;
    return v;
}

/// A value as the console shows it: the shortest text that reads back as the same number (values
/// the engine stores as float print as float: 0.1, not 0.10000000149011612).
std::string format_number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    if (v == 0.0) return "0";  // never "-0"
    const auto f = static_cast<float>(v);
    if (static_cast<double>(f) == v) return fmt::format("{}", f);
    return fmt::format("{}", v);
}

/// Levels below this are silence (the engine reports a zero signal as -200 dBFS).
constexpr double silence_db = -150.0;

/// A level for people: one decimal, "-inf" for silence, never "-0.0".
std::string level(double v) {
    if (std::isnan(v)) return "nan";
    if (v < silence_db) return "-inf";
    if (std::isinf(v)) return "inf";
    if (std::fabs(v) < 0.05) return "0.0";
    return fmt::format("{:.1f}", v);
}

// --- Commands ---------------------------------------------------------------------------------

struct CommandSpec {
    std::string_view name;
    std::size_t min_args, max_args;
    std::string_view usage;
    std::string_view help;
};

constexpr std::array command_specs = {
    CommandSpec{"set", 2, 2, "set PATH VALUE", "set a parameter: set track.kick.gain_db -3, set master.eq.1.type peak"},
    CommandSpec{"get", 1, 1, "get PATH", "print a parameter's value"},
    CommandSpec{"mute", 1, 1, "mute NAME", "mute a track or bus (NAME, track.NAME or bus.NAME) or the master"},
    CommandSpec{"unmute", 1, 1, "unmute NAME", "unmute it"},
    CommandSpec{"solo", 1, 1, "solo NAME", "solo a track or bus"},
    CommandSpec{"unsolo", 0, 1, "unsolo [NAME]", "unsolo it; with no name, clear every solo"},
    CommandSpec{"play", 0, 0, "play", "start the transport"},
    CommandSpec{"stop", 0, 0, "stop", "stop the transport (the position stays)"},
    CommandSpec{"locate", 1, 1, "locate TIME", "move the play position: locate 90, locate 1:30, locate 1:02:03.5"},
    CommandSpec{"loop", 1, 2, "loop START END | loop off", "loop a region while playing: loop 0:10 0:20"},
    CommandSpec{"touch", 1, 2, "touch PATH [SECONDS]",
                "record a parameter's sets while playing until released (or SECONDS after the last), then back to its lane"},
    CommandSpec{"latch", 1, 1, "latch PATH", "record a parameter from its first set while playing, then its last value until stop"},
    CommandSpec{"write", 1, 1, "write PATH", "record a parameter's value over all that plays"},
    CommandSpec{"release", 1, 1, "release PATH", "let go of a touch (or of a set that took over from a lane)"},
    CommandSpec{"read", 1, 1, "read PATH", "stop recording a parameter: it plays its lane"},
    CommandSpec{"meters", 0, 0, "meters", "print the meters (dBFS; GR in dB), the loudness and the transport"},
    CommandSpec{"watch", 0, 0, "watch", "show the meters live until a key is pressed (a pipe: until the next line)"},
    CommandSpec{"save", 1, 1, "save FILE", "write the session with the values and automation the mix has now"},
    CommandSpec{"reload", 0, 0, "reload", "read the session file again and apply what changed (values glide, what comes and goes fades)"},
    CommandSpec{"status", 0, 0, "status", "transport, backend, load, xruns and underruns"},
    CommandSpec{"help", 0, 1, "help [COMMAND]", "list the commands, or explain one"},
    CommandSpec{"quit", 0, 0, "quit", "stop playing and leave (also: exit, Ctrl-D on a terminal)"},
};

const CommandSpec* find_command(std::string_view name) {
    if (name == "exit") name = "quit";
    for (const CommandSpec& c : command_specs)
        if (c.name == name) return &c;
    return nullptr;
}

std::vector<std::string> command_names() {
    std::vector<std::string> names;
    for (const CommandSpec& c : command_specs) names.emplace_back(c.name);
    names.emplace_back("exit");
    return names;
}

/// Splits a line into words: blanks separate them, double quotes keep blanks in, # starts a
/// comment where a word would start. Returns false (with `error`) for an unclosed quote.
bool split_words(std::string_view line, std::vector<std::string>& words, std::string& error) {
    std::size_t i = 0;
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (true) {
        while (i < line.size() && blank(line[i])) ++i;
        if (i == line.size() || line[i] == '#') return true;
        std::string word;
        while (i < line.size() && !blank(line[i])) {
            if (line[i] != '"') {
                word += line[i++];
                continue;
            }
            ++i;  // the opening quote
            while (true) {
                if (i == line.size()) {
                    error = "unclosed quote";
                    return false;
                }
                const char c = line[i++];
                if (c == '"') break;
                if (c == '\\' && i < line.size() && (line[i] == '"' || line[i] == '\\')) word += line[i++];
                else word += c;
            }
        }
        words.push_back(std::move(word));
    }
}

// --- Meters -----------------------------------------------------------------------------------

constexpr double bar_floor_db = -60.0;  // the left end of a level bar
constexpr int bar_cells = 30;           // 2 dB per cell
constexpr double gr_floor_db = -20.0;   // the right end of a gain-reduction bar
constexpr int gr_cells = 10;            // 2 dB per cell

/// Cells of a bar of `cells` over [floor_db, 0] that `db` fills.
int cells_for(double db, double floor_db, int cells) {
    if (!(db > floor_db)) return 0;
    return std::clamp(static_cast<int>(std::lround((db - floor_db) / -floor_db * cells)), 0, cells);
}

/// "track kick" cut to `width` columns; cut names end in '~' and never split a UTF-8 character.
std::string fit(const std::string& label, std::size_t width) {
    if (label.size() <= width) return label;
    std::size_t cut = width - 1;
    while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
    return label.substr(0, cut) + "~";
}

}  // namespace

// --- Times ------------------------------------------------------------------------------------

std::optional<double> parse_time(std::string_view text) {
    std::vector<std::string_view> parts;
    while (true) {
        const std::size_t colon = text.find(':');
        parts.push_back(text.substr(0, colon));
        if (colon == std::string_view::npos) break;
        text.remove_prefix(colon + 1);
    }
    if (parts.size() > 3) return std::nullopt;
    double total = 0.0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string_view part = parts[i];
        const bool last = i + 1 == parts.size();
        // Digits with at most one '.', and the '.' only in the seconds: no signs, exponents, "inf".
        const auto digit = [](char c) { return c >= '0' && c <= '9'; };
        const auto digits = static_cast<std::size_t>(std::count_if(part.begin(), part.end(), digit));
        const auto dots = static_cast<std::size_t>(std::count(part.begin(), part.end(), '.'));
        if (digits == 0 || digits + dots != part.size() || dots > (last ? 1u : 0u)) return std::nullopt;
        double v = 0.0;
        const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (ec != std::errc{} || end != part.data() + part.size()) return std::nullopt;
        if (i > 0 && v >= 60.0) return std::nullopt;  // "1:75" is a typo, not 2:15
        total = total * 60.0 + v;
    }
    return total;
}

std::string format_time(double seconds) {
    if (!(seconds > 0.0)) seconds = 0.0;
    const auto tenths = static_cast<long long>(std::llround(seconds * 10.0));
    const long long h = tenths / 36000, m = tenths / 600 % 60, s = tenths / 10 % 60, t = tenths % 10;
    if (h > 0) return fmt::format("{}:{:02}:{:02}.{}", h, m, s, t);
    return fmt::format("{}:{:02}.{}", m, s, t);
}

Command parse_command(std::string_view line) {
    Command c;
    std::vector<std::string> words;
    if (!split_words(line, words, c.error)) return c;
    if (words.empty()) return c;
    const CommandSpec* spec = find_command(words.front());
    if (spec == nullptr) {
        const std::string hint = did_you_mean(words.front(), command_names());
        c.error = fmt::format("unknown command '{}'{}", words.front(), hint.empty() ? " (help lists the commands)" : hint);
        return c;
    }
    const std::size_t count = words.size() - 1;
    if (count < spec->min_args || count > spec->max_args) {
        c.error = fmt::format("usage: {}", spec->usage);
        return c;
    }
    c.name = spec->name;
    c.args.assign(words.begin() + 1, words.end());
    return c;
}

// --- Console ----------------------------------------------------------------------------------

Console::Console(Player& player, Backend* backend) : player_(player), backend_(backend) {
    // The meters' order: tracks, then buses, then the master, as a mixing desk reads left to right.
    for (const Kind kind : {Kind::track, Kind::bus, Kind::master})
        for (const SessionStrip& s : player_.session().strips())
            if (s.kind == kind)
                strips_.push_back({s.path(), kind == Kind::master ? std::string("master")
                                                                  : std::string(kind == Kind::track ? "track " : "bus ").append(s.name)});
}

bool Console::take_watch_request() noexcept {
    const bool w = watch_;
    watch_ = false;
    return w;
}

std::string Console::execute(std::string_view line) {
    const Command c = parse_command(line);
    if (!c.error.empty()) return fmt::format("error: {}\n", c.error);
    if (c.name.empty()) return {};
    try {
        return run(c);
    } catch (const std::exception& e) {  // a command fails; the console goes on
        return fmt::format("error: {}\n", e.what());
    }
}

std::string Console::run(const Command& c) {
    const std::string& name = c.name;
    const auto arg = [&](std::size_t i) -> const std::string& { return c.args[i]; };
    if (name == "set") return set_parameter(arg(0), arg(1));
    if (name == "get") return get_parameter(arg(0));
    if (name == "mute" || name == "unmute") return strip_flag(arg(0), "mute", name == "mute");
    if (name == "solo") return strip_flag(arg(0), "solo", true);
    if (name == "unsolo") return c.args.empty() ? unsolo_all() : strip_flag(arg(0), "solo", false);
    if (name == "play") {
        player_.play();
        return "ok: play\n";
    }
    if (name == "stop") {
        player_.stop();
        return "ok: stop\n";
    }
    if (name == "locate") {
        const std::optional<double> t = parse_time(arg(0));
        if (!t) return fmt::format("error: locate '{}': expected seconds (90, 12.5), m:ss (1:30) or h:mm:ss\n", arg(0));
        player_.locate(*t);
        // Allowed (live inputs and effect tails go on), but likely a typo: say so.
        if (*t > player_.length_s())
            return fmt::format("ok: locate {} (after the end of the stems, {})\n", format_time(*t), format_time(player_.length_s()));
        return fmt::format("ok: locate {}\n", format_time(*t));
    }
    if (name == "loop") {
        if (c.args.size() == 1) {
            if (arg(0) != "off") return fmt::format("error: usage: {}\n", find_command("loop")->usage);
            player_.clear_loop();
            return "ok: loop off\n";
        }
        const std::optional<double> start = parse_time(arg(0)), end = parse_time(arg(1));
        if (!start || !end)
            return fmt::format("error: loop '{}': expected seconds (90, 12.5), m:ss (1:30) or h:mm:ss\n", arg(start ? 1 : 0));
        if (!(*end > *start)) return fmt::format("error: loop {} {}: the end must come after the start\n", arg(0), arg(1));
        player_.set_loop(*start, *end);
        return fmt::format("ok: loop {} - {}\n", format_time(*start), format_time(*end));
    }
    if (name == "touch" || name == "latch" || name == "write" || name == "read")
        return record(arg(0), *automation_mode_from_string(name), c.args.size() > 1 ? &arg(1) : nullptr);
    if (name == "release") {
        if (const Status s = player_.engine().release(arg(0)); !s) return fmt::format("error: {}\n", s.message());
        return fmt::format("ok: release {}\n", arg(0));
    }
    if (name == "meters") return meters_text();
    if (name == "watch") {
        watch_ = true;
        return {};
    }
    if (name == "save") return save(arg(0));
    if (name == "reload") {
        if (reloader_ == nullptr) return "error: this console has no session file to read\n";
        return reloader_->reload(player_);
    }
    if (name == "status") return status_text();
    if (name == "help") {
        if (c.args.empty()) return help_text();
        const CommandSpec* spec = find_command(arg(0));
        if (spec == nullptr) return fmt::format("error: unknown command '{}'{}\n", arg(0), did_you_mean(arg(0), command_names()));
        return fmt::format("{}\n  {}\n", spec->usage, spec->help);
    }
    if (name == "quit") {
        quit_ = true;
        return "ok: quit\n";
    }
    return fmt::format("error: unknown command '{}'\n", name);  // a command in the table but not here
}

std::string Console::set_parameter(const std::string& path, const std::string& value) {
    std::optional<double> number = parse_number(value);
    if (value == "on" || value == "true") number = 1.0;
    if (value == "off" || value == "false") number = 0.0;
    // Not a number: a word ("peak", "-inf"); the engine checks it against the parameter.
    const Status s = number ? player_.engine().set(path, *number) : player_.engine().set(path, std::string_view(value));
    if (!s) return fmt::format("error: {}\n", s.message());
    return fmt::format("ok: {} = {}\n", path, number ? format_number(*number) : value);
}

std::string Console::record(const std::string& path, AutomationMode mode, const std::string* seconds) {
    AutomationRecordOptions options;
    if (seconds != nullptr) {
        const std::optional<double> t = parse_time(*seconds);
        if (!t || !(*t > 0.0))
            return fmt::format("error: touch {} '{}': expected a time after the last set (2, 0.5, 0:01.5)\n", path, *seconds);
        options.touch_timeout_s = *t;
    }
    if (const Status s = player_.engine().record(path, mode, options); !s) return fmt::format("error: {}\n", s.message());
    if (seconds != nullptr) return fmt::format("ok: touch {} (lets go {} s after the last set)\n", path, format_number(options.touch_timeout_s));
    return fmt::format("ok: {} {}\n", to_string(mode), path);
}

std::string Console::get_parameter(const std::string& path) {
    // A word parameter reads as its word ("peak"); every other one as a number.
    if (std::string word; player_.engine().get(path, word)) return fmt::format("{} = {}\n", path, word);
    double value = 0.0;
    if (const Status s = player_.engine().get(path, value); !s) return fmt::format("error: {}\n", s.message());
    return fmt::format("{} = {}\n", path, format_number(value));
}

std::string Console::resolve_strip(const std::string& name, bool allow_master, std::string& error) const {
    const bool qualified = name.starts_with("track.") || name.starts_with("bus.");
    std::vector<std::string> matches, candidates;
    for (const StripRef& s : strips_) {
        if (s.path == "master" && !allow_master) continue;
        // A bare name matches a track's or a bus's name; "track.kick" matches the path itself.
        const std::string bare = s.path == "master" ? s.path : s.path.substr(s.path.find('.') + 1);
        const std::string& key = qualified ? s.path : bare;
        if (key == name) matches.push_back(s.path);
        candidates.push_back(key);
    }
    if (matches.size() == 1) return matches.front();
    if (matches.size() > 1) {
        std::string which;
        for (std::size_t i = 0; i < matches.size(); ++i)
            which.append(i == 0 ? "" : i + 1 == matches.size() ? " or " : ", ").append(matches[i]);
        error = fmt::format("'{}' is a track and a bus: say which, {}", name, which);
        return {};
    }
    if (name == "master") {
        error = "the master cannot be soloed";
        return {};
    }
    std::string hint = did_you_mean(name, candidates);
    if (hint.empty()) {
        std::string list;
        for (std::size_t i = 0; i < candidates.size() && i < 12; ++i) list.append(i ? ", " : "").append(candidates[i]);
        if (candidates.size() > 12) list += ", ...";
        hint = fmt::format(" (the strips: {})", list);
    }
    error = fmt::format("unknown strip '{}'{}", name, hint);
    return {};
}

std::string Console::strip_flag(const std::string& name, const char* key, bool on) {
    std::string error;
    const std::string strip = resolve_strip(name, std::string_view(key) == "mute", error);
    if (strip.empty()) return fmt::format("error: {}\n", error);
    return set_parameter(std::string(strip).append(".").append(key), on ? "1" : "0");
}

std::string Console::unsolo_all() {
    std::vector<std::string> cleared;
    for (const StripRef& s : strips_) {
        if (s.path == "master") continue;
        const std::string path = std::string(s.path).append(".solo");
        double soloed = 0.0;
        if (!player_.engine().get(path, soloed) || soloed == 0.0) continue;
        if (const Status st = player_.engine().set(path, 0.0); !st) return fmt::format("error: {}\n", st.message());
        cleared.push_back(s.path);
    }
    if (cleared.empty()) return "ok: nothing was soloed\n";
    std::string list;
    for (const std::string& p : cleared) list.append(list.empty() ? "" : ", ").append(p);
    return fmt::format("ok: unsolo {}\n", list);
}

std::string Console::save(const std::string& file) {
    try {
        player_.session().with_values_of(player_.engine()).save(file);
    } catch (const SessionError& e) {
        return fmt::format("error: {}\n", e.what());
    }
    return fmt::format("ok: saved {}\n", file);
}

std::string Console::transport_line() const {
    const TransportState t = player_.transport();
    std::string line = fmt::format("{} {} / {}", t.playing ? "playing" : "stopped", format_time(t.position_s),
                                   format_time(player_.length_s()));
    if (t.looping) line += fmt::format(", loop {} - {}", format_time(t.loop_start_s), format_time(t.loop_end_s));
    return line;
}

std::string Console::health_line() const {
    return fmt::format("xruns {}, underruns {}", xruns_, player_.stream_stats().underruns);
}

std::string Console::status_text() {
    std::string out = fmt::format("transport   {}\n", transport_line());
    if (backend_ != nullptr) {
        // Fresh counters; tick() reports what this absorbs as it would have.
        const BackendStatus st = backend_->status();
        absorb(st);
        out += fmt::format("backend     {}, {}\n", backend_->description(), st.running ? "running" : "not running");
        const double mean = load_callbacks_ > 0 ? load_sum_ / static_cast<double>(load_callbacks_) : st.load_average;
        out += fmt::format("load        {:.0f}% average, {:.0f}% peak since the last status; {:.0f}%, {:.0f}% since the start\n",
                           100.0 * mean, 100.0 * load_peak_, 100.0 * st.total_load_average, 100.0 * st.total_load_peak);
        load_sum_ = 0.0;
        load_callbacks_ = 0;
        load_peak_ = 0.0;
    } else {
        out += "backend     none\n";
    }
    const StreamStats ss = player_.stream_stats();
    out += fmt::format("xruns       {}\n", xruns_);
    std::string per_track;
    for (const auto& [track, n] : ss.tracks)
        if (n > 0) per_track.append(per_track.empty() ? " (" : ", ").append(fmt::format("{} {}", track, n));
    out += fmt::format("underruns   {}{}\n", ss.underruns, per_track.empty() ? "" : per_track + ")");
    out += fmt::format("read-ahead  {:.1f} MiB\n", static_cast<double>(ss.buffer_bytes) / (1024.0 * 1024.0));
    std::string recording;
    for (const auto& [path, mode] : player_.engine().recording())
        recording.append(recording.empty() ? "" : ", ").append(fmt::format("{} {}", path, to_string(mode)));
    out += fmt::format("recording   {}\n", recording.empty() ? "nothing" : recording);
    if (!ss.error.empty()) out += fmt::format("stream      {}\n", ss.error);
    return out;
}

void Console::absorb(const BackendStatus& st) {
    xruns_ = st.xruns;  // counted since the backend started
    // The load figures cover the time since the previous status(): weighted by the callbacks
    // they cover, they add up to the mean since the last `status` command.
    const std::uint64_t callbacks = st.callbacks >= callbacks_ ? st.callbacks - callbacks_ : 0;
    callbacks_ = st.callbacks;
    load_sum_ += st.load_average * static_cast<double>(callbacks);
    load_callbacks_ += callbacks;
    load_peak_ = std::max(load_peak_, st.load_peak);
    // Each note comes once, from whichever status() call saw it: kept for the next report.
    notes_.insert(notes_.end(), st.notes.begin(), st.notes.end());
}

Console::Tick Console::tick(Clock::time_point now, bool quiet) {
    Tick t;
    if (backend_ != nullptr) {
        const BackendStatus st = backend_->status();
        absorb(st);
        if (!st.error.empty()) {
            t.output = fmt::format("rtmix: {}\n", st.error);
            t.end = ConsoleEnd::backend_failed;
            return t;
        }
        if (st.rate_changed_to > 0.0) {
            t.new_rate = st.rate_changed_to;
            t.end = ConsoleEnd::rate_changed;
            return t;
        }
    }
    if (!quiet) {
        for (const std::string& note : notes_) t.output += fmt::format("note: {}\n", note);
        notes_.clear();
        // What the audio thread reported (a non-finite signal silenced, workers without
        // real-time priority, ...).
        // The message names its strip. A strip that keeps producing NaNs is reported at most
        // once a second, with the count of those in between.
        for (const Event& e : player_.engine().poll_events()) {
            if (e.code == Event::Code::non_finite_signal) {
                Repeated& r = non_finite_[e.strip];
                if (r.last != Clock::time_point{} && now - r.last < std::chrono::seconds(1)) {
                    ++r.since;
                    continue;
                }
                const std::uint64_t more = r.since;
                r = {now, 0};
                t.output += more > 0 ? fmt::format("note: {} (and {} more in the last second)\n", e.message, more)
                                     : fmt::format("note: {}\n", e.message);
                continue;
            }
            t.output += fmt::format("note: {}\n", e.message);
        }
        // Those held back, once their second is over, even if no more come.
        for (auto& [strip, r] : non_finite_)
            if (r.since > 0 && now - r.last >= std::chrono::seconds(1)) {
                t.output += fmt::format("note: {}: {} more non-finite signal{} in the last second\n", strip, r.since,
                                        r.since == 1 ? "" : "s");
                r = {now, 0};
            }
    }
    // --watch: the session file, when it has changed (while a watch shows, said afterwards).
    if (reloader_ != nullptr) reload_pending_ += reloader_->poll(player_, now);
    if (!quiet) {
        t.output += reload_pending_;
        reload_pending_.clear();
    }
    const StreamStats ss = player_.stream_stats();
    // A stem that broke while playing: said once, and not while a watch would wipe it off.
    if (!quiet && !ss.error.empty() && ss.error != stream_error_reported_) {
        t.output += fmt::format("rtmix: {}\n", ss.error);
        stream_error_reported_ = ss.error;
    }
    if (now - last_report_ < std::chrono::seconds(1)) return t;
    std::string line;
    if (xruns_ > xruns_reported_) line = fmt::format("xruns: {} (+{})", xruns_, xruns_ - xruns_reported_);
    std::string underruns;
    for (const auto& [track, n] : ss.tracks) {
        std::uint64_t before = 0;
        for (const auto& [reported, m] : track_underruns_reported_)
            if (reported == track) before = m;
        if (n > before) underruns.append(underruns.empty() ? "" : ", ").append(fmt::format("track '{}' {} (+{})", track, n, n - before));
    }
    if (underruns.empty() && ss.underruns > underruns_)  // counted without a track to name
        underruns = fmt::format("{} (+{})", ss.underruns, ss.underruns - underruns_);
    if (!underruns.empty()) line.append(line.empty() ? "" : "; ").append("underruns: ").append(underruns);
    if (line.empty()) return t;
    if (!quiet) t.output += line + "\n";
    xruns_reported_ = xruns_;
    underruns_ = ss.underruns;
    track_underruns_reported_ = ss.tracks;
    last_report_ = now;
    return t;
}

std::string Console::meters_text() const {
    std::size_t width = 6;
    for (const StripRef& s : strips_) width = std::max(width, s.label.size());
    width = std::min<std::size_t>(width, 24);
    std::string out = fmt::format("{:<{}} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>7}\n", "strip", width,
                                  "peak L", "peak R", "rms L", "rms R", "hold", "GR", "max GR");
    for (const StripRef& s : strips_) {
        StripMeter m{};
        if (!player_.engine().meter(s.path, m)) continue;
        out += fmt::format("{:<{}} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>7}\n", fit(s.label, width), width, level(m.peak_dbfs[0]),
                           level(m.peak_dbfs[1]), level(m.rms_dbfs[0]), level(m.rms_dbfs[1]), level(m.peak_hold_dbfs),
                           level(m.gain_reduction_db), level(m.max_gain_reduction_db));
    }
    MasterLoudness l{};
    if (player_.engine().master_loudness(l))
        out += fmt::format("loudness: momentary {} LUFS, short-term {} LUFS, integrated {} LUFS, range {} LU, true peak {} dBTP\n",
                           level(l.momentary_lufs), level(l.short_term_lufs), level(l.integrated_lufs), level(l.range_lu),
                           level(l.true_peak_dbtp));
    else
        out += "loudness: not measured (the engine's loudness meter is off)\n";
    out += fmt::format("limiter: GR {} dB, max {} dB\n", level(l.limiter_gain_reduction_db), level(l.limiter_max_gain_reduction_db));
    out += fmt::format("transport: {}\n", transport_line());
    out += health_line() + "\n";
    return out;
}

std::string Console::watch_frame() const {
    std::size_t width = 6;
    for (const StripRef& s : strips_) width = std::max(width, s.label.size());
    width = std::min<std::size_t>(width, 16);

    std::string out = fmt::format("{}   {}\n", transport_line(), health_line());
    // The scale over the level bars: a mark every 10 dB from the left edge (-60); the 0 ends at
    // the right edge.
    std::string scale(static_cast<std::size_t>(bar_cells), ' ');
    for (int db = static_cast<int>(bar_floor_db); db <= 0; db += 10) {
        const std::string mark = fmt::format("{}", db);
        const auto at = static_cast<std::size_t>((db - bar_floor_db) / -bar_floor_db * bar_cells);
        scale.replace(db == 0 ? at - mark.size() : at, mark.size(), mark);
    }
    out += fmt::format("{:<{}}  {} {:>6} {:>6}  GR dB\n", "dBFS", width, scale, "peak", "hold");
    for (const StripRef& s : strips_) {
        StripMeter m{};
        if (!player_.engine().meter(s.path, m)) continue;
        const double peak = std::max(m.peak_dbfs[0], m.peak_dbfs[1]);
        const double rms = std::max(m.rms_dbfs[0], m.rms_dbfs[1]);
        // '#' up to the RMS, '=' on to the peak, '|' at the peak hold, '.' for the rest.
        std::string bar(static_cast<std::size_t>(bar_cells), '.');
        const int peak_cells = cells_for(peak, bar_floor_db, bar_cells);
        const int rms_cells = std::min(cells_for(rms, bar_floor_db, bar_cells), peak_cells);
        std::fill_n(bar.begin(), peak_cells, '=');
        std::fill_n(bar.begin(), rms_cells, '#');
        if (const int hold = cells_for(m.peak_hold_dbfs, bar_floor_db, bar_cells); hold > 0) bar[static_cast<std::size_t>(hold - 1)] = '|';
        // Gain reduction grows from the left: 2 dB a cell, like a level bar over [-20, 0] dB
        // filled by 20 dB minus the reduction.
        std::string gr(static_cast<std::size_t>(gr_cells), '.');
        std::fill_n(gr.begin(), cells_for(gr_floor_db - m.gain_reduction_db, gr_floor_db, gr_cells), '#');
        out += fmt::format("{:<{}} [{}] {:>6} {:>6}  [{}] {:>5}\n", fit(s.label, width), width, bar, level(peak),
                           level(m.peak_hold_dbfs), gr, level(m.gain_reduction_db));
    }
    MasterLoudness l{};
    if (player_.engine().master_loudness(l))
        out += fmt::format("loudness  M {}  S {}  I {} LUFS  LRA {} LU  TP {} dBTP  limiter GR {} dB\n", level(l.momentary_lufs),
                           level(l.short_term_lufs), level(l.integrated_lufs), level(l.range_lu), level(l.true_peak_dbtp),
                           level(l.limiter_gain_reduction_db));
    if (const StreamStats ss = player_.stream_stats(); !ss.error.empty()) out += fmt::format("stream: {}\n", ss.error);
    return out;
}

std::string Console::help_text() {
    std::string out = "commands:\n";
    for (const CommandSpec& c : command_specs) out += fmt::format("  {:<26} {}\n", c.usage, c.help);
    out += "NAME: kick, track.kick or bus.drums. TIME: seconds (90), m:ss (1:30) or h:mm:ss.\n"
           "Double quotes keep spaces in a word (mute \"lead vox\"); # starts a comment.\n";
    return out;
}

// --- The loop ---------------------------------------------------------------------------------

namespace {

/// Lines from a file descriptor, read as they come without ever blocking longer than asked.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}

    /// Waits up to `timeout_ms` for input and keeps what arrives. After the end of input it
    /// only waits.
    void wait(int timeout_ms) {
        pollfd p{eof_ ? -1 : fd_, POLLIN, 0};  // poll() ignores a negative descriptor: a plain sleep
        if (::poll(&p, 1, timeout_ms) <= 0 || eof_) return;  // a timeout, or a signal (the loop checks it)
        char chunk[4096];
        const ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
        else if (n == 0 || (errno != EINTR && errno != EAGAIN)) eof_ = true;  // an input that fails ends like a closed one
    }
    /// Waits up to `timeout_ms` for keys and throws them away: true if any came (or the input ended).
    bool discard_keys(int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return false;
        char chunk[256];
        const ssize_t n = ::read(fd_, chunk, sizeof chunk);
        return n > 0 || n == 0 || (errno != EINTR && errno != EAGAIN);
    }
    bool has_line() const { return buffer_.find('\n') != std::string::npos || (eof_ && !buffer_.empty()); }
    std::optional<std::string> next_line() {
        const std::size_t nl = buffer_.find('\n');
        if (nl == std::string::npos && !(eof_ && !buffer_.empty())) return std::nullopt;
        std::string line = buffer_.substr(0, nl);  // npos: the last line, without a line break
        buffer_.erase(0, nl == std::string::npos ? nl : nl + 1);
        if (line.ends_with('\r')) line.pop_back();
        return line;
    }
    bool at_end() const { return eof_ && buffer_.empty(); }

private:
    int fd_;
    std::string buffer_;
    bool eof_ = false;
};

/// The terminal set up for the live display: keys arrive one at a time without echo, the cursor
/// hidden. The destructor puts everything back, however the display ends (a key, Ctrl-C, a
/// failed backend, an exception).
class WatchTerminal {
public:
    WatchTerminal(int in_fd, std::FILE* out) : out_(out) {
        if (in_fd >= 0 && ::tcgetattr(in_fd, &saved_) == 0) {
            termios raw = saved_;
            raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));  // ISIG stays: Ctrl-C still interrupts
            raw.c_cc[VMIN] = 1;
            raw.c_cc[VTIME] = 0;
            if (::tcsetattr(in_fd, TCSANOW, &raw) == 0) fd_ = in_fd;
        }
        if (out_ != nullptr) std::fputs("\033[?25l\033[H\033[2J", out_);
    }
    ~WatchTerminal() {
        if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
        if (out_ != nullptr) {
            std::fputs("\033[?25h", out_);
            std::fflush(out_);
        }
    }
    WatchTerminal(const WatchTerminal&) = delete;
    WatchTerminal& operator=(const WatchTerminal&) = delete;

private:
    int fd_ = -1;
    termios saved_{};
    std::FILE* out_;
};

bool interrupted(const ConsoleOptions& o) { return o.interrupted != nullptr && o.interrupted->load(); }

void put(std::FILE* out, const std::string& text) {
    if (text.empty()) return;
    std::fputs(text.c_str(), out);
    std::fflush(out);
}

constexpr int tick_ms = 100;

/// The live display of `watch`, until a key (a terminal) or a line (a pipe; it stays in the
/// reader and runs next). Returns how the console ends, or nothing to go on.
std::optional<ConsoleEnd> watch(Console& console, Player& player, LineReader& input, const ConsoleOptions& o,
                                bool in_tty, bool out_tty, double& new_rate) {
    std::optional<Console::Tick> failed;
    Clock::time_point stopped_since = Clock::time_point::max();  // max: not seen stopped
    {
        const WatchTerminal terminal(in_tty ? o.in_fd : -1, out_tty ? o.out : nullptr);
        while (true) {
            if (interrupted(o)) return ConsoleEnd::quit;
            Console::Tick t = console.tick(Clock::now(), true);
            if (t.end) {
                failed = std::move(t);
                break;  // said after the terminal is back to normal
            }
            std::string frame = console.watch_frame();
            if (out_tty) {
                // Redraw in place: each line cleared to its end, the screen below the frame too.
                std::string drawn = "\033[H";
                for (std::size_t at = 0, nl; (nl = frame.find('\n', at)) != std::string::npos; at = nl + 1)
                    drawn.append(frame, at, nl - at).append("\033[K\n");
                drawn += in_tty ? "any key returns to the prompt\033[K\n\033[J" : "\033[J";
                put(o.out, drawn);
            } else {
                put(o.out, frame + "\n");  // plain frames, a blank line between them
            }
            if (input.has_line()) return std::nullopt;
            if (in_tty) {
                if (input.discard_keys(tick_ms)) return std::nullopt;
            } else {
                input.wait(tick_ms);
                if (input.has_line()) return std::nullopt;
                // A script that ends with `watch` watches the rest of the play: until the
                // transport has been stopped for a second (a `play` just sent lands within a
                // callback or two), or has passed the end of the last stem when not looping.
                if (input.at_end()) {
                    const TransportState now = player.transport();
                    if (now.playing) stopped_since = Clock::time_point::max();
                    else if (stopped_since == Clock::time_point::max()) stopped_since = Clock::now();
                    if ((stopped_since != Clock::time_point::max() && Clock::now() - stopped_since >= std::chrono::seconds(1)) ||
                        (now.playing && !now.looping && now.position_s >= player.length_s()))
                        return ConsoleEnd::input_closed;
                }
            }
        }
    }
    put(o.out, failed->output);
    new_rate = failed->new_rate;
    return failed->end;
}

}  // namespace

ConsoleEnd run_console(Player& player, Backend& backend, const ConsoleOptions& options, double& new_rate) {
    Console console(player, &backend);
    console.set_reloader(options.reloader);
    LineReader input(options.in_fd);
    const bool in_tty = ::isatty(options.in_fd) == 1;
    const bool out_tty = ::isatty(::fileno(options.out)) == 1;
    const bool prompt = in_tty && out_tty;
    const auto end_with = [&](const Console::Tick& t) {
        put(options.out, prompt && !t.output.empty() ? "\r\033[K" + t.output : t.output);
        new_rate = t.new_rate;
        return *t.end;
    };
    if (prompt) put(options.out, "> ");
    while (true) {
        if (interrupted(options)) return ConsoleEnd::quit;
        const Console::Tick t = console.tick(Clock::now());
        if (t.end) return end_with(t);
        // On a terminal the report replaces the prompt line and the prompt comes back under it.
        if (!t.output.empty()) put(options.out, prompt ? "\r\033[K" + t.output + "> " : t.output);

        while (std::optional<std::string> line = input.next_line()) {
            put(options.out, console.execute(*line));
            if (console.quit_requested()) return ConsoleEnd::quit;
            if (console.take_watch_request())
                if (const std::optional<ConsoleEnd> end = watch(console, player, input, options, in_tty, out_tty, new_rate)) return *end;
            if (interrupted(options)) return ConsoleEnd::quit;
            if (prompt) put(options.out, "> ");
        }
        if (input.at_end()) {
            if (prompt) put(options.out, "\n");
            return in_tty ? ConsoleEnd::quit : ConsoleEnd::input_closed;  // Ctrl-D on a terminal quits
        }
        input.wait(tick_ms);
    }
}

}  // namespace rtmix::cli
