// Session -> session file: the values a live engine holds now, the text of the file, and a save
// that never leaves a half-written file where a good one stood.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "control/param_table.hpp"
#include "rtmix/session.hpp"

namespace rtmix {

namespace {

using engine::ParamSpec;
using engine::Scope;
using engine::ValueKind;
using Kind = SessionStrip::Kind;
using Value = std::variant<double, std::string>;

/// A parameter path taken apart: "track.kick.eq.2.freq_hz" is the strip "track.kick", band 2,
/// key "freq_hz"; "bus.drums.send.verb.level_db" is the send of "bus.drums" to the bus "verb".
struct ParamPath {
    std::string strip;  ///< "track.NAME", "bus.NAME" or "master"
    std::string rest;   ///< the path below the strip: "eq.2.freq_hz", "compressor.ratio", ...
    Scope scope = Scope::strip;
    std::uint32_t band = 0;  ///< EQ bands: 1 ... 8
    std::string bus;         ///< sends: the bus
    const ParamSpec* spec = nullptr;
};

std::optional<ParamPath> split_path(std::string_view path) {
    ParamPath out;
    std::string_view rest;
    if (path.starts_with("master.")) {
        out.strip = "master";
        rest = path.substr(7);
    } else if (path.starts_with("track.") || path.starts_with("bus.")) {
        // Names hold no dots: the strip ends at the second one.
        const std::size_t name_end = path.find('.', path.find('.') + 1);
        if (name_end == std::string_view::npos) return std::nullopt;
        out.strip = std::string(path.substr(0, name_end));
        rest = path.substr(name_end + 1);
    } else {
        return std::nullopt;
    }
    out.rest = std::string(rest);
    std::string_view key = rest;
    if (rest.starts_with("eq.")) {
        const std::size_t dot = rest.find('.', 3);
        if (dot == std::string_view::npos) return std::nullopt;
        const auto [end, ec] = std::from_chars(rest.data() + 3, rest.data() + dot, out.band);
        if (ec != std::errc{} || end != rest.data() + dot || out.band < 1 || out.band > engine::eq_band_count)
            return std::nullopt;
        out.scope = Scope::eq_band;
        key = rest.substr(dot + 1);
    } else if (rest.starts_with("send.")) {
        const std::size_t dot = rest.find('.', 5);
        if (dot == std::string_view::npos) return std::nullopt;
        out.scope = Scope::send;
        out.bus = std::string(rest.substr(5, dot - 5));
        key = rest.substr(dot + 1);
    } else if (rest.starts_with("reverb.")) {
        out.scope = Scope::reverb;
        key = rest.substr(7);
    } else if (rest.starts_with("delay.")) {
        out.scope = Scope::delay;
        key = rest.substr(6);
    } else if (rest.starts_with("limiter.")) {
        out.scope = Scope::limiter;
        key = rest.substr(8);
    }
    for (const ParamSpec& spec : engine::param_specs())
        if (spec.scope == out.scope && spec.key == key) out.spec = &spec;
    if (out.spec == nullptr) return std::nullopt;
    return out;
}

/// delay_ms and delay_samples set the same delay: a file holds one of them, the one set last.
/// Both have the slot of delay_ms; every other parameter has its own path.
std::string slot_of_path(const std::string& path, const ParamPath& p) {
    return p.scope == Scope::strip && p.rest == "delay_samples" ? fmt::format("{}.delay_ms", p.strip) : path;
}

/// A setting's value as a number: set_override() keeps the text it was given ("-2", "on",
/// "-inf"), a file gives numbers. The session was checked, so the text is valid.
std::optional<double> number_of(const ParamSpec& spec, const Value& value) {
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
    std::string value_text(const ParamSpec& spec, const Value& value, const std::string& path) const {
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
        const ParamSpec* spec = nullptr;
        Value value;
        std::string path;
    };
    std::map<std::string, Entry, std::less<>> entries;

    const Entry* find(std::string_view rest) const {
        const auto it = entries.find(rest);
        return it == entries.end() ? nullptr : &it->second;
    }
};

/// `{ key = value, ... }` for the parameters of `scope` whose key starts with `prefix`, in the
/// table's order, their values found below `rest_prefix`. `first` (an EQ band's type, a
/// compressor's `enabled = false`) comes before them.
std::string inline_table(const Writer& w, const StripValues& values, Scope scope, std::string_view prefix,
                         std::string_view rest_prefix, std::string_view first = {}) {
    std::string items(first);
    for (const ParamSpec& spec : engine::param_specs()) {
        if (spec.scope != scope || !spec.key.starts_with(prefix)) continue;
        const std::string_view key = spec.key.substr(prefix.size());
        if (key == "enabled" || key == "type" || key.empty()) continue;
        const StripValues::Entry* e = values.find(fmt::format("{}{}", rest_prefix, key));
        if (e == nullptr) continue;
        items += fmt::format("{}{} = {}", items.empty() ? "" : ", ", key, w.value_text(spec, e->value, e->path));
    }
    return items.empty() ? "{}" : fmt::format("{{ {} }}", items);
}

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
bool read_value(const Engine& engine, const std::string& path, const ParamSpec& spec, Value& out) {
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

/// The engine keeps most values as float: -3.3 reads back as -3.299999952316284. The shortest
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

/// Folds settings of send parameters ("track.kick.send.verb.level_db", from an override) into
/// the sends of `strips`, where a session file keeps them.
void fold_send_settings(std::vector<SessionStrip>& strips, const std::vector<SessionSetting>& settings) {
    for (const SessionSetting& setting : settings) {
        const std::optional<ParamPath> p = split_path(setting.path);
        if (!p || p->scope != Scope::send) continue;
        const std::optional<double> v = number_of(*p->spec, setting.value);
        if (!v) continue;
        for (SessionStrip& s : strips)
            if (s.path() == p->strip)
                for (SessionSend& send : s.sends)
                    if (send.bus == p->bus) {
                        if (p->spec->field == engine::Field::send_level_db) send.level_db = *v;
                        else send.pre_fader = *v != 0.0;
                    }
    }
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
    for (const ParamSpec& spec : engine::param_specs())
        if (spec.scope == Scope::strip && spec.key.find('.') == std::string_view::npos)
            if (const StripValues::Entry* e = values.find(spec.key))
                out += fmt::format("{} = {}\n", spec.key, w.value_text(spec, e->value, e->path));

    // EQ bands up to the last one with a value; every band needs a type, "off" if none was set.
    std::uint32_t bands = 0;
    for (std::uint32_t b = 1; b <= engine::eq_band_count; ++b)
        if (has_prefix(values, fmt::format("eq.{}.", b))) bands = b;
    if (bands > 0) {
        out += "eq = [ ";
        for (std::uint32_t b = 1; b <= bands; ++b) {
            const std::string prefix = fmt::format("eq.{}.", b);
            const StripValues::Entry* type = values.find(prefix + "type");
            const std::string first = fmt::format(
                "type = {}", type != nullptr ? w.value_text(*type->spec, type->value, type->path) : w.quoted("off", "off"));
            out += fmt::format("{}{}{}", b > 1 ? "       " : "", inline_table(w, values, Scope::eq_band, "", prefix, first),
                               b < bands ? ",\n" : " ]\n");
        }
    }
    if (has_prefix(values, "compressor."))
        out += fmt::format("compressor = {}\n", inline_table(w, values, Scope::strip, "compressor.", "compressor.",
                                                            enabled_item(values, "compressor.enabled")));
    if (s.reverb || has_prefix(values, "reverb."))
        out += fmt::format("reverb = {}\n", inline_table(w, values, Scope::reverb, "", "reverb."));
    if (s.delay || has_prefix(values, "delay."))
        out += fmt::format("delay = {}\n", inline_table(w, values, Scope::delay, "", "delay."));
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

/// Closes a descriptor and removes the file written aside, unless it was renamed into place.
class AsideFile {
public:
    AsideFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
    ~AsideFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!placed_) {
            std::error_code ec;
            std::filesystem::remove(path_, ec);
        }
    }
    AsideFile(const AsideFile&) = delete;
    AsideFile& operator=(const AsideFile&) = delete;

    /// Closes the descriptor; false (errno set) when the close reports a failed write.
    bool close() {
        const int result = ::close(fd_);
        fd_ = -1;
        return result == 0;
    }
    void placed() noexcept { placed_ = true; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    bool placed_ = false;
};

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
        ParamPath parts;
        Value now, then;
    };
    std::vector<Reading> readings;
    for (const std::string& path : paths) {
        std::optional<ParamPath> parts = split_path(path);
        if (!parts) continue;
        Reading r{path, std::move(*parts), {}, {}};
        // Strips, sends and effects the engine gained since apply() are not part of this session.
        if (read_value(engine, path, *r.parts.spec, r.now) && read_value(before, path, *r.parts.spec, r.then))
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
        const std::optional<ParamPath> p = split_path(setting.path);
        if (p && p->scope == Scope::send) continue;
        const auto [it, inserted] = slot_of.try_emplace(p ? slot_of_path(setting.path, *p) : setting.path, settings.size());
        if (inserted) settings.push_back(setting);
        else settings[it->second] = SessionSetting{setting.path, setting.value, settings[it->second].where};
    }

