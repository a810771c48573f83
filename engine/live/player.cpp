// rtmix::Player: the transport, the streams and the engine, joined in one process() call.
//
// The audio thread owns the transport. Control calls queue commands (play, stop, locate, loop)
// that the next callback applies at its start. While playing, a stop or a locate first plays a
// short fade-out (declick) of the current audio; a track that comes back after silence (a new
// start, a locate, an underrun) fades in. File tracks that lack audio play silence, counted as
// underruns once the reader has had time to fill them.
#include "rtmix/live.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/lockfree/spsc_queue.hpp>
#include <fmt/format.h>

#include "files/audio_file.hpp"
#include "live/recorder.hpp"
#include "live/stream.hpp"
#include "offline/master_writer.hpp"

namespace rtmix {

namespace {

struct Command {
    enum class Kind : std::uint8_t { play, stop, locate, loop, unloop } kind = Kind::play;
    std::int64_t a = 0, b = 0;
};

constexpr std::uint32_t fade_frames = 128;  // declick ramps: 2.7 ms at 48 kHz

}  // namespace

struct Player::Impl {
    struct FileTrack {
        live::TrackStream* stream = nullptr;
        std::uint32_t first_channel = 0;
        std::uint32_t fade_in_left = 0;
        bool has_audio = false;  // got audio in the current generation
    };

    Impl(const Session& s, const PlayerOptions& o)
        : session(s),
          options(o),
          rate(o.sample_rate > 0 ? o.sample_rate : s.sample_rate()),
          block(o.max_block_frames > 0 ? o.max_block_frames : s.block_frames()),
          engine(engine_options()) {}

    EngineOptions engine_options() const {
        EngineOptions e = session.engine_options();
        e.sample_rate = rate;
        e.max_block_frames = block;
        e.threads = options.threads;
        e.worker_priority = options.worker_priority;
        e.on_worker_start = options.on_worker_start;
        return e;
    }

    /// What the transport does in one piece of a callback.
    struct Decision {
        std::uint32_t play_frames = 0;  // frames of file audio, from the piece's start
        bool fade_out = false;          // those frames fade out (a stop or locate follows)
        bool relocate = false;          // after the piece: a new generation
        bool here = false;              // ... from where the piece ended, else from `target`
        std::int64_t target = 0;
        bool playing_after = false;
    };

    void run_piece(const float* const* live_inputs, std::uint32_t live_count, float* const* outputs, std::uint32_t done,
                   std::uint32_t n) noexcept;
    Decision take_commands(std::uint32_t n) noexcept;
    void fill(FileTrack& t, std::uint32_t frames, bool fade_out) noexcept;
    void start_generation(std::int64_t at) noexcept;
    void publish() noexcept;

    Session session;
    PlayerOptions options;
    double rate;
    std::uint32_t block;
    Engine engine;
    std::vector<LiveChannel> live;
    std::vector<std::uint32_t> live_engine_channel;  // engine input channel of live[i]
    std::unique_ptr<live::Streamer> streamer;
    std::vector<FileTrack> files;
    std::vector<std::vector<float>> scratch;  // per engine input channel of file tracks
    std::vector<float> zeros;
    std::vector<const float*> inputs;
    std::vector<const float*> inputs_at;  // `inputs` from a frame into the piece
    double length = 0.0;

    std::mutex command_mutex;  // control side: one producer at a time
    boost::lockfree::spsc_queue<Command> commands{256};

    // Audio thread: the transport.
    bool playing = false;
    std::int64_t position = 0;     // timeline frame
    std::int64_t stream_pos = 0;   // frames played in this generation
    live::Cue cue;                 // the current generation
    std::uint64_t next_generation = 1;
    std::int64_t loop_start = 0, loop_end = 0;  // loop_end <= loop_start: none
    bool freed = false;            // chunks given back this callback: wake the reader

    // The recording: the control side owns it; the audio thread uses `recorder` only between
    // setting and clearing `in_process`, so once the control side has cleared `recorder` and
    // seen `in_process` false, no callback holds it any more.
    std::unique_ptr<live::Recorder> recording;
    std::atomic<live::Recorder*> recorder{nullptr};
    std::atomic<bool> in_process{false};
    live::Recorder* rec = nullptr;  // audio thread: this callback's

