// De-esser: a fast limiter on the sibilant band ("s", "sh", "t"), stereo-linked, with an optional
// key (sidechain) input.
//
// Behaviour, per sample (fs the sample rate):
//  1. The band: a 2nd-order Butterworth highpass (Q = 1/sqrt(2)) at fc = `freq_hz` (at most
//     0.45 fs): |H(f)|^2 = (f/fc)^4 / (1 + (f/fc)^4) with both frequencies pre-warped by the
//     bilinear transform (f -> tan(pi f / fs)), so the response is exact at fc and falls to 0 at
//     fs/2 (at fs = 48 kHz and fc = 6 kHz it is 0.14 dB above the analog formula at 12 kHz). It is
//     a state-variable filter solved with the trapezoidal rule (TPT, as in eq.hpp), which stays
//     stable however fast its coefficients move. high = HP(x) per channel; low = x - high.
//  2. Detector: s = the largest |HP(c)| over the channels c of the key when one is given, else of
//     the audio. Envelope e = max(s, r * e), r = exp(-1 / (0.050 fs)): a peak follower with an
//     instant attack and a 50 ms release in the linear domain. Level E = 20 log10(e), with levels
//     at or below -200 dB (e <= 1e-10) counting as -200 dB.
//  3. Reduction R = -min(range_db, max(0, E - threshold_db)) dB: the band is brought down to the
//     threshold, by at most range_db. The applied reduction A follows R through a one-pole filter
//     in dB, A = c A + (1 - c) R, with c = exp(-1 / (t fs)) for t = 0.5 ms (attack, R below A)
//     or 50 ms (release).
//  4. Output, with g = 10^(A / 20): split mode y = x - (1 - g) high = low + g high per channel
//     (only the sibilant band is turned down); wideband mode y = g x (the whole signal is turned
//     down while the band is loud). With A = 0 the gain is exactly 1 and y == x bit for bit.
//
// Changes: threshold_db and range_db act from the next sample (the reduction they ask for goes
// through the attack/release filter, so they do not click). freq_hz glides in log-frequency over
// the smoothing time, the filter redesigned every 64 frames; a change of mode crossfades between
// the two outputs linearly over the smoothing time. Values outside the documented ranges are
// clamped to them (a NaN counts as the range's minimum). A key that comes back after blocks
// without one starts its filter from rest.
//
// Cost: process() works in chunks of up to 64 frames aligned to the stream (not to the blocks),
// in three passes. (1) One loop runs every recursion of the chunk side by side: the band filter of
// each audio channel, of each key channel, and the envelope, so the CPU overlaps their chains;
// the filters are what bound it (about 15 cycles of latency per frame). (2) The reduction per
// frame: E and R (fast_log2 and branch-free clamps, in groups of 4 frames, which GCC vectorizes
// even at -O2), the attack/release filter (serial; a min picks the attack or release step without
// a branch, since the attack coefficient is the smaller), the gain (fast_exp2, in groups of 4).
// (3) The gain onto the channels. A chunk that starts with A exactly 0 and whose envelope stays
// below the threshold (by 0.01 dB), or with range_db = 0, stops after pass 1: its output is the
// input, untouched. At the end of every chunk an A within 1e-6 dB of 0 becomes 0, so a release
// comes to rest; an envelope below 1e-10 becomes 0 (it counts as -200 dB either way), so silence
// never decays through subnormal numbers. The output does not depend on the block sizes.
// Measured (g++ 12 -O2, x86-64 baseline, one thread's CPU time over 400000 blocks on a shared
// AMD EPYC virtual machine, three runs): 0.75 to 0.85 us per 64-frame stereo block while
// reducing, in either mode and with or without a mono key, and 0.4 us at rest; the compressor
// took 1.05 to 1.4 us in the same loop.
//
// Accuracy: the gain differs from the exact 10^(A/20) of the formulas above by at most about
// 5e-5 dB (fast_log2 on E, fast_exp2 on g; see fast_math.hpp). On test signals up to full scale
// the output is within 2e-6 of the definition evaluated in double precision.
//
// Threads: prepare() is for the control thread. set(), process() and reset() are wait-free and
// never allocate, lock, do I/O or throw; they run on the audio thread.
#pragma once

#include <cstdint>

#include "dsp/smoother.hpp"

