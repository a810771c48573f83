// The live console of `rtmix play`: its parsing, and its commands run against a real Player whose
// blocks the test renders itself (no audio device). What a command claims is checked against an
// independent truth: the engine's values, the meters of the audio that played, the transport, and
// the session file read back.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "console.hpp"
#include "files.hpp"
#include "rtmix/live.hpp"
#include "rtmix/render.hpp"
#include "rtmix/session.hpp"
#include "signals.hpp"

using namespace rtmix;
using cli::Console;
using cli::ConsoleEnd;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using test::TempDir;

namespace {

constexpr int rate = 48000;

/// A session of three mono tracks (3 s sines) where a track and a bus share the name "drums":
/// kick and snare feed the bus, the track "drums" feeds the master.
Session make_session(const TempDir& dir) {
    test::write_audio(dir / "stems/kick.wav", {test::sine(100.0, rate, 3 * rate, 0.5)}, rate);
    test::write_audio(dir / "stems/snare.wav", {test::sine(1000.0, rate, 3 * rate, 0.5)}, rate);
    test::write_audio(dir / "stems/loop.wav", {test::sine(440.0, rate, 3 * rate, 0.5)}, rate);
    test::write_text(dir / "session.toml", R"([session]
sample_rate = 48000
block_frames = 256

[[bus]]
name = "drums"

[[track]]
name = "kick"
file = "stems/kick.wav"
output = "drums"

[[track]]
name = "snare"
file = "stems/snare.wav"
output = "drums"

[[track]]
name = "drums"
file = "stems/loop.wav"
)");
    return Session::load(dir / "session.toml");
}

/// The bytes of a file.
std::string slurp(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Renders `seconds` of the player in 256-frame blocks, as a device callback would, after the
/// reader has filled the read-ahead (so no track plays silence for want of audio).
void run(Player& player, double seconds) {
    REQUIRE(player.wait_until_buffered(10.0));
    std::vector<float> left(256), right(256);
    float* out[2] = {left.data(), right.data()};
    for (auto frames = static_cast<long>(seconds * rate); frames > 0; frames -= 256) player.process(nullptr, 0, out, 256);
}

/// The highest sample peak of `strip` since the last reset_meters().
double hold_of(const Player& player, const char* strip) {
    StripMeter m{};
    REQUIRE(player.engine().meter(strip, m));
    return m.peak_hold_dbfs;
}

double value_of(const Player& player, const char* path) {
    double v = -999.0;
    const Status s = player.engine().get(path, v);
    INFO(s.message());
    REQUIRE(s.ok());
    return v;
}

/// A backend that plays nothing and reports what the test says.
class FakeBackend : public Backend {
public:
    BackendStatus next;
    double sample_rate() const override { return rate; }
    std::uint32_t buffer_frames() const override { return 256; }
    void start(Player&) override {}
    void stop() override {}
    BackendStatus status() override {  // each note once, as a real backend gives them
        BackendStatus s = next;
        next.notes.clear();
        return s;
    }
    std::string description() const override { return "fake (48000 Hz, 256 frames)"; }
};

/// Runs the console on `input` (given through a pipe) and returns how it ended and what it wrote.
std::pair<ConsoleEnd, std::string> run_piped(Player& player, Backend& backend, const std::string& input, double& new_rate) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    ::close(fds[1]);
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    const ConsoleEnd end = cli::run_console(player, backend, {.out = out, .in_fd = fds[0]}, new_rate);
    ::close(fds[0]);
    std::rewind(out);
    std::string text;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, out)) > 0;) text.append(buffer, n);
    std::fclose(out);
    return {end, text};
}

}  // namespace

