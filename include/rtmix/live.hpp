// rtmix::Player and the live backends: a Session played in real time, its file tracks streamed
// from disk, its live-input tracks fed by the audio device, under a transport (play, stop,
// locate, loop); JACK and PortAudio drive it. Link rtmix::live.
//
//   rtmix::Session session = rtmix::Session::load("song.toml");
//   auto backend = rtmix::open_backend({.kind = rtmix::BackendKind::jack});   // learns the rate
//   rtmix::Player player(session, {.sample_rate = backend->sample_rate(),
//                                  .max_block_frames = backend->buffer_frames()});
//   backend->start(player);                                 // the device's callback runs the mix
//   player.play();
//   player.engine().set("track.vox.gain_db", -2.0);         // while it plays
//
// Threads: a reader thread decodes (and resamples) every file track ahead of the play position
// into a bounded ring of chunks per track; the audio callback only copies from those rings. An
// empty ring (the disk too slow, the reader stalled) plays silence for that track and is
// counted; the callback never waits. Memory does not depend on the length of the stems.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "rtmix/engine.hpp"
#include "rtmix/render.hpp"
#include "rtmix/session.hpp"

namespace rtmix {

struct PlayerOptions {
    /// The device's rate; 0: the session's. Stems at other rates are resampled by the reader.
    double sample_rate = 0.0;
    /// The largest block the device's callback passes; 0: the session's block_frames. A larger
    /// callback is processed in pieces.
    std::uint32_t max_block_frames = 0;
    /// How far the reader reads ahead of the play position, in seconds (per file track).
    double read_ahead_s = 1.5;
    /// EngineOptions::threads, worker_priority and on_worker_start of the engine (threads 0 with
    /// the backend's worker_priority(): workers only where the callback's priority reaches them).
    std::uint32_t threads = 0;
    int worker_priority = 0;
    std::function<void()> on_worker_start = {};
    /// Runs on the reader thread before it reads each chunk (tests stall the reader with it).
    std::function<void()> on_reader_chunk = {};
};

/// Where the transport is, as the audio thread last published it.
struct TransportState {
    bool playing = false;
    std::int64_t position_frames = 0;  ///< on the session's timeline (frame 0: time 0)
    double position_s = 0.0;
    bool looping = false;
    double loop_start_s = 0.0, loop_end_s = 0.0;
};

/// Streaming health, counted since the player started.
struct StreamStats {
    /// Callback blocks in which a playing file track had no audio ready (it played silence).
    std::uint64_t underruns = 0;
    /// The same, per track, in session order (file tracks only): {name, underruns}.
    std::vector<std::pair<std::string, std::uint64_t>> tracks;
    /// Memory held by the read-ahead rings, all tracks, in bytes (fixed when the player starts).
    std::size_t buffer_bytes = 0;
    /// A stem the reader could not read (the file vanished or broke while playing), else empty.
    std::string error;
};

/// A recording of the master as it plays (Player::start_recording()).
struct RecordOptions {
    /// The file, as RenderOptions::output: a regular file is written aside and renamed into
    /// place when the recording ends; a FIFO or character device is written through. The session
    /// file and its stems are refused, and so is the standard output.
    std::filesystem::path output;
    /// Refuse to replace an existing file (checked when the recording starts and at the rename).
    bool no_clobber = false;
    /// As RenderOptions: the format, the sample format, and the dither of integer files. With
    /// float samples and no dither, the file holds exactly the samples the backend was given.
    RenderOptions::Format format = RenderOptions::Format::wav;
    RenderOptions::Sample sample = RenderOptions::Sample::int24;
    RenderOptions::Dither dither = RenderOptions::Dither::tpdf;
    /// How much audio the ring between the audio thread and the file writer holds, in seconds:
    /// how long the disk may stall before blocks are lost.
    double buffer_s = 10.0;
};

/// What a recording wrote.
struct RecordSummary {
    std::filesystem::path output;
    std::uint64_t frames = 0;           ///< frames in the file
    /// Frames the writer had no room for (the disk stalled longer than buffer_s): left out of
    /// the file, which is then shorter than what played by as much.
    std::uint64_t lost_frames = 0;
    std::uint64_t clipped_samples = 0;  ///< integer files: samples clamped at full scale
};

/// Throws what Player::start_recording() would for these options alone (RenderOptionsError,
/// RenderError: an input as the output, no-clobber, a format or dither the rate cannot take),
/// so that a host can refuse them before it starts any audio. `sample_rate` 0: the session's.
void check_recording(const Session& session, const RecordOptions& options, double sample_rate = 0.0);

/// One input channel of the device that feeds a live-input track.
struct LiveChannel {
    std::string track;               ///< the track's name
    std::uint32_t channel = 0;       ///< 0 (left or mono) or 1 (right) of that track
    std::string port;                ///< the JACK port to connect from, or empty
    std::uint32_t device_channel = 0;  ///< or the device input channel, from 1
};

class Player {
public:
    /// Builds the engine and the mix, opens every stem and starts the reader thread, stopped at
    /// time 0. The first callback is already at the session's values (the engine settles before
    /// its first frame: no glide from the defaults). Throws SessionError (the mix) or
    /// std::runtime_error naming a stem that cannot be opened.
    Player(const Session& session, const PlayerOptions& options = {});
    ~Player();
    Player(const Player&) = delete;
    Player& operator=(const Player&) = delete;

