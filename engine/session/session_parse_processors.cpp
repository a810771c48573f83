// The session file parser, the tables of processors: EQ bands, the compressor, the master's
// limiter, inserts, the named bus effects and sidechains. Every key and its type come from the
// processors' public declarations (rtmix/parameters.hpp).
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "session/session_parser.hpp"
#include "session/session_paths.hpp"

namespace rtmix::session_parse {

using session_paths::find_param;
using session_paths::word_list;

namespace {

/// The keys of a processor's table: its parameters, then `extras`.
std::vector<std::string> processor_keys(const ProcessorInfo& type, std::span<const ParamInfo> extras) {
    std::vector<std::string> out;
    for (const ParamInfo& p : type.params) out.emplace_back(p.key);
    for (const ParamInfo& p : extras) out.emplace_back(p.key);
    return out;
}

std::vector<std::string> insert_types() {
    std::vector<std::string> out;
    for (const ProcessorInfo* p : processor_types())
        if (p->insert) out.emplace_back(p->type);
    return out;
}

std::string comma_list(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& i : items) out.append(out.empty() ? "" : ", ").append(i);
    return out;
}

}  // namespace

void Parser::read_processor(SessionStrip& s, const std::string& where, const std::string& prefix,
                            const ProcessorInfo& type, std::span<const ParamInfo> extras, const toml::table& t,
                            const std::vector<std::string>& skip) {
    std::vector<std::string> known = processor_keys(type, extras);
    known.insert(known.end(), skip.begin(), skip.end());
    if (type.sidechain) known.emplace_back("sidechain");
    known.emplace_back("automation");
    for (auto&& [k, v] : t) {
        if (std::find(skip.begin(), skip.end(), k.str()) != skip.end()) continue;
        if (type.sidechain && k == "sidechain") {
            read_sidechain(s, where, prefix, v);
            continue;
        }
        if (k == "automation") {
            read_automation(s, where, prefix, v);
            continue;
        }
        const ParamInfo* spec = find_param(extras, k.str());
        if (spec == nullptr) spec = find_param(type.params, k.str());
        if (spec == nullptr) unknown_key(k, where, known);
        if (type.type == "pitch" && k == "notes" && v.is_array()) {
            read_note_set(s, where, prefix + "notes", v);
            continue;
        }
        read_param(s, where, prefix + std::string(k.str()), *spec, k, v);
    }
    if (type.type == "pitch") check_pitch_range(where, type, t);
}

// notes = ["C", "D#", "Eb", ...] of a pitch insert: the 12-bit set of pitch classes it stands for.
void Parser::read_note_set(SessionStrip& s, const std::string& where, const std::string& path, const toml::node& node) {
    static constexpr std::array<std::string_view, 12> sharps = {"C", "C#", "D", "D#", "E", "F",
                                                                "F#", "G", "G#", "A", "A#", "B"};
    static constexpr std::array<std::string_view, 12> flats = {"C", "Db", "D", "Eb", "E", "F",
                                                               "Gb", "G", "Ab", "A", "Bb", "B"};
    std::string choices;
    for (std::size_t i = 0; i < 12; ++i)
        choices += fmt::format("{}{}{}", i > 0 ? ", " : "", sharps[i], sharps[i] != flats[i] ? fmt::format(" (or {})", flats[i]) : "");
    const toml::array& list = *node.as_array();
    if (list.empty())
        fail(node.source(), fmt::format("notes {} is empty: name at least one note of the scale ({})", where, choices));
    unsigned mask = 0;
    for (const toml::node& item : list) {
        const std::string name = string_value(item, fmt::format("a note of notes {}", where));
        std::size_t pc = 12;
        for (std::size_t i = 0; i < 12; ++i)
            if (name == sharps[i] || name == flats[i]) pc = i;
        if (pc == 12) {
            std::vector<std::string> names(sharps.begin(), sharps.end());
            names.insert(names.end(), flats.begin(), flats.end());
            const std::string best = closest_match(name, names);
            fail(item.source(), fmt::format("unknown note '{}' in notes {}{} (expected one of: {})", name, where,
                                            best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best), choices));
        }
        mask |= 1u << pc;
    }
    settings_.push_back(SessionSetting{s.path() + "." + path, static_cast<double>(mask), at(node.source())});
}

// The detection range of a pitch insert: min_hz above max_hz is a mistake (swapped ends).
void Parser::check_pitch_range(const std::string& where, const ProcessorInfo& type, const toml::table& t) const {
    const toml::node* lo = t.get("min_hz");
    const toml::node* hi = t.get("max_hz");
    if ((lo == nullptr && hi == nullptr) || (lo != nullptr && !lo->is_number()) || (hi != nullptr && !hi->is_number()))
        return;
    const double min_hz = lo != nullptr ? *lo->value<double>() : find_param(type.params, "min_hz")->def;
    const double max_hz = hi != nullptr ? *hi->value<double>() : find_param(type.params, "max_hz")->def;
    if (min_hz <= max_hz) return;
    fail((hi != nullptr ? hi : lo)->source(),
         fmt::format("the detection range {} is swapped: min_hz = {} is above max_hz = {} (expected min_hz <= max_hz, "
                     "both within 60 ... 1200 Hz)",
                     where, min_hz, max_hz));
}

void Parser::read_sidechain(SessionStrip& s, const std::string& where, const std::string& prefix, const toml::node& value) {
    const std::string source = string_value(value, fmt::format("sidechain {}", where));
    if (source.empty()) fail(value.source(), fmt::format("sidechain {} is empty: name a track or bus (or leave it out)", where));
    s.sidechains.push_back({prefix.substr(0, prefix.size() - 1), source, at(value.source())});
}

