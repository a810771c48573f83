#include "processors/strip.hpp"

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
/// other side along a quarter cosine). A hard pan (|pan| = 1) leaves the far side exactly silent: in
/// float, cos(pi/2) is -4.4e-8 (-147 dB), not 0, so the ends are set rather than evaluated.
void pan_gains(std::uint32_t channels, float pan, float& left, float& right) noexcept {
    if (pan >= 1.0f) {
        left = 0.0f;
        right = 1.0f;
    } else if (pan <= -1.0f) {
        left = 1.0f;
        right = 0.0f;
    } else if (channels == 1) {
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
      ramp_frames_(std::max<std::uint32_t>(1, static_cast<std::uint32_t>(smoothing_ms * 1e-3 * sample_rate))),
      eq_(ProcessorSetup{sample_rate, smoothing_ms, max_block_frames}),
      comp_(ProcessorSetup{sample_rate, smoothing_ms, max_block_frames}),
      back_channels_(channels_),
      key_scratch_(2 * static_cast<std::size_t>(max_block_frames)) {
    // Room for a change at every 32nd frame of the longest run (and one more at its start) for
    // the trim, fader, pan and every send level.
    scheduled_.resize((max_block_frames / 32 + 2) * (3 + max_sends));
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
    for (auto& d : delays_) d.set_ramp_frames(ramp_frames_);
    key_delay_.set_ramp_frames(ramp_frames_);
    update_output_gains();
    for (int c = 0; c < 2; ++c) {
        post_gain_[c].reset(post_gain_[c].target());
        pre_gain_[c].reset(pre_gain_[c].target());
    }
    rms_coef_ = dsp::one_pole_coefficient(rms_window_ms, sample_rate);
}

void Strip::update_output_gains() noexcept {
    float pan_l = 1.0f, pan_r = 1.0f;
    pan_gains(back_channels_, pan_, pan_l, pan_r);
    const float mute = mute_ || solo_mute_ ? 0.0f : 1.0f;
    const float fader = fader_gain(gain_db_);
    retarget(pre_gain_[0], pan_l * mute);
    retarget(pre_gain_[1], pan_r * mute);
    retarget(post_gain_[0], pan_l * mute * fader);
    retarget(post_gain_[1], pan_r * mute * fader);
}

void Strip::apply_ramped(std::uint16_t message, std::uint8_t slot, float value, std::uint32_t frames) noexcept {
    ramp_override_ = frames;
    apply(message, slot, value);
    ramp_override_ = 0;
}

void Strip::apply(std::uint16_t message, std::uint8_t slot, float value) noexcept {
    Send& send = sends_[slot % max_sends];
    switch (static_cast<StripMessage>(message)) {
        case StripMessage::trim_db:
            trim_db_ = value;
            retarget(input_gain_, dsp::db_to_gain(trim_db_) * (invert_ ? -1.0f : 1.0f));
            return;
        case StripMessage::invert:
            invert_ = value != 0.0f;
            input_gain_.set_target(dsp::db_to_gain(trim_db_) * (invert_ ? -1.0f : 1.0f));
            return;
        case StripMessage::delay_ms:  // the control side sends the delay in frames, as delay_samples
        case StripMessage::delay_samples: {
            const auto frames = static_cast<std::uint32_t>(std::clamp(value, 0.0f, float(max_delay_frames_)));
            if (frames != delay_frames_) {
                old_delay_frames_ = delay_frames_;
                delay_frames_ = frames;
                xfade_done_ = 0;
            }
            return;
        }
        case StripMessage::gain_db: gain_db_ = value; break;
        case StripMessage::pan: pan_ = value; break;
        case StripMessage::mute: mute_ = value != 0.0f; break;
        case StripMessage::solo_mute: solo_mute_ = value != 0.0f; break;
        case StripMessage::solo:
        case StripMessage::solo_safe: return;  // resolved into solo_mute on the control side
        case StripMessage::send_level_db:
            send.level_db = value;
            retarget(send.level, fader_gain(value));
            return;
        case StripMessage::send_pre_fader: send.pre_fader = value != 0.0f; return;
        case StripMessage::send_reset:
            // A new send fades in from silence instead of starting with a step.
            send.level.reset(0.0f);
            send.level.set_target(fader_gain(send.level_db));
            return;
        case StripMessage::send_start:
            send.level_db = value;
            send.level.reset(fader_gain(value));
            return;
        case StripMessage::output_fade_in:
            output_fade_.reset(0.0f);
            output_fade_.set_target(1.0f);
            return;
    }
    update_output_gains();  // fader, pan, mute
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
        // Once it is over, the new tap as it is (as in the blocks that follow).
        for (std::uint32_t i = 0; i < frames; ++i) {
            const std::uint32_t done = xfade_done_ + i;
            const float old_tap = ring[(w + i - old_delay_frames_) & ring_mask_];
            const float new_tap = ring[(w + i - delay_frames_) & ring_mask_];
            x[i] = done >= ramp_frames_ ? new_tap : old_tap + static_cast<float>(done) * inv_ramp * (new_tap - old_tap);
        }
    }
    xfade_done_ = std::min(xfade_done_ + frames, ramp_frames_);
}

void Strip::clear_dsp_state(const StripIo& io) noexcept {
    eq_.reset();
    comp_.reset();
    std::fill(key_scratch_.begin(), key_scratch_.end(), 0.0f);
    for (auto& r : ring_) std::fill(r.begin(), r.end(), 0.0f);
    for (std::uint32_t i = 0; i < io.pre_count; ++i) io.pre_inserts[i]->reset();
    for (std::uint32_t i = 0; i < io.post_count; ++i) io.post_inserts[i]->reset();
}

void Strip::settle() noexcept {
    input_gain_.reset(input_gain_.target());
    old_delay_frames_ = delay_frames_;
    xfade_done_ = ramp_frames_;
    eq_.reset();
    comp_.reset();
    for (int c = 0; c < 2; ++c) {
        post_gain_[c].reset(post_gain_[c].target());
        pre_gain_[c].reset(pre_gain_[c].target());
    }
    output_fade_.reset(output_fade_.target());
    for (Send& send : sends_) send.level.reset(send.level.target());
    for (CompensationDelay& d : delays_) d.settle();
    key_delay_.settle();
}

bool Strip::process(const StripIo& io, std::uint32_t frames) noexcept {
    process_front(io, frames);
    float* work[2] = {io.output[0], io.output[1]};
    eq().process(work, io.mid_channels, frames);
    prepare_compressor_key(io, work, frames);
    compressor().process(work, io.mid_channels, frames);
    return process_back(io, frames);
}

void Strip::prepare_compressor_key(const StripIo& io, float* const* work, std::uint32_t frames) noexcept {
    if (io.compressor_key == no_buffer) {
        comp_.listen(work, io.mid_channels, nullptr, 0, frames);
        return;
    }
    // The key, copied from the source's tap and delayed to meet this strip's signal.
    float* aligned[2] = {key_scratch_.data(), key_scratch_.data() + max_block_frames_};
    for (std::uint32_t c = 0; c < 2; ++c) std::copy_n(io.buffers.channel(io.compressor_key, c), frames, aligned[c]);
    key_delay_.process(aligned, frames);
    key_view_[0] = aligned[0];
    key_view_[1] = aligned[1];
    comp_.listen(work, io.mid_channels, key_view_, 2, frames);
}

std::uint32_t Strip::run_insert(const StripIo& io, bool pre, std::uint32_t i, float* const* work, std::uint32_t channels,
                                std::uint32_t frames) noexcept {
    Insert& insert = *(pre ? io.pre_inserts : io.post_inserts)[i];
    const std::uint32_t b = io.insert_keys != nullptr ? io.insert_keys[pre ? i : io.pre_count + i] : no_buffer;
    if (b == no_buffer) return insert.process(work, channels, frames);
    const float* key[2] = {io.buffers.channel(b, 0), io.buffers.channel(b, 1)};
    return insert.process(work, channels, frames, key, 2);
}

void Strip::process_front(const StripIo& io, std::uint32_t frames) noexcept {
    const std::uint32_t nch = channels_;
    float* work[2] = {io.output[0], io.output[1]};

    // Input stage: trim and polarity as one smoothed gain.
    float* ramp = ramps_.data() + 4 * static_cast<std::size_t>(max_block_frames_);
    if (scheduled_count_ == 0) {
        input_gain_.fill(ramp, frames);
    } else {
        run_scheduled(
            frames, [](const Scheduled& e) { return e.message == static_cast<std::uint16_t>(StripMessage::trim_db); },
            [&](std::uint32_t from, std::uint32_t n) { input_gain_.fill(ramp + from, n); });
    }
    for (std::uint32_t c = 0; c < nch; ++c) {
        const float* in = io.input[c];
        float* x = work[c];
        if (in == nullptr)
            std::fill(x, x + frames, 0.0f);
        else
            for (std::uint32_t i = 0; i < frames; ++i) x[i] = in[i] * ramp[i];
    }

    // A track whose sidechain key comes later than its own signal waits for it.
    delays_[input_edge].process(work, frames);
    run_alignment_delay(work, frames);
    std::uint32_t channels = nch;
    for (std::uint32_t i = 0; i < io.pre_count; ++i) channels = run_insert(io, true, i, work, channels, frames);
}

bool Strip::process_back(const StripIo& io, std::uint32_t frames) noexcept {
    float* work[2] = {io.output[0], io.output[1]};
    std::uint32_t channels = io.mid_channels;
    for (std::uint32_t i = 0; i < io.post_count; ++i) channels = run_insert(io, false, i, work, channels, frames);
    const std::uint32_t nch = io.back_channels;
    if (nch != back_channels_) {  // an insert made the strip stereo (or no longer does): the pan law follows
        back_channels_ = nch;
        update_output_gains();
    }
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
    // The key others listen to: the signal after the inserts, before fader, pan and mute.
    if (io.key_tap != no_buffer)
        for (std::uint32_t c = 0; c < 2; ++c) std::copy_n(work[nch == 1 ? 0 : c], frames, io.buffers.channel(io.key_tap, c));

    // Gain ramps of this run, shared by the sends and the output.
    const std::size_t stride = max_block_frames_;
    float* pre[2] = {ramps_.data(), ramps_.data() + stride};
    float* post[2] = {ramps_.data() + 2 * stride, ramps_.data() + 3 * stride};
    const auto fill_gains = [&](std::uint32_t from, std::uint32_t n) {
        for (int c = 0; c < 2; ++c) {
            pre_gain_[c].fill(pre[c] + from, n);
            post_gain_[c].fill(post[c] + from, n);
        }
    };
    if (scheduled_count_ == 0) {
        fill_gains(0, frames);
    } else {
        run_scheduled(
            frames,
            [](const Scheduled& e) {
                return e.message == static_cast<std::uint16_t>(StripMessage::gain_db) ||
                       e.message == static_cast<std::uint16_t>(StripMessage::pan);
            },
            fill_gains);
    }

    for (std::uint32_t s = 0; s < io.send_count; ++s) {
        const StripIo::SendTap& tap = io.sends[s];
        Send& send = sends_[tap.slot % max_sends];
        if (scheduled_count_ == 0) {
            send.level.fill(ramp, frames);
        } else {
            run_scheduled(
                frames,
                [&](const Scheduled& e) {
                    return e.message == static_cast<std::uint16_t>(StripMessage::send_level_db) && e.slot == tap.slot;
                },
                [&](std::uint32_t from, std::uint32_t n) { send.level.fill(ramp + from, n); });
        }
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

    // Sends no longer connected keep their level's schedule: it applies now.
    for (std::uint32_t i = 0; i < scheduled_count_; ++i) {
        const Scheduled& e = scheduled_[i];
        if (e.message != static_cast<std::uint16_t>(StripMessage::send_level_db)) continue;
        bool tapped = false;
        for (std::uint32_t k = 0; k < io.send_count; ++k) tapped = tapped || io.sends[k].slot == e.slot;
        if (!tapped) apply_ramped(e.message, e.slot, e.value, e.ramp);
    }
    scheduled_count_ = 0;

    // Latency compensation: the outputs whose destination has a longer path into it wait for it.
    delays_[output_edge].process(io.output, frames);
    for (std::uint32_t s = 0; s < io.send_count; ++s) delays_[send_edge(io.sends[s].slot & (max_sends - 1))].process(io.sends[s].out, frames);
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
