#include "dsp/compressor.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/db.hpp"

namespace rtmix::dsp {

namespace {
constexpr float rms_window_ms = 10.0f;
// Below this much gain reduction a disabled compressor counts as fully released.
constexpr float idle_reduction_db = -1e-4f;
constexpr float silence_db = -200.0f;
}  // namespace

float compressor_curve_db(float x, float threshold_db, float ratio, float knee_db) noexcept {
    const float over = x - threshold_db;
    const float slope = 1.0f / ratio - 1.0f;
    if (2.0f * over < -knee_db) return x;
    if (knee_db > 0.0f && 2.0f * std::fabs(over) <= knee_db) {
        const float t = over + 0.5f * knee_db;
        return x + slope * t * t / (2.0f * knee_db);
    }
    return threshold_db + over / ratio;
}

void Compressor::prepare(double sample_rate, float smoothing_ms) noexcept {
    sample_rate_ = sample_rate;
    rms_coef_ = one_pole_coefficient(rms_window_ms, sample_rate);
    makeup_.set_ramp_frames(static_cast<std::uint32_t>(smoothing_ms * 1e-3 * sample_rate));
    set(settings_);
    makeup_.reset(makeup_.target());
}

void Compressor::set(const CompressorSettings& s) noexcept {
    settings_ = s;
    attack_coef_ = one_pole_coefficient(s.attack_ms, sample_rate_);
    release_coef_ = one_pole_coefficient(s.release_ms, sample_rate_);
    makeup_.set_target(s.enabled ? db_to_gain(s.makeup_db) : 1.0f);
}

void Compressor::reset() noexcept {
    mean_square_ = 0.0f;
    gr_db_ = 0.0f;
    makeup_.reset(makeup_.target());
}

void Compressor::process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept {
    const CompressorSettings& s = settings_;
    block_min_gr_db_ = gr_db_;
    if (!s.enabled && gr_db_ >= idle_reduction_db && !makeup_.moving()) {
        gr_db_ = 0.0f;
        block_min_gr_db_ = 0.0f;
        return;
    }
    const float inv_channels = 1.0f / static_cast<float>(channels);
    float gr = gr_db_;
    float ms = mean_square_;
    float min_gr = gr;
    for (std::uint32_t i = 0; i < frames; ++i) {
        float target = 0.0f;
        if (s.enabled) {
            float level_db;
            if (s.detector == Detector::peak) {
                float peak = 0.0f;
                for (std::uint32_t ch = 0; ch < channels; ++ch) peak = std::max(peak, std::fabs(buffers[ch][i]));
                level_db = gain_to_db(peak, silence_db);
            } else {
                float sum = 0.0f;
                for (std::uint32_t ch = 0; ch < channels; ++ch) sum += buffers[ch][i] * buffers[ch][i];
                ms = rms_coef_ * ms + (1.0f - rms_coef_) * sum * inv_channels;
                level_db = ms > 0.0f ? 3.0102999566f * std::log2(ms) : silence_db;
            }
            target = compressor_curve_db(level_db, s.threshold_db, s.ratio, s.knee_db) - level_db;
        }
        const float coef = target < gr ? attack_coef_ : release_coef_;
        gr = coef * gr + (1.0f - coef) * target;
        min_gr = std::min(min_gr, gr);
        const float gain = db_to_gain(gr) * makeup_.next();
        for (std::uint32_t ch = 0; ch < channels; ++ch) buffers[ch][i] *= gain;
    }
    gr_db_ = gr;
    mean_square_ = ms;
    block_min_gr_db_ = min_gr;
}

}  // namespace rtmix::dsp