    // Published by the audio thread for transport().
    std::atomic<bool> pub_playing{false};
    std::atomic<std::int64_t> pub_position{0};
    std::atomic<std::int64_t> pub_loop_start{0}, pub_loop_end{0};
};

Player::Player(const Session& session, const PlayerOptions& options) : impl_(std::make_unique<Impl>(session, options)) {
    Impl& m = *impl_;
    session.apply(m.engine);
    // What the session sets stands from the first callback's first frame: the engine settles its
    // mix before the first frame it processes (a track at -inf dB does not start loud and fade).
    const std::vector<std::uint32_t> first = session.track_input_channels();
    std::vector<const SessionStrip*> file_strips;
    std::vector<std::uint32_t> file_first;
    std::size_t t = 0;
    for (const SessionStrip& s : session.strips()) {
        if (s.kind != SessionStrip::Kind::track) continue;
        const std::uint32_t ch0 = first[t++];
        if (s.live()) {
            for (std::uint32_t c = 0; c < s.channels(); ++c) {
                LiveChannel lc;
                lc.track = s.name;
                lc.channel = c;
                if (!s.input.ports.empty()) lc.port = s.input.ports[c];
                else lc.device_channel = s.input.device_channels[c];
                m.live.push_back(lc);
                m.live_engine_channel.push_back(ch0 + c);
            }
        } else {
            file_strips.push_back(&s);
            file_first.push_back(ch0);
            const double end = s.offset_ms / 1000.0 + static_cast<double>(s.stem.frames) / s.stem.sample_rate;
            m.length = std::max(m.length, end);
        }
    }
    m.streamer = std::make_unique<live::Streamer>(file_strips, m.rate, options.read_ahead_s, m.block, options.on_reader_chunk);
    for (std::size_t i = 0; i < file_strips.size(); ++i) {
        m.files.push_back({m.streamer->tracks()[i].get(), file_first[i], 0, false});
        m.files.back().stream->faded_out = 0 > m.files.back().stream->offset;  // as start_generation(0)
    }
    m.scratch.assign(session.input_channels(), std::vector<float>(m.block, 0.0f));
    m.zeros.assign(m.block, 0.0f);
    m.inputs.assign(session.input_channels(), m.zeros.data());
    m.inputs_at = m.inputs;
}

Player::~Player() {
    // The backend has stopped calling process() by now (its owner stops it first); a recording
    // not ended is dropped with its file.
    impl_->recorder.store(nullptr);
}

Engine& Player::engine() noexcept { return impl_->engine; }
const Engine& Player::engine() const noexcept { return impl_->engine; }
const Session& Player::session() const noexcept { return impl_->session; }
const std::vector<LiveChannel>& Player::live_channels() const noexcept { return impl_->live; }
double Player::length_s() const noexcept { return impl_->length; }

bool Player::wait_until_buffered(double timeout_s) const { return impl_->streamer->wait_full(timeout_s); }

namespace {

std::int64_t to_frame(double seconds, double rate, const char* what) {
    if (!(seconds >= 0.0) || !std::isfinite(seconds))
        throw std::invalid_argument(fmt::format("{} must be a time of 0 s or more, not {}", what, seconds));
    return static_cast<std::int64_t>(std::llround(seconds * rate));
}

}  // namespace

void Player::send(const void* command) {
    Impl& m = *impl_;
    const Command& c = *static_cast<const Command*>(command);
    std::lock_guard lock(m.command_mutex);
    if (!m.commands.push(c))
        throw std::runtime_error("the transport is not taking commands: the audio is not running");
}

void Player::play() {
    const Command c{Command::Kind::play, 0, 0};
    send(&c);
}

void Player::stop() {
    const Command c{Command::Kind::stop, 0, 0};
    send(&c);
}

void Player::locate(double seconds) {
    const Command c{Command::Kind::locate, to_frame(seconds, impl_->rate, "locate"), 0};
    send(&c);
}

void Player::set_loop(double start_s, double end_s) {
    const std::int64_t a = to_frame(start_s, impl_->rate, "the loop start");
    const std::int64_t b = to_frame(end_s, impl_->rate, "the loop end");
    if (!(end_s - start_s >= 0.05))
        throw std::invalid_argument(fmt::format("a loop must be 50 ms or longer: {:.3f} s to {:.3f} s", start_s, end_s));
    const Command c{Command::Kind::loop, a, b};
    send(&c);
}

void Player::clear_loop() {
    const Command c{Command::Kind::unloop, 0, 0};
    send(&c);
}

TransportState Player::transport() const {
    const Impl& m = *impl_;
    TransportState t;
    t.playing = m.pub_playing.load(std::memory_order_relaxed);
    t.position_frames = m.pub_position.load(std::memory_order_relaxed);
    t.position_s = static_cast<double>(t.position_frames) / m.rate;
    const std::int64_t a = m.pub_loop_start.load(std::memory_order_relaxed), b = m.pub_loop_end.load(std::memory_order_relaxed);
    t.looping = b > a;
    t.loop_start_s = static_cast<double>(a) / m.rate;
    t.loop_end_s = static_cast<double>(b) / m.rate;
    return t;
}

StreamStats Player::stream_stats() const {
    StreamStats s;
    s.buffer_bytes = impl_->streamer->buffer_bytes();
    s.error = impl_->streamer->error();
    for (const Impl::FileTrack& f : impl_->files) {
        const std::uint64_t u = f.stream->underruns.load(std::memory_order_relaxed);
        s.underruns += u;
        s.tracks.emplace_back(std::string(), u);
    }
    std::size_t i = 0;
    for (const SessionStrip& strip : impl_->session.strips())
        if (strip.kind == SessionStrip::Kind::track && !strip.live()) s.tracks[i++].first = strip.name;
    return s;
}

std::vector<std::string> Player::reload(const Session& next) {
    Impl& m = *impl_;
    std::vector<std::string> changes = next.update(m.engine, m.session);
    m.session = next;
    return changes;
}

namespace {

RenderOptions record_render_options(const RecordOptions& options) {
    RenderOptions o;
    o.output = options.output;
    o.no_clobber = options.no_clobber;
    o.format = options.format;
    o.sample = options.sample;
    o.dither = options.dither;
    return o;
}

}  // namespace

void check_recording(const Session& session, const RecordOptions& options, double sample_rate) {
    if (files::is_standard_output(options.output))
        throw RenderOptionsError("a recording cannot go to the standard output (it carries the console): name a file");
    const RenderOptions o = record_render_options(options);
    if (o.format == RenderOptions::Format::flac && o.sample == RenderOptions::Sample::float32)
        throw RenderOptionsError("FLAC stores integer samples: use 16 or 24 bits");
    if (sample_rate <= 0.0) sample_rate = session.sample_rate();
    if (offline::dither_mode(o) == files::DitherMode::shaped && !files::shaped_dither_designed(sample_rate))
        throw RenderOptionsError(fmt::format("shaped dither has no design at {:.0f} Hz (44.1 to 96 kHz): use tpdf", sample_rate));
    try {
        offline::check_output(session, o);
    } catch (const files::FileError& e) {
        throw RenderError(e.what());
    }
}

void Player::start_recording(const RecordOptions& options) {
    Impl& m = *impl_;
    if (m.recording) throw std::runtime_error("already recording: stop that recording first");
    check_recording(m.session, options, m.rate);
    try {
        m.recording = std::make_unique<live::Recorder>(
            offline::open_master_writer(m.session, record_render_options(options), m.rate), options.output, m.rate,
            m.block, options.buffer_s);
    } catch (const files::FileError& e) {
        throw RenderError(e.what());
    }
    // What the first frame plays is heard the mix's latency later (lookahead, latent inserts):
    // the file starts there, as a render's does.
    m.recording->skip = m.engine.latency_frames();
    m.recorder.store(m.recording.get());
}

RecordSummary Player::stop_recording() {
    Impl& m = *impl_;
    if (!m.recording) throw std::logic_error("not recording");
    m.recorder.store(nullptr);
    // A callback that took the recorder before it was cleared ends within one period.
    while (m.in_process.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::unique_ptr<live::Recorder> r = std::move(m.recording);
    try {
        return r->finish();
    } catch (const files::FileError& e) {
        throw RenderError(e.what());
    }
}

bool Player::recording() const noexcept { return impl_->recording != nullptr; }

// --- Audio thread --------------------------------------------------------------------------------

void Player::process(const float* const* live_inputs, std::uint32_t live_count, float* const* outputs,
                     std::uint32_t frames) noexcept {
    Impl& m = *impl_;
    m.freed = false;
    m.in_process.store(true);  // before the recorder is read: see Impl::recorder
    m.rec = m.recorder.load();
    for (std::uint32_t done = 0; done < frames;) {
        const std::uint32_t n = std::min(m.block, frames - done);
        m.run_piece(live_inputs, live_count, outputs, done, n);
        done += n;
    }
    m.publish();
    m.rec = nullptr;
    m.in_process.store(false, std::memory_order_release);
    if (m.freed) m.streamer->wake();
}

void Player::Impl::publish() noexcept {
    pub_playing.store(playing, std::memory_order_relaxed);
    pub_position.store(position, std::memory_order_relaxed);
    pub_loop_start.store(loop_start, std::memory_order_relaxed);
    pub_loop_end.store(loop_end, std::memory_order_relaxed);
}

void Player::Impl::start_generation(std::int64_t at) noexcept {
    cue.generation = next_generation++;
    cue.start = at;
    cue.loop_start = loop_start;
    cue.loop_end = loop_end;
    position = at;
    stream_pos = 0;
    // Everything in the rings is of an older generation: give it back now, so the reader has
    // room for the new one even while the transport is stopped.
    for (FileTrack& f : files) {
        live::TrackStream& t = *f.stream;
        if (t.current != nullptr) t.free.push(t.current);
        t.current = nullptr;
        live::Chunk* c = nullptr;
        while (t.filled.pop(c)) t.free.push(c);
        f.has_audio = false;
        // Starting inside the stem cuts into its audio: fade it in. From its first frame or
        // before, it starts from silence as it does in a render: no fade.
        t.faded_out = at > t.offset;
    }
    freed = true;
    (void)streamer->post(cue);  // 64 cues of room, drained by the reader at every turn
}

Player::Impl::Decision Player::Impl::take_commands(std::uint32_t n) noexcept {
    Decision d;
    bool want_playing = playing;
    Command c;
    while (commands.pop(c)) {  // in order: the last change of position wins
        switch (c.kind) {
            case Command::Kind::play: want_playing = true; break;
            case Command::Kind::stop: want_playing = false; break;
            case Command::Kind::locate:
                d.relocate = true;
                d.here = false;
                d.target = c.a;
                break;
            case Command::Kind::loop:
                loop_start = c.a;
                loop_end = c.b;
                d.relocate = true;
                // Inside the new loop: go on from here; outside it: jump to its start.
                d.here = position >= c.a && position < c.b;
                d.target = c.a;
                break;
            case Command::Kind::unloop:
                loop_start = loop_end = 0;
                d.relocate = true;
                d.here = true;
                break;
        }
    }
    if (playing && (d.relocate || !want_playing)) {
        // Declick: the first frames of this piece fade out, the rest is silent; the change
        // takes effect after it.
        d.play_frames = std::min(n, fade_frames);
        d.fade_out = true;
        d.playing_after = want_playing;
        return d;
    }
    if (d.relocate) start_generation(d.here ? position : d.target);
    d.relocate = false;
    playing = want_playing;
    d.playing_after = want_playing;
    d.play_frames = playing ? n : 0;
    return d;
}

void Player::Impl::run_piece(const float* const* live_inputs, std::uint32_t live_count, float* const* outputs,
                             std::uint32_t done, std::uint32_t n) noexcept {
    const Decision d = take_commands(n);
    // File tracks: audio from the rings for the frames the transport plays, silence after.
    for (FileTrack& f : files) {
        fill(f, d.play_frames, d.fade_out);
        for (std::uint32_t c = 0; c < f.stream->channels; ++c) {
            float* dst = scratch[f.first_channel + c].data();
            std::fill(dst + d.play_frames, dst + n, 0.0f);
            inputs[f.first_channel + c] = dst;
        }
    }
    // Live inputs are read in place.
    for (std::size_t i = 0; i < live_engine_channel.size(); ++i)
        inputs[live_engine_channel[i]] =
            i < live_count && live_inputs != nullptr && live_inputs[i] != nullptr ? live_inputs[i] + done : zeros.data();
    // The engine's timeline (its automation) follows the transport: it rolls over the frames
    // that play, jumping back at a loop's end, and stands over the rest of the piece.
    std::int64_t at_frame = position;
    for (std::uint32_t at = 0; at < n;) {
        const bool rolling = at < d.play_frames;
        std::uint32_t run = rolling ? d.play_frames - at : n - at;
        if (rolling && cue.loops() && at_frame < cue.loop_end)
            run = static_cast<std::uint32_t>(std::min<std::int64_t>(run, cue.loop_end - at_frame));
        for (std::size_t i = 0; i < inputs.size(); ++i) inputs_at[i] = inputs[i] + at;
        float* out[2] = {outputs[0] + done + at, outputs[1] + done + at};
        engine.set_timeline(at_frame, rolling);
        engine.process(inputs_at.data(), static_cast<std::uint32_t>(inputs_at.size()), out, run);
        if (rolling) at_frame = cue.advance(at_frame, run);
        at += run;
    }

    // The recording starts at the first frame that plays and takes every frame from there on.
    if (rec != nullptr && (rec->begun || d.play_frames > 0)) {
        rec->begun = true;
        rec->push(outputs[0] + done, outputs[1] + done, n);
    }

    position = cue.advance(position, d.play_frames);
    stream_pos += d.play_frames;
    if (d.relocate) start_generation(d.here ? position : d.target);
    playing = d.playing_after;
}

void Player::Impl::fill(FileTrack& f, std::uint32_t frames, bool fade_out) noexcept {
    live::TrackStream& t = *f.stream;
    float* dst[2] = {scratch[f.first_channel].data(), scratch[f.first_channel + (t.channels == 2 ? 1 : 0)].data()};
    bool missing = false;
    std::uint32_t off = 0;
    while (off < frames) {
        if (t.current == nullptr && !t.filled.pop(t.current)) {
            missing = true;
            break;
        }
        live::Chunk& c = *t.current;
        const std::int64_t at = stream_pos + off;
        if (c.generation < cue.generation || c.index + c.frames <= at) {  // stale, or missed
            t.free.push(t.current);
            t.current = nullptr;
            freed = true;
            continue;
        }
        if (c.generation > cue.generation || c.index > at) {  // not this far yet: cannot happen
            missing = true;                                   // unless the reader skipped
            break;
        }
        const auto k = static_cast<std::uint32_t>(at - c.index);
        const std::uint32_t count = std::min(frames - off, c.frames - k);
        if (t.faded_out) {
            f.fade_in_left = fade_frames;
            t.faded_out = false;
        }
        for (std::uint32_t ch = 0; ch < t.channels; ++ch) std::copy_n(c.data[ch] + k, count, dst[ch] + off);
        // Fade in after silence, continuing across pieces.
        for (std::uint32_t i = 0; i < count && f.fade_in_left > 0; ++i, --f.fade_in_left) {
            const float g = 1.0f - static_cast<float>(f.fade_in_left) / static_cast<float>(fade_frames + 1);
            for (std::uint32_t ch = 0; ch < t.channels; ++ch) dst[ch][off + i] *= g;
        }
        f.has_audio = true;
        off += count;
        if (k + count == c.frames) {
            t.free.push(t.current);
            t.current = nullptr;
            freed = true;
        }
    }
    if (missing) {
        for (std::uint32_t ch = 0; ch < t.channels; ++ch) std::fill(dst[ch] + off, dst[ch] + frames, 0.0f);
        t.faded_out = true;
        // The first moments of a generation are the reader's to fill; later, a gap is an underrun.
        if (f.has_audio || stream_pos > static_cast<std::int64_t>(rate / 4))
            t.underruns.fetch_add(1, std::memory_order_relaxed);
    }
    if (fade_out) {
        for (std::uint32_t i = 0; i < off; ++i) {
            const float g = 1.0f - static_cast<float>(i + 1) / static_cast<float>(frames);
            for (std::uint32_t ch = 0; ch < t.channels; ++ch) dst[ch][i] *= g;
        }
        t.faded_out = true;
    }
}

}  // namespace rtmix
