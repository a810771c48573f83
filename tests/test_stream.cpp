// The Player's disk streaming and transport, without an audio device: the tests call process()
// themselves, in blocks, as a device's callback would, and compare the master with the stems'
// known samples frame by frame: plain play and offsets, locate, loops, stop and play, an hour-long
// stem in bounded memory, a stalled reader and a stem whose file breaks while playing.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sndfile.h>

#include "files.hpp"
#include "rtmix/live.hpp"
#include "rtmix/session.hpp"

// GCC says so with __SANITIZE_ADDRESS__ and __SANITIZE_THREAD__, Clang with __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RTMIX_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RTMIX_TEST_SANITIZED 1
#endif
#endif
#ifndef RTMIX_TEST_SANITIZED
#define RTMIX_TEST_SANITIZED 0
#endif

using namespace rtmix;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

const double fs = 48000.0;

/// The Player's declick: a stop or a locate while playing fades the current audio out over this
/// many frames, and audio that follows silence fades in over as many (player.cpp, fade_frames),
/// unless it starts at or before the stem's first frame (as a render does).
constexpr std::int64_t declick = 128;

/// Gain of the fade-in on the i-th frame of audio after silence: (i + 1) / 129, then 1.
double fade_in(std::int64_t i) { return i < declick ? static_cast<double>(i + 1) / (declick + 1) : 1.0; }
/// Gain of the fade-out on the i-th frame of a piece that stops or locates: 1 - (i + 1) / 128.
double fade_out(std::int64_t i) { return 1.0 - static_cast<double>(i + 1) / declick; }

/// Sample i of the test stems: a pseudo-random sequence of 10007 distinct levels in [-0.45, 0.45)
/// (10007 is prime and 7919 is coprime to it), so any slip in position by fewer than 10007 frames
/// shows at once, whatever the block and chunk sizes.
float stem_value(std::int64_t i) {
    return static_cast<float>(static_cast<double>((i * 7919) % 10007) / 10007.0 * 0.9 - 0.45);
}

std::vector<float> stem_samples(std::int64_t frames) {
    std::vector<float> x(static_cast<std::size_t>(frames));
    for (std::int64_t i = 0; i < frames; ++i) x[static_cast<std::size_t>(i)] = stem_value(i);
    return x;
}

/// Writes `text` as DIR/session.toml (dropping a leading line break) and loads it.
Session load_session(const TempDir& dir, std::string text) {
    if (!text.empty() && text.front() == '\n') text.erase(0, 1);
    test::write_text(dir / "session.toml", text);
    return Session::load(dir / "session.toml");
}

/// A 48 kHz session with one mono track "a" playing stems/a.wav hard left: the equal-power pan
/// law gives left = cos 0 = 1 and right = sin 0 = 0, so the left output is the stem itself.
/// The master keeps its defaults: the limiter is off (no latency), nothing else changes audio.
Session one_track(const TempDir& dir, double offset_ms = 0.0) {
    std::string text = R"(
[session]
sample_rate = 48000
block_frames = 256

[[track]]
name = "a"
file = "stems/a.wav"
gain_db = 0
pan = -1
)";
    text += "offset_ms = ";
    text += std::to_string(offset_ms);
    text += "\n";
    return load_session(dir, text);
}

struct Stereo {
    std::vector<float> left, right;
};

/// Waits until the reader has topped up the read-ahead. It usually takes microseconds, far less
/// than the 2 ms wait_until_buffered() sleeps between looks, so it first looks without sleeping.
bool top_up(Player& player) {
    for (int i = 0; i < 1000; ++i) {
        if (player.wait_until_buffered(0.0)) return true;
        std::this_thread::yield();
    }
    return player.wait_until_buffered(5.0);
}

/// Runs `frames` frames through `player` in process() calls of `block` frames. The tests run far
/// faster than real time, so every `refill` frames (0: never) they wait for the reader to top up
/// the read-ahead, as a real device's pace would let it.
Stereo run(Player& player, std::int64_t frames, std::uint32_t block = 256, std::int64_t refill = 24000) {
    Stereo out;
    out.left.resize(static_cast<std::size_t>(frames));
    out.right.resize(static_cast<std::size_t>(frames));
    std::int64_t since_refill = 0;
    for (std::int64_t done = 0; done < frames;) {
        const auto n = static_cast<std::uint32_t>(std::min<std::int64_t>(block, frames - done));
        float* outputs[2] = {out.left.data() + done, out.right.data() + done};
        player.process(nullptr, 0, outputs, n);
        done += n;
        since_refill += n;
        if (refill > 0 && since_refill >= refill) {
            REQUIRE(top_up(player));
            since_refill = 0;
        }
    }
    return out;
}

