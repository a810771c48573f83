#include "files/audio_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <system_error>

#include <FLAC/metadata.h>
#include <fmt/format.h>
#include <fmt/std.h>
#include <sndfile.h>
#include <soxr.h>

namespace rtmix::files {

namespace {

constexpr std::uint32_t chunk_frames = 4096;  // file frames read at a time

std::string describe_format(int format) {
    const char* major = "audio";
    switch (format & SF_FORMAT_TYPEMASK) {
        case SF_FORMAT_WAV: major = "WAV"; break;
        case SF_FORMAT_WAVEX: major = "WAV (extensible)"; break;
        case SF_FORMAT_RF64: major = "RF64"; break;
        case SF_FORMAT_W64: major = "Wave64"; break;
        case SF_FORMAT_AIFF: major = "AIFF"; break;
        case SF_FORMAT_FLAC: major = "FLAC"; break;
        case SF_FORMAT_OGG: major = "Ogg"; break;
        case SF_FORMAT_CAF: major = "CAF"; break;
        default: break;
    }
    const char* sub = "";
    switch (format & SF_FORMAT_SUBMASK) {
        case SF_FORMAT_PCM_S8: case SF_FORMAT_PCM_U8: sub = " 8-bit"; break;
        case SF_FORMAT_PCM_16: sub = " 16-bit"; break;
        case SF_FORMAT_PCM_24: sub = " 24-bit"; break;
        case SF_FORMAT_PCM_32: sub = " 32-bit"; break;
        case SF_FORMAT_FLOAT: sub = " 32-bit float"; break;
        case SF_FORMAT_DOUBLE: sub = " 64-bit float"; break;
        case SF_FORMAT_VORBIS: sub = " Vorbis"; break;
        case SF_FORMAT_OPUS: sub = " Opus"; break;
        default: break;
    }
    return std::string(major).append(sub);
}

/// What a WAV file's header says about its sample data, next to what the file holds.
struct WavLayout {
    bool riff = false;              // the file starts as a RIFF WAVE file
    bool header_complete = false;   // the fmt chunk and the data chunk's header are there
    std::uint64_t block_align = 0;  // bytes per frame
    std::uint64_t claimed_bytes = 0, present_bytes = 0;  // of the data chunk
    bool length_known = true;       // false: a streamed WAV (data size 0 or 0xFFFFFFFF)
};

std::uint32_t le32(const unsigned char* p) {
    return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

/// Reads the chunk headers of a RIFF WAVE file up to its data chunk (no samples).
WavLayout wav_layout(const std::filesystem::path& path) {
    WavLayout w;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return w;
    unsigned char head[12];
    if (std::fread(head, 1, 12, f) >= 4 && std::memcmp(head, "RIFF", 4) == 0) w.riff = true;
    std::fseek(f, 0, SEEK_END);
    const long size = std::ftell(f);
    if (!w.riff || size < 12 || std::memcmp(head + 8, "WAVE", 4) != 0) {
        std::fclose(f);
        return w;
    }
    long pos = 12;
    while (pos + 8 <= size) {
        unsigned char chunk[24];
        std::fseek(f, pos, SEEK_SET);
        if (std::fread(chunk, 1, 8, f) != 8) break;
        const std::uint32_t length = le32(chunk + 4);
        // fmt: format tag, channels, rate, bytes per second, then the block align (bytes 12-13).
        if (std::memcmp(chunk, "fmt ", 4) == 0 && std::fread(chunk + 8, 1, 16, f) == 16)
            w.block_align = static_cast<std::uint64_t>(chunk[8 + 12]) | (static_cast<std::uint64_t>(chunk[8 + 13]) << 8);
        if (std::memcmp(chunk, "data", 4) == 0) {
            w.header_complete = w.block_align > 0;
            w.claimed_bytes = length;
            w.length_known = length != 0 && length != 0xFFFFFFFFu;
            w.present_bytes = static_cast<std::uint64_t>(size - pos - 8);
            break;
        }
        pos += 8 + static_cast<long>(length + (length & 1u));
    }
    std::fclose(f);
    return w;
}

SNDFILE* open_for_reading(const std::filesystem::path& path, SF_INFO& info) {
    std::error_code ec;
    const std::filesystem::file_status status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status))
        throw FileError(fmt::format("audio file not found: '{}'", path.string()));
    if (std::filesystem::is_directory(status))
        throw FileError(fmt::format("'{}' is a folder, not an audio file", path.string()));
    // A stem is read more than once (when the session loads, then by every render pass and every
    // locate), so it must be a file that can be read again: a pipe or a device cannot.
    if (!std::filesystem::is_regular_file(status)) {
        const char* what = std::filesystem::is_fifo(status)             ? "a pipe"
                           : std::filesystem::is_character_file(status) ? "a character device (a terminal, a pipe's end, ...)"
                           : std::filesystem::is_socket(status)         ? "a socket"
                                                                        : "not a regular file";
        throw FileError(fmt::format("'{}' is {}: a stem is read more than once (when the session loads, then to "
                                    "render), so it must be a regular file; save the audio to a file first",
                                    path.string(), what));
    }
    info = SF_INFO{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (f == nullptr) {
        const std::string why = sf_strerror(nullptr);
        const WavLayout w = wav_layout(path);
        if (w.riff && !w.header_complete)
            throw FileError(fmt::format("'{}' is truncated: the file ends inside its WAV header ({} bytes)", path.string(),
                                        std::filesystem::file_size(path, ec)));
        throw FileError(fmt::format("cannot read audio file '{}': {}", path.string(), why));
    }
    return f;
}

}  // namespace

Stem probe(const std::filesystem::path& path) {
    SF_INFO info;
    SNDFILE* f = open_for_reading(path, info);
    sf_close(f);
    if (info.channels < 1 || info.channels > 2)
        throw FileError(fmt::format("'{}' has {} channels; a track plays a mono or stereo file", path.string(),
                                    info.channels));
    if (info.samplerate <= 0)
        throw FileError(fmt::format("'{}' has no valid sample rate", path.string()));
    // A header that claims 1 Hz would make a 5 s file last 66 hours: such a rate is damage, not audio.
    if (info.samplerate < min_stem_rate || info.samplerate > max_stem_rate)
        throw FileError(fmt::format("'{}' claims a sample rate of {} Hz; a stem's rate must be {} to {} Hz (its header "
                                    "is damaged, or the file is not audio)",
                                    path.string(), info.samplerate, min_stem_rate, max_stem_rate));
    Stem s;
    s.path = path;
    s.channels = static_cast<std::uint32_t>(info.channels);
    s.sample_rate = info.samplerate;
    s.frames = static_cast<std::uint64_t>(std::max<sf_count_t>(info.frames, 0));
    s.format = describe_format(info.format);
    const int major = info.format & SF_FORMAT_TYPEMASK;
    if (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX) {
        const WavLayout w = wav_layout(path);
        if (w.header_complete && w.length_known && w.present_bytes < w.claimed_bytes)
            s.claimed_frames = w.claimed_bytes / w.block_align;
    }
    return s;
}

void check_open_file_room(std::size_t stems) {
    constexpr std::size_t reserve = 32;  // standard streams, the output, libraries, JACK, ...
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
    if (stems + reserve <= limit.rlim_cur) return;
    throw FileError(fmt::format(
        "the session plays {} stem files at once, one open file each, but this process may open only {} files "
        "(RLIMIT_NOFILE{}): allow at least {} (`ulimit -n {}`{})",
        stems, limit.rlim_cur, limit.rlim_max != limit.rlim_cur ? fmt::format(", up to {} allowed", limit.rlim_max) : "",
        stems + reserve, stems + reserve,
        limit.rlim_max != RLIM_INFINITY && limit.rlim_max < stems + reserve ? ", which needs a higher hard limit" : ""));
}

// --- StemReader ---------------------------------------------------------------------------------

StemReader::StemReader(const Stem& stem, double session_rate) : stem_(stem), session_rate_(session_rate) {
    SF_INFO info;
    file_ = open_for_reading(stem.path, info);
    if (static_cast<std::uint32_t>(info.channels) != stem.channels || info.samplerate != stem.sample_rate) {
        sf_close(file_);
        throw FileError(fmt::format("'{}' changed since the session was loaded", stem.path.string()));
    }
    if (stem.sample_rate != session_rate) {
        soxr_error_t error = nullptr;
        resampler_ = soxr_create(stem.sample_rate, session_rate, stem.channels, &error, nullptr, nullptr, nullptr);
        if (resampler_ == nullptr || error != nullptr) {
            sf_close(file_);
            throw FileError(fmt::format("cannot resample '{}': {}", stem.path.string(), error ? error : "?"));
        }
        length_ = static_cast<std::uint64_t>(
            std::ceil(static_cast<double>(stem.frames) * session_rate / stem.sample_rate));
    } else {
        length_ = stem.frames;
    }
    source_.resize(static_cast<std::size_t>(chunk_frames) * stem.channels);
}

StemReader::~StemReader() {
    if (resampler_ != nullptr) soxr_delete(resampler_);
    if (file_ != nullptr) sf_close(file_);
}

void StemReader::start_at(std::int64_t position) {
    silence_before_ = position < 0 ? -position : 0;
    if (position <= 0) return;
    const auto skip = static_cast<std::uint64_t>(position);
    if (resampler_ == nullptr) {
        if (skip >= stem_.frames) {
            source_done_ = true;
            return;
        }
        if (sf_seek(file_, static_cast<sf_count_t>(skip), SEEK_SET) < 0)
            throw FileError(fmt::format("cannot seek in '{}': {}", stem_.path.string(), sf_strerror(file_)));
        return;
    }
    // Resampled: run the resampler from the start and drop what precedes the position, so the
    // output is exactly what a render from the start would have produced there.
    std::vector<float> scratch(static_cast<std::size_t>(chunk_frames) * stem_.channels);
    for (std::uint64_t left = skip; left > 0;) {
        const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, chunk_frames));
        const std::uint32_t got = read_resampled(scratch.data(), n);
        if (got == 0) break;
        left -= got;
    }
}

