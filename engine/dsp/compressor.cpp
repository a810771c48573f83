#include "dsp/compressor.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/db.hpp"
#include "dsp/fast_math.hpp"

namespace rtmix::dsp {

namespace {
constexpr float rms_window_ms = 10.0f;
// Below this much gain reduction a disabled compressor counts as fully released.
constexpr float idle_reduction_db = -1e-4f;
constexpr float silence_db = -200.0f;
// Gain reduction closer to 0 dB than this at the end of a chunk becomes 0 dB: the gain differs
// from 1 by at most two float steps (1.2e-7), and a release from 10 dB comes to rest (gain exactly
// 1) after about 16 release times instead of decaying through subnormal numbers.
constexpr float rest_reduction_db = 1e-6f;
// Amplitude and mean square of silence_db: lower detected levels count as silence_db.
constexpr float silence_amplitude = 1e-10f;
constexpr float silence_power = 1e-20f;
// dB per octave of amplitude (20 log10 2) and of power (10 log10 2).
constexpr float amplitude_db_per_octave = 6.020599913279624f;
constexpr float power_db_per_octave = 3.0102999566398120f;
// Octaves per dB of amplitude (1 / amplitude_db_per_octave), as in db_to_gain.
constexpr float octaves_per_db = 0.16609640474436813f;
// Margin below the knee for the at-rest shortcut, far above the error of fast_log2.
constexpr float rest_margin_db = 0.01f;
}  // namespace

float compressor_curve_db(float x, float threshold_db, float ratio, float knee_db) noexcept {
    knee_db = std::max(knee_db, 0.0f);
    const float over = x - threshold_db;
    const float slope = 1.0f / ratio - 1.0f;
    if (2.0f * over < -knee_db) return x;
    if (knee_db > 0.0f && 2.0f * std::fabs(over) <= knee_db) {
        const float t = over + 0.5f * knee_db;
        return x + slope * t * t / (2.0f * knee_db);
    }
    return threshold_db + over / ratio;
}

std::uint32_t Compressor::lookahead_frames(double sample_rate, float lookahead_ms) noexcept {
    return static_cast<std::uint32_t>(std::lround(std::clamp(lookahead_ms, 0.0f, max_lookahead_ms) * 1e-3 * sample_rate));
}

void Compressor::prepare(double sample_rate, float smoothing_ms) {
    sample_rate_ = sample_rate;
    std::uint32_t ring = 1;
    while (ring < lookahead_frames(sample_rate, max_lookahead_ms) + chunk_frames + 1) ring <<= 1;
    ring_mask_ = ring - 1;
    for (auto& r : ring_) r.assign(ring, 0.0f);
    xfade_frames_ = xfade_done_ = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(smoothing_ms * 1e-3 * sample_rate));
    rms_coef_ = one_pole_coefficient(rms_window_ms, sample_rate);
    makeup_.set_ramp_frames(static_cast<std::uint32_t>(smoothing_ms * 1e-3 * sample_rate));
    set(settings_);
    makeup_.reset(makeup_.target());
    old_delay_frames_ = delay_frames_;  // prepared: the lookahead stands, no crossfade
    xfade_done_ = xfade_frames_;
}

void Compressor::set(const CompressorSettings& s) noexcept {
    settings_ = s;
    attack_coef_ = one_pole_coefficient(s.attack_ms, sample_rate_);
    release_coef_ = one_pole_coefficient(s.release_ms, sample_rate_);
    makeup_.set_target(s.enabled ? db_to_gain(s.makeup_db) : 1.0f);
    // The curve is the identity below threshold - knee / 2. The shortcut is off when that edge is
    // at or below silence_db, where the detector's floor would decide instead.
    if (const std::uint32_t frames = lookahead_frames(sample_rate_, s.lookahead_ms); frames != delay_frames_) {
        old_delay_frames_ = xfade_done_ * 2 < xfade_frames_ ? old_delay_frames_ : delay_frames_;
        delay_frames_ = frames;
        xfade_done_ = 0;
    }
    const float edge_db = s.threshold_db - 0.5f * std::max(s.knee_db, 0.0f) - rest_margin_db;
    const bool rms = s.detector == Detector::rms;
    rest_level_ = edge_db > silence_db ? db_to_gain(rms ? 2.0f * edge_db : edge_db) : 0.0f;
}

void Compressor::reset() noexcept {
    for (auto& r : ring_) std::fill(r.begin(), r.end(), 0.0f);
    mean_square_ = 0.0f;
    gr_db_ = 0.0f;
    chunk_phase_ = 0;
    makeup_.reset(makeup_.target());
    old_delay_frames_ = delay_frames_;  // the lookahead stands at its length: no crossfade
    xfade_done_ = xfade_frames_;
}

void Compressor::process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept {
    Compressor* self = this;
    process_group(&self, &buffers, &channels, 1, frames);
}

bool Compressor::idle() const noexcept {
    return !settings_.enabled && gr_db_ >= idle_reduction_db && !makeup_.moving();
}