    for (Reading& r : readings) {
        if (r.now == r.then) continue;
        Value value = r.now;
        if (double* v = std::get_if<double>(&value); v != nullptr && r.parts.spec->kind == ValueKind::number)
            *v = tidy(before, r.path, *v);
        if (r.parts.scope == Scope::send) {
            for (SessionStrip& s : out.strips_)
                if (s.path() == r.parts.strip)
                    for (SessionSend& send : s.sends)
                        if (send.bus == r.parts.bus) {
                            if (r.parts.spec->field == engine::Field::send_level_db) send.level_db = std::get<double>(value);
                            else send.pre_fader = std::get<double>(value) != 0.0;
                        }
            continue;
        }
        const auto [it, inserted] = slot_of.try_emplace(slot_of_path(r.path, r.parts), settings.size());
        SessionSetting& setting = inserted ? settings.emplace_back() : settings[it->second];
        if (inserted) {
            setting = SessionSetting{r.path, std::move(value), SourceLocation{}};
            if (r.parts.scope == Scope::strip && (r.parts.rest == "delay_ms" || r.parts.rest == "delay_samples"))
                new_delays.insert(it->first);
        } else if (setting.path == r.path) {
            setting.value = std::move(value);
        } else if (new_delays.contains(it->first) &&
                   number_text(std::get<double>(value)).size() < number_text(std::get<double>(setting.value)).size()) {
            // A delay the file did not have: in whichever unit reads shorter ("delay_ms = 2.5",
            // "delay_samples = 17" rather than "delay_ms = 0.35416666").
            setting = SessionSetting{r.path, std::move(value), SourceLocation{}};
        }
    }
    out.settings_ = std::move(settings);
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
        const std::optional<ParamPath> p = split_path(setting.path);
        if (!p || p->scope == Scope::send) continue;
        StripValues& v = values[p->strip];
        // delay_ms and delay_samples are one delay: the one set last holds.
        if (p->scope == Scope::strip && p->rest == "delay_samples") v.entries.erase("delay_ms");
        else if (p->scope == Scope::strip && p->rest == "delay_ms") v.entries.erase("delay_samples");
        v.entries[p->rest] = StripValues::Entry{p->spec, setting.value, setting.path};
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
                out += fmt::format("\n{}\n{}", kind == Kind::bus ? "[[bus]]" : "[[track]]", strip_text(w, s, values_of(s), base));

