// Parametric EQ: up to 8 bands in series, each a trapezoidal-integrated state-variable filter.
//
// Why this topology: the SVF solved with the trapezoidal rule (Zavalishin, "The Art of VA Filter
// Design"; the form popularised by Andrew Simper) stays stable however fast its coefficients move,
// unlike a direct-form biquad, so frequency, gain and Q can be automated without clicks or blow-ups.
// Each response (peak, shelves, notch, 12 dB/oct pass) is the bilinear transform of the classic
// analog prototype, pre-warped at the band frequency: the same magnitude response as the RBJ
// "Audio EQ Cookbook" filters. 24 dB/oct passes cascade two stages as a 4th-order Butterworth.
//
// Threads: every member is wait-free and allocation-free; all run on the audio thread.
#pragma once

#include <array>
#include <cstdint>

namespace rtmix::dsp {

enum class EqType : std::uint8_t { off, highpass, lowpass, lowshelf, highshelf, peak, notch };

constexpr std::uint32_t max_eq_bands = 8;
constexpr std::uint32_t max_channels = 2;

/// The settings of one band. `slope_db_oct` (12 or 24) matters for highpass and lowpass only;
/// a 24 dB/oct pass is a Butterworth and ignores `q`. `gain_db` matters for peak and shelves.
struct EqBandSettings {
    EqType type = EqType::off;
    float freq_hz = 1000.0f;
    float gain_db = 0.0f;
    float q = 0.70710678f;
    std::uint8_t slope_db_oct = 12;
};

/// Coefficients of one SVF stage: g = tan(pi f / fs) (possibly shelf-adjusted), k = 1 / Q, and the
/// output mix y = m0 * input + m1 * bandpass + m2 * lowpass.
struct SvfCoefficients {
    float a1 = 1.0f, a2 = 0.0f, a3 = 0.0f;
    float m0 = 1.0f, m1 = 0.0f, m2 = 0.0f;
};

/// Coefficients of both stages of a band for `settings` at `sample_rate`. Pure function.
void design_band(const EqBandSettings& settings, double sample_rate, SvfCoefficients& stage1,
                 SvfCoefficients& stage2, bool& two_stages) noexcept;

/// One band: settings smoothed toward their target, two SVF stages per channel.
class EqBand {
public:
    void prepare(double sample_rate, float smoothing_ms) noexcept;
    /// New target settings; frequency, gain and Q glide there over the smoothing time. A change of
    /// type or slope (including turning the band on or off) fades the old response out, switches,
    /// and fades the new one in, each over the smoothing time. The glide moves in steps of 16
    /// frames counted from the change, and a fade switches on the exact frame it ends, so the
    /// output does not depend on how the stream is cut into blocks.
    void set(const EqBandSettings& target) noexcept;
    const EqBandSettings& target() const noexcept { return target_; }
    /// Filters `frames` samples of `channels` buffers in place. Wait-free.
    void process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept;
    /// Clears the filter state (the settings, glides and fades stay).
    void reset() noexcept;
    /// Rest at the target: glide and fade finished, the filter state cleared.
    void settle() noexcept;

private:
    friend class Equalizer;
    /// Neither gliding nor fading: the band is a fixed filter for now.
    bool steady() const noexcept { return !gliding_ && fade_left_ == 0 && !switch_pending_; }
    void update_coefficients() noexcept;
    void step_toward_target() noexcept;
    void begin_glide() noexcept;
    void fade_to(float wet) noexcept;
    void switch_to_target() noexcept;

    EqBandSettings target_{};
    EqBandSettings current_{};
    SvfCoefficients stage_[2]{};
    bool two_stages_ = false;
    bool gliding_ = false;
    // Integrator states [stage][channel][2].
    float ic_[2][max_channels][2]{};
    double sample_rate_ = 48000.0;
    std::uint32_t glide_steps_left_ = 0;
    std::uint32_t glide_steps_ = 1;
    std::uint32_t step_phase_ = 0;  // frames run since the glide's last step
    // Type-change fade: the band outputs dry + wet * (filtered - dry).
    float wet_ = 1.0f;
    float wet_target_ = 1.0f;
    float wet_step_ = 0.0f;
    std::uint32_t fade_left_ = 0;  // frames
    std::uint32_t fade_frames_ = 1;
    bool switch_pending_ = false;  // fading out, then switching to target_'s type
};

/// The bands of one strip, run in order.
///
/// When every active band is steady (no glide, no type fade) and the strip is stereo, all their
/// SVF stages run in one loop over the samples instead of one pass per band: the stages' state
/// chains are independent, so the CPU overlaps them (one band alone is bound by the latency of its
/// recursion) and the samples stay in registers between bands. The arithmetic is the same,
/// operation for operation, so the output is identical to band-by-band processing.
class Equalizer {
public:
    void prepare(double sample_rate, float smoothing_ms) noexcept;
    EqBand& band(std::uint32_t index) noexcept { return bands_[index]; }
    void process(float* const* buffers, std::uint32_t channels, std::uint32_t frames) noexcept;
    /// Every band at rest at its target settings (EqBand::settle()).
    void reset() noexcept;

    /// For a run in lanes (eq_lanes.hpp): when every band is steady, the active SVF stages of
    /// channel `channel` in order (their coefficients and integrator states) and true; false
    /// while a band glides or fades (then process() must run it). Stages fill at most
    /// 2 * max_eq_bands entries; `count` may be 0 (every band off).
    bool steady_stages(std::uint32_t channel, const SvfCoefficients** coefficients, float** states,
                       std::uint32_t& count) noexcept;

private:
    std::array<EqBand, max_eq_bands> bands_{};
};

}  // namespace rtmix::dsp