TEST_CASE("times are seconds or m:ss or h:mm:ss", "[console]") {
    CHECK(cli::parse_time("90") == 90.0);
    CHECK(cli::parse_time("12.5") == 12.5);
    CHECK(cli::parse_time("0") == 0.0);
    CHECK(cli::parse_time("1:30") == 90.0);
    CHECK(cli::parse_time("1:30.25") == 90.25);
    CHECK(cli::parse_time("0:05") == 5.0);
    CHECK(cli::parse_time("1:02:03") == 3723.0);
    CHECK(cli::parse_time("1:02:03.5") == 3723.5);
    CHECK(cli::parse_time("125:00") == 7500.0);  // minutes may run past an hour

    for (const char* bad : {"", "-5", "+5", "1:", ":30", "1::30", "1:75", "1:60", "1.5:30", "1:2:3:4", "abc", "inf", "nan",
                            "1e3", "1:3x", " 1", "."}) {
        INFO(bad);
        CHECK_FALSE(cli::parse_time(bad).has_value());
    }

    CHECK(cli::format_time(0.0) == "0:00.0");
    CHECK(cli::format_time(90.0) == "1:30.0");
    CHECK(cli::format_time(59.96) == "1:00.0");
    CHECK(cli::format_time(3723.5) == "1:02:03.5");
}

TEST_CASE("commands are parsed with their arguments and typos get a suggestion", "[console]") {
    const cli::Command set = cli::parse_command("  set track.kick.gain_db   -3  # quieter");
    CHECK(set.error.empty());
    CHECK(set.name == "set");
    CHECK(set.args == std::vector<std::string>{"track.kick.gain_db", "-3"});

    CHECK(cli::parse_command("mute \"lead vox\"").args == std::vector<std::string>{"lead vox"});
    CHECK(cli::parse_command(R"(mute "say \"hi\"")").args == std::vector<std::string>{"say \"hi\""});
    CHECK(cli::parse_command("exit").name == "quit");

    for (const char* nothing : {"", "   ", "# a comment", "\t# indented comment"}) {
        const cli::Command c = cli::parse_command(nothing);
        CHECK(c.name.empty());
        CHECK(c.error.empty());
    }

    CHECK(cli::parse_command("mutte kick").error == "unknown command 'mutte' (did you mean 'mute'?)");
    CHECK(cli::parse_command("sloo kick").error == "unknown command 'sloo' (did you mean 'solo'?)");
    CHECK(cli::parse_command("frobnicate").error == "unknown command 'frobnicate' (help lists the commands)");
    CHECK(cli::parse_command("mute").error == "usage: mute NAME");
    CHECK(cli::parse_command("set track.kick.gain_db").error == "usage: set PATH VALUE");
    CHECK(cli::parse_command("play now").error == "usage: play");
    CHECK(cli::parse_command("mute \"kick").error == "unclosed quote");
    CHECK(cli::parse_command("mutte kick").name.empty());
}

TEST_CASE("set and get change and read the engine's parameters", "[console]") {
    TempDir dir;
    const Session session = make_session(dir);
    Player player(session, {.threads = 1});
    Console console(player, nullptr);

    CHECK(console.execute("set track.kick.gain_db -3") == "ok: track.kick.gain_db = -3\n");
    CHECK(value_of(player, "track.kick.gain_db") == -3.0);
    CHECK(console.execute("get track.kick.gain_db") == "track.kick.gain_db = -3\n");

    CHECK(console.execute("set track.kick.pan 0.1") == "ok: track.kick.pan = 0.1\n");
    CHECK(console.execute("get track.kick.pan") == "track.kick.pan = 0.1\n");  // stored as float, shown as typed

    CHECK(console.execute("set track.kick.eq.1.type peak") == "ok: track.kick.eq.1.type = peak\n");
    CHECK(console.execute("get track.kick.eq.1.type") == "track.kick.eq.1.type = peak\n");
    CHECK(console.execute("set track.kick.compressor.enabled on") == "ok: track.kick.compressor.enabled = 1\n");
    CHECK(value_of(player, "track.kick.compressor.enabled") == 1.0);
    CHECK(console.execute("set track.kick.compressor.enabled false") == "ok: track.kick.compressor.enabled = 0\n");
    CHECK(console.execute("set bus.drums.gain_db -inf") == "ok: bus.drums.gain_db = -inf\n");
    CHECK(value_of(player, "bus.drums.gain_db") == -120.0);

    // Failures say why, with the engine's suggestion; nothing changes.
    CHECK_THAT(console.execute("set track.kik.gain_db -6"),
               StartsWith("error: unknown parameter 'track.kik.gain_db' (did you mean 'track.kick.gain_db'?)"));
    CHECK_THAT(console.execute("set track.kick.gain_db 99"), StartsWith("error: "));
    CHECK_THAT(console.execute("set track.kick.eq.1.type peek"), StartsWith("error: "));
    CHECK(value_of(player, "track.kick.gain_db") == -3.0);
    CHECK_THAT(console.execute("get track.kick.gian_db"), StartsWith("error: unknown parameter 'track.kick.gian_db'"));
    CHECK(console.execute("mutte kick") == "error: unknown command 'mutte' (did you mean 'mute'?)\n");
    CHECK(console.execute("# nothing") == "");
}

