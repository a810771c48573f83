// rtmix::Session: a mix described in a session file (TOML), loaded, checked and applied to an
// Engine. docs/session-format.md describes the file.
//
//   rtmix::Session session = rtmix::Session::load("song.toml");   // throws rtmix::SessionError
//   session.set_override("track.vox.gain_db=-2");                  // optional, like `--set`
//   rtmix::Engine engine(session.engine_options());
//   session.apply(engine);                                          // tracks, buses, routing, values
//
// Loading checks everything a render would trip over: the TOML syntax, every key, type and range,
// bus names, duplicate names, routing cycles, and that every stem opens as audio. A mistake is
// reported as `song.toml:12:5: unknown key 'gian_db' in track 'kick' (did you mean 'gain_db'?)`.
//
// Link rtmix::session (it brings toml++, libsndfile and libsoxr; rtmix::rtmix alone does not).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rtmix/engine.hpp"

namespace rtmix {

/// A place in a session file: 1-based line and column (0 when there is none, as for `--set`).
struct SourceLocation {
    std::string file;  ///< the session file as given, or "--set"
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

/// A mistake in a session file or an override. what() is "file:line:column: message".
class SessionError : public std::runtime_error {
public:
    SessionError(SourceLocation where, const std::string& message);
    const SourceLocation& where() const noexcept { return where_; }
    /// The message without the location.
    const std::string& message() const noexcept { return message_; }

private:
    SourceLocation where_;
    std::string message_;
};

/// The furthest a track's offset_ms moves its stem, either way: 24 hours.
inline constexpr double max_offset_ms = 24.0 * 3600.0 * 1000.0;

/// Tags written into the master file (`[master.metadata]`): WAV gets a LIST INFO chunk and a BWF
/// `bext` chunk, FLAC Vorbis comments, AIFF its text chunks (no ISRC there). Empty: not written.
struct Metadata {
    std::string title, artist, album, date, isrc, comment;
    bool empty() const noexcept {
        return title.empty() && artist.empty() && album.empty() && date.empty() && isrc.empty() && comment.empty();
    }
};

/// A loudness target for the render (`[master.loudness]`, `--target-lufs`, `--loudness PRESET`).
struct LoudnessTarget {
    std::string preset;          ///< "streaming", "apple", "broadcast", or empty for custom values
    double target_lufs = -14.0;  ///< integrated loudness to reach
    double ceiling_dbtp = -1.0;  ///< true-peak ceiling of the limiter
    /// The preset of this name, if there is one (streaming: -14/-1, apple: -16/-1,
    /// broadcast: EBU R128, -23/-1).
    static std::optional<LoudnessTarget> preset_named(std::string_view name);
};

/// The audio file a track plays, as probed when the session was loaded.
struct Stem {
    std::filesystem::path path;  ///< resolved against the session file's folder
    std::uint32_t channels = 0;  ///< 1 or 2
    double sample_rate = 0;      ///< the file's rate; resampled to the session's when different
    std::uint64_t frames = 0;    ///< length at the file's rate
    std::string format;          ///< for people: "WAV 24-bit", "FLAC 16-bit", ...
    /// The length a WAV file's header claims (file frames) when the file holds less: it is
    /// truncated and plays only `frames`. 0 for a whole file.
    std::uint64_t claimed_frames = 0;
};

/// A live input a track plays instead of a file (`input = ...` in the session): one source per
/// channel (a mono track has one, a stereo track two). Offline renders hear it as silence.
struct LiveInput {
    /// JACK port names to connect the track's input ports to ("system:capture_1"); or empty.
    std::vector<std::string> ports;
    /// Or device input channels, counted from 1 (PortAudio; under JACK, the N-th physical
    /// capture port); or empty.
    std::vector<std::uint32_t> device_channels;
    bool empty() const noexcept { return ports.empty() && device_channels.empty(); }
    std::uint32_t channels() const noexcept {
        return static_cast<std::uint32_t>(ports.empty() ? device_channels.size() : ports.size());
    }
};

struct SessionSend {
    std::string bus;
    double level_db = 0.0;
    bool pre_fader = false;
    SourceLocation where;
};

/// An insert of a strip (`inserts = [ { type = "gate", ... } ]`, or a bus's `reverb = {}` and
/// `delay = {}`); its parameter values are in Session::settings() under STRIP.SLOT.
struct SessionInsert {
    std::string type;  ///< its processor type: "gate", "reverb", ...
    /// Its path below the strip: "insert.N" (N from 1, in the order of the list), or "reverb" /
    /// "delay" for a bus's or the master's named effects (Engine::add_effect()).
    std::string slot;
    InsertPosition position = InsertPosition::post;  ///< named effects: pre
    SourceLocation where;
};

/// A dynamics processor of a strip that listens to another strip (`sidechain = "kick"`).
struct SessionSidechain {
    std::string processor;  ///< below the strip: "compressor" or "insert.N"
    std::string source;     ///< as written: a track or bus name, or "track.NAME" / "bus.NAME"
    SourceLocation where;
};

/// One track, bus or the master, with its routing (its parameter values are in settings()).
struct SessionStrip {
    enum class Kind { track, bus, master };
    Kind kind = Kind::track;
    std::string name;                ///< empty for the master
    std::string output = "master";   ///< "master" or a bus name (tracks and buses)
    std::vector<SessionSend> sends;
    std::vector<SessionInsert> inserts;  ///< the named effects first, then the list, in order
    std::vector<SessionSidechain> sidechains;
    Stem stem;                       ///< tracks that play a file
    LiveInput input;                 ///< tracks that play a live input (then `stem` is empty)
    double offset_ms = 0.0;          ///< tracks: positive starts the stem later, negative earlier
    SourceLocation where;            ///< the strip's table (its name for tracks and buses)
    SourceLocation output_where;