    /// The engine that runs the mix: set(), meter(), master_loudness() from the control side.
    Engine& engine() noexcept;
    const Engine& engine() const noexcept;
    const Session& session() const noexcept;
    /// The device input channels process() expects, in order: `live_inputs[i]` feeds
    /// live_channels()[i].
    const std::vector<LiveChannel>& live_channels() const noexcept;
    /// The end of the last stem on the timeline, in seconds.
    double length_s() const noexcept;

    // --- Transport (control thread); each lands at the start of the next callback -----------
    void play();
    void stop();
    /// Moves the play position to `seconds` on the timeline (>= 0); playing or not. The file
    /// tracks come back in as soon as the reader has their audio (a few milliseconds).
    void locate(double seconds);
    /// Loops the region [start_s, end_s) while playing; end_s > start_s >= 0.
    void set_loop(double start_s, double end_s);
    void clear_loop();
    TransportState transport() const;
    StreamStats stream_stats() const;
    /// Waits until every file track's read-ahead is full (or its stem is exhausted), at most
    /// `timeout_s`; true when it is. Hosts call it before play() for a start without gaps.
    bool wait_until_buffered(double timeout_s) const;

    /// Brings the mix that plays to `next` (another version of the session's file):
    /// next.update(engine(), session()), which touches only what the two versions set
    /// differently and declicks every change; `next` is then the player's session (what `save`
    /// writes from). The tracks must stay the same: SessionError otherwise, the mix untouched.
    /// Returns the changes, one line each, for people.
    std::vector<std::string> reload(const Session& next);

    // --- Recording (control thread) ----------------------------------------------------------
    /// Starts recording the master: from the first frame the transport plays (now, if it is
    /// playing), every frame process() returns goes to the file, stopped stretches and loops
    /// included, just as the backend was given them, until stop_recording(). The file is the
    /// offline render's equal: frame 0 of a recording started from time 0 is frame 0 of
    /// `rtmix render`'s file, sample for sample (float samples, no dither). Throws
    /// RenderOptionsError or RenderError (an input as the output, no-clobber, a format the
    /// rate cannot take), std::runtime_error when already recording.
    void start_recording(const RecordOptions& options);
    /// Ends the recording: writes what is left, finishes the file and renames it into place.
    /// Throws RenderError when the file could not be written (it is then removed) and
    /// std::logic_error when not recording. A player destroyed while recording removes its file.
    RecordSummary stop_recording();
    bool recording() const noexcept;

