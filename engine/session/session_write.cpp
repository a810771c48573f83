// Session -> session file: the values a live engine holds now (with_values_of), and the text of
// the file (to_toml). What each path is comes from the public parameter declarations
// (session_paths.hpp).
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "rtmix/session.hpp"
#include "session/session_paths.hpp"

namespace rtmix {

namespace {

using session_paths::Owner;
using session_paths::ParamRef;
using Kind = SessionStrip::Kind;
using Value = std::variant<double, std::string>;

/// delay_ms and delay_samples set the same delay: a file holds one of them, the one set last.
/// Both have the slot of delay_ms; every other parameter has its own path.
std::string slot_of_path(const std::string& path, const ParamRef& p) {
    return p.owner.kind == Owner::Kind::strip && p.rest == "delay_samples" ? fmt::format("{}.delay_ms", p.strip) : path;
}

/// A setting's value as a number: set_override() keeps the text it was given ("-2", "on",
/// "-inf"), a file gives numbers. The session was checked, so the text is valid.
std::optional<double> number_of(const ParamInfo& spec, const Value& value) {
    if (const double* v = std::get_if<double>(&value)) return *v;
    std::string_view text = std::get<std::string>(value);
    if (spec.kind == ValueKind::word) {
        for (std::size_t i = 0; i < spec.words.size(); ++i)
            if (spec.words[i] == text) return static_cast<double>(i);
        return std::nullopt;
    }
    if (spec.kind == ValueKind::boolean) {
        if (text == "true" || text == "on" || text == "yes" || text == "1") return 1.0;
        if (text == "false" || text == "off" || text == "no" || text == "0") return 0.0;
        return std::nullopt;
    }
    if (text == "-inf") return spec.min;  // silence, as the engine takes it
    if (text.starts_with('+')) text.remove_prefix(1);
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return v;
}

/// Shortest text that reads back as the same double (fmt's round-trip format). TOML takes every
/// form it produces: integers ("-3"), decimals ("0.25") and exponents ("1e-05").
std::string number_text(double v) { return fmt::format("{}", v); }

/// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF): the only text a TOML file holds.
bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) length = 1, cp = c;
        else if ((c & 0xE0) == 0xC0) length = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) length = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) length = 4, cp = c & 0x07;
        else return false;
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (next & 0x3F);
        }
        static constexpr std::array<std::uint32_t, 5> smallest = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < smallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += length;
    }
    return true;
}

/// Writes the text of a session file.
class Writer {
public:
    explicit Writer(SourceLocation where) : where_(std::move(where)) {}

    /// A TOML basic string: quotes, backslashes and control characters escaped, the rest as is.
    std::string quoted(std::string_view text, std::string_view what) const {
        if (!valid_utf8(text))
            throw SessionError(where_, fmt::format("{} is not UTF-8 text, which a session file cannot hold", what));
        std::string out = "\"";
        for (const char ch : text) {
            const auto c = static_cast<unsigned char>(ch);
            switch (ch) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\b': out += "\\b"; break;
                case '\t': out += "\\t"; break;
                case '\n': out += "\\n"; break;
                case '\f': out += "\\f"; break;
                case '\r': out += "\\r"; break;
                default:
                    if (c < 0x20 || c == 0x7F) out += fmt::format("\\u{:04X}", c);
                    else out += ch;
            }
        }
        return out + "\"";
    }

    /// The value of a setting in its parameter's form: a number, true/false, or a word.
    std::string value_text(const ParamInfo& spec, const Value& value, const std::string& path) const {
        if (spec.kind == ValueKind::word) {
            if (const std::string* word = std::get_if<std::string>(&value)) return quoted(*word, path);
            const double i = std::get<double>(value);
            if (!(i >= 0 && i < static_cast<double>(spec.words.size())))
                throw SessionError(where_, fmt::format("{} = {}: not one of its words", path, i));
            return quoted(spec.words[static_cast<std::size_t>(i)], path);
        }
        const std::optional<double> v = number_of(spec, value);
        if (!v) throw SessionError(where_, fmt::format("{} = '{}': not a value of it", path, std::get<std::string>(value)));
        if (spec.kind == ValueKind::boolean) return *v != 0.0 ? "true" : "false";
        return number_text(*v);
    }

private:
    SourceLocation where_;
};

