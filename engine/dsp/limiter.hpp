// Stereo-linked lookahead true-peak limiter for the end of the master bus.
//
// Guarantee: with the limiter enabled (not crossfading) and a steady ceiling, the output's true
// peak as BS.1770-4 defines it (4x oversampling below 96 kHz, 2x below 192 kHz), measured by
// libebur128 or by the detector's 8x accurate interpolator, stays at or below `ceiling_dbtp`.
// Under an ideal (infinitely long sinc) reconstruction it holds on the tests' torture set (full-
// scale squares and +-1 patterns near fs/2 and fs/4, drums driven 18 dB into clipping, sweeps to
// 0.99 of Nyquist, pink noise 15 dB over, isolated +1/-1 pairs; 44.1, 48 and 96 kHz; ceilings
// -0.1 and -1 dBTP; float and 16-bit TPDF-dithered output): the closest case 0.04 dB under. That
// one is measured, not proven: an ideal reconstruction reaches arbitrarily far, and no finite
// interpolator reads content in the last fraction of a percent of the band in full (see the
// margin below). During a fade-in from bypass the limited path being faded in already holds it
// (see `enabled` below).
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
// them, and it is constant there unless a nearby peak needs even more. G = 128 frames covers
// the reach of libebur128's interpolator (6 samples either side at 4x and 12 at 2x) and the
// part of the accurate design's (192) that matters outside the last percent of the band: a meter
// sees the samples around a limited peak scaled by one gain. Near Nyquist the gain's own
// movement adds content at inter-sample points: an output y = g x with g ramping over content
// near Nyquist reads up to about (the gain's change) / pi times that content above g x in an
// ideal reconstruction, and the guard keeps such ramps at least G frames from the peak (a guard
// of 64 let a sweep to 0.99 of Nyquist read 0.2 dB over the ceiling in the ideal, 128: 0.09
// before the margin below).
//
// Safety margin: 0.15 dB. With a constant gain the estimate is never below what a meter with
// the reference interpolator (libebur128's) reads, up to float rounding (about 1e-6 dB), nor
// below the accurate estimate; for those two meters 0.02 dB would do (the gain's slope within
// their reach: at most 0.006 dB on harsh random material). The rest is for the ideal
// reconstruction. With 0.02 dB the torture set read up to 0.09 dB over the ceiling there: the
// abrupt ends of a full-scale sweep at 0.99 of Nyquist, whose inter-sample peaks the detector
// reads up to 0.35 dB low (and which the gain set by their neighbours mostly covers), and drums
// clipped 18 dB deep rendered to 16 bits (0.06 dB over). 16-bit TPDF dither (at most 2 LSB, plus
// the rounding's half LSB: 8e-5 of full scale, 0.001 dB at -1 dBTP) changes the readings by at
// most 0.0004 dB. 0.15 dB covers all of it with 0.04 dB to spare. It costs 0.13 dB of level
// against the 0.02 dB before, on every master that reaches the ceiling.
//
// Lookahead: `lookahead_ms` sets the latency D = round(lookahead_ms * fs / 1000) frames, of
// which d + G (195 + 128 = 323 frames, 6.7 ms at 48 kHz) go to the detector and the guard span
// and the remaining L = D + 1 - d - G form the attack ramp. D is at least 347 frames, so that
// the ramp has at least 25 frames (a one-frame ramp, a gain step, let libebur128 read 0.04 dB
// over on pink noise with 1 ms of release): the default 5 ms and anything shorter give 347
// frames at 44.1 and 48 kHz (7.9 and 7.2 ms; the 64-tap detector before: 88 frames), 5 ms gives
// 480 at 96 kHz. A change
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
// over its last D + G + 1 frames, the detectors having first taken the 390 frames before those
// (their memory) as history. That span holds every detection step t >= n - M + 1 (M - 1 <= D + G + 1), n
// being the first limited frame: all the peaks whose hold window reaches n, while the others
// only concern frames before it. The release stage's output never exceeds the minimum
// whatever state it starts from, so the argument above holds from frame n on. What the rebuild
// leaves out is the hold and release of peaks detected before the span, whose audio has come
// out already: the gain may start higher than if the analysis had kept running, as high as
// the audio still to come out allows.
//
// Cost (bench/true_peak_cost.cpp, docs/performance.md): about 75 500 instructions and 6.2 us per
// 64-frame stereo block while limiting at 48 kHz (the one-stage 64-tap detector before: 87 800
// and 6.1 us, in the same run), about 97 ns per stereo frame; most of it is the two detectors.
// Bypassed: 25 to 85 ns per 64-frame block (the input gain and the delay line writes). An enable
// adds the rebuild, D + G + 1 + 390 frames of analysis once (at 5 ms and 48 kHz: 866 frames,
// in 64-frame steps; not measured, about 70 us from the detectors' cost).
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
