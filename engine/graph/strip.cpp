#include "graph/strip.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/db.hpp"
#include "dsp/reduce.hpp"

namespace rtmix::engine {

namespace {

constexpr float silent_gain_db = -120.0f;  // a fader or send at or below this is off
constexpr float rms_window_ms = 300.0f;
constexpr float peak_fall_db_per_s = 20.0f;

float fader_gain(float db) noexcept { return db <= silent_gain_db ? 0.0f : dsp::db_to_gain(db); }

/// Output gains of the pan control: equal power for a mono source (-3 dB each side at centre),
/// balance for a stereo source (centre leaves both sides at unity; turning away attenuates the
/// other side along a quarter cosine).
void pan_gains(std::uint32_t channels, float pan, float& left, float& right) noexcept {
    if (channels == 1) {
        const float theta = (pan + 1.0f) * dsp::pi / 4.0f;
        left = std::cos(theta);
        right = std::sin(theta);
    } else if (pan >= 0.0f) {
        left = std::cos(pan * dsp::pi / 2.0f);
        right = 1.0f;
    } else {
        left = 1.0f;
        right = std::cos(-pan * dsp::pi / 2.0f);
    }
}

std::uint32_t next_power_of_two(std::uint32_t n) noexcept {
    std::uint32_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

}  // namespace

Strip::Strip(std::uint32_t id, std::uint32_t channels, double sample_rate, float smoothing_ms,
             std::uint32_t max_block_frames)
    : ramps_(5 * static_cast<std::size_t>(max_block_frames)),
      max_block_frames_(max_block_frames),
      id_(id),
      channels_(channels == 1 ? 1 : 2),
      sample_rate_(sample_rate),
      ramp_frames_(std::max<std::uint32_t>(1, static_cast<std::uint32_t>(smoothing_ms * 1e-3 * sample_rate))) {
    max_delay_frames_ = static_cast<std::uint32_t>(std::lround(max_alignment_delay_ms * 1e-3 * sample_rate));
    const std::uint32_t ring_frames = next_power_of_two(max_delay_frames_ + max_block_frames + 1);
    ring_mask_ = ring_frames - 1;
    for (std::uint32_t c = 0; c < channels_; ++c) ring_[c].assign(ring_frames, 0.0f);
    xfade_done_ = ramp_frames_;

    input_gain_.set_ramp_frames(ramp_frames_);
    input_gain_.reset(1.0f);
    output_fade_.set_ramp_frames(ramp_frames_);
    output_fade_.reset(1.0f);
    for (int c = 0; c < 2; ++c) {
        post_gain_[c].set_ramp_frames(ramp_frames_);
        pre_gain_[c].set_ramp_frames(ramp_frames_);
    }
    for (auto& s : sends_) {
        s.level.set_ramp_frames(ramp_frames_);
        s.level.reset(1.0f);
    }
    update_output_gains();
    for (int c = 0; c < 2; ++c) {
        post_gain_[c].reset(post_gain_[c].target());
        pre_gain_[c].reset(pre_gain_[c].target());
    }
    eq_.prepare(sample_rate, smoothing_ms);
    comp_.prepare(sample_rate, smoothing_ms);
    rms_coef_ = dsp::one_pole_coefficient(rms_window_ms, sample_rate);
}

void Strip::update_output_gains() noexcept {
    float pan_l = 1.0f, pan_r = 1.0f;
    pan_gains(channels_, pan_, pan_l, pan_r);
    const float mute = mute_ ? 0.0f : 1.0f;
    const float fader = fader_gain(gain_db_);
    pre_gain_[0].set_target(pan_l * mute);
    pre_gain_[1].set_target(pan_r * mute);
    post_gain_[0].set_target(pan_l * mute * fader);
    post_gain_[1].set_target(pan_r * mute * fader);
}

void Strip::apply(ParamId id, std::uint8_t index, float value) noexcept {
    auto& band = eq_settings_[index % dsp::max_eq_bands];
    auto& send = sends_[index % max_sends];
    switch (id) {
        case ParamId::trim_db: trim_db_ = value; break;
        case ParamId::invert: invert_ = value != 0.0f; break;
        case ParamId::delay_frames: {
            const auto frames = static_cast<std::uint32_t>(std::clamp(value, 0.0f, float(max_delay_frames_)));
            if (frames != delay_frames_) {
                old_delay_frames_ = delay_frames_;
                delay_frames_ = frames;
                xfade_done_ = 0;
            }
            return;
        }
        case ParamId::eq_type: band.type = static_cast<dsp::EqType>(value); break;
        case ParamId::eq_freq_hz: band.freq_hz = value; break;
        case ParamId::eq_gain_db: band.gain_db = value; break;
        case ParamId::eq_q: band.q = value; break;
        case ParamId::eq_slope: band.slope_db_oct = value >= 24.0f ? 24 : 12; break;
        case ParamId::comp_enabled: comp_settings_.enabled = value != 0.0f; break;
        case ParamId::comp_threshold_db: comp_settings_.threshold_db = value; break;
        case ParamId::comp_ratio: comp_settings_.ratio = value; break;
        case ParamId::comp_knee_db: comp_settings_.knee_db = value; break;
        case ParamId::comp_attack_ms: comp_settings_.attack_ms = value; break;
        case ParamId::comp_release_ms: comp_settings_.release_ms = value; break;
        case ParamId::comp_makeup_db: comp_settings_.makeup_db = value; break;
        case ParamId::comp_detector: comp_settings_.detector = static_cast<dsp::Detector>(value); break;
        case ParamId::gain_db: gain_db_ = value; break;
        case ParamId::pan: pan_ = value; break;
        case ParamId::mute: mute_ = value != 0.0f; break;
        case ParamId::send_level_db:
            send.level_db = value;
            send.level.set_target(fader_gain(value));
            return;
        case ParamId::send_pre_fader: send.pre_fader = value != 0.0f; return;
        case ParamId::send_reset:
            // A new send fades in from silence instead of starting with a step.
            send.level.reset(0.0f);
            send.level.set_target(fader_gain(send.level_db));
            return;
        case ParamId::send_start:
            send.level_db = value;
            send.level.reset(fader_gain(value));
            return;
        case ParamId::output_fade_in:
            output_fade_.reset(0.0f);
            output_fade_.set_target(1.0f);
            return;
        case ParamId::effect:
        case ParamId::reset_meters: return;
    }
    switch (id) {
        case ParamId::trim_db:
        case ParamId::invert:
            input_gain_.set_target(dsp::db_to_gain(trim_db_) * (invert_ ? -1.0f : 1.0f));
            break;
        case ParamId::eq_type:
        case ParamId::eq_freq_hz:
        case ParamId::eq_gain_db:
        case ParamId::eq_q:
        case ParamId::eq_slope: eq_.band(index % dsp::max_eq_bands).set(band); break;
        case ParamId::gain_db:
        case ParamId::pan:
        case ParamId::mute: update_output_gains(); break;
        default: comp_.set(comp_settings_); break;
    }
}

void Strip::run_alignment_delay(float* const* work, std::uint32_t frames) noexcept {
    const std::uint32_t w = write_pos_;
    for (std::uint32_t c = 0; c < channels_; ++c) {
        float* ring = ring_[c].data();
        for (std::uint32_t i = 0; i < frames; ++i) ring[(w + i) & ring_mask_] = work[c][i];
    }
    write_pos_ = (w + frames) & ring_mask_;
    const bool fading = xfade_done_ < ramp_frames_;
    if (delay_frames_ == 0 && !fading) return;
    const float inv_ramp = 1.0f / static_cast<float>(ramp_frames_);
    for (std::uint32_t c = 0; c < channels_; ++c) {
        const float* ring = ring_[c].data();
        float* x = work[c];
        if (!fading) {
            for (std::uint32_t i = 0; i < frames; ++i) x[i] = ring[(w + i - delay_frames_) & ring_mask_];
            continue;
        }
        // Crossfade from the old tap to the new one: a delay change never jumps.
        for (std::uint32_t i = 0; i < frames; ++i) {
            const std::uint32_t done = std::min(xfade_done_ + i, ramp_frames_);
            const float t = static_cast<float>(done) * inv_ramp;
            const float old_tap = ring[(w + i - old_delay_frames_) & ring_mask_];
            const float new_tap = ring[(w + i - delay_frames_) & ring_mask_];
            x[i] = old_tap + t * (new_tap - old_tap);
        }
    }
    xfade_done_ = std::min(xfade_done_ + frames, ramp_frames_);
}

void Strip::clear_dsp_state(const StripIo& io) noexcept {
    eq_.reset();
    comp_.reset();
    for (auto& r : ring_) std::fill(r.begin(), r.end(), 0.0f);
    for (std::uint32_t e = 0; e < io.effect_count; ++e) io.effects[e]->reset();
}

bool Strip::process(const StripIo& io, std::uint32_t frames) noexcept {
    process_front(io, frames);
    float* work[2] = {io.output[0], io.output[1]};
    eq_.process(work, channels_, frames);
    comp_.process(work, channels_, frames);
    return process_back(io, frames);
}

void Strip::process_front(const StripIo& io, std::uint32_t frames) noexcept {
    const std::uint32_t nch = channels_;
    float* work[2] = {io.output[0], io.output[1]};

    // Input stage: trim and polarity as one smoothed gain.
    float* ramp = ramps_.data() + 4 * static_cast<std::size_t>(max_block_frames_);
    input_gain_.fill(ramp, frames);
    for (std::uint32_t c = 0; c < nch; ++c) {
        const float* in = io.input[c];
        float* x = work[c];
        if (in == nullptr)
            std::fill(x, x + frames, 0.0f);
        else
            for (std::uint32_t i = 0; i < frames; ++i) x[i] = in[i] * ramp[i];
    }

    run_alignment_delay(work, frames);
    for (std::uint32_t e = 0; e < io.effect_count; ++e) io.effects[e]->process(work[0], work[1], frames);
}

bool Strip::process_back(const StripIo& io, std::uint32_t frames) noexcept {
    const std::uint32_t nch = channels_;
    float* work[2] = {io.output[0], io.output[1]};
    float* ramp = ramps_.data() + 4 * static_cast<std::size_t>(max_block_frames_);
    max_reduction_db_ = std::min(max_reduction_db_, comp_.block_max_reduction_db());

    // A NaN or Inf stops here: zero the strip, clear the memories it would poison, report once.
    float energy = 0.0f;
    for (std::uint32_t c = 0; c < nch; ++c) energy += dsp::energy(work[c], frames);
    bool report = false;
    if (!std::isfinite(energy)) {
        for (std::uint32_t c = 0; c < nch; ++c) std::fill(work[c], work[c] + frames, 0.0f);
        clear_dsp_state(io);
        report = !non_finite_;
        non_finite_ = true;
    } else {
        non_finite_ = false;
    }

    // Gain ramps of this run, shared by the sends and the output.
    const std::size_t stride = max_block_frames_;
    float* pre[2] = {ramps_.data(), ramps_.data() + stride};
    float* post[2] = {ramps_.data() + 2 * stride, ramps_.data() + 3 * stride};
    for (int c = 0; c < 2; ++c) {
        pre_gain_[c].fill(pre[c], frames);
        post_gain_[c].fill(post[c], frames);
    }

    for (std::uint32_t s = 0; s < io.send_count; ++s) {
        const StripIo::SendTap& tap = io.sends[s];
        Send& send = sends_[tap.slot % max_sends];
        send.level.fill(ramp, frames);
        float* const* gains = send.pre_fader ? pre : post;
        for (std::uint32_t c = 0; c < 2; ++c) {
            const float* x = work[nch == 1 ? 0 : c];
            const float* g = gains[c];
            float* out = tap.out[c];
            for (std::uint32_t i = 0; i < frames; ++i) out[i] = x[i] * g[i] * ramp[i];
        }
    }

    // After a reroute the output fades in at its new destination (the old one fades out as a
    // send); the sends computed above are not part of that.
    if (output_fade_.moving() || output_fade_.current() != 1.0f) {
        output_fade_.fill(ramp, frames);
        for (int c = 0; c < 2; ++c)
            for (std::uint32_t i = 0; i < frames; ++i) post[c][i] *= ramp[i];
    }

    // Fader, pan and mute. Right first: for a mono source work[0] is also the left output.
    for (int c = 1; c >= 0; --c) {
        const float* x = work[nch == 1 ? 0 : c];
        float* out = io.output[c];
        const float* g = post[c];
        for (std::uint32_t i = 0; i < frames; ++i) out[i] = x[i] * g[i];
    }

    // Meters.
    for (int c = 0; c < 2; ++c) {
        const float* y = io.output[c];
        float sum = 0.0f;
        dsp::peak_and_energy(y, frames, block_peak_[c], sum);
        // The one-pole mean square advanced over the whole run at once: exact for steady signals.
        const float decay = std::pow(rms_coef_, static_cast<float>(frames));
        mean_square_[c] = decay * mean_square_[c] + (1.0f - decay) * (sum / static_cast<float>(frames));
    }
    meter_frames_ += frames;
    return report;
}

void Strip::publish_meter(std::uint32_t frames) noexcept {
    const float fall = dsp::db_to_gain(-peak_fall_db_per_s * static_cast<float>(frames / sample_rate_));
    StripMeter m{};
    for (int c = 0; c < 2; ++c) {
        peak_env_[c] = std::max(block_peak_[c], peak_env_[c] * fall);
        peak_hold_ = std::max(peak_hold_, block_peak_[c]);
        block_peak_[c] = 0.0f;
        m.peak_dbfs[c] = dsp::gain_to_db(peak_env_[c]);
        m.rms_dbfs[c] = dsp::gain_to_db(std::sqrt(mean_square_[c]));
    }
    m.peak_hold_dbfs = dsp::gain_to_db(peak_hold_);
    m.gain_reduction_db = comp_.gain_reduction_db();
    m.max_gain_reduction_db = max_reduction_db_;
    meter_.publish(m);
    meter_frames_ = 0;
}

void Strip::reset_meter_holds() noexcept {
    peak_hold_ = 0.0f;
    max_reduction_db_ = 0.0f;
}

}  // namespace rtmix::engine
