// Live play against a real JACK server (jackd, dummy driver): rtmix as a client, a second client
// feeding a known sine into a live-input track and measuring the master ports. Levels are checked
// against the gain and the equal-power pan law of docs/parameters.md. The program tests run
// `rtmix play` as a process with its console on a pipe, as a script would drive it.
#include <catch2/catch.hpp>

#include <rtmix/live.hpp>
#include <rtmix/session.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "files.hpp"
#include "jack_server.hpp"

namespace {

using rtmix::test::JackServer;
using rtmix::test::TempDir;
using rtmix::test::TestClient;

constexpr float sine_amplitude = 0.5f;
const double sine_db = 20.0 * std::log10(sine_amplitude / std::numbers::sqrt2);  // its RMS in dBFS

/// Equal-power pan of a mono track, in dB: left = cos θ, right = sin θ, θ = (pan + 1)·π/4.
double pan_db(double pan, int side) {
    const double theta = (pan + 1.0) * std::numbers::pi / 4.0;
    return 20.0 * std::log10(side == 0 ? std::cos(theta) : std::sin(theta));
}

std::string live_session(const std::string& port, double gain_db, double pan) {
    return "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"mic\"\ninput = \"" + port + "\"\ngain_db = " +
           std::to_string(gain_db) + "\npan = " + std::to_string(pan) + "\n";
}

/// `rtmix ARGS...` as a child: stdin a pipe the test writes commands into, stdout and stderr files.
class RtmixProcess {
public:
    RtmixProcess(const TempDir& dir, const std::vector<std::string>& args, const std::vector<std::string>& env = {})
        : out_(dir / "stdout"), err_(dir / "stderr") {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<std::string> all = {RTMIX_CLI};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (std::string& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> environment;
        for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
        environment.insert(environment.end(), env.begin(), env.end());
        std::vector<char*> envp;
        for (std::string& e : environment) envp.push_back(e.data());
        envp.push_back(nullptr);
        REQUIRE(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) == 0);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[0]);
        stdin_ = fds[1];
    }
    ~RtmixProcess() {
        if (stdin_ >= 0) ::close(stdin_);
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    void send(const std::string& line) { REQUIRE(::write(stdin_, line.data(), line.size()) == static_cast<ssize_t>(line.size())); }
    void close_input() {
        ::close(stdin_);
        stdin_ = -1;
    }
    std::string out() const { return rtmix::test::read_bytes(out_); }
    std::string err() const { return rtmix::test::read_bytes(err_); }
    /// Waits until stdout holds `text` (at most `timeout_s`).
    bool wait_output(const std::string& text, double timeout_s = 20.0) const {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        while (out().find(text) == std::string::npos) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return true;
    }
    /// The exit code once it has exited within `timeout_s`; -1 if it had not (or died of a signal).
    int wait_exit(double timeout_s) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

private:
    std::filesystem::path out_, err_;
    pid_t pid_ = -1;
    int stdin_ = -1;
};

}  // namespace

TEST_CASE("A live-input track under JACK comes out at its gain and pan", "[jack]") {
    JackServer server;
    TestClient tester(server);
    tester.set_sine(sine_amplitude);
    TempDir dir;
    rtmix::test::write_text(dir / "live.toml", live_session(tester.port("out"), -6.0, 0.5));
    const rtmix::Session session = rtmix::Session::load(dir / "live.toml");

    rtmix::BackendOptions options;
    options.server = server.name();
    options.client_name = "rtmix-live";
    auto backend = rtmix::open_backend(options);
    CHECK(backend->sample_rate() == 48000.0);
    CHECK(backend->buffer_frames() == 256);
    rtmix::Player player(session, {.sample_rate = backend->sample_rate(), .max_block_frames = backend->buffer_frames()});
    REQUIRE(player.live_channels().size() == 1);
    backend->start(player);
    // rtmix connected its input to the tester's output itself (input = "tester:out").
    const char** connections = jack_port_get_all_connections(tester.client(), jack_port_by_name(tester.client(), "rtmix-live:mic"));
    REQUIRE(connections != nullptr);
    CHECK(std::string(connections[0]) == tester.port("out"));
    jack_free(connections);
    REQUIRE(tester.connect("rtmix-live:master_L", tester.port("in_L")));
    REQUIRE(tester.connect("rtmix-live:master_R", tester.port("in_R")));

    REQUIRE(tester.wait_blocks(40));  // past the parameters' 20 ms ramps from their defaults
    const std::size_t first = tester.blocks();
    REQUIRE(tester.wait_blocks(100));
    const std::size_t last = tester.blocks();
    CHECK(tester.rms_db(0, first, last) == Approx(sine_db - 6.0 + pan_db(0.5, 0)).margin(0.05));
    CHECK(tester.rms_db(1, first, last) == Approx(sine_db - 6.0 + pan_db(0.5, 1)).margin(0.05));

    const rtmix::BackendStatus status = backend->status();
    CHECK(status.running);
    CHECK(status.error.empty());
    CHECK(status.callbacks > 100);
    CHECK(status.total_load_average > 0.0);
    CHECK(status.total_load_average < 1.0);
    backend->stop();
}