void StemReader::restart_at(std::int64_t position) {
    silence_before_ = position < 0 ? -position : 0;
    source_done_ = flushed_ = false;
    source_pos_ = source_len_ = 0;
    if (resampler_ != nullptr) soxr_clear(resampler_);
    if (position >= static_cast<std::int64_t>(length_)) {  // past the end: silence from here on
        source_done_ = flushed_ = true;
        return;
    }
    sf_count_t frame = 0;
    if (position > 0)
        frame = resampler_ == nullptr
                    ? static_cast<sf_count_t>(position)
                    : static_cast<sf_count_t>(std::llround(static_cast<double>(position) * stem_.sample_rate / session_rate_));
    if (sf_seek(file_, std::min<sf_count_t>(frame, static_cast<sf_count_t>(stem_.frames)), SEEK_SET) < 0)
        throw FileError(fmt::format("cannot seek in '{}': {}", stem_.path.string(), sf_strerror(file_)));
}

std::uint32_t StemReader::read_source(std::uint32_t frames) {
    const sf_count_t got = sf_readf_float(file_, source_.data(), frames);
    if (got < 0 || (got < static_cast<sf_count_t>(frames) && sf_error(file_) != SF_ERR_NO_ERROR))
        throw FileError(fmt::format("error reading '{}': {}", stem_.path.string(), sf_strerror(file_)));
    if (got < static_cast<sf_count_t>(frames)) check_whole();
    return static_cast<std::uint32_t>(got);
}

