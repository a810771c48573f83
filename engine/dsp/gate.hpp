// Gate / downward expander: turns a track down while its level stays below a threshold (spill
// between drum hits, hiss between phrases), with hold and hysteresis so that it does not chatter,
// and an optional key (sidechain) that the detector listens to instead of the audio.
//
// Design: the structure of compressor.hpp, after Giannoulis, Massberg & Reiss, "Digital Dynamic
// Range Compressor Design - A Tutorial and Analysis" (JAES 2012): a peak level per sample, a gain
// computer in dB, and the gain smoothed in the log domain by a one-pole filter that branches
// between attack and release (the "smooth branching" detector after the gain computer). For a
// gate, attack is the gain rising (opening) and release the gain falling (closing). Between the
// detector and the gain computer sits the gate's state (open or closed), with hold and hysteresis.
//
// Definitions, per sample, in this order (fs the sample rate; T threshold_db, H hysteresis_db):
//  1. Level: L = 20 log10(max over channels of |x|), of the audio or, with a key, of the key's
//     channels. Levels below -200 dB count as -200 dB.
//  2. State: the gate starts closed. Whenever L >= T it is open and its hold counter is full:
//     round(hold_ms * fs / 1000) frames. While it is open, L >= T - H keeps the counter full;
//     each sample with L < T - H counts it down by one, and a sample below T - H that finds it at
//     0 closes the gate. So an open gate stays open exactly hold frames after the last sample at
//     or above T - H (hold 0: it closes at the first sample below), and a level between T - H and
//     T keeps an open gate open but does not open a closed one.
//  3. Target gain in dB: 0 while open; while closed max(range_db, (ratio - 1) (L - T)) (L < T
//     then): a downward expander with range_db as its floor. At ratio 100 that is range_db as
//     soon as L is 0.8 dB below T (at range -80 dB); at ratio 1 it is 0 (no gating).
//  4. Smoothing of the gain g in dB: g = c g + (1 - c) target, c = exp(-1 / (t fs)) with
//     t = attack_ms when the target is above g (opening), release_ms otherwise. After one attack
//     time a step of gain is 1 - 1/e (63 %) of the way. reset() starts at g = range_db (closed).
//  5. Output: every channel times 10^(g / 20): one linked gain for all channels.
// Settings outside the ranges in GateSettings are clamped to them (threshold_db to -200 ... +60).
//
// Rest: at the end of every 64-frame chunk of the stream, a gain within 1e-6 dB of its target
// (the last sample's) becomes that target. So an open gate comes to rest at exactly 0 dB, where
// the gain is exactly 1 and the output the input bit for bit, and the state never decays into
// subnormal numbers. Chunks are aligned to the stream, not to the blocks, and nothing else
// depends on where a block ends: the output does not depend on the block sizes.
//
// Accuracy: the state (2) compares max |x| with the amplitudes of T and T - H (float exp2): the
// same decisions as comparing L, to a float step of the amplitude (1e-6 dB). The expander's L
// comes from fast_log2 (fast_math.hpp), within 4.8e-5 dB of 20 log10, so its target is within
// (ratio - 1) x 4.8e-5 dB of the formula: 1.5e-4 dB at ratio 4, 4.8e-3 dB at ratio 100 (where it
// is the range except within 0.8 dB of T). The gain is fast_exp2 of g rounded to float: within
// 1e-5 dB of 10^(g / 20), and exactly 1 at g = 0. g itself runs in double: in float, a gain near
// -80 dB with a 5 s release at 48 kHz would stall up to 0.9 dB short of its target (a step
// smaller than half a float step rounds to nothing).
//
// Cost: process() works in chunks of up to 64 frames, in passes: the detector (max |x| of the
// channels), the target a closed gate would have on each frame (fast_log2, the curve without
// branches), the state and the filter, and the gain (fast_exp2) onto every channel. The state
// and filter pass is the one serial pass; its chain from one g to the next is a subtract, a
// multiply, an add and a max (the attack or release step picked without a data-dependent branch,
// see gate.cpp). The other passes vectorize on whole chunks (GCC's -O2 cost model takes only
// loops of a known count). Two cases skip most of the work and give the same bits as the full
// computation: open at rest (g exactly 0 dB, and the hold counter, followed without branches,
// not running out in the chunk) leaves the audio untouched; closed at rest (g exactly range_db,
// every peak at least 0.01 dB below where the target leaves the range) applies one constant gain.
// Measured with g++ 12 -O2 (baseline x86-64, SSE2) on one core of a shared AMD EPYC server: 10 s
// of stereo audio at 48 kHz processed in 64-frame blocks, the median of 15 repetitions, the best
// of 5 such runs; per 64-frame stereo chunk: open at rest (a loud sine, noise or DC) 72 ns, closed
// at rest (quiet noise or silence) 57 ns, every frame through the serial pass (noise at -60 dBFS
// on a ratio-2 expander, which never rests) 400 ns, noise bursts switching the gate every 50 ms
// 270 ns: 1.1, 0.9, 6.2 and 4.2 ns per frame.
//
// Threads: prepare() on the control thread while the gate is not processing. set(), process(),
// reset() and the getters are wait-free, allocation-, lock- and exception-free: audio thread.
#pragma once