    /// The engine's name for the strip: "track.NAME", "bus.NAME" or "master".
    std::string path() const;
    /// Tracks: true when the track plays a live input rather than a file.
    bool live() const noexcept { return !input.empty(); }
    /// Tracks: 1 (mono) or 2 (stereo), from the stem or the live input.
    std::uint32_t channels() const noexcept { return live() ? input.channels() : stem.channels; }
};

/// An automation lane (`automation = { gain_db = [ [0, "-inf"], ["0:02", 0, "smooth"] ] }` in a
/// strip's or a processor's table): applied with Engine::automate().
struct SessionLane {
    std::string path;  ///< what Engine::automate() takes ("track.vox.gain_db")
    Lane lane;         ///< breakpoints in frames at the session's rate; words as their index
    SourceLocation where;                      ///< the lane's key
    std::vector<SourceLocation> points_where;  ///< each breakpoint
};

/// One parameter value: `path` is what Engine::set() takes ("track.kick.eq.2.freq_hz").
struct SessionSetting {
    std::string path;
    std::variant<double, std::string> value;  ///< numbers and booleans (0/1) as double, words as text
    SourceLocation where;
};

class Session {
public:
    /// Reads and checks a session file. Throws SessionError.
    static Session load(const std::filesystem::path& file);
    /// Parses session text as if read from `file` (relative stem paths resolve against its folder).
    static Session parse(std::string_view text, const std::filesystem::path& file);

    double sample_rate() const noexcept { return sample_rate_; }
    std::uint32_t block_frames() const noexcept { return block_frames_; }
    const std::filesystem::path& file() const noexcept { return file_; }
    /// The master first, then buses and tracks in file order.
    const std::vector<SessionStrip>& strips() const noexcept { return strips_; }
    const std::vector<SessionSetting>& settings() const noexcept { return settings_; }
    /// The automation lanes, in file order.
    const std::vector<SessionLane>& automation() const noexcept { return automation_; }
    /// Tags for the master file (`[master.metadata]`).
    const Metadata& metadata() const noexcept { return metadata_; }
    /// The loudness target of `[master.loudness]`, if the session has one.
    const std::optional<LoudnessTarget>& loudness_target() const noexcept { return loudness_; }
    /// Notes for people that are not errors (a stem that will be resampled, ...).
    const std::vector<std::string>& notes() const noexcept { return notes_; }
    /// Damaged inputs that still load, for people: a truncated stem (its path, the length its
    /// header claims and the length found). RenderOptions::strict makes them errors.
    const std::vector<std::string>& warnings() const noexcept { return warnings_; }

    /// Overrides a value, as `rtmix render --set PATH=VALUE` does: any parameter path
    /// ("track.vox.gain_db=-2", "bus.verb.reverb.decay_s=3", "master.eq.1.type=peak") or a
    /// track's offset ("track.vox.offset_ms=12"). Checked at once; throws SessionError.
    void set_override(std::string_view assignment);

    /// Options for the engine that plays this session (rate, block size, queue room).
    EngineOptions engine_options() const;
    /// Builds the mix in `engine`, which must be empty (fresh). The tracks' input channels are
    /// assigned in track order: a mono track takes one channel, a stereo track two; see
    /// track_input_channels(). Throws SessionError.
    void apply(Engine& engine) const;
    /// The first engine input channel of the i-th track (in strips() order, tracks only).
    std::vector<std::uint32_t> track_input_channels() const;
    /// Number of input channels all tracks read together.
    std::uint32_t input_channels() const;

    /// Brings a running mix to this session: `engine` was built by apply() from `from` (an
    /// earlier version of the same file, say) and may have changed since (a console's `set`).
    /// Only what differs between `from` and this session is touched, as a host would: values
    /// glide as set() does, outputs crossfade, buses, sends and inserts that appear fade in with
    /// the engine's declicks and those that go fade out, lanes that differ are replaced and
    /// those that are gone cleared. Inserts are compared in order: from the first that differs
    /// in type, the rest are taken out and added again. Returns one line per change, for
    /// people. The tracks must be the same (names, order, files or inputs, offsets): a change
    /// there throws SessionError before anything is touched, as does a change the engine
    /// refuses.
    std::vector<std::string> update(Engine& engine, const Session& from) const;

    /// A copy of this session whose parameter values and automation lanes are those `engine`
    /// holds now (the engine was built by apply() from this session and changed since, say by a
    /// live console that set values and recorded lanes). Stems, live inputs, routing, offsets,
    /// metadata and loudness target stay as they are.
    Session with_values_of(const Engine& engine) const;
    /// The session as session-file text, stem paths relative to `folder` where possible.
    /// Loading that text back gives the same mix (same strips, routing and values).
    std::string to_toml(const std::filesystem::path& folder) const;
    /// Writes to_toml() to `file`, aside and renamed into place when complete, so a failure
    /// never leaves a half-written file where a good one stood. Throws SessionError naming the
    /// path on failure.
    void save(const std::filesystem::path& file) const;

private:
    Session() = default;
    void check() const;  // applies to a scratch engine; throws SessionError

    std::filesystem::path file_;
    double sample_rate_ = 48000.0;
    std::uint32_t block_frames_ = 256;
    std::vector<SessionStrip> strips_;
    std::vector<SessionSetting> settings_;
    std::vector<SessionLane> automation_;
    Metadata metadata_;
    std::optional<LoudnessTarget> loudness_;
    std::vector<std::string> notes_;
    std::vector<std::string> warnings_;
};

}  // namespace rtmix