void StemReader::check_whole() const {
    // The end of the file: where the stem's length says, unless the file was cut since it was
    // probed (it would play silence from there without a word).
    const sf_count_t at = sf_seek(file_, 0, SEEK_CUR);
    if (at >= 0 && static_cast<std::uint64_t>(at) < stem_.frames)
        throw FileError(fmt::format("'{}' ends at {:.3f} s, {:.3f} s before the length it had when the session was "
                                    "loaded: the file was cut or rewritten while it was read",
                                    stem_.path.string(), static_cast<double>(at) / stem_.sample_rate,
                                    static_cast<double>(stem_.frames - static_cast<std::uint64_t>(at)) / stem_.sample_rate));
}

std::uint32_t StemReader::read_resampled(float* dst, std::uint32_t frames) {
    std::uint32_t produced = 0;
    while (produced < frames && !flushed_) {
        if (source_pos_ == source_len_ && !source_done_) {
            source_len_ = read_source(chunk_frames);
            source_pos_ = 0;
            if (source_len_ == 0) source_done_ = true;
        }
        std::size_t used = 0, made = 0;
        const float* in = source_done_ ? nullptr : source_.data() + source_pos_ * stem_.channels;
        const soxr_error_t error = soxr_process(resampler_, in, source_len_ - source_pos_, &used,
                                                dst + static_cast<std::size_t>(produced) * stem_.channels,
                                                frames - produced, &made);
        if (error != nullptr) throw FileError(fmt::format("resampling '{}': {}", stem_.path.string(), error));
        source_pos_ += used;
        produced += static_cast<std::uint32_t>(made);
        if (source_done_ && made == 0) flushed_ = true;  // end of input and nothing left inside
    }
    return produced;
}

void StemReader::read(float* const* out, std::uint32_t frames) {
    const std::uint32_t channels = stem_.channels;
    std::uint32_t done = 0;
    // Silence before the stem starts (a positive offset).
    if (silence_before_ > 0) {
        const auto n = static_cast<std::uint32_t>(std::min<std::int64_t>(silence_before_, frames));
        for (std::uint32_t c = 0; c < channels; ++c) std::fill_n(out[c], n, 0.0f);
        silence_before_ -= n;
        done = n;
    }
    if (done < frames && !(resampler_ == nullptr ? source_done_ : flushed_)) {
        interleaved_.resize(static_cast<std::size_t>(frames) * channels);
        std::uint32_t got = 0;
        if (resampler_ == nullptr) {
            while (done + got < frames) {
                const sf_count_t n = sf_readf_float(file_, interleaved_.data() + static_cast<std::size_t>(got) * channels,
                                                    frames - done - got);
                if (n < 0 || (n == 0 && sf_error(file_) != SF_ERR_NO_ERROR))
                    throw FileError(fmt::format("error reading '{}': {}", stem_.path.string(), sf_strerror(file_)));
                if (n == 0) {
                    check_whole();
                    source_done_ = true;
                    break;
                }
                got += static_cast<std::uint32_t>(n);
            }
        } else {
            got = read_resampled(interleaved_.data(), frames - done);
        }
        for (std::uint32_t c = 0; c < channels; ++c)
            for (std::uint32_t i = 0; i < got; ++i) out[c][done + i] = interleaved_[static_cast<std::size_t>(i) * channels + c];
        done += got;
    }
    // Silence after the stem ends.
    for (std::uint32_t c = 0; c < channels; ++c) std::fill(out[c] + done, out[c] + frames, 0.0f);
}

// --- AsideWriter --------------------------------------------------------------------------------

