#include "dsp/eq.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/db.hpp"

namespace rtmix::dsp {

namespace {

// Settings move toward their target in steps of this many samples; coefficients are recomputed
// at each step (tan and pow per band per step, only while gliding).
constexpr std::uint32_t glide_step_frames = 16;

// Q values of the two 2nd-order sections of a 4th-order Butterworth: 1 / (2 cos(pi/8)) and
// 1 / (2 cos(3 pi/8)).
constexpr float butterworth4_q1 = 0.54119610f;
constexpr float butterworth4_q2 = 1.30656296f;

SvfCoefficients make(float g, float k, float m0, float m1, float m2) noexcept {
    SvfCoefficients c;
    c.a1 = 1.0f / (1.0f + g * (g + k));
    c.a2 = g * c.a1;
    c.a3 = g * c.a2;
    c.m0 = m0;
    c.m1 = m1;
    c.m2 = m2;
    return c;
}

}  // namespace

void design_band(const EqBandSettings& s, double sample_rate, SvfCoefficients& stage1,
                 SvfCoefficients& stage2, bool& two_stages) noexcept {
    const double nyquist_guard = 0.49 * sample_rate;
    const double freq_hz = std::clamp(static_cast<double>(s.freq_hz), 1.0, nyquist_guard);
    const float g = static_cast<float>(std::tan(3.14159265358979323846 * freq_hz / sample_rate));
    const float q = std::max(s.q, 0.01f);
    const float k = 1.0f / q;
    const float a = std::pow(10.0f, s.gain_db / 40.0f);
    two_stages = false;
    stage2 = SvfCoefficients{};
    switch (s.type) {
        case EqType::off: stage1 = SvfCoefficients{}; break;
        case EqType::highpass:
        case EqType::lowpass: {
            const bool hp = s.type == EqType::highpass;
            auto pass = [&](float kk) {
                return hp ? make(g, kk, 1.0f, -kk, -1.0f) : make(g, kk, 0.0f, 0.0f, 1.0f);
            };
            if (s.slope_db_oct >= 24) {
                two_stages = true;
                stage1 = pass(1.0f / butterworth4_q1);
                stage2 = pass(1.0f / butterworth4_q2);
            } else {
                stage1 = pass(k);
            }
            break;
        }
        case EqType::lowshelf: {
            const float ks = k;
            stage1 = make(g / std::sqrt(a), ks, 1.0f, ks * (a - 1.0f), a * a - 1.0f);
            break;
        }
        case EqType::highshelf: {
            const float ks = k;
            stage1 = make(g * std::sqrt(a), ks, a * a, ks * (1.0f - a) * a, 1.0f - a * a);
            break;
        }
        case EqType::peak: {
            const float kp = 1.0f / (q * a);
            stage1 = make(g, kp, 1.0f, kp * (a * a - 1.0f), 0.0f);
            break;
        }
        case EqType::notch: stage1 = make(g, k, 1.0f, -k, 0.0f); break;
    }
}

void EqBand::prepare(double sample_rate, float smoothing_ms) noexcept {
    sample_rate_ = sample_rate;
    const double frames = std::max(1.0, smoothing_ms * 1e-3 * sample_rate);
    glide_steps_ = static_cast<std::uint32_t>(std::max(1.0, std::ceil(frames / glide_step_frames)));
    fade_frames_ = static_cast<std::uint32_t>(frames);
    current_ = target_;
    glide_steps_left_ = 0;
    gliding_ = false;
    wet_ = wet_target_ = 1.0f;
    fade_left_ = 0;
    switch_pending_ = false;
    update_coefficients();
}

void EqBand::set(const EqBandSettings& target) noexcept {
    target_ = target;
    const bool type_changed = target.type != current_.type || target.slope_db_oct != current_.slope_db_oct;
    if (!type_changed) {
        if (switch_pending_) {  // back to the type that is playing: cancel the switch
            switch_pending_ = false;
            fade_to(1.0f);
        }
        begin_glide();
        return;
    }
    if (current_.type == EqType::off) {
        switch_to_target();  // nothing is heard from the band yet: switch now, fade in
        return;
    }
    // The old response fades out; process() switches once it is silent.
    switch_pending_ = true;
    fade_to(0.0f);
}

void EqBand::begin_glide() noexcept {
    gliding_ = current_.freq_hz != target_.freq_hz || current_.gain_db != target_.gain_db || current_.q != target_.q;
    glide_steps_left_ = gliding_ ? glide_steps_ : 0;
    step_phase_ = 0;  // the first step is taken at the change's frame
    update_coefficients();
}

void EqBand::fade_to(float wet) noexcept {
    wet_target_ = wet;
    const float distance = std::fabs(wet - wet_);
    fade_left_ = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(distance * static_cast<float>(fade_frames_)));
    wet_step_ = (wet - wet_) / static_cast<float>(fade_left_);
}