    // --- Audio thread ------------------------------------------------------------------------
    /// Renders `frames` frames of the mix into `outputs[0]`, `outputs[1]` (master left, right).
    /// `live_inputs[i]` is live_channels()[i] (nullptr or i >= live_count: silence). Wait-free.
    void process(const float* const* live_inputs, std::uint32_t live_count, float* const* outputs,
                 std::uint32_t frames) noexcept;

private:
    struct Impl;
    void send(const void* command);
    std::unique_ptr<Impl> impl_;
};

// --- Backends --------------------------------------------------------------------------------

enum class BackendKind { jack, portaudio };

/// A backend that could not open, start, or went away; the message says what and why.
class BackendError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct BackendOptions {
    BackendKind kind = BackendKind::jack;
    /// JACK: the client's name (its ports are "NAME:master_L", ...). PortAudio: unused.
    std::string client_name = "rtmix";
    /// JACK: the server to join (empty: the default, or $JACK_DEFAULT_SERVER).
    std::string server;
    /// PortAudio: the output device, by name (or a part of it) or index; empty: the default.
    std::string device;
    /// PortAudio: frames per callback (0: 256). JACK: ignored (the server decides).
    std::uint32_t frames = 0;
    /// PortAudio: the rate to open the device at (0: the device's default).
    double sample_rate = 0.0;
    /// JACK: connect the master outputs to the first physical playback ports.
    bool connect = false;
    /// Runs first on the audio callback's thread (tests mark it; hosts may name or pin it).
    std::function<void()> on_audio_thread_start = {};
};

/// Counters of a running backend, read on the control side.
struct BackendStatus {
    double sample_rate = 0.0;
    std::uint32_t buffer_frames = 0;     ///< frames per callback now
    std::uint64_t callbacks = 0;
    std::uint64_t xruns = 0;             ///< reported by the server or the device
    double load_average = 0.0;           ///< callback time / period, mean since the last status()
    double load_peak = 0.0;              ///< the same, the largest single callback since then
    double total_load_average = 0.0;     ///< mean load since the backend started
    double total_load_peak = 0.0;        ///< largest load of one callback since it started
    bool running = false;
    /// The server or the device went away (or the stream broke): why, else empty.
    std::string error;
    /// The server changed its sample rate: the player must be rebuilt at this rate.
    double rate_changed_to = 0.0;
    /// Things a person should know, each reported once (a live input that could not be
    /// connected, a device that runs at another rate than asked, ...).
    std::vector<std::string> notes;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual double sample_rate() const = 0;
    /// Frames per callback now (JACK: the server's buffer size).
    virtual std::uint32_t buffer_frames() const = 0;
    /// Registers the ports (JACK), opens the stream, and runs `player` from the callback. The
    /// player must outlive stop().
    virtual void start(Player& player) = 0;
    /// Stops the callback; the player may then be destroyed. Idempotent.
    virtual void stop() = 0;
    /// Counters since the last call; also clears load_peak.
    virtual BackendStatus status() = 0;
    /// For people: "JACK (server 'default', 48000 Hz, 256 frames)".
    virtual std::string description() const = 0;
    /// The SCHED_FIFO priority the engine's worker threads should run at to match the callback
    /// (PlayerOptions::worker_priority): JACK's client priority when the server runs in real time,
    /// else 0.
    virtual int worker_priority() const { return 0; }
};

/// Opens a backend: joins the JACK server, or finds the PortAudio device. Throws BackendError.
std::unique_ptr<Backend> open_backend(const BackendOptions& options);

/// One PortAudio device, as `rtmix devices` lists it.
struct AudioDevice {
    int index = 0;
    std::string name;
    std::string host_api;
    int input_channels = 0;
    int output_channels = 0;
    double default_sample_rate = 0.0;
    bool default_output = false;
    bool default_input = false;
};
/// Every PortAudio device of every host API. Throws BackendError if PortAudio cannot start.
std::vector<AudioDevice> audio_devices();

}  // namespace rtmix
