// MasterChain: what runs after the master strip, before the host's output: the lookahead
// true-peak limiter, then the loudness meter (ITU-R BS.1770-4 / EBU R128).
//
// The limiter's parameters arrive as the limiter kind's (processors/limiter.hpp), followed by the
// master's `enabled` (master_limiter_params()), its full bypass. The meter's readings are published at every 100 ms boundary of audio through a FloatSlot.
//
// The meter is written here rather than taken from libebur128 (which measures offline: the
// renderer and `rtmix analyze`). libebur128 sums its whole window whenever it forms a block: a
// 400 ms gating block every 100 ms and a 3 s short-term block every second for the loudness range,
// about 17 us and 130 us at 48 kHz, on top of 17 us and 130 us for each momentary or short-term
// query. On the audio thread those are spikes: an empty mix at 64 frames went from a p99.9 of
// 26 us to 159 us per block. Here the same quantities come from running sums:
// - K-weighting per sample (BS.1770-4: a high shelf of about +4 dB above 1.5 kHz, then a highpass
//   near 38 Hz), derived for any sample rate from the filters' analogue parameters;
// - the energy of each 100 ms sub-block; momentary = the last 4 (400 ms), short-term = the last
//   30 (3 s): the 75 %-overlapping gating blocks of BS.1770-4 are exactly the momentary windows;
// - integrated: every gating block above -70 LUFS goes into a histogram of 0.1 LU bins that keeps
//   each bin's count and exact energy sum; the relative gate (-10 LU) and the mean are computed
//   from it when published. The bin the relative gate falls in counts whole: only blocks within
//   0.1 LU under the gate can be counted that should not;
// - loudness range (EBU Tech 3342): the short-term values, every 100 ms once 3 s have passed, in
//   a second histogram; absolute gate -70 LUFS, relative gate -20 LU, then the 10th to 95th
//   percentile, at bin centres (0.1 LU);
// - true peak: dsp::TruePeakDetector per channel (8x oversampling).
// A reset clears all of it in place.
//
// Threads: the constructor allocates (control side); apply(), process() and reset_meters() are
// wait-free, on the audio thread; read() is lock-free, on the control side.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "control/meter_slot.hpp"
#include "control/param_change.hpp"
#include "dsp/limiter.hpp"
#include "dsp/true_peak.hpp"
#include "rtmix/engine.hpp"

namespace rtmix::engine {

class MasterChain final : public RtObject {
public:
    MasterChain(double sample_rate, float smoothing_ms, bool loudness_meter);

    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override;
    /// Limits and measures one block of the master in place.
    void process(float* left, float* right, std::uint32_t frames) noexcept;
    /// Audio thread: starts a new loudness measurement and clears the limiter's maximum.
    void reset_meters() noexcept;
    /// Before the first frame of a mix: the limiter at rest at its settings (its ramps ended).
    void settle() noexcept { limiter_.reset(); }

    bool has_loudness_meter() const noexcept { return loudness_; }
    MasterLoudness read() const noexcept;

private:
    struct Biquad {
        double b0, b1, b2, a1, a2;
    };
    /// Loudness histogram: 0.1 LU bins from -70 LUFS up (the top bin takes everything louder).
    struct Histogram {
        static constexpr double floor_lufs = -70.0, step_lu = 0.1;
        static constexpr std::size_t bins = 1000;  // -70 ... +30 LUFS
        std::vector<std::uint32_t> count = std::vector<std::uint32_t>(bins, 0);
        std::vector<double> energy = std::vector<double>(bins, 0.0);
        void add(double mean_square) noexcept;
        void clear() noexcept;
        double centre(std::size_t bin) const noexcept { return floor_lufs + (static_cast<double>(bin) + 0.5) * step_lu; }
        std::size_t bin_of(double lufs) const noexcept;
        /// The bin of the relative gate, `gate_lu` below the loudness of everything counted (the
        /// blocks past the absolute gate); false when nothing was counted.
        bool relative_gate(double gate_lu, std::size_t& bin) const noexcept;
    };
    static constexpr std::size_t short_term_blocks = 30;  // 3 s of 100 ms sub-blocks

    void measure(const float* left, const float* right, std::uint32_t frames) noexcept;
    void end_sub_block() noexcept;
    float integrated() const noexcept;
    float range() const noexcept;
    void publish() noexcept;
    void clear() noexcept;

    dsp::Limiter limiter_;
    bool loudness_;
    std::uint32_t sub_block_;  // frames in 100 ms
    std::uint32_t in_sub_block_ = 0;

    Biquad shelf_{}, highpass_{};
    double state_[2][4] = {};  // per channel: shelf z1, z2, highpass z1, z2
    double energy_ = 0.0;      // K-weighted energy of the sub-block under way
    std::array<double, short_term_blocks> blocks_{};
    std::size_t newest_ = 0;
    std::uint64_t sub_blocks_seen_ = 0;
    float momentary_ = -HUGE_VALF, short_term_ = -HUGE_VALF;
    Histogram gating_, short_terms_;
    dsp::TruePeakDetector detector_[2];
    float true_peak_ = 0.0f, sample_peak_ = 0.0f;
    std::uint32_t tp_skip_ = 0;  // detector estimates still to skip: those for audio before a reset

    FloatSlot<8> slot_;
};

}  // namespace rtmix::engine
