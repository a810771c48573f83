#include "live/stream.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace rtmix::live {

namespace {

// The reader sleeps on a futex; the audio thread's wake is one syscall, made only when the
// reader is asleep, at most once per callback. The timeout is a safety net, not the mechanism.
void futex_wait_for(std::atomic<std::uint32_t>& word, std::uint32_t expected, long ns) noexcept {
    timespec timeout{0, ns};
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, &timeout, nullptr, 0);
}

void futex_wake_one(std::atomic<std::uint32_t>& word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

}  // namespace

TrackStream::TrackStream(const Stem& s, std::int64_t offset_frames, std::uint32_t chunk_frames, std::uint32_t chunk_count)
    : stem(s), offset(offset_frames), channels(s.channels), filled(chunk_count), free(chunk_count) {
    storage.assign(static_cast<std::size_t>(chunk_frames) * channels * chunk_count, 0.0f);
    chunks.resize(chunk_count);
    for (std::uint32_t i = 0; i < chunk_count; ++i) {
        float* base = storage.data() + static_cast<std::size_t>(i) * chunk_frames * channels;
        chunks[i].data[0] = base;
        chunks[i].data[1] = channels == 2 ? base + chunk_frames : base;
        free.push(&chunks[i]);
    }
}

Streamer::Streamer(const std::vector<const SessionStrip*>& tracks, double rate, double read_ahead_s,
                   std::uint32_t max_block_frames, std::function<void()> on_chunk)
    : rate_(rate), chunk_frames_(2048), on_chunk_(std::move(on_chunk)) {
    // Enough chunks for the read-ahead, and never fewer than two blocks' worth plus one being
    // filled, so a large callback always finds its audio when the disk keeps up.
    const double ahead = std::max(read_ahead_s, 0.05) * rate;
    std::uint32_t count = static_cast<std::uint32_t>(std::ceil(ahead / chunk_frames_));
    count = std::max({count, 4u, 2 * ((max_block_frames + chunk_frames_ - 1) / chunk_frames_) + 2});
    files::check_open_file_room(tracks.size());
    for (const SessionStrip* s : tracks) {
        const auto offset = static_cast<std::int64_t>(std::llround(s->offset_ms / 1000.0 * rate));
        auto t = std::make_unique<TrackStream>(s->stem, offset, chunk_frames_, count);
        t->reader = std::make_unique<files::StemReader>(s->stem, rate);
        buffer_bytes_ += t->storage.size() * sizeof(float);
        tracks_.push_back(std::move(t));
    }
    thread_ = std::thread([this] { run(); });
}

Streamer::~Streamer() {
    quit_.store(true);
    wake_word_.fetch_add(1);
    futex_wake_one(wake_word_);
    thread_.join();
}

std::string Streamer::error() const {
    std::lock_guard lock(error_mutex_);
    return error_;
}

bool Streamer::wait_full(double timeout_s) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
        bool full = true;
        for (const auto& t : tracks_) full = full && (t->broken || t->free.read_available() == 0);
        if (full) return true;
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

bool Streamer::post(const Cue& cue) noexcept {
    const bool ok = cues_.push(cue);
    wake();
    return ok;
}

void Streamer::wake() noexcept {
    // Sequentially consistent on both sides: either the reader sees the new word before it
    // sleeps, or this sees it sleeping.
    wake_word_.fetch_add(1);
    if (sleeping_.load()) futex_wake_one(wake_word_);
}

void Streamer::apply(const Cue& cue) {
    cue_ = cue;
    for (auto& t : tracks_) {
        t->next_index = 0;
        t->next_frame = cue.start;
    }
}

bool Streamer::fill_one(TrackStream& t) {
    Chunk* c = nullptr;
    if (!t.free.pop(c)) return false;
    if (on_chunk_) on_chunk_();
    // A chunk never crosses the loop end: the next one starts at the loop start.
    std::int64_t n = chunk_frames_;
    if (cue_.loops() && t.next_frame < cue_.loop_end) n = std::min(n, cue_.loop_end - t.next_frame);
    const auto frames = static_cast<std::uint32_t>(n);
    if (t.broken) {
        std::fill_n(c->data[0], frames, 0.0f);
        if (t.channels == 2) std::fill_n(c->data[1], frames, 0.0f);
    } else {
        try {
            if (t.reader_at != t.next_frame) t.reader->restart_at(t.next_frame - t.offset);
            t.reader->read(c->data, frames);
            t.reader_at = t.next_frame + n;
        } catch (const std::exception& e) {
            t.broken = true;
            t.reader_at = -1;
            std::fill_n(c->data[0], frames, 0.0f);
            if (t.channels == 2) std::fill_n(c->data[1], frames, 0.0f);
            std::lock_guard lock(error_mutex_);
            if (error_.empty()) error_ = e.what();
        }
    }
    c->generation = cue_.generation;
    c->index = t.next_index;
    c->frames = frames;
    t.next_index += n;
    t.next_frame = cue_.advance(t.next_frame, n);
    t.filled.push(c);
    return true;
}

void Streamer::run() {
    pthread_setname_np(pthread_self(), "rtmix-reader");
    while (!quit_.load()) {
        const std::uint32_t seen = wake_word_.load(std::memory_order_acquire);
        Cue cue;
        bool cued = false;
        while (cues_.pop(cue)) cued = true;
        if (cued) apply(cue);
        // Round robin, one chunk per track per turn, so no track starves while another reads
        // far ahead; a new cue interrupts the turn.
        bool any = true, did = false;
        while (any && !quit_.load() && cues_.read_available() == 0) {
            any = false;
            for (auto& t : tracks_) any = fill_one(*t) || any;
            did = did || any;
        }
        if (did || cues_.read_available() != 0) continue;
        sleeping_.store(true);
        if (wake_word_.load() == seen) futex_wait_for(wake_word_, seen, 20'000'000);
        sleeping_.store(false);
    }
}

}  // namespace rtmix::live
