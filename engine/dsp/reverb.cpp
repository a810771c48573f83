// 8-line feedback delay network reverb; see reverb.hpp for the signal flow.
//
// Real-time notes: every buffer is allocated in the constructor for the largest size and the
// longest predelay. process() works in chunks of chunk_frames, counted from the start of the
// stream (or the last reset), so the output does not depend on how the stream is cut into blocks;
// at the start of each chunk it moves the slow controls (delay lengths, predelay, decay, damping)
// and recomputes the loop coefficients, which are then ramped linearly across the chunk so no
// coefficient ever jumps. A change of a slow control is taken up at the next chunk.
#include "dsp/reverb.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include "dsp/db.hpp"
#include "dsp/delay_buffer.hpp"
#include "dsp/smoother.hpp"

namespace rtmix::dsp {
namespace {

constexpr std::size_t line_count = 8;
constexpr std::uint32_t chunk_frames = 32;

// Line lengths at size = 1, in milliseconds: spread over 30..80 ms with no simple ratios between
// them; at run time each is rounded to a prime number of frames so the lines share no period.
constexpr std::array<double, line_count> line_base_ms = {29.7, 34.3, 39.8, 45.1,
                                                         52.3, 60.7, 69.8, 79.3};
// size 0..1 scales the lengths by 0.35..1.
constexpr double size_scale_min = 0.35;

// Input diffusers: short Schroeder allpasses, different per channel to decorrelate L and R.
constexpr std::size_t diffuser_count = 3;
constexpr std::array<double, diffuser_count> diffuser_ms_l = {1.31, 2.83, 4.39};
constexpr std::array<double, diffuser_count> diffuser_ms_r = {1.57, 3.11, 4.93};
constexpr float diffuser_gain = 0.6f;

// Two orthogonal +-1 patterns (rows of an 8x8 Hadamard matrix) that form the stereo outputs.
constexpr std::array<float, line_count> tap_sign_l = {1, -1, 1, -1, 1, -1, 1, -1};
constexpr std::array<float, line_count> tap_sign_r = {1, 1, -1, -1, 1, 1, -1, -1};

// Each input channel feeds 4 lines with gain 1/2, so the energy entering the network equals the
// input energy; each output sums 8 lines with gain 1/sqrt(8), so it carries the network's energy
// per line. Result for a unit impulse with damping 0: wet tail energy about -3 dB at
// decay_s = 2 and +9 dB at 30 s (damping 0.5 takes another ~8 dB off a white impulse).
constexpr float input_gain = 0.5f;
constexpr float output_gain = 0.35355339f;

// Glides. Delay lengths approach their target exponentially (time constant) but never faster
// than a read-rate change of max_rate frames per frame (2 % is about a third of a semitone).
constexpr float size_glide_s = 0.3f;
constexpr double size_max_rate = 0.02;
constexpr float predelay_glide_s = 0.1f;
constexpr float predelay_max_rate = 0.25f;
constexpr float glide_min_rate = 1e-3f;   // 0.1 % speed change, far below audibility
constexpr float control_glide_s = 0.05f;  // decay and damping
constexpr double mix_ramp_ms = 20.0;
constexpr double dc_block_hz = 5.0;
// Damping shapes a one-pole lowpass so that at damping_ref_hz the RT60 is decay_s / (1 + 5 d).
constexpr float damping_ref_hz = 5000.0f;
constexpr float damping_ratio_span = 5.0f;

// Schroeder allpass: w[n] = x[n] + g w[n-M], y[n] = w[n-M] - g w[n].
struct Allpass {
    DelayBuffer buf;
    std::uint32_t len_frames = 1;

