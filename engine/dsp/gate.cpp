#include "dsp/gate.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "dsp/db.hpp"
#include "dsp/fast_math.hpp"

namespace rtmix::dsp {

namespace {
// Amplitude of -200 dB: lower peaks count as -200 dB.
constexpr float silence_amplitude = 1e-10f;
// dB per octave of amplitude (20 log10 2), and octaves per dB (its inverse), as in db.hpp.
constexpr float amplitude_db_per_octave = 6.020599913279624f;
constexpr float octaves_per_db = 0.16609640474436813f;
// A gain this close to its target at the end of a chunk becomes the target (see gate.hpp, Rest):
// the gain moves by at most 1.2e-7 (a float step at 1), and an opening from -100 dB comes to rest
// after about 19 attack times.
constexpr double rest_db = 1e-6;
// Margin below the level where a closed gate's target reaches the range, for the closed-at-rest
// shortcut: far above the error of fast_log2 (4.8e-5 dB).
constexpr float closed_rest_margin_db = 0.01f;

/// One pole's c = exp(-1 / (t fs)) for t in milliseconds, in double.
double pole(float time_ms, double sample_rate) noexcept {
    return std::exp(-1000.0 / (static_cast<double>(time_ms) * sample_rate));
}

/// Runs body(i) for i = 0 ... n - 1. A loop of a known count of frames (a whole chunk, the usual
/// case) is a separate copy, which GCC vectorizes at -O2: its "very cheap" cost model only takes
/// loops whose trip count is a known multiple of the vector width.
constexpr std::uint32_t whole_chunk = 64;
template <typename Body>
inline void for_frames(std::uint32_t n, Body&& body) {
    if (n == whole_chunk) {
        for (std::uint32_t i = 0; i < whole_chunk; ++i) body(i);
    } else {
        for (std::uint32_t i = 0; i < n; ++i) body(i);
    }
}
}  // namespace

void Gate::prepare(double sample_rate) {
    sample_rate_ = sample_rate;
    set(settings_);
    reset();
}

void Gate::set(const GateSettings& in) noexcept {
    // clamp_by_order: a NaN setting clamps to an end of its range instead of poisoning the state.
    GateSettings s;
    s.threshold_db = clamp_by_order(in.threshold_db, -200.0f, 60.0f);
    s.range_db = clamp_by_order(in.range_db, -100.0f, 0.0f);
    s.ratio = clamp_by_order(in.ratio, 1.0f, 100.0f);
    s.attack_ms = clamp_by_order(in.attack_ms, 0.05f, 100.0f);
    s.hold_ms = clamp_by_order(in.hold_ms, 0.0f, 2000.0f);
    s.release_ms = clamp_by_order(in.release_ms, 1.0f, 5000.0f);
    s.hysteresis_db = clamp_by_order(in.hysteresis_db, 0.0f, 20.0f);
    settings_ = s;
    attack_coef_ = pole(s.attack_ms, sample_rate_);
    release_coef_ = pole(s.release_ms, sample_rate_);
    hold_frames_ = static_cast<std::uint32_t>(std::lround(static_cast<double>(s.hold_ms) * sample_rate_ / 1000.0));
    hold_ = std::min(hold_, hold_frames_);
    slope_ = s.ratio - 1.0f;
    // The state compares amplitudes (floored at silence_amplitude) with these, which is L >= T and
    // L >= T - H to a float step of the amplitude (1e-6 dB).
    open_level_ = db_to_gain(s.threshold_db);
    close_level_ = db_to_gain(s.threshold_db - s.hysteresis_db);
    // A closed gate's target is the range for L <= T + range / (ratio - 1); with a margin for the
    // error of the level's fast_log2, a peak at or below this surely gives it. At ratio 1 the
    // target is 0, never the range (unless that is 0 too): -1 disables the shortcut.
    closed_rest_level_ = slope_ > 0.0f ? db_to_gain(s.threshold_db + s.range_db / slope_ - closed_rest_margin_db) : -1.0f;
}

void Gate::reset() noexcept {
    open_ = false;
    hold_ = 0;
    g_db_ = settings_.range_db;
    chunk_phase_ = 0;
    block_min_db_ = settings_.range_db;
}

void Gate::process(float* const* buffers, std::uint32_t channels, std::uint32_t frames, const float* const* key,
                   std::uint32_t key_channels) noexcept {
    const bool keyed = key != nullptr && key_channels > 0;
    const float* const* detect = keyed ? key : buffers;
    const std::uint32_t detect_channels = keyed ? key_channels : channels;
    block_min_db_ = frames > 0 ? 0.0f : static_cast<float>(g_db_);
    // Chunks are aligned to the stream: each ends where a multiple of chunk_frames frames since the
    // last reset does.
    for (std::uint32_t pos = 0, n = 0; pos < frames; pos += n) {
        n = std::min(chunk_frames - chunk_phase_, frames - pos);
        process_chunk(buffers, channels, detect, detect_channels, pos, n);
    }
}

void Gate::process_chunk(float* const* buffers, std::uint32_t channels, const float* const* detect,
                         std::uint32_t detect_channels, std::uint32_t pos, std::uint32_t n) noexcept {
    static_assert(chunk_frames == whole_chunk);
    const bool chunk_ends = chunk_phase_ + n == chunk_frames;
    chunk_phase_ = chunk_ends ? 0 : chunk_phase_ + n;

    // Detector: the largest |x| of the channels per frame, at least the amplitude of -200 dB.
    float peak[chunk_frames];
    std::fill_n(peak, chunk_frames, silence_amplitude);
    for (std::uint32_t ch = 0; ch < detect_channels; ++ch) {
        const float* x = detect[ch] + pos;
        for_frames(n, [&](std::uint32_t i) { peak[i] = max_non_negative(peak[i], std::fabs(x[i])); });
    }
    const float open_level = open_level_, close_level = close_level_;

    // Open at rest: if the gate stays open through the chunk, the target and the gain stay 0 dB
    // and a gain of exactly 1 leaves the audio as it is; only the hold counter moves. It is
    // followed here without branches (any level at or above T - H fills it, as T >= T - H); a
    // count below 0 means the gate closed, and the full pass below takes the chunk.
    if (open_ && g_db_ == 0.0) {
        const auto full = static_cast<std::int32_t>(hold_frames_);
        auto hold = static_cast<std::int32_t>(hold_);
        std::int32_t least = hold;
        for_frames(n, [&](std::uint32_t i) {
            hold = peak[i] >= close_level ? full : hold - 1;
            least = std::min(least, hold);
        });
        if (least >= 0) {
            hold_ = static_cast<std::uint32_t>(hold);
            return;
        }
    }

    // Closed at rest at the range: no level opens the gate and every level is far enough below
    // the threshold that its target is the range, which the gain already is (then the filter
    // gives g = range + c * 0 = range on every sample): one constant gain.
    const float range = settings_.range_db;
    if (!open_ && g_db_ == static_cast<double>(range)) {
        int moves = 0;
        const float rest_level = closed_rest_level_;
        for_frames(n, [&](std::uint32_t i) { moves |= peak[i] > rest_level ? 1 : 0; });
        if (moves == 0) {
            block_min_db_ = std::min(block_min_db_, range);
            const float gain = fast_exp2(range * octaves_per_db);
            for (std::uint32_t ch = 0; ch < channels; ++ch) {
                float* x = buffers[ch] + pos;
                for_frames(n, [&](std::uint32_t i) { x[i] *= gain; });
            }
            return;
        }
    }

    // The target a closed gate would have at each level (definition 3), branch-free. Below the
    // threshold slope * (level - threshold) <= 0, so the clamp is max(range, ...).
    const float threshold = settings_.threshold_db;
    const float slope = slope_;
    float closed_target[chunk_frames];
    for (std::uint32_t i = 0; i < chunk_frames; ++i) {  // all of them: a fixed count vectorizes
        const float level_db = amplitude_db_per_octave * fast_log2(peak[i]);
        closed_target[i] = clamp_by_order(slope * (level_db - threshold), range, 0.0f);
    }

    // The serial pass: state (definition 2) and the attack/release filter (definition 4), written
    // as g = t + c (g - t), which is exactly t once g is t. The two candidates, with the attack
    // and with the release coefficient, differ by (c_attack - c_release) (g - t): with the attack
    // the faster (smaller c), the right one is always the larger (rounding is monotonic, so also
    // in floating point), else always the smaller. So a max or min picks it without a
    // data-dependent branch (the target crosses g often while expanding noise), and the chain
    // from one sample's g to the next is a subtract, a multiply, an add and the max or min.
    bool open = open_;
    std::uint32_t hold = hold_;
    double g = g_db_;
    float lowest = block_min_db_;
    float target = 0.0f;
    const std::uint32_t hold_frames = hold_frames_;
    const double attack = attack_coef_, release = release_coef_;
    float gain[chunk_frames];  // in dB, then as a factor
    const auto serial = [&](auto attack_is_faster) {
        for (std::uint32_t i = 0; i < n; ++i) {
            const float p = peak[i];
            if (p >= open_level) {
                open = true;
                hold = hold_frames;
            } else if (open) {
                if (p >= close_level)
                    hold = hold_frames;
                else if (hold == 0)
                    open = false;
                else
                    --hold;
            }
            target = open ? 0.0f : closed_target[i];
            const double d = g - target;
            const double to_attack = target + attack * d;
            const double to_release = target + release * d;
            g = attack_is_faster ? std::max(to_attack, to_release) : std::min(to_attack, to_release);
            const auto gain_db = static_cast<float>(g);
            lowest = std::min(lowest, gain_db);
            gain[i] = gain_db;
        }
    };
    if (attack <= release)
        serial(std::true_type{});
    else
        serial(std::false_type{});
    if (chunk_ends && std::fabs(g - target) < rest_db) g = target;
    open_ = open;
    hold_ = hold;
    g_db_ = g;
    block_min_db_ = lowest;

    std::fill(gain + n, gain + chunk_frames, 0.0f);
    for (std::uint32_t i = 0; i < chunk_frames; ++i) gain[i] = fast_exp2(gain[i] * octaves_per_db);
    for (std::uint32_t ch = 0; ch < channels; ++ch) {
        float* x = buffers[ch] + pos;
        for_frames(n, [&](std::uint32_t i) { x[i] *= gain[i]; });
    }
}

}  // namespace rtmix::dsp