/// Checks x[from, to) against expected(i) within 1e-6, reporting the first frame that differs.
void check_frames(const std::vector<float>& x, std::int64_t from, std::int64_t to,
                  const std::function<double(std::int64_t)>& expected, const char* what) {
    REQUIRE(to <= static_cast<std::int64_t>(x.size()));
    std::int64_t bad = -1, count = 0;
    for (std::int64_t i = from; i < to; ++i)
        if (std::fabs(static_cast<double>(x[static_cast<std::size_t>(i)]) - expected(i)) > 1e-6) {
            if (bad < 0) bad = i;
            ++count;
        }
    std::ostringstream first;
    if (bad >= 0)
        first << ", the first at frame " << bad << ": expected " << expected(bad) << ", got "
              << x[static_cast<std::size_t>(bad)];
    INFO(what << ": " << count << " of frames " << from << " to " << to << " differ" << first.str());
    CHECK(bad == -1);
}

const auto silence = [](std::int64_t) { return 0.0; };

/// Lets the session's values settle before the transport starts. Session::apply() sets pan = -1
/// on a track created at the default 0, and the engine ramps every continuous parameter from its
/// default over the smoothing time (20 ms) from the first block it processes; the Player does not
/// run those ramps out itself (the offline renderer does: four ramps and a block of silence).
/// 100 ms of stopped callbacks, which must be silent, do it here, so the played audio meets the
/// session's gains exactly.
void settle(Player& player) {
    const Stereo quiet = run(player, 4800, 256, 0);
    check_frames(quiet.left, 0, 4800, silence, "left while stopped");
    check_frames(quiet.right, 0, 4800, silence, "right while stopped");
}

/// Holds the reader thread in PlayerOptions::on_reader_chunk while closed.
class Gate {
public:
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    void open() {
        {
            std::lock_guard lock(mutex_);
            closed_ = false;
        }
        changed_.notify_all();
    }
    /// The hook: returns at once while open, else waits until opened.
    void pass() {
        std::unique_lock lock(mutex_);
        if (closed_) {
            held_ = true;
            changed_.notify_all();
        }
        changed_.wait(lock, [this] { return !closed_; });
    }
    /// Waits (at most `timeout_s`) until the reader has been held at least once.
    bool wait_held(double timeout_s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::duration<double>(timeout_s), [this] { return held_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool closed_ = false, held_ = false;
};

/// Opens the gate when the scope ends, even when a failed REQUIRE leaves it early: the Player's
/// destructor joins the reader, which must not be held then.
struct Reopen {
    Gate& gate;
    ~Reopen() { gate.open(); }
};

/// The process's resident memory, in bytes (VmRSS of /proc/self/status).
std::int64_t resident_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    throw std::runtime_error("no VmRSS in /proc/self/status");
}

void put_le(std::string& s, std::uint32_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((value >> (8 * i)) & 0xffu));
}

/// Writes a mono 16-bit 48 kHz WAV of `frames` frames of silence as a sparse file (a header, then
/// a hole the size of the data), with `marker_frames` samples of 16384 (0.5 once decoded) at each
/// of `markers`. It costs a few kilobytes of disk whatever its length.
void write_sparse_wav(const std::filesystem::path& file, std::int64_t frames, const std::vector<std::int64_t>& markers,
                      std::int64_t marker_frames) {
    const auto data_bytes = static_cast<std::uint32_t>(frames * 2);
    std::string header = "RIFF";
    put_le(header, 36 + data_bytes, 4);
    header += "WAVEfmt ";
    put_le(header, 16, 4);      // fmt chunk size
    put_le(header, 1, 2);       // PCM
    put_le(header, 1, 2);       // mono
    put_le(header, 48000, 4);   // frames per second
    put_le(header, 96000, 4);   // bytes per second
    put_le(header, 2, 2);       // bytes per frame
    put_le(header, 16, 2);      // bits per sample
    header += "data";
    put_le(header, data_bytes, 4);
    REQUIRE(header.size() == 44);

    std::filesystem::create_directories(file.parent_path());
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    bool ok = ::write(fd, header.data(), header.size()) == static_cast<ssize_t>(header.size());
    ok = ok && ::ftruncate(fd, static_cast<off_t>(header.size()) + data_bytes) == 0;
    std::string burst;
    for (std::int64_t i = 0; i < marker_frames; ++i) put_le(burst, 16384, 2);
    for (const std::int64_t m : markers)
        ok = ok && ::pwrite(fd, burst.data(), burst.size(), static_cast<off_t>(44 + m * 2)) ==
                       static_cast<ssize_t>(burst.size());
    ::close(fd);
    REQUIRE(ok);
}

