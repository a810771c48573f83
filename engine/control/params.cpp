#include "control/params.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace rtmix::engine {

namespace {

constexpr std::uint8_t strip_bit(StripKind k) {
    return k == StripKind::track ? on_tracks : k == StripKind::bus ? on_buses : on_master;
}

bool strip_has(const StripModel& s, const ParamInfo& p) { return (p.strips & strip_bit(s.kind)) != 0; }

/// Calls f(prefix, slot, insert) for every processor of `s` that has paths: the EQ, the
/// compressor, the inserts that are not fading out, the master's limiter.
template <class Strip, class F>
void for_each_slot(Strip& s, F&& f) {
    f(std::string("eq"), s.eq, static_cast<InsertModel*>(nullptr));
    f(std::string("compressor"), s.compressor, static_cast<InsertModel*>(nullptr));
    for (auto& insert : s.inserts)
        if (!insert.fade.active()) f(s.insert_prefix(insert), insert.slot, const_cast<InsertModel*>(&insert));
    if (s.limiter.kind != nullptr) f(std::string("limiter"), s.limiter, static_cast<InsertModel*>(nullptr));
}

/// The key of slot value `index` below the slot's prefix: "ratio", or "N.freq_hz" with groups.
std::string slot_key(const SlotModel& slot, std::uint32_t index) {
    const ProcessorInfo& info = slot.kind->info;
    if (index >= slot.own_count() || info.groups <= 1) return std::string(slot.param(index).key);
    return fmt::format("{}.{}", index / info.params.size() + 1, slot.param(index).key);
}

void append_paths(const Model& model, const StripModel& s, std::vector<std::string>& out) {
    const std::string base = s.path() + ".";
    for (const ParamInfo& p : strip_params())
        if (strip_has(s, p)) out.push_back(base + std::string(p.key));
    for_each_slot(s, [&](const std::string& prefix, const SlotModel& slot, const InsertModel*) {
        for (std::uint32_t i = 0; i < slot.values.size(); ++i) out.push_back(base + prefix + "." + slot_key(slot, i));
    });
    if (s.kind == StripKind::master) return;
    for (const SendModel& send : s.sends)
        if (const StripModel* bus = model.find(send.bus_id); bus != nullptr && !send.fade.active())
            for (const ParamInfo& p : send_params()) out.push_back(fmt::format("{}send.{}.{}", base, bus->name, p.key));
}

Status unknown(const Model& model, std::string_view path) {
    const std::string best = closest_match(path, all_param_paths(model));
    std::string message = fmt::format("unknown parameter '{}'", path);
    if (!best.empty()) message += fmt::format(" (did you mean '{}'?)", best);
    return {Status::Code::unknown_path, message};
}

/// The index of `key` in `params`, or params.size().
std::uint32_t index_of(std::span<const ParamInfo> params, std::string_view key) {
    std::uint32_t i = 0;
    while (i < params.size() && params[i].key != key) ++i;
    return i;
}

/// Resolves `key` (below the slot's prefix) in `slot`; false when it has no such parameter.
bool resolve_in_slot(const SlotModel& slot, std::string_view key, std::uint32_t& index) {
    const ProcessorInfo& info = slot.kind->info;
    const auto count = static_cast<std::uint32_t>(info.params.size());
    if (const std::uint32_t e = index_of(slot.extras, key); e < slot.extras.size()) {
        index = slot.own_count() + e;
        return true;
    }
    std::uint32_t group = 0;
    if (info.groups > 1) {
        const std::size_t dot = key.find('.');
        if (dot == std::string_view::npos || dot == 0) return false;
        std::uint32_t n = 0;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + dot, n);
        if (ec != std::errc{} || end != key.data() + dot || n < 1 || n > info.groups) return false;
        group = n - 1;
        key = key.substr(dot + 1);
    }
    const std::uint32_t k = index_of(info.params, key);
    if (k == count) return false;
    index = group * count + k;
    return true;
}

std::string word_list(std::span<const std::string_view> words) {
    std::string s;
    for (std::string_view w : words) s += (s.empty() ? "" : ", ") + std::string(w);
    return s;
}

ParamChange message(RtObject* target, std::uint32_t param, std::uint32_t slot, double value) {
    ParamChange c;
    c.target = target;
    c.param = static_cast<std::uint16_t>(param);
    c.slot = static_cast<std::uint8_t>(slot);
    c.value = static_cast<float>(value);
    return c;
}

double delay_frames(double value_ms, double sample_rate) { return static_cast<double>(std::lround(value_ms * 1e-3 * sample_rate)); }

}  // namespace