#include <cstdint>

namespace rtmix::dsp {

struct GateSettings {
    float threshold_db = -40.0f;  // dBFS: the gate opens when the detected level reaches it
    float range_db = -80.0f;      // -100 ... 0: the gain while fully closed (the most attenuation)
    float ratio = 100.0f;         // 1 ... 100: below the threshold the gain falls (ratio - 1) dB per dB (a downward expander); 100 acts as a gate
    float attack_ms = 1.0f;       // 0.05 ... 100: time constant of opening (gain rising, in dB)
    float hold_ms = 20.0f;        // 0 ... 2000: how long it stays open after the level falls below threshold - hysteresis
    float release_ms = 100.0f;    // 1 ... 5000: time constant of closing (gain falling, in dB)
    float hysteresis_db = 3.0f;   // 0 ... 20: it closes only below threshold - hysteresis
};

class Gate {
public:
    /// Sets the sample rate, and resets (closed). Control thread; allocates nothing. Call it before
    /// the first process().
    void prepare(double sample_rate);
    /// New settings, from the next sample on; the state (open, hold, gain) carries over, a hold
    /// counter longer than the new hold time is shortened to it. Wait-free (audio thread).
    void set(const GateSettings& settings) noexcept;

    /// Gates `channels` (1 or 2) buffers of `frames` samples in place with one linked gain. `key`,
    /// if not null, holds `key_channels` buffers of `frames` samples that the detector listens to
    /// instead of the audio (a sidechain); a key with no channels counts as none. Wait-free.
    void process(float* const* buffers, std::uint32_t channels, std::uint32_t frames, const float* const* key = nullptr,
                 std::uint32_t key_channels = 0) noexcept;
    /// Closed, hold cleared, gain at range_db. Wait-free.
    void reset() noexcept;

    /// The gain in dB (<= 0) after the last sample processed. Wait-free.
    float gain_reduction_db() const noexcept { return static_cast<float>(g_db_); }
    /// The lowest gain in dB (<= 0) of the samples of the last process() call (the current gain if
    /// it had no frames). Wait-free.
    float block_max_reduction_db() const noexcept { return block_min_db_; }

private:
    /// Frames per pass: the scratch buffers live on the stack.
    static constexpr std::uint32_t chunk_frames = 64;
    /// One chunk of `n` frames at `pos` (n <= chunk_frames, within one chunk of the stream), the
    /// detector listening to `detect`.
    void process_chunk(float* const* buffers, std::uint32_t channels, const float* const* detect,
                       std::uint32_t detect_channels, std::uint32_t pos, std::uint32_t n) noexcept;

    GateSettings settings_{};  // clamped to their ranges
    double sample_rate_ = 48000.0;
    double attack_coef_ = 0.0, release_coef_ = 0.0;  // c of definition 4, in double (see Accuracy)
    std::uint32_t hold_frames_ = 0;
    float slope_ = 99.0f;              // ratio - 1
    float open_level_ = 0.01f;         // amplitude of threshold_db
    float close_level_ = 0.00708f;     // amplitude of threshold_db - hysteresis_db
    float closed_rest_level_ = 0.0f;   // peaks at or below it give a closed gate the range as target
    bool open_ = false;
    std::uint32_t hold_ = 0;
    double g_db_ = -80.0;
    std::uint32_t chunk_phase_ = 0;  // frames since the start of the current chunk of the stream
    float block_min_db_ = -80.0f;
};

}  // namespace rtmix::dsp
