// Session file (TOML) -> Session: every key, type and name is checked here, with its location;
// ranges and routing are checked by applying the result to a scratch engine (session.cpp). The
// tables of processors are read in session_parse_processors.cpp.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "files/audio_file.hpp"
#include "rtmix/session.hpp"
#include "session/session_parser.hpp"
#include "session/session_paths.hpp"

namespace rtmix {

namespace session_parse {

using session_paths::find_param;
using session_paths::word_list;

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        default: return "a date or time";
    }
}

namespace {

std::string describe(Kind kind, const std::string& name) {
    switch (kind) {
        case Kind::track: return fmt::format("track '{}'", name);
        case Kind::bus: return fmt::format("bus '{}'", name);
        default: return "[master]";
    }
}
}  // namespace

void Parser::run(std::string_view text, double& sample_rate, std::uint32_t& block_frames) {
    toml::table root;
    try {
        root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
        fail(e.source(), fmt::format("TOML syntax: {}", e.description()));
    }
    // The master comes first, then buses, then tracks: buses may be named before they are defined.
    SessionStrip master;
    master.kind = Kind::master;
    master.where = {file_, 1, 1};
    strips_.push_back(master);

    const std::vector<std::string> top = {"session", "bus", "track", "master"};
    for (auto&& [key, node] : root) {
        if (key == "session" || key == "master") {
            if (!node.is_table()) fail(node.source(), fmt::format("'{}' must be a table ([{}]), not {}", key.str(), key.str(), type_name(node)));
        } else if (key == "bus" || key == "track") {
            if (!node.is_array_of_tables())
                fail(node.source(), fmt::format("'{}' must be an array of tables ([[{}]]), not {}", key.str(), key.str(),
                                                node.is_table() ? "a single table ([" + std::string(key.str()) + "])" : type_name(node)));
        } else {
            unknown_key(key, "at the top level", top);
        }
    }
    if (const toml::table* s = root["session"].as_table()) read_session(*s, sample_rate, block_frames);
    sample_rate_ = sample_rate;
    if (const toml::table* m = root["master"].as_table()) read_strip(*m, Kind::master, m->source());
    for (const char* section : {"bus", "track"}) {
        if (const toml::array* list = root[section].as_array())
            for (const toml::node& n : *list)
                read_strip(*n.as_table(), section[0] == 'b' ? Kind::bus : Kind::track, n.source());
    }
    finish_automation();
}

void Parser::read_session(const toml::table& t, double& sample_rate, std::uint32_t& block_frames) {
    const std::vector<std::string> known = {"sample_rate", "block_frames"};
    for (auto&& [key, node] : t) {
        if (key == "sample_rate") {
            const std::optional<double> v = node.is_number() ? node.value<double>() : std::nullopt;
            if (!v) fail(node.source(), fmt::format("sample_rate in [session] must be a number (Hz), not {}", type_name(node)));
            if (!(*v >= 8000.0 && *v <= 768000.0))
                fail(node.source(), fmt::format("sample_rate = {} in [session]: out of range [8000, 768000] Hz", *v));
            sample_rate = *v;
        } else if (key == "block_frames") {
            const std::optional<std::int64_t> v = node.is_integer() ? node.value<std::int64_t>() : std::nullopt;
            if (!v) fail(node.source(), fmt::format("block_frames in [session] must be an integer, not {}", type_name(node)));
            if (*v < 1 || *v > 8192) fail(node.source(), fmt::format("block_frames = {} in [session]: out of range [1, 8192]", *v));
            block_frames = static_cast<std::uint32_t>(*v);
        } else {
            unknown_key(key, "in [session]", known);
        }
    }
}

std::string Parser::string_value(const toml::node& n, const std::string& what) const {
    if (!n.is_string()) fail(n.source(), fmt::format("{} must be a string, not {}", what, type_name(n)));
    return std::string(n.as_string()->get());
}