TEST_CASE("mute silences the track it names and only that one", "[console]") {
    TempDir dir;
    const Session session = make_session(dir);
    Player player(session, {.threads = 1});
    Console console(player, nullptr);

    CHECK(console.execute("play") == "ok: play\n");
    run(player, 0.2);
    REQUIRE(player.transport().playing);
    REQUIRE(hold_of(player, "track.kick") > -20.0);
    REQUIRE(hold_of(player, "track.snare") > -20.0);

    CHECK(console.execute("mute kick") == "ok: track.kick.mute = 1\n");
    CHECK(value_of(player, "track.kick.mute") == 1.0);
    run(player, 0.1);  // the mute's 20 ms ramp
    CHECK(player.engine().reset_meters().ok());
    run(player, 0.3);
    CHECK(hold_of(player, "track.kick") < -150.0);  // nothing at all since the reset
    CHECK(hold_of(player, "track.snare") > -20.0);  // the other track plays on
    CHECK(player.stream_stats().underruns == 0);

    CHECK(console.execute("unmute track.kick") == "ok: track.kick.mute = 0\n");
    run(player, 0.1);
    CHECK(hold_of(player, "track.kick") > -20.0);

    // A name that is a track and a bus, a typo, the master.
    CHECK(console.execute("mute drums") == "error: 'drums' is a track and a bus: say which, track.drums or bus.drums\n");
    CHECK(console.execute("mute bus.drums") == "ok: bus.drums.mute = 1\n");
    CHECK(console.execute("mute kik") == "error: unknown strip 'kik' (did you mean 'kick'?)\n");
    CHECK(console.execute("mute track.snear") == "error: unknown strip 'track.snear' (did you mean 'track.snare'?)\n");
    CHECK_THAT(console.execute("mute zzzzzzzz"), StartsWith("error: unknown strip 'zzzzzzzz' (the strips: kick, snare, drums"));
    CHECK(console.execute("mute master") == "ok: master.mute = 1\n");
    CHECK(value_of(player, "master.mute") == 1.0);
}

TEST_CASE("solo and unsolo set the solo of tracks and buses", "[console]") {
    TempDir dir;
    const Session session = make_session(dir);
    Player player(session, {.threads = 1});
    Console console(player, nullptr);

    CHECK(console.execute("solo kick") == "ok: track.kick.solo = 1\n");
    CHECK(console.execute("solo bus.drums") == "ok: bus.drums.solo = 1\n");
    CHECK(value_of(player, "track.kick.solo") == 1.0);
    CHECK(value_of(player, "bus.drums.solo") == 1.0);

    // Solo in place: the track "drums" (straight to the master, not soloed) is silenced.
    CHECK(console.execute("play") == "ok: play\n");
    run(player, 0.1);
    CHECK(player.engine().reset_meters().ok());
    run(player, 0.2);
    CHECK(hold_of(player, "track.drums") < -150.0);
    CHECK(hold_of(player, "track.kick") > -20.0);

    CHECK(console.execute("unsolo kick") == "ok: track.kick.solo = 0\n");
    CHECK(console.execute("solo track.snare") == "ok: track.snare.solo = 1\n");
    CHECK(console.execute("unsolo") == "ok: unsolo track.snare, bus.drums\n");
    CHECK(value_of(player, "track.snare.solo") == 0.0);
    CHECK(value_of(player, "bus.drums.solo") == 0.0);
    CHECK(console.execute("unsolo") == "ok: nothing was soloed\n");
    CHECK(console.execute("solo master") == "error: the master cannot be soloed\n");

    run(player, 0.1);
    CHECK(player.engine().reset_meters().ok());
    run(player, 0.2);
    CHECK(hold_of(player, "track.drums") > -20.0);  // heard again
}