/// One strip's settings by their path below the strip ("gain_db", "eq.2.q"), the last one of a
/// path winning as it does when the session is applied.
struct StripValues {
    struct Entry {
        const ParamInfo* spec = nullptr;
        Value value;
        std::string path;
    };
    std::map<std::string, Entry, std::less<>> entries;

    const Entry* find(std::string_view rest) const {
        const auto it = entries.find(rest);
        return it == entries.end() ? nullptr : &it->second;
    }
};

/// `key = value, ...` for the parameters of `owner` (in their declaration order) whose values
/// are found below `rest_prefix`, after `first` (an EQ band's type, a compressor's
/// `enabled = false`, an insert's type); the keys in `skip` are left to the caller.
std::string table_items(const Writer& w, const StripValues& values, const Owner& owner, std::string_view rest_prefix,
                        std::string first, std::initializer_list<std::string_view> skip = {}) {
    std::string items = std::move(first);
    for (const ParamInfo* spec : owner.params()) {
        if (std::find(skip.begin(), skip.end(), spec->key) != skip.end()) continue;
        const StripValues::Entry* e = values.find(fmt::format("{}{}", rest_prefix, spec->key));
        if (e == nullptr) continue;
        items += fmt::format("{}{} = {}", items.empty() ? "" : ", ", spec->key, w.value_text(*spec, e->value, e->path));
    }
    return items;
}

std::string inline_table(std::string items) { return items.empty() ? "{}" : fmt::format("{{ {} }}", items); }

/// `enabled = false` when a compressor or limiter with values is off: the table alone switches
/// it on.
std::string enabled_item(const StripValues& values, const std::string& rest) {
    const StripValues::Entry* e = values.find(rest);
    const std::optional<double> on = e != nullptr ? number_of(*e->spec, e->value) : std::optional<double>(0.0);
    return on && *on != 0.0 ? std::string() : std::string("enabled = false");
}

bool has_prefix(const StripValues& values, std::string_view prefix) {
    const auto it = values.entries.lower_bound(prefix);
    return it != values.entries.end() && std::string_view(it->first).starts_with(prefix);
}

/// A stem's path as the file gives it: relative to the session's folder when the two share a
/// folder below the root (a project folder moved as a whole keeps working), else absolute.
std::string stem_text(const std::filesystem::path& stem, const std::filesystem::path& folder) {
    const std::filesystem::path relative = stem.lexically_relative(folder);
    if (!relative.empty()) {
        std::size_t up = 0, depth = 0;
        for (const auto& part : relative) up += part == ".." ? 1 : 0;
        for (const auto& part : folder.relative_path()) depth += part.empty() ? 0 : 1;
        if (up < depth) return relative.generic_string();
    }
    return stem.generic_string();
}

/// The value a parameter of `engine` has now; false when the engine has no such parameter.
bool read_value(const Engine& engine, const std::string& path, const ParamInfo& spec, Value& out) {
    if (spec.kind == ValueKind::word) {
        std::string word;
        if (!engine.get(path, word).ok()) return false;
        out = std::move(word);
    } else {
        double v = 0;
        if (!engine.get(path, v).ok()) return false;
        out = v;
    }
    return true;
}

/// The engine keeps values as float: -3.3 reads back as -3.299999952316284. The shortest
/// decimal that gives the engine the same value reads better in a file; `trial`, an engine
/// built from the same session, says whether it does.
double tidy(Engine& trial, const std::string& path, double value) {
    if (!(std::abs(value) < 1e30)) return value;
    const std::string text = fmt::format("{}", static_cast<float>(value));
    double shorter = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), shorter);
    if (ec != std::errc{} || end != text.data() + text.size() || shorter == value) return value;
    double back = 0;
    if (!trial.set(path, shorter).ok() || !trial.get(path, back).ok() || back != value) return value;
    return shorter;
}

/// Sets the send of `p` (a send parameter) in `strips` to `value`.
void set_send(std::vector<SessionStrip>& strips, const ParamRef& p, double value) {
    for (SessionStrip& s : strips)
        if (s.path() == p.strip)
            for (SessionSend& send : s.sends)
                if (send.bus == p.owner.bus) {
                    if (p.param->key == "level_db") send.level_db = value;
                    else send.pre_fader = value != 0.0;
                }
}