namespace {

/// Copies `text` into a fixed-size field of the bext chunk (truncated, zero padded).
template <std::size_t N>
void put(char (&field)[N], std::string_view text) {
    std::memset(field, 0, N);
    std::memcpy(field, text.data(), std::min(N, text.size()));
}

/// A loudness figure as the bext chunk stores it: hundredths, 0x7FFF when unknown.
std::int16_t bext_value(double v) {
    if (!std::isfinite(v)) return 0x7FFF;
    return static_cast<std::int16_t>(std::clamp(std::lround(v * 100.0), -32767l, 32766l));
}

std::uint32_t read_le32(const unsigned char* p) {
    return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

void write_le32(unsigned char* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

/// Adds an `ISRC` entry to the WAV file's LIST INFO chunk: merged into that chunk when it is the
/// last one of the file (where libsndfile writes it), else as a LIST INFO chunk of its own at the
/// end. RIFF sizes are updated. Throws FileError.
void add_wav_isrc(const std::filesystem::path& path, const std::string& isrc) {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    if (f == nullptr) throw FileError(fmt::format("cannot tag '{}': {}", path.string(), std::strerror(errno)));
    const auto fail = [&](const char* why) {
        std::fclose(f);
        throw FileError(fmt::format("cannot tag '{}': {}", path.string(), why));
    };
    unsigned char header[12];
    if (std::fread(header, 1, 12, f) != 12 || std::memcmp(header, "RIFF", 4) != 0 || std::memcmp(header + 8, "WAVE", 4) != 0)
        fail("not a RIFF WAVE file");
    std::fseek(f, 0, SEEK_END);
    const long end = std::ftell(f);
    long pos = 12, last_info = -1;
    while (pos + 8 <= end) {
        unsigned char chunk[12];
        std::fseek(f, pos, SEEK_SET);
        if (std::fread(chunk, 1, 12, f) < 8) fail("truncated chunk");
        const std::uint32_t size = read_le32(chunk + 4);
        const long next = pos + 8 + static_cast<long>(size + (size & 1u));
        if (std::memcmp(chunk, "LIST", 4) == 0 && std::memcmp(chunk + 8, "INFO", 4) == 0 && next >= end) last_info = pos;
        pos = next;
    }
    // The entry: id, size (with the terminating zero), text, a pad byte to an even length.
    std::vector<unsigned char> entry(8 + isrc.size() + 1 + ((isrc.size() + 1) & 1u), 0);
    std::memcpy(entry.data(), "ISRC", 4);
    write_le32(entry.data() + 4, static_cast<std::uint32_t>(isrc.size() + 1));
    std::memcpy(entry.data() + 8, isrc.data(), isrc.size());
    // Without a LIST INFO chunk at the end, one of its own: "LIST", size, "INFO", then the entry.
    const std::size_t head = last_info < 0 ? 12 : 0;
    std::vector<unsigned char> tail(head + entry.size(), 0);
    if (head > 0) {
        std::memcpy(tail.data(), "LIST", 4);
        write_le32(tail.data() + 4, static_cast<std::uint32_t>(4 + entry.size()));
        std::memcpy(tail.data() + 8, "INFO", 4);
    }
    std::memcpy(tail.data() + head, entry.data(), entry.size());
    std::fseek(f, end, SEEK_SET);
    if (end % 2 != 0) std::fputc(0, f);  // a chunk starts on an even offset
    const long body_end = end + (end % 2);
    if (std::fwrite(tail.data(), 1, tail.size(), f) != tail.size()) fail(std::strerror(errno));
    if (last_info >= 0) {  // grow the LIST chunk
        unsigned char size[4];
        std::fseek(f, last_info + 4, SEEK_SET);
        if (std::fread(size, 1, 4, f) != 4) fail("truncated chunk");
        write_le32(size, static_cast<std::uint32_t>(body_end + static_cast<long>(tail.size()) - last_info - 8));
        std::fseek(f, last_info + 4, SEEK_SET);
        std::fwrite(size, 1, 4, f);
    }
    unsigned char riff[4];
    write_le32(riff, static_cast<std::uint32_t>(body_end + static_cast<long>(tail.size()) - 8));
    std::fseek(f, 4, SEEK_SET);
    std::fwrite(riff, 1, 4, f);
    if (std::fclose(f) != 0) throw FileError(fmt::format("cannot tag '{}': {}", path.string(), std::strerror(errno)));
}

/// Adds an ISRC Vorbis comment to a FLAC file (libsndfile writes only its fixed set of tags).
void add_flac_isrc(const std::filesystem::path& path, const std::string& isrc) {
    FLAC__Metadata_Chain* chain = FLAC__metadata_chain_new();
    if (chain == nullptr) throw std::bad_alloc();
    const auto fail = [&](const char* why) {
        FLAC__metadata_chain_delete(chain);
        throw FileError(fmt::format("cannot tag '{}': {}", path.string(), why));
    };
    if (!FLAC__metadata_chain_read(chain, path.c_str())) fail("libFLAC cannot read its metadata");
    FLAC__Metadata_Iterator* it = FLAC__metadata_iterator_new();
    if (it == nullptr) fail("out of memory");
    FLAC__metadata_iterator_init(it, chain);
    FLAC__StreamMetadata* comments = nullptr;
    do {
        if (FLAC__metadata_iterator_get_block_type(it) == FLAC__METADATA_TYPE_VORBIS_COMMENT)
            comments = FLAC__metadata_iterator_get_block(it);
    } while (comments == nullptr && FLAC__metadata_iterator_next(it));
    if (comments == nullptr) {  // none yet: a new block after STREAMINFO
        FLAC__metadata_iterator_init(it, chain);
        comments = FLAC__metadata_object_new(FLAC__METADATA_TYPE_VORBIS_COMMENT);
        if (comments == nullptr || !FLAC__metadata_iterator_insert_block_after(it, comments)) {
            FLAC__metadata_iterator_delete(it);
            fail("libFLAC cannot add a comment block");
        }
    }
    FLAC__metadata_iterator_delete(it);
    FLAC__StreamMetadata_VorbisComment_Entry entry{};
    if (!FLAC__metadata_object_vorbiscomment_entry_from_name_value_pair(&entry, "ISRC", isrc.c_str()) ||
        !FLAC__metadata_object_vorbiscomment_append_comment(comments, entry, /*copy=*/false))
        fail("libFLAC cannot add the ISRC comment");
    FLAC__metadata_chain_sort_padding(chain);
    if (!FLAC__metadata_chain_write(chain, /*use_padding=*/true, /*preserve_file_stats=*/false))
        fail(FLAC__Metadata_ChainStatusString[FLAC__metadata_chain_status(chain)]);
    FLAC__metadata_chain_delete(chain);
}

}  // namespace

bool takes_floats(Container format) noexcept {
    return format == Container::ogg || format == Container::opus || format == Container::mp3 || format == Container::raw_f32;
}

bool is_standard_output(const std::filesystem::path& destination) {
    return destination == "-" || destination == "/dev/stdout";
}

OutputTarget resolve_output(const std::filesystem::path& destination) {
    OutputTarget t;
    if (is_standard_output(destination)) {
        t.kind = OutputTarget::Kind::stream;
        t.standard_output = true;
        t.what = "the standard output";
        return t;
    }
    std::error_code ec;
    const std::filesystem::file_status status = std::filesystem::status(destination, ec);  // links followed
    if (std::filesystem::exists(status)) {
        if (std::filesystem::is_directory(status))
            throw FileError(fmt::format("cannot write '{}': it is a folder", destination.string()));
        if (std::filesystem::is_block_file(status))
            throw FileError(fmt::format("cannot write '{}': it is a block device (a disk); rtmix writes files, FIFOs and "
                                        "character devices", destination.string()));
        if (std::filesystem::is_socket(status))
            throw FileError(fmt::format("cannot write '{}': it is a socket", destination.string()));
        if (!std::filesystem::is_regular_file(status)) {
            t.kind = OutputTarget::Kind::stream;
            t.what = std::filesystem::is_fifo(status) ? "a FIFO" : "a character device";
            return t;
        }
    }
    // A regular file, or none yet: follow the links to the file itself, which is replaced in its
    // own folder (the links stay links).
    std::filesystem::path p = destination;
    for (int hops = 0; std::filesystem::is_symlink(std::filesystem::symlink_status(p, ec)); ++hops) {
        if (hops == 40) throw FileError(fmt::format("cannot write '{}': too many levels of symbolic links", destination.string()));
        const std::filesystem::path target = std::filesystem::read_symlink(p, ec);
        if (ec) throw FileError(fmt::format("cannot write '{}': {}", destination.string(), ec.message()));
        p = target.is_absolute() ? target : p.parent_path() / target;
        // A descriptor's link (/dev/stderr -> /proc/self/fd/2) names an open file, not a place to
        // write aside: it is written through, as the descriptor would be.
        if (p.string().starts_with("/proc/")) {
            t.kind = OutputTarget::Kind::stream;
            t.what = "an open file descriptor";
            return t;
        }
    }
    t.file = p;
    return t;
}

namespace {

/// Removes the temporary files that renders to `name` in `folder` left when they were killed:
/// `.NAME.PID-N.partial` where no process PID runs any more.
void remove_stale_partials(const std::filesystem::path& folder, const std::string& name) {
    const std::string prefix = "." + name + ".";
    std::error_code ec;
    for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string entry = it->path().filename().string();
        if (!entry.starts_with(prefix) || !entry.ends_with(".partial")) continue;
        const std::string middle = entry.substr(prefix.size(), entry.size() - prefix.size() - 8);  // PID-N
        const std::size_t dash = middle.find('-');
        if (dash == std::string::npos || dash == 0 || dash + 1 == middle.size()) continue;
        const auto digit = [](char c) { return c >= '0' && c <= '9'; };
        if (!std::all_of(middle.begin(), middle.begin() + static_cast<std::ptrdiff_t>(dash), digit) ||
            !std::all_of(middle.begin() + static_cast<std::ptrdiff_t>(dash) + 1, middle.end(), digit))
            continue;
        const long pid = std::strtol(middle.c_str(), nullptr, 10);
        if (pid <= 0 || pid == ::getpid()) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask)
        std::error_code removed;
        std::filesystem::remove(it->path(), removed);
    }
}

/// Writes all of `data` to `fd` (a pipe may take it in pieces). Throws FileError naming `name`.
void write_all(int fd, const void* data, std::size_t size, const std::string& name) {
    const auto* p = static_cast<const unsigned char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw FileError(fmt::format("cannot write '{}': {}", name, std::strerror(errno)));
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

void put_le16(unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v);
    p[1] = static_cast<unsigned char>(v >> 8);
}

}  // namespace