    float process(float x) noexcept {
        const float delayed = buf.read_int(len_frames - 1);
        const float w = flush_denormal(x + diffuser_gain * delayed);
        buf.push(w);
        return delayed - diffuser_gain * w;
    }
};

// In-place fast Walsh-Hadamard transform of 8 values, scaled to be orthonormal.
inline void hadamard8(float* v) noexcept {
    for (std::size_t h = 1; h < line_count; h *= 2) {
        for (std::size_t i = 0; i < line_count; i += 2 * h) {
            for (std::size_t j = i; j < i + h; ++j) {
                const float a = v[j];
                const float b = v[j + h];
                v[j] = a + b;
                v[j + h] = a - b;
            }
        }
    }
    constexpr float scale = 0.35355339059327373f;  // 1 / sqrt(8)
    for (std::size_t i = 0; i < line_count; ++i) v[i] *= scale;
}

// Moves `current` toward `target` for `frames` frames: exponential approach with coefficient
// `approach` per frame, at most `max_step` and at least glide_min_rate frames per frame, and
// snapping when within 0.01 frame. The minimum speed makes the approach finish in finite time
// even where a float's resolution (0.002 frames near 15000) would swallow smaller moves.
// Returns the new value; the caller ramps linearly from the old one.
inline float glide(float current, float target, float approach, float max_step,
                   std::uint32_t frames) noexcept {
    const float dist = target - current;
    const float n = static_cast<float>(frames);
    const float min_move = glide_min_rate * n;
    if (std::fabs(dist) <= std::max(0.01f, min_move)) return target;
    const float move =
        std::clamp(std::fabs(dist) * std::min(1.0f, approach * n), min_move, max_step * n);
    return current + std::copysign(move, dist);
}

}  // namespace

struct Reverb::Impl {
    double fs = 48000.0;
    float fs_f = 48000.0f;

    std::array<DelayBuffer, line_count> lines;
    std::array<float, line_count> len_cur{};     // frames, gliding
    std::array<float, line_count> len_target{};  // frames, prime
    std::array<float, line_count> gain{};        // per-line loop gain, ramped per chunk
    std::array<float, line_count> pole{};        // damping lowpass pole, ramped per chunk
    std::array<float, line_count> lp_state{};
    // Per-frame increments of the current chunk's ramps.
    std::array<float, line_count> len_step{}, gain_step{}, pole_step{};
    float pd_step = 0.0f;
    // The current chunk: frames done, whether its controls move, and their end values.
    std::uint32_t chunk_pos = 0;
    bool chunk_moving = false;
    std::array<float, line_count> len_next{}, gain_next{}, pole_next{};
    float predelay_next = 0.0f;
    std::vector<std::uint8_t> is_prime;

    DelayBuffer predelay_l, predelay_r;
    float predelay_cur = 0.0f, predelay_target = 0.0f;  // frames

    std::array<Allpass, diffuser_count> diff_l, diff_r;

    float dc_r = 0.0f;  // DC blocker pole
    float dc_x_l = 0.0f, dc_y_l = 0.0f, dc_x_r = 0.0f, dc_y_r = 0.0f;

    // Targets as set, and the smoothed values the coefficients are computed from.
    float decay_s = reverb_range(ReverbParam::decay_s).def;
    float damping = reverb_range(ReverbParam::damping).def;
    float log_decay_cur = 0.0f, damping_cur = 0.5f;
    float cos_ref = 0.0f;  // cos of the damping reference frequency in radians per frame
    bool coeffs_settled = false;

    LinearSmoother mix, width;

