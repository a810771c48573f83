// Real files for the session, render and program tests: a temporary folder per test, text files,
// and audio files written and read back with libsndfile.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sndfile.h>

namespace rtmix::test {

/// A new, empty folder under the system's temporary folder; removed with its contents at the end.
class TempDir {
public:
    TempDir() {
        static std::atomic<unsigned> counter{0};
        const auto base = std::filesystem::temp_directory_path();
        std::random_device random;
        for (int attempt = 0;; ++attempt) {
            path_ = base / ("rtmix-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                            std::to_string(random() % 1000000u));
            if (std::filesystem::create_directory(path_)) break;  // false: the name was taken
            if (attempt > 100) throw std::runtime_error("cannot create a temporary folder in " + base.string());
        }
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::filesystem::path& relative) const { return path_ / relative; }

private:
    std::filesystem::path path_;
};

/// Writes `text` to `file`, creating its folder.
inline void write_text(const std::filesystem::path& file, std::string_view text) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

/// The bytes of `file`.
inline std::string read_bytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The names of the entries of `folder`, sorted (hidden files included).
inline std::vector<std::string> folder_entries(const std::filesystem::path& folder) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

/// An audio file's header and its samples, one vector per channel.
struct Audio {
    int format = 0;  ///< libsndfile's SF_FORMAT_* bits: major type | subtype
    int sample_rate = 0;
    std::vector<std::vector<float>> channels;

    std::size_t frames() const { return channels.empty() ? 0 : channels.front().size(); }
    /// The largest |sample| over all channels.
    double peak() const {
        float p = 0.0f;
        for (const auto& ch : channels)
            for (const float x : ch) p = std::max(p, x < 0 ? -x : x);
        return p;
    }
};

/// Writes `channels` (all the same length) as an audio file; `format` is libsndfile's
/// major | subtype (default: WAV, 32-bit float, which stores the samples exactly).
inline void write_audio(const std::filesystem::path& file, const std::vector<std::vector<float>>& channels,
                        int sample_rate, int format = SF_FORMAT_WAV | SF_FORMAT_FLOAT) {
    std::filesystem::create_directories(file.parent_path());
    SF_INFO info{};
    info.samplerate = sample_rate;
    info.channels = static_cast<int>(channels.size());
    info.format = format;
    SNDFILE* f = sf_open(file.c_str(), SFM_WRITE, &info);
    if (f == nullptr) throw std::runtime_error("cannot write " + file.string() + ": " + sf_strerror(nullptr));
    const std::size_t frames = channels.front().size();
    std::vector<float> interleaved(frames * channels.size());
    for (std::size_t i = 0; i < frames; ++i)
        for (std::size_t c = 0; c < channels.size(); ++c) interleaved[i * channels.size() + c] = channels[c][i];
    const sf_count_t written = sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(frames));
    sf_close(f);
    if (written != static_cast<sf_count_t>(frames)) throw std::runtime_error("short write to " + file.string());
}

/// Reads a whole audio file as floats (integer samples scaled to [-1, 1) by libsndfile).
inline Audio read_audio(const std::filesystem::path& file) {
    SF_INFO info{};
    SNDFILE* f = sf_open(file.c_str(), SFM_READ, &info);
    if (f == nullptr) throw std::runtime_error("cannot read " + file.string() + ": " + sf_strerror(nullptr));
    const auto frames = static_cast<std::size_t>(info.frames);
    const auto count = static_cast<std::size_t>(info.channels);
    std::vector<float> interleaved(frames * count);
    const sf_count_t got = sf_readf_float(f, interleaved.data(), info.frames);
    sf_close(f);
    if (got != info.frames) throw std::runtime_error("short read from " + file.string());
    Audio a;
    a.format = info.format;
    a.sample_rate = info.samplerate;
    a.channels.assign(count, std::vector<float>(frames));
    for (std::size_t i = 0; i < frames; ++i)
        for (std::size_t c = 0; c < count; ++c) a.channels[c][i] = interleaved[i * count + c];
    return a;
}

/// Decodes `bytes` (an audio file, perhaps streamed: a FLAC or WAV stream that does not know its
/// length) by writing them to `file` and reading that back to its end.
inline Audio decode_audio(const std::filesystem::path& file, const std::string& bytes) {
    write_text(file, bytes);
    SF_INFO info{};
    SNDFILE* f = sf_open(file.c_str(), SFM_READ, &info);
    if (f == nullptr) throw std::runtime_error("cannot decode " + file.string() + ": " + sf_strerror(nullptr));
    Audio a;
    a.format = info.format;
    a.sample_rate = info.samplerate;
    a.channels.resize(static_cast<std::size_t>(info.channels));
    std::vector<float> chunk(4096 * a.channels.size());
    for (sf_count_t n; (n = sf_readf_float(f, chunk.data(), 4096)) > 0;)
        for (sf_count_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < a.channels.size(); ++c)
                a.channels[c].push_back(chunk[static_cast<std::size_t>(i) * a.channels.size() + c]);
    sf_close(f);
    return a;
}

}  // namespace rtmix::test