void Parser::read_switched(SessionStrip& s, const std::string& owner, const std::string& prefix,
                           const ProcessorInfo& type, std::span<const ParamInfo> extras, const toml::key& key,
                           const toml::node& node) {
    const toml::table* t = node.as_table();
    if (t == nullptr)
        fail(node.source(), fmt::format("{} of {} must be a table ({} = {{ ... }}), not {}", key.str(), owner, key.str(), type_name(node)));
    const std::size_t before = settings_.size();
    read_processor(s, fmt::format("in the {} of {}", key.str(), owner), prefix, type, extras, *t);
    bool explicit_enable = false;
    for (std::size_t i = before; i < settings_.size(); ++i)
        explicit_enable = explicit_enable || settings_[i].path.ends_with("." + prefix + "enabled");
    if (!explicit_enable)
        settings_.insert(settings_.begin() + static_cast<std::ptrdiff_t>(before),
                         SessionSetting{s.path() + "." + prefix + "enabled", 1.0, at(key.source())});
}

// reverb = { ... } and delay = { ... } on a bus or the master: the named effects.
void Parser::read_named_effect(SessionStrip& s, const std::string& owner, const toml::key& key, const toml::node& node) {
    const toml::table* t = node.as_table();
    if (t == nullptr)
        fail(node.source(), fmt::format("{} of {} must be a table ({} = {{ ... }}), not {}", key.str(), owner, key.str(), type_name(node)));
    const ProcessorInfo& type = *find_processor_type(key.str());
    s.inserts.push_back({std::string(key.str()), std::string(key.str()), InsertPosition::pre, at(key.source())});
    read_processor(s, fmt::format("in the {} of {}", key.str(), owner), std::string(key.str()) + ".", type,
                   insert_params(type), *t);
}

// inserts = [ { type = "gate", position = "pre", threshold_db = -45 }, ... ]
void Parser::read_inserts(SessionStrip& s, const std::string& owner, const toml::node& node) {
    const toml::array* list = node.as_array();
    if (list == nullptr)
        fail(node.source(), fmt::format("inserts of {} must be an array (inserts = [ {{ type = \"gate\", ... }} ]), not {}",
                                        owner, type_name(node)));
    const std::vector<std::string> types = insert_types();
    for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::node& item = (*list)[i];
        const toml::table* t = item.as_table();
        const std::string where = fmt::format("in insert {} of {}", i + 1, owner);
        if (t == nullptr)
            fail(item.source(), fmt::format("insert {} of {} must be a table ({{ type = \"gate\", ... }}), not {}", i + 1,
                                            owner, type_name(item)));
        const toml::node* type_node = t->get("type");
        if (type_node == nullptr)
            fail(item.source(), fmt::format("insert {} of {} has no type (expected type = one of: {})", i + 1, owner,
                                            comma_list(types)));
        const std::string type_name_given = string_value(*type_node, fmt::format("type {}", where));
        const ProcessorInfo* type = find_processor_type(type_name_given);
        if (type == nullptr || !type->insert) {
            const std::string best = closest_match(type_name_given, types);
            fail(type_node->source(), fmt::format("unknown insert type '{}' {}{} (expected one of: {})", type_name_given, where,
                                                  best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best),
                                                  comma_list(types)));
        }
        SessionInsert insert{std::string(type->type), fmt::format("insert.{}", i + 1), InsertPosition::post,
                             at(item.source())};
        if (const toml::node* p = t->get("position")) {
            const std::string position = string_value(*p, fmt::format("position {}", where));
            if (position != "pre" && position != "post")
                fail(p->source(), fmt::format("position = '{}' {}: expected \"pre\" (before the EQ) or \"post\" (after the "
                                              "compressor, the default)", position, where));
            insert.position = position == "pre" ? InsertPosition::pre : InsertPosition::post;
        }
        s.inserts.push_back(insert);
        read_processor(s, where, insert.slot + ".", *type, insert_params(*type), *t, {"type", "position"});
    }
}

void Parser::read_eq(SessionStrip& s, const std::string& owner, const toml::key& key, const toml::node& node) {
    const ProcessorInfo& eq = *find_processor_type("eq");
    const toml::array* bands = node.as_array();
    if (bands == nullptr)
        fail(node.source(), fmt::format("eq of {} must be an array of bands (eq = [ {{ type = \"peak\", ... }} ]), not {}",
                                        owner, type_name(node)));
    if (bands->size() > eq.groups)
        fail(node.source(), fmt::format("eq of {} has {} bands; a strip has {}", owner, bands->size(), eq.groups));
    for (std::size_t i = 0; i < bands->size(); ++i) {
        const toml::node& band = (*bands)[i];
        const toml::table* t = band.as_table();
        const std::string where = fmt::format("in EQ band {} of {}", i + 1, owner);
        if (t == nullptr) fail(band.source(), fmt::format("EQ band {} of {} must be a table ({{ type = \"peak\", ... }}), not {}", i + 1, owner, type_name(band)));
        if (!t->contains("type"))
            fail(band.source(), fmt::format("EQ band {} of {} has no type (expected type = one of: {})", i + 1, owner,
                                            word_list(find_param(eq.params, "type")->words)));
        read_processor(s, where, fmt::format("eq.{}.", i + 1), eq, {}, *t);
    }
    (void)key;
}

}  // namespace rtmix::session_parse
