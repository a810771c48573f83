// The session file parser, automation: `automation = { KEY = [ [time, value, "shape"], ... ] }`
// in a strip's table (KEY any path below the strip: "gain_db", "send.verb.level_db",
// "insert.2.threshold_db") or in a processor's table (KEY one of its parameters). The engine checks
// the values, their order and shapes when the session is applied (Engine::automate()); the
// parser checks the form, reads the times, and turns words into their index.
#include <algorithm>
#include <cmath>
#include <charconv>

#include <fmt/format.h>

#include "session/session_parser.hpp"
#include "session/session_paths.hpp"

namespace rtmix::session_parse {

namespace {

std::vector<std::string> shape_names() {
    std::vector<std::string> out;
    for (const Shape s : {Shape::linear, Shape::hold, Shape::exponential, Shape::smooth}) out.emplace_back(to_string(s));
    return out;
}

/// A number of `text` (all of it), or nothing.
std::optional<double> number_in(std::string_view text) {
    double v = 0.0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

}  // namespace

std::int64_t Parser::read_time(const toml::node& n, const std::string& what) const {
    const char* forms = "seconds (a number), \"m:ss.sss\", \"h:mm:ss.sss\" or \"N samples\"";
    if (n.is_number()) {
        const double s = *n.value<double>();
        if (!(s >= 0.0) || !std::isfinite(s)) fail(n.source(), fmt::format("{} = {}: expected 0 or more seconds", what, s));
        return std::llround(s * sample_rate_);
    }
    if (!n.is_string()) fail(n.source(), fmt::format("{} must be {}, not {}", what, forms, type_name(n)));
    std::string_view text = n.as_string()->get();
    if (text.ends_with(" samples")) {
        std::int64_t frames = -1;
        const std::string_view digits = text.substr(0, text.size() - 8);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), frames);
        if (ec != std::errc{} || end != digits.data() + digits.size() || frames < 0)
            fail(n.source(), fmt::format("{} = \"{}\": expected a whole number of samples (\"96000 samples\")", what, text));
        return frames;
    }
    // [h:]m:ss.sss
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t colon = text.find(':', start);
        parts.push_back(text.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    double seconds = -1.0;
    if (parts.size() == 2 || parts.size() == 3) {
        const std::optional<double> sec = number_in(parts.back());
        const std::optional<double> min = number_in(parts[parts.size() - 2]);
        const std::optional<double> hours = parts.size() == 3 ? number_in(parts[0]) : std::optional<double>(0.0);
        const bool whole = min && hours && *min == std::floor(*min) && *hours == std::floor(*hours);
        if (sec && whole && *sec >= 0.0 && *sec < 60.0 && *min >= 0.0 && *hours >= 0.0 &&
            (parts.size() == 2 || *min < 60.0))
            seconds = *hours * 3600.0 + *min * 60.0 + *sec;
    }
    if (seconds < 0.0) fail(n.source(), fmt::format("{} = \"{}\": expected {}", what, text, forms));
    return std::llround(seconds * sample_rate_);
}

void Parser::read_automation(SessionStrip& s, const std::string& where, const std::string& prefix, const toml::node& node) {
    const toml::table* t = node.as_table();
    if (t == nullptr)
        fail(node.source(), fmt::format("automation {} must be a table of lanes (automation = {{ gain_db = [ [0, -6], "
                                        "[2.5, 0] ] }}), not {}",
                                        where, type_name(node)));
    for (auto&& [key, lane_node] : *t) {
        const std::string path = s.path() + "." + prefix + std::string(key.str());
        const std::string lane_name = fmt::format("the automation of {} {}", key.str(), where);
        for (const SessionLane& other : automation_)
            if (other.path == path)
                fail(key.source(), fmt::format("{} is given twice (first at line {})", lane_name, other.where.line));
        const toml::array* points = lane_node.as_array();
        if (points == nullptr || points->empty())
            fail(lane_node.source(), fmt::format("{} must be an array of breakpoints ([ [time, value], [time, value, "
                                                 "\"shape\"], ... ]), not {}",
                                                 lane_name, points == nullptr ? type_name(lane_node) : "an empty array"));
        SessionLane lane;
        lane.path = path;
        lane.where = at(key.source());
        PendingLane pending;
        pending.index = automation_.size();
        for (std::size_t i = 0; i < points->size(); ++i) {
            const toml::node& item = (*points)[i];
            const toml::array* p = item.as_array();
            const std::string what = fmt::format("breakpoint {} of {}", i + 1, lane_name);
            if (p == nullptr || p->size() < 2 || p->size() > 3)
                fail(item.source(), fmt::format("{} must be [time, value] or [time, value, \"shape\"], not {}", what,
                                                p == nullptr ? type_name(item) : fmt::format("{} items", p->size())));
            Breakpoint b;
            b.frame = read_time((*p)[0], fmt::format("the time of {}", what));
            const toml::node& value = (*p)[1];
            std::string word;
            if (value.is_number()) {
                b.value = *value.value<double>();
            } else if (value.is_boolean()) {
                b.value = value.as_boolean()->get() ? 1.0 : 0.0;
            } else if (value.is_string()) {
                word = std::string(value.as_string()->get());
                if (word == "-inf") {
                    b.value = -INFINITY;
                    word.clear();
                }
            } else {
                fail(value.source(), fmt::format("the value of {} must be a number, true/false or a word, not {}", what,
                                                 type_name(value)));
            }
            bool shaped = false;
            if (p->size() == 3) {
                const std::string name = string_value((*p)[2], fmt::format("the shape of {}", what));
                const std::optional<Shape> shape = shape_from_string(name);
                if (!shape) {
                    const std::vector<std::string> names = shape_names();
                    const std::string best = closest_match(name, names);
                    fail((*p)[2].source(), fmt::format("unknown shape '{}' in {}{} (expected one of: linear, hold, "
                                                       "exponential, smooth)",
                                                       name, what, best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
                }
                b.shape = *shape;
                shaped = true;
            }
            lane.lane.points.push_back(b);
            lane.points_where.push_back(at(item.source()));
            pending.words.push_back(std::move(word));
            pending.shaped.push_back(shaped);
            pending.value_at.push_back(value.source());
        }
        automation_.push_back(std::move(lane));
        pending_lanes_.push_back(std::move(pending));
    }
}

void Parser::finish_automation() {
    for (const PendingLane& pending : pending_lanes_) {
        SessionLane& lane = automation_[pending.index];
        const std::optional<session_paths::ParamRef> ref = session_paths::locate(strips_, lane.path);
        // An unknown path is the engine's to name (with the nearest) when the session is applied.
        const ParamInfo* spec = ref ? ref->param : nullptr;
        for (std::size_t i = 0; i < lane.lane.points.size(); ++i) {
            Breakpoint& b = lane.lane.points[i];
            const std::string& word = pending.words[i];
            const std::string what = fmt::format("breakpoint {} of the automation of {}", i + 1, lane.path);
            if (spec != nullptr && spec->kind == ValueKind::word) {
                const auto it = std::find(spec->words.begin(), spec->words.end(), word);
                if (word.empty() || it == spec->words.end())
                    fail(pending.value_at[i], fmt::format("{}: expected one of: {} (a string)", what,
                                                          session_paths::word_list(spec->words)));
                b.value = static_cast<double>(it - spec->words.begin());
            } else if (!word.empty()) {
                fail(pending.value_at[i], fmt::format("{}: '{}' is not a value of it: expected {}", what, word,
                                                      spec != nullptr && spec->kind == ValueKind::boolean
                                                          ? "true or false"
                                                          : "a number (or \"-inf\" for a gain)"));
            }
            // Words and switches step: hold unless the file says otherwise (the engine refuses
            // any other shape for them, naming the breakpoint).
            if (!pending.shaped[i] && spec != nullptr && spec->kind != ValueKind::number) b.shape = Shape::hold;
        }
    }
}

}  // namespace rtmix::session_parse
