#include "session/session_paths.hpp"

#include <charconv>

#include <fmt/format.h>

namespace rtmix::session_paths {

namespace {

using Kind = SessionStrip::Kind;

Owner processor(Owner::Kind kind, std::string prefix, std::string_view type, std::span<const ParamInfo> extras = {}) {
    Owner o;
    o.kind = kind;
    o.prefix = std::move(prefix);
    o.type = find_processor_type(type);
    o.extras = extras;
    return o;
}

/// `key` below an owner with processor parameters: "ratio", or "N.freq_hz" with groups.
const ParamInfo* param_of(const Owner& o, std::string_view key, std::uint32_t& group) {
    if (const ParamInfo* p = find_param(o.extras, key)) return p;
    if (o.type->groups > 1) {
        const std::size_t dot = key.find('.');
        if (dot == std::string_view::npos) return nullptr;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + dot, group);
        if (ec != std::errc{} || end != key.data() + dot || group < 1 || group > o.type->groups) return nullptr;
        key = key.substr(dot + 1);
    }
    return find_param(o.type->params, key);
}

}  // namespace

std::vector<const ParamInfo*> Owner::params() const {
    std::vector<const ParamInfo*> out;
    if (kind == Kind::strip)
        for (const ParamInfo& p : strip_params()) out.push_back(&p);
    else if (kind == Kind::send)
        for (const ParamInfo& p : send_params()) out.push_back(&p);
    else
        for (const ParamInfo& p : type->params) out.push_back(&p);
    for (const ParamInfo& p : extras) out.push_back(&p);
    return out;
}

const ParamInfo* find_param(std::span<const ParamInfo> params, std::string_view key) {
    for (const ParamInfo& p : params)
        if (p.key == key) return &p;
    return nullptr;
}

bool strip_has(Kind kind, const ParamInfo& p) {
    const std::uint8_t bit = kind == Kind::track ? on_tracks : kind == Kind::bus ? on_buses : on_master;
    return (p.strips & bit) != 0;
}

std::string word_list(std::span<const std::string_view> words) {
    std::string out;
    for (std::string_view w : words) out.append(out.empty() ? "" : ", ").append(w);
    return out;
}

std::vector<Owner> owners(const SessionStrip& s) {
    std::vector<Owner> out;
    out.push_back(processor(Owner::Kind::eq, "eq", "eq"));
    out.push_back(processor(Owner::Kind::compressor, "compressor", "compressor"));
    for (const SessionInsert& i : s.inserts) {
        Owner o = processor(Owner::Kind::insert, i.slot, i.type);
        if (o.type == nullptr) continue;
        o.extras = insert_params(*o.type);
        o.insert = &i;
        out.push_back(std::move(o));
    }
    if (s.kind == Kind::master) out.push_back(processor(Owner::Kind::limiter, "limiter", "limiter", master_limiter_params()));
    return out;
}

std::optional<ParamRef> locate(const std::vector<SessionStrip>& strips, std::string_view path) {
    ParamRef out;
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
    const SessionStrip* strip = nullptr;
    for (const SessionStrip& s : strips)
        if (s.path() == out.strip) strip = &s;
    if (strip == nullptr) return std::nullopt;
    out.rest = std::string(rest);

    if (rest.starts_with("send.")) {
        const std::size_t dot = rest.find('.', 5);
        if (dot == std::string_view::npos) return std::nullopt;
        out.owner.kind = Owner::Kind::send;
        out.owner.bus = std::string(rest.substr(5, dot - 5));
        out.owner.prefix = "send." + out.owner.bus;
        out.param = find_param(send_params(), rest.substr(dot + 1));
        return out.param != nullptr ? std::optional<ParamRef>(out) : std::nullopt;
    }
    for (Owner& o : owners(*strip)) {
        if (rest.size() <= o.prefix.size() || !rest.starts_with(o.prefix) || rest[o.prefix.size()] != '.') continue;
        out.param = param_of(o, rest.substr(o.prefix.size() + 1), out.group);
        if (out.param == nullptr) return std::nullopt;
        out.owner = std::move(o);
        return out;
    }
    out.param = find_param(strip_params(), rest);
    if (out.param == nullptr || !strip_has(strip->kind, *out.param)) return std::nullopt;
    return out;
}

}  // namespace rtmix::session_paths
