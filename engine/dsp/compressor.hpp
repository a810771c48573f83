// Feed-forward, stereo-linked compressor with a soft knee.
//
// Design after Giannoulis, Massberg & Reiss, "Digital Dynamic Range Compressor Design - A Tutorial
// and Analysis" (JAES 2012): the level is detected per sample (peak: the largest |x| of the
// channels; RMS: a 10 ms mean square of the channels), the gain computer maps it through the static
// curve in dB, and the gain reduction itself is smoothed in the log domain with branching
// attack/release one-pole filters (the "smooth branching" detector placed after the gain computer).
// `attack_ms` and `release_ms` are the time constants of those filters: after one attack time a
// step of gain reduction is 1 - 1/e (63 %) of the way to its final value.
//
// Threads: every member is wait-free and allocation-free; all run on the audio thread.
#pragma once

#include <cstdint>

#include "dsp/smoother.hpp"

namespace rtmix::dsp {

enum class Detector : std::uint8_t { peak, rms };

struct CompressorSettings {
    bool enabled = false;
    float threshold_db = -20.0f;
    float ratio = 4.0f;     // input dB over threshold per output dB; 1 = no compression
    float knee_db = 6.0f;   // total width of the soft knee, centred on the threshold
    float attack_ms = 10.0f;
    float release_ms = 100.0f;
    float makeup_db = 0.0f;
    Detector detector = Detector::peak;
};

/// The static curve: output level in dB for a steady input level in dB. Pure function.
float compressor_curve_db(float input_db, float threshold_db, float ratio, float knee_db) noexcept;

class Compressor {
public:
    void prepare(double sample_rate, float smoothing_ms) noexcept;
    void set(const CompressorSettings& settings) noexcept;
    const CompressorSettings& settings() const noexcept { return settings_; }

    /// Compresses `frames` samples of `channels` buffers in place with one linked gain.
    void process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept;
    void reset() noexcept;

    /// Gain reduction in dB (<= 0) at the end of the last block, and the most reduction in it.
    float gain_reduction_db() const noexcept { return gr_db_; }
    float block_max_reduction_db() const noexcept { return block_min_gr_db_; }

private:
    CompressorSettings settings_{};
    double sample_rate_ = 48000.0;
    float attack_coef_ = 0.0f;
    float release_coef_ = 0.0f;
    float rms_coef_ = 0.0f;
    float mean_square_ = 0.0f;
    float gr_db_ = 0.0f;
    float block_min_gr_db_ = 0.0f;
    LinearSmoother makeup_;
};

}  // namespace rtmix::dsp