/// The descriptors of this process open on `file`.
std::vector<int> descriptors_of(const std::filesystem::path& file) {
    const auto target = std::filesystem::canonical(file);
    std::vector<int> fds;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        std::error_code link_ec;
        const auto points_to = std::filesystem::read_symlink(entry.path(), link_ec);
        if (!link_ec && points_to == target) fds.push_back(std::stoi(entry.path().filename().string()));
    }
    return fds;
}

}  // namespace

TEST_CASE("a stem streams to the master sample for sample from its first frame", "[stream]") {
    TempDir dir;
    const std::int64_t frames = 96000;  // 2 s
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir);
    Player player(session);
    CHECK(player.length_s() == Approx(2.0));
    REQUIRE(player.engine().latency_frames() == 0);
    settle(player);
    CHECK(player.transport().position_frames == 0);
    CHECK_FALSE(player.transport().playing);

    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    // Past the stem's end: silence there.
    const Stereo out = run(player, frames + 24000);
    check_frames(out.left, 0, frames, [](std::int64_t i) { return stem_value(i); }, "left: the stem");
    check_frames(out.left, frames, frames + 24000, silence, "left after the stem");
    check_frames(out.right, 0, frames + 24000, silence, "right (hard left pan)");
    const TransportState t = player.transport();
    CHECK(t.playing);
    CHECK(t.position_frames == frames + 24000);
    CHECK(t.position_s == Approx(2.5));
    CHECK(player.stream_stats().underruns == 0);
}

TEST_CASE("the first callback plays at the session's values without a glide from the defaults", "[stream]") {
    // No settling run here: the player must settle its values itself before the first callback.
    // The smoothers start at the defaults (0 dB, centre, EQ flat); left alone, the first 20 ms
    // would glide from there to -40 dB hard left.
    TempDir dir;
    const std::int64_t frames = 9600;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = load_session(dir, R"(
[session]
sample_rate = 48000
block_frames = 256

[[track]]
name = "a"
file = "stems/a.wav"
gain_db = -40
pan = -1
)");
    Player player(session);
    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    const Stereo out = run(player, frames);
    const double g = 0.01;  // -40 dB
    check_frames(out.left, 0, frames, [&](std::int64_t i) { return g * stem_value(i); }, "left");
    check_frames(out.right, 0, frames, silence, "right (hard left pan)");
}

TEST_CASE("a centred mono track reaches both sides at the equal-power gain", "[stream]") {
    TempDir dir;
    const std::int64_t frames = 48000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = load_session(dir, R"(
[[track]]
name = "a"
file = "stems/a.wav"
)");
    Player player(session);
    settle(player);
    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    const Stereo out = run(player, frames);
    // theta = (0 + 1) pi / 4: cos = sin = 1 / sqrt 2.
    const double g = std::sqrt(0.5);
    check_frames(out.left, 0, frames, [&](std::int64_t i) { return g * stem_value(i); }, "left");
    check_frames(out.right, 0, frames, [&](std::int64_t i) { return g * stem_value(i); }, "right");
}

TEST_CASE("offset_ms moves the stem on the live timeline by exactly its frames", "[stream]") {
    // 250 ms: 12000 frames of silence first; -100 ms: the stem's first 4800 frames are cut.
    const double offset_ms = GENERATE(250.0, -100.0);
    const auto offset = static_cast<std::int64_t>(offset_ms * 48.0);
    INFO("offset_ms = " << offset_ms);
    TempDir dir;
    const std::int64_t frames = 48000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir, offset_ms);
    Player player(session);
    CHECK(player.length_s() == Approx(1.0 + offset_ms / 1000.0));
    settle(player);
    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    const std::int64_t total = 72000;
    const Stereo out = run(player, total);
    // A positive offset: silence, then the stem from its first frame at full level, as a render
    // has it. A negative one starts inside the stem: it fades in over timeline frames 0 to 127.
    check_frames(out.left, 0, total,
                 [&](std::int64_t i) {
                     const std::int64_t s = i - offset;
                     return (s >= 0 && s < frames ? stem_value(s) : 0.0) * (offset < 0 ? fade_in(i) : 1.0);
                 },
                 "left");
    check_frames(out.right, 0, total, silence, "right");
}