TEST_CASE("rtmix play under JACK obeys its console and survives a buffer size change", "[jack][cli]") {
    JackServer server;
    TestClient tester(server);
    tester.set_sine(sine_amplitude);
    TempDir dir;
    rtmix::test::write_text(dir / "live.toml", live_session(tester.port("out"), 0.0, 0.0));
    RtmixProcess rtmix(dir, {"play", (dir / "live.toml").string(), "--server", server.name(), "--name", "rtmix-cli"});
    REQUIRE(rtmix.wait_output("playing "));
    REQUIRE(tester.connect("rtmix-cli:master_L", tester.port("in_L")));
    REQUIRE(tester.connect("rtmix-cli:master_R", tester.port("in_R")));
    REQUIRE(tester.wait_blocks(40));
    std::size_t first = tester.blocks();
    REQUIRE(tester.wait_blocks(50));
    CHECK(tester.rms_db(0, first, tester.blocks()) == Approx(sine_db + pan_db(0.0, 0)).margin(0.05));

    SECTION("a set through the console is heard within a few blocks") {
        const double before = tester.block_db(0, tester.blocks() - 1);
        const std::size_t sent_at = tester.blocks();
        rtmix.send("set track.mic.gain_db -20\n");
        std::size_t heard_at = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (heard_at == 0 && std::chrono::steady_clock::now() < deadline) {
            const std::size_t n = tester.blocks();
            for (std::size_t b = sent_at; b < n && heard_at == 0; ++b)
                if (tester.block_db(0, b) < before - 1.0) heard_at = b;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        REQUIRE(heard_at > 0);
        // The pipe, the console and the control queue take well under a block; the gain ramp
        // (20 ms, under 4 blocks) starts on the block that takes the change.
        INFO("heard " << heard_at - sent_at << " blocks after the command was written");
        CHECK(heard_at - sent_at <= 8);
        REQUIRE(tester.wait_blocks(20));
        first = tester.blocks();
        REQUIRE(tester.wait_blocks(50));
        CHECK(tester.rms_db(0, first, tester.blocks()) == Approx(sine_db - 20.0 + pan_db(0.0, 0)).margin(0.05));
        CHECK(rtmix.wait_output("ok: track.mic.gain_db = -20"));
    }

    SECTION("a buffer size change keeps the audio flowing") {
        REQUIRE(jack_set_buffer_size(tester.client(), 128) == 0);
        REQUIRE(tester.wait_blocks(100));
        first = tester.blocks();
        REQUIRE(tester.wait_blocks(200));
        CHECK(tester.rms_db(0, first, tester.blocks()) == Approx(sine_db + pan_db(0.0, 0)).margin(0.05));
        for (std::size_t b = first; b < tester.blocks(); ++b) CHECK(tester.block_db(0, b) > sine_db - 4.0);
        rtmix.send("status\n");
        CHECK(rtmix.wait_output("128 frames"));
    }

    rtmix.send("quit\n");
    CHECK(rtmix.wait_exit(20.0) == 0);
}

TEST_CASE("rtmix play exits with a clear error when the JACK server goes away", "[jack][cli]") {
    auto server = std::make_unique<JackServer>();
    TempDir dir;
    rtmix::test::write_text(dir / "live.toml", live_session("system:capture_1", 0.0, 0.0));
    RtmixProcess rtmix(dir, {"play", (dir / "live.toml").string(), "--server", server->name()});
    REQUIRE(rtmix.wait_output("playing "));
    server->stop();
    const int code = rtmix.wait_exit(20.0);
    CHECK(code == 1);
    INFO(rtmix.err());
    CHECK(rtmix.err().find("the JACK server went away") != std::string::npos);
}

TEST_CASE("rtmix play through PortAudio's JACK host API delivers the master", "[jack][portaudio][cli]") {
    JackServer server;
    TestClient tester(server);
    tester.set_sine(sine_amplitude);
    TempDir dir;
    // A device channel (PortAudio), panned hard left: the right side must stay silent.
    rtmix::test::write_text(dir / "pa.toml", "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"mic\"\ninput = 1\ngain_db = -6\npan = -1\n");
    RtmixProcess rtmix(dir, {"play", (dir / "pa.toml").string(), "--backend", "portaudio", "--frames", "256"},
                       {"JACK_DEFAULT_SERVER=" + server.name()});
    REQUIRE(rtmix.wait_output("playing "));
    INFO(rtmix.out() << rtmix.err());
    CHECK(rtmix.out().find("JACK Audio Connection Kit") != std::string::npos);
    // PortAudio's client is "PortAudio": its input 0 is device channel 1.
    REQUIRE(tester.connect(tester.port("out"), "PortAudio:in_0"));
    REQUIRE(tester.connect("PortAudio:out_0", tester.port("in_L")));
    REQUIRE(tester.connect("PortAudio:out_1", tester.port("in_R")));
    REQUIRE(tester.wait_blocks(60));
    const std::size_t first = tester.blocks();
    REQUIRE(tester.wait_blocks(100));
    CHECK(tester.rms_db(0, first, tester.blocks()) == Approx(sine_db - 6.0).margin(0.05));
    CHECK(tester.rms_db(1, first, tester.blocks()) < -120.0);
    rtmix.send("quit\n");
    CHECK(rtmix.wait_exit(20.0) == 0);
}

namespace {

/// Two seconds of a plucked-tone stem with noise bursts (mono or stereo), for the recording tests.
std::vector<std::vector<float>> test_stem(std::uint32_t channels, double freq, std::uint64_t seed) {
    constexpr std::size_t n = 96000;
    std::vector<std::vector<float>> out(channels, std::vector<float>(n));
    std::uint64_t s = seed;
    for (std::size_t i = 0; i < n; ++i) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        const double noise = static_cast<double>(s >> 40) / static_cast<double>(1ULL << 24) - 0.5;
        const double t = static_cast<double>(i) / 48000.0;
        const double env = std::exp(-6.0 * std::fmod(t, 0.5));
        const double burst = std::fmod(t, 0.25) < 0.01 ? noise : 0.0;
        for (std::uint32_t c = 0; c < channels; ++c)
            out[c][i] = static_cast<float>(0.5 * env * std::sin(2.0 * std::numbers::pi * freq * (1.0 + 0.01 * c) * t) + 0.4 * burst);
    }
    return out;
}

/// A session that uses automation (fader, pan, send, EQ frequency, reverb mix), an EQ, a
/// compressor, a gate, a reverb and a delay on buses, and the master limiter.
void write_automated_session(const TempDir& dir) {
    rtmix::test::write_audio(dir / "keys.wav", test_stem(2, 330.0, 1), 48000);
    rtmix::test::write_audio(dir / "vox.wav", test_stem(1, 220.0, 2), 48000);
    rtmix::test::write_text(dir / "song.toml", R"([session]
sample_rate = 48000
block_frames = 100

[[bus]]
name = "verb"
reverb = { size = 0.6, decay_s = 1.2, predelay_ms = 20, automation = { mix = [ [0, 1.0], [1.5, 0.6, "smooth"] ] } }

[[bus]]
name = "echo"
delay = { time_ms = 125, feedback = 0.4 }

[master.limiter]
ceiling_dbtp = -1.0

[[track]]
name = "keys"
file = "keys.wav"
gain_db = -3
eq = [ { type = "peak", freq_hz = 1000, gain_db = 4, q = 1.0, automation = { freq_hz = [ [0, 200], [1.8, 4000, "exponential"] ] } } ]
compressor = { threshold_db = -20, ratio = 3 }
sends = [ { bus = "verb", level_db = -8 } ]

[track.automation]
gain_db = [ [0, "-inf"], [0.4, 0, "smooth"], [1.2, -2], [1.9, -12] ]
pan = [ [0, -0.8], [1.6, 0.8] ]

[[track]]
name = "vox"
file = "vox.wav"
inserts = [ { type = "gate", threshold_db = -40 } ]
sends = [ { bus = "echo", level_db = -6 } ]

[track.automation]
"send.echo.level_db" = [ [0.3, -40], [0.9, 0, "smooth"], ["80000 samples", -20, "hold"] ]
)");
}

}  // namespace

