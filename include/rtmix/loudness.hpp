// rtmix::LoudnessMeter and rtmix::analyze_file: offline loudness measurement per ITU-R BS.1770-4
// and EBU R128 (integrated loudness, loudness range, true peak, momentary and short-term maxima),
// computed by libebur128 in its exact (non-histogram) mode.
//
//   rtmix::LoudnessMeter meter(48000, 2);
//   meter.add(channels, frames);                 // as often as needed; channels deinterleaved
//   rtmix::Loudness l = meter.result();          // l.integrated_lufs, l.true_peak_dbtp, ...
//
//   rtmix::FileLoudness f = rtmix::analyze_file("master.wav");   // throws rtmix::LoudnessError
//
// Channels are weighted by their count, as files carry no reliable layout:
//   1        one channel played on two speakers (dual mono): a mono file measures like the stereo
//            file with that channel on both sides, so a mono sine at -23 dBFS reads -23 LUFS;
//   2        left, right;
//   3        left, right, centre;
//   4        left, right, left surround, right surround (surrounds weighted +1.5 dB);
//   5        left, right, centre, left surround, right surround (5.0);
//   6        left, right, centre, LFE, left surround, right surround (5.1 in WAV/SMPTE order; the
//            LFE channel is not counted);
//   7 to 64  the first six as 5.1, every further channel counted with weight 1 (0 dB).
// Silence measures -infinity (integrated, peaks, maxima) and a loudness range of 0.
//
// Control side only: the meter allocates. Link rtmix::session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rtmix {

/// Loudness per ITU-R BS.1770-4 and EBU R128 (Tech 3341, 3342).
struct Loudness {
    double integrated_lufs = 0;      ///< gated programme loudness; -infinity for silence
    double range_lu = 0;             ///< EBU Tech 3342 loudness range (0 when undefined)
    double true_peak_dbtp = 0;       ///< max over channels, 8x oversampled (BS.1770-4 Annex 2 asks 4x); -inf for silence
    double sample_peak_dbfs = 0;     ///< max |sample| over channels; -inf for silence
    double max_momentary_lufs = 0;   ///< highest 400 ms loudness, read every 100 ms; -inf for silence
    double max_short_term_lufs = 0;  ///< highest 3 s loudness, read every 100 ms; -inf for silence
};

/// Measures a stream offline (control side; allocates). Channels are deinterleaved.
///
/// The momentary and short-term loudness are read after every 100 ms of input (the rate's
/// frames, rounded: 4410 at 44.1 kHz, 4800 at 48 kHz), counted from the first frame. Windows that
/// reach back before the first frame count the missing part as silence, so the first readings
/// (momentary before 400 ms, short-term before 3 s) are lower than the signal's level. The input
/// may be split into blocks of any size: the figures and curves come out the same.
///
/// A moved-from meter can only be destroyed or assigned to.
class LoudnessMeter {
public:
    /// Throws std::invalid_argument for a rate outside 16 Hz .. 2.8224 MHz or channels outside
    /// 1..64. `keep_curve` keeps the readings for momentary_curve() and short_term_curve().
    LoudnessMeter(double sample_rate, unsigned channels, bool keep_curve = false);
    ~LoudnessMeter();
    LoudnessMeter(LoudnessMeter&&) noexcept;
    LoudnessMeter& operator=(LoudnessMeter&&) noexcept;
    LoudnessMeter(const LoudnessMeter&) = delete;
    LoudnessMeter& operator=(const LoudnessMeter&) = delete;

    /// Adds `frames` frames: `channels[c]` points at channel c's samples (full scale is 1.0).
    void add(const float* const* channels, std::size_t frames);
    /// The figures of everything added so far (the meter can go on after this).
    Loudness result() const;

    static constexpr double curve_step_s = 0.1;
    /// What the curves hold where the loudness is below it, silence included: the absolute gate
    /// of BS.1770 (blocks quieter than -70 LUFS never count towards the integrated loudness).
    static constexpr float curve_floor_lufs = -70.0f;
    /// One value per complete 100 ms of input (when keep_curve): entry k is the loudness of the
    /// window that ends (k + 1) * curve_step_s seconds into the stream, at least curve_floor_lufs.
    const std::vector<float>& momentary_curve() const;
    const std::vector<float>& short_term_curve() const;

    double sample_rate() const noexcept;
    unsigned channels() const noexcept;
    /// Frames added so far.
    std::uint64_t frames() const noexcept;

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// The loudness of an audio file, and its curves (see LoudnessMeter).
struct FileLoudness {
    std::string path;
    double sample_rate = 0;
    unsigned channels = 0;
    std::uint64_t frames = 0;
    Loudness loudness;
    std::vector<float> momentary, short_term;  ///< one value per 100 ms
};

/// A file that cannot be measured (missing, not audio, unreadable midway); the message names it.
class LoudnessError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Reads a file with libsndfile (integer samples scaled to full scale 1.0) and measures it;
/// throws LoudnessError naming the path.
FileLoudness analyze_file(const std::string& path);

}  // namespace rtmix