std::vector<std::string> all_param_paths(const Model& model) {
    std::vector<std::string> out;
    for (const StripModel& s : model.strips) append_paths(model, s, out);
    std::sort(out.begin(), out.end());
    return out;
}

Status resolve_param(Model& model, std::string_view path, double sample_rate, ResolvedParam& out) {
    // The strip: "master", "track.NAME" or "bus.NAME" (names hold no dots).
    StripModel* strip = nullptr;
    std::string_view rest;
    if (path.starts_with("master.")) {
        strip = &model.strips.front();
        rest = path.substr(7);
    } else if (path.starts_with("track.") || path.starts_with("bus.")) {
        const std::size_t name_start = path.find('.') + 1;
        const std::size_t name_end = path.find('.', name_start);
        if (name_end != std::string_view::npos) {
            strip = model.find_path(path.substr(0, name_end));
            rest = path.substr(name_end + 1);
        }
    }
    if (strip == nullptr) return unknown(model, path);
    ResolvedParam r;
    r.strip = strip;

    bool found = false;
    if (rest.starts_with("send.") && strip->kind != StripKind::master) {
        const std::size_t dot = rest.find('.', 5);
        if (dot == std::string_view::npos) return unknown(model, path);
        const std::string_view bus_name = rest.substr(5, dot - 5);
        const std::uint32_t k = index_of(send_params(), rest.substr(dot + 1));
        for (std::uint32_t i = 0; i < strip->sends.size() && !found && k < send_params().size(); ++i) {
            const StripModel* bus = model.find(strip->sends[i].bus_id);
            if (bus != nullptr && bus->name == bus_name && !strip->sends[i].fade.active()) {
                r.owner = ResolvedParam::Owner::send;
                r.send = i;
                r.index = k;
                r.param = &send_params()[k];
                found = true;
            }
        }
    }
    if (!found)
        for_each_slot(*strip, [&](const std::string& prefix, SlotModel& slot, InsertModel* insert) {
            if (found || rest.size() <= prefix.size() || !rest.starts_with(prefix) || rest[prefix.size()] != '.') return;
            std::uint32_t index = 0;
            if (!resolve_in_slot(slot, rest.substr(prefix.size() + 1), index)) return;
            r.owner = ResolvedParam::Owner::slot;
            r.slot = &slot;
            r.insert = insert;
            r.index = index;
            r.param = &slot.param(index);
            found = true;
        });
    if (!found) {
        const std::uint32_t k = index_of(strip_params(), rest);
        if (k == strip_params().size() || !strip_has(*strip, strip_params()[k])) return unknown(model, path);
        r.index = k;
        r.param = &strip_params()[k];
    }
    r.min = r.param->min;
    r.max = r.param->max;
    if (r.param->per_second) {
        r.min = std::round(r.min * sample_rate);
        r.max = std::round(r.max * sample_rate);
    }
    out = r;
    return {};
}

double read_param(const ResolvedParam& p) {
    switch (p.owner) {
        case ResolvedParam::Owner::strip: return p.strip->values[p.index];
        case ResolvedParam::Owner::send: return p.strip->sends[p.send].values[p.index];
        case ResolvedParam::Owner::slot: return p.slot->values[p.index];
    }
    return 0.0;
}

void write_param(const ResolvedParam& p, double value, double sample_rate) {
    // The audio side takes floats: the model keeps what it takes, so get() reads what plays.
    const double taken = static_cast<double>(static_cast<float>(value));
    switch (p.owner) {
        case ResolvedParam::Owner::send: p.strip->sends[p.send].values[p.index] = taken; return;
        case ResolvedParam::Owner::slot: p.slot->values[p.index] = taken; return;
        case ResolvedParam::Owner::strip: break;
    }
    std::vector<double>& v = p.strip->values;
    const auto ms = static_cast<std::size_t>(StripMessage::delay_ms);
    const auto samples = static_cast<std::size_t>(StripMessage::delay_samples);
    if (p.index == ms || p.index == samples) {
        // One alignment delay, in whole frames, read in either unit.
        const double frames = p.index == ms ? delay_frames(value, sample_rate) : std::round(value);
        v[samples] = frames;
        v[ms] = frames * 1000.0 / sample_rate;
        return;
    }
    v[p.index] = taken;
}

bool affects_mutes(const ResolvedParam& p) {
    if (p.owner != ResolvedParam::Owner::strip) return false;
    const auto m = static_cast<StripMessage>(p.index);
    return m == StripMessage::solo || m == StripMessage::solo_safe;
}