TEST_CASE("locate fades out then plays the stem from the new time sample for sample", "[stream]") {
    TempDir dir;
    const std::int64_t frames = 3 * 48000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir);
    Player player(session);
    settle(player);
    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    const Stereo first = run(player, 24000);
    check_frames(first.left, 0, 24000, [](std::int64_t i) { return stem_value(i); }, "before locate");

    // Forward, to 2 s (frame 96000), then back, to 0.25 s (frame 12000).
    for (const std::int64_t target : {std::int64_t{96000}, std::int64_t{12000}}) {
        INFO("locate to frame " << target);
        const std::int64_t from = player.transport().position_frames;
        player.locate(static_cast<double>(target) / fs);
        // The next callback: the old audio fades out over its first 128 frames, then silence.
        const Stereo turn = run(player, 256, 256, 0);
        check_frames(turn.left, 0, 256,
                     [&](std::int64_t i) { return i < declick ? stem_value(from + i) * fade_out(i) : 0.0; },
                     "the declick");
        check_frames(turn.right, 0, 256, silence, "right");
        CHECK(player.transport().position_frames == target);
        CHECK(player.transport().position_s == Approx(static_cast<double>(target) / fs));

        // Once the reader has the new place: the stem from there, faded in.
        REQUIRE(player.wait_until_buffered(5.0));
        const Stereo after = run(player, 30000);
        check_frames(after.left, 0, 30000, [&](std::int64_t i) { return stem_value(target + i) * fade_in(i); },
                     "after locate");
        check_frames(after.right, 0, 30000, silence, "right");
        CHECK(player.transport().position_frames == target + 30000);
        CHECK(player.transport().position_s == Approx(static_cast<double>(target + 30000) / fs));
    }
    CHECK(player.stream_stats().underruns == 0);
}

TEST_CASE("a loop plays its region again and again sample for sample", "[stream]") {
    TempDir dir;
    const std::int64_t frames = 3 * 48000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir);
    Player player(session);
    settle(player);

    // Shorter than 50 ms, backwards or before time 0: refused at once (the play below shows the
    // transport went on without a loop).
    CHECK_THROWS_AS(player.set_loop(1.0, 1.04), std::invalid_argument);
    CHECK_THROWS_AS(player.set_loop(1.0, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(player.set_loop(-0.5, 0.5), std::invalid_argument);

    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    const Stereo first = run(player, 24000);
    check_frames(first.left, 0, 24000, [](std::int64_t i) { return stem_value(i); }, "before the loop");

    // [1 s, 1.5 s) = frames [48000, 72000): 24000 frames, not a multiple of the reader's chunks
    // nor of the blocks, so wraps fall inside both. The position (0.5 s) is outside the loop: the
    // transport fades out and jumps to the loop's start.
    const std::int64_t a = 48000, b = 72000;
    player.set_loop(1.0, 1.5);
    const Stereo turn = run(player, 256, 256, 0);
    check_frames(turn.left, 0, 256, [](std::int64_t i) { return i < declick ? stem_value(24000 + i) * fade_out(i) : 0.0; },
                 "the declick");
    const TransportState t = player.transport();
    CHECK(t.looping);
    CHECK(t.loop_start_s == Approx(1.0));
    CHECK(t.loop_end_s == Approx(1.5));
    CHECK(t.position_frames == a);

    // Four and a half times round: the wraps are seamless, only the jump into the loop fades in.
    REQUIRE(player.wait_until_buffered(5.0));
    const std::int64_t played = 108000;
    const Stereo loop = run(player, played);
    check_frames(loop.left, 0, played, [&](std::int64_t i) { return stem_value(a + i % (b - a)) * fade_in(i); },
                 "in the loop");
    check_frames(loop.right, 0, played, silence, "right");
    const std::int64_t at = a + played % (b - a);  // 60000
    CHECK(player.transport().position_frames == at);

    // Clearing the loop goes on from where the transport is, past the old loop end.
    player.clear_loop();
    const Stereo unloop = run(player, 256, 256, 0);
    check_frames(unloop.left, 0, 256, [&](std::int64_t i) { return i < declick ? stem_value(at + i) * fade_out(i) : 0.0; },
                 "the declick of clear_loop");
    CHECK_FALSE(player.transport().looping);
    CHECK(player.transport().position_frames == at + declick);
    REQUIRE(player.wait_until_buffered(5.0));
    const Stereo after = run(player, 24000);
    check_frames(after.left, 0, 24000, [&](std::int64_t i) { return stem_value(at + declick + i) * fade_in(i); },
                 "after clear_loop");
    CHECK(player.transport().position_frames == at + declick + 24000);
    CHECK(player.stream_stats().underruns == 0);
}

TEST_CASE("stop fades out and holds the position and play resumes from it", "[stream]") {
    TempDir dir;
    const std::int64_t frames = 3 * 48000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir);
    Player player(session);
    settle(player);
    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    run(player, 24000);

    player.stop();
    const Stereo stopped = run(player, 24000);
    check_frames(stopped.left, 0, 24000,
                 [](std::int64_t i) { return i < declick ? stem_value(24000 + i) * fade_out(i) : 0.0; },
                 "stop: the declick then silence");
    check_frames(stopped.right, 0, 24000, silence, "right");
    const std::int64_t held = 24000 + declick;
    CHECK_FALSE(player.transport().playing);
    CHECK(player.transport().position_frames == held);

    player.play();
    const Stereo resumed = run(player, 24000);
    check_frames(resumed.left, 0, 24000, [&](std::int64_t i) { return stem_value(held + i) * fade_in(i); }, "resumed");
    CHECK(player.transport().playing);
    CHECK(player.transport().position_frames == held + 24000);

    // A locate while stopped moves the position without a sound; play starts there.
    player.stop();
    run(player, 256, 256, 0);
    player.locate(2.0);
    const Stereo moved = run(player, 4800, 256, 0);
    check_frames(moved.left, 0, 4800, silence, "locate while stopped");
    CHECK(player.transport().position_frames == 96000);
    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    const Stereo from_two = run(player, 24000);
    check_frames(from_two.left, 0, 24000, [](std::int64_t i) { return stem_value(96000 + i) * fade_in(i); },
                 "play after locate");
    CHECK(player.stream_stats().underruns == 0);
}

