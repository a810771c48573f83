// Lookahead true-peak limiter; see limiter.hpp for the algorithm and why it holds the ceiling.
//
// Real-time notes: every ring buffer is allocated in the constructor with a power-of-two size
// that fits the longest lookahead plus one chunk, and is indexed by a wrapping 32-bit frame
// counter. process() works in chunks of 64 frames: the input gain and the detectors run over a
// chunk into scratch arrays, then one loop computes the gain frame by frame, and a last one
// writes the output. The sliding minimum does amortised O(1) work per frame; the release
// costs a log2 when its target moves and an exp2 per frame. While bypassed a chunk only goes
// through the input gain into the delay line; rebuild() runs the analysis over the delay line
// when the limited path is about to be heard again.
#include "dsp/limiter.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "dsp/db.hpp"
#include "dsp/smoother.hpp"
#include "dsp/true_peak.hpp"

namespace rtmix::dsp {
namespace {

constexpr std::uint32_t chunk_frames = 64;
// The ceiling is lowered by this much inside the limiter (see limiter.hpp).
constexpr float safety_margin_db = 0.15f;
// Frames either side of a detected peak that get the same gain (see limiter.hpp: libebur128's
// interpolator reaches 6 samples, this detector's half-band 192; 128 keeps the gain's ramps far
// enough from a peak that their effect near Nyquist stays small).
constexpr std::uint32_t guard_frames = 128;
// The shortest attack ramp (box length L): the latency is raised to d + G + min_ramp - 1 frames
// when lookahead_ms asks for less. A ramp of one frame (a gain step) lets meters read up to
// 0.05 dB over on dense material; 25 frames is what 1 ms gave at 48 kHz with the 4x detector.
constexpr std::uint32_t min_ramp = 25;
constexpr double hold_ms = 25.0;
// A new peak needing at most this much less reduction than the held gain extends the hold.
constexpr float hold_refresh_db = 0.05f;
// The release ends (the gain jumps to its target) within this many log2 units: 0.0001 dB.
constexpr float release_snap_log2 = -1.6e-5f;
// Inputs are clamped to +-input_limit (+100 dBFS) and non-finite ones replaced by 0.
constexpr float input_limit = 1e5f;
// Gains are summed as integers with this scale (30 fractional bits; a gain <= 1 fits 31 bits).
constexpr double gain_scale = 1073741824.0;

std::uint32_t next_pow2(std::size_t n) {
    std::size_t size = 1;
    while (size < n) size <<= 1;
    return static_cast<std::uint32_t>(size);
}

// Written with selects rather than branches, so that the loops over a chunk vectorise.
inline float sanitize(float x) noexcept {
    const float a = std::fabs(x);
    const float clamped = a <= std::numeric_limits<float>::max() ? std::copysign(input_limit, x) : 0.0f;
    return a <= input_limit ? x : clamped;
}

inline std::uint32_t quantize(float gain) noexcept {
    // Truncation rounds down, so a quantised gain is never above the gain it stands for.
    return static_cast<std::uint32_t>(static_cast<double>(gain) * gain_scale);
}

}  // namespace

struct Limiter::Impl {
    double fs;
    std::uint32_t detector_latency;
    std::uint32_t hold_frames;
    std::uint32_t mask;  // ring size - 1
    // Frames of history rebuild() analyses before the span it rebuilds: the detectors' memory.
    static constexpr std::uint32_t warmup_frames = TruePeakDetector::memory_frames;

    TruePeakDetector det_l, det_r;
    LinearSmoother input_gain, mix;  // mix: 0 = bypass, 1 = limited

    // Rings indexed by frame number & mask.
    std::vector<float> delay_l, delay_r;  // sanitised input after the input gain
    std::vector<float> required;          // r per frame, for rebuilding after a lookahead change
    std::vector<std::uint32_t> boxed;     // quantised gain entering the moving average
    std::vector<std::uint32_t> deque_at;  // sliding minimum: frame numbers, ...
    std::vector<float> deque_value;       // ... and their required gains, increasing
    std::uint32_t deque_head = 0, deque_tail = 0;

