#include "control/param_table.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "dsp/limiter.hpp"
#include "dsp/reverb.hpp"
#include "dsp/stereo_delay.hpp"

namespace rtmix::engine {

namespace {

constexpr std::array<std::string_view, 7> eq_type_words = {"off",       "highpass", "lowpass", "lowshelf",
                                                           "highshelf", "peak",     "notch"};
constexpr std::array<std::string_view, 2> detector_words = {"peak", "rms"};
constexpr std::span<const std::string_view> no_words{};

constexpr ParamSpec number(Scope scope, std::string_view key, Field f, double min, double max, double def,
                           std::uint8_t effect_param = 0) {
    return {scope, key, f, ValueKind::number, min, max, def, no_words, effect_param};
}
constexpr ParamSpec boolean(Scope scope, std::string_view key, Field f) {
    return {scope, key, f, ValueKind::boolean, 0, 1, 0, no_words, 0};
}

template <class P, class R>
constexpr ParamSpec effect(Scope scope, std::string_view key, Field f, P p, R range) {
    return number(scope, key, f, range(p).min, range(p).max, range(p).def, static_cast<std::uint8_t>(p));
}

const std::array specs = {
    number(Scope::strip, "trim_db", Field::trim_db, -60, 24, 0),
    boolean(Scope::strip, "invert", Field::invert),
    number(Scope::strip, "delay_ms", Field::delay_ms, 0, max_alignment_delay_ms, 0),
    number(Scope::strip, "delay_samples", Field::delay_samples, 0, 0, 0),  // max set at resolution
    ParamSpec{Scope::eq_band, "type", Field::eq_type, ValueKind::word, 0, 6, 0, eq_type_words, 0},
    number(Scope::eq_band, "freq_hz", Field::eq_freq_hz, 10, 24000, 1000),
    number(Scope::eq_band, "gain_db", Field::eq_gain_db, -24, 24, 0),
    number(Scope::eq_band, "q", Field::eq_q, 0.1, 20, 0.70710678),
    number(Scope::eq_band, "slope", Field::eq_slope, 12, 24, 12),
    boolean(Scope::strip, "compressor.enabled", Field::comp_enabled),
    number(Scope::strip, "compressor.threshold_db", Field::comp_threshold_db, -60, 0, -20),
    number(Scope::strip, "compressor.ratio", Field::comp_ratio, 1, 100, 4),
    number(Scope::strip, "compressor.knee_db", Field::comp_knee_db, 0, 24, 6),
    number(Scope::strip, "compressor.attack_ms", Field::comp_attack_ms, 0.1, 500, 10),
    number(Scope::strip, "compressor.release_ms", Field::comp_release_ms, 1, 5000, 100),
    number(Scope::strip, "compressor.makeup_db", Field::comp_makeup_db, 0, 36, 0),
    ParamSpec{Scope::strip, "compressor.detector", Field::comp_detector, ValueKind::word, 0, 1, 0, detector_words, 0},
    number(Scope::strip, "gain_db", Field::gain_db, -120, 12, 0),
    number(Scope::strip, "pan", Field::pan, -1, 1, 0),
    boolean(Scope::strip, "mute", Field::mute),
    boolean(Scope::strip, "solo", Field::solo),
    boolean(Scope::strip, "solo_safe", Field::solo_safe),
    number(Scope::send, "level_db", Field::send_level_db, -120, 12, 0),
    boolean(Scope::send, "pre_fader", Field::send_pre_fader),
    effect(Scope::reverb, "decay_s", Field::reverb, dsp::ReverbParam::decay_s, dsp::reverb_range),
    effect(Scope::reverb, "predelay_ms", Field::reverb, dsp::ReverbParam::predelay_ms, dsp::reverb_range),
    effect(Scope::reverb, "damping", Field::reverb, dsp::ReverbParam::damping, dsp::reverb_range),
    effect(Scope::reverb, "size", Field::reverb, dsp::ReverbParam::size, dsp::reverb_range),
    effect(Scope::reverb, "width", Field::reverb, dsp::ReverbParam::width, dsp::reverb_range),
    effect(Scope::reverb, "mix", Field::reverb, dsp::ReverbParam::mix, dsp::reverb_range),
    effect(Scope::delay, "time_ms", Field::delay, dsp::DelayParam::time_ms, dsp::delay_range),
    effect(Scope::delay, "feedback", Field::delay, dsp::DelayParam::feedback, dsp::delay_range),
    effect(Scope::delay, "damping", Field::delay, dsp::DelayParam::damping, dsp::delay_range),
    effect(Scope::delay, "mix", Field::delay, dsp::DelayParam::mix, dsp::delay_range),
    ParamSpec{Scope::limiter, "enabled", Field::limiter, ValueKind::boolean, 0, 1, 0, no_words,
              static_cast<std::uint8_t>(dsp::LimiterParam::enabled)},
    effect(Scope::limiter, "gain_db", Field::limiter, dsp::LimiterParam::gain_db, dsp::limiter_range),
    effect(Scope::limiter, "ceiling_dbtp", Field::limiter, dsp::LimiterParam::ceiling_dbtp, dsp::limiter_range),
    effect(Scope::limiter, "release_ms", Field::limiter, dsp::LimiterParam::release_ms, dsp::limiter_range),
    effect(Scope::limiter, "lookahead_ms", Field::limiter, dsp::LimiterParam::lookahead_ms, dsp::limiter_range),
};

/// Whether a strip of this kind has the parameter at all.
bool applies_to(const ParamSpec& spec, const StripModel& s) {
    switch (spec.field) {
        case Field::solo: return s.kind != StripKind::master;
        case Field::solo_safe: return s.kind == StripKind::bus;
        default: break;
    }
    if (spec.scope == Scope::send) return s.kind != StripKind::master;
    if (spec.scope == Scope::limiter) return s.kind == StripKind::master;
    return true;
}

bool has_effect(const StripModel& s, Effect kind, std::uint32_t& position) {
    for (std::uint32_t i = 0; i < s.effects.size(); ++i)
        if (s.effects[i].kind == kind && !s.effects[i].fade.active()) {
            position = i;
            return true;
        }
    return false;
}

void append_paths(const Model& model, const StripModel& s, std::vector<std::string>& out) {
    const std::string base = s.path() + ".";
    std::uint32_t pos = 0;
    for (const ParamSpec& spec : specs) {
        if (!applies_to(spec, s)) continue;
        switch (spec.scope) {
            case Scope::strip: out.push_back(base + std::string(spec.key)); break;
            case Scope::eq_band:
                for (std::uint32_t b = 1; b <= eq_band_count; ++b)
                    out.push_back(fmt::format("{}eq.{}.{}", base, b, spec.key));
                break;
            case Scope::send:
                for (const SendModel& send : s.sends)
                    if (const StripModel* bus = model.find(send.bus_id); bus != nullptr && !send.fade.active())
                        out.push_back(fmt::format("{}send.{}.{}", base, bus->name, spec.key));
                break;
            case Scope::reverb:
                if (has_effect(s, Effect::reverb, pos)) out.push_back(base + "reverb." + std::string(spec.key));
                break;
            case Scope::delay:
                if (has_effect(s, Effect::delay, pos)) out.push_back(base + "delay." + std::string(spec.key));
                break;
            case Scope::limiter: out.push_back(base + "limiter." + std::string(spec.key)); break;
        }
    }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

Status unknown(const Model& model, std::string_view path) {
    const std::string best = closest_match(path, all_param_paths(model));
    std::string message = fmt::format("unknown parameter '{}'", path);
    if (!best.empty()) message += fmt::format(" (did you mean '{}'?)", best);
    return {Status::Code::unknown_path, message};
}

}  // namespace

std::span<const ParamSpec> param_specs() { return specs; }

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const std::string& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    // Suggest only what looks like a typo, not an unrelated path.
    const std::size_t allowed = std::max<std::size_t>(2, word.size() / 3);
    return best_distance <= allowed ? best : std::string{};
}

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