TEST_CASE("an hour-long stem streams in bounded memory with every marker on its frame", "[stream][long]") {
    // In release the full hour; under the sanitizers, which slow everything by an order of
    // magnitude, ten minutes show the same (memory that grows with the stem would show there too),
    // and two under ThreadSanitizer, where the master's true-peak meter alone takes most of the
    // time (every tap of its interpolators is an instrumented load).
#if defined(__SANITIZE_THREAD__)
    const std::int64_t frames = 2LL * 60 * 48000;
#elif RTMIX_TEST_SANITIZED
    const std::int64_t frames = 10LL * 60 * 48000;
#else
    const std::int64_t frames = 60LL * 60 * 48000;  // 172,800,000 frames: 345.6 MB of samples
#endif
    // Markers: bursts of 32 samples at six places through the stem (a little past each sixth, so
    // none sits on a round frame) and one near the end.
    const std::int64_t burst = 32;
    std::vector<std::int64_t> markers;
    for (std::int64_t k = 0; k < 6; ++k) markers.push_back(k * (frames / 6) + 12345 + 977 * k);
    markers.push_back(frames - 1000);

    TempDir dir;
    write_sparse_wav(dir / "stems/a.wav", frames, markers, burst);
    {
        // libsndfile reads the hand-made header right: the length, and a marker where it belongs.
        SF_INFO info{};
        SNDFILE* f = sf_open((dir / "stems/a.wav").c_str(), SFM_READ, &info);
        REQUIRE(f != nullptr);
        CHECK(info.frames == frames);
        CHECK(info.channels == 1);
        CHECK(info.samplerate == 48000);
        std::vector<float> x(static_cast<std::size_t>(burst + 2));
        CHECK(sf_seek(f, markers[3] - 1, SEEK_SET) == markers[3] - 1);
        CHECK(sf_readf_float(f, x.data(), burst + 2) == burst + 2);
        sf_close(f);
        CHECK(x.front() == 0.0f);
        CHECK(x[1] == 0.5f);
        CHECK(x[static_cast<std::size_t>(burst)] == 0.5f);
        CHECK(x.back() == 0.0f);
    }
    const Session session = one_track(dir);
    REQUIRE(session.strips()[1].stem.frames == static_cast<std::uint64_t>(frames));

    PlayerOptions options;
    options.read_ahead_s = 1.5;
    options.max_block_frames = 4096;  // the whole 4096-frame callback in one engine block
    Player player(session, options);
    REQUIRE(player.engine().latency_frames() == 0);
    const StreamStats before = player.stream_stats();
    CHECK(before.buffer_bytes < 4u * 1024 * 1024);
    // The read-ahead is all the rings hold: 1.5 s of mono floats, give or take a chunk.
    CHECK(before.buffer_bytes >= static_cast<std::size_t>(1.5 * fs) * sizeof(float));
    settle(player);
    REQUIRE(player.wait_until_buffered(5.0));
    const std::int64_t rss_start = resident_bytes();

    // As fast as the reader allows: 4096-frame callbacks, topping the read-ahead up after every
    // 65536 frames (less than the 72000 frames of the read-ahead, so the ring never runs dry).
    // Only frames that are not silent are kept: the hour is not held in memory.
    player.play();
    const std::uint32_t block = 4096;
    std::vector<float> left(block), right(block);
    struct Heard {
        std::int64_t frame;
        float left, right;
    };
    std::vector<Heard> heard;
    const std::size_t expected_count = markers.size() * static_cast<std::size_t>(burst);
    heard.reserve(expected_count + 64);
    std::int64_t since_refill = 0;
    bool buffered = true;
    for (std::int64_t done = 0; done < frames;) {
        const auto n = static_cast<std::uint32_t>(std::min<std::int64_t>(block, frames - done));
        float* outputs[2] = {left.data(), right.data()};
        player.process(nullptr, 0, outputs, n);
        for (std::uint32_t i = 0; i < n; ++i)
            if ((left[i] != 0.0f || right[i] != 0.0f) && heard.size() < expected_count + 64)
                heard.push_back({done + i, left[i], right[i]});
        done += n;
        since_refill += n;
        if (since_refill >= 65536) {
            buffered = buffered && top_up(player);
            since_refill = 0;
        }
    }
    const std::int64_t rss_end = resident_bytes();
    CHECK(buffered);
    CHECK(player.transport().position_frames == frames);

    // Every marker sample on its own frame at 0.5 (hard left), and nothing anywhere else.
    std::vector<std::int64_t> expected_frames;
    for (const std::int64_t m : markers)
        for (std::int64_t i = 0; i < burst; ++i) expected_frames.push_back(m + i);
    std::vector<std::int64_t> heard_frames;
    bool levels = true;
    for (const Heard& h : heard) {
        heard_frames.push_back(h.frame);
        levels = levels && std::fabs(h.left - 0.5f) <= 1e-6f && h.right == 0.0f;
    }
    CHECK(heard_frames == expected_frames);
    CHECK(levels);

    const StreamStats after = player.stream_stats();
    CHECK(after.underruns == 0);
    CHECK(after.error.empty());
    CHECK(after.buffer_bytes == before.buffer_bytes);
    INFO("resident memory: " << rss_start / 1024 << " KiB before, " << rss_end / 1024 << " KiB after");
    CHECK(rss_end - rss_start < 64LL * 1024 * 1024);
}

