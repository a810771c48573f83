// Stereo-linked lookahead true-peak limiter for the end of the master bus.
//
// Guarantee: with the limiter enabled (not crossfading) and a steady ceiling, the output's true
// peak as BS.1770-4 defines it (4x oversampling below 96 kHz, 2x below 192 kHz), measured by
// libebur128 or by the detector's 8x accurate interpolator, stays at or below `ceiling_dbtp`.
// Not guaranteed: the peak of an ideal (infinitely long sinc) reconstruction, which reads the
// output up to 0.1 to 0.5 dB over on clipped or near-Nyquist material and about 2.2 dB over on
// +1/-1 patterns at 0.49 fs (figures in docs/mastering.md). During a fade-in
// from bypass the limited path being faded in already holds it (see `enabled` below).
//
// Signal flow, per frame:
//  1. Input gain: `gain_db`, ramped linearly over the smoothing time (loudness normalisation
//     drives the limiter through it). Non-finite samples become silence and finite ones are
//     clamped to +-1e5 (+100 dBFS), so nothing can poison the state below.
//  2. Detection: a TruePeakDetector per channel with the `both` design (see true_peak.hpp): the
//     larger of an accurate interpolator and the reference design common BS.1770 meters use.
//     The linked peak is the larger of the two channels. The required gain is
//     r = min(1, c / peak), where c is the ceiling lowered by the safety margin (below).
//  3. Hold: a sliding minimum of r over M frames (a monotonic deque in preallocated storage),
//     then a release stage with instant attack. Once the minimum rises, the gain stays put for
//     `hold_ms` (25 ms, half a period at 20 Hz, so a sustained sine gets one constant gain and
//     no ripple); a new peak needing within 0.05 dB of the held gain extends the hold. Then
//     the gain reduction in dB decays exponentially towards the current need with time
//     constant `release_ms`: after one release time 1/e of it is left.
//  4. Smoothing: a moving average (box) over L frames, summed exactly in 30-bit fixed point
//     (an integer sum has no drift), so the gain ramps down over L frames ahead of a peak.
//  5. The audio is delayed by D = latency_frames() frames and multiplied by that gain.
// Why the guarantee holds: a peak detected at step t (the points between input samples
// p = t - d and p + 1, d the detector latency) pulls the minimum, and so the release stage's
// output, which never exceeds it, to <= r for steps t .. t + M - 1. So every average of L such
// values, the box outputs at steps t + L - 1 .. t + M - 1, is <= r too (an average of values
// each <= r is <= r). With D = L - 1 + d + G and M = L + 2G + 1 those steps are exactly the
// ones that output the input samples p - G .. p + G + 1: the gain is at or below r on all of
// them, and it is constant there unless a nearby peak needs even more. G = 32 frames covers
// the reach of the interpolators involved (libebur128's reaches 6 samples either side at 4x
// and 12 at 2x, the accurate design 32), so a meter sees the samples around a limited peak
// scaled by one gain.
//
// Safety margin: 0.02 dB. With a constant gain the estimate is never below what a meter with
// the reference interpolator (libebur128's) reads, up to float rounding (about 1e-6 dB), nor
// below the accurate estimate. What remains is the gain's own slope within an interpolator's
// reach, where a louder peak nearby pulls the gain lower on part of it. Without a margin, the
// test set (squares, impulses, +1/-1 pairs, sweeps, inter-sample overs, sines near 0.65 of
// Nyquist, pink noise 12 dB over, clicks 20 dB over; ceilings -0.1, -1 and -6 dBTP; 44.1 to
// 192 kHz; 1 to 9 ms lookahead) reads at most 0.0012 dB over the ceiling, and harsher random
// material (noise bursts and clicks up to 20 dB over, 1 ms lookahead, 1 ms release) at most
// 0.006 dB. 0.02 dB covers both with room. With the accurate interpolator alone, libebur128
// reads up to 0.11 dB over on sines near 0.65 of Nyquist and 0.22 dB over on white noise (the
// designs' phase responses differ near Nyquist), which would need a margin of a quarter dB.
//
// Lookahead: `lookahead_ms` sets the latency D = round(lookahead_ms * fs / 1000) frames, of
// which d + G (64 frames, 1.33 ms at 48 kHz) go to the detector and the guard span and the
// remaining L = D + 1 - d - G form the attack ramp. D is at least 88 frames, so that the ramp
// has at least 25 frames (a one-frame ramp, a gain step, let libebur128 read 0.04 dB over on
// pink noise with 1 ms of release): 1 ms gives 88 frames at 44.1 and 48 kHz, 96 at 96 kHz. A change
// is applied at once at the next process(): the delay jumps, which is audible as a
// discontinuity, so change it while stopped; around the jump the gain is pulled down to the
// smallest gain any sample still in the delay line needs, which keeps the guarantee. (Soon
// after an enable the analysis has not seen every sample a longer delay outputs again: it is
// first rebuilt for the new lookahead, as below.) A change while bypassed takes effect at the
// enable.
//
// Other parameters: `ceiling_dbtp` and `release_ms` take effect at once for the audio entering
// the limiter (the D frames already in the delay line keep the gain worked out for the old
// ceiling; a higher ceiling releases). `enabled` = 0 is a full bypass: the output is the input
// bit for bit and latency_frames() is 0. Toggling crossfades over the smoothing time between
// the undelayed input and the delayed, limited signal. While bypassed (fade-out over) only
// step 1 runs: the input gain keeps ramping and the delay line keeps being written, so a
// fade-in starts from the real recent input; detection, hold, release and box pause. At the
// first process() after an enable, before the fade-in's first frame, they are rebuilt from
// the delay line: from a neutral state (gain 1, nothing held or releasing) steps 2 to 4 run
// over its last D + G + 1 frames, the detectors having first taken the 64 frames before those
// as history. That span holds every detection step t >= n - M + 1 (M - 1 <= D + G + 1), n
// being the first limited frame: all the peaks whose hold window reaches n, while the others
// only concern frames before it. The release stage's output never exceeds the minimum
// whatever state it starts from, so the argument above holds from frame n on. What the rebuild
// leaves out is the hold and release of peaks detected before the span, whose audio has come
// out already: the gain may start higher than if the analysis had kept running, as high as
// the audio still to come out allows.
//
// Cost: about 76 ns per stereo frame (4.9 us per 64-frame block, -O3) on the machine of
// docs/performance.md (the 4x detector before: 29 to 38 ns); most of it is the two 8x
// detectors. Bypassed: 25 to 85 ns per 64-frame block (the input gain and the delay line
// writes). An enable adds the rebuild, D + G + 65 frames of analysis once: with the 4x detector the first
// block after it cost about 2 to 2.5, 4 to 5.6 and 12 to 18 us at 48 kHz with 1, 5 and 20 ms
// of lookahead; the 8x detector roughly triples the analysis part.
//
// Threads: the constructor allocates every buffer for the longest lookahead (control thread).
// set(), process(), reset() and reset_max() are wait-free: no allocation, lock, I/O or
// exception (audio thread); the rebuild is a bounded amount of work. The getters read plain
// members: call them on the audio thread or publish the values from there.
#pragma once

