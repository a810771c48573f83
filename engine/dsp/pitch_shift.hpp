// PsolaShifter: pitch-synchronous overlap-add (TD-PSOLA) with a fixed latency, for the pitch
// corrector (pitch_correct.hpp).
//
// Time: the output at sample n is built around input position p = n - L (L = latency()), so the
// shifter may read up to L samples ahead of the position it builds.
//
// Grains: while a voice is active with input period T and shift ratio r, synthesis marks s_k are
// laid out every T / r samples. Each takes the analysis mark a_k nearest to it on a grid of
// input positions T apart (the grid starts at the synthesis mark where the voice starts, and the
// T and r in force when a grain is laid set both its distance from the last synthesis mark and
// the grid's step, so at r = 1 the marks coincide and the output is the input however T moves; a
// lower voice repeats grid marks, a higher one skips some). The
// grain is the input around a_k under a Hann window of 2T (two periods), placed at s_k:
//     y(p) += g w((p - s_k) / T) x(a_k + p - s_k),  w(u) = 0.5 + 0.5 cos(pi u) for |u| < 1,
// read with 4-point (Catmull-Rom) interpolation, and g = 1 / sqrt(r) keeps the power of the voice
// (grains overlap r times as densely). Each grain is a whole pitch period of the input with its
// vocal-tract response, so the spectral envelope (the formants, the vowel) stays where it was
// while the harmonics move: formants preserved. Since |a_k - s_k| <= T / 2, a grain reads at
// most T / 2 ahead of its output position: L >= T_max / 2 + 4 suffices (ceil(fs / 120) + 8,
// 408 samples or 8.5 ms at 48 kHz, for voices down to 60 Hz), far less than the 2-3 periods of
// an analysis-synthesis pitch-marking PSOLA.
//
// Without formant preservation (`formants` false) a grain is the input resampled: read at rate r
// under a window of 2T / r, y(p) += w((p - s_k) r / T) x(a_k + (p - s_k) r), which moves the
// formants with the pitch (a "chipmunk" transpose) and keeps the window sum at 1. Reads that
// would reach past the newest input (a low voice transposed up) are held at it.
//
// Idle (no voice): grains every T (the last period, 5 ms before any) with a_k = s_k and r = 1,
// whose windows sum to 1: the shifter reproduces its input, delayed by L, so a voice can start
// anywhere without a transient. The corrector crossfades to the dry path there anyway.
//
// Threads: prepare() allocates (control side); the rest is wait-free.
#pragma once

#include <array>
#include <cstdint>

#include "dsp/pitch_detect.hpp"

namespace rtmix::dsp {

class PsolaShifter {
public:
    /// Latency L in samples at `fs`, for voices down to `min_hz`.
    static std::uint32_t latency_for(double fs, double min_hz) noexcept;

    /// `max_period`: the longest T. Allocates nothing (the input ring is the caller's).
    void prepare(double fs, double max_period, std::uint32_t latency);
    void reset() noexcept;
    std::uint32_t latency() const noexcept { return latency_; }

    /// The voice from now on: period `period` (> 0) shifted by `ratio`; or idle (active false).
    void set_voice(bool active, double period, double ratio, bool formants) noexcept {
        active_ = active;
        if (period > 0.0) period_ = period;
        ratio_ = ratio >= 0.125 ? (ratio <= 8.0 ? ratio : 8.0) : 0.125;  // NaN: the lowest
        formants_ = formants;
    }
    /// The next output sample; `in` must have received the input sample n (its newest).
    float next(const MirrorRing& in) noexcept;

private:
    struct Grain {
        double s = 0.0, a = 0.0;  // synthesis and analysis positions (absolute input samples)
        double half = 1.0;        // half the window length at the output
        double rate = 1.0;        // input samples read per output sample
        float gain = 1.0f;
        bool live = false;
    };
    void spawn() noexcept;
    float read(const MirrorRing& in, double q) const noexcept;
    double next_half() const noexcept;
    double spacing() const noexcept;

    static constexpr std::uint32_t max_grains = 16;
    static constexpr std::uint32_t table_size = 1024;
    std::array<Grain, max_grains> grains_{};
    std::array<float, table_size + 2> hann_{};
    std::uint32_t latency_ = 0;
    double max_period_ = 0.0;
    double period_ = 240.0;
    double default_period_ = 240.0;
    double ratio_ = 1.0;
    bool active_ = false, formants_ = true;
    double last_s_ = 0.0;   // the last grain's synthesis mark
    double grid_ = 0.0;     // the last grain's analysis mark
    bool grid_valid_ = false;
};

}  // namespace rtmix::dsp