/// Folds settings of send parameters ("track.kick.send.verb.level_db", from an override) into
/// the sends of `strips`, where a session file keeps them.
void fold_send_settings(std::vector<SessionStrip>& strips, const std::vector<SessionSetting>& settings) {
    for (const SessionSetting& setting : settings) {
        const std::optional<ParamRef> p = session_paths::locate(strips, setting.path);
        if (!p || p->owner.kind != Owner::Kind::send) continue;
        if (const std::optional<double> v = number_of(*p->param, setting.value)) set_send(strips, *p, *v);
    }
}

/// `[track.automation]` (or bus, master) with the strip's lanes, keys relative to the strip;
/// times in seconds where they read back as the same frame, else as "N samples".
std::string automation_text(const Writer& w, const SessionStrip& s, const std::vector<SessionStrip>& strips,
                            const std::vector<SessionLane>& lanes, double sample_rate) {
    const std::string prefix = s.path() + ".";
    std::string out;
    for (const SessionLane& lane : lanes) {
        if (!lane.path.starts_with(prefix)) continue;
        const std::optional<ParamRef> ref = session_paths::locate(strips, lane.path);
        const ParamInfo* spec = ref ? ref->param : nullptr;
        const Shape usual = spec != nullptr && spec->kind != ValueKind::number ? Shape::hold : Shape::linear;
        std::string points;
        for (const Breakpoint& b : lane.lane.points) {
            const double seconds = static_cast<double>(b.frame) / sample_rate;
            const std::string time = std::llround(seconds * sample_rate) == b.frame
                                         ? number_text(seconds)
                                         : fmt::format("\"{} samples\"", b.frame);
            std::string value;
            if (std::isinf(b.value) && b.value < 0) value = "\"-inf\"";
            else if (spec != nullptr) value = w.value_text(*spec, b.value, lane.path);
            else value = number_text(b.value);
            points += fmt::format("{}[{}, {}{}]", points.empty() ? "" : ", ", time, value,
                                  b.shape == usual ? "" : fmt::format(", \"{}\"", to_string(b.shape)));
        }
        out += fmt::format("{} = [ {} ]\n", w.quoted(lane.path.substr(prefix.size()), lane.path), points);
    }
    if (out.empty()) return out;
    const char* table = s.kind == Kind::track ? "track" : s.kind == Kind::bus ? "bus" : "master";
    return fmt::format("\n[{}.automation]\n{}", table, out);
}

