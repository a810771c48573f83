#include "control/param_apply.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "graph/master_chain.hpp"

namespace rtmix::engine {

namespace {

bool flag(double v) { return v != 0.0; }

ParamChange message(RtObject* target, ParamId id, std::uint32_t index, double value) {
    ParamChange c;
    c.target = target;
    c.id = id;
    c.index = static_cast<std::uint8_t>(index);
    c.value = static_cast<float>(value);
    return c;
}

std::string word_list(std::span<const std::string_view> words) {
    std::string s;
    for (std::string_view w : words) s += (s.empty() ? "" : ", ") + std::string(w);
    return s;
}

}  // namespace

double read_param(const ResolvedParam& p, double sample_rate) {
    const StripModel& s = *p.strip;
    const auto& band = s.eq[p.index % dsp::max_eq_bands];
    switch (p.spec->field) {
        case Field::trim_db: return s.trim_db;
        case Field::invert: return s.invert;
        case Field::delay_ms: return s.delay_frames * 1000.0 / sample_rate;
        case Field::delay_samples: return s.delay_frames;
        case Field::eq_type: return static_cast<double>(band.type);
        case Field::eq_freq_hz: return band.freq_hz;
        case Field::eq_gain_db: return band.gain_db;
        case Field::eq_q: return band.q;
        case Field::eq_slope: return band.slope_db_oct;
        case Field::comp_enabled: return s.comp.enabled;
        case Field::comp_threshold_db: return s.comp.threshold_db;
        case Field::comp_ratio: return s.comp.ratio;
        case Field::comp_knee_db: return s.comp.knee_db;
        case Field::comp_attack_ms: return s.comp.attack_ms;
        case Field::comp_release_ms: return s.comp.release_ms;
        case Field::comp_makeup_db: return s.comp.makeup_db;
        case Field::comp_detector: return static_cast<double>(s.comp.detector);
        case Field::gain_db: return s.gain_db;
        case Field::pan: return s.pan;
        case Field::mute: return s.mute;
        case Field::solo: return s.solo;
        case Field::solo_safe: return s.solo_safe;
        case Field::send_level_db: return s.sends[p.index].level_db;
        case Field::send_pre_fader: return s.sends[p.index].pre_fader;
        case Field::reverb:
        case Field::delay: return s.effects[p.index].values[p.spec->effect_param];
        case Field::limiter: return s.limiter[p.spec->effect_param];
    }
    return 0.0;
}

void write_param(const ResolvedParam& p, double value, double sample_rate) {
    StripModel& s = *p.strip;
    auto& band = s.eq[p.index % dsp::max_eq_bands];
    const auto f = static_cast<float>(value);
    switch (p.spec->field) {
        case Field::trim_db: s.trim_db = f; break;
        case Field::invert: s.invert = flag(value); break;
        case Field::delay_ms: s.delay_frames = static_cast<std::uint32_t>(std::lround(value * 1e-3 * sample_rate)); break;
        case Field::delay_samples: s.delay_frames = static_cast<std::uint32_t>(std::lround(value)); break;
        case Field::eq_type: band.type = static_cast<dsp::EqType>(value); break;
        case Field::eq_freq_hz: band.freq_hz = f; break;
        case Field::eq_gain_db: band.gain_db = f; break;
        case Field::eq_q: band.q = f; break;
        case Field::eq_slope: band.slope_db_oct = static_cast<std::uint8_t>(value); break;
        case Field::comp_enabled: s.comp.enabled = flag(value); break;
        case Field::comp_threshold_db: s.comp.threshold_db = f; break;
        case Field::comp_ratio: s.comp.ratio = f; break;
        case Field::comp_knee_db: s.comp.knee_db = f; break;
        case Field::comp_attack_ms: s.comp.attack_ms = f; break;
        case Field::comp_release_ms: s.comp.release_ms = f; break;
        case Field::comp_makeup_db: s.comp.makeup_db = f; break;
        case Field::comp_detector: s.comp.detector = static_cast<dsp::Detector>(value); break;
        case Field::gain_db: s.gain_db = f; break;
        case Field::pan: s.pan = f; break;
        case Field::mute: s.mute = flag(value); break;
        case Field::solo: s.solo = flag(value); break;
        case Field::solo_safe: s.solo_safe = flag(value); break;
        case Field::send_level_db: s.sends[p.index].level_db = f; break;
        case Field::send_pre_fader: s.sends[p.index].pre_fader = flag(value); break;
        case Field::reverb:
        case Field::delay: s.effects[p.index].values[p.spec->effect_param] = f; break;
        case Field::limiter: s.limiter[p.spec->effect_param] = f; break;
    }
}

void param_changes(const ResolvedParam& p, std::vector<ParamChange>& out) {
    StripModel& s = *p.strip;
    Strip* strip = s.strip.get();
    const auto& band = s.eq[p.index % dsp::max_eq_bands];
    const std::uint32_t b = p.index;
    switch (p.spec->field) {
        case Field::trim_db: out.push_back(message(strip, ParamId::trim_db, 0, s.trim_db)); break;
        case Field::invert: out.push_back(message(strip, ParamId::invert, 0, s.invert)); break;
        case Field::delay_ms:
        case Field::delay_samples: out.push_back(message(strip, ParamId::delay_frames, 0, s.delay_frames)); break;
        case Field::eq_type: out.push_back(message(strip, ParamId::eq_type, b, static_cast<double>(band.type))); break;
        case Field::eq_freq_hz: out.push_back(message(strip, ParamId::eq_freq_hz, b, band.freq_hz)); break;
        case Field::eq_gain_db: out.push_back(message(strip, ParamId::eq_gain_db, b, band.gain_db)); break;
        case Field::eq_q: out.push_back(message(strip, ParamId::eq_q, b, band.q)); break;
        case Field::eq_slope: out.push_back(message(strip, ParamId::eq_slope, b, band.slope_db_oct)); break;
        case Field::comp_enabled: out.push_back(message(strip, ParamId::comp_enabled, 0, s.comp.enabled)); break;
        case Field::comp_threshold_db:
            out.push_back(message(strip, ParamId::comp_threshold_db, 0, s.comp.threshold_db));
            break;
        case Field::comp_ratio: out.push_back(message(strip, ParamId::comp_ratio, 0, s.comp.ratio)); break;
        case Field::comp_knee_db: out.push_back(message(strip, ParamId::comp_knee_db, 0, s.comp.knee_db)); break;
        case Field::comp_attack_ms: out.push_back(message(strip, ParamId::comp_attack_ms, 0, s.comp.attack_ms)); break;
        case Field::comp_release_ms:
            out.push_back(message(strip, ParamId::comp_release_ms, 0, s.comp.release_ms));
            break;
        case Field::comp_makeup_db: out.push_back(message(strip, ParamId::comp_makeup_db, 0, s.comp.makeup_db)); break;
        case Field::comp_detector:
            out.push_back(message(strip, ParamId::comp_detector, 0, static_cast<double>(s.comp.detector)));
            break;
        case Field::gain_db: out.push_back(message(strip, ParamId::gain_db, 0, s.gain_db)); break;
        case Field::pan: out.push_back(message(strip, ParamId::pan, 0, s.pan)); break;
        case Field::mute:
        case Field::solo:
        case Field::solo_safe: break;
        case Field::send_level_db:
            out.push_back(message(strip, ParamId::send_level_db, s.sends[p.index].slot, s.sends[p.index].level_db));
            break;
        case Field::send_pre_fader:
            out.push_back(message(strip, ParamId::send_pre_fader, s.sends[p.index].slot, s.sends[p.index].pre_fader));
            break;
        case Field::reverb:
        case Field::delay: {
            const EffectModel& e = s.effects[p.index];
            out.push_back(message(e.unit.get(), ParamId::effect, p.spec->effect_param, e.values[p.spec->effect_param]));
            break;
        }
        case Field::limiter:
            out.push_back(message(s.chain.get(), ParamId::effect, p.spec->effect_param,
                                  s.limiter[p.spec->effect_param]));
            break;
    }
}

void mute_changes(const Model& model, std::vector<bool>& mutes, std::vector<ParamChange>& out) {
    mutes = model.effective_mutes();
    for (std::size_t i = 0; i < model.strips.size(); ++i)
        if (mutes[i] != model.strips[i].effective_mute)
            out.push_back(message(model.strips[i].strip.get(), ParamId::mute, 0, mutes[i] ? 1.0 : 0.0));
}

void commit_mutes(Model& model, const std::vector<bool>& mutes) {
    for (std::size_t i = 0; i < model.strips.size() && i < mutes.size(); ++i)
        model.strips[i].effective_mute = mutes[i];
}

Status validate_number(const ResolvedParam& p, std::string_view path, double value) {
    const ParamSpec& spec = *p.spec;
    if (spec.kind == ValueKind::word)
        return {Status::Code::invalid_value,
                fmt::format("{} expects one of: {}", path, word_list(spec.words))};
    if (std::isnan(value)) return {Status::Code::invalid_value, fmt::format("{} = nan: not a number", path)};
    if (spec.kind == ValueKind::boolean && value != 0.0 && value != 1.0)
        return {Status::Code::out_of_range, fmt::format("{} = {}: expected 0 or 1 (false or true)", path, value)};
    if (spec.field == Field::eq_slope && value != 12.0 && value != 24.0)
        return {Status::Code::out_of_range, fmt::format("{} = {}: expected 12 or 24 (dB/oct)", path, value)};
    if (value < p.min || value > p.max)
        return {Status::Code::out_of_range, fmt::format("{} = {}: out of range [{}, {}]", path, value, p.min, p.max)};
    return {};
}

Status parse_word(const ResolvedParam& p, std::string_view path, std::string_view word, double& value) {
    const ParamSpec& spec = *p.spec;
    if (spec.kind == ValueKind::word) {
        for (std::size_t i = 0; i < spec.words.size(); ++i)
            if (spec.words[i] == word) {
                value = static_cast<double>(i);
                return {};
            }
        return {Status::Code::invalid_value,
                fmt::format("{} = '{}': expected one of: {}", path, word, word_list(spec.words))};
    }
    if (spec.kind == ValueKind::boolean) {
        if (word == "true" || word == "on" || word == "yes" || word == "1") value = 1.0;
        else if (word == "false" || word == "off" || word == "no" || word == "0") value = 0.0;
        else return {Status::Code::invalid_value, fmt::format("{} = '{}': expected true or false", path, word)};
        return {};
    }
    if (word == "-inf" && spec.field == Field::gain_db) {
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

}  // namespace rtmix::engine