TEST_CASE("a stalled reader never blocks process and its track comes back in time", "[stream]") {
    TempDir dir;
    const std::int64_t frames = 10 * 48000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir);

    Gate gate;  // outlives the player: the reader calls it until the player is gone
    PlayerOptions options;
    options.read_ahead_s = 1.5;
    options.on_reader_chunk = [&gate] { gate.pass(); };
    Player player(session, options);
    Reopen reopen{gate};  // destroyed before the player: the reader is never held at its join
    settle(player);
    REQUIRE(player.wait_until_buffered(5.0));
    const std::int64_t ring_frames = static_cast<std::int64_t>(player.stream_stats().buffer_bytes / sizeof(float));

    // The reader is held from its next chunk on: the track has what the ring holds, no more.
    // process() goes on for 3 s (twice the read-ahead) without waiting for anyone: were it to
    // block, this would hang and the test's timeout would fail it.
    gate.close();
    player.play();
    const std::int64_t total = 3 * 48000;
    const Stereo out = run(player, total, 256, 0);
    CHECK(gate.wait_held(5.0));

    // The stem up to where the ring ran dry, then silence.
    std::int64_t dry = 0;
    while (dry < total && std::fabs(out.left[static_cast<std::size_t>(dry)] -
                                    stem_value(dry)) <= 1e-6)
        ++dry;
    // The read-ahead played out and nothing the reader had not read. Not always all of it: the
    // reader may have taken the last chunk from the pool (wait_until_buffered() saw the pool
    // empty) and not yet filled it when the gate closed; it then waits at the gate with that
    // chunk. So: more than a second, and never more than the rings hold.
    INFO("the ring ran dry at frame " << dry << " of " << ring_frames);
    CHECK(dry > static_cast<std::int64_t>(fs));
    CHECK(dry <= ring_frames);
    check_frames(out.left, dry, total, silence, "left after the ring ran dry");
    check_frames(out.right, 0, total, silence, "right");
    CHECK(player.transport().position_frames == total);

    // One underrun per callback that lacked audio, all on the one track.
    const StreamStats stalled = player.stream_stats();
    const auto silent_blocks = static_cast<std::uint64_t>((total + 255) / 256 - dry / 256);
    CHECK(stalled.underruns == silent_blocks);
    REQUIRE(stalled.tracks.size() == 1);
    CHECK(stalled.tracks[0].first == "a");
    CHECK(stalled.tracks[0].second == stalled.underruns);

    // Released, the reader catches up; the track comes back at the transport's position, not
    // where it stopped: the frames it missed are skipped.
    gate.open();
    REQUIRE(player.wait_until_buffered(5.0));
    const Stereo first = run(player, 256, 256, 0);
    REQUIRE(player.wait_until_buffered(5.0));
    const Stereo rest = run(player, 48000);
    check_frames(first.left, 0, 256, [&](std::int64_t i) { return stem_value(total + i) * fade_in(i); }, "back");
    check_frames(rest.left, 0, 48000, [&](std::int64_t i) { return stem_value(total + 256 + i); }, "back, later");
    CHECK(player.transport().position_frames == total + 256 + 48000);
    CHECK(player.stream_stats().underruns == stalled.underruns);
}