void Compressor::process_group(Compressor* const* compressors, float* const* const* buffers,
                               const std::uint32_t* channels, std::uint32_t count, std::uint32_t frames) noexcept {
    // The compressors that work, all at the same chunk phase (any other runs alone).
    Compressor* run[max_group];
    float* const* buf[max_group];
    std::uint32_t nch[max_group];
    std::uint32_t m = 0;
    for (std::uint32_t k = 0; k < count; ++k) {
        Compressor& c = *compressors[k];
        c.block_min_gr_db_ = c.gr_db_;
        if (c.idle()) {
            c.delay(buffers[k], channels[k], 0, frames);
            c.gr_db_ = 0.0f;
            c.block_min_gr_db_ = 0.0f;
            c.chunk_phase_ = (c.chunk_phase_ + frames % chunk_frames) % chunk_frames;
            continue;
        }
        if (m == max_group || (m > 0 && c.chunk_phase_ != run[0]->chunk_phase_)) {
            process_group(&compressors[k], &buffers[k], &channels[k], 1, frames);
            continue;
        }
        run[m] = &c;
        buf[m] = buffers[k];
        nch[m++] = channels[k];
    }
    if (m == 0) return;

    float a[max_group][chunk_frames];  // level, then target gain reduction, then gain reduction, then gain
    bool active[max_group];            // not at rest: the filter runs
    std::uint32_t phase = run[0]->chunk_phase_;
    // Chunks are aligned to the stream: each ends where a multiple of chunk_frames frames since the
    // last reset does.
    for (std::uint32_t pos = 0, n = 0; pos < frames; pos += n, phase = (phase + n) % chunk_frames) {
        n = std::min(chunk_frames - phase, frames - pos);
        for (std::uint32_t k = 0; k < m; ++k) {
            const Compressor& c = *run[k];
            active[k] = c.key_ != nullptr ? run[k]->target_chunk(c.key_, c.key_channels_, pos, n, a[k])
                                          : run[k]->target_chunk(buf[k], nch[k], pos, n, a[k]);
        }
        filter_chunks(run, a, active, m, n);
        for (std::uint32_t k = 0; k < m; ++k) {
            // At the end of each chunk of the stream (not of the block), so that the output does
            // not depend on the block sizes.
            if (active[k] && phase + n == chunk_frames && std::fabs(run[k]->gr_db_) < rest_reduction_db)
                run[k]->gr_db_ = 0.0f;
            run[k]->delay(buf[k], nch[k], pos, n);
            run[k]->apply_chunk(buf[k], nch[k], pos, n, a[k], active[k]);
        }
    }
    for (std::uint32_t k = 0; k < m; ++k) run[k]->chunk_phase_ = phase;
}

bool Compressor::target_chunk(const float* const* buffers, std::uint32_t channels, std::uint32_t pos, std::uint32_t n,
                              float* a) noexcept {
    const CompressorSettings& s = settings_;
    bool at_rest = gr_db_ == 0.0f;
    if (!s.enabled) {
        if (!at_rest) std::fill_n(a, n, 0.0f);  // releasing towards 0 dB
        return !at_rest;
    }
    const bool rms = s.detector == Detector::rms;
    // Detector: one level per sample for all channels.
    std::fill_n(a, n, 0.0f);
    if (!rms) {
        for (std::uint32_t ch = 0; ch < channels; ++ch) {
            const float* x = buffers[ch] + pos;
            for (std::uint32_t i = 0; i < n; ++i) a[i] = std::max(a[i], std::fabs(x[i]));
        }
    } else {
        const float inv_channels = 1.0f / static_cast<float>(channels);
        const float rms_in = 1.0f - rms_coef_;
        for (std::uint32_t ch = 0; ch < channels; ++ch) {
            const float* x = buffers[ch] + pos;
            for (std::uint32_t i = 0; i < n; ++i) a[i] += x[i] * x[i];
        }
        float ms = mean_square_;
        for (std::uint32_t i = 0; i < n; ++i) {
            ms = rms_coef_ * ms + rms_in * a[i] * inv_channels;
            a[i] = ms;
        }
        mean_square_ = ms;
    }
    if (at_rest) {
        int above = 0;
        for (std::uint32_t i = 0; i < n; ++i) above |= a[i] >= rest_level_ ? 1 : 0;
        at_rest = above == 0;
    }
    if (at_rest) return false;
    // Gain computer: the static curve minus the level, from the level over the threshold in dB:
    // 0 below the knee, the knee's parabola across it, the slope above it. Branch-free so that the
    // loop vectorizes; +0.0f turns -0 below the knee into +0.
    const float threshold = s.threshold_db;
    const float slope = 1.0f / s.ratio - 1.0f;
    const float knee_db = std::max(s.knee_db, 0.0f);
    const float half_knee = 0.5f * knee_db;
    const float knee_scale = knee_db > 0.0f ? slope / (2.0f * knee_db) : 0.0f;
    const float db_per_octave = rms ? power_db_per_octave : amplitude_db_per_octave;
    const float floor_level = rms ? silence_power : silence_amplitude;
    for (std::uint32_t i = 0; i < n; ++i) {
        const float level = max_non_negative(a[i], floor_level);
        const float over = db_per_octave * fast_log2(level) - threshold;
        const float into_knee = over + half_knee;
        const float t = positive_part(into_knee) - positive_part(into_knee - knee_db);  // in [0, knee]
        a[i] = knee_scale * t * t + slope * positive_part(over - half_knee) + 0.0f;
    }
    return true;
}

