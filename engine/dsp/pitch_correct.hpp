// PitchCorrector: pitch correction ("autotune") of a mono voice: the detector (pitch_detect.hpp)
// finds its period, a note of the scale is chosen, the correction towards it is smoothed, and the
// PSOLA shifter (pitch_shift.hpp) moves the voice there, keeping its formants.
//
// Per hop of H = round(fs / 375) samples (128 at 48 kHz), on the stream's own clock (so the
// output does not depend on the block sizes):
//  1. The detector's estimate of the input period T, with its voicing decision. Its fine window
//     ends near the input the shifter reads next, up to L samples ahead of the output.
//  2. The input note m = 69 + 12 log2(fs / (T a4_hz)) (MIDI numbers, fractional). The target is
//     the note n of the scale nearest to m; the note of the previous hop is kept while
//     |m - n_prev| <= |m - n| + hold_cents / 100, so a held note does not flip between neighbours.
//     Scale: `key` and `scale` (13 scales and modes), or `notes`, a 12-bit set of pitch classes
//     (bit 0 = C ... bit 11 = B) for scale = custom.
//  3. The correction c (cents) follows amount x 100 (n - m) through a one-pole filter of time
//     constant speed_ms (0: at once), c += (1 - exp(-H / (speed fs))) (target - c); it starts at 0
//     when a voice starts. The shift is c + 100 transpose cents, ratio r = 2^(shift / 1200).
//  4. The shifter receives (voiced, T, r). Unvoiced hops (noise, breaths, consonants, silence,
//     chords: see the detector) leave it idle.
// Per sample: out = dry + v (wet - dry), dry the input delayed by L, wet the shifter's output,
// v the voicing crossfade (linear, 5 ms). While v is 0 the output is the input delayed by L, bit
// for bit: unvoiced sound and silence pass untouched.
//
// Latency: L = ceil(fs / 120) + 8 samples whatever the settings (408 at 48 kHz, 8.5 ms), the
// shifter's lookahead for periods down to 60 Hz (the lowest min_hz).
//
// Meters (read on the audio thread after process()): detected pitch, target note, correction.
//
// Threads: prepare() allocates (control side); set(), process() and reset() are wait-free.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "dsp/pitch_detect.hpp"
#include "dsp/pitch_shift.hpp"

namespace rtmix::dsp {

/// Pitch class names, C = 0.
inline constexpr std::array<std::string_view, 12> pitch_class_names = {"C",  "C#", "D",  "D#", "E",  "F",
                                                                        "F#", "G",  "G#", "A",  "A#", "B"};
/// Scales: name and the semitones above the key (bit i = i semitones); "custom" uses `notes`.
struct ScaleInfo {
    std::string_view name;
    std::uint16_t intervals;
};
inline constexpr std::array<ScaleInfo, 14> scales = {{
    {"chromatic", 0xFFF},
    {"major", 0b101010110101},          // 0 2 4 5 7 9 11
    {"minor", 0b010110101101},          // 0 2 3 5 7 8 10
    {"dorian", 0b011010101101},         // 0 2 3 5 7 9 10
    {"phrygian", 0b010110101011},       // 0 1 3 5 7 8 10
    {"lydian", 0b101011010101},         // 0 2 4 6 7 9 11
    {"mixolydian", 0b011010110101},     // 0 2 4 5 7 9 10
    {"locrian", 0b010101101011},        // 0 1 3 5 6 8 10
    {"harmonic_minor", 0b100110101101}, // 0 2 3 5 7 8 11
    {"melodic_minor", 0b101010101101},  // 0 2 3 5 7 9 11
    {"major_pentatonic", 0b001010010101},  // 0 2 4 7 9
    {"minor_pentatonic", 0b010010101001},  // 0 3 5 7 10
    {"blues", 0b010011101001},          // 0 3 5 6 7 10
    {"custom", 0},
}};
inline constexpr std::uint16_t custom_scale = 13;

/// The pitch classes (bit 0 = C) of `scale` in `key`, or `notes` for the custom scale.
constexpr std::uint16_t scale_mask(std::uint32_t key, std::uint32_t scale, std::uint16_t notes) noexcept {
    if (scale >= scales.size() || scale == custom_scale) return static_cast<std::uint16_t>(notes & 0xFFF);
    const std::uint32_t rel = scales[scale].intervals;
    return static_cast<std::uint16_t>(((rel << (key % 12)) | (rel >> (12 - key % 12))) & 0xFFF);
}

struct PitchSettings {
    std::uint32_t key = 0;    // 0 = C ... 11 = B
    std::uint32_t scale = 0;  // index in `scales`
    std::uint16_t notes = 0xFFF;
    float a4_hz = 440.0f;
    float speed_ms = 20.0f;
    float amount = 1.0f;
    float hold_cents = 20.0f;
    float min_hz = 60.0f, max_hz = 1200.0f;
    float transpose = 0.0f;  // semitones
    bool formants = true;
};

class PitchCorrector {
public:
    /// The lowest detectable pitch any setting allows; it sets the latency.
    static constexpr double lowest_hz = 60.0;
    static std::uint32_t latency_frames(double fs) noexcept { return PsolaShifter::latency_for(fs, lowest_hz); }

    void prepare(double fs);
    void set(const PitchSettings& s) noexcept;
    void process(float* audio, std::uint32_t frames) noexcept;
    void reset() noexcept;
    std::uint32_t latency() const noexcept { return latency_; }

    /// Meters: the input's pitch in Hz (0 when unvoiced), the target note (MIDI number, -1 when
    /// none) and the correction applied, in cents (without the transpose).
    float detected_hz() const noexcept { return detected_hz_; }
    int target_note() const noexcept { return target_; }
    float correction_cents() const noexcept { return static_cast<float>(correction_); }

private:
    void analyse() noexcept;

    double fs_ = 48000.0;
    PitchSettings s_{};
    std::uint16_t mask_ = 0xFFF;
    std::uint32_t latency_ = 0, hop_ = 128, hop_phase_ = 0;
    MirrorRing in_;
    PitchDetector detector_;
    PsolaShifter shifter_;
    bool voiced_ = false;
    int target_ = -1;
    double correction_ = 0.0;
    double period_ = 0.0;
    float detected_hz_ = 0.0f;
    float fade_ = 0.0f, fade_step_ = 0.0f;
};

}  // namespace rtmix::dsp