TEST_CASE("a stem whose file breaks while playing turns silent and is reported", "[stream]") {
    TempDir dir;
    const std::int64_t frames = 10 * 48000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir);
    Player player(session);
    settle(player);
    REQUIRE(player.wait_until_buffered(5.0));
    const std::int64_t ring_frames = static_cast<std::int64_t>(player.stream_stats().buffer_bytes / sizeof(float));

    // On Linux an open file outlives its name, so deleting the stem would change nothing; what a
    // vanished disk or network share gives is a failing read. The reader's descriptor on the
    // stem (the player keeps it open) is made to fail by putting a folder in its place: read()
    // then fails with EISDIR.
    const std::vector<int> fds = descriptors_of(dir / "stems/a.wav");
    REQUIRE(fds.size() == 1);
    const int folder = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(folder >= 0);
    REQUIRE(::dup2(folder, fds[0]) == fds[0]);
    ::close(folder);

    player.play();
    const std::int64_t total = 3 * 48000;
    const Stereo out = run(player, total);

    // What the ring held plays; from the first failed read on, the track is silent, and the
    // callbacks go on.
    std::int64_t good = 0;
    while (good < total && std::fabs(out.left[static_cast<std::size_t>(good)] - stem_value(good)) <= 1e-6)
        ++good;
    // As with a stalled reader: the read-ahead, less the chunk the reader may have been filling
    // when the descriptor broke.
    INFO("the stem played up to frame " << good << " of " << ring_frames);
    CHECK(good > static_cast<std::int64_t>(fs));
    CHECK(good <= ring_frames);
    check_frames(out.left, good, total, silence, "left after the failure");
    check_frames(out.right, 0, total, silence, "right");
    CHECK(player.transport().position_frames == total);

    const StreamStats stats = player.stream_stats();
    CHECK_THAT(stats.error, Contains((dir / "stems/a.wav").string()));
    // The broken track plays silence from the ring, not gaps: no underruns.
    CHECK(stats.underruns == 0);

    // It stays silent after a locate, and the transport still works.
    player.locate(0.5);
    run(player, 256, 256, 0);
    REQUIRE(player.wait_until_buffered(5.0));
    const Stereo later = run(player, 24000);
    check_frames(later.left, 0, 24000, silence, "after a locate");
    CHECK(player.transport().position_frames == 24000 + 24000);
}