TEST_CASE("transport commands move the player", "[console]") {
    TempDir dir;
    const Session session = make_session(dir);
    Player player(session, {.threads = 1});
    Console console(player, nullptr);

    CHECK(console.execute("locate 1:30") == "ok: locate 1:30.0 (after the end of the stems, 0:03.0)\n");
    run(player, 0.01);
    CHECK(player.transport().position_s == 90.0);
    CHECK_FALSE(player.transport().playing);

    CHECK(console.execute("locate 2.5") == "ok: locate 0:02.5\n");
    run(player, 0.01);
    CHECK(player.transport().position_s == 2.5);
    CHECK(console.execute("locate 1:7x") == "error: locate '1:7x': expected seconds (90, 12.5), m:ss (1:30) or h:mm:ss\n");
    CHECK(console.execute("locate") == "error: usage: locate TIME\n");

    CHECK(console.execute("loop 0:01 0:02") == "ok: loop 0:01.0 - 0:02.0\n");
    CHECK(console.execute("play") == "ok: play\n");
    run(player, 0.05);
    TransportState t = player.transport();
    CHECK(t.playing);
    CHECK(t.looping);
    CHECK(t.loop_start_s == 1.0);
    CHECK(t.loop_end_s == 2.0);
    CHECK(t.position_s >= 1.0);
    CHECK(t.position_s < 2.0);
    CHECK(console.execute("loop 2 1") == "error: loop 2 1: the end must come after the start\n");
    CHECK(console.execute("loop 1") == "error: usage: loop START END | loop off\n");
    CHECK_THAT(console.execute("loop 1 1.01"), StartsWith("error: "));  // the player's minimum length
    CHECK(console.execute("loop off") == "ok: loop off\n");
    CHECK(console.execute("stop") == "ok: stop\n");
    run(player, 0.05);
    t = player.transport();
    CHECK_FALSE(t.playing);
    CHECK_FALSE(t.looping);

    const std::string status = console.execute("status");
    CHECK_THAT(status, Contains("transport   stopped"));
    CHECK_THAT(status, Contains("backend     none"));
    CHECK_THAT(status, Contains("underruns   0"));
}

TEST_CASE("save writes the session with the values the mix has now", "[console]") {
    TempDir dir;
    const Session session = make_session(dir);
    Player player(session, {.threads = 1});
    Console console(player, nullptr);

    CHECK(console.execute("set track.kick.gain_db -4.5") == "ok: track.kick.gain_db = -4.5\n");
    CHECK(console.execute("mute snare") == "ok: track.snare.mute = 1\n");
    const std::string file = (dir / "saved.toml").string();
    CHECK(console.execute("save " + file) == "ok: saved " + file + "\n");

    const Session saved = Session::load(file);
    Engine engine(saved.engine_options());
    saved.apply(engine);
    double gain = 0.0, mute = 0.0, other = 0.0;
    CHECK(engine.get("track.kick.gain_db", gain).ok());
    CHECK(engine.get("track.snare.mute", mute).ok());
    CHECK(engine.get("track.drums.gain_db", other).ok());
    CHECK(gain == -4.5);
    CHECK(mute == 1.0);
    CHECK(other == 0.0);

    // A place that cannot be written: an error, and the console goes on.
    test::write_text(dir / "plain-file", "x");
    CHECK_THAT(console.execute("save " + (dir / "plain-file/mix.toml").string()), StartsWith("error: "));
    CHECK(console.execute("get track.kick.gain_db") == "track.kick.gain_db = -4.5\n");
}

