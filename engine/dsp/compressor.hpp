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
// Cost: process() works in chunks of up to 64 frames, in passes: the detector (one level per frame
// for all channels, so one dB conversion each way per frame whatever the channel count), the gain
// computer (level to dB with fast_log2, the curve without branches), the attack/release filter
// (the only serial pass; it picks the attack or release step with a min or max instead of a
// data-dependent branch), and the gain (fast_exp2, makeup, applied to every channel). All passes
// but the filter vectorize. A chunk that starts with the gain reduction at rest (exactly 0 dB)
// and whose detected level stays below the knee (by 0.01 dB) skips the gain computer and the
// filter: its gain is exactly 1 (times the makeup), as the full computation gives. At the end of
// every chunk a gain reduction within 1e-6 dB of 0 becomes 0, so a release comes to rest.
// Chunks are aligned to the stream, not to the blocks: the output does not depend on the block
// sizes.
// The filter's recursion is what bounds a compressor's speed (every sample waits for the previous
// one), so process_group() runs the filters of several strips' compressors interleaved.
//
// Lookahead: with `lookahead_ms` > 0 the audio is delayed by that much (rounded to frames) and the
// gain worked out from the undelayed signal is applied to it, so the gain reduction is already
// under way when a transient arrives. The delay runs whether the compressor is enabled or not (a
// bypass never shifts time); a change crossfades from the old delay to the new one over the
// smoothing time. The engine reports it as the compressor's latency.
//
// Accuracy: the gain applied differs from 10^(dB/20) of the exact static curve by at most 4e-5 dB
// for peak levels from -200 dB to +60 dB (fast_log2 and fast_exp2 errors, see fast_math.hpp;
// checked by tests/test_compressor.cpp). Levels at or below -200 dB (amplitude 1e-10, mean
// square 1e-20) count as -200 dB.
//
// Threads: every member is wait-free and allocation-free; all run on the audio thread.
#pragma once

#include <cstdint>
#include <vector>

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
    float lookahead_ms = 0.0f;  // 0 ... max_lookahead_ms
};

/// The longest lookahead, in milliseconds.
constexpr float max_lookahead_ms = 10.0f;

/// The static curve: output level in dB for a steady input level in dB. A negative knee counts
/// as 0 (a hard knee). Pure function.
float compressor_curve_db(float input_db, float threshold_db, float ratio, float knee_db) noexcept;

class Compressor {
public:
    /// Allocates the lookahead delay for `sample_rate` (control thread).
    void prepare(double sample_rate, float smoothing_ms);
    /// The delay in frames of `lookahead_ms` at `sample_rate`.
    static std::uint32_t lookahead_frames(double sample_rate, float lookahead_ms) noexcept;
    void set(const CompressorSettings& settings) noexcept;
    const CompressorSettings& settings() const noexcept { return settings_; }

    /// Compresses `frames` samples of `channels` buffers in place with one linked gain.
    void process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept;
    /// What the detector of the next process() or process_group() listens to: `channels`
    /// buffers as long as the audio (a sidechain key, or the audio filtered), or null for the
    /// audio itself. The gain always goes onto the audio.
    void listen_to(const float* const* key, std::uint32_t channels) noexcept {
        key_ = key;
        key_channels_ = channels;
    }

    /// Most compressors one process_group() call interleaves.
    static constexpr std::uint32_t max_group = 16;
    /// process() for `count` compressors at once (compressor k on buffers[k], channels[k]): their
    /// serial attack/release filters run interleaved, so the CPU overlaps the chains. Each
    /// compressor's output is the same bit for bit as from its own process().
    static void process_group(Compressor* const* compressors, float* const* const* buffers,
                              const std::uint32_t* channels, std::uint32_t count, std::uint32_t frames) noexcept;
    void reset() noexcept;

    /// Gain reduction in dB (<= 0) at the end of the last block, and the most reduction in it.
    float gain_reduction_db() const noexcept { return gr_db_; }
    float block_max_reduction_db() const noexcept { return block_min_gr_db_; }

private:
    /// Frames per pass: the scratch buffers live on the stack.
    static constexpr std::uint32_t chunk_frames = 64;
    bool idle() const noexcept;
    /// One chunk's detector and gain computer: the target gain reduction per frame into `a`;
    /// false when the compressor is at rest for the whole chunk (then `a` is not set).
    bool target_chunk(const float* const* buffers, std::uint32_t channels, std::uint32_t pos, std::uint32_t n,
                      float* a) noexcept;
    /// The attack/release filters of the active compressors of a group, over one chunk.
    static void filter_chunks(Compressor* const* run, float (*a)[chunk_frames], const bool* active,
                              std::uint32_t count, std::uint32_t n) noexcept;
    /// The lookahead delay over one run of frames, in place (nothing, inline, when there is none).
    void delay(float* const* buffers, std::uint32_t channels, std::uint32_t pos, std::uint32_t n) noexcept {
        if (delay_frames_ != 0 || xfade_done_ < xfade_frames_) run_delay(buffers, channels, pos, n);
    }
    void run_delay(float* const* buffers, std::uint32_t channels, std::uint32_t pos, std::uint32_t n) noexcept;
    /// The gain (from the filtered reduction in `a`, or the makeup alone) onto the buffers.
    void apply_chunk(float* const* buffers, std::uint32_t channels, std::uint32_t pos, std::uint32_t n, float* a,
                     bool active) noexcept;

    CompressorSettings settings_{};
    double sample_rate_ = 48000.0;
    float attack_coef_ = 0.0f;
    float release_coef_ = 0.0f;
    // Detected level (amplitude for peak, mean square for RMS) below which the static curve is
    // certainly the identity (below threshold - knee / 2, with a margin); 0 when none is.
    float rest_level_ = 0.0f;
    float rms_coef_ = 0.0f;
    float mean_square_ = 0.0f;
    float gr_db_ = 0.0f;
    std::uint32_t chunk_phase_ = 0;  // frames since the start of the current chunk (see process())
    const float* const* key_ = nullptr;  // the detector's input when not the audio (listen_to())
    std::uint32_t key_channels_ = 0;
    // Lookahead: a power-of-two ring per channel, crossfaded between taps on a change.
    std::vector<float> ring_[2];
    std::uint32_t ring_mask_ = 0, write_ = 0;
    std::uint32_t delay_frames_ = 0, old_delay_frames_ = 0;
    std::uint32_t xfade_done_ = 1, xfade_frames_ = 1;  // xfade_done_ == xfade_frames_: none runs
    float block_min_gr_db_ = 0.0f;
    LinearSmoother makeup_;
};

}  // namespace rtmix::dsp
