#include "params.hpp"

#include <rtmix/session.hpp>

#include <cmath>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "report.hpp"
#include "usage.hpp"

namespace rtmix::cli {

namespace {

/// A number for JSON at full precision (the shortest text that reads back the same), or null.
std::string exact(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string("null"); }

/// The current value as the session file would write it.
std::string value_text(const Engine& engine, const ParameterInfo& p) {
    if (p.kind == ValueKind::word) {
        std::string word;
        return engine.get(p.path, word).ok() ? word : std::string("?");
    }
    double v = 0;
    if (!engine.get(p.path, v).ok()) return "?";
    if (p.kind == ValueKind::boolean) return v != 0.0 ? "true" : "false";
    if (p.minus_inf && v <= p.min) return "-inf";
    return fmt::format("{}", static_cast<float>(v));
}

std::string range_text(const ParameterInfo& p) {
    switch (p.kind) {
        case ValueKind::boolean: return "true|false";
        case ValueKind::word: {
            std::string out;
            for (const std::string& w : p.words) out += (out.empty() ? "" : "|") + w;
            return out;
        }
        case ValueKind::number: break;
    }
    if (!p.choices.empty()) {
        std::string out;
        for (double c : p.choices) out += fmt::format("{}{}", out.empty() ? "" : "|", c);
        return out + (p.unit.empty() ? "" : " " + p.unit);
    }
    return fmt::format("{} ... {}{}", p.min, p.max, p.unit.empty() ? "" : " " + p.unit);
}

std::string json(const Engine& engine, const std::vector<ParameterInfo>& params) {
    std::string out = "[";
    for (std::size_t i = 0; i < params.size(); ++i) {
        const ParameterInfo& p = params[i];
        std::string words;
        for (const std::string& w : p.words) words += (words.empty() ? "" : ", ") + json_string(w);
        std::string value;
        if (p.kind == ValueKind::word) {
            std::string w;
            value = engine.get(p.path, w).ok() ? json_string(w) : "null";
        } else {
            double v = 0;
            value = engine.get(p.path, v).ok() ? (p.kind == ValueKind::boolean ? (v != 0.0 ? "true" : "false") : exact(v)) : "null";
        }
        const std::string def = p.kind == ValueKind::word    ? json_string(p.words.at(static_cast<std::size_t>(p.def)))
                                : p.kind == ValueKind::boolean ? std::string(p.def != 0.0 ? "true" : "false")
                                                               : exact(p.def);
        out += fmt::format(
            "{}\n  {{\"path\": {}, \"kind\": {}, \"unit\": {}, \"min\": {}, \"max\": {}, \"default\": {}, \"value\": {}, "
            "\"words\": [{}], \"smoothing\": {}, \"description\": {}}}",
            i == 0 ? "" : ",", json_string(p.path), json_string(to_string(p.kind)), json_string(p.unit), exact(p.min),
            exact(p.max), def, value, words, json_string(to_string(p.smoothing)), json_string(p.description));
    }
    return out + "\n]\n";
}

std::string text(const Engine& engine, const std::vector<ParameterInfo>& params) {
    std::size_t width = 0;
    for (const ParameterInfo& p : params) width = std::max(width, p.path.size());
    std::string out;
    for (const ParameterInfo& p : params)
        out += fmt::format("{:<{}}  {:>10}  {:<28}  {}\n", p.path, width, value_text(engine, p), range_text(p), p.description);
    return out;
}

}  // namespace

int run_params(const std::vector<std::string_view>& args) {
    std::string file, filter;
    bool as_json = false;
    for (const std::string_view a : args) {
        if (a == "--json") as_json = true;
        else if (a.starts_with("-") && a.size() > 1) throw UsageError{fmt::format("unknown option '{}'", a)};
        else if (file.empty()) file = a;
        else if (filter.empty()) filter = a;
        else throw UsageError{fmt::format("unexpected argument '{}'", a)};
    }
    if (file.empty()) throw UsageError{"params needs a session file"};
    const Session session = Session::load(file);
    EngineOptions options = session.engine_options();
    options.threads = 1;
    Engine engine(options);
    session.apply(engine);
    std::vector<ParameterInfo> params = engine.parameters();
    // A filter keeps the paths that contain it: a strip ("track.vox"), a processor ("insert.1").
    if (!filter.empty()) std::erase_if(params, [&](const ParameterInfo& p) { return p.path.find(filter) == std::string::npos; });
    std::fputs((as_json ? json(engine, params) : text(engine, params)).c_str(), stdout);
    return exit_ok;
}

}  // namespace rtmix::cli