TEST_CASE("meters and the watch frame show every strip", "[console]") {
    TempDir dir;
    const Session session = make_session(dir);
    Player player(session, {.threads = 1});
    Console console(player, nullptr);
    CHECK(console.execute("play") == "ok: play\n");
    run(player, 0.5);

    const std::string meters = console.execute("meters");
    for (const char* s : {"track kick", "track snare", "track drums", "bus drums", "master", "loudness: momentary",
                          "limiter: GR", "transport: playing", "xruns 0, underruns 0"})
        CHECK_THAT(meters, Contains(s));
    // Strips in desk order: tracks, buses, the master.
    CHECK(meters.find("track drums") < meters.find("bus drums"));
    CHECK(meters.find("bus drums") < meters.find("\nmaster"));

    const std::string frame = console.watch_frame();
    CHECK_THAT(frame, Contains("track kick"));
    CHECK_THAT(frame, Contains("[#"));  // a level bar with something in it
    CHECK_THAT(frame, Contains("|"));   // a peak hold marker
    CHECK_THAT(frame, Contains("loudness  M"));
    CHECK(frame.find('\033') == std::string::npos);  // escape codes are the loop's business

    CHECK(console.execute("watch") == "");
    CHECK(console.take_watch_request());
    CHECK_FALSE(console.take_watch_request());

    const std::string help = console.execute("help");
    for (const char* c : {"set", "get", "mute", "unmute", "solo", "unsolo", "play", "stop", "locate", "loop", "touch", "latch",
                          "write", "release", "read", "meters", "watch", "save", "status", "help", "quit"})
        CHECK_THAT(help, Contains(std::string("\n  ") + c));
    CHECK(console.execute("help mute") == "mute NAME\n  mute a track or bus (NAME, track.NAME or bus.NAME) or the master\n");
    CHECK_FALSE(console.quit_requested());
    CHECK(console.execute("quit") == "ok: quit\n");
    CHECK(console.quit_requested());
}