void Parser::read_param(SessionStrip& s, const std::string& where, const std::string& path_suffix,
                        const ParamInfo& spec, const toml::key& key, const toml::node& value) {
    SessionSetting setting;
    setting.path = s.path() + "." + path_suffix;
    setting.where = at(value.source());
    switch (spec.kind) {
        case ValueKind::number: {
            if (!value.is_number())
                fail(value.source(), fmt::format("{} {} must be a number, not {}", key.str(), where, type_name(value)));
            double v = *value.value<double>();
            if (std::isinf(v) && v < 0 && spec.minus_inf) v = spec.min;  // -inf dB: silence
            if (!std::isfinite(v)) fail(value.source(), fmt::format("{} {} must be a finite number", key.str(), where));
            setting.value = v;
            break;
        }
        case ValueKind::boolean:
            if (!value.is_boolean())
                fail(value.source(), fmt::format("{} {} must be true or false, not {}", key.str(), where, type_name(value)));
            setting.value = value.as_boolean()->get() ? 1.0 : 0.0;
            break;
        case ValueKind::word:
            if (!value.is_string())
                fail(value.source(), fmt::format("{} {} must be one of: {} (a string), not {}", key.str(), where,
                                                 word_list(spec.words), type_name(value)));
            setting.value = std::string(value.as_string()->get());
            break;
    }
    settings_.push_back(std::move(setting));
}