AsideWriter::AsideWriter(const std::filesystem::path& destination, Container format, Encoding sample,
                         double sample_rate, DitherMode dither, const Metadata& metadata, bool hold, bool no_clobber)
    : destination_(destination), target_(resolve_output(destination)), no_clobber_(no_clobber), format_(format),
      metadata_(metadata) {
    if (takes_floats(format)) {
        sample = Encoding::float32;
        dither = DitherMode::none;
    }
    const bool stream = target_.kind == OutputTarget::Kind::stream;
    const std::string name = destination.string();
    if (dither == DitherMode::shaped && sample != Encoding::float32 && !shaped_dither_designed(sample_rate))
        throw FileError(fmt::format("noise-shaped dither has designs for {:g} to {:g} Hz only, not {:g} Hz: use TPDF "
                                    "dither at this rate", shaped_dither_min_rate, shaped_dither_max_rate, sample_rate));
    int major = SF_FORMAT_WAV;
    int sub = sample == Encoding::int16 ? SF_FORMAT_PCM_16 : sample == Encoding::int24 ? SF_FORMAT_PCM_24 : SF_FORMAT_FLOAT;
    // A streamed WAV (a header of rtmix's own) and raw float carry samples rtmix lays out itself.
    raw_ = format == Container::raw_f32 || (stream && format == Container::wav);
    switch (format) {
        case Container::wav: major = SF_FORMAT_WAV; break;
        case Container::flac: major = SF_FORMAT_FLAC; break;
        case Container::aiff: major = SF_FORMAT_AIFF; break;
        case Container::ogg: major = SF_FORMAT_OGG, sub = SF_FORMAT_VORBIS; break;
        case Container::opus: major = SF_FORMAT_OGG, sub = SF_FORMAT_OPUS; break;
        case Container::mp3: major = SF_FORMAT_MPEG, sub = SF_FORMAT_MPEG_LAYER_III; break;
        case Container::raw_f32: major = SF_FORMAT_RAW | SF_ENDIAN_LITTLE, sub = SF_FORMAT_FLOAT; break;
    }
    if (format == Container::flac && sample == Encoding::float32)
        throw FileError("FLAC stores integer samples: choose 16 or 24 bits");
    if (format == Container::opus && sample_rate != 8000 && sample_rate != 12000 && sample_rate != 16000 &&
        sample_rate != 24000 && sample_rate != 48000)
        throw FileError(fmt::format("cannot write '{}': Opus takes 8, 12, 16, 24 or 48 kHz, not the session's {:g} Hz",
                                    name, sample_rate));
    if (stream && format == Container::aiff)
        throw FileError(fmt::format("cannot stream AIFF to '{}' ({}): its header needs the length first; use WAV, FLAC, "
                                    "Ogg, Opus, MP3 or raw float (f32)", name, target_.what));
    SF_INFO info{};
    info.samplerate = static_cast<int>(std::lround(sample_rate));
    info.channels = 2;
    info.format = major | sub;
    if (sf_format_check(&info) == 0)
        throw FileError(fmt::format("cannot write '{}': this libsndfile cannot write that format at {:g} Hz", name, sample_rate));

    int fd = -1;
    if (stream) {
        try {
            if (hold) {  // an unnamed temporary file, copied to the stream by commit()
                std::error_code ec;
                const std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
                const std::filesystem::path folder = ec ? std::filesystem::path("/tmp") : tmp;
                hold_fd_ = ::open(folder.c_str(), O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
                if (hold_fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {  // no O_TMPFILE there
                    std::string pattern = (folder / "rtmix-XXXXXX").string();
                    hold_fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
                    if (hold_fd_ >= 0) ::unlink(pattern.c_str());
                }
                if (hold_fd_ < 0)
                    throw FileError(fmt::format("cannot make a temporary file for '{}': {}", name, std::strerror(errno)));
                fd = hold_fd_;
            } else {
                open_stream();
                fd = stream_fd_;
            }
            const std::uint32_t bits = sample == Encoding::int16 ? 16 : sample == Encoding::int24 ? 24 : 32;
            frame_bytes_ = 2 * bits / 8;
            raw_fd_ = fd;
            if (format == Container::wav) {
                // RIFF, fmt (PCM or IEEE float), data: 44 bytes, the lengths unknown (0xFFFFFFFF, as
                // streaming tools write them); finish_wav_header() fills them in where it can.
                unsigned char h[44] = {};
                std::memcpy(h, "RIFF", 4);
                write_le32(h + 4, 0xFFFFFFFFu);
                std::memcpy(h + 8, "WAVEfmt ", 8);
                write_le32(h + 16, 16);
                put_le16(h + 20, sample == Encoding::float32 ? 3 : 1);
                put_le16(h + 22, 2);
                write_le32(h + 24, static_cast<std::uint32_t>(info.samplerate));
                write_le32(h + 28, static_cast<std::uint32_t>(info.samplerate) * frame_bytes_);
                put_le16(h + 32, frame_bytes_);
                put_le16(h + 34, bits);
                std::memcpy(h + 36, "data", 4);
                write_le32(h + 40, 0xFFFFFFFFu);
                header_at_ = ::lseek(fd, 0, SEEK_CUR);  // -1 on a pipe
                write_all(fd, h, sizeof h, name);
            }
            if (!raw_) {
                file_ = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
                if (file_ == nullptr)
                    throw FileError(fmt::format("cannot write '{}' ({}): {}", name, target_.what, sf_strerror(nullptr)));
            }
        } catch (...) {  // no destructor runs: close what was opened
            if (file_ != nullptr) sf_close(file_);
            if (hold_fd_ >= 0) ::close(hold_fd_);
            if (stream_fd_ > STDERR_FILENO) ::close(stream_fd_);
            throw;
        }
    } else {
        destination_ = target_.file;
        std::filesystem::path folder = destination_.parent_path();
        if (folder.empty()) folder = ".";
        std::error_code ec;
        if (!std::filesystem::is_directory(folder, ec))
            throw FileError(fmt::format("cannot write '{}': the folder '{}' does not exist", name, folder.string()));
        if (no_clobber_ && std::filesystem::exists(std::filesystem::symlink_status(destination_, ec)))
            throw FileError(fmt::format("'{}' exists: not overwritten (no-clobber)", name));
        remove_stale_partials(folder, destination_.filename().string());

        // A name of our own in the destination's folder (so the final rename stays on one file system).
        for (unsigned attempt = 0; fd < 0; ++attempt) {
            temp_ = folder / fmt::format(".{}.{}-{}.partial", destination_.filename().string(), ::getpid(), attempt);
            fd = ::open(temp_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd < 0 && (errno != EEXIST || attempt > 100))
                throw FileError(fmt::format("cannot write in '{}': {}", folder.string(), std::strerror(errno)));
        }
        sync_fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (raw_) {  // raw float: no header, the samples laid out here
            raw_fd_ = fd;
            frame_bytes_ = 8;
        } else {
            file_ = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
        }
        if (!raw_ && file_ == nullptr) {
            const std::string why = sf_strerror(nullptr);
            ::close(fd);
            if (sync_fd_ >= 0) ::close(sync_fd_);
            sync_fd_ = -1;
            std::filesystem::remove(temp_, ec);
            throw FileError(fmt::format("cannot write '{}': {}", name, why));
        }
    }
    // Integer formats clip at full scale instead of wrapping around.
    if (file_ != nullptr) sf_command(file_, SFC_SET_CLIPPING, nullptr, SF_TRUE);
    if (sample != Encoding::float32) {
        const unsigned bits = sample == Encoding::int16 ? 16 : 24;
        for (std::uint64_t c = 0; c < 2; ++c) quantizers_.emplace_back(bits, dither, c + 1, sample_rate);
        shift_ = 32 - static_cast<int>(bits);
    }
    // A streamed WAV or raw file has no room for tags.
    if (metadata_.empty() || raw_) {
        metadata_ = Metadata{};
        return;
    }
    const std::pair<int, const std::string*> tags[] = {{SF_STR_TITLE, &metadata_.title}, {SF_STR_ARTIST, &metadata_.artist},
                                                       {SF_STR_ALBUM, &metadata_.album}, {SF_STR_DATE, &metadata_.date},
                                                       {SF_STR_COMMENT, &metadata_.comment}};
    for (const auto& [tag, text] : tags)
        if (!text->empty()) sf_set_string(file_, tag, text->c_str());
    sf_set_string(file_, SF_STR_SOFTWARE, "rtmix");
    if (format_ == Container::wav) set_loudness(Loudness{NAN, NAN, NAN, NAN, NAN, NAN});
}

void AsideWriter::open_stream() {
    if (target_.standard_output) {
        stream_fd_ = STDOUT_FILENO;
        return;
    }
    // No O_CREAT, no O_TRUNC: what stands there is written through (a FIFO waits for its reader).
    stream_fd_ = ::open(destination_.c_str(), O_WRONLY | O_CLOEXEC);
    if (stream_fd_ < 0)
        throw FileError(fmt::format("cannot write '{}' ({}): {}", destination_.string(), target_.what, std::strerror(errno)));
}

void AsideWriter::finish_wav_header(int fd, std::int64_t at) {
    const std::uint64_t data = frames_ * frame_bytes_;
    if (at < 0 || data + 36 > 0xFFFFFFFFu) return;  // a pipe, or too long for RIFF: the lengths stay unknown
    unsigned char size[4];
    write_le32(size, static_cast<std::uint32_t>(data + 36));
    const bool ok = ::pwrite(fd, size, 4, at + 4) == 4;
    write_le32(size, static_cast<std::uint32_t>(data));
    if (!ok || ::pwrite(fd, size, 4, at + 40) != 4)
        throw FileError(fmt::format("cannot write '{}': {}", destination_.string(), std::strerror(errno)));
}

void AsideWriter::set_loudness(const Loudness& l) {
    if (format_ != Container::wav || metadata_.empty() || file_ == nullptr) return;
    SF_BROADCAST_INFO bext{};
    put(bext.description, metadata_.comment.empty() ? metadata_.title : metadata_.comment);
    put(bext.originator, "rtmix");
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char date[11], time[9];
    std::strftime(date, sizeof date, "%Y-%m-%d", &local);
    std::strftime(time, sizeof time, "%H:%M:%S", &local);
    put(bext.origination_date, date);
    put(bext.origination_time, time);
    bext.version = 2;
    bext.loudness_value = bext_value(l.integrated_lufs);
    bext.loudness_range = bext_value(l.range_lu);
    bext.max_true_peak_level = bext_value(l.true_peak_dbtp);
    bext.max_momentary_loudness = bext_value(l.max_momentary_lufs);
    bext.max_shortterm_loudness = bext_value(l.max_short_term_lufs);
    SF_INFO info{};
    sf_command(file_, SFC_GET_CURRENT_SF_INFO, &info, sizeof info);
    const std::string history = fmt::format("A=PCM,F={},W={},M=stereo,T=rtmix\r\n", info.samplerate,
                                            quantizers_.empty() ? 32 : 32 - shift_);
    std::memcpy(bext.coding_history, history.data(), std::min(history.size(), sizeof bext.coding_history));
    bext.coding_history_size = static_cast<std::uint32_t>(history.size());
    if (sf_command(file_, SFC_SET_BROADCAST_INFO, &bext, sizeof bext) != SF_TRUE)
        throw FileError(fmt::format("cannot write the bext chunk of '{}': {}", temp_.string(), sf_strerror(file_)));
}

std::uint64_t AsideWriter::clipped() const noexcept {
    std::uint64_t n = 0;
    for (const Quantizer& q : quantizers_) n += q.clipped();
    return n;
}

AsideWriter::~AsideWriter() {
    if (file_ != nullptr) sf_close(file_);
    if (sync_fd_ >= 0) ::close(sync_fd_);
    if (hold_fd_ >= 0) ::close(hold_fd_);
    if (raw_ && target_.kind == OutputTarget::Kind::file && raw_fd_ >= 0) ::close(raw_fd_);
    if (stream_fd_ > STDERR_FILENO) ::close(stream_fd_);
    if (!committed_ && !temp_.empty()) {
        std::error_code ec;
        std::filesystem::remove(temp_, ec);
    }
}

void AsideWriter::write(const float* left, const float* right, std::uint32_t frames) {
    interleaved_.resize(static_cast<std::size_t>(frames) * 2);
    for (std::uint32_t i = 0; i < frames; ++i) {
        interleaved_[2 * i] = left[i];
        interleaved_[2 * i + 1] = right[i];
    }
    if (raw_) {  // little-endian samples, laid out here
        const std::size_t bytes = frame_bytes_ / 2;
        raw_bytes_.resize(interleaved_.size() * bytes);
        unsigned char* p = raw_bytes_.data();
        for (std::size_t i = 0; i < interleaved_.size(); ++i, p += bytes) {
            if (quantizers_.empty()) {
                write_le32(p, std::bit_cast<std::uint32_t>(interleaved_[i]));
                continue;
            }
            const auto v = static_cast<std::uint32_t>(quantizers_[i & 1].next(interleaved_[i]));
            for (std::size_t b = 0; b < bytes; ++b) p[b] = static_cast<unsigned char>(v >> (8 * b));
        }
        write_all(raw_fd_, raw_bytes_.data(), raw_bytes_.size(), temp_.empty() ? destination_.string() : temp_.string());
        frames_ += frames;
        return;
    }
    sf_count_t done = 0;
    if (quantizers_.empty()) {
        done = sf_writef_float(file_, interleaved_.data(), frames);
    } else {
        integers_.resize(interleaved_.size());
        for (std::size_t i = 0; i < interleaved_.size(); ++i)
            integers_[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(quantizers_[i & 1].next(interleaved_[i])) << shift_);
        done = sf_writef_int(file_, integers_.data(), frames);
    }
    if (done != static_cast<sf_count_t>(frames))
        throw FileError(fmt::format("cannot write '{}': {}", temp_.empty() ? destination_.string() : temp_.string(),
                                    sf_strerror(file_)));
    frames_ += frames;
}

void AsideWriter::commit() {
    // Finish the file (libsndfile writes the header sizes and any last encoder data on close),
    // get it onto the disk, and only then rename it over the destination: after a crash the
    // destination holds either the old file or the complete new one.
    const int closed = file_ != nullptr ? sf_close(file_) : 0;
    file_ = nullptr;
    if (raw_ && target_.kind == OutputTarget::Kind::file) ::close(raw_fd_);  // the aside file's descriptor
    raw_fd_ = -1;
    if (closed != 0)
        throw FileError(fmt::format("cannot finish '{}': {}", temp_.empty() ? destination_.string() : temp_.string(),
                                    sf_error_number(closed)));
    if (target_.kind == OutputTarget::Kind::stream) {
        if (hold_fd_ < 0) {
            struct stat st {};
            if (header_at_ >= 0 && ::fstat(stream_fd_, &st) == 0 && S_ISREG(st.st_mode)) finish_wav_header(stream_fd_, header_at_);
        } else {
            // The held stream is complete: its lengths are known, then it goes out in one piece.
            if (header_at_ >= 0) finish_wav_header(hold_fd_, header_at_);
            open_stream();
            std::vector<unsigned char> buffer(1 << 16);
            for (off_t at = 0;;) {
                const ssize_t n = ::pread(hold_fd_, buffer.data(), buffer.size(), at);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) throw FileError(fmt::format("cannot read back the render of '{}': {}", destination_.string(),
                                                       std::strerror(errno)));
                if (n == 0) break;
                write_all(stream_fd_, buffer.data(), static_cast<std::size_t>(n), destination_.string());
                at += n;
            }
        }
        committed_ = true;
        return;
    }
    if (!metadata_.isrc.empty()) {
        if (format_ == Container::wav) add_wav_isrc(temp_, metadata_.isrc);
        if (format_ == Container::flac) add_flac_isrc(temp_, metadata_.isrc);
    }
    if (sync_fd_ >= 0) {
        const int synced = ::fsync(sync_fd_);
        ::close(sync_fd_);
        sync_fd_ = -1;
        if (synced != 0) throw FileError(fmt::format("cannot write '{}': {}", temp_.string(), std::strerror(errno)));
    }
    if (no_clobber_) {  // the destination may have appeared during the render: never replace it
        if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, destination_.c_str(), RENAME_NOREPLACE) != 0) {
            const int error = errno;
            if (error == EEXIST) throw FileError(fmt::format("'{}' exists: not overwritten (no-clobber)", destination_.string()));
            if (error != EINVAL && error != ENOSYS)
                throw FileError(fmt::format("cannot rename '{}' to '{}': {}", temp_.string(), destination_.string(),
                                            std::strerror(error)));
            // No RENAME_NOREPLACE on this file system: a hard link fails as well when the name is taken.
            if (::link(temp_.c_str(), destination_.c_str()) != 0)
                throw FileError(errno == EEXIST ? fmt::format("'{}' exists: not overwritten (no-clobber)", destination_.string())
                                                : fmt::format("cannot rename '{}' to '{}': {}", temp_.string(),
                                                              destination_.string(), std::strerror(errno)));
            ::unlink(temp_.c_str());
        }
    } else {
        std::error_code ec;
        std::filesystem::rename(temp_, destination_, ec);
        if (ec) throw FileError(fmt::format("cannot rename '{}' to '{}': {}", temp_.string(), destination_.string(), ec.message()));
    }
    committed_ = true;
    // Make the rename itself durable.
    std::filesystem::path folder = destination_.parent_path();
    if (folder.empty()) folder = ".";
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

}  // namespace rtmix::files
