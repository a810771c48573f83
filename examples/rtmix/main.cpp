// rtmix: the command-line mixer. A thin program over the library: rtmix::Session loads and
// checks the session file, rtmix::render() renders it; this file parses arguments and prints.
//
//   rtmix render SESSION -o OUT|- [-n|-y] [--format wav|flac|aiff|ogg|opus|mp3|f32] [--bits 16|24|32f]
//                [--set PATH=VALUE]...
//                [--start TIME] [--length TIME] [--tail TIME] [--json] [--strict]
//                [--loudness PRESET | --target-lufs X] [--ceiling-dbtp Y] [--dither none|tpdf|shaped]
//   rtmix check SESSION [--json] [--strict]
//   rtmix params SESSION [--json] [FILTER]
//   rtmix analyze FILE... [--json] [--plot OUT.png|OUT.svg]
//
// Exit codes: 0 success, 1 render or analysis failure, 2 usage or session error.
#include <rtmix/render.hpp>
#include <rtmix/session.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "analyze.hpp"
#include "console.hpp"
#include "output_format.hpp"
#include "params.hpp"
#include "play.hpp"
#include "report.hpp"
#include "usage.hpp"

namespace {

using rtmix::cli::exit_ok, rtmix::cli::exit_usage;
constexpr int exit_render = rtmix::cli::exit_failure;

constexpr const char* usage_text = R"(usage:
  rtmix render SESSION -o OUT [options]   mix the session's stems into a master file
  rtmix check SESSION [--json] [--strict] validate the session, print its routing and latency
                                          (--strict: a damaged stem is an error)
  rtmix params SESSION [--json] [FILTER]  list every parameter: value, range, unit, description
  rtmix analyze FILE... [options]         measure loudness (EBU R128): integrated, range, true peak
  rtmix play SESSION [options]            play the session live (JACK or PortAudio), with a console
  rtmix devices                           list PortAudio's audio devices
  rtmix --help | --version

render options:
  -o, --output FILE       the master file to write (written aside, renamed when complete);
                          - (or /dev/stdout): stream it to stdout, the summary goes to stderr;
                          a FIFO or a device is written through, a link's target is replaced;
                          never the session file or a stem
  -n, --no-clobber        refuse to replace an existing file
  -y, --overwrite         replace an existing file (the default)
  --format FORMAT         wav, flac, aiff, ogg (Vorbis), opus, mp3 or f32 (raw 32-bit float)
                          (default: from the output's extension; a stream without one: wav)
  --bits 16|24|32f        sample format (default 24; 32f is 32-bit float, not for FLAC;
                          not for ogg, opus and mp3, which encode floats)
  --set PATH=VALUE        override a value of the session, e.g. --set track.vox.gain_db=-2
                          (repeatable; any parameter path, or track.NAME.offset_ms)
  --start TIME            start the render this far into the session (seconds or m:ss)
  --length TIME           render exactly this much of the session (default: to the end of the
                          last stem, then the tail)
  --tail TIME             let effects ring this long after the end (default: until silence;
                          with --length: none)
  --threads N             threads that run the mix (default 0: one per usable core; 1: one)
  --json                  print the summary as JSON on stdout
  --strict                refuse damaged inputs (a truncated stem) instead of warning

mastering (render):
  --loudness PRESET       normalize to a preset: streaming (-14 LUFS, -1 dBTP), apple (-16, -1),
                          broadcast (EBU R128: -23, -1)
  --target-lufs X         normalize the integrated loudness to X LUFS (two or more passes)
  --ceiling-dbtp Y        true-peak ceiling of the master limiter (alone: just the limiter)
  --dither none|tpdf|shaped  dither for 16- and 24-bit files (default tpdf; float: never)

play options (docs/live.md):
  --backend jack|portaudio  where the audio goes (default jack)
  --server NAME           JACK: the server to join (default: $JACK_DEFAULT_SERVER or 'default')
  --name NAME             JACK: the client's name (default rtmix)
  --connect               JACK: connect the master to the physical playback ports
  --device NAME|INDEX     PortAudio: the output device (default: the default output)
  --frames N              PortAudio: frames per callback (default 256; JACK: the server's)
  --set PATH=VALUE        override a value of the session (repeatable)
  --start TIME            start playing there
  --loop START END        loop that region
  --duration TIME         quit after that long (default: at `quit`, or at the end when stdin ends)
  --threads N             threads that run the mix (default 0: one per usable core when the backend
                          gives real-time priority, as JACK does, else one)
  --stats                 print the callback load, xruns and underruns at exit
  --watch                 re-read the session file when it changes and apply what changed
  --record FILE           write the master to FILE as it plays (from the first frame played to
                          the end; the render's equal sample for sample), written aside
  --format, --bits, --dither, -n, -y  with --record: as render's

analyze options:
  --json                  print the figures as JSON on stdout, one object per file
  --plot OUT.png|OUT.svg  plot the loudness over time, one panel per file (written aside)
)";

using rtmix::cli::UsageError;

std::atomic<bool> interrupted{false};

void on_interrupt(int) { interrupted.store(true); }

/// A number within [lo, hi] for `option`.
double parse_number(std::string_view option, std::string_view text, double lo, double hi, const char* unit) {
    double v = 0.0;
    const char* first = text.data();
    if (!text.empty() && *first == '+') ++first;
    const auto [end, ec] = std::from_chars(first, text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        throw UsageError{fmt::format("{} '{}': expected a number ({})", option, text, unit)};
    if (!(v >= lo && v <= hi)) throw UsageError{fmt::format("{} {}: out of range [{}, {}] {}", option, text, lo, hi, unit)};
    return v;
}

/// "12.5", "90", "1:30", "1:02:03.5" -> seconds: the console's rule (rtmix::cli::parse_time), so
/// that `--start 1:75` is refused here as `locate 1:75` is there.
double parse_time(std::string_view option, std::string_view text) {
    if (const std::optional<double> t = rtmix::cli::parse_time(text)) return *t;
    throw UsageError{fmt::format("{} '{}': expected seconds (12.5), m:ss (1:30) or h:mm:ss (1:02:03.5), with under 60 "
                                 "seconds and minutes after a colon",
                                 option, text)};
}

struct RenderArgs {
    std::string session;
    rtmix::RenderOptions options;
    std::vector<std::string> overrides;
    std::optional<std::string_view> loudness_preset;
    std::optional<double> target_lufs, ceiling_dbtp;
    bool json = false;
    std::string format_name, bits_name = "24";
};

RenderArgs parse_render(const std::vector<std::string_view>& args) {
    RenderArgs r;
    std::optional<std::string_view> format, bits;
    bool no_clobber = false, overwrite = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= args.size()) throw UsageError{fmt::format("{} needs a value", a)};
            return args[++i];
        };
        if (a == "-o" || a == "--output") r.options.output = std::string(value());
        else if (a == "-n" || a == "--no-clobber") no_clobber = true;
        else if (a == "-y" || a == "--overwrite") overwrite = true;
        else if (a == "--format") format = value();
        else if (a == "--bits") bits = value();
        else if (a == "--set") r.overrides.emplace_back(value());
        else if (a == "--start") r.options.start_s = parse_time(a, value());
        else if (a == "--length") r.options.length_s = parse_time(a, value());
        else if (a == "--tail") r.options.tail_s = parse_time(a, value());
        else if (a == "--json") r.json = true;
        else if (a == "--strict") r.options.strict = true;
        else if (a == "--loudness") r.loudness_preset = value();
        else if (a == "--threads") {
            const double n = parse_number(a, value(), 0, 256, "threads");
            if (n != std::floor(n)) throw UsageError{fmt::format("--threads {}: expected a whole number", n)};
            r.options.threads = static_cast<std::uint32_t>(n);
        }
        else if (a == "--target-lufs") r.target_lufs = parse_number(a, value(), -60.0, 0.0, "LUFS");
        else if (a == "--ceiling-dbtp") r.ceiling_dbtp = parse_number(a, value(), -20.0, 0.0, "dBTP");
        else if (a == "--dither") r.options.dither = rtmix::cli::dither_named(value());
        else if (a.starts_with("-") && a.size() > 1) throw UsageError{fmt::format("unknown option '{}'", a)};
        else if (r.session.empty()) r.session = a;
        else throw UsageError{fmt::format("unexpected argument '{}' (one session file per render)", a)};
    }
    if (r.session.empty()) throw UsageError{"render needs a session file"};
    if (r.options.output.empty()) throw UsageError{"render needs an output file: -o OUT.wav"};

    r.options.no_clobber = rtmix::cli::no_clobber_from(no_clobber, overwrite);

    const rtmix::cli::OutputFormat f = rtmix::cli::output_format(r.options.output, format, bits);
    r.options.format = f.format;
    r.options.sample = f.sample;
    r.format_name = f.format_name;
    r.bits_name = f.bits_name;
    return r;
}

int run_render(const std::vector<std::string_view>& args) {
    const RenderArgs r = parse_render(args);
    rtmix::Session session = rtmix::Session::load(r.session);
    for (const std::string& o : r.overrides) session.set_override(o);

    rtmix::RenderOptions options = r.options;
    // The loudness target: a preset, or the session's, refined by --target-lufs / --ceiling-dbtp.
    std::optional<rtmix::LoudnessTarget> target = session.loudness_target();
    if (r.loudness_preset) {
        target = rtmix::LoudnessTarget::preset_named(*r.loudness_preset);
        if (!target) throw UsageError{fmt::format("--loudness '{}': expected streaming (-14 LUFS), apple (-16) or broadcast (-23)",
                                                  *r.loudness_preset)};
    }
    if (r.target_lufs) {
        if (!target) target = rtmix::LoudnessTarget{};
        target->target_lufs = *r.target_lufs;
        target->preset.clear();
    }
    if (r.ceiling_dbtp) {
        if (target) {
            target->ceiling_dbtp = *r.ceiling_dbtp;
            target->preset.clear();
        } else {  // no loudness target: a true-peak ceiling alone is the master limiter
            session.set_override("master.limiter.enabled=1");
            session.set_override(fmt::format("master.limiter.ceiling_dbtp={}", *r.ceiling_dbtp));
        }
    }
    options.loudness = target;
    const bool to_stdout = r.options.output == "-" || r.options.output == "/dev/stdout";
    const bool show_progress = !r.json && ::isatty(STDERR_FILENO);
    rtmix::cli::ProgressBar bar(session.sample_rate());
    options.progress = [&](const rtmix::RenderProgress& p) {
        if (show_progress) bar.update(p);
        return !interrupted.load(std::memory_order_relaxed);
    };
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    rtmix::RenderSummary summary;
    try {
        summary = rtmix::render(session, options);
    } catch (...) {
        if (show_progress) bar.clear();
        throw;
    }
    if (show_progress) bar.clear();
    const std::string format = rtmix::cli::format_label({r.options.format, r.options.sample, r.format_name, r.bits_name});
    // When the master goes to the standard output, the summary goes to stderr.
    std::FILE* report = to_stdout ? stderr : stdout;
    if (r.json) std::fputs(rtmix::cli::summary_json(summary, r.format_name, r.bits_name).c_str(), report);
    else std::fputs(rtmix::cli::summary_text(summary, format).c_str(), report);
    return exit_ok;
}

int run_check(const std::vector<std::string_view>& args) {
    std::string file;
    bool json = false, strict = false;
    for (const std::string_view a : args) {
        if (a == "--json") json = true;
        else if (a == "--strict") strict = true;
        else if (a.starts_with("-") && a.size() > 1) throw UsageError{fmt::format("unknown option '{}'", a)};
        else if (file.empty()) file = a;
        else throw UsageError{fmt::format("unexpected argument '{}'", a)};
    }
    if (file.empty()) throw UsageError{"check needs a session file"};
    const rtmix::Session session = rtmix::Session::load(file);
    if (strict && !session.warnings().empty()) {
        for (const std::string& w : session.warnings()) fmt::print(stderr, "rtmix: damaged input refused (strict): {}\n", w);
        return exit_usage;
    }
    rtmix::EngineOptions options = session.engine_options();
    options.threads = 1;  // only to ask the latency: no worker threads
    rtmix::Engine engine(options);
    session.apply(engine);
    const std::uint32_t latency = engine.latency_frames();
    std::fputs((json ? rtmix::cli::check_json(session, latency) : rtmix::cli::check_text(session, latency)).c_str(), stdout);
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    // A session of many tracks holds a file open per stem: allow as many open files as the system
    // lets this process have (the soft limit up to the hard one), as servers do.
    if (rlimit files{}; ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &files);
    }
    const std::vector<std::string_view> all(argv + 1, argv + argc);
    try {
        if (all.empty()) throw UsageError{"no command"};
        const std::string_view command = all.front();
        const std::vector<std::string_view> rest(all.begin() + 1, all.end());
        if (command == "--help" || command == "-h" || command == "help") {
            std::fputs(usage_text, stdout);
            return exit_ok;
        }
        if (command == "--version") {
            std::puts("rtmix " RTMIX_VERSION);
            return exit_ok;
        }
        if (command == "render") return run_render(rest);
        if (command == "check") return run_check(rest);
        if (command == "params") return rtmix::cli::run_params(rest);
        if (command == "analyze") return rtmix::cli::run_analyze(rest);
        if (command == "play") return rtmix::cli::run_play(rest);
        if (command == "devices") return rtmix::cli::run_devices(rest);
        throw UsageError{fmt::format("unknown command '{}'", command)};
    } catch (const UsageError& e) {
        if (all.empty()) fmt::print(stderr, "{}", usage_text);
        else fmt::print(stderr, "rtmix: {} (rtmix --help shows the usage)\n", e.message);
        return exit_usage;
    } catch (const rtmix::SessionError& e) {
        fmt::print(stderr, "{}\n", e.what());
        return exit_usage;
    } catch (const rtmix::RenderOptionsError& e) {
        fmt::print(stderr, "rtmix: {}\n", e.what());
        return exit_usage;
    } catch (const rtmix::RenderError& e) {
        fmt::print(stderr, "rtmix: {}\n", e.what());
        return exit_render;
    } catch (const std::exception& e) {
        fmt::print(stderr, "rtmix: {}\n", e.what());
        return exit_render;
    }
}