void Parser::read_loudness(const toml::node& node) {
    const toml::table* t = node.as_table();
    if (t == nullptr) fail(node.source(), fmt::format("loudness of [master] must be a table ([master.loudness]), not {}", type_name(node)));
    LoudnessTarget target;
    // The preset first, whatever the order of the keys: explicit values override it.
    if (const toml::node* p = t->get("preset")) {
        const std::string name = string_value(*p, "preset in [master.loudness]");
        const std::optional<LoudnessTarget> preset = LoudnessTarget::preset_named(name);
        if (!preset) {
            const std::string best = closest_match(name, std::vector<std::string>{"streaming", "apple", "broadcast"});
            fail(p->source(), fmt::format("preset = '{}' in [master.loudness]: expected one of: streaming, apple, broadcast{}",
                                          name, best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
        }
        target = *preset;
    }
    const auto number = [&](const toml::node& v, const toml::key& k, double lo, double hi, const char* unit) {
        if (!v.is_number()) fail(v.source(), fmt::format("{} in [master.loudness] must be a number ({}), not {}", k.str(), unit, type_name(v)));
        const double x = *v.value<double>();
        if (!(x >= lo && x <= hi)) fail(v.source(), fmt::format("{} = {} in [master.loudness]: out of range [{}, {}] {}", k.str(), x, lo, hi, unit));
        return x;
    };
    for (auto&& [k, v] : *t) {
        if (k == "preset") continue;
        if (k == "target_lufs") target.target_lufs = number(v, k, -60.0, 0.0, "LUFS");
        else if (k == "ceiling_dbtp") target.ceiling_dbtp = number(v, k, -20.0, 0.0, "dBTP");
        else unknown_key(k, "in [master.loudness]", {"preset", "target_lufs", "ceiling_dbtp"});
        target.preset.clear();  // custom values: no longer the preset as published
    }
    loudness_ = target;
}

// input = "system:capture_1" | ["system:capture_1", "system:capture_2"] | 3 | [1, 2]
void Parser::read_input(SessionStrip& s, const std::string& owner, const toml::node& node) {
    const std::string expected = "expected input = \"system:capture_1\" (a JACK port), input = 1 (a device channel), "
                                 "or a list of two of either for a stereo track";
    std::vector<const toml::node*> items;
    if (const toml::array* a = node.as_array()) {
        for (const toml::node& n : *a) items.push_back(&n);
        if (items.empty() || items.size() > 2)
            fail(node.source(), fmt::format("input of {} lists {} sources: a track takes 1 (mono) or 2 (stereo); {}", owner,
                                            items.size(), expected));
    } else {
        items.push_back(&node);
    }
    for (const toml::node* n : items) {
        if (n->is_string()) {
            const std::string port = n->value<std::string>().value_or("");
            if (port.empty() || port.find(':') == std::string::npos)
                fail(n->source(), fmt::format("input '{}' of {} is not a JACK port name (client:port); {}", port, owner, expected));
            s.input.ports.push_back(port);
        } else if (n->is_integer()) {
            const std::int64_t c = *n->value<std::int64_t>();
            if (c < 1 || c > 1024)
                fail(n->source(), fmt::format("input = {} of {}: device channels count from 1 (at most 1024)", c, owner));
            s.input.device_channels.push_back(static_cast<std::uint32_t>(c));
        } else {
            fail(n->source(), fmt::format("input of {} must be a port name or a channel number, not {}; {}", owner,
                                          type_name(*n), expected));
        }
    }
    if (!s.input.ports.empty() && !s.input.device_channels.empty())
        fail(node.source(), fmt::format("input of {} mixes port names and channel numbers: use one kind", owner));
}

void Parser::read_metadata(const toml::node& node) {
    const toml::table* t = node.as_table();
    if (t == nullptr) fail(node.source(), fmt::format("metadata of [master] must be a table ([master.metadata]), not {}", type_name(node)));
    const std::vector<std::string> known = {"title", "artist", "album", "date", "isrc", "comment"};
    for (auto&& [k, v] : *t) {
        std::string* field = k == "title" ? &metadata_.title : k == "artist" ? &metadata_.artist
                           : k == "album" ? &metadata_.album : k == "date" ? &metadata_.date
                           : k == "isrc" ? &metadata_.isrc : k == "comment" ? &metadata_.comment : nullptr;
        if (field == nullptr) unknown_key(k, "in [master.metadata]", known);
        *field = string_value(v, fmt::format("{} in [master.metadata]", k.str()));
        if (k == "isrc") {
            // ISO 3901: country (2 letters), registrant (3 letters or digits), year (2 digits),
            // designation (5 digits); written with or without hyphens.
            std::string code;
            for (char c : *field)
                if (c != '-') code += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            const auto is = [&](std::size_t from, std::size_t to, auto pred) {
                for (std::size_t i = from; i < to; ++i)
                    if (!pred(static_cast<unsigned char>(code[i]))) return false;
                return true;
            };
            const bool ok = code.size() == 12 && is(0, 2, ::isalpha) && is(2, 5, ::isalnum) && is(5, 12, ::isdigit);
            if (!ok) fail(v.source(), fmt::format("isrc = '{}' in [master.metadata]: expected 12 characters CC-XXX-YY-NNNNN "
                                                  "(country, registrant, year, number), e.g. \"GB-ABC-26-00001\"", *field));
            *field = code;
        }
    }
}

void Parser::read_sends(SessionStrip& s, const std::string& owner, const toml::key& key, const toml::node& node) {
    const toml::array* list = node.as_array();
    if (list == nullptr)
        fail(node.source(), fmt::format("sends of {} must be an array (sends = [ {{ bus = \"verb\", level_db = -18 }} ]), not {}",
                                        owner, type_name(node)));
    const std::vector<std::string> known = {"bus", "level_db", "pre_fader"};
    for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::node& item = (*list)[i];
        const toml::table* t = item.as_table();
        const std::string where = fmt::format("in send {} of {}", i + 1, owner);
        if (t == nullptr) fail(item.source(), fmt::format("send {} of {} must be a table ({{ bus = \"verb\", level_db = -18 }}), not {}", i + 1, owner, type_name(item)));
        SessionSend send;
        send.where = at(item.source());
        bool has_bus = false;
        for (auto&& [k, v] : *t) {
            if (k == "bus") {
                send.bus = string_value(v, fmt::format("bus {}", where));
                send.where = at(v.source());
                has_bus = true;
            } else if (k == "level_db") {
                if (!v.is_number()) fail(v.source(), fmt::format("level_db {} must be a number, not {}", where, type_name(v)));
                send.level_db = *v.value<double>();
                if (std::isinf(send.level_db) && send.level_db < 0) send.level_db = -120.0;
                if (!(send.level_db >= -120.0 && send.level_db <= 12.0))
                    fail(v.source(), fmt::format("level_db = {} {}: out of range [-120, 12]", send.level_db, where));
            } else if (k == "pre_fader") {
                if (!v.is_boolean()) fail(v.source(), fmt::format("pre_fader {} must be true or false, not {}", where, type_name(v)));
                send.pre_fader = v.as_boolean()->get();
            } else {
                unknown_key(k, where, known);
            }
        }
        if (!has_bus) fail(item.source(), fmt::format("send {} of {} has no bus (expected bus = \"NAME\")", i + 1, owner));
        s.sends.push_back(std::move(send));
    }
    (void)key;
}

void Parser::read_strip(const toml::table& t, Kind kind, const toml::source_region& header) {
    SessionStrip s;
    s.kind = kind;
    s.where = at(header);
    std::string owner = describe(kind, "");
    if (kind != Kind::master) {
        const toml::node* name = t.get("name");
        const char* section = kind == Kind::track ? "[[track]]" : "[[bus]]";
        if (name == nullptr) fail(header, fmt::format("a {} has no name (expected name = \"...\")", section));
        s.name = string_value(*name, fmt::format("the name of a {}", section));
        s.where = at(name->source());
        owner = describe(kind, s.name);
        for (const SessionStrip& other : strips_)
            if (other.kind == kind && other.name == s.name)
                fail(name->source(), fmt::format("duplicate {} name '{}' (first at line {})", kind == Kind::track ? "track" : "bus",
                                                 s.name, other.where.line));
        if (kind == Kind::bus && s.name == "master")
            fail(name->source(), "a bus cannot be called 'master': output = \"master\" means the master");
    }

    // The keys this strip accepts, for suggestions.
    std::vector<std::string> known;
    for (const ParamInfo& p : strip_params())
        if (session_paths::strip_has(kind, p)) known.emplace_back(p.key);
    known.insert(known.end(), {"eq", "compressor", "inserts", "automation"});
    if (kind != Kind::master) known.insert(known.end(), {"name", "output", "sends"});
    if (kind != Kind::track) known.insert(known.end(), {"reverb", "delay"});
    if (kind == Kind::master) known.insert(known.end(), {"limiter", "loudness", "metadata"});
    if (kind == Kind::track) known.insert(known.end(), {"file", "input", "offset_ms"});

    const toml::node* file_node = nullptr;
    const toml::node* input_node = nullptr;
    for (auto&& [key, node] : t) {
        const std::string_view k = key.str();
        if (std::find(known.begin(), known.end(), k) == known.end()) {
            if (kind == Kind::track && (k == "reverb" || k == "delay"))
                fail(key.source(), fmt::format("{} on {}: the {} = {{}} key is for buses ([[bus]]) and the master; on a "
                                               "track, use inserts = [ {{ type = \"{}\" }} ]", k, owner, k, k));
            if (kind != Kind::master && (k == "limiter" || k == "loudness" || k == "metadata"))
                fail(key.source(), fmt::format("{} in {}: it belongs to the master ([master.{}])", k, owner, k));
            if (kind != Kind::track && (k == "file" || k == "input" || k == "offset_ms"))
                fail(key.source(), fmt::format("{} in {}: only tracks play files and live inputs", k, owner));
            unknown_key(key, "in " + owner, known);
        }
        if (k == "name") continue;
        if (k == "output") {
            s.output = string_value(node, fmt::format("output of {}", owner));
            s.output_where = at(node.source());
        } else if (k == "file") {
            file_node = &node;
        } else if (k == "input") {
            input_node = &node;
            read_input(s, owner, node);
        } else if (k == "offset_ms") {
            if (!node.is_number()) fail(node.source(), fmt::format("offset_ms of {} must be a number (ms), not {}", owner, type_name(node)));
            s.offset_ms = *node.value<double>();
            if (!(std::abs(s.offset_ms) <= max_offset_ms))
                fail(node.source(), fmt::format("offset_ms = {} of {}: out of range [-{:.0f}, {:.0f}] ms (24 hours)", s.offset_ms,
                                                owner, max_offset_ms, max_offset_ms));
        } else if (k == "eq") {
            read_eq(s, owner, key, node);
        } else if (k == "sends") {
            read_sends(s, owner, key, node);
        } else if (k == "compressor") {
            // A compressor or limiter table switches it on unless it says enabled = false.
            read_switched(s, owner, "compressor.", *find_processor_type("compressor"), {}, key, node);
        } else if (k == "limiter") {
            read_switched(s, owner, "limiter.", *find_processor_type("limiter"), master_limiter_params(), key, node);
        } else if (k == "inserts") {
            read_inserts(s, owner, node);
        } else if (k == "automation") {
            read_automation(s, "in " + owner, "", node);
        } else if (k == "loudness") {
            read_loudness(node);
        } else if (k == "metadata") {
            read_metadata(node);
        } else if (k == "reverb" || k == "delay") {
            read_named_effect(s, owner, key, node);
        } else {
            read_param(s, "in " + owner, std::string(k), *find_param(strip_params(), k), key, node);
        }
    }
    // The named effects run first, the reverb before the delay (the order Session::apply() adds
    // them in), then the list.
    std::stable_partition(s.inserts.begin(), s.inserts.end(), [](const SessionInsert& i) { return i.slot == "reverb"; });
    std::stable_partition(s.inserts.begin(), s.inserts.end(),
                          [](const SessionInsert& i) { return i.slot == "reverb" || i.slot == "delay"; });
    if (kind == Kind::track && file_node != nullptr && input_node != nullptr)
        fail(input_node->source(), fmt::format("{} has both a file and an input: a track plays one or the other", owner));
    if (kind == Kind::track && input_node == nullptr) {
        if (file_node == nullptr)
            fail(header, fmt::format("{} has no file (expected file = \"stems/NAME.wav\", or input = \"system:capture_1\" "
                                     "for a live input)", owner));
        const std::string given = string_value(*file_node, fmt::format("file of {}", owner));
        std::filesystem::path p(given);
        if (p.is_relative()) p = folder_ / p;
        p = p.lexically_normal();
        try {
            s.stem = files::probe(p);
        } catch (const files::FileError& e) {
            fail(file_node->source(), fmt::format("{}: {}", owner, e.what()));
        }
    }
    if (kind == Kind::master) strips_.front() = std::move(s);
    else strips_.push_back(std::move(s));
}

}  // namespace session_parse

