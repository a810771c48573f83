#include "dsp/deesser.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dsp/db.hpp"
#include "dsp/fast_math.hpp"

namespace rtmix::dsp {

namespace {
constexpr float min_freq_hz = 2000.0f, max_freq_hz = 16000.0f;
constexpr float min_threshold_db = -60.0f, max_threshold_db = 0.0f;
constexpr float max_range_db = 24.0f;
// The band's corner stays below this fraction of the sample rate (tan() grows without bound
// towards Nyquist).
constexpr double max_corner_ratio = 0.45;
// 1 / Q of a 2nd-order Butterworth: sqrt(2).
constexpr float butterworth_k = 1.41421356237f;
constexpr float envelope_release_ms = 50.0f;
constexpr float attack_ms = 0.5f;
constexpr float release_ms = 50.0f;
// Envelope of -200 dB and below: counts as -200 dB, and becomes 0 at the end of a chunk.
constexpr float silence_amplitude = 1e-10f;
// An applied reduction closer to 0 dB than this at the end of a chunk becomes 0 dB (the gain
// differs from 1 by at most two float steps), so a release comes to rest after about 16 release
// times instead of decaying for ever.
constexpr float rest_reduction_db = 1e-6f;
// Margin below the threshold for the at-rest shortcut, far above the error of fast_log2.
constexpr float rest_margin_db = 0.01f;
constexpr float amplitude_db_per_octave = 6.020599913279624f;
constexpr float octaves_per_db = 0.16609640474436813f;

/// `x` limited to [lo, hi]; a NaN gives lo.
float clamp_setting(float x, float lo, float hi) noexcept { return x >= lo ? std::min(x, hi) : lo; }

/// One step of the TPT state-variable filter (eq.cpp's run_stage, highpass output) with the
/// integrator states `ic1`, `ic2`; returns HP(v0).
template <typename Design>
inline float highpass_step(const Design& c, float& ic1, float& ic2, float v0) noexcept {
    const float v3 = v0 - ic2;
    const float v1 = c.a1 * ic1 + c.a2 * v3;        // bandpass
    const float v2 = ic2 + c.a2 * ic1 + c.a3 * v3;  // lowpass
    ic1 = 2.0f * v1 - ic1;
    ic2 = 2.0f * v2 - ic2;
    return v0 - c.k * v1 - v2;
}

// Frames per group of the vectorized passes: a loop over a group has a constant trip count, which
// GCC vectorizes even at -O2 (its "very cheap" cost model refuses loops that need a remainder).
constexpr std::uint32_t group = 4;

/// R = -min(range, max(0, E - threshold)) in place of the envelope, for `groups` groups of frames.
/// Branch-free so that it vectorizes; +0.0f turns -0 into +0.
void target_reduction(float* a, std::uint32_t groups, float threshold, float range) noexcept {
    for (std::uint32_t j = 0; j < groups; ++j) {
        float* p = a + j * group;
        for (std::uint32_t k = 0; k < group; ++k) {
            const float level_db = amplitude_db_per_octave * fast_log2(max_non_negative(p[k], silence_amplitude));
            p[k] = -clamp_by_order(level_db - threshold, 0.0f, range) + 0.0f;
        }
    }
}

/// The gain 10^(A/20) in place of the reduction A, for `groups` groups of frames.
void reduction_to_gain(float* a, std::uint32_t groups) noexcept {
    for (std::uint32_t j = 0; j < groups; ++j) {
        float* p = a + j * group;
        for (std::uint32_t k = 0; k < group; ++k) p[k] = fast_exp2(p[k] * octaves_per_db);
    }
}

}  // namespace

Deesser::Highpass Deesser::design(float freq_hz, double sample_rate) noexcept {
    const double fc = std::min(static_cast<double>(freq_hz), max_corner_ratio * sample_rate);
    const float g = static_cast<float>(std::tan(3.14159265358979323846 * fc / sample_rate));
    Highpass h;
    h.k = butterworth_k;
    h.a1 = 1.0f / (1.0f + g * (g + h.k));
    h.a2 = g * h.a1;
    h.a3 = g * h.a2;
    return h;
}

void Deesser::prepare(double sample_rate, float smoothing_ms) {
    sample_rate_ = sample_rate;
    const double frames = std::max(1.0, static_cast<double>(smoothing_ms) * 1e-3 * sample_rate);
    glide_steps_ = static_cast<std::uint32_t>(std::max(1.0, std::ceil(frames / chunk_frames)));
    wideband_.set_ramp_frames(static_cast<std::uint32_t>(frames));
    envelope_coef_ = one_pole_coefficient(envelope_release_ms, sample_rate);
    attack_coef_ = one_pole_coefficient(attack_ms, sample_rate);
    release_coef_ = one_pole_coefficient(release_ms, sample_rate);
    set(settings_);
    reset();
}

void Deesser::set(const DeesserSettings& settings) noexcept {
    DeesserSettings s = settings;
    s.freq_hz = clamp_setting(s.freq_hz, min_freq_hz, max_freq_hz);
    s.threshold_db = clamp_setting(s.threshold_db, min_threshold_db, max_threshold_db);
    s.range_db = clamp_setting(s.range_db, 0.0f, max_range_db);
    settings_ = s;
    // A new corner glides from where the filter is now; process() steps it once per chunk.
    glide_left_ = freq_now_hz_ != s.freq_hz ? glide_steps_ : 0;
    wideband_.set_target(s.mode == DeesserMode::wideband ? 1.0f : 0.0f);
    rest_level_ = s.range_db > 0.0f ? db_to_gain(s.threshold_db - rest_margin_db)
                                    : std::numeric_limits<float>::infinity();
}

void Deesser::reset() noexcept {
    for (auto& ch : audio_ic_) ch[0] = ch[1] = 0.0f;
    for (auto& ch : key_ic_) ch[0] = ch[1] = 0.0f;
    key_seen_ = false;
    freq_now_hz_ = settings_.freq_hz;
    glide_left_ = 0;
    hp_ = design(freq_now_hz_, sample_rate_);
    envelope_ = 0.0f;
    reduction_db_ = 0.0f;
    block_min_reduction_db_ = 0.0f;
    chunk_phase_ = 0;
    wideband_.reset(wideband_.target());
}

void Deesser::step_glide() noexcept {
    // A straight line in log-frequency that ends exactly on the target.
    const float now = std::log(freq_now_hz_), target = std::log(settings_.freq_hz);
    freq_now_hz_ = --glide_left_ == 0 ? settings_.freq_hz
                                      : std::exp(now + (target - now) / static_cast<float>(glide_left_ + 1));
    hp_ = design(freq_now_hz_, sample_rate_);
}

void Deesser::process(float* const* buffers, std::uint32_t channels, std::uint32_t frames, const float* const* key,
                      std::uint32_t key_channels) noexcept {
    channels = std::min(channels, max_channels);
    key_channels = key != nullptr ? std::min(key_channels, max_channels) : 0;
    // A key that comes back starts its filter from rest rather than from a stale state.
    if (key_channels > 0 && !key_seen_)
        for (auto& ch : key_ic_) ch[0] = ch[1] = 0.0f;
    key_seen_ = key_channels > 0;
    block_min_reduction_db_ = reduction_db_;
    if (channels == 0) return;
    // Chunks are aligned to the stream: each ends where a multiple of chunk_frames frames since
    // the last reset does, so the output does not depend on the block sizes.
    for (std::uint32_t pos = 0, n = 0; pos < frames; pos += n) {
        n = std::min(chunk_frames - chunk_phase_, frames - pos);
        if (chunk_phase_ == 0 && glide_left_ > 0) step_glide();
        process_chunk(buffers, channels, key, key_channels, pos, n);
        chunk_phase_ = (chunk_phase_ + n) % chunk_frames;
    }
}

template <std::uint32_t audio_channels, std::uint32_t key_channels>
bool Deesser::detect(const float* const* buffers, const float* const* key, std::uint32_t pos, std::uint32_t n,
                     float (*high)[chunk_frames], float* envelope) noexcept {
    static_assert(audio_channels >= 1 && audio_channels <= max_channels && key_channels <= max_channels);
    // The states and coefficients in local scalars, so that they stay in registers (the stores to
    // `high` and `envelope` could otherwise alias them). Channel 1's states go unused in mono.
    const Highpass c = hp_;
    float x1 = audio_ic_[0][0], x2 = audio_ic_[0][1], y1 = audio_ic_[1][0], y2 = audio_ic_[1][1];
    float k1 = key_ic_[0][0], k2 = key_ic_[0][1], l1 = key_ic_[1][0], l2 = key_ic_[1][1];
    const float* in0 = buffers[0] + pos;
    const float* in1 = buffers[audio_channels - 1] + pos;
    const float* key0 = key_channels > 0 ? key[0] + pos : nullptr;
    const float* key1 = key_channels > 0 ? key[key_channels - 1] + pos : nullptr;
    const float r = envelope_coef_, rest = rest_level_;
    float e = envelope_;
    int above = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        const float h0 = highpass_step(c, x1, x2, in0[i]);
        high[0][i] = h0;
        float s = std::fabs(h0);  // the largest |HP| of the detected channels
        if constexpr (audio_channels == 2) {
            const float h1 = highpass_step(c, y1, y2, in1[i]);
            high[1][i] = h1;
            s = std::max(s, std::fabs(h1));
        }
        if constexpr (key_channels > 0) {
            s = std::fabs(highpass_step(c, k1, k2, key0[i]));
            if constexpr (key_channels == 2) s = std::max(s, std::fabs(highpass_step(c, l1, l2, key1[i])));
        }
        e = std::max(r * e, s);
        envelope[i] = e;
        above |= e >= rest ? 1 : 0;
    }
    envelope_ = e;
    audio_ic_[0][0] = x1, audio_ic_[0][1] = x2;
    if constexpr (audio_channels == 2) audio_ic_[1][0] = y1, audio_ic_[1][1] = y2;
    if constexpr (key_channels > 0) key_ic_[0][0] = k1, key_ic_[0][1] = k2;
    if constexpr (key_channels == 2) key_ic_[1][0] = l1, key_ic_[1][1] = l2;
    return above == 0;
}