void EqBand::switch_to_target() noexcept {
    switch_pending_ = false;
    current_ = target_;
    gliding_ = false;
    glide_steps_left_ = 0;
    reset();  // the new response starts from rest
    update_coefficients();
    if (current_.type == EqType::off) {
        wet_ = wet_target_ = 1.0f;
        fade_left_ = 0;
    } else {
        wet_ = 0.0f;
        fade_to(1.0f);
    }
}

void EqBand::step_toward_target() noexcept {
    // A straight line in log-frequency, dB and log-Q that ends exactly on the target.
    const float n = static_cast<float>(glide_steps_left_);
    const float lf = std::log(current_.freq_hz), tf = std::log(target_.freq_hz);
    const float lq = std::log(current_.q), tq = std::log(target_.q);
    current_.freq_hz = std::exp(lf + (tf - lf) / n);
    current_.q = std::exp(lq + (tq - lq) / n);
    current_.gain_db += (target_.gain_db - current_.gain_db) / n;
    if (--glide_steps_left_ == 0) {
        current_ = target_;
        gliding_ = false;
    }
    update_coefficients();
}

void EqBand::update_coefficients() noexcept {
    design_band(current_, sample_rate_, stage_[0], stage_[1], two_stages_);
}

namespace {

// One SVF stage over a run of samples; `ic` holds the two integrator states.
inline void run_stage(const SvfCoefficients& c, float* ic, float* x, std::uint32_t frames) noexcept {
    float ic1 = ic[0], ic2 = ic[1];
    for (std::uint32_t i = 0; i < frames; ++i) {
        const float v0 = x[i];
        const float v3 = v0 - ic2;
        const float v1 = c.a1 * ic1 + c.a2 * v3;
        const float v2 = ic2 + c.a2 * ic1 + c.a3 * v3;
        ic1 = 2.0f * v1 - ic1;
        ic2 = 2.0f * v2 - ic2;
        x[i] = c.m0 * v0 + c.m1 * v1 + c.m2 * v2;
    }
    ic[0] = ic1;
    ic[1] = ic2;
}

// Both channels of a stereo stage in one loop: their state chains are independent, so the CPU
// overlaps them (each chain alone is bound by the latency of its own recursion).
inline void run_stage_stereo(const SvfCoefficients& c, float (*ic)[2], float* x0, float* x1,
                             std::uint32_t frames) noexcept {
    float a1 = ic[0][0], a2 = ic[0][1], b1 = ic[1][0], b2 = ic[1][1];
    for (std::uint32_t i = 0; i < frames; ++i) {
        const float u0 = x0[i], w0 = x1[i];
        const float u3 = u0 - a2, w3 = w0 - b2;
        const float u1 = c.a1 * a1 + c.a2 * u3, w1 = c.a1 * b1 + c.a2 * w3;
        const float u2 = a2 + c.a2 * a1 + c.a3 * u3, w2 = b2 + c.a2 * b1 + c.a3 * w3;
        a1 = 2.0f * u1 - a1;
        a2 = 2.0f * u2 - a2;
        b1 = 2.0f * w1 - b1;
        b2 = 2.0f * w2 - b2;
        x0[i] = c.m0 * u0 + c.m1 * u1 + c.m2 * u2;
        x1[i] = c.m0 * w0 + c.m1 * w1 + c.m2 * w2;
    }
    ic[0][0] = a1;
    ic[0][1] = a2;
    ic[1][0] = b1;
    ic[1][1] = b2;
}

}  // namespace

void EqBand::process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept {
    std::uint32_t done = 0;
    while (done < frames && current_.type != EqType::off) {
        std::uint32_t run = frames - done;
        // Glide steps fall every glide_step_frames frames from the change, whatever the blocks.
        const bool stepping = gliding_;
        if (stepping) {
            if (step_phase_ == 0) step_toward_target();
            run = std::min(run, glide_step_frames - step_phase_);
        }
        // While a type change fades, keep the dry input to mix with: dry + wet * (filtered - dry).
        // A run ends where the fade does, so that the switch comes on that very frame.
        const bool fading = fade_left_ > 0;
        float dry[max_channels][glide_step_frames];
        if (fading) {
            run = std::min({run, glide_step_frames, fade_left_});
            for (std::uint32_t ch = 0; ch < channels; ++ch) std::copy_n(buffers[ch] + done, run, dry[ch]);
        }
        if (channels == 2) {
            run_stage_stereo(stage_[0], ic_[0], buffers[0] + done, buffers[1] + done, run);
            if (two_stages_) run_stage_stereo(stage_[1], ic_[1], buffers[0] + done, buffers[1] + done, run);
        } else {
            run_stage(stage_[0], ic_[0][0], buffers[0] + done, run);
            if (two_stages_) run_stage(stage_[1], ic_[1][0], buffers[0] + done, run);
        }
        if (fading) {
            for (std::uint32_t i = 0; i < run; ++i) {
                if (fade_left_ > 0) wet_ = --fade_left_ == 0 ? wet_target_ : wet_ + wet_step_;
                for (std::uint32_t ch = 0; ch < channels; ++ch) {
                    float& x = buffers[ch][done + i];
                    x = dry[ch][i] + wet_ * (x - dry[ch][i]);
                }
            }
            if (fade_left_ == 0 && switch_pending_) switch_to_target();
        }
        if (stepping) step_phase_ = (step_phase_ + run) % glide_step_frames;
        done += run;
    }
}