std::string strip_text(const Writer& w, const SessionStrip& s, const StripValues& values,
                       const std::filesystem::path& folder) {
    std::string out;
    const std::string owner = s.kind == Kind::track ? fmt::format("track '{}'", s.name) : fmt::format("bus '{}'", s.name);
    if (s.kind != Kind::master) out += fmt::format("name = {}\n", w.quoted(s.name, fmt::format("the name of {}", owner)));
    if (s.kind == Kind::track) {
        const LiveInput& in = s.input;
        auto list = [](const std::vector<std::string>& items) {
            std::string text;
            for (const std::string& item : items) text.append(text.empty() ? "" : ", ").append(item);
            return items.size() == 1 ? text : fmt::format("[{}]", text);
        };
        if (!in.ports.empty()) {
            std::vector<std::string> ports;
            for (const std::string& port : in.ports) ports.push_back(w.quoted(port, fmt::format("an input port of {}", owner)));
            out += fmt::format("input = {}\n", list(ports));
        } else if (!in.device_channels.empty()) {
            std::vector<std::string> channels;
            for (const std::uint32_t c : in.device_channels) channels.push_back(fmt::format("{}", c));
            out += fmt::format("input = {}\n", list(channels));
        } else if (!s.stem.path.empty()) {
            out += fmt::format("file = {}\n", w.quoted(stem_text(s.stem.path, folder), fmt::format("the file of {}", owner)));
        }
        if (s.offset_ms != 0.0) out += fmt::format("offset_ms = {}\n", number_text(s.offset_ms));
    }
    if (s.kind != Kind::master && s.output != "master")
        out += fmt::format("output = {}\n", w.quoted(s.output, fmt::format("the output of {}", owner)));

    // Fader, pan and the other single values, in the order of docs/parameters.md.
    for (const ParamInfo& spec : strip_params())
        if (const StripValues::Entry* e = values.find(spec.key))
            out += fmt::format("{} = {}\n", spec.key, w.value_text(spec, e->value, e->path));

    const std::vector<Owner> owners = session_paths::owners(s);
    const auto owner_of = [&](Owner::Kind kind) -> const Owner& {
        return *std::find_if(owners.begin(), owners.end(), [&](const Owner& o) { return o.kind == kind; });
    };
    // EQ bands up to the last one with a value; every band needs a type, "off" if none was set.
    const Owner& eq = owner_of(Owner::Kind::eq);
    std::uint32_t bands = 0;
    for (std::uint32_t b = 1; b <= eq.type->groups; ++b)
        if (has_prefix(values, fmt::format("eq.{}.", b))) bands = b;
    if (bands > 0) {
        out += "eq = [ ";
        for (std::uint32_t b = 1; b <= bands; ++b) {
            const std::string prefix = fmt::format("eq.{}.", b);
            const StripValues::Entry* type = values.find(prefix + "type");
            const std::string first = fmt::format(
                "type = {}", type != nullptr ? w.value_text(*type->spec, type->value, type->path) : w.quoted("off", "off"));
            out += fmt::format("{}{}{}", b > 1 ? "       " : "", inline_table(table_items(w, values, eq, prefix, first, {"type"})),
                               b < bands ? ",\n" : " ]\n");
        }
    }
    // `sidechain = "kick"` of a processor, as the file gave it.
    const auto sidechain = [&](std::string_view processor) {
        for (const SessionSidechain& sc : s.sidechains)
            if (sc.processor == processor) return fmt::format("sidechain = {}", w.quoted(sc.source, "a sidechain"));
        return std::string();
    };
    const auto joined = [](std::string a, const std::string& b) { return b.empty() ? a : a.empty() ? b : a + ", " + b; };
    if (has_prefix(values, "compressor.") || !sidechain("compressor").empty())
        out += fmt::format("compressor = {}\n",
                           inline_table(joined(table_items(w, values, owner_of(Owner::Kind::compressor), "compressor.",
                                                           enabled_item(values, "compressor.enabled"), {"enabled"}),
                                               sidechain("compressor"))));
    // The named effects, then the list of inserts.
    std::string list;
    for (const Owner& o : owners) {
        if (o.kind != Owner::Kind::insert) continue;
        const std::string prefix = o.prefix + ".";
        if (o.prefix == "reverb" || o.prefix == "delay") {
            out += fmt::format("{} = {}\n", o.prefix, inline_table(table_items(w, values, o, prefix, {})));
            continue;
        }
        std::string first = fmt::format("type = {}", w.quoted(o.type->type, "an insert type"));
        if (o.insert->position == InsertPosition::pre) first += ", position = \"pre\"";
        list += fmt::format("{}{}", list.empty() ? "" : ",\n            ",
                            inline_table(joined(table_items(w, values, o, prefix, first), sidechain(o.prefix))));
    }
    if (!list.empty()) out += fmt::format("inserts = [ {} ]\n", list);
    if (!s.sends.empty()) {
        out += "sends = [ ";
        for (std::size_t i = 0; i < s.sends.size(); ++i) {
            const SessionSend& send = s.sends[i];
            out += fmt::format("{}{{ bus = {}, level_db = {}{} }}{}", i > 0 ? "         " : "",
                               w.quoted(send.bus, fmt::format("a send of {}", owner)), number_text(send.level_db),
                               send.pre_fader ? ", pre_fader = true" : "", i + 1 < s.sends.size() ? ",\n" : " ]\n");
        }
    }
    return out;
}

}  // namespace