TEST_CASE("underruns are reported per track at most once a second", "[console]") {
    TempDir dir;
    const Session session = make_session(dir);
    std::atomic<bool> stall{false};
    Player player(session, {.threads = 1, .on_reader_chunk = [&stall] {
                                while (stall.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                            }});
    // Let the reader go before the player joins it, however the test ends.
    const struct Release {
        std::atomic<bool>& flag;
        ~Release() { flag.store(false); }
    } release{stall};
    Console console(player, nullptr);
    const auto start = std::chrono::steady_clock::now();
    CHECK(console.tick(start).output.empty());

    // The reader stops; the 1.5 s of read-ahead runs out and every track plays silence.
    run(player, 0.0);
    stall.store(true);
    CHECK(console.execute("play") == "ok: play\n");
    std::vector<float> left(256), right(256);
    float* out[2] = {left.data(), right.data()};
    for (int i = 0; i < 2 * rate / 256; ++i) player.process(nullptr, 0, out, 256);
    const StreamStats stats = player.stream_stats();
    REQUIRE(stats.underruns > 0);
    REQUIRE(stats.tracks.size() == 3);

    const std::string report = console.tick(start + std::chrono::seconds(1)).output;
    CHECK_THAT(report, StartsWith("underruns: track 'kick' "));
    CHECK_THAT(report, Contains(fmt::format("track 'kick' {} (+{})", stats.tracks[0].second, stats.tracks[0].second)));
    CHECK_THAT(report, Contains("track 'snare' "));
    CHECK_THAT(report, Contains("track 'drums' "));
    CHECK(std::count(report.begin(), report.end(), '\n') == 1);

    // More underruns: said again only a second after the last report, as the difference.
    for (int i = 0; i < 10; ++i) player.process(nullptr, 0, out, 256);
    CHECK(console.tick(start + std::chrono::milliseconds(1500)).output.empty());
    const std::uint64_t kick = player.stream_stats().tracks[0].second;
    CHECK_THAT(console.tick(start + std::chrono::seconds(2)).output,
               Contains(fmt::format("track 'kick' {} (+{})", kick, kick - stats.tracks[0].second)));
    CHECK_THAT(console.execute("status"), Contains(fmt::format("underruns   {} (kick {}", player.stream_stats().underruns, kick)));
}

TEST_CASE("the console loop runs piped commands and ends as the input and the backend say", "[console]") {
    TempDir dir;
    const Session session = make_session(dir);
    Player player(session, {.threads = 1});
    FakeBackend backend;
    backend.next.running = true;
    double new_rate = 0.0;

    SECTION("quit") {
        const auto [end, out] =
            run_piped(player, backend, "set track.kick.gain_db -3\n\n# a comment\nmutte kick\nquit\nset track.kick.gain_db -9\n", new_rate);
        CHECK(end == ConsoleEnd::quit);
        CHECK(out == "ok: track.kick.gain_db = -3\nerror: unknown command 'mutte' (did you mean 'mute'?)\nok: quit\n");
        CHECK(value_of(player, "track.kick.gain_db") == -3.0);  // nothing after quit ran
    }
    SECTION("the end of the input after a last line without a line break") {
        const auto [end, out] = run_piped(player, backend, "mute kick\r\nset track.snare.gain_db -2", new_rate);
        CHECK(end == ConsoleEnd::input_closed);
        CHECK(out == "ok: track.kick.mute = 1\nok: track.snare.gain_db = -2\n");
    }
    SECTION("a watch on a pipe ends at the next line and that line runs") {
        const auto [end, out] = run_piped(player, backend, "watch\nstatus\nquit\n", new_rate);
        CHECK(end == ConsoleEnd::quit);
        CHECK_THAT(out, Contains("loudness  M"));
        CHECK_THAT(out, Contains("backend     fake (48000 Hz, 256 frames), running"));
        CHECK(out.find("loudness  M") < out.find("transport   "));
        CHECK(out.find('\033') == std::string::npos);  // not a terminal: no escape codes
    }
    SECTION("a backend that failed") {
        backend.next.error = "the JACK server went away";
        const auto [end, out] = run_piped(player, backend, "quit\n", new_rate);
        CHECK(end == ConsoleEnd::backend_failed);
        CHECK(out == "rtmix: the JACK server went away\n");
    }
    SECTION("a new sample rate") {
        backend.next.rate_changed_to = 44100.0;
        const auto [end, out] = run_piped(player, backend, "quit\n", new_rate);
        CHECK(end == ConsoleEnd::rate_changed);
        CHECK(new_rate == 44100.0);
    }
    SECTION("the backend's notes are printed once") {
        backend.next.notes = {"the device runs at 44100 Hz, not 48000"};
        const auto [end, out] = run_piped(player, backend, "status\nquit\n", new_rate);
        CHECK(end == ConsoleEnd::quit);
        CHECK_THAT(out, StartsWith("note: the device runs at 44100 Hz, not 48000\ntransport   "));
        CHECK(out.find("note:", 1) == std::string::npos);
    }
    SECTION("xruns are reported") {
        backend.next.xruns = 3;
        const auto [end, out] = run_piped(player, backend, "quit\n", new_rate);
        CHECK(end == ConsoleEnd::quit);
        CHECK(out == "xruns: 3 (+3)\nok: quit\n");
    }
}

TEST_CASE("touch, latch and write record while playing, and save writes the lanes, and a render plays them back", "[console][record]") {
    TempDir dir;
    const Session session = make_session(dir);
    Player player(session, {.threads = 1});
    Console console(player, nullptr);
    CHECK(console.execute("touch track.kick.gain_db") == "ok: touch track.kick.gain_db\n");
    CHECK(console.execute("latch track.drums.pan") == "ok: latch track.drums.pan\n");
    CHECK(console.execute("write track.snare.gain_db") == "ok: write track.snare.gain_db\n");
    CHECK(console.execute("touch track.snare.pan 0.5") == "ok: touch track.snare.pan (lets go 0.5 s after the last set)\n");
    CHECK(console.execute("read track.snare.pan") == "ok: read track.snare.pan\n");
    CHECK_THAT(console.execute("touch track.kick.solo"), StartsWith("error: track.kick.solo cannot be recorded"));
    CHECK_THAT(console.execute("touch track.kick.pan soon"), StartsWith("error: touch track.kick.pan 'soon'"));
    CHECK_THAT(console.execute("status"), Contains("recording   track.drums.pan latch, track.kick.gain_db touch, "
                                                   "track.snare.gain_db write\n"));

    // Played from the start in 256-frame callbacks; the commands land at the start of the next one.
    REQUIRE(player.wait_until_buffered(10.0));
    CHECK(console.execute("play") == "ok: play\n");
    const int blocks = 170, stop_block = 150;
    std::vector<float> left(blocks * 256), right(blocks * 256);
    for (int b = 0; b < blocks; ++b) {
        if (b == 40) CHECK(console.execute("set track.kick.gain_db -12") == "ok: track.kick.gain_db = -12\n");
        if (b == 60) CHECK(console.execute("set track.drums.pan -0.5") == "ok: track.drums.pan = -0.5\n");
        if (b == 75) CHECK(console.execute("set track.snare.gain_db -9") == "ok: track.snare.gain_db = -9\n");
        if (b == 100) CHECK(console.execute("release track.kick.gain_db") == "ok: release track.kick.gain_db\n");
        if (b == stop_block) CHECK(console.execute("stop") == "ok: stop\n");
        float* out[2] = {left.data() + b * 256, right.data() + b * 256};
        player.process(nullptr, 0, out, 256);
    }
    const std::string notes = console.tick(std::chrono::steady_clock::now()).output;
    CHECK_THAT(notes, Contains("note: track.kick.gain_db: automation written from"));
    CHECK_THAT(notes, Contains("note: track.drums.pan: automation written from"));
    CHECK_THAT(notes, Contains("note: track.snare.gain_db: automation written from 0.000 s"));

    // The touch: written from the grid point at or after the frame of block 40, back to 0 dB from
    // the one of block 100.
    const auto lanes = player.engine().automation();
    REQUIRE(lanes.size() == 3);
    for (const auto& [path, lane] : lanes)
        if (path == "track.kick.gain_db") {
            REQUIRE(lane.points.size() == 4);
            CHECK(lane.points[0].frame == 40 * 256);
            CHECK(lane.points[0].value == 0.0);
            CHECK(lane.points[1].frame == 40 * 256 + 960);
            CHECK(lane.points[1].value == -12.0);
            CHECK(lane.points[2].frame == 100 * 256);
            CHECK(lane.points[3].frame == 100 * 256 + 960);
            CHECK(lane.points[3].value == 0.0);
        }

    const std::string file = (dir / "recorded.toml").string();
    CHECK(console.execute("save " + file) == "ok: saved " + file + "\n");
    const Session saved = Session::load(file);
    REQUIRE(saved.automation().size() == 3);
    CHECK_THAT(slurp(file), Contains("[track.automation]"));

    // Offline, the saved session plays what was heard: sample for sample, from after the
    // player's fade-in at the start to the stop (whose declick the render does not have).
    RenderOptions options;
    options.output = dir / "master.f32";
    options.format = RenderOptions::Format::f32;
    options.length_s = static_cast<double>(blocks * 256) / rate;
    options.threads = 1;
    render(saved, options);
    const std::string raw = slurp(options.output);
    REQUIRE(raw.size() == static_cast<std::size_t>(blocks) * 256 * 2 * sizeof(float));
    std::vector<float> rendered(raw.size() / sizeof(float));
    std::memcpy(rendered.data(), raw.data(), raw.size());
    std::size_t differ = 0;
    for (std::size_t i = 1024; i < static_cast<std::size_t>(stop_block) * 256; ++i)
        differ += std::memcmp(&rendered[2 * i], &left[i], sizeof(float)) != 0 ||
                  std::memcmp(&rendered[2 * i + 1], &right[i], sizeof(float)) != 0;
    CHECK(differ == 0);
    // (and the lanes did move the mix: the kick at -12 dB, the drums track panned left)
    CHECK(std::fabs(left[70 * 256]) > 0.0f);
}