#include <cstdint>

#include "dsp/param_range.hpp"

namespace rtmix::dsp {

enum class LimiterParam : std::uint8_t { enabled, gain_db, ceiling_dbtp, release_ms, lookahead_ms };

/// Range and default of each limiter parameter (the engine validates against these).
constexpr ParamRange limiter_range(LimiterParam p) noexcept {
    switch (p) {
        case LimiterParam::enabled: return {0.0f, 1.0f, 0.0f};          // 0 = bypass, 1 = on
        case LimiterParam::gain_db: return {-24.0f, 24.0f, 0.0f};       // input gain, dB
        case LimiterParam::ceiling_dbtp: return {-20.0f, 0.0f, -1.0f};  // dBTP
        case LimiterParam::release_ms: return {1.0f, 1000.0f, 100.0f};  // time constant, ms
        case LimiterParam::lookahead_ms: return {1.0f, 20.0f, 5.0f};    // latency when enabled, ms
    }
    return {0.0f, 0.0f, 0.0f};
}

class Limiter {
public:
    /// Allocates the delay and history buffers for the longest lookahead at `sample_rate`
    /// (control thread). `smoothing_ms` is the ramp time of gain_db and of the enable crossfade.
    Limiter(double sample_rate, float smoothing_ms);
    ~Limiter();
    Limiter(const Limiter&) = delete;
    Limiter& operator=(const Limiter&) = delete;

    /// Sets one parameter; `value` is already inside limiter_range(). Wait-free, audio thread.
    void set(LimiterParam param, float value) noexcept;

    /// Processes one stereo block in place. Wait-free, audio thread.
    void process(float* left, float* right, std::uint32_t frames) noexcept;

    /// Clears the delay line, the detectors and the gain state (as if preceded by silence);
    /// ramps jump to their targets. Wait-free.
    void reset() noexcept;

    /// The delay the limiter adds now, in frames: 0 when disabled.
    std::uint32_t latency_frames() const noexcept;
    /// The delay it adds when enabled with `lookahead_ms` at `sample_rate`.
    static std::uint32_t latency_frames_for(double sample_rate, float lookahead_ms) noexcept;

    /// Gain reduction applied to the last frame processed, in dB (<= 0; 0 when disabled).
    float gain_reduction_db() const noexcept;
    /// The most gain reduction applied since construction, reset() or reset_max(), in dB (<= 0).
    float max_gain_reduction_db() const noexcept;
    void reset_max() noexcept;

private:
    struct Impl;
    Impl* impl_;
};

}  // namespace rtmix::dsp
