// rtmix analyze: the loudness of audio files per ITU-R BS.1770-4 / EBU R128, measured by
// rtmix::analyze_file, printed as text or JSON and optionally plotted.
//
//   rtmix analyze FILE... [--json] [--plot OUT.png|OUT.svg]
//
//   --json                 print a JSON array on stdout, one object per file (null for -infinity)
//   --plot OUT.png|OUT.svg draw the loudness over time, one panel per file (written aside,
//                          renamed when complete)
//
// Exit codes: 0 every file measured (and the plot written); 1 a file could not be read (it is
// named on stderr; the other files are still measured and printed) or the plot could not be
// written; 2 usage error.
#include "analyze.hpp"

#include <rtmix/loudness.hpp>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "plot.hpp"
#include "report.hpp"
#include "usage.hpp"

namespace rtmix::cli {

namespace {

constexpr const char* analyze_usage = R"(usage: rtmix analyze FILE... [--json] [--plot OUT.png|OUT.svg]

Measures each file's loudness (ITU-R BS.1770-4, EBU R128): integrated loudness, loudness range,
true peak, sample peak, max momentary and max short-term loudness.

  --json                  print a JSON array on stdout, one object per file
  --plot OUT.png|OUT.svg  draw the momentary and short-term loudness over time, one panel per file
)";

struct AnalyzeArgs {
    std::vector<std::string> files;
    bool json = false;
    std::optional<std::string> plot;
};

AnalyzeArgs parse_analyze(const std::vector<std::string_view>& args) {
    AnalyzeArgs r;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        if (a == "--json") {
            r.json = true;
        } else if (a == "--plot") {
            if (i + 1 >= args.size()) throw UsageError{"--plot needs a file name: --plot OUT.png or --plot OUT.svg"};
            if (r.plot) throw UsageError{"--plot given twice (one plot holds every file)"};
            r.plot = std::string(args[++i]);
            if (plot_format(*r.plot) == PlotFormat::none)
                throw UsageError{fmt::format("--plot '{}': the name must end in .png or .svg", *r.plot)};
        } else if (a.starts_with("-") && a.size() > 1) {
            throw UsageError{fmt::format("unknown option '{}'", a)};
        } else {
            r.files.emplace_back(a);
        }
    }
    if (r.files.empty()) throw UsageError{"analyze needs at least one audio file"};
    return r;
}

/// m:ss.s
std::string clock(double seconds) {
    const long tenths = std::lround(seconds * 10.0);
    return fmt::format("{}:{:04.1f}", tenths / 600, static_cast<double>(tenths % 600) / 10.0);
}

std::string channels_name(unsigned channels) {
    return channels == 1 ? "mono" : channels == 2 ? "stereo" : fmt::format("{} channels", channels);
}

/// One decimal, "-inf" for -infinity, never "-0.0".
std::string figure(double v) {
    if (!std::isfinite(v)) return std::isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";
    if (std::fabs(v) < 0.05) v = 0.0;
    return fmt::format("{:.1f}", v);
}


double seconds_of(const FileLoudness& f) { return static_cast<double>(f.frames) / f.sample_rate; }

std::string loudness_text(const FileLoudness& f) {
    const Loudness& l = f.loudness;
    std::string out = fmt::format("{}  ({:.0f} Hz, {}, {})\n", f.path, f.sample_rate, channels_name(f.channels),
                                  clock(seconds_of(f)));
    struct Row {
        const char* label;
        double value;
        const char* unit;
    };
    const Row rows[] = {{"integrated", l.integrated_lufs, "LUFS"},     {"loudness range", l.range_lu, "LU"},
                        {"true peak", l.true_peak_dbtp, "dBTP"},        {"sample peak", l.sample_peak_dbfs, "dBFS"},
                        {"max momentary", l.max_momentary_lufs, "LUFS"}, {"max short-term", l.max_short_term_lufs, "LUFS"}};
    for (const Row& row : rows) out += fmt::format("  {:<16}{:>7} {}\n", row.label, figure(row.value), row.unit);
    return out;
}

std::string loudness_json(const FileLoudness& f) {
    const Loudness& l = f.loudness;
    return fmt::format(
        "  {{\n    \"path\": {},\n    \"sample_rate\": {:.0f},\n    \"channels\": {},\n    \"frames\": {},\n"
        "    \"seconds\": {:.6f},\n    \"integrated_lufs\": {},\n    \"range_lu\": {},\n    \"true_peak_dbtp\": {},\n"
        "    \"sample_peak_dbfs\": {},\n    \"max_momentary_lufs\": {},\n    \"max_short_term_lufs\": {}\n  }}",
        json_string(f.path), f.sample_rate, f.channels, f.frames, seconds_of(f), json_number(l.integrated_lufs),
        json_number(l.range_lu), json_number(l.true_peak_dbtp), json_number(l.sample_peak_dbfs),
        json_number(l.max_momentary_lufs), json_number(l.max_short_term_lufs));
}

std::string error_json(const std::string& path, const std::string& message) {
    return fmt::format("  {{\n    \"path\": {},\n    \"error\": {}\n  }}", json_string(path), json_string(message));
}

}  // namespace

int run_analyze(const std::vector<std::string_view>& args) {
    for (const std::string_view a : args)
        if (a == "--help" || a == "-h") {
            std::fputs(analyze_usage, stdout);
            return exit_ok;
        }
    const AnalyzeArgs r = parse_analyze(args);

    // Each file is printed once measured; a file that cannot be read is named on stderr (and, in
    // JSON, holds an "error" instead of figures) and the others go on.
    std::vector<FileLoudness> measured;
    bool failed = false, printed = false;
    if (r.json) std::fputs("[\n", stdout);
    for (std::size_t i = 0; i < r.files.size(); ++i) {
        const std::string& path = r.files[i];
        std::string shown;
        try {
            FileLoudness f = analyze_file(path);
            shown = r.json ? loudness_json(f) : loudness_text(f);
            if (r.plot) measured.push_back(std::move(f));
        } catch (const LoudnessError& e) {
            failed = true;
            fmt::print(stderr, "rtmix: {}\n", e.what());
            std::fflush(stderr);
            if (r.json) shown = error_json(path, e.what());
        }
        if (r.json) shown += i + 1 < r.files.size() ? ",\n" : "\n";
        else if (!shown.empty() && std::exchange(printed, true)) std::fputs("\n", stdout);  // a blank line between files
        std::fputs(shown.c_str(), stdout);
        std::fflush(stdout);
    }
    if (r.json) std::fputs("]\n", stdout);
    std::fflush(stdout);

    if (r.plot) {
        if (measured.empty()) {
            fmt::print(stderr, "rtmix: no plot written to '{}': no file could be measured\n", *r.plot);
            return exit_failure;
        }
        try {
            write_loudness_plot(measured, *r.plot);
        } catch (const PlotError& e) {
            fmt::print(stderr, "rtmix: {}\n", e.what());
            return exit_failure;
        }
    }
    return failed ? exit_failure : exit_ok;
}

}  // namespace rtmix::cli
