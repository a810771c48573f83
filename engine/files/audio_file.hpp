// Audio files for the offline renderer: probing a stem, reading it at the session's rate
// (resampled with libsoxr when its rate differs), and writing the master aside, renamed into
// place only when complete. Control side only: these read and write files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "files/dither.hpp"
#include "rtmix/loudness.hpp"
#include "rtmix/session.hpp"

struct sf_private_tag;
struct soxr;

namespace rtmix::files {

/// A failure reading or writing an audio file; the message names the path.
class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The containers and sample formats the writer knows. Ogg Vorbis, Opus and MP3 are lossy and
/// take floats (the encoding is ignored); raw_f32 is headerless 32-bit float, little-endian.
enum class Container : std::uint8_t { wav, flac, aiff, ogg, opus, mp3, raw_f32 };
enum class Encoding : std::uint8_t { int16, int24, float32 };

/// Whether `format` stores the samples as floats whatever the encoding asks (lossy, raw float).
bool takes_floats(Container format) noexcept;

/// Where a master goes. A regular file (or a name not taken yet) is written aside and renamed
/// over it; through a symbolic link, the file the link points to is the one replaced (aside in
/// its folder), so the link stays. A character device or a FIFO is written through, never
/// replaced, as is the standard output ("-" or "/dev/stdout").
struct OutputTarget {
    enum class Kind : std::uint8_t { file, stream };
    Kind kind = Kind::file;
    std::filesystem::path file;    ///< Kind::file: the file to replace, symbolic links followed
    bool standard_output = false;  ///< Kind::stream: descriptor 1, else the destination opened for writing
    std::string what;              ///< Kind::stream, for people: "the standard output", "a FIFO", ...
};

/// "-" and "/dev/stdout" name the standard output.
bool is_standard_output(const std::filesystem::path& destination);

/// Classifies `destination`. Throws FileError for a folder, a block device, a socket or a loop of
/// symbolic links.
OutputTarget resolve_output(const std::filesystem::path& destination);

/// The sample rates a stem may have (those of a session): a header outside them is refused.
constexpr int min_stem_rate = 8000, max_stem_rate = 768000;

/// Opens `path` to learn its channels, rate, length and format. Throws FileError (a rate outside
/// min_stem_rate to max_stem_rate included).
Stem probe(const std::filesystem::path& path);

/// Refuses, before any is opened, to hold `stems` stem files open at once when the process may
/// not open that many files (RLIMIT_NOFILE's soft limit, less a reserve for everything else):
/// FileError saying how many are needed and how to allow them. rtmix holds one descriptor per
/// file track while it renders or plays.
void check_open_file_room(std::size_t stems);

/// Plays one stem on the session's timeline: silence before it starts and after it ends.
class StemReader {
public:
    /// Throws FileError when the file cannot be opened or the resampler cannot start.
    StemReader(const Stem& stem, double session_rate);
    ~StemReader();
    StemReader(const StemReader&) = delete;
    StemReader& operator=(const StemReader&) = delete;

    /// Length of the stem at the session's rate, in frames.
    std::uint64_t length() const noexcept { return length_; }
    /// Positions the reader so the next read() starts at stem frame `position` (session rate);
    /// negative positions read silence first. Throws FileError.
    void start_at(std::int64_t position);
    /// Repositions a reader at any time, for live play (locate, loop): the next read() starts at
    /// stem frame `position` (session rate; negative: silence first). A resampled stem restarts
    /// its resampler at the nearest file frame, so the result can differ from a read from the
    /// start by a fraction of a frame; start_at() is the exact way. Throws FileError.
    void restart_at(std::int64_t position);
    /// Reads `frames` frames into `out[0]` (and `out[1]` for a stereo stem). Throws FileError.
    void read(float* const* out, std::uint32_t frames);

private:
    std::uint32_t read_source(std::uint32_t frames);  // interleaved into source_, at the file's rate
    std::uint32_t read_resampled(float* dst, std::uint32_t frames);  // interleaved, session rate
    void check_whole() const;  // at the file's end: throws FileError if it ends before stem_.frames

