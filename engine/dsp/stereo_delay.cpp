// Stereo feedback delay; see stereo_delay.hpp.
//
// Per channel and frame:  y = line(read at delay D);  lp = one-pole lowpass of y;
// line <- x + feedback * lp;  out = x (1 - mix) + y mix.
// So the first echo is the untouched input and every further repeat passes the lowpass once
// more. D glides towards the target time (fractional, linearly interpolated read).
#include "dsp/stereo_delay.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "dsp/delay_buffer.hpp"
#include "dsp/smoother.hpp"

namespace rtmix::dsp {
namespace {

constexpr double ramp_ms = 20.0;  // mix, feedback and damping ramps
// Time glide: exponential approach with this time constant, but the delay never changes faster
// than max_rate frames per frame, so the read speed stays within 0.5..1.5 (pitch at most an
// octave down or a fifth up while gliding) and never reverses.
constexpr double glide_s = 0.1;
constexpr double glide_max_rate = 0.5;
// Damping: pole of the feedback lowpass at 48 kHz is 1 - 0.13^damping (0 -> bypass,
// 1 -> about 1 kHz corner); other rates use the pole with the same corner frequency.
constexpr double pole_base = 0.13;
constexpr double pole_ref_rate = 48000.0;

}  // namespace

struct StereoDelay::Impl {
    double fs = 48000.0;
    DelayBuffer line_l, line_r;
    // The glide state is double: a float near 96000 frames could not take the tiny steps of
    // the end of an exponential approach and would stall short of the target.
    double max_delay_frames = 1.0;
    double delay_cur = 1.0;     // frames, gliding
    double delay_target = 1.0;  // frames, whole number
    double glide_approach = 0.0;
    float lp_l = 0.0f, lp_r = 0.0f;
    LinearSmoother mix, feedback, pole;

    explicit Impl(double sample_rate);
    double time_to_frames(float time_ms) const noexcept;
    float damping_to_pole(float damping) const noexcept;
};

StereoDelay::Impl::Impl(double sample_rate) : fs(sample_rate > 0.0 ? sample_rate : 48000.0) {
    const double longest = static_cast<double>(delay_range(DelayParam::time_ms).max) * fs / 1000.0;
    const auto longest_frames = static_cast<std::size_t>(std::ceil(longest)) + 1;
    line_l.allocate(longest_frames);
    line_r.allocate(longest_frames);
    max_delay_frames = static_cast<double>(longest_frames);
    glide_approach = 1.0 / (glide_s * fs);

    const auto ramp = static_cast<std::uint32_t>(ramp_ms * 0.001 * fs);
    mix.set_ramp_frames(ramp);
    feedback.set_ramp_frames(ramp);
    pole.set_ramp_frames(ramp);
    mix.reset(delay_range(DelayParam::mix).def);
    feedback.reset(delay_range(DelayParam::feedback).def);
    pole.reset(damping_to_pole(delay_range(DelayParam::damping).def));
    delay_target = delay_cur = time_to_frames(delay_range(DelayParam::time_ms).def);
}

double StereoDelay::Impl::time_to_frames(float time_ms) const noexcept {
    const double frames = std::round(static_cast<double>(time_ms) * fs / 1000.0);
    return std::clamp(frames, 1.0, max_delay_frames);
}

float StereoDelay::Impl::damping_to_pole(float damping) const noexcept {
    if (damping <= 0.0f) return 0.0f;
    const double pole_48k = 1.0 - std::pow(pole_base, static_cast<double>(damping));
    // exp(-2 pi fc / fs) keeps fc when raised to fs_ref / fs.
    return static_cast<float>(std::pow(pole_48k, pole_ref_rate / fs));
}

StereoDelay::StereoDelay(double sample_rate) : impl_(new Impl(sample_rate)) {}

StereoDelay::~StereoDelay() { delete impl_; }

void StereoDelay::set(DelayParam param, float value) noexcept {
    Impl& s = *impl_;
    const ParamRange range = delay_range(param);
    value = std::clamp(value, range.min, range.max);
    switch (param) {
        case DelayParam::time_ms: s.delay_target = s.time_to_frames(value); break;
        case DelayParam::feedback: s.feedback.set_target(value); break;
        case DelayParam::damping: s.pole.set_target(s.damping_to_pole(value)); break;
        case DelayParam::mix: s.mix.set_target(value); break;
    }
}

void StereoDelay::process(float* left, float* right, std::uint32_t frames) noexcept {
    Impl& s = *impl_;
    for (std::uint32_t n = 0; n < frames; ++n) {
        if (s.delay_cur != s.delay_target) {
            const double dist = s.delay_target - s.delay_cur;
            if (std::fabs(dist) <= 0.01)
                s.delay_cur = s.delay_target;  // a 0.01-frame jump is inaudible
            else
                s.delay_cur += std::clamp(dist * s.glide_approach, -glide_max_rate, glide_max_rate);
        }
        const float in_l = left[n];
        const float in_r = right[n];
        const float y_l = s.line_l.read(s.delay_cur - 1.0);
        const float y_r = s.line_r.read(s.delay_cur - 1.0);

        const float a = s.pole.next();
        const float fb = s.feedback.next();
        s.lp_l = flush_denormal((1.0f - a) * y_l + a * s.lp_l);
        s.lp_r = flush_denormal((1.0f - a) * y_r + a * s.lp_r);
        s.line_l.push(in_l + fb * s.lp_l);
        s.line_r.push(in_r + fb * s.lp_r);

        const float m = s.mix.next();
        left[n] = in_l * (1.0f - m) + y_l * m;
        right[n] = in_r * (1.0f - m) + y_r * m;
    }
}

void StereoDelay::reset() noexcept {
    Impl& s = *impl_;
    s.line_l.clear();
    s.line_r.clear();
    s.lp_l = s.lp_r = 0.0f;
    // Nothing is sounding any more, so pending glides and ramps can jump to their targets.
    s.delay_cur = s.delay_target;
    s.mix.reset(s.mix.target());
    s.feedback.reset(s.feedback.target());
    s.pole.reset(s.pole.target());
}

}  // namespace rtmix::dsp
