// rtmix::render: the offline renderer. Plays a Session's stems through an Engine as fast as the
// machine allows and writes the stereo master to a file.
//
//   rtmix::RenderOptions options;
//   options.output = "master.wav";
//   rtmix::RenderSummary summary = rtmix::render(session, options);   // throws rtmix::RenderError
//
// The file is written aside (a hidden temporary in the same folder) and renamed into place only
// when complete: an error or a cancel never leaves a broken file and never touches one that stood
// there before. Link rtmix::session.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rtmix/loudness.hpp"
#include "rtmix/session.hpp"

namespace rtmix {

/// A render that could not finish (a stem unreadable midway, the disk full, cancelled). The
/// message names the file; the destination was left as it was.
class RenderError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Options that cannot work: a negative start, FLAC with float samples, a start past the end of
/// the session. Nothing was written.
class RenderOptionsError : public RenderError {
public:
    using RenderError::RenderError;
};

struct RenderProgress {
    std::uint64_t frames_done = 0;   ///< master frames rendered so far (from time 0, see start_s)
    std::uint64_t frames_total = 0;  ///< frames from time 0 to the end (the tail's length is not known ahead)
    bool in_tail = false;            ///< the stems have ended; effects are ringing out
    std::uint32_t pass = 1;          ///< loudness normalization renders the mix more than once
    bool writing = true;             ///< false: a measuring pass (nothing is written)
};

struct RenderOptions {
    /// wav, flac, aiff; Ogg Vorbis, Ogg Opus (8 to 48 kHz sessions only) and MP3, which are lossy
    /// and take float samples (`sample` and `dither` do not apply); f32, headerless 32-bit float
    /// little-endian samples, interleaved (raw, as sox's `-t f32`).
    enum class Format { wav, flac, aiff, ogg, opus, mp3, f32 };
    enum class Sample { int16, int24, float32 };
    /// Dither for integer files (float files are never dithered): none (rounding), tpdf
    /// (triangular, 2 LSB peak to peak) or shaped (TPDF inside a noise-shaping loop designed for the
    /// rate: the noise follows the threshold of hearing; 44.1 to 96 kHz, refused at other rates).
    enum class Dither { none, tpdf, shaped };

    /// The file to write: a regular file (or a new name) is written aside and renamed over it
    /// when complete (through a symbolic link: the file it points to, in that file's folder). A
    /// FIFO or a character device is written through, never replaced, and so is the standard
    /// output, named "-" or "/dev/stdout": WAV then has unknown lengths in its header (filled in
    /// when it is a regular file), AIFF is refused. The session file and its stems are refused.
    std::filesystem::path output;
    /// Refuse to replace an existing output file (checked before the render and at the rename).
    bool no_clobber = false;
    Format format = Format::wav;
    Sample sample = Sample::int24;
    Dither dither = Dither::tpdf;
    /// Bring the master to this loudness under this true-peak ceiling (overrides the session's
    /// [master.loudness]): renders measure the mix first, then drive the master limiter.
    std::optional<LoudnessTarget> loudness;
    /// With a loudness target: stop when within this many LU of it.
    double loudness_tolerance_lu = 0.1;
    /// With a loudness target: warn when the limiter has to take off more than this (dB).
    double limiting_warning_db = 4.0;
    /// Where on the session's timeline the output starts, in seconds (>= 0). The mix runs from
    /// time 0 all the same (what sounded before rings into the start), so the output is exactly
    /// that span of a full render.
    double start_s = 0.0;
    /// How much of the timeline to render, in seconds; by default up to the end of the last stem.
    /// A length is exact: the file holds that many seconds (no tail unless `tail_s` asks for one).
    /// `start_s` must lie before the end of the last stem, with or without a length.
    std::optional<double> length_s;
    /// How long effects ring out after that, in seconds; by default until the master is silent
    /// (below -100 dBFS for `silence_window_s`), at most `max_tail_s`; with `length_s`, none.
    std::optional<double> tail_s;
    double max_tail_s = 60.0;
    /// Threads that run the mix (EngineOptions::threads; workers at normal priority, like this
    /// thread): 0, one per usable core; 1, this
    /// thread alone. The file is the same bit for bit either way.
    std::uint32_t threads = 0;
    double silence_window_s = 2.5;  ///< longer than the longest delay time (2 s)
    /// Refuse damaged inputs (Session::warnings(): a truncated stem) instead of rendering them
    /// with a warning in the summary.
    bool strict = false;
    /// Called after every block; return false to cancel (the render then throws RenderError).
    std::function<bool(const RenderProgress&)> progress;
};

/// Figures of one strip over the whole render.
struct StripSummary {
    std::string strip;                ///< "track.NAME", "bus.NAME", "master"
    float peak_dbfs = -120.0f;        ///< highest sample peak on the strip's output (-120: silent)
    float max_gain_reduction_db = 0;  ///< most compressor gain reduction (<= 0)
};

/// What loudness normalization did.
struct NormalizationSummary {
    LoudnessTarget target;
    Loudness before;                   ///< the mix as the session renders it
    double gain_db = 0;                ///< the gain driving the limiter
    std::uint32_t passes = 0;          ///< renders it took, the measuring ones included
    bool reached = false;              ///< within the tolerance of the target
};

struct RenderSummary {
    /// The file to write: a regular file (or a new name) is written aside and renamed over it
    /// when complete (through a symbolic link: the file it points to, in that file's folder). A
    /// FIFO or a character device is written through, never replaced, and so is the standard
    /// output, named "-" or "/dev/stdout": WAV then has unknown lengths in its header (filled in
    /// when it is a regular file), AIFF is refused. The session file and its stems are refused.
    std::filesystem::path output;
    /// Refuse to replace an existing output file (checked before the render and at the rename).
    bool no_clobber = false;
    double sample_rate = 0;
    std::uint64_t frames = 0;        ///< frames written
    double seconds = 0;              ///< length of the file
    double tail_seconds = 0;         ///< of which after the stems ended
    double wall_seconds = 0;         ///< time the render took (all passes of a normalization)
    double speed = 0;                ///< seconds rendered per second of wall time (x real time)
    float master_peak_dbfs = -120;   ///< highest sample of the file before conversion
    std::uint64_t clipped_samples = 0;  ///< samples beyond full scale in an integer file (clipped)
    Loudness loudness;                  ///< of the file (before conversion to its sample format)
    float max_limiter_reduction_db = 0;  ///< most gain reduction of the master limiter (<= 0)
    std::uint32_t latency_frames = 0;   ///< the mix's latency, compensated: frame 0 is time 0
    std::string dither;                 ///< "none", "tpdf", "shaped" (integer files), or empty
    std::optional<NormalizationSummary> normalization;
    std::vector<StripSummary> strips;   ///< the master first, then buses and tracks in session order
    std::vector<std::string> notes;     ///< for people: resampled stems, ...
    std::vector<std::string> warnings;  ///< for people: clipping, a cut tail, a NaN in a stem, ...
};

/// Renders `session` to `options.output`. Throws RenderError (RenderOptionsError for options that
/// cannot work); the destination is untouched then.
RenderSummary render(const Session& session, const RenderOptions& options);

}  // namespace rtmix