TEST_CASE("an automated session recorded live under JACK equals its offline render sample for sample",
          "[jack][cli][automation][exactness]") {
    const unsigned period = GENERATE(64u, 1024u);
    JackServer server(period);
    TempDir dir;
    write_automated_session(dir);
    const std::filesystem::path song = dir / "song.toml";

    // Offline: the same float file, no dither.
    RtmixProcess render(dir, {"render", song.string(), "-o", (dir / "offline.wav").string(), "--bits", "32f",
                              "--dither", "none"});
    REQUIRE(render.wait_exit(120.0) == 0);

    // Live: played from the start to the end through the server's callback, recorded; the console
    // input ends at once, so it plays to the end of the session and quits.
    RtmixProcess play(dir, {"play", song.string(), "--server", server.name(), "--record", (dir / "live.wav").string(),
                            "--bits", "32f", "--dither", "none", "--stats"});
    play.close_input();
    REQUIRE(play.wait_exit(60.0) == 0);
    INFO(play.out() << play.err());
    CHECK(play.out().find("recorded ") != std::string::npos);
    CHECK(play.out().find("underruns 0") != std::string::npos);  // the reader kept up
    CHECK(play.err().find("lost") == std::string::npos);

    const rtmix::test::Audio offline = rtmix::test::read_audio(dir / "offline.wav");
    const rtmix::test::Audio live = rtmix::test::read_audio(dir / "live.wav");
    REQUIRE(offline.channels.size() == 2);
    REQUIRE(live.channels.size() == 2);
    // The recording runs on past the session's end while the program waits to quit; the render
    // ends when the tails are silent. Both hold the whole two seconds and more.
    const std::size_t n = std::min(offline.frames(), live.frames());
    REQUIRE(n >= 96000);
    CHECK(offline.peak() > 0.1);
    std::size_t differ = 0, first = n;
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t i = 0; i < n; ++i)
            if (offline.channels[c][i] != live.channels[c][i]) {
                ++differ;
                first = std::min(first, i);
            }
    INFO("period " << period << ": " << differ << " samples differ" << (differ > 0 ? ", the first at frame " + std::to_string(first) : std::string()));
    CHECK(differ == 0);
}

