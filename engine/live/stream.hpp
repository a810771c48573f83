// Disk streaming for live play: a reader thread decodes every file track ahead of the play
// position into a fixed pool of chunks per track; the audio thread takes filled chunks and
// gives them back. Two wait-free SPSC queues per track carry the chunk pointers (filled: reader
// to audio; free: audio to reader), so memory is fixed when the player starts, whatever the
// length of the stems.
//
// Positions. The audio thread owns the transport. Every locate or loop change starts a new
// *generation*: the audio thread sends a Cue {generation, start frame, loop} to the reader and
// from then on counts a stream index from 0. The reader fills chunks tagged with the generation
// and the stream index of their first frame, following the same loop rule, so both sides agree
// on which timeline frame each stream index is without talking again. Chunks of an older
// generation are given back unread; after an underrun the audio thread skips the frames it
// missed, so every track stays in time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "files/audio_file.hpp"
#include "rtmix/session.hpp"

namespace rtmix::live {

/// Where a generation starts and how it loops (loop_end <= loop_start: no loop).
struct Cue {
    std::uint64_t generation = 0;
    std::int64_t start = 0;  ///< timeline frame of stream index 0
    std::int64_t loop_start = 0, loop_end = 0;
    bool loops() const noexcept { return loop_end > loop_start && start < loop_end; }
    /// The timeline frame after `frames` more frames played from `position` (a frame of this cue).
    std::int64_t advance(std::int64_t position, std::int64_t frames) const noexcept {
        std::int64_t p = position + frames;
        if (loops() && position < loop_end && p >= loop_end) p = loop_start + (p - loop_end) % (loop_end - loop_start);
        return p;
    }
};

struct Chunk {
    std::uint64_t generation = 0;
    std::int64_t index = 0;      ///< stream index of the first frame
    std::uint32_t frames = 0;
    float* data[2] = {nullptr, nullptr};
};

/// One file track's stream: the chunk pool and the two queues.
struct TrackStream {
    TrackStream(const Stem& stem, std::int64_t offset, std::uint32_t chunk_frames, std::uint32_t chunk_count);

    Stem stem;
    std::int64_t offset = 0;   ///< timeline frame of the stem's first frame
    std::uint32_t channels = 1;
    std::vector<float> storage;
    std::vector<Chunk> chunks;
    boost::lockfree::spsc_queue<Chunk*> filled, free;

    // Reader thread only.
    std::unique_ptr<files::StemReader> reader;
    std::int64_t reader_at = -1;  ///< timeline frame the reader produces next (-1: unknown)
    std::int64_t next_index = 0;
    std::int64_t next_frame = 0;  ///< timeline frame of next_index
    std::atomic<bool> broken{false};  ///< a read failed: silence from now on (read by the control side)

    // Audio thread only.
    Chunk* current = nullptr;
    bool faded_out = true;  ///< the last frame played was silence: fade the next audio in

    std::atomic<std::uint64_t> underruns{0};
};

/// The reader thread and every track's stream.
class Streamer {
public:
    /// Opens every stem (throws files::FileError) and starts the reader at timeline frame 0.
    Streamer(const std::vector<const SessionStrip*>& tracks, double rate, double read_ahead_s,
             std::uint32_t max_block_frames, std::function<void()> on_chunk);
    ~Streamer();
    Streamer(const Streamer&) = delete;
    Streamer& operator=(const Streamer&) = delete;

    std::vector<std::unique_ptr<TrackStream>>& tracks() noexcept { return tracks_; }
    std::size_t buffer_bytes() const noexcept { return buffer_bytes_; }
    /// A stem that failed while playing (control side), else empty.
    std::string error() const;
    /// Waits (control side) until every ring is full or `timeout_s` passes; true when full.
    bool wait_full(double timeout_s) const;

    // Audio thread: hand a new cue to the reader; wake it after giving chunks back.
    bool post(const Cue& cue) noexcept;
    void wake() noexcept;

private:
    void run();
    bool fill_one(TrackStream& t);  // false when the track's pool has no free chunk
    void apply(const Cue& cue);

    std::vector<std::unique_ptr<TrackStream>> tracks_;
    double rate_;
    std::uint32_t chunk_frames_;
    std::size_t buffer_bytes_ = 0;
    std::function<void()> on_chunk_;
    boost::lockfree::spsc_queue<Cue> cues_{64};
    Cue cue_;  // reader thread: the generation it fills
    std::atomic<std::uint32_t> wake_word_{0};
    std::atomic<bool> sleeping_{false};
    std::atomic<bool> quit_{false};
    mutable std::mutex error_mutex_;
    std::string error_;
    std::thread thread_;
};

}  // namespace rtmix::live