namespace rtmix::dsp {

enum class DeesserMode : std::uint8_t { split, wideband };

struct DeesserSettings {
    DeesserMode mode = DeesserMode::split;
    float freq_hz = 6000.0f;      // 2000 ... 16000: where the sibilant band starts (the detector's and the split's highpass corner)
    float threshold_db = -30.0f;  // -60 ... 0: detected sibilant level above which it reduces
    float range_db = 12.0f;       // 0 ... 24: the most it reduces, in dB
};

class Deesser {
public:
    /// The time constants and filter for `sample_rate`; changes glide over `smoothing_ms`. Starts
    /// from rest at the current settings. Control thread.
    void prepare(double sample_rate, float smoothing_ms);
    /// New settings (see "Changes" above). Audio thread, wait-free.
    void set(const DeesserSettings& settings) noexcept;
    const DeesserSettings& settings() const noexcept { return settings_; }

    /// Processes `channels` (1 or 2) buffers of `frames` samples in place with one linked reduction.
    /// `key`, if not null, holds `key_channels` (1 or 2) buffers that the detector listens to
    /// instead of the audio. Channels beyond 2 are ignored. Audio thread, wait-free.
    void process(float* const* buffers, std::uint32_t channels, std::uint32_t frames, const float* const* key = nullptr,
                 std::uint32_t key_channels = 0) noexcept;
    /// Back to rest: filters, envelope and reduction at 0, glides and fades finished. Wait-free.
    void reset() noexcept;

    /// The applied reduction A in dB (<= 0) at the end of the last block, and the most in it.
    float gain_reduction_db() const noexcept { return reduction_db_; }
    float block_max_reduction_db() const noexcept { return block_min_reduction_db_; }

private:
    static constexpr std::uint32_t max_channels = 2;
    /// Frames per pass (the scratch buffers live on the stack) and per step of a frequency glide.
    static constexpr std::uint32_t chunk_frames = 64;

    /// One TPT state-variable highpass design: g = tan(pi fc / fs), k = 1 / Q.
    struct Highpass {
        float k = 1.41421356f, a1 = 1.0f, a2 = 0.0f, a3 = 0.0f;
    };
    static Highpass design(float freq_hz, double sample_rate) noexcept;

    /// One chunk (at most chunk_frames, within one chunk of the stream) at offset `pos`.
    void process_chunk(float* const* buffers, std::uint32_t channels, const float* const* key,
                       std::uint32_t key_channels, std::uint32_t pos, std::uint32_t n) noexcept;
    /// The band of the audio into `high` and the envelope of the detected band (the key's, or the
    /// audio's with no key channels) into `envelope`, for one chunk; true when the envelope stays
    /// below rest_level_.
    template <std::uint32_t audio_channels, std::uint32_t key_channels>
    bool detect(const float* const* buffers, const float* const* key, std::uint32_t pos, std::uint32_t n,
                float (*high)[chunk_frames], float* envelope) noexcept;
    /// The attack/release filter from the target reduction in `a` to the applied one, in place.
    void follow_reduction(float* a, std::uint32_t n) noexcept;
    void step_glide() noexcept;

    DeesserSettings settings_{};
    double sample_rate_ = 48000.0;
    // Band filter: the design now, integrator states of the audio's and the key's channels.
    Highpass hp_{};
    float audio_ic_[max_channels][2]{};
    float key_ic_[max_channels][2]{};
    bool key_seen_ = false;  // the last block had a key (its filter state is current)
    // Frequency glide: the corner now, and steps (one per chunk) left to the target.
    float freq_now_hz_ = 6000.0f;
    std::uint32_t glide_steps_ = 1;
    std::uint32_t glide_left_ = 0;
    // Detector and gain computer.
    float envelope_coef_ = 0.0f;
    float attack_coef_ = 0.0f;
    float release_coef_ = 0.0f;
    float envelope_ = 0.0f;
    float rest_level_ = 0.0f;  // envelope below which R is certainly 0; +inf when range_db is 0
    float reduction_db_ = 0.0f;
    float block_min_reduction_db_ = 0.0f;
    std::uint32_t chunk_phase_ = 0;  // frames since the start of the current chunk of the stream
    // Mode crossfade: 0 = split, 1 = wideband.
    LinearSmoother wideband_;
};

}  // namespace rtmix::dsp