    explicit Impl(double sample_rate);
    void set_size_target(float size_value) noexcept;
    std::uint32_t nearest_prime(std::uint32_t n) const noexcept;
    void loop_coefficients(float len_frames, float decay, float damp, float& g,
                           float& b) const noexcept;
    void snap_controls() noexcept;
    void begin_chunk() noexcept;
    void end_chunk() noexcept;
    template <bool moving>
    void render(float* left, float* right, std::uint32_t frames, std::uint32_t k0) noexcept;
};

Reverb::Impl::Impl(double sample_rate)
    : fs(sample_rate > 0.0 ? sample_rate : 48000.0), fs_f(static_cast<float>(fs)) {
    // Every line can hold the longest length (+64 frames of room for rounding to a prime).
    const auto longest = static_cast<std::size_t>(line_base_ms.back() * fs / 1000.0) + 64;
    for (auto& line : lines) line.allocate(longest);
    // Sieve of Eratosthenes over every possible line length (control thread, allocates once).
    is_prime.assign(longest + 1, 1);
    is_prime[0] = is_prime[1] = 0;
    for (std::size_t p = 2; p * p <= longest; ++p) {
        if (!is_prime[p]) continue;
        for (std::size_t m = p * p; m <= longest; m += p) is_prime[m] = 0;
    }

    const auto max_predelay = static_cast<std::size_t>(
        std::ceil(static_cast<double>(reverb_range(ReverbParam::predelay_ms).max) * fs / 1000.0));
    predelay_l.allocate(max_predelay);
    predelay_r.allocate(max_predelay);

    const auto setup_diffuser = [this](Allpass& ap, double ms) {
        ap.len_frames = std::max(1u, static_cast<std::uint32_t>(std::lround(ms * fs / 1000.0)));
        ap.buf.allocate(ap.len_frames);
    };
    for (std::size_t k = 0; k < diffuser_count; ++k) {
        setup_diffuser(diff_l[k], diffuser_ms_l[k]);
        setup_diffuser(diff_r[k], diffuser_ms_r[k]);
    }

    dc_r = static_cast<float>(std::exp(-2.0 * static_cast<double>(pi) * dc_block_hz / fs));
    const double ref_hz = std::min(static_cast<double>(damping_ref_hz), 0.4 * fs);
    cos_ref = static_cast<float>(std::cos(2.0 * static_cast<double>(pi) * ref_hz / fs));

    const auto ramp = static_cast<std::uint32_t>(mix_ramp_ms * 0.001 * fs);
    mix.set_ramp_frames(ramp);
    width.set_ramp_frames(ramp);

    predelay_target = std::round(reverb_range(ReverbParam::predelay_ms).def * 0.001f * fs_f);
    mix.reset(reverb_range(ReverbParam::mix).def);
    width.reset(reverb_range(ReverbParam::width).def);
    set_size_target(reverb_range(ReverbParam::size).def);
    snap_controls();
}

std::uint32_t Reverb::Impl::nearest_prime(std::uint32_t n) const noexcept {
    const auto last = static_cast<std::uint32_t>(is_prime.size() - 1);
    n = std::clamp<std::uint32_t>(n, 2, last);
    // Prime gaps below 10^6 are under 120, so this loop is short and bounded.
    for (std::uint32_t d = 0; d <= last; ++d) {
        if (n >= d && is_prime[n - d]) return n - d;
        if (n + d <= last && is_prime[n + d]) return n + d;
    }
    return n;
}

void Reverb::Impl::set_size_target(float size_value) noexcept {
    const double scale = size_scale_min + (1.0 - size_scale_min) * static_cast<double>(size_value);
    for (std::size_t i = 0; i < line_count; ++i) {
        const auto frames = static_cast<std::uint32_t>(line_base_ms[i] * scale * fs / 1000.0 + 0.5);
        len_target[i] = static_cast<float>(nearest_prime(frames));
    }
    coeffs_settled = false;
}

// Loop gain g = 10^(-3 L / (fs T60)) makes every recirculation lose exactly 60 dB per decay_s.
// Damping: the one-pole lowpass (1 - b) / (1 - b z^-1) has DC gain 1 and, at the reference
// frequency, the extra attenuation r = g^(5 d) that shortens the RT60 there to T60 / (1 + 5 d).
// b solves |H(w_ref)| = r; written as (1 - r^2) / (...) so it stays exact as r -> 1 (b -> 0).
void Reverb::Impl::loop_coefficients(float len_frames, float decay, float damp, float& g,
                                     float& b) const noexcept {
    const float db_per_pass = -60.0f * len_frames / (fs_f * decay);
    g = db_to_gain(db_per_pass);
    const float r = db_to_gain(db_per_pass * damping_ratio_span * damp);
    const float r2 = r * r;
    const float c = cos_ref;
    const float root = std::sqrt(std::max(0.0f, (1.0f - c) * (2.0f - r2 * (1.0f + c))));
    b = (1.0f - r2) / ((1.0f - r2 * c) + r * root);
}

void Reverb::Impl::snap_controls() noexcept {
    len_cur = len_target;
    predelay_cur = predelay_target;
    log_decay_cur = std::log(decay_s);
    damping_cur = damping;
    for (std::size_t i = 0; i < line_count; ++i)
        loop_coefficients(len_cur[i], decay_s, damping, gain[i], pole[i]);
    mix.reset(mix.target());
    width.reset(width.target());
    coeffs_settled = true;
    len_step.fill(0.0f);
    gain_step.fill(0.0f);
    pole_step.fill(0.0f);
    pd_step = 0.0f;
    chunk_pos = 0;
}

void Reverb::Impl::begin_chunk() noexcept {
    constexpr auto n_f = static_cast<float>(chunk_frames);
    constexpr float inv_n = 1.0f / n_f;

    // Slow controls: compute their end-of-chunk values, ramp linearly towards them per frame
    // and store them exactly afterwards (no accumulated rounding drift).
    len_next = len_cur;
    gain_next = gain;
    pole_next = pole;
    len_step.fill(0.0f);
    gain_step.fill(0.0f);
    pole_step.fill(0.0f);
    chunk_moving = !coeffs_settled;
    if (!coeffs_settled) {
        const float ctl = std::min(1.0f, n_f / (control_glide_s * fs_f));
        const float log_target = std::log(decay_s);
        log_decay_cur += (log_target - log_decay_cur) * ctl;
        if (std::fabs(log_target - log_decay_cur) < 1e-4f) log_decay_cur = log_target;
        damping_cur += (damping - damping_cur) * ctl;
        if (std::fabs(damping - damping_cur) < 1e-4f) damping_cur = damping;
        const float decay = std::exp(log_decay_cur);

        bool settled = log_decay_cur == log_target && damping_cur == damping;
        const float approach = 1.0f / (size_glide_s * fs_f);
        for (std::size_t i = 0; i < line_count; ++i) {
            // Rate limits proportional to length keep the lines' ratios while gliding.
            const auto max_step =
                static_cast<float>(size_max_rate * line_base_ms[i] / line_base_ms.back());
            len_next[i] = glide(len_cur[i], len_target[i], approach, max_step, chunk_frames);
            settled = settled && len_next[i] == len_target[i];
            loop_coefficients(len_next[i], decay, damping_cur, gain_next[i], pole_next[i]);
            len_step[i] = (len_next[i] - len_cur[i]) * inv_n;
            gain_step[i] = (gain_next[i] - gain[i]) * inv_n;
            pole_step[i] = (pole_next[i] - pole[i]) * inv_n;
        }
        coeffs_settled = settled;
    }

    predelay_next = predelay_cur;
    if (predelay_cur != predelay_target)
        predelay_next = glide(predelay_cur, predelay_target, 1.0f / (predelay_glide_s * fs_f),
                              predelay_max_rate, chunk_frames);
    pd_step = (predelay_next - predelay_cur) * inv_n;
}

void Reverb::Impl::end_chunk() noexcept {
    len_cur = len_next;
    gain = gain_next;
    pole = pole_next;
    predelay_cur = predelay_next;
}

template <bool moving>
void Reverb::Impl::render(float* left, float* right, std::uint32_t frames, std::uint32_t k0) noexcept {
    std::array<std::uint32_t, line_count> delay_int{};  // whole-frame reads when settled
    for (std::size_t i = 0; i < line_count; ++i)
        delay_int[i] = static_cast<std::uint32_t>(len_cur[i]) - 1;

    for (std::uint32_t n = 0; n < frames; ++n) {
        const float in_l = left[n];
        const float in_r = right[n];

        predelay_l.push(in_l);
        predelay_r.push(in_r);
        // Positions and coefficients are start + step * k (no running sum, so no drift).
        const auto k = static_cast<float>(k0 + n + 1);
        const float pd = std::max(0.0f, predelay_cur + pd_step * k);
        float xl = predelay_l.read(pd);
        float xr = predelay_r.read(pd);
        for (std::size_t d = 0; d < diffuser_count; ++d) {
            xl = diff_l[d].process(xl);
            xr = diff_r[d].process(xr);
        }

        std::array<float, line_count> s;
        float wet_l = 0.0f, wet_r = 0.0f;
        for (std::size_t i = 0; i < line_count; ++i) {
            // Read before write: the sample pushed `len` frames ago sits at delay len - 1.
            float out, g, b;
            if constexpr (moving) {
                out = lines[i].read(len_cur[i] + len_step[i] * k - 1.0f);
                g = gain[i] + gain_step[i] * k;
                b = pole[i] + pole_step[i] * k;
            } else {
                out = lines[i].read_int(delay_int[i]);
                g = gain[i];
                b = pole[i];
            }
            lp_state[i] = flush_denormal((1.0f - b) * g * out + b * lp_state[i]);
            s[i] = lp_state[i];
            wet_l += tap_sign_l[i] * s[i];
            wet_r += tap_sign_r[i] * s[i];
        }
        hadamard8(s.data());
        for (std::size_t i = 0; i < line_count; i += 2) {
            lines[i].push(s[i] + input_gain * xl);
            lines[i + 1].push(s[i + 1] + input_gain * xr);
        }

        // DC blocker y[n] = x[n] - x[n-1] + R y[n-1] (about 5 Hz), then width and mix.
        wet_l *= output_gain;
        wet_r *= output_gain;
        dc_y_l = flush_denormal(wet_l - dc_x_l + dc_r * dc_y_l);
        dc_y_r = flush_denormal(wet_r - dc_x_r + dc_r * dc_y_r);
        dc_x_l = wet_l;
        dc_x_r = wet_r;

        const float mid = 0.5f * (dc_y_l + dc_y_r);
        const float side = 0.5f * (dc_y_l - dc_y_r) * width.next();
        const float m = mix.next();
        left[n] = in_l * (1.0f - m) + (mid + side) * m;
        right[n] = in_r * (1.0f - m) + (mid - side) * m;
    }
}

Reverb::Reverb(double sample_rate) : impl_(new Impl(sample_rate)) {}

Reverb::~Reverb() { delete impl_; }

void Reverb::set(ReverbParam param, float value) noexcept {
    Impl& s = *impl_;
    const ParamRange range = reverb_range(param);
    value = std::clamp(value, range.min, range.max);
    switch (param) {
        case ReverbParam::decay_s: s.decay_s = value; break;
        case ReverbParam::predelay_ms:
            s.predelay_target = std::round(value * 0.001f * s.fs_f);
            break;
        case ReverbParam::damping: s.damping = value; break;
        case ReverbParam::size: s.set_size_target(value); break;
        case ReverbParam::width: s.width.set_target(value); break;
        case ReverbParam::mix: s.mix.set_target(value); break;
    }
    // Decay, damping and size move the loop coefficients: recompute them from the next chunk.
    if (param == ReverbParam::decay_s || param == ReverbParam::damping) s.coeffs_settled = false;
}

void Reverb::process(float* left, float* right, std::uint32_t frames) noexcept {
    Impl& s = *impl_;
    while (frames > 0) {
        if (s.chunk_pos == 0) s.begin_chunk();
        const std::uint32_t n = std::min(frames, chunk_frames - s.chunk_pos);
        // Settled lengths are whole frames, so the common case skips interpolation and ramps.
        if (s.chunk_moving)
            s.render<true>(left, right, n, s.chunk_pos);
        else
            s.render<false>(left, right, n, s.chunk_pos);
        s.chunk_pos += n;
        if (s.chunk_pos == chunk_frames) {
            s.end_chunk();
            s.chunk_pos = 0;
        }
        left += n;
        right += n;
        frames -= n;
    }
}

void Reverb::reset() noexcept {
    Impl& s = *impl_;
    for (auto& line : s.lines) line.clear();
    s.lp_state.fill(0.0f);
    s.predelay_l.clear();
    s.predelay_r.clear();
    for (auto& ap : s.diff_l) ap.buf.clear();
    for (auto& ap : s.diff_r) ap.buf.clear();
    s.dc_x_l = s.dc_y_l = s.dc_x_r = s.dc_y_r = 0.0f;
    // Nothing is sounding any more, so pending glides can jump to their targets.
    s.snap_controls();
}

}  // namespace rtmix::dsp