Session Session::with_values_of(const Engine& engine) const {
    const std::vector<std::string> paths = engine.parameter_paths();

    // What this session alone gives every parameter: a value the engine still holds was not
    // changed, and its setting (if any) stays as the file wrote it. The same engine tries out
    // shorter numbers (tidy()), one message each.
    EngineOptions options = engine_options();
    options.threads = 1;
    options.loudness_meter = false;
    options.param_queue_capacity += static_cast<std::uint32_t>(std::min<std::size_t>(paths.size(), 1u << 20)) + 64;
    Engine before(options);
    apply(before);

    struct Reading {
        std::string path;
        ParamRef parts;
        Value now, then;
    };
    std::vector<Reading> readings;
    for (const std::string& path : paths) {
        // Strips, sends and inserts the engine gained since apply() are not part of this session.
        std::optional<ParamRef> parts = session_paths::locate(strips_, path);
        if (!parts) continue;
        Reading r{path, std::move(*parts), {}, {}};
        if (read_value(engine, path, *r.parts.param, r.now) && read_value(before, path, *r.parts.param, r.then))
            readings.push_back(std::move(r));
    }

    Session out = *this;
    fold_send_settings(out.strips_, settings_);
    // The settings of the file, once per path (or delay slot), at the place of the first with the
    // value of the last, which is what applying them leaves.
    std::vector<SessionSetting> settings;
    std::map<std::string, std::size_t> slot_of;
    std::set<std::string> new_delays;  // slots of delays the engine has and the file had not
    for (const SessionSetting& setting : settings_) {
        const std::optional<ParamRef> p = session_paths::locate(strips_, setting.path);
        if (p && p->owner.kind == Owner::Kind::send) continue;
        const auto [it, inserted] = slot_of.try_emplace(p ? slot_of_path(setting.path, *p) : setting.path, settings.size());
        if (inserted) settings.push_back(setting);
        else settings[it->second] = SessionSetting{setting.path, setting.value, settings[it->second].where};
    }

    for (Reading& r : readings) {
        if (r.now == r.then) continue;
        if (double* v = std::get_if<double>(&r.now); v != nullptr && r.parts.param->kind == ValueKind::number)
            *v = tidy(before, r.path, *v);
        if (r.parts.owner.kind == Owner::Kind::send) {
            set_send(out.strips_, r.parts, std::get<double>(r.now));
            continue;
        }
        const auto [it, inserted] = slot_of.try_emplace(slot_of_path(r.path, r.parts), settings.size());
        SessionSetting& setting = inserted ? settings.emplace_back() : settings[it->second];
        if (inserted) {
            setting = SessionSetting{r.path, std::move(r.now), SourceLocation{}};
            if (r.parts.owner.kind == Owner::Kind::strip && (r.parts.rest == "delay_ms" || r.parts.rest == "delay_samples"))
                new_delays.insert(it->first);
        } else if (setting.path == r.path) {
            setting.value = std::move(r.now);
        } else if (new_delays.contains(it->first) &&
                   number_text(std::get<double>(r.now)).size() < number_text(std::get<double>(setting.value)).size()) {
            // A delay the file did not have: in whichever unit reads shorter ("delay_ms = 2.5",
            // "delay_samples = 17" rather than "delay_ms = 0.35416666").
            setting = SessionSetting{r.path, std::move(r.now), SourceLocation{}};
        }
    }
    out.settings_ = std::move(settings);

    // The lanes the engine has now (recorded ones included): those of the file in its order,
    // each as the file wrote it while unchanged, then the new ones in the order of the paths.
    // Compared at the engine's rate (the file's lanes moved there as apply() moves them), written
    // at the session's.
    std::vector<std::pair<std::string, Lane>> lanes = engine.automation();
    const double engine_rate = engine.sample_rate();
    const auto same = [](const Lane& a, const Lane& b) {
        return std::equal(a.points.begin(), a.points.end(), b.points.begin(), b.points.end(),
                          [](const Breakpoint& x, const Breakpoint& y) {
                              return x.frame == y.frame && x.value == y.value && x.shape == y.shape;
                          });
    };
    std::vector<SessionLane> automation;
    for (const SessionLane& lane : automation_) {
        const auto it = std::find_if(lanes.begin(), lanes.end(), [&](const auto& l) { return l.first == lane.path; });
        if (it == lanes.end()) continue;  // the engine dropped it
        // The file's lane as it stands there (-inf where it said so), unless the engine's differs.
        Lane mine = lane.lane;
        for (Breakpoint& b : mine.points)
            if (std::isinf(b.value) && b.value < 0)
                if (const std::optional<ParamRef> p = session_paths::locate(strips_, lane.path)) b.value = p->param->min;
        if (same(session_paths::lane_at_rate(mine, sample_rate_, engine_rate), it->second)) automation.push_back(lane);
        else
            automation.push_back(
                SessionLane{lane.path, session_paths::lane_at_rate(std::move(it->second), engine_rate, sample_rate_), lane.where, {}});
        lanes.erase(it);
    }
    for (auto& [path, lane] : lanes)
        if (session_paths::locate(strips_, path))
            automation.push_back(SessionLane{path, session_paths::lane_at_rate(std::move(lane), engine_rate, sample_rate_), {}, {}});
    out.automation_ = std::move(automation);
    return out;
}

