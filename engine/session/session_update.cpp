// Session::update(): a running mix brought from one version of its session file to the next,
// touching only what differs between the two, as a console's `set` would: values glide, routes
// crossfade, removed strips, sends and inserts fade out (the engine's own declicks), lanes are
// replaced whole. What the engine cannot change while it plays (its tracks: their input
// channels and, live, their streams) is refused before anything is touched.
#include <algorithm>
#include <optional>
#include <variant>

#include <fmt/format.h>

#include "rtmix/session.hpp"
#include "session/session_paths.hpp"

namespace rtmix {

namespace {

using Kind = SessionStrip::Kind;

const SessionStrip* find_strip(const Session& s, Kind kind, const std::string& name) {
    for (const SessionStrip& x : s.strips())
        if (x.kind == kind && x.name == name) return &x;
    return nullptr;
}

std::string destination_of(const std::string& output) { return output == "master" ? "master" : "bus." + output; }

/// "kick" -> "track.kick" or "bus.kick" in `s` (as Session::apply() resolves it).
std::string source_path(const Session& s, const std::string& source) {
    if (source.starts_with("track.") || source.starts_with("bus.")) return source;
    for (const SessionStrip& x : s.strips())
        if (x.kind != Kind::master && x.name == source) return x.path();
    return source;
}

bool same_track(const SessionStrip& a, const SessionStrip& b) {
    return a.name == b.name && a.live() == b.live() && a.channels() == b.channels() && a.stem.path == b.stem.path &&
           a.input.ports == b.input.ports && a.input.device_channels == b.input.device_channels &&
           a.offset_ms == b.offset_ms;
}

/// The inserts of the list ("insert.N"), as types in order.
std::vector<const SessionInsert*> numbered(const SessionStrip& s) {
    std::vector<const SessionInsert*> out;
    for (const SessionInsert& i : s.inserts)
        if (i.slot != "reverb" && i.slot != "delay") out.push_back(&i);
    return out;
}

bool has_effect(const SessionStrip& s, const char* slot) {
    return std::any_of(s.inserts.begin(), s.inserts.end(), [&](const SessionInsert& i) { return i.slot == slot; });
}

std::optional<std::variant<double, std::string>> value_of(const Engine& e, const ParameterInfo& info) {
    if (info.kind == ValueKind::word) {
        std::string w;
        if (!e.get(info.path, w)) return std::nullopt;
        return w;
    }
    double v = 0.0;
    if (!e.get(info.path, v)) return std::nullopt;
    return v;
}

std::string show(const std::variant<double, std::string>& v) {
    return std::holds_alternative<double>(v) ? fmt::format("{:g}", std::get<double>(v)) : std::get<std::string>(v);
}

/// An engine built from `s` that runs no audio: the values and lanes its file gives.
std::unique_ptr<Engine> probe(const Session& s) {
    EngineOptions o = s.engine_options();
    o.threads = 1;
    o.loudness_meter = false;
    auto e = std::make_unique<Engine>(o);
    s.apply(*e);
    return e;
}

}  // namespace

std::vector<std::string> Session::update(Engine& engine, const Session& from) const {
    const SourceLocation file_where{file_.string(), 0, 0};
    // The tracks must be the same ones, in the same order.
    std::vector<const SessionStrip*> old_tracks, new_tracks;
    for (const SessionStrip& s : from.strips())
        if (s.kind == Kind::track) old_tracks.push_back(&s);
    for (const SessionStrip& s : strips_)
        if (s.kind == Kind::track) new_tracks.push_back(&s);
    const std::string restart = "tracks cannot change while the mix plays; restart to apply it (the mix plays on as it was)";
    for (std::size_t i = 0; i < std::max(old_tracks.size(), new_tracks.size()); ++i) {
        if (i >= new_tracks.size())
            throw SessionError(file_where, fmt::format("track '{}' was removed: {}", old_tracks[i]->name, restart));
        const SessionStrip& n = *new_tracks[i];
        if (i >= old_tracks.size()) throw SessionError(n.where, fmt::format("track '{}' was added: {}", n.name, restart));
        const SessionStrip& o = *old_tracks[i];
        if (o.name != n.name)
            throw SessionError(n.where, fmt::format("track '{}' is now '{}' (renamed, added or moved): {}", o.name, n.name, restart));
        if (!same_track(o, n))
            throw SessionError(n.where, fmt::format("track '{}' plays another file or input, or moved on the timeline: {}",
                                                    n.name, restart));
    }
    // Both files as engines: what they set, with every default in place. This one is checked in
    // full (Session::load() did), so what follows can only fail for a reason of the engine's.
    const std::unique_ptr<Engine> before = probe(from), after = probe(*this);

    std::vector<std::string> changes;
    std::vector<std::string> fresh;  // path prefixes whose values are all set (new strips, inserts)
    std::optional<Status> failed;
    auto step = [&](const Status& s, std::string what) {
        if (!s.ok()) {
            if (!failed) failed = s;
            return;
        }
        changes.push_back(std::move(what));
    };
    (void)engine.batch([&]() -> Status {
        // New buses first, so that routes can reach them.
        for (const SessionStrip& s : strips_)
            if (s.kind == Kind::bus && find_strip(from, Kind::bus, s.name) == nullptr) {
                step(engine.add_bus(s.name), fmt::format("added bus '{}'", s.name));
                fresh.push_back(s.path() + ".");
            }
        for (const SessionStrip& s : strips_) {
            const SessionStrip* o = find_strip(from, s.kind, s.name);
            const bool is_new = o == nullptr;
            // The named effects of a bus or the master.
            for (const auto& [slot, effect] : {std::pair{"reverb", Effect::reverb}, std::pair{"delay", Effect::delay}}) {
                const bool had = !is_new && has_effect(*o, slot), has = has_effect(s, slot);
                if (has && !had) {
                    step(engine.add_effect(s.path(), effect), fmt::format("added {}.{}", s.path(), slot));
                    fresh.push_back(fmt::format("{}.{}.", s.path(), slot));
                } else if (had && !has) {
                    step(engine.remove_effect(s.path(), effect), fmt::format("removed {}.{}", s.path(), slot));
                }
            }
            // The list of inserts: what follows the first difference is taken out and put back.
            const std::vector<const SessionInsert*> was = is_new ? std::vector<const SessionInsert*>{} : numbered(*o);
            const std::vector<const SessionInsert*> now = numbered(s);
            std::size_t keep = 0;
            while (keep < was.size() && keep < now.size() && was[keep]->type == now[keep]->type &&
                   was[keep]->position == now[keep]->position)
                ++keep;
            for (std::size_t i = was.size(); i > keep; --i)
                step(engine.remove_insert(fmt::format("{}.insert.{}", s.path(), i)),
                     fmt::format("removed {}.insert.{} ({})", s.path(), i, was[i - 1]->type));
            for (std::size_t i = keep; i < now.size(); ++i) {
                step(engine.add_insert(s.path(), now[i]->type, now[i]->position),
                     fmt::format("added {}.insert.{} ({})", s.path(), i + 1, now[i]->type));
                fresh.push_back(fmt::format("{}.insert.{}.", s.path(), i + 1));
            }
            if (s.kind == Kind::master) continue;
            if (is_new ? s.output != "master" : s.output != o->output)
                step(engine.set_output(s.path(), destination_of(s.output)),
                     fmt::format("{} now goes to {}", s.path(), destination_of(s.output)));
            // Sends: by bus; a send that changes between pre- and post-fader is taken out and put back.
            if (!is_new)
                for (const SessionSend& old_send : o->sends) {
                    const auto it = std::find_if(s.sends.begin(), s.sends.end(),
                                                 [&](const SessionSend& x) { return x.bus == old_send.bus; });
                    if (it == s.sends.end() || it->pre_fader != old_send.pre_fader)
                        step(engine.remove_send(s.path(), "bus." + old_send.bus),
                             fmt::format("removed the send from {} to bus.{}", s.path(), old_send.bus));
                }
            for (const SessionSend& send : s.sends) {
                const auto it = is_new ? std::vector<SessionSend>::const_iterator{}
                                       : std::find_if(o->sends.begin(), o->sends.end(),
                                                      [&](const SessionSend& x) { return x.bus == send.bus; });
                if (is_new || it == o->sends.end() || it->pre_fader != send.pre_fader) {
                    step(engine.add_send(s.path(), "bus." + send.bus, send.level_db, send.pre_fader),
                         fmt::format("added a send from {} to bus.{} at {:g} dB", s.path(), send.bus, send.level_db));
                    fresh.push_back(fmt::format("{}.send.{}.", s.path(), send.bus));
                }
            }
        }
        // Sidechains, now that every strip and insert is in place.
        for (const SessionStrip& s : strips_) {
            const SessionStrip* o = find_strip(from, s.kind, s.name);
            auto key_of = [](const Session& session, const SessionStrip* strip, const std::string& processor) {
                if (strip != nullptr)
                    for (const SessionSidechain& sc : strip->sidechains)
                        if (sc.processor == processor) return source_path(session, sc.source);
                return std::string();
            };
            std::vector<std::string> processors;
            for (const SessionSidechain& sc : s.sidechains) processors.push_back(sc.processor);
            if (o != nullptr)
                for (const SessionSidechain& sc : o->sidechains) processors.push_back(sc.processor);
            std::sort(processors.begin(), processors.end());
            processors.erase(std::unique(processors.begin(), processors.end()), processors.end());
            for (const std::string& p : processors) {
                const std::string was = key_of(from, o, p), now = key_of(*this, &s, p);
                const bool rebuilt = std::any_of(fresh.begin(), fresh.end(),
                                                 [&](const std::string& f) { return (s.path() + "." + p + ".").starts_with(f); });
                if (was != now || (rebuilt && !now.empty()))
                    step(engine.set_sidechain(s.path() + "." + p, now),
                         now.empty() ? fmt::format("{}.{} listens to its own signal", s.path(), p)
                                     : fmt::format("{}.{} listens to {}", s.path(), p, now));
            }
        }
        // Buses gone, last: what fed them has been routed elsewhere above.
        for (const SessionStrip& s : from.strips())
            if (s.kind == Kind::bus && find_strip(*this, Kind::bus, s.name) == nullptr)
                step(engine.remove("bus." + s.name), fmt::format("removed bus '{}'", s.name));
        return {};
    });
    if (failed) throw SessionError(file_where, fmt::format("the running mix refused the change: {}", failed->message()));

    // Values: those the two files give differently, and every value of what was just added.
    for (const ParameterInfo& info : after->parameters()) {
        const auto now = value_of(*after, info);
        if (!now) continue;
        const bool is_fresh = std::any_of(fresh.begin(), fresh.end(), [&](const std::string& f) { return info.path.starts_with(f); });
        const auto was = is_fresh ? std::nullopt : value_of(*before, info);
        if (was && *was == *now) continue;
        const Status s = std::holds_alternative<double>(*now) ? engine.set(info.path, std::get<double>(*now))
                                                               : engine.set(info.path, std::string_view(std::get<std::string>(*now)));
        if (!s.ok()) throw SessionError(file_where, fmt::format("the running mix refused {}: {}", info.path, s.message()));
        if (!is_fresh) changes.push_back(fmt::format("{} = {}", info.path, show(*now)));
    }
    // Lanes: replaced where they differ, cleared where they are gone.
    auto same_lane = [](const Lane& a, const Lane& b) {
        return a.points.size() == b.points.size() &&
               std::equal(a.points.begin(), a.points.end(), b.points.begin(), [](const Breakpoint& x, const Breakpoint& y) {
                   return x.frame == y.frame && x.value == y.value && x.shape == y.shape;
               });
    };
    for (const SessionLane& lane : automation_) {
        const auto it = std::find_if(from.automation().begin(), from.automation().end(),
                                     [&](const SessionLane& l) { return l.path == lane.path; });
        const bool is_fresh = std::any_of(fresh.begin(), fresh.end(), [&](const std::string& f) { return lane.path.starts_with(f); });
        if (!is_fresh && it != from.automation().end() && same_lane(it->lane, lane.lane)) continue;
        if (const Status s = engine.automate(lane.path, session_paths::lane_at_rate(lane.lane, sample_rate_, engine.sample_rate()));
            !s.ok())
            throw SessionError(lane.where, fmt::format("automation: {}", s.message()));
        changes.push_back(fmt::format("new automation of {} ({} points)", lane.path, lane.lane.points.size()));
    }
    for (const SessionLane& lane : from.automation()) {
        const bool kept = std::any_of(automation_.begin(), automation_.end(), [&](const SessionLane& l) { return l.path == lane.path; });
        if (kept) continue;
        // A lane of a strip or insert that is gone went with it.
        ParameterInfo info;
        if (!engine.parameter_info(lane.path, info).ok()) continue;
        (void)engine.automate(lane.path, Lane{});
        changes.push_back(fmt::format("no more automation of {}", lane.path));
    }
    return changes;
}

}  // namespace rtmix