    std::uint32_t now = 0;  // frame number of the next input frame
    std::uint32_t latency = 0, box_len = 1, window = 1;
    double box_denominator = gain_scale;
    std::uint64_t box_sum = 0;
    float held = 1.0f;  // gain after hold and release
    std::uint32_t hold_left = 0;
    float release_target = 0.0f;  // the m the release heads for (0: none yet)
    float release_log2 = 0.0f;    // log2(held / release_target) during a release

    bool enabled = false;
    float ceiling = 1.0f;  // internal ceiling: the set ceiling lowered by the margin
    float release_coef = 0.0f;
    float hold_refresh = 1.0f;
    float lookahead_ms = limiter_range(LimiterParam::lookahead_ms).def;
    bool geometry_pending = false;
    // True once a chunk has been bypassed: the delay line is current, the analysis is not.
    bool stale = false;
    // How many of the latest frames have their `required` entry (at most the ring size).
    std::uint32_t analysed = 0;

    float last_gain = 1.0f;
    float min_gain = 1.0f;

    std::array<float, chunk_frames> in_l{}, in_r{}, peak_l{}, peak_r{}, gain{};

    Impl(double sample_rate, float smoothing_ms);
    void set_geometry(float ms) noexcept;
    void update_geometry() noexcept;
    void apply_geometry() noexcept;
    void rebuild() noexcept;
    void clear() noexcept;
    void push_minimum(std::uint32_t frame, float r) noexcept;
    void take_input(const float* left, const float* right, std::uint32_t frames) noexcept;
    void load_delayed(std::uint32_t first, std::uint32_t frames) noexcept;
    float compute_gain(std::uint32_t first, std::uint32_t frames) noexcept;
    void process_chunk(float* left, float* right, std::uint32_t frames) noexcept;
};

Limiter::Impl::Impl(double sample_rate, float smoothing_ms)
    : fs(sample_rate > 0.0 ? sample_rate : 48000.0),
      detector_latency(TruePeakDetector::latency_for(fs)),
      hold_frames(static_cast<std::uint32_t>(std::ceil(hold_ms * 1e-3 * fs))),
      mask(0),
      det_l(fs, TruePeakDesign::both),
      det_r(fs, TruePeakDesign::both) {
    const std::uint32_t longest = latency_frames_for(fs, limiter_range(LimiterParam::lookahead_ms).max);
    // The window M = L + 2G + 1 <= D + G + 2; a chunk is written before it is read. rebuild()
    // reads D + G + 1 + warmup_frames frames back, before the next chunk is written: that fits.
    const std::uint32_t size =
        next_pow2(static_cast<std::size_t>(longest) + guard_frames + warmup_frames + chunk_frames + 4);
    mask = size - 1;
    delay_l.assign(size, 0.0f);
    delay_r.assign(size, 0.0f);
    required.assign(size, 1.0f);
    boxed.assign(size, quantize(1.0f));
    deque_at.assign(size, 0);
    deque_value.assign(size, 1.0f);

    const auto ramp = static_cast<std::uint32_t>(static_cast<double>(smoothing_ms) * 1e-3 * fs);
    input_gain.set_ramp_frames(ramp);
    mix.set_ramp_frames(ramp);
    input_gain.reset(db_to_gain(limiter_range(LimiterParam::gain_db).def));
    mix.reset(limiter_range(LimiterParam::enabled).def >= 0.5f ? 1.0f : 0.0f);
    enabled = mix.target() == 1.0f;
    ceiling = db_to_gain(limiter_range(LimiterParam::ceiling_dbtp).def - safety_margin_db);
    release_coef = one_pole_coefficient(limiter_range(LimiterParam::release_ms).def, fs);
    hold_refresh = db_to_gain(hold_refresh_db);
    set_geometry(lookahead_ms);
    clear();
}

void Limiter::Impl::set_geometry(float ms) noexcept {
    lookahead_ms = ms;
    latency = latency_frames_for(fs, ms);
    box_len = latency + 1 - detector_latency - guard_frames;
    window = box_len + 2 * guard_frames + 1;
    box_denominator = static_cast<double>(box_len) * gain_scale;
}

void Limiter::Impl::clear() noexcept {
    std::fill(delay_l.begin(), delay_l.end(), 0.0f);
    std::fill(delay_r.begin(), delay_r.end(), 0.0f);
    std::fill(required.begin(), required.end(), 1.0f);
    std::fill(boxed.begin(), boxed.end(), quantize(1.0f));
    det_l.reset();
    det_r.reset();
    deque_head = deque_tail = 0;
    box_sum = static_cast<std::uint64_t>(box_len) * quantize(1.0f);
    held = 1.0f;
    hold_left = 0;
    release_target = 0.0f;
    release_log2 = 0.0f;
    last_gain = 1.0f;
    min_gain = 1.0f;
    geometry_pending = false;
    stale = false;
    analysed = mask + 1;  // every entry holds the r of silence
}

// A pending lookahead change, before the chunks of a process() call. apply_geometry() needs
// `required` for every frame it may output again; after a rebuild the ring may hold fewer, and
// a rebuild with the new geometry supplies them. While stale, the next rebuild covers it.
void Limiter::Impl::update_geometry() noexcept {
    if (stale) return;
    if (analysed < latency + guard_frames + 1) rebuild();
    apply_geometry();
}

// A lookahead change: the delay jumps. Every sample still in the delay line (and its guard
// neighbours) gets at most the smallest gain any of them needs, then the normal path resumes
// with the new window and box lengths.
void Limiter::Impl::apply_geometry() noexcept {
    geometry_pending = false;
    float lowest = held;
    for (std::uint32_t k = 1; k <= latency + guard_frames + 1; ++k)
        lowest = std::min(lowest, required[(now - k) & mask]);
    held = lowest;
    hold_left = hold_frames;
    release_target = 0.0f;
    const std::uint32_t q = quantize(lowest);
    box_sum = 0;
    for (std::uint32_t k = 1; k <= box_len; ++k) {
        std::uint32_t& b = boxed[(now - k) & mask];
        b = std::min(b, q);
        box_sum += b;
    }
    deque_head = deque_tail = 0;
    for (std::uint32_t k = window - 1; k >= 1; --k) push_minimum(now - k, required[(now - k) & mask]);
}

// Brings the analysis up to date after a bypass (or for a lookahead change, see
// update_geometry()): from a neutral state (gain 1, empty minimum, a box of ones), the detectors
// and the gain loop run over the last n = D + G + 1 frames of the delay line, after the detectors
// have taken the warmup_frames before them as history. The result covers every peak detected in
// those n >= M - 1 frames, which are all the peaks whose hold window reaches the next frame, so
// the guarantee holds from the next output frame on (see limiter.hpp). The work is bounded:
// n + warmup_frames frames of analysis.
void Limiter::Impl::rebuild() noexcept {
    const std::uint32_t n = latency + guard_frames + 1;
    std::uint32_t t = now - n - warmup_frames;
    det_l.reset();
    det_r.reset();
    for (std::uint32_t left = warmup_frames; left > 0;) {
        const std::uint32_t frames = std::min(left, chunk_frames);
        load_delayed(t, frames);
        det_l.process(in_l.data(), peak_l.data(), frames);
        det_r.process(in_r.data(), peak_r.data(), frames);
        t += frames;
        left -= frames;
    }

    held = 1.0f;
    hold_left = 0;
    release_target = 0.0f;
    release_log2 = 0.0f;
    deque_head = deque_tail = 0;
    const std::uint32_t one = quantize(1.0f);
    for (std::uint32_t k = 1; k <= box_len; ++k) boxed[(t - k) & mask] = one;
    box_sum = static_cast<std::uint64_t>(box_len) * one;

    while (t != now) {
        const std::uint32_t frames = std::min(now - t, chunk_frames);
        load_delayed(t, frames);
        det_l.process(in_l.data(), peak_l.data(), frames);
        det_r.process(in_r.data(), peak_r.data(), frames);
        (void)compute_gain(t, frames);
        t += frames;
    }
    analysed = n;
    stale = false;
    geometry_pending = false;
}

inline void Limiter::Impl::push_minimum(std::uint32_t frame, float r) noexcept {
    // Values at least as large as the newcomer can never be the minimum again.
    while (deque_tail != deque_head && deque_value[(deque_tail - 1) & mask] >= r) --deque_tail;
    deque_at[deque_tail & mask] = frame;
    deque_value[deque_tail & mask] = r;
    ++deque_tail;
    while (frame - deque_at[deque_head & mask] >= window) ++deque_head;
}

// 1. Input gain and sanitising, into in_l and in_r and the delay line.
void Limiter::Impl::take_input(const float* left, const float* right, std::uint32_t frames) noexcept {
    if (input_gain.moving()) {
        input_gain.fill(gain.data(), frames);
        for (std::uint32_t i = 0; i < frames; ++i) {
            in_l[i] = sanitize(left[i] * gain[i]);
            in_r[i] = sanitize(right[i] * gain[i]);
        }
    } else {
        const float g = input_gain.current();
        for (std::uint32_t i = 0; i < frames; ++i) {
            in_l[i] = sanitize(left[i] * g);
            in_r[i] = sanitize(right[i] * g);
        }
    }
    const std::uint32_t at = now & mask;
    const std::uint32_t first = std::min(frames, mask + 1 - at);
    std::copy_n(in_l.data(), first, delay_l.data() + at);
    std::copy_n(in_r.data(), first, delay_r.data() + at);
    std::copy_n(in_l.data() + first, frames - first, delay_l.data());
    std::copy_n(in_r.data() + first, frames - first, delay_r.data());
}

// Copies frames first .. first + frames - 1 of the delay line into in_l and in_r.
void Limiter::Impl::load_delayed(std::uint32_t first, std::uint32_t frames) noexcept {
    const std::uint32_t at = first & mask;
    const std::uint32_t part = std::min(frames, mask + 1 - at);
    std::copy_n(delay_l.data() + at, part, in_l.data());
    std::copy_n(delay_r.data() + at, part, in_r.data());
    std::copy_n(delay_l.data(), frames - part, in_l.data() + part);
    std::copy_n(delay_r.data(), frames - part, in_r.data() + part);
}

// 2. The gain for frames first .. first + frames - 1, frame by frame, from peak_l and peak_r
// into gain; returns the lowest.
float Limiter::Impl::compute_gain(std::uint32_t first, std::uint32_t frames) noexcept {
    float e = held;
    float target = release_target;
    float ratio_log2 = release_log2;
    std::uint32_t hold = hold_left;
    std::uint64_t sum = box_sum;
    float lowest = 1.0f;
    for (std::uint32_t i = 0; i < frames; ++i) {
        const std::uint32_t t = first + i;
        const float peak = std::max(peak_l[i], peak_r[i]);
        const float r = peak <= ceiling ? 1.0f : ceiling / peak;
        required[t & mask] = r;
        push_minimum(t, r);
        const float m = deque_value[deque_head & mask];
        if (m <= e) {
            e = m;
            hold = hold_frames;
            target = 0.0f;  // a later release starts from here
        } else if (hold > 0) {
            // Only a peak extends the hold: with none in the window (m = 1) a gain held within
            // 0.05 dB of 1 would otherwise be held for ever.
            if (m < 1.0f && m <= e * hold_refresh)
                hold = hold_frames;
            else
                --hold;
        } else {
            // Release: log2(e / m) shrinks by release_coef per frame. It is kept as its own
            // state, because near the target a multiplicative step on e itself would fall
            // below float resolution and stall; it is recomputed only when m moves.
            if (m != target) {
                target = m;
                ratio_log2 = std::log2(e / m);
            }
            ratio_log2 *= release_coef;
            e = ratio_log2 > release_snap_log2 ? m : m * std::exp2(ratio_log2);
        }
        const std::uint32_t q = quantize(e);
        std::uint32_t& slot = boxed[t & mask];
        // The ring holds the value from `size` frames back; the box drops the one from L back.
        sum += q;
        sum -= boxed[(t - box_len) & mask];
        slot = q;
        const auto g = static_cast<float>(static_cast<double>(sum) / box_denominator);
        gain[i] = g;
        lowest = std::min(lowest, g);
    }
    held = e;
    release_target = target;
    release_log2 = ratio_log2;
    hold_left = hold;
    box_sum = sum;
    return lowest;
}

void Limiter::Impl::process_chunk(float* left, float* right, std::uint32_t frames) noexcept {
    const bool bypassed = !mix.moving() && mix.current() == 0.0f;
    // Before this chunk enters the delay line, whose oldest frames the rebuild reads.
    if (!bypassed && stale) rebuild();
    take_input(left, right, frames);
    if (bypassed) {
        // Bypass: the buffers are left untouched and the analysis pauses.
        stale = true;
        last_gain = 1.0f;
        now += frames;
        return;
    }
    det_l.process(in_l.data(), peak_l.data(), frames);
    det_r.process(in_r.data(), peak_r.data(), frames);
    const float lowest = compute_gain(now, frames);
    analysed = std::min(analysed + frames, mask + 1);

    // 3. Output: the delayed signal times the gain, crossfaded with the input while toggling.
    const std::uint32_t d = latency;
    if (!mix.moving()) {
        for (std::uint32_t i = 0; i < frames; ++i) {
            const std::uint32_t at = (now + i - d) & mask;
            left[i] = gain[i] * delay_l[at];
            right[i] = gain[i] * delay_r[at];
        }
    } else {
        for (std::uint32_t i = 0; i < frames; ++i) {
            const std::uint32_t at = (now + i - d) & mask;
            const float w = mix.next();
            left[i] = (1.0f - w) * left[i] + w * (gain[i] * delay_l[at]);
            right[i] = (1.0f - w) * right[i] + w * (gain[i] * delay_r[at]);
        }
    }
    min_gain = std::min(min_gain, lowest);
    last_gain = gain[frames - 1];
    now += frames;
}

Limiter::Limiter(double sample_rate, float smoothing_ms) : impl_(new Impl(sample_rate, smoothing_ms)) {}

Limiter::~Limiter() { delete impl_; }

std::uint32_t Limiter::latency_frames_for(double sample_rate, float lookahead_ms) noexcept {
    const double fs = sample_rate > 0.0 ? sample_rate : 48000.0;
    const auto frames = static_cast<std::uint32_t>(std::lround(static_cast<double>(lookahead_ms) * 1e-3 * fs));
    return std::max(frames, TruePeakDetector::latency_for(fs) + guard_frames + min_ramp - 1);
}

void Limiter::set(LimiterParam param, float value) noexcept {
    Impl& s = *impl_;
    const ParamRange range = limiter_range(param);
    value = std::clamp(value, range.min, range.max);
    switch (param) {
        case LimiterParam::enabled:
            s.enabled = value >= 0.5f;
            s.mix.set_target(s.enabled ? 1.0f : 0.0f);
            break;
        case LimiterParam::gain_db: s.input_gain.set_target(db_to_gain(value)); break;
        case LimiterParam::ceiling_dbtp: s.ceiling = db_to_gain(value - safety_margin_db); break;
        case LimiterParam::release_ms: s.release_coef = one_pole_coefficient(value, s.fs); break;
        case LimiterParam::lookahead_ms:
            if (latency_frames_for(s.fs, value) != s.latency) {
                s.set_geometry(value);
                s.geometry_pending = true;
            }
            break;
    }
}

void Limiter::process(float* left, float* right, std::uint32_t frames) noexcept {
    Impl& s = *impl_;
    if (s.geometry_pending) s.update_geometry();
    while (frames > 0) {
        const std::uint32_t n = std::min(frames, chunk_frames);
        s.process_chunk(left, right, n);
        left += n;
        right += n;
        frames -= n;
    }
}

void Limiter::reset() noexcept {
    Impl& s = *impl_;
    s.input_gain.reset(s.input_gain.target());
    s.mix.reset(s.mix.target());
    s.clear();
}

std::uint32_t Limiter::latency_frames() const noexcept { return impl_->enabled ? impl_->latency : 0; }

float Limiter::gain_reduction_db() const noexcept {
    return impl_->enabled ? std::min(0.0f, gain_to_db(impl_->last_gain)) : 0.0f;
}

float Limiter::max_gain_reduction_db() const noexcept { return std::min(0.0f, gain_to_db(impl_->min_gain)); }

void Limiter::reset_max() noexcept { impl_->min_gain = 1.0f; }

}  // namespace rtmix::dsp