void Compressor::filter_chunks(Compressor* const* run, float (*a)[chunk_frames], const bool* active,
                               std::uint32_t count, std::uint32_t n) noexcept {
    // Attack/release filter on the gain reduction in dB: the attack step while the target is below
    // the gain reduction, else the release step. The two steps differ by (attack - release) *
    // (gr - target), so with attack <= release the attack step is the lower one exactly when the
    // target is below, and the higher one otherwise: a min or max picks it without a
    // data-dependent branch. (Where rounding could make it pick the other one, the two agree to
    // within a rounding error.)
    //
    // This is the one serial pass: every sample waits for the previous one. The filters of a
    // group run interleaved, so their chains overlap; each one's arithmetic is the same as alone.
    float gr[max_group], lowest[max_group], attack[max_group], attack_in[max_group], release[max_group],
        release_in[max_group];
    bool pick_min[max_group];
    float* out[max_group];
    std::uint32_t m = 0;
    for (std::uint32_t k = 0; k < count; ++k) {
        if (!active[k]) continue;
        const Compressor& c = *run[k];
        gr[m] = c.gr_db_;
        lowest[m] = c.block_min_gr_db_;
        attack[m] = c.attack_coef_;
        attack_in[m] = 1.0f - c.attack_coef_;
        release[m] = c.release_coef_;
        release_in[m] = 1.0f - c.release_coef_;
        pick_min[m] = c.attack_coef_ <= c.release_coef_;
        out[m++] = a[k];
    }
    for (std::uint32_t i = 0; i < n; ++i)
        for (std::uint32_t q = 0; q < m; ++q) {
            const float target = out[q][i];
            const float to_attack = attack[q] * gr[q] + attack_in[q] * target;
            const float to_release = release[q] * gr[q] + release_in[q] * target;
            const float g = pick_min[q] ? std::min(to_attack, to_release) : std::max(to_attack, to_release);
            lowest[q] = std::min(lowest[q], g);
            out[q][i] = g;
            gr[q] = g;
        }
    for (std::uint32_t k = 0, q = 0; k < count; ++k) {
        if (!active[k]) continue;
        run[k]->gr_db_ = gr[q];
        run[k]->block_min_gr_db_ = lowest[q++];
    }
}

void Compressor::run_delay(float* const* buffers, std::uint32_t channels, std::uint32_t pos, std::uint32_t n) noexcept {
    const bool fading = xfade_done_ < xfade_frames_;
    const std::uint32_t w = write_;
    const float inv = 1.0f / static_cast<float>(xfade_frames_);
    for (std::uint32_t ch = 0; ch < channels; ++ch) {
        float* ring = ring_[ch].data();
        float* x = buffers[ch] + pos;
        for (std::uint32_t i = 0; i < n; ++i) ring[(w + i) & ring_mask_] = x[i];
        if (!fading) {
            for (std::uint32_t i = 0; i < n; ++i) x[i] = ring[(w + i - delay_frames_) & ring_mask_];
            continue;
        }
        for (std::uint32_t i = 0; i < n; ++i) {
            // Once the crossfade is over, the new tap as it is (as in the runs that follow).
            const std::uint32_t done = xfade_done_ + i;
            const float old_tap = ring[(w + i - old_delay_frames_) & ring_mask_];
            const float new_tap = ring[(w + i - delay_frames_) & ring_mask_];
            x[i] = done >= xfade_frames_ ? new_tap : old_tap + static_cast<float>(done) * inv * (new_tap - old_tap);
        }
    }
    write_ = (w + n) & ring_mask_;
    if (fading) xfade_done_ = std::min(xfade_done_ + n, xfade_frames_);
}

void Compressor::apply_chunk(float* const* buffers, std::uint32_t channels, std::uint32_t pos, std::uint32_t n,
                             float* a, bool active) noexcept {
    if (!active) {
        // Gain reduction exactly 0 dB: the gain is the makeup gain alone.
        if (makeup_.moving()) {
            for (std::uint32_t i = 0; i < n; ++i) a[i] = makeup_.next();
        } else {
            const float m = makeup_.current();
            if (m == 1.0f) return;
            std::fill_n(a, n, m);
        }
    } else {
        for (std::uint32_t i = 0; i < n; ++i) a[i] = fast_exp2(a[i] * octaves_per_db);
        if (makeup_.moving()) {
            for (std::uint32_t i = 0; i < n; ++i) a[i] *= makeup_.next();
        } else {
            const float m = makeup_.current();
            if (m != 1.0f)
                for (std::uint32_t i = 0; i < n; ++i) a[i] *= m;
        }
    }
    for (std::uint32_t ch = 0; ch < channels; ++ch) {
        float* x = buffers[ch] + pos;
        for (std::uint32_t i = 0; i < n; ++i) x[i] *= a[i];
    }
}

}  // namespace rtmix::dsp