    Stem stem_;
    double session_rate_ = 0;
    sf_private_tag* file_ = nullptr;
    soxr* resampler_ = nullptr;
    std::uint64_t length_ = 0;
    std::int64_t silence_before_ = 0;  // frames of silence still to play before the stem starts
    bool source_done_ = false;         // the file is exhausted (and the resampler flushed)
    bool flushed_ = false;
    std::vector<float> source_;        // interleaved file frames not yet resampled
    std::size_t source_pos_ = 0, source_len_ = 0;  // in frames
    std::vector<float> interleaved_;   // session-rate frames before deinterleaving
};

/// Writes a stereo file under a temporary name in the destination's folder; commit() renames it
/// into place. Destroyed without commit() (an error, a cancel), it removes the temporary file and
/// leaves whatever stood at the destination untouched. Temporary files of renders that were
/// killed (`.NAME.PID-N.partial` of a process that no longer runs) are removed on the way.
///
/// A stream destination (see OutputTarget) is written through: WAV with unknown lengths in its
/// header (filled in when the stream is a regular file, such as a redirected standard output),
/// raw float, FLAC, Ogg or MP3 as libsndfile streams them; AIFF cannot stream. With `hold`, the
/// stream is written to an unnamed temporary file first and copied to the destination by
/// commit() (a render of several passes, only one of which is kept).
///
/// Integer files are quantized here (with dither, see files/dither.hpp) and written as integers,
/// so libsndfile does no conversion of its own. Metadata: title, artist, album, date and comment
/// through libsndfile (WAV LIST INFO, FLAC Vorbis comments, AIFF text chunks); WAV also gets a BWF
/// `bext` chunk (version 2, loudness fields filled by set_loudness()) and the ISRC as an INFO
/// `ISRC` entry; FLAC gets an ISRC Vorbis comment (libFLAC).
class AsideWriter {
public:
    /// Throws FileError (folder missing or not writable, format not possible).
    /// With `no_clobber`, an existing destination file is refused, here and at commit().
    AsideWriter(const std::filesystem::path& destination, Container format, Encoding sample,
                double sample_rate, DitherMode dither = DitherMode::none, const Metadata& metadata = {},
                bool hold = false, bool no_clobber = false);
    ~AsideWriter();
    AsideWriter(const AsideWriter&) = delete;
    AsideWriter& operator=(const AsideWriter&) = delete;

    /// Appends `frames` frames. Throws FileError (disk full, ...).
    void write(const float* left, const float* right, std::uint32_t frames);
    /// The loudness of what was written, for the BWF `bext` chunk (WAV only; call before commit()).
    void set_loudness(const Loudness& loudness);
    /// Samples clamped at full scale by the integer conversion.
    std::uint64_t clipped() const noexcept;
    /// Finishes the file and renames it to the destination (a stream: finishes it, or copies what
    /// was held). Throws FileError.
    void commit();
    /// Empty for a stream destination.
    const std::filesystem::path& temporary_path() const noexcept { return temp_; }

private:
    void open_stream();           // opens the stream destination into stream_fd_
    void finish_wav_header(int fd, std::int64_t at);  // fills in the lengths of a streamed WAV's header

    std::filesystem::path destination_, temp_;
    OutputTarget target_;
    int stream_fd_ = -1;          // the stream destination (descriptor 1 is not closed)
    int hold_fd_ = -1;            // the unnamed temporary file of a held stream
    std::int64_t header_at_ = -1; // where the streamed WAV's header starts, in the file written
    std::uint32_t frame_bytes_ = 0;
    std::uint64_t frames_ = 0;
    bool no_clobber_ = false;
    bool raw_ = false;            // samples laid out by rtmix (streamed WAV, raw float), not libsndfile
    int raw_fd_ = -1;             // where they go
    std::vector<unsigned char> raw_bytes_;
    sf_private_tag* file_ = nullptr;
    int sync_fd_ = -1;  // a second descriptor of the file, to fsync it after libsndfile closes it
    std::vector<float> interleaved_;
    std::vector<std::int32_t> integers_;
    std::vector<Quantizer> quantizers_;  // one per channel: integer files only
    int shift_ = 0;                      // of a quantized value into libsndfile's 32-bit integers
    Container format_;
    Metadata metadata_;
    bool committed_ = false;
};

}  // namespace rtmix::files