TEST_CASE("the control side watches the streams while the audio thread plays and a stem breaks", "[stream]") {
    // As a host runs it: process() on an audio thread of its own, the control thread polling
    // wait_until_buffered(), transport() and stream_stats() for a status display, the reader on
    // its thread; the stem's descriptor breaks meanwhile (see the test above). Under the thread
    // sanitizer this checks that what the control side reads is shared safely.
    TempDir dir;
    const std::int64_t frames = 30 * 48000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir);
    Player player(session);
    REQUIRE(player.wait_until_buffered(5.0));
    const auto ring_callbacks = static_cast<std::uint64_t>(player.stream_stats().buffer_bytes / sizeof(float) / 256 + 1);

    // 256-frame callbacks, a millisecond apart (about five times real time: the reader keeps
    // up). Once `watch` is set, the audio thread keeps the peak of what it plays.
    std::atomic<bool> quit{false}, watch{false};
    std::atomic<std::uint64_t> callbacks{0}, watched{0};
    std::atomic<float> watched_peak{0.0f};
    std::thread audio([&] {
        std::vector<float> left(256), right(256);
        float* outputs[2] = {left.data(), right.data()};
        while (!quit.load()) {
            player.process(nullptr, 0, outputs, 256);
            if (watch.load()) {
                float peak = watched_peak.load();
                for (std::size_t i = 0; i < 256; ++i) peak = std::max({peak, std::fabs(left[i]), std::fabs(right[i])});
                watched_peak.store(peak);
                watched.fetch_add(1);
            }
            callbacks.fetch_add(1);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    struct Join {  // stops the audio thread however the test ends, before the player goes
        std::atomic<bool>& quit;
        std::thread& thread;
        ~Join() {
            quit.store(true);
            thread.join();
        }
    } join{quit, audio};

    player.play();
    const std::vector<int> fds = descriptors_of(dir / "stems/a.wav");
    REQUIRE(fds.size() == 1);
    const int folder = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(folder >= 0);
    REQUIRE(::dup2(folder, fds[0]) == fds[0]);
    ::close(folder);

    // Bounded waits only: the test fails rather than hangs if something stops moving.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto poll = [&] {
        (void)player.wait_until_buffered(0.0);
        (void)player.transport();
        const StreamStats stats = player.stream_stats();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        return stats;
    };
    std::string error;
    while (error.empty() && std::chrono::steady_clock::now() < until) error = poll().error;
    CHECK_THAT(error, Contains((dir / "stems/a.wav").string()));

    // The callbacks go on. Once the audio read before the failure has played out (a ring's
    // worth of callbacks), the track is silent.
    const std::uint64_t at_error = callbacks.load();
    while (callbacks.load() < at_error + ring_callbacks && std::chrono::steady_clock::now() < until) (void)poll();
    watch.store(true);
    while (watched.load() < 50 && std::chrono::steady_clock::now() < until) (void)poll();
    CHECK(watched.load() >= 50);
    CHECK(watched_peak.load() == 0.0f);
    CHECK(player.transport().playing);
}

TEST_CASE("a recording holds what process() returned, from the first frame played, with the audio on its own thread",
          "[stream][record]") {
    TempDir dir;
    const std::int64_t frames = 96000;
    test::write_audio(dir / "stems/a.wav", {stem_samples(frames)}, 48000);
    const Session session = one_track(dir);
    Player player(session);
    REQUIRE(player.wait_until_buffered(5.0));
    // Stopped stretches before the play are not recorded.
    (void)run(player, 1000);
    player.start_recording({.output = dir / "take.wav", .sample = RenderOptions::Sample::float32});
    CHECK(player.recording());
    CHECK_THROWS_AS(player.start_recording({.output = dir / "other.wav"}), std::runtime_error);
    (void)run(player, 512);  // still stopped: nothing yet
    player.play();
    // The "audio thread": process() on a thread of its own while this one waits, then stops the
    // recording once it is done.
    Stereo played;
    std::thread audio([&] { played = run(player, 60000, 300); });
    audio.join();
    const RecordSummary rec = player.stop_recording();
    CHECK_FALSE(player.recording());
    CHECK(rec.frames == 60000);
    CHECK(rec.lost_frames == 0);
    const test::Audio file = test::read_audio(dir / "take.wav");
    REQUIRE(file.channels.size() == 2);
    CHECK(file.channels[0] == played.left);
    CHECK(file.channels[1] == played.right);
    // And what played is the stem from its first frame (no fade-in: it starts from silence).
    check_frames(file.channels[0], 0, 60000, [](std::int64_t i) { return stem_value(i); }, "recorded");
    CHECK_THROWS_AS(player.stop_recording(), std::logic_error);

    // An input as the output: refused before anything is written, the stem untouched.
    CHECK_THROWS_AS(player.start_recording({.output = dir / "stems/a.wav"}), RenderOptionsError);
    CHECK_THROWS_AS(check_recording(session, {.output = dir / "session.toml", .format = RenderOptions::Format::wav}),
                    RenderOptionsError);
    CHECK(test::read_audio(dir / "stems/a.wav").frames() == static_cast<std::size_t>(frames));
}

TEST_CASE("a player destroyed while recording leaves no file behind", "[stream][record]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {stem_samples(48000)}, 48000);
    {
        Player player(one_track(dir));
        REQUIRE(player.wait_until_buffered(5.0));
        player.start_recording({.output = dir / "take.flac", .format = RenderOptions::Format::flac,
                                .sample = RenderOptions::Sample::int16});
        player.play();
        (void)run(player, 4800);
    }
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        CHECK(e.path().filename().string().find("take") == std::string::npos);
}

TEST_CASE("lanes keep their times when the player runs at another rate than the session's", "[stream][automation]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {std::vector<float>(2 * 48000, 0.5f)}, 48000);
    // Silenced at 1.0 s: frame 48000 of the session, frame 44100 of a player at 44.1 kHz.
    const Session session = load_session(dir, R"(
[session]
sample_rate = 48000

[[track]]
name = "a"
file = "stems/a.wav"
pan = -1

[track.automation]
gain_db = [ [0, 0, "hold"], [1.0, "-inf", "hold"] ]
)");
    Player player(session, {.sample_rate = 44100, .threads = 1});
    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    const Stereo out = run(player, 66150, 256, 22050);
    // The step takes the 32-frame interval that holds 1.0 s, 44096 to 44127 (it would be 47968
    // to 47999 were the lane's frames taken at the player's rate).
    CHECK(out.left[44000] == Approx(0.5).margin(1e-6));
    CHECK(out.left[44095] == Approx(0.5).margin(1e-6));
    CHECK(out.left[44110] < 0.4f);
    CHECK(std::fabs(out.left[44128]) < 1e-6);
    CHECK(std::fabs(out.left[60000]) < 1e-6);
    // And the session written from the player keeps the file's times.
    const Session saved = session.with_values_of(player.engine());
    REQUIRE(saved.automation().size() == 1);
    CHECK(saved.automation()[0].lane.points[1].frame == 48000);
}