void EqBand::reset() noexcept {
    for (auto& stage : ic_)
        for (auto& ch : stage) ch[0] = ch[1] = 0.0f;
}

void Equalizer::prepare(double sample_rate, float smoothing_ms) noexcept {
    for (auto& b : bands_) b.prepare(sample_rate, smoothing_ms);
}

namespace {

/// The SVF stages of a stereo cascade, N of them, each sample through all of them in turn. The
/// states live in registers for the whole run; the arithmetic is run_stage_stereo's.
template <std::size_t N>
void run_cascade_stereo(const SvfCoefficients* const* c, float (*const* ic)[2], float* x0, float* x1,
                        std::uint32_t frames) noexcept {
    float a1[N], a2[N], b1[N], b2[N];
    for (std::size_t k = 0; k < N; ++k) {
        a1[k] = ic[k][0][0];
        a2[k] = ic[k][0][1];
        b1[k] = ic[k][1][0];
        b2[k] = ic[k][1][1];
    }
    for (std::uint32_t i = 0; i < frames; ++i) {
        float u0 = x0[i], w0 = x1[i];
        for (std::size_t k = 0; k < N; ++k) {
            const SvfCoefficients& s = *c[k];
            const float u3 = u0 - a2[k], w3 = w0 - b2[k];
            const float u1 = s.a1 * a1[k] + s.a2 * u3, w1 = s.a1 * b1[k] + s.a2 * w3;
            const float u2 = a2[k] + s.a2 * a1[k] + s.a3 * u3, w2 = b2[k] + s.a2 * b1[k] + s.a3 * w3;
            a1[k] = 2.0f * u1 - a1[k];
            a2[k] = 2.0f * u2 - a2[k];
            b1[k] = 2.0f * w1 - b1[k];
            b2[k] = 2.0f * w2 - b2[k];
            u0 = s.m0 * u0 + s.m1 * u1 + s.m2 * u2;
            w0 = s.m0 * w0 + s.m1 * w1 + s.m2 * w2;
        }
        x0[i] = u0;
        x1[i] = w0;
    }
    for (std::size_t k = 0; k < N; ++k) {
        ic[k][0][0] = a1[k];
        ic[k][0][1] = a2[k];
        ic[k][1][0] = b1[k];
        ic[k][1][1] = b2[k];
    }
}

/// Up to 4 stages in one loop (their states fit in registers); longer cascades in groups of 4.
void run_stages_stereo(const SvfCoefficients* const* c, float (*const* ic)[2], std::size_t n, float* x0, float* x1,
                       std::uint32_t frames) noexcept {
    while (n > 0) {
        const std::size_t take = std::min<std::size_t>(n, 4);
        switch (take) {
            case 1: run_cascade_stereo<1>(c, ic, x0, x1, frames); break;
            case 2: run_cascade_stereo<2>(c, ic, x0, x1, frames); break;
            case 3: run_cascade_stereo<3>(c, ic, x0, x1, frames); break;
            default: run_cascade_stereo<4>(c, ic, x0, x1, frames); break;
        }
        c += take;
        ic += take;
        n -= take;
    }
}

}  // namespace

void Equalizer::process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept {
    bool steady = channels == 2;
    for (const auto& b : bands_) steady = steady && b.steady();
    if (!steady) {
        for (auto& b : bands_) b.process(buffers, channels, frames);
        return;
    }
    const SvfCoefficients* c[2 * max_eq_bands];
    float (*ic[2 * max_eq_bands])[2];
    std::size_t n = 0;
    for (auto& b : bands_) {
        if (b.current_.type == EqType::off) continue;
        c[n] = &b.stage_[0];
        ic[n++] = b.ic_[0];
        if (b.two_stages_) {
            c[n] = &b.stage_[1];
            ic[n++] = b.ic_[1];
        }
    }
    if (n > 0) run_stages_stereo(c, ic, n, buffers[0], buffers[1], frames);
}

bool Equalizer::steady_stages(std::uint32_t channel, const SvfCoefficients** coefficients, float** states,
                              std::uint32_t& count) noexcept {
    count = 0;
    for (const auto& b : bands_)
        if (!b.steady()) return false;
    for (auto& b : bands_) {
        if (b.current_.type == EqType::off) continue;
        coefficients[count] = &b.stage_[0];
        states[count++] = b.ic_[0][channel];
        if (b.two_stages_) {
            coefficients[count] = &b.stage_[1];
            states[count++] = b.ic_[1][channel];
        }
    }
    return true;
}

void EqBand::settle() noexcept {
    current_ = target_;
    gliding_ = false;
    glide_steps_left_ = 0;
    step_phase_ = 0;
    switch_pending_ = false;
    wet_ = wet_target_ = 1.0f;
    fade_left_ = 0;
    reset();
    update_coefficients();
}

void Equalizer::reset() noexcept {
    for (auto& b : bands_) b.settle();
}

}  // namespace rtmix::dsp