using Kind = SessionStrip::Kind;

std::optional<LoudnessTarget> LoudnessTarget::preset_named(std::string_view name) {
    if (name == "streaming") return LoudnessTarget{"streaming", -14.0, -1.0};
    if (name == "apple") return LoudnessTarget{"apple", -16.0, -1.0};
    if (name == "broadcast") return LoudnessTarget{"broadcast", -23.0, -1.0};
    return std::nullopt;
}

SessionError::SessionError(SourceLocation where, const std::string& message)
    : std::runtime_error(where.line > 0 ? fmt::format("{}:{}:{}: {}", where.file, where.line, where.column, message)
                                        : fmt::format("{}: {}", where.file, message)),
      where_(std::move(where)),
      message_(message) {}

std::string SessionStrip::path() const {
    switch (kind) {
        case Kind::track: return "track." + name;
        case Kind::bus: return "bus." + name;
        default: return "master";
    }
}

Session Session::parse(std::string_view text, const std::filesystem::path& file) {
    Session s;
    s.file_ = file;
    std::filesystem::path folder = std::filesystem::absolute(file).parent_path();
    session_parse::Parser parser(file.string(), s.strips_, s.settings_, s.automation_, s.metadata_, s.loudness_, folder);
    parser.run(text, s.sample_rate_, s.block_frames_);
    for (const SessionStrip& strip : s.strips_)
        if (strip.kind == Kind::track && strip.live())
            s.notes_.push_back(fmt::format("track '{}' plays a live input: it is silent in offline renders", strip.name));
    for (const SessionStrip& strip : s.strips_)
        if (strip.kind == Kind::track && !strip.live() && strip.stem.sample_rate != s.sample_rate_)
            s.notes_.push_back(fmt::format("track '{}': '{}' is at {} Hz; it is resampled to {} Hz", strip.name,
                                           strip.stem.path.string(), strip.stem.sample_rate, s.sample_rate_));
    bool any_track = false;
    for (const SessionStrip& strip : s.strips_) {
        if (strip.kind != Kind::track) continue;
        any_track = true;
        if (strip.live()) continue;
        const Stem& stem = strip.stem;
        if (stem.claimed_frames > stem.frames)
            s.warnings_.push_back(fmt::format("track '{}': '{}' is truncated: its header claims {:.3f} s ({} frames), the "
                                              "file holds {:.3f} s ({} frames)", strip.name, stem.path.string(),
                                              static_cast<double>(stem.claimed_frames) / stem.sample_rate,
                                              stem.claimed_frames, static_cast<double>(stem.frames) / stem.sample_rate,
                                              stem.frames));
        else if (stem.frames == 0)
            s.notes_.push_back(fmt::format("track '{}': '{}' holds no audio (0 frames): a render refuses it",
                                           strip.name, stem.path.string()));
    }
    if (!any_track) s.notes_.push_back("the session has no tracks: a render refuses it (nothing to play)");
    s.check();
    return s;
}

Session Session::load(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(file, ec))
        throw SessionError({file.string(), 0, 0}, fmt::format("cannot read the session file: {}",
                                                                std::filesystem::exists(file, ec) ? "not a readable file" : "no such file"));
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), file);
}

}  // namespace rtmix