    Scope scope = Scope::strip;
    std::uint32_t index = 0;
    std::string_view key = rest;
    if (rest.starts_with("eq.")) {
        const std::size_t dot = rest.find('.', 3);
        const std::string_view number = rest.substr(3, dot == std::string_view::npos ? dot : dot - 3);
        std::uint32_t band = 0;
        for (char ch : number) band = (ch >= '0' && ch <= '9' && band < 100) ? band * 10 + (ch - '0') : 1000;
        if (dot == std::string_view::npos || number.empty() || band < 1 || band > eq_band_count)
            return unknown(model, path);
        scope = Scope::eq_band;
        index = band - 1;
        key = rest.substr(dot + 1);
    } else if (rest.starts_with("send.")) {
        const std::size_t dot = rest.find('.', 5);
        if (dot == std::string_view::npos) return unknown(model, path);
        const std::string_view bus_name = rest.substr(5, dot - 5);
        bool found = false;
        for (std::uint32_t i = 0; i < strip->sends.size() && !found; ++i) {
            const StripModel* bus = model.find(strip->sends[i].bus_id);
            if (bus != nullptr && bus->name == bus_name && !strip->sends[i].fade.active()) {
                index = i;
                found = true;
            }
        }
        if (!found) return unknown(model, path);
        scope = Scope::send;
        key = rest.substr(dot + 1);
    } else if (rest.starts_with("reverb.") || rest.starts_with("delay.")) {
        const bool reverb = rest.starts_with("reverb.");
        if (!has_effect(*strip, reverb ? Effect::reverb : Effect::delay, index)) return unknown(model, path);
        scope = reverb ? Scope::reverb : Scope::delay;
        key = rest.substr(reverb ? 7 : 6);
    } else if (rest.starts_with("limiter.")) {
        scope = Scope::limiter;
        key = rest.substr(8);
    }
    for (const ParamSpec& spec : specs) {
        if (spec.scope != scope || spec.key != key || !applies_to(spec, *strip)) continue;
        out.strip = strip;
        out.spec = &spec;
        out.index = index;
        out.min = spec.min;
        out.max = spec.max;
        if (spec.field == Field::delay_samples)
            out.max = std::round(max_alignment_delay_ms * 1e-3 * sample_rate);
        return {};
    }
    return unknown(model, path);
}

}  // namespace rtmix::engine