void Deesser::process_chunk(float* const* buffers, std::uint32_t channels, const float* const* key,
                            std::uint32_t key_channels, std::uint32_t pos, std::uint32_t n) noexcept {
    float high[max_channels][chunk_frames];
    float envelope[chunk_frames];
    // Pass 1, the band and the detector: every recursion of the chunk in one loop.
    bool quiet;
    if (channels == 2)
        quiet = key_channels == 0   ? detect<2, 0>(buffers, key, pos, n, high, envelope)
                : key_channels == 1 ? detect<2, 1>(buffers, key, pos, n, high, envelope)
                                    : detect<2, 2>(buffers, key, pos, n, high, envelope);
    else
        quiet = key_channels == 0   ? detect<1, 0>(buffers, key, pos, n, high, envelope)
                : key_channels == 1 ? detect<1, 1>(buffers, key, pos, n, high, envelope)
                                    : detect<1, 2>(buffers, key, pos, n, high, envelope);
    const bool chunk_end = chunk_phase_ + n == chunk_frames;
    if (chunk_end && envelope_ < silence_amplitude) envelope_ = 0.0f;
    if (quiet && reduction_db_ == 0.0f) {
        // At rest: R = 0 = A on every frame, the gain is exactly 1 and the audio passes untouched.
        for (std::uint32_t i = 0; i < n && wideband_.moving(); ++i) wideband_.next();
        return;
    }
    // Pass 2, the gain per frame, in place of the envelope: the gain computer and the conversion
    // to a gain vectorize over whole groups (the frames past n are padding, never used); the
    // attack/release filter between them is serial.
    float* a = envelope;
    const std::uint32_t groups = (n + group - 1) / group;
    std::fill(a + n, a + groups * group, 0.0f);
    target_reduction(a, groups, settings_.threshold_db, settings_.range_db);
    follow_reduction(a, n);
    if (chunk_end && std::fabs(reduction_db_) < rest_reduction_db) reduction_db_ = 0.0f;
    reduction_to_gain(a, groups);
    const float* gain = a;
    // Pass 3, the output. While the modes crossfade: y = x - (1 - g) (high + m (x - high)), m from
    // 0 (split) to 1 (wideband); the frames after the fade take the steady formulas below,
    // wherever it ends.
    std::uint32_t i0 = 0;
    for (; i0 < n && wideband_.moving(); ++i0) {
        const float cut = 1.0f - gain[i0];
        const float m = wideband_.next();
        for (std::uint32_t ch = 0; ch < channels; ++ch) {
            float& x = buffers[ch][pos + i0];
            const float h = high[ch][i0];
            x -= cut * (h + m * (x - h));
        }
    }
    if (wideband_.current() == 0.0f) {
        // Split: y = x - (1 - g) high; g = 1 gives x exactly.
        for (std::uint32_t ch = 0; ch < channels; ++ch) {
            float* x = buffers[ch] + pos;
            for (std::uint32_t i = i0; i < n; ++i) x[i] -= (1.0f - gain[i]) * high[ch][i];
        }
    } else {
        // Wideband: y = g x.
        for (std::uint32_t ch = 0; ch < channels; ++ch) {
            float* x = buffers[ch] + pos;
            for (std::uint32_t i = i0; i < n; ++i) x[i] *= gain[i];
        }
    }
}

void Deesser::follow_reduction(float* a, std::uint32_t n) noexcept {
    // The attack step while the target is below A, else the release step. The two differ by
    // (attack - release) * (A - R); with the attack coefficient the smaller, the attack step is
    // the lower exactly when R < A, so a min picks it without a branch.
    const float attack = attack_coef_, attack_in = 1.0f - attack_coef_;
    const float release = release_coef_, release_in = 1.0f - release_coef_;
    float reduction = reduction_db_, lowest = block_min_reduction_db_;
    for (std::uint32_t i = 0; i < n; ++i) {
        const float target = a[i];
        reduction = std::min(attack * reduction + attack_in * target, release * reduction + release_in * target);
        lowest = std::min(lowest, reduction);
        a[i] = reduction;
    }
    reduction_db_ = reduction;
    block_min_reduction_db_ = lowest;
}

}  // namespace rtmix::dsp