std::string Session::to_toml(const std::filesystem::path& folder) const {
    const Writer w(SourceLocation{file_.string(), 0, 0});
    std::error_code ec;
    std::filesystem::path base = std::filesystem::absolute(folder, ec);
    if (ec) base = folder;
    base = base.lexically_normal();
    if (!base.has_filename() && base.has_relative_path()) base = base.parent_path();  // "/a/b/" -> "/a/b"

    // Settings by strip; sends are written with their strip's sends.
    std::vector<SessionStrip> strips = strips_;
    fold_send_settings(strips, settings_);
    std::map<std::string, StripValues> values;
    for (const SessionSetting& setting : settings_) {
        const std::optional<ParamRef> p = session_paths::locate(strips_, setting.path);
        if (!p || p->owner.kind == Owner::Kind::send) continue;
        StripValues& v = values[p->strip];
        // delay_ms and delay_samples are one delay: the one set last holds.
        if (p->owner.kind == Owner::Kind::strip && p->rest == "delay_samples") v.entries.erase("delay_ms");
        else if (p->owner.kind == Owner::Kind::strip && p->rest == "delay_ms") v.entries.erase("delay_samples");
        v.entries[p->rest] = StripValues::Entry{p->param, setting.value, setting.path};
    }
    auto values_of = [&](const SessionStrip& s) -> const StripValues& {
        static const StripValues none;
        const auto it = values.find(s.path());
        return it == values.end() ? none : it->second;
    };

    std::string out = "# rtmix session\n\n[session]\n";
    out += fmt::format("sample_rate = {}\nblock_frames = {}\n", number_text(sample_rate_), block_frames_);
    for (const Kind kind : {Kind::bus, Kind::track})
        for (const SessionStrip& s : strips)
            if (s.kind == kind)
                out += fmt::format("\n{}\n{}{}", kind == Kind::bus ? "[[bus]]" : "[[track]]", strip_text(w, s, values_of(s), base),
                                   automation_text(w, s, strips_, automation_, sample_rate_));

    const SessionStrip* master = nullptr;
    for (const SessionStrip& s : strips)
        if (s.kind == Kind::master) master = &s;
    if (master != nullptr) {
        const StripValues& v = values_of(*master);
        if (const std::string text = strip_text(w, *master, v, base); !text.empty()) out += fmt::format("\n[master]\n{}", text);
        out += automation_text(w, *master, strips_, automation_, sample_rate_);
        if (has_prefix(v, "limiter.")) {
            out += "\n[master.limiter]\n";
            if (const std::string enabled = enabled_item(v, "limiter.enabled"); !enabled.empty()) out += enabled + "\n";
            const std::vector<Owner> owners = session_paths::owners(*master);
            for (const Owner& o : owners)
                if (o.kind == Owner::Kind::limiter)
                    for (const ParamInfo* spec : o.params())
                        if (spec->key != "enabled")
                            if (const StripValues::Entry* e = v.find(fmt::format("limiter.{}", spec->key)))
                                out += fmt::format("{} = {}\n", spec->key, w.value_text(*spec, e->value, e->path));
        }
    }
    if (loudness_) {
        out += "\n[master.loudness]\n";
        const std::optional<LoudnessTarget> preset = LoudnessTarget::preset_named(loudness_->preset);
        if (preset && preset->target_lufs == loudness_->target_lufs && preset->ceiling_dbtp == loudness_->ceiling_dbtp)
            out += fmt::format("preset = {}\n", w.quoted(loudness_->preset, "the loudness preset"));
        else
            out += fmt::format("target_lufs = {}\nceiling_dbtp = {}\n", number_text(loudness_->target_lufs),
                               number_text(loudness_->ceiling_dbtp));
    }
    if (!metadata_.empty()) {
        out += "\n[master.metadata]\n";
        const std::pair<const char*, const std::string*> tags[] = {
            {"title", &metadata_.title}, {"artist", &metadata_.artist}, {"album", &metadata_.album},
            {"date", &metadata_.date},   {"isrc", &metadata_.isrc},     {"comment", &metadata_.comment}};
        for (const auto& [key, text] : tags)
            if (!text->empty()) out += fmt::format("{} = {}\n", key, w.quoted(*text, fmt::format("the metadata {}", key)));
    }
    return out;
}

}  // namespace rtmix
