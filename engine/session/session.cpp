// Session -> Engine: building the mix, checking it against a scratch engine, overrides.
#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "rtmix/session.hpp"
#include "session/session_paths.hpp"

namespace rtmix {

namespace {

using Kind = SessionStrip::Kind;

std::string destination_of(const std::string& output) {
    return output == "master" ? std::string("master") : "bus." + output;
}

std::vector<std::string> bus_names(const std::vector<SessionStrip>& strips) {
    std::vector<std::string> out;
    for (const SessionStrip& s : strips)
        if (s.kind == Kind::bus) out.push_back(s.name);
    return out;
}

[[noreturn]] void unknown_bus(const SourceLocation& where, const std::string& name, const std::string& role,
                              const std::vector<SessionStrip>& strips) {
    std::vector<std::string> names = bus_names(strips);
    std::string message = fmt::format("unknown bus '{}' in {}", name, role);
    std::string best = closest_match(name, names);
    if (best.empty() && role.starts_with("output")) best = closest_match(name, std::vector<std::string>{"master"});
    if (!best.empty()) message += fmt::format(" (did you mean '{}'?)", best);
    else if (names.empty()) message += " (the session has no [[bus]])";
    throw SessionError(where, message);
}

std::string owner_of(const SessionStrip& s) {
    return s.kind == Kind::track ? fmt::format("track '{}'", s.name) : fmt::format("bus '{}'", s.name);
}

}  // namespace

EngineOptions Session::engine_options() const {
    EngineOptions o;
    o.sample_rate = sample_rate_;
    o.max_block_frames = block_frames_;
    // Every setting and routing step queues a message before the first block runs: make room.
    const std::size_t needed = settings_.size() * 4 + strips_.size() * 64 + 1024;
    o.param_queue_capacity = static_cast<std::uint32_t>(std::max<std::size_t>(o.param_queue_capacity, needed));
    return o;
}

std::vector<std::uint32_t> Session::track_input_channels() const {
    std::vector<std::uint32_t> out;
    std::uint32_t next = 0;
    for (const SessionStrip& s : strips_)
        if (s.kind == Kind::track) {
            out.push_back(next);
            next += s.channels();
        }
    return out;
}

std::uint32_t Session::input_channels() const {
    std::uint32_t n = 0;
    for (const SessionStrip& s : strips_)
        if (s.kind == Kind::track) n += s.channels();
    return n;
}

void Session::apply(Engine& engine) const {
    // Names first (so routing can refer to any bus), then inserts, outputs and sends, in one plan.
    const SourceLocation* failed_at = nullptr;
    std::string failed_message;
    auto step = [&](const Status& s, const SourceLocation& where) {
        if (!s.ok() && failed_at == nullptr) {
            failed_at = &where;
            failed_message = s.message();
        }
        return s.ok();
    };
    // Every output and send names a bus of the session (the engine would say "no bus 'x'"; this
    // says where, and what was meant).
    const std::vector<std::string> names = bus_names(strips_);
    auto is_bus = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    for (const SessionStrip& s : strips_) {
        if (s.kind == Kind::master) continue;
        if (s.output != "master" && !is_bus(s.output))
            unknown_bus(s.output_where, s.output, "output of " + owner_of(s), strips_);
        for (const SessionSend& send : s.sends)
            if (!is_bus(send.bus)) unknown_bus(send.where, send.bus, "sends of " + owner_of(s), strips_);
    }

    // Sidechain sources: "kick" is the track or bus of that name; "track.kick" and "bus.kick" say
    // which when both exist.
    auto source_path = [&](const SessionSidechain& sc, const SessionStrip& owner) {
        if (sc.source.starts_with("track.") || sc.source.starts_with("bus.")) return sc.source;
        std::vector<std::string> found, strip_names;
        for (const SessionStrip& s : strips_) {
            if (s.kind == Kind::master) continue;
            strip_names.push_back(s.name);
            if (s.name == sc.source) found.push_back(s.path());
        }
        if (found.size() == 1) return found.front();
        if (found.size() > 1)
            throw SessionError(sc.where, fmt::format("sidechain '{}' of {}.{}: both a track and a bus are called that; "
                                                     "write \"track.{}\" or \"bus.{}\"",
                                                     sc.source, owner.path(), sc.processor, sc.source, sc.source));
        const std::string best = closest_match(sc.source, strip_names);
        throw SessionError(sc.where, fmt::format("sidechain '{}' of {}.{}: no track or bus of that name{}", sc.source,
                                                 owner.path(), sc.processor,
                                                 best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
    };
    std::vector<std::pair<const SessionSidechain*, std::string>> keys;  // resolved before the engine is touched
    for (const SessionStrip& s : strips_)
        for (const SessionSidechain& sc : s.sidechains) keys.emplace_back(&sc, source_path(sc, s));

    const std::vector<std::uint32_t> inputs = track_input_channels();
    // The steps record their own failure with its place in the file; batch()'s status adds nothing.
    (void)engine.batch([&]() -> Status {
        for (const SessionStrip& s : strips_)
            if (s.kind == Kind::bus && !step(engine.add_bus(s.name), s.where)) return {};
        std::size_t t = 0;
        for (const SessionStrip& s : strips_)
            if (s.kind == Kind::track &&
                !step(engine.add_track(s.name, s.channels(), static_cast<std::int32_t>(inputs[t++])), s.where))
                return {};
        for (const SessionStrip& s : strips_)
            for (const SessionInsert& i : s.inserts) {
                const Status added = i.slot == "reverb"  ? engine.add_effect(s.path(), Effect::reverb)
                                     : i.slot == "delay" ? engine.add_effect(s.path(), Effect::delay)
                                                         : engine.add_insert(s.path(), i.type, i.position);
                if (!step(added, i.where)) return {};
            }
        for (const SessionStrip& s : strips_)
            if (s.kind != Kind::master && s.output != "master" &&
                !step(engine.set_output(s.path(), destination_of(s.output)), s.output_where))
                return {};
        for (const SessionStrip& s : strips_)
            for (const SessionSend& send : s.sends)
                if (!step(engine.add_send(s.path(), "bus." + send.bus, send.level_db, send.pre_fader), send.where))
                    return {};
        std::size_t k = 0;
        for (const SessionStrip& s : strips_)
            for (const SessionSidechain& sc : s.sidechains) {
                const std::string& source = keys[k++].second;
                if (!step(engine.set_sidechain(s.path() + "." + sc.processor, source), sc.where)) return {};
            }
        return {};
    });
    if (failed_at != nullptr) throw SessionError(*failed_at, failed_message);

    for (const SessionSetting& setting : settings_) {
        const Status s = std::holds_alternative<double>(setting.value)
                             ? engine.set(setting.path, std::get<double>(setting.value))
                             : engine.set(setting.path, std::string_view(std::get<std::string>(setting.value)));
        if (!s.ok()) throw SessionError(setting.where, s.message());
    }
    for (const SessionLane& lane : automation_) {
        // The file's frames are at the session's rate; a player may run the engine at another.
        const Status s = engine.automate(lane.path, session_paths::lane_at_rate(lane.lane, sample_rate_, engine.sample_rate()));
        if (s.ok()) continue;
        // "breakpoint N" in the message: the place of that breakpoint, else the lane's key.
        const SourceLocation* where = &lane.where;
        const std::string& m = s.message();
        if (const std::size_t at = m.find("breakpoint "); at != std::string::npos) {
            std::size_t n = 0;
            const char* digits = m.data() + at + 11;
            const auto [end, ec] = std::from_chars(digits, m.data() + m.size(), n);
            if (ec == std::errc{} && end != digits && n >= 1 && n <= lane.points_where.size())
                where = &lane.points_where[n - 1];
        }
        throw SessionError(*where, fmt::format("automation: {}", m));
    }
}

void Session::check() const {
    EngineOptions options = engine_options();
    options.threads = 1;  // it only checks: no worker threads
    options.loudness_meter = false;
    Engine scratch(options);
    apply(scratch);
}

void Session::set_override(std::string_view assignment) {
    const SourceLocation where{fmt::format("--set {}", assignment), 0, 0};
    const std::size_t eq = assignment.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == assignment.size())
        throw SessionError(where, "expected PATH=VALUE, for example track.vox.gain_db=-2");
    auto trim = [](std::string_view v) {
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
        return v;
    };
    const std::string path(trim(assignment.substr(0, eq)));
    const std::string value(trim(assignment.substr(eq + 1)));

    // A track's offset belongs to the session, not to the engine.
    if (path.starts_with("track.") && path.ends_with(".offset_ms")) {
        const std::string name = path.substr(6, path.size() - 6 - 10);
        for (SessionStrip& s : strips_)
            if (s.kind == Kind::track && s.name == name) {
                double v = 0;
                const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
                if (ec != std::errc{} || end != value.data() + value.size())
                    throw SessionError(where, fmt::format("{} = '{}': expected a number of milliseconds", path, value));
                if (!(std::abs(v) <= max_offset_ms))
                    throw SessionError(where, fmt::format("{} = {}: out of range [-{:.0f}, {:.0f}] ms (24 hours)", path, value,
                                                          max_offset_ms, max_offset_ms));
                s.offset_ms = v;
                return;
            }
    }
    SessionSetting setting{path, value, where};
    settings_.push_back(setting);
    try {
        check();
    } catch (const SessionError&) {
        settings_.pop_back();
        throw;
    }
}

}  // namespace rtmix
