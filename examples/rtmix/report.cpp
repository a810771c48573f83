#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

namespace rtmix::cli {

namespace {

using Kind = SessionStrip::Kind;

std::string clock(double seconds) {
    const auto minutes = static_cast<long>(seconds / 60.0);
    return fmt::format("{}:{:04.1f}", minutes, seconds - 60.0 * static_cast<double>(minutes));
}

}  // namespace

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<int>(c));
                else out += c;
        }
    }
    return out + "\"";
}

std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    if (std::fabs(v) < 0.005) v = 0.0;
    return fmt::format("{:.2f}", v);
}

namespace {

/// A level for people: one decimal, or "-inf".
std::string level(double v) { return std::isfinite(v) ? fmt::format("{:.1f}", v) : std::string("-inf"); }

std::string loudness_line(const Loudness& l) {
    return fmt::format("{} LUFS, LRA {} LU, true peak {} dBTP", level(l.integrated_lufs), level(l.range_lu),
                       level(l.true_peak_dbtp));
}

std::string loudness_json(const Loudness& l) {
    return fmt::format("{{\"integrated_lufs\": {}, \"range_lu\": {}, \"true_peak_dbtp\": {}, \"sample_peak_dbfs\": {}, "
                       "\"max_momentary_lufs\": {}, \"max_short_term_lufs\": {}}}",
                       json_number(l.integrated_lufs), json_number(l.range_lu), json_number(l.true_peak_dbtp),
                       json_number(l.sample_peak_dbfs), json_number(l.max_momentary_lufs),
                       json_number(l.max_short_term_lufs));
}

std::string json_strings(const std::vector<std::string>& list) {
    std::string out = "[";
    for (std::size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + json_string(list[i]);
    return out + "]";
}

std::string display_name(const std::string& strip_path) {
    const std::size_t dot = strip_path.find('.');
    return dot == std::string::npos ? strip_path : strip_path.substr(0, dot) + " " + strip_path.substr(dot + 1);
}

/// What a strip does beyond its fader, in the order it runs: "reverb, eq 2 bands, compressor,
/// insert.1 gate".
std::string features(const Session& session, const SessionStrip& strip) {
    const std::string prefix = strip.path() + ".";
    std::map<std::string, bool> eq_on;  // band -> on
    bool compressor = false, limiter = false;
    for (const SessionSetting& s : session.settings()) {
        if (!s.path.starts_with(prefix)) continue;
        const std::string rest = s.path.substr(prefix.size());
        if (rest.starts_with("eq.") && rest.ends_with(".type") && std::holds_alternative<std::string>(s.value))
            eq_on[rest] = std::get<std::string>(s.value) != "off";
        const auto on = [&] {
            return std::holds_alternative<double>(s.value) ? std::get<double>(s.value) != 0.0
                                                           : std::get<std::string>(s.value) != "0";
        };
        if (rest == "compressor.enabled") compressor = on();
        if (rest == "limiter.enabled") limiter = on();
    }
    std::vector<std::string> parts;
    const auto keyed = [&](const std::string& processor) {
        for (const SessionSidechain& sc : strip.sidechains)
            if (sc.processor == processor) return fmt::format(" (sidechain {})", sc.source);
        return std::string();
    };
    const auto inserts = [&](InsertPosition position) {
        for (const SessionInsert& i : strip.inserts)
            if (i.position == position)
                parts.push_back((i.slot == i.type ? i.type : fmt::format("{} {}", i.slot, i.type)) + keyed(i.slot));
    };
    inserts(InsertPosition::pre);
    std::size_t bands = 0;
    for (const auto& [band, on] : eq_on) bands += on;
    if (bands > 0) parts.push_back(fmt::format("eq {} band{}", bands, bands == 1 ? "" : "s"));
    if (compressor) parts.push_back("compressor" + keyed("compressor"));
    inserts(InsertPosition::post);
    if (limiter) parts.emplace_back("limiter");
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out.empty() ? "" : "[" + out + "]";
}

std::string stem_text(const Session& session, const SessionStrip& s) {
    if (s.live()) {
        std::string sources;
        for (const std::string& p : s.input.ports) sources += (sources.empty() ? "" : ", ") + p;
        for (std::uint32_t c : s.input.device_channels) sources += fmt::format("{}channel {}", sources.empty() ? "" : ", ", c);
        return fmt::format("live input {} ({})", sources, s.channels() == 1 ? "mono" : "stereo");
    }
    std::error_code ec;
    std::filesystem::path shown = std::filesystem::relative(s.stem.path, std::filesystem::absolute(session.file()).parent_path(), ec);
    if (ec || shown.empty()) shown = s.stem.path;
    std::string out = fmt::format("{} ({}, {}, {} Hz, {})", shown.string(), s.stem.channels == 1 ? "mono" : "stereo",
                                  s.stem.format, s.stem.sample_rate, clock(static_cast<double>(s.stem.frames) / s.stem.sample_rate));
    if (s.offset_ms != 0.0) out += fmt::format(" at {:+.1f} ms", s.offset_ms);
    return out;
}

std::string sends_text(const SessionStrip& s) {
    std::string out;
    for (const SessionSend& send : s.sends)
        out += fmt::format("{}-> {} {:.1f} dB{}", out.empty() ? "sends " : ", ", send.bus, send.level_db,
                           send.pre_fader ? " pre" : "");
    return out;
}

void tree(const Session& session, const std::string& destination, const std::string& indent, std::string& out) {
    std::vector<const SessionStrip*> children;
    for (const SessionStrip& s : session.strips())
        if (s.kind != Kind::master && s.output == destination) children.push_back(&s);
    for (std::size_t i = 0; i < children.size(); ++i) {
        const SessionStrip& s = *children[i];
        const bool last = i + 1 == children.size();
        std::string line = indent + (last ? "└─ " : "├─ ") + display_name(s.path());
        const std::string f = features(session, s);
        if (!f.empty()) line += "  " + f;
        if (s.kind == Kind::track) line += "  " + stem_text(session, s);
        const std::string sends = sends_text(s);
        if (!sends.empty()) line += "  " + sends;
        out += line + "\n";
        if (s.kind == Kind::bus) tree(session, s.name, indent + (last ? "   " : "│  "), out);
    }
}

}  // namespace

void ProgressBar::update(const RenderProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    const double done_s = static_cast<double>(p.frames_done) / rate_;
    const double wall = std::chrono::duration<double>(now - started_).count();
    const double speed = wall > 0 ? done_s / wall : 0.0;
    if (p.in_tail) {
        std::fprintf(stderr, "\r\033[K[##############################] ringing out  %s  %.1fx real time", clock(done_s).c_str(), speed);
    } else {
        const double fraction = p.frames_total ? static_cast<double>(p.frames_done) / static_cast<double>(p.frames_total) : 1.0;
        const auto filled = static_cast<int>(fraction * 30.0);
        std::fprintf(stderr, "\r\033[K[%s%s] %3.0f%%  %s / %s  %.1fx real time", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                     std::string(static_cast<std::size_t>(30 - filled), '.').c_str(), 100.0 * fraction, clock(done_s).c_str(),
                     clock(static_cast<double>(p.frames_total) / rate_).c_str(), speed);
    }
    std::fflush(stderr);
}

void ProgressBar::clear() {
    if (!drawn_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
}

std::string summary_text(const RenderSummary& s, const std::string& format) {
    std::string out = fmt::format("rendered {}  ({}, {:.0f} Hz, stereo)\n", s.output.string(), format, s.sample_rate);
    out += fmt::format("  length       {}  (tail {:.2f} s)\n", clock(s.seconds), s.tail_seconds);
    out += fmt::format("  speed        {:.1f}x real time  ({:.2f} s)\n", s.speed, s.wall_seconds);
    out += fmt::format("  master peak  {:+.1f} dBFS\n", s.master_peak_dbfs);
    out += fmt::format("  loudness     {}\n", loudness_line(s.loudness));
    if (s.max_limiter_reduction_db < -0.05f)
        out += fmt::format("  limiter      up to {:.1f} dB of gain reduction\n", -s.max_limiter_reduction_db);
    if (s.latency_frames > 0)
        out += fmt::format("  latency      {} frames, compensated\n", s.latency_frames);
    if (!s.dither.empty()) out += fmt::format("  dither       {}\n", s.dither);
    if (const auto& n = s.normalization) {
        out += fmt::format("\n  normalized to {:.1f} LUFS, ceiling {:.1f} dBTP{} in {} passes; limiter gain {:+.1f} dB{}\n",
                           n->target.target_lufs, n->target.ceiling_dbtp,
                           n->target.preset.empty() ? "" : " (" + n->target.preset + ")", n->passes, n->gain_db,
                           n->reached ? "" : "; NOT reached");
        out += fmt::format("    before     {}\n", loudness_line(n->before));
        out += fmt::format("    after      {}\n", loudness_line(s.loudness));
        out += fmt::format("    limiting   up to {:.1f} dB\n", -s.max_limiter_reduction_db);
    }
    out += fmt::format("\n  {:<24} {:>10} {:>13}\n", "strip", "peak dBFS", "max GR dB");
    for (const StripSummary& st : s.strips) {
        const float gr = st.max_gain_reduction_db > -0.05f ? 0.0f : st.max_gain_reduction_db;  // no "-0.0"
        out += fmt::format("  {:<24} {:>10.1f} {:>13.1f}\n", display_name(st.strip), st.peak_dbfs, gr);
    }
    for (const std::string& n : s.notes) out += "note: " + n + "\n";
    for (const std::string& w : s.warnings) out += "warning: " + w + "\n";
    return out;
}

std::string summary_json(const RenderSummary& s, const std::string& format, const std::string& bits) {
    std::string normalization = "null";
    if (const auto& n = s.normalization)
        normalization = fmt::format("{{\"preset\": {}, \"target_lufs\": {:.2f}, \"ceiling_dbtp\": {:.2f}, \"gain_db\": {:.2f}, "
                                    "\"passes\": {}, \"reached\": {}, \"before\": {}}}",
                                    n->target.preset.empty() ? std::string("null") : json_string(n->target.preset),
                                    n->target.target_lufs, n->target.ceiling_dbtp, n->gain_db, n->passes, n->reached,
                                    loudness_json(n->before));
    std::string strips;
    for (const StripSummary& st : s.strips)
        strips += fmt::format("{}\n    {{\"strip\": {}, \"peak_dbfs\": {:.2f}, \"max_gain_reduction_db\": {:.2f}}}",
                              strips.empty() ? "" : ",", json_string(st.strip), st.peak_dbfs, st.max_gain_reduction_db);
    return fmt::format(
        "{{\n  \"output\": {},\n  \"format\": {},\n  \"bits\": {},\n  \"sample_rate\": {:.0f},\n  \"frames\": {},\n"
        "  \"seconds\": {:.6f},\n  \"tail_seconds\": {:.6f},\n  \"wall_seconds\": {:.6f},\n  \"speed\": {:.2f},\n"
        "  \"master_peak_dbfs\": {:.2f},\n  \"clipped_samples\": {},\n  \"dither\": {},\n  \"latency_frames\": {},\n"
        "  \"loudness\": {},\n  \"max_limiter_reduction_db\": {:.2f},\n  \"normalization\": {},\n"
        "  \"strips\": [{}\n  ],\n  \"notes\": {},\n  \"warnings\": {}\n}}\n",
        json_string(s.output.string()), json_string(format), bits.empty() ? std::string("null") : json_string(bits), s.sample_rate, s.frames, s.seconds,
        s.tail_seconds, s.wall_seconds, s.speed, s.master_peak_dbfs, s.clipped_samples,
        s.dither.empty() ? std::string("null") : json_string(s.dither), s.latency_frames, loudness_json(s.loudness),
        s.max_limiter_reduction_db, normalization, strips, json_strings(s.notes), json_strings(s.warnings));
}

std::string check_text(const Session& session, std::uint32_t latency_frames) {
    std::size_t tracks = 0, buses = 0;
    for (const SessionStrip& s : session.strips()) {
        tracks += s.kind == Kind::track;
        buses += s.kind == Kind::bus;
    }
    std::string out = fmt::format("{}: ok. {:.0f} Hz, {}-frame blocks, {} track{}, {} bus{}\n\n", session.file().string(),
                                  session.sample_rate(), session.block_frames(), tracks, tracks == 1 ? "" : "s", buses,
                                  buses == 1 ? "" : "es");
    const SessionStrip& master = session.strips().front();
    out += "master";
    const std::string f = features(session, master);
    if (!f.empty()) out += "  " + f;
    out += "\n";
    tree(session, "master", "", out);
    out += fmt::format("\nlatency: {} frames ({:.2f} ms)\n", latency_frames,
                       1000.0 * latency_frames / session.sample_rate());
    if (const auto& t = session.loudness_target())
        out += fmt::format("loudness target: {:.1f} LUFS, true peak under {:.1f} dBTP{} (renders drive the master limiter)\n",
                           t->target_lufs, t->ceiling_dbtp, t->preset.empty() ? "" : " (" + t->preset + ")");
    if (!session.automation().empty()) {
        out += "automation:\n";
        for (const SessionLane& lane : session.automation()) {
            const auto clock = [&](std::int64_t frame) {
                const double t = static_cast<double>(frame) / session.sample_rate();
                return fmt::format("{}:{:06.3f}", static_cast<long long>(t / 60.0), std::fmod(t, 60.0));
            };
            const std::size_t n = lane.lane.points.size();
            out += fmt::format("  {}  {} point{}, {} to {}\n", lane.path, n, n == 1 ? "" : "s",
                               clock(lane.lane.points.front().frame), clock(lane.lane.points.back().frame));
        }
    }
    for (const std::string& n : session.notes()) out += "note: " + n + "\n";
    for (const std::string& w : session.warnings()) out += "warning: " + w + "\n";
    return out;
}

std::string check_json(const Session& session, std::uint32_t latency_frames) {
    std::string strips;
    for (const SessionStrip& s : session.strips()) {
        std::string sends;
        for (const SessionSend& send : s.sends)
            sends += fmt::format("{}{{\"bus\": {}, \"level_db\": {:.2f}, \"pre_fader\": {}}}", sends.empty() ? "" : ", ",
                                 json_string(send.bus), send.level_db, send.pre_fader);
        std::string line = fmt::format("{}\n    {{\"strip\": {}", strips.empty() ? "" : ",", json_string(s.path()));
        std::string inserts;
        for (const SessionInsert& i : s.inserts)
            inserts += fmt::format("{}{{\"path\": {}, \"type\": {}, \"position\": \"{}\"}}", inserts.empty() ? "" : ", ",
                                   json_string(s.path() + "." + i.slot), json_string(i.type),
                                   i.position == InsertPosition::pre ? "pre" : "post");
        line += fmt::format(", \"inserts\": [{}]", inserts);
        if (s.kind != Kind::master)
            line += fmt::format(", \"output\": {}, \"sends\": [{}]", json_string(s.output == "master" ? "master" : "bus." + s.output), sends);
        if (s.kind == Kind::track && s.live()) {
            std::string sources;
            for (const std::string& p : s.input.ports) sources += (sources.empty() ? "" : ", ") + json_string(p);
            for (std::uint32_t c : s.input.device_channels) sources += fmt::format("{}{}", sources.empty() ? "" : ", ", c);
            line += fmt::format(", \"input\": [{}], \"channels\": {}, \"offset_ms\": {}", sources, s.channels(), s.offset_ms);
        } else if (s.kind == Kind::track)
            line += fmt::format(", \"file\": {}, \"channels\": {}, \"file_sample_rate\": {:.0f}, \"seconds\": {:.6f}, \"offset_ms\": {}",
                                json_string(s.stem.path.string()), s.stem.channels, s.stem.sample_rate,
                                static_cast<double>(s.stem.frames) / s.stem.sample_rate, s.offset_ms);
        strips += line + "}";
    }
    std::string target = "null";
    if (const auto& t = session.loudness_target())
        target = fmt::format("{{\"preset\": {}, \"target_lufs\": {:.2f}, \"ceiling_dbtp\": {:.2f}}}",
                             t->preset.empty() ? std::string("null") : json_string(t->preset), t->target_lufs, t->ceiling_dbtp);
    std::string lanes;
    for (const SessionLane& lane : session.automation()) {
        std::string points;
        for (const Breakpoint& b : lane.lane.points)
            points += fmt::format("{}[{:.6f}, {}, \"{}\"]", points.empty() ? "" : ", ",
                                  static_cast<double>(b.frame) / session.sample_rate(),
                                  std::isfinite(b.value) ? fmt::format("{}", b.value) : std::string("null"), to_string(b.shape));
        lanes += fmt::format("{}\n    {{\"path\": {}, \"points\": [{}]}}", lanes.empty() ? "" : ",", json_string(lane.path),
                             points);
    }
    return fmt::format("{{\n  \"session\": {},\n  \"sample_rate\": {:.0f},\n  \"block_frames\": {},\n  \"latency_frames\": {},\n"
                       "  \"loudness_target\": {},\n  \"strips\": [{}\n  ],\n  \"automation\": [{}\n  ],\n  \"notes\": {},\n"
                       "  \"warnings\": {}\n}}\n",
                       json_string(session.file().string()), session.sample_rate(), session.block_frames(), latency_frames,
                       target, strips, lanes, json_strings(session.notes()), json_strings(session.warnings()));
}

}  // namespace rtmix::cli