    const SessionStrip* master = nullptr;
    for (const SessionStrip& s : strips)
        if (s.kind == Kind::master) master = &s;
    if (master != nullptr) {
        const StripValues& v = values_of(*master);
        if (const std::string text = strip_text(w, *master, v, base); !text.empty()) out += fmt::format("\n[master]\n{}", text);
        if (has_prefix(v, "limiter.")) {
            out += "\n[master.limiter]\n";
            if (const std::string enabled = enabled_item(v, "limiter.enabled"); !enabled.empty()) out += enabled + "\n";
            for (const ParamSpec& spec : engine::param_specs())
                if (spec.scope == Scope::limiter && spec.key != "enabled")
                    if (const StripValues::Entry* e = v.find(fmt::format("limiter.{}", spec.key)))
                        out += fmt::format("{} = {}\n", spec.key, w.value_text(spec, e->value, e->path));
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

void Session::save(const std::filesystem::path& file) const {
    const SourceLocation where{file.string(), 0, 0};
    auto fail = [&](const std::string& why) { throw SessionError(where, fmt::format("cannot save the session: {}", why)); };
    if (!file.has_filename()) fail("the path names a folder, not a file");
    std::filesystem::path folder = file.parent_path();
    if (folder.empty()) folder = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) fail(fmt::format("the folder '{}' does not exist", folder.string()));
    if (std::filesystem::is_directory(file, ec)) fail("it is a folder");

    std::string text;
    try {
        text = to_toml(folder);
    } catch (const SessionError& e) {
        fail(e.message());
    }

    // A name of our own in the destination's folder, so that the rename stays on one file system.
    int fd = -1;
    std::filesystem::path temp;
    for (unsigned attempt = 0; fd < 0; ++attempt) {
        temp = folder / fmt::format(".{}.{}-{}.partial", file.filename().string(), ::getpid(), attempt);
        fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt > 100))
            fail(fmt::format("cannot write in '{}': {}", folder.string(), std::strerror(errno)));
    }
    AsideFile aside(temp, fd);
    // A file saved over keeps its permissions.
    struct stat existing {};
    if (::stat(file.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) (void)::fchmod(fd, existing.st_mode & 07777);

    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(fmt::format("cannot write '{}': {}", temp.string(), std::strerror(n < 0 ? errno : EIO)));
        done += static_cast<std::size_t>(n);
    }
    // On the disk before the rename: after a crash the destination holds the old file or the new.
    if (::fsync(fd) != 0 || !aside.close()) fail(fmt::format("cannot write '{}': {}", temp.string(), std::strerror(errno)));
    std::filesystem::rename(temp, file, ec);
    if (ec) fail(fmt::format("cannot rename '{}' to '{}': {}", temp.string(), file.string(), ec.message()));
    aside.placed();
    // Make the rename itself durable.
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        (void)::fsync(dir);
        ::close(dir);
    }
}

}  // namespace rtmix
