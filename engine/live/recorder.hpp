// The live recorder: the master as the player plays it, into a file.
//
// The audio thread hands each block to push(), which copies it, interleaved, into a wait-free
// single-producer ring (Boost.Lockfree) sized for `buffer_s` seconds; a writer thread of its own
// empties the ring into a files::AsideWriter, which writes the file aside (quantizing and
// dithering integer files as a render does). When the writer falls so far behind that a block
// does not fit, the block is dropped whole and counted (lost_frames), never waited for. finish()
// (control thread) drains the ring, and renames the file into place.
//
// Threads: push() and the `begun` flag belong to the audio thread (wait-free, no allocation);
// the constructor, finish() and the destructor to the control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "files/audio_file.hpp"
#include "rtmix/live.hpp"

namespace rtmix::live {

class Recorder {
public:
    /// Starts the writer thread. `max_block_frames`: the most push() is given at once.
    Recorder(std::unique_ptr<files::AsideWriter> writer, std::filesystem::path output, double sample_rate,
             std::uint32_t max_block_frames, double buffer_s);
    /// Stops the writer thread; a file not finished is removed (written aside, never renamed).
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    /// Audio thread: appends `frames` frames (at most max_block_frames), or drops them all and
    /// counts them when the ring lacks the room. Wait-free.
    void push(const float* left, const float* right, std::uint32_t frames) noexcept;

    /// Audio thread: set at the first frame the transport plays; the recording starts there.
    bool begun = false;
    /// Audio thread: frames push() still drops before it keeps any: the mix's latency, so that
    /// the file starts with the sound of the frame the transport started from.
    std::uint32_t skip = 0;

    /// Control thread, once the audio thread no longer calls push(): writes what the ring holds,
    /// then finishes the file and renames it into place. Throws files::FileError (the file is
    /// then removed).
    RecordSummary finish();

private:
    void run();  // the writer thread

    std::unique_ptr<files::AsideWriter> writer_;
    std::filesystem::path output_;
    boost::lockfree::spsc_queue<float> ring_;     // interleaved frames, whole frames at a time
    std::vector<float> interleaved_;              // audio thread: push()'s copy
    std::atomic<std::uint64_t> lost_frames_{0};
    std::atomic<bool> stop_{false};
    std::vector<float> chunk_, left_, right_;     // writer thread
    std::uint64_t written_frames_ = 0;            // writer thread; read after join
    std::string error_;                           // writer thread; read after join
    std::thread thread_;
};

}  // namespace rtmix::live
