#include "live/recorder.hpp"

#include <algorithm>
#include <chrono>

namespace rtmix::live {

namespace {

constexpr std::uint32_t writer_chunk_frames = 4096;
constexpr auto writer_idle = std::chrono::milliseconds(5);

std::size_t ring_samples(double sample_rate, std::uint32_t max_block_frames, double buffer_s) {
    const auto frames = static_cast<std::size_t>(std::max(buffer_s, 0.1) * sample_rate);
    return 2 * std::max<std::size_t>(frames, 4 * static_cast<std::size_t>(max_block_frames));
}

}  // namespace

Recorder::Recorder(std::unique_ptr<files::AsideWriter> writer, std::filesystem::path output, double sample_rate,
                   std::uint32_t max_block_frames, double buffer_s)
    : writer_(std::move(writer)),
      output_(std::move(output)),
      ring_(ring_samples(sample_rate, max_block_frames, buffer_s)),
      interleaved_(2 * static_cast<std::size_t>(max_block_frames)),
      chunk_(2 * writer_chunk_frames),
      left_(writer_chunk_frames),
      right_(writer_chunk_frames) {
    thread_ = std::thread([this] { run(); });
}

Recorder::~Recorder() {
    stop_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
}

void Recorder::push(const float* left, const float* right, std::uint32_t frames) noexcept {
    frames = std::min<std::uint32_t>(frames, static_cast<std::uint32_t>(interleaved_.size() / 2));
    if (skip > 0) {
        const std::uint32_t k = std::min(skip, frames);
        skip -= k;
        left += k;
        right += k;
        frames -= k;
        if (frames == 0) return;
    }
    const std::size_t samples = 2 * static_cast<std::size_t>(frames);
    if (ring_.write_available() < samples) {  // the writer is behind: drop the block whole
        lost_frames_.fetch_add(frames, std::memory_order_relaxed);
        return;
    }
    for (std::uint32_t i = 0; i < frames; ++i) {
        interleaved_[2 * i] = left[i];
        interleaved_[2 * i + 1] = right[i];
    }
    ring_.push(interleaved_.data(), samples);
}

void Recorder::run() {
    for (;;) {
        // Read the flag first: whatever was pushed before stop_ was set is in the ring by now.
        const bool stopping = stop_.load(std::memory_order_acquire);
        const std::size_t n = ring_.pop(chunk_.data(), chunk_.size());  // whole frames: pushed in pairs
        if (n == 0) {
            if (stopping) return;
            std::this_thread::sleep_for(writer_idle);
            continue;
        }
        if (!error_.empty()) continue;  // after a failure: empty the ring, write nothing
        const std::size_t frames = n / 2;
        for (std::size_t i = 0; i < frames; ++i) {
            left_[i] = chunk_[2 * i];
            right_[i] = chunk_[2 * i + 1];
        }
        try {
            writer_->write(left_.data(), right_.data(), static_cast<std::uint32_t>(frames));
            written_frames_ += frames;
        } catch (const std::exception& e) {
            error_ = e.what();
        }
    }
}

RecordSummary Recorder::finish() {
    stop_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
    if (!error_.empty()) {
        writer_.reset();  // removes the file written aside
        throw files::FileError(error_);
    }
    writer_->commit();
    RecordSummary s;
    s.output = output_;
    s.frames = written_frames_;
    s.lost_frames = lost_frames_.load(std::memory_order_relaxed);
    s.clipped_samples = writer_->clipped();
    return s;
}

}  // namespace rtmix::live