void param_changes(const ResolvedParam& p, std::vector<ParamChange>& out) {
    StripModel& s = *p.strip;
    switch (p.owner) {
        case ResolvedParam::Owner::slot: out.push_back(message(p.slot->target, p.index, 0, p.slot->values[p.index])); return;
        case ResolvedParam::Owner::send: {
            const SendModel& send = s.sends[p.send];
            out.push_back(message(s.strip.get(), message_of(send_message(p.index)), send.slot, send.values[p.index]));
            return;
        }
        case ResolvedParam::Owner::strip: break;
    }
    if (affects_mutes(p)) return;
    const auto m = static_cast<StripMessage>(p.index);
    if (m == StripMessage::delay_ms || m == StripMessage::delay_samples) {
        out.push_back(message(s.strip.get(), message_of(StripMessage::delay_samples), 0, s.value(StripMessage::delay_samples)));
        return;
    }
    out.push_back(message(s.strip.get(), p.index, 0, s.values[p.index]));
}

void mute_changes(const Model& model, std::vector<bool>& mutes, std::vector<ParamChange>& out) {
    mutes = model.solo_mutes();
    for (std::size_t i = 0; i < model.strips.size(); ++i)
        if (mutes[i] != model.strips[i].solo_muted)
            out.push_back(message(model.strips[i].strip.get(), message_of(StripMessage::solo_mute), 0, mutes[i] ? 1.0 : 0.0));
}

void commit_mutes(Model& model, const std::vector<bool>& mutes) {
    for (std::size_t i = 0; i < model.strips.size() && i < mutes.size(); ++i)
        model.strips[i].solo_muted = mutes[i];
}

Status validate_number(const ResolvedParam& p, std::string_view path, double value) {
    const ParamInfo& param = *p.param;
    if (param.kind == ValueKind::word)
        return {Status::Code::invalid_value, fmt::format("{} expects one of: {}", path, word_list(param.words))};
    if (std::isnan(value)) return {Status::Code::invalid_value, fmt::format("{} = nan: not a number", path)};
    if (param.kind == ValueKind::boolean && value != 0.0 && value != 1.0)
        return {Status::Code::out_of_range, fmt::format("{} = {}: expected 0 or 1 (false or true)", path, value)};
    if (!param.choices.empty() && std::find(param.choices.begin(), param.choices.end(), value) == param.choices.end()) {
        std::string list;
        for (std::size_t i = 0; i < param.choices.size(); ++i)
            list += fmt::format("{}{}", i == 0 ? "" : i + 1 == param.choices.size() ? " or " : ", ", param.choices[i]);
        return {Status::Code::out_of_range, fmt::format("{} = {}: expected {}{}", path, value, list,
                                                        param.unit.empty() ? "" : fmt::format(" ({})", param.unit))};
    }
    if (value < p.min || value > p.max)
        return {Status::Code::out_of_range, fmt::format("{} = {}: out of range [{}, {}]", path, value, p.min, p.max)};
    return {};
}

Status parse_word(const ResolvedParam& p, std::string_view path, std::string_view word, double& value) {
    const ParamInfo& param = *p.param;
    if (param.kind == ValueKind::word) {
        for (std::size_t i = 0; i < param.words.size(); ++i)
            if (param.words[i] == word) {
                value = static_cast<double>(i);
                return {};
            }
        return {Status::Code::invalid_value,
                fmt::format("{} = '{}': expected one of: {}", path, word, word_list(param.words))};
    }
    if (param.kind == ValueKind::boolean) {
        if (word == "true" || word == "on" || word == "yes" || word == "1") value = 1.0;
        else if (word == "false" || word == "off" || word == "no" || word == "0") value = 0.0;
        else return {Status::Code::invalid_value, fmt::format("{} = '{}': expected true or false", path, word)};
        return {};
    }
    if (word == "-inf" && param.minus_inf) {
        value = p.min;
        return {};
    }
    const char* first = word.data();
    const char* last = word.data() + word.size();
    if (first != last && *first == '+') ++first;
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || end != last)
        return {Status::Code::invalid_value, fmt::format("{} = '{}': expected a number", path, word)};
    return {};
}

ParameterInfo describe(const ResolvedParam& p, std::string path) {
    const ParamInfo& param = *p.param;
    ParameterInfo out;
    out.path = std::move(path);
    out.kind = param.kind;
    out.unit = std::string(param.unit);
    out.min = p.min;
    out.max = p.max;
    out.def = std::clamp(param.def, p.min, p.max);
    for (std::string_view w : param.words) out.words.emplace_back(w);
    out.choices.assign(param.choices.begin(), param.choices.end());
    out.smoothing = param.smoothing;
    out.description = std::string(param.description);
    out.minus_inf = param.minus_inf;
    return out;
}

}  // namespace rtmix::engine