TEST_CASE("rtmix play --record refuses what it must not write", "[cli]") {
    TempDir dir;
    write_automated_session(dir);
    const std::filesystem::path song = dir / "song.toml";
    struct Case {
        std::vector<std::string> args;
        std::string error;
    };
    const std::vector<Case> cases = {
        {{"--record", (dir / "keys.wav").string()}, "is the stem of track 'keys'"},
        {{"--record", song.string(), "--format", "wav"}, "is the session file"},
        {{"--record", "-"}, "the standard output carries the console"},
        {{"--bits", "16"}, "--bits applies to a recording"},
        {{"--record", (dir / "take.flac").string(), "--bits", "32f"}, "FLAC stores integer samples"},
        {{"--record", (dir / "take").string()}, "cannot tell the format"},
    };
    for (const Case& c : cases) {
        std::vector<std::string> args = {"play", song.string(), "--server", "rtmix-no-such-server"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        RtmixProcess p(dir, args);
        p.close_input();
        const int code = p.wait_exit(30.0);
        INFO(c.error << "\n" << p.err());
        CHECK(code == 2);
        CHECK(p.err().find(c.error) != std::string::npos);
    }
    // Nothing written over the inputs.
    CHECK(rtmix::test::read_audio(dir / "keys.wav").frames() == 96000);
}

TEST_CASE("rtmix play --watch applies an edited session file while it plays", "[jack][cli][reload]") {
    JackServer server;
    TestClient tester(server);
    TempDir dir;
    // A steady tone for the level to be read against: two seconds of 440 Hz (880 whole cycles), looped.
    std::vector<float> tone(96000);
    for (std::size_t i = 0; i < tone.size(); ++i)
        tone[i] = 0.5f * static_cast<float>(std::sin(2.0 * std::numbers::pi * 440.0 * static_cast<double>(i) / 48000.0));
    rtmix::test::write_audio(dir / "tone.wav", {tone}, 48000);
    const std::string head = "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"tone\"\nfile = \"tone.wav\"\n";
    rtmix::test::write_text(dir / "song.toml", head + "gain_db = 0\n");
    RtmixProcess rtmix(dir, {"play", (dir / "song.toml").string(), "--server", server.name(), "--name", "rtmix-watch",
                             "--watch", "--loop", "0", "2"});
    REQUIRE(rtmix.wait_output("playing "));
    REQUIRE(tester.connect("rtmix-watch:master_L", tester.port("in_L")));
    REQUIRE(tester.wait_blocks(100));
    const double before = tester.rms_db(0, tester.blocks() - 90, tester.blocks());

    // Saved the way editors do: a new file renamed over the old one.
    rtmix::test::write_text(dir / "song.toml.new", head + "gain_db = -20\n");
    const std::size_t saved_at = tester.blocks();
    const auto saved = std::chrono::steady_clock::now();
    std::filesystem::rename(dir / "song.toml.new", dir / "song.toml");
    REQUIRE(rtmix.wait_output("reload: "));
    CHECK(rtmix.wait_output("track.tone.gain_db = -20"));
    const double reported_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - saved).count();
    REQUIRE(tester.wait_blocks(100));
    const double after = tester.rms_db(0, tester.blocks() - 60, tester.blocks());
    INFO("before " << before << " dB, after " << after << " dB");
    CHECK(after == Approx(before - 20.0).margin(1.0));
    // When it was heard: the first block 10 dB down, counted from the save (for the docs'
    // figure; not asserted beyond arriving).
    std::size_t heard = 0;
    for (std::size_t b = saved_at; b < tester.blocks() && heard == 0; ++b)
        if (tester.block_db(0, b) < before - 10.0) heard = b;
    REQUIRE(heard > 0);
    std::printf("--watch: reported %.0f ms after the save, heard %.0f ms after it (256-frame blocks at 48 kHz)\n",
                1000.0 * reported_s, 1000.0 * static_cast<double>(heard - saved_at) * 256.0 / 48000.0);

    // A mistake in the file: reported with its place, and the mix plays on as it was.
    rtmix::test::write_text(dir / "song.toml.new", head + "gain_db = [\n");
    std::filesystem::rename(dir / "song.toml.new", dir / "song.toml");
    CHECK(rtmix.wait_output("not applied; the mix plays on as it was"));
    CHECK(rtmix.out().find("song.toml:7:") != std::string::npos);
    REQUIRE(tester.wait_blocks(50));
    CHECK(tester.rms_db(0, tester.blocks() - 40, tester.blocks()) == Approx(after).margin(1.0));
    rtmix.send("quit\n");
    CHECK(rtmix.wait_exit(20.0) == 0);
}

TEST_CASE("rtmix play names a stem cut while it plays on stderr and exits 1, with its input closed", "[jack][cli][faults]") {
    JackServer server;
    TempDir dir;
    rtmix::test::write_audio(dir / "long.wav", {std::vector<float>(4 * 48000, 0.25f)}, 48000,
                             SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    rtmix::test::write_text(dir / "s.toml", "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"long\"\nfile = \"long.wav\"\n");
    RtmixProcess rtmix(dir, {"play", (dir / "s.toml").string(), "--server", server.name()});
    REQUIRE(rtmix.wait_output("playing "));
    std::filesystem::resize_file(dir / "long.wav", 44 + 2 * 2 * 48000);  // cut at 2 s, 1.5 s read ahead
    rtmix.close_input();
    const int code = rtmix.wait_exit(30.0);
    INFO(rtmix.out() << rtmix.err());
    CHECK(code == 1);
    CHECK(rtmix.err().find("rtmix: a track failed while playing: '" + (dir / "long.wav").string() + "' ends at 2.000 s") !=
          std::string::npos);
}
