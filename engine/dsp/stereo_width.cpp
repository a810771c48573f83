#include "dsp/stereo_width.hpp"

#include "dsp/db.hpp"

namespace rtmix::dsp {

void StereoWidth::prepare(double sample_rate, float smoothing_ms) noexcept {
    const auto frames = static_cast<std::uint32_t>(smoothing_ms * 1e-3 * sample_rate);
    mid_.set_ramp_frames(frames);
    side_.set_ramp_frames(frames);
    mid_.reset(1.0f);
    side_.reset(1.0f);
}

void StereoWidth::set(float width, float mid_db, float side_db) noexcept {
    mid_.set_target(db_to_gain(mid_db));
    side_.set_target(width * db_to_gain(side_db));
}

void StereoWidth::process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept {
    const bool moving = mid_.moving() || side_.moving();
    if (!moving && mid_.current() == 1.0f && (side_.current() == 1.0f || channels == 1)) return;
    if (channels == 1) {
        mid_.apply(buffers[0], frames);
        for (std::uint32_t i = 0; i < frames && side_.moving(); ++i) (void)side_.next();  // keep the ramps in step
        return;
    }
    float* l = buffers[0];
    float* r = buffers[1];
    if (!moving) {
        const float gm = 0.5f * mid_.current(), gs = 0.5f * side_.current();
        for (std::uint32_t i = 0; i < frames; ++i) {
            const float m = gm * (l[i] + r[i]), s = gs * (l[i] - r[i]);
            l[i] = m + s;
            r[i] = m - s;
        }
        return;
    }
    for (std::uint32_t i = 0; i < frames; ++i) {
        const float m = 0.5f * mid_.next() * (l[i] + r[i]), s = 0.5f * side_.next() * (l[i] - r[i]);
        l[i] = m + s;
        r[i] = m - s;
    }
}

}  // namespace rtmix::dsp
