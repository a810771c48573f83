// Saving a session: the values a live engine holds go into a session file that loads back into
// the same mix, a file that stays close to what a person wrote, and a save that never leaves a
// half-written file.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "files.hpp"
#include "harness.hpp"
#include "rtmix/session.hpp"
#include "signals.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

std::filesystem::path write_session(const TempDir& dir, std::string_view text, const char* name = "session.toml") {
    if (text.starts_with('\n')) text.remove_prefix(1);
    const std::filesystem::path file = dir / name;
    test::write_text(file, text);
    return file;
}

void write_stem(const std::filesystem::path& file, std::size_t channels = 1) {
    test::write_audio(file, std::vector<std::vector<float>>(channels, test::sine(440.0, 48000, 480, 0.1)), 48000);
}

double number(const Engine& engine, std::string_view path) {
    double v = std::nan("");
    RTMIX_REQUIRE_OK(engine.get(path, v));
    return v;
}

std::string word(const Engine& engine, std::string_view path) {
    std::string w;
    RTMIX_REQUIRE_OK(engine.get(path, w));
    return w;
}

/// Every parameter of `a` exists in `b` with the same value: numbers bit for bit, words equal.
void require_same_values(const Engine& a, const Engine& b) {
    const std::vector<std::string> paths = a.parameter_paths();
    REQUIRE(paths == b.parameter_paths());
    std::size_t words = 0;
    for (const std::string& path : paths) {
        INFO(path);
        std::string wa;
        if (a.get(path, wa).ok()) {
            CHECK(word(b, path) == wa);
            ++words;
            continue;
        }
        const double va = number(a, path);
        const double vb = number(b, path);
        CHECK(va == vb);
    }
    CHECK(words > 0);
}

/// The same strips in the same order, with the same routing, inserts, stems, live inputs and
/// offsets, and sends to the same buses.
void require_same_strips(const Session& a, const Session& b) {
    REQUIRE(b.strips().size() == a.strips().size());
    for (std::size_t i = 0; i < a.strips().size(); ++i) {
        const SessionStrip& x = a.strips()[i];
        const SessionStrip& y = b.strips()[i];
        INFO(x.path());
        CHECK(y.kind == x.kind);
        CHECK(y.name == x.name);
        CHECK(y.output == x.output);
        REQUIRE(y.inserts.size() == x.inserts.size());
        for (std::size_t k = 0; k < x.inserts.size(); ++k) {
            CHECK(y.inserts[k].type == x.inserts[k].type);
            CHECK(y.inserts[k].slot == x.inserts[k].slot);
            CHECK(y.inserts[k].position == x.inserts[k].position);
        }
        CHECK(y.stem.path == x.stem.path);
        CHECK(y.stem.channels == x.stem.channels);
        CHECK(y.input.ports == x.input.ports);
        CHECK(y.input.device_channels == x.input.device_channels);
        CHECK(y.offset_ms == x.offset_ms);
        REQUIRE(y.sends.size() == x.sends.size());
        for (std::size_t k = 0; k < x.sends.size(); ++k) CHECK(y.sends[k].bus == x.sends[k].bus);
    }
    CHECK(b.track_input_channels() == a.track_input_channels());
}

// The mix of the round trip: buses with a compressor, a reverb and a delay, sends (one
// pre-fader), EQ bands, a compressor with a word, an offset, two live inputs, the master's EQ,
// limiter, loudness target and tags.
const std::string song = R"(
[session]
sample_rate = 48000
block_frames = 128

[[bus]]
name = "drums"
gain_db = -1.5
compressor = { threshold_db = -16, ratio = 3, attack_ms = 15, release_ms = 150 }

[[bus]]
name = "verb"
reverb = { decay_s = 2.4, predelay_ms = 25, damping = 0.5 }

[[bus]]
name = "echo"
output = "verb"
delay = { time_ms = 250, feedback = 0.4 }

[[track]]
name = "kick"
file = "stems/kick.wav"
offset_ms = -12.5
output = "drums"
gain_db = -3
delay_ms = 1.3
eq = [ { type = "highpass", freq_hz = 30 },
       { type = "peak", freq_hz = 60, gain_db = 3, q = 1.0 } ]
compressor = { threshold_db = -20, ratio = 4, makeup_db = 2, detector = "rms" }
sends = [ { bus = "verb", level_db = -18 }, { bus = "echo", level_db = -9.5, pre_fader = true } ]

[[track]]
name = "pad"
file = "stems/pad.wav"
offset_ms = 250
pan = -0.1

[[track]]
name = "mic"
input = "system:capture_1"
gain_db = -6
sends = [ { bus = "verb", level_db = -12 } ]

[[track]]
name = "line"
input = [1, 2]

[master]
eq = [ { type = "highshelf", freq_hz = 10000, gain_db = 1.0 } ]

[master.limiter]
ceiling_dbtp = -1.5

[master.loudness]
preset = "streaming"

[master.metadata]
title = "Night Drive"
artist = "The Examples"
isrc = "GB-ABC-26-00001"
)";

/// What a console does to the song: numbers, booleans and words, on values the file set and on
/// values it left at their defaults.
void change_like_a_console(Engine& live) {
    RTMIX_REQUIRE_OK(live.set("track.kick.gain_db", -4.5));
    RTMIX_REQUIRE_OK(live.set("track.kick.mute", 1.0));
    RTMIX_REQUIRE_OK(live.set("track.kick.eq.2.type", "notch"));
    RTMIX_REQUIRE_OK(live.set("track.kick.eq.1.freq_hz", 35.0));
    RTMIX_REQUIRE_OK(live.set("track.kick.delay_samples", 96.0));
    RTMIX_REQUIRE_OK(live.set("track.kick.send.verb.level_db", -20.5));
    RTMIX_REQUIRE_OK(live.set("track.mic.send.verb.pre_fader", 1.0));
    RTMIX_REQUIRE_OK(live.set("track.pad.gain_db", -3.3));
    RTMIX_REQUIRE_OK(live.set("track.pad.eq.3.type", "lowshelf"));
    RTMIX_REQUIRE_OK(live.set("track.pad.eq.3.gain_db", 2.5));
    RTMIX_REQUIRE_OK(live.set("track.pad.compressor.ratio", 8.0));  // the compressor stays off
    RTMIX_REQUIRE_OK(live.set("track.pad.delay_samples", 17.0));
    RTMIX_REQUIRE_OK(live.set("track.mic.compressor.detector", "rms"));
    RTMIX_REQUIRE_OK(live.set("track.line.solo", 1.0));
    RTMIX_REQUIRE_OK(live.set("bus.drums.compressor.enabled", 0.0));
    RTMIX_REQUIRE_OK(live.set("bus.drums.solo_safe", 1.0));
    RTMIX_REQUIRE_OK(live.set("bus.verb.reverb.decay_s", 3.25));
    RTMIX_REQUIRE_OK(live.set("bus.echo.delay.time_ms", 375.0));
    RTMIX_REQUIRE_OK(live.set("master.limiter.release_ms", 250.0));
    RTMIX_REQUIRE_OK(live.set("master.eq.1.type", "off"));
}

/// The changes of change_like_a_console(), against the values that were set, and values nobody
/// touched, against the song.
void check_changes(const Engine& again) {
    CHECK(number(again, "track.kick.gain_db") == -4.5);
    CHECK(number(again, "track.kick.mute") == 1.0);
    CHECK(word(again, "track.kick.eq.2.type") == "notch");
    CHECK(number(again, "track.kick.eq.1.freq_hz") == 35.0);
    CHECK(number(again, "track.kick.delay_samples") == 96.0);
    CHECK(number(again, "track.kick.send.verb.level_db") == -20.5);
    CHECK(number(again, "track.mic.send.verb.pre_fader") == 1.0);
    CHECK(number(again, "track.pad.gain_db") == static_cast<double>(-3.3f));  // faders are float
    CHECK(word(again, "track.pad.eq.3.type") == "lowshelf");
    CHECK(word(again, "track.pad.eq.1.type") == "off");
    CHECK(number(again, "track.pad.eq.3.gain_db") == 2.5);
    CHECK(number(again, "track.pad.compressor.ratio") == 8.0);
    CHECK(number(again, "track.pad.compressor.enabled") == 0.0);
    CHECK(number(again, "track.pad.delay_samples") == 17.0);
    CHECK(word(again, "track.mic.compressor.detector") == "rms");
    CHECK(number(again, "track.mic.compressor.enabled") == 0.0);
    CHECK(number(again, "track.line.solo") == 1.0);
    CHECK(number(again, "bus.drums.compressor.enabled") == 0.0);
    CHECK(number(again, "bus.drums.compressor.ratio") == 3.0);
    CHECK(number(again, "bus.drums.solo_safe") == 1.0);
    CHECK(number(again, "bus.verb.reverb.decay_s") == 3.25);
    CHECK(number(again, "bus.echo.delay.time_ms") == 375.0);
    CHECK(number(again, "master.limiter.release_ms") == 250.0);
    CHECK(number(again, "master.limiter.enabled") == 1.0);
    CHECK(number(again, "master.limiter.ceiling_dbtp") == -1.5);
    CHECK(word(again, "master.eq.1.type") == "off");
    // Values nobody touched are those of the original file.
    CHECK(word(again, "track.kick.compressor.detector") == "rms");
    CHECK(number(again, "track.kick.compressor.makeup_db") == 2.0);
    CHECK(number(again, "bus.verb.reverb.predelay_ms") == 25.0);
    CHECK(number(again, "bus.echo.delay.feedback") == Approx(0.4));
}

}  // namespace

TEST_CASE("the word get reads word parameters and refuses numbers", "[save]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("vox", 1));
    CHECK(word(e, "track.vox.eq.3.type") == "off");
    CHECK(word(e, "track.vox.compressor.detector") == "peak");
    RTMIX_REQUIRE_OK(e.set("track.vox.eq.3.type", "lowshelf"));
    RTMIX_REQUIRE_OK(e.set("track.vox.compressor.detector", "rms"));
    CHECK(word(e, "track.vox.eq.3.type") == "lowshelf");
    CHECK(word(e, "track.vox.compressor.detector") == "rms");

    std::string w = "unchanged";
    const Status s = e.get("track.vox.gain_db", w);
    CHECK(s.code() == Status::Code::invalid_value);
    CHECK_THAT(s.message(), Contains("track.vox.gain_db") && Contains("not a word"));
    CHECK(e.get("track.vox.mute", w).code() == Status::Code::invalid_value);
    CHECK(w == "unchanged");
    CHECK(e.get("track.vox.eq.3.tpye", w).code() == Status::Code::unknown_path);
}

TEST_CASE("a session changed through the engine saves and loads back as the same mix", "[save]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    write_stem(dir / "stems/pad.wav", 2);
    const Session original = Session::load(write_session(dir, song));
    Engine live(original.engine_options());
    original.apply(live);

    change_like_a_console(live);

    // Saved in another folder than the original: the stems must still be found.
    std::filesystem::create_directories(dir / "mixes");
    const std::filesystem::path saved = dir / "mixes/saved.toml";
    original.with_values_of(live).save(saved);
    const std::string text = test::read_bytes(saved);
    INFO(text);
    CHECK(text.starts_with("# rtmix session\n"));

    const Session reloaded = Session::load(saved);
    Engine again(reloaded.engine_options());
    reloaded.apply(again);
    require_same_values(live, again);

    check_changes(again);
    // A value set through the engine is written as it was typed, not as the float it is kept in.
    CHECK_THAT(text, Contains("gain_db = -3.3\n"));
    // A delay the file did not have, in the unit that reads shorter (17 samples is 0.35416666 ms).
    CHECK_THAT(text, Contains("delay_samples = 17\n"));

    // Strips, routing, sends, stems, live inputs and offsets.
    require_same_strips(original, reloaded);
    const SessionStrip& kick = reloaded.strips()[4];
    REQUIRE(kick.name == "kick");
    CHECK(kick.stem.path == dir / "stems/kick.wav");
    CHECK(kick.offset_ms == -12.5);
    CHECK(kick.output == "drums");
    CHECK(kick.sends[0].level_db == -20.5);
    CHECK_FALSE(kick.sends[0].pre_fader);
    CHECK(kick.sends[1].level_db == -9.5);
    CHECK(kick.sends[1].pre_fader);
    CHECK(reloaded.strips()[5].offset_ms == 250.0);
    CHECK(reloaded.strips()[6].input.ports == std::vector<std::string>{"system:capture_1"});
    CHECK(reloaded.strips()[6].sends[0].pre_fader);
    CHECK(reloaded.strips()[7].input.device_channels == std::vector<std::uint32_t>{1, 2});
    CHECK(reloaded.strips()[3].output == "verb");
    CHECK(reloaded.sample_rate() == 48000.0);
    CHECK(reloaded.block_frames() == 128);

    // The master file's tags and the loudness target.
    CHECK(reloaded.metadata().title == "Night Drive");
    CHECK(reloaded.metadata().artist == "The Examples");
    CHECK(reloaded.metadata().isrc == "GBABC2600001");
    CHECK(reloaded.metadata().album.empty());
    REQUIRE(reloaded.loudness_target().has_value());
    CHECK(reloaded.loudness_target()->preset == "streaming");
    CHECK(reloaded.loudness_target()->target_lufs == -14.0);
    CHECK(reloaded.loudness_target()->ceiling_dbtp == -1.0);

    // Saved again without a change, the file is the same: nothing drifts.
    reloaded.with_values_of(again).save(saved);
    CHECK(test::read_bytes(saved) == text);
}

TEST_CASE("inserts and their values save and load back in the same order and positions", "[save][inserts]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    const Session original = Session::load(write_session(dir, R"(
[[bus]]
name = "verb"
reverb = { decay_s = 2.5 }

[[track]]
name = "kick"
file = "stems/kick.wav"
inserts = [ { type = "compressor", ratio = 6 }, { type = "delay", position = "pre", time_ms = 120 } ]

[[track]]
name = "bass"
file = "stems/kick.wav"
compressor = { sidechain = "kick" }
inserts = [ { type = "compressor", sidechain = "bus.verb" } ]
)"));
    Engine live(original.engine_options());
    original.apply(live);
    RTMIX_REQUIRE_OK(live.set("track.kick.insert.1.mix", 0.75));
    RTMIX_REQUIRE_OK(live.set("track.kick.insert.2.enabled", 0.0));
    RTMIX_REQUIRE_OK(live.set("bus.verb.reverb.enabled", 0.0));
    const std::filesystem::path saved = dir / "saved.toml";
    original.with_values_of(live).save(saved);
    const std::string text = test::read_bytes(saved);
    INFO(text);
    CHECK_THAT(text, Contains("inserts = [ { type = \"compressor\", ratio = 6, mix = 0.75 }"));
    CHECK_THAT(text, Contains("{ type = \"delay\", position = \"pre\", time_ms = 120, enabled = false } ]"));
    CHECK_THAT(text, Contains("reverb = { decay_s = 2.5, enabled = false }"));
    CHECK_THAT(text, Contains("compressor = { sidechain = \"kick\" }"));
    CHECK_THAT(text, Contains("inserts = [ { type = \"compressor\", sidechain = \"bus.verb\" } ]"));

    const Session reloaded = Session::load(saved);
    Engine again(reloaded.engine_options());
    reloaded.apply(again);
    require_same_strips(original, reloaded);
    require_same_values(live, again);
    CHECK(again.sidechain("track.bass.compressor") == "track.kick");
    CHECK(again.sidechain("track.bass.insert.1") == "bus.verb");
}

TEST_CASE("a value left at its default is not written and the file keeps what it said", "[save]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    const Session original = Session::load(write_session(dir, R"(
[[track]]
name = "kick"
file = "stems/kick.wav"
gain_db = -3
invert = false
)"));
    Engine live(original.engine_options());
    original.apply(live);
    // Moved and put back: still the default.
    RTMIX_REQUIRE_OK(live.set("track.kick.pan", 0.5));
    RTMIX_REQUIRE_OK(live.set("track.kick.pan", 0.0));
    RTMIX_REQUIRE_OK(live.set("master.gain_db", -2.0));

    const std::string text = original.with_values_of(live).to_toml(dir.path());
    INFO(text);
    CHECK(text ==
          "# rtmix session\n"
          "\n"
          "[session]\n"
          "sample_rate = 48000\n"
          "block_frames = 256\n"
          "\n"
          "[[track]]\n"
          "name = \"kick\"\n"
          "file = \"stems/kick.wav\"\n"
          "invert = false\n"
          "gain_db = -3\n"
          "\n"
          "[master]\n"
          "gain_db = -2\n");
}

TEST_CASE("stem paths are relative to the folder of the file unless they share only the root", "[save]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    const Session session = Session::load(write_session(dir, R"(
[[track]]
name = "kick"
file = "stems/kick.wav"
)"));
    CHECK_THAT(session.to_toml(dir.path()), Contains("file = \"stems/kick.wav\"\n"));
    CHECK_THAT(session.to_toml(dir / "mixes/old"), Contains("file = \"../../stems/kick.wav\"\n"));
    CHECK_THAT(session.to_toml("/"), Contains(fmt::format("file = \"{}\"\n", (dir / "stems/kick.wav").generic_string())));
}

TEST_CASE("overrides given as text are written as numbers and booleans", "[save]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    Session session = Session::load(write_session(dir, R"(
[[bus]]
name = "verb"
reverb = {}

[[track]]
name = "kick"
file = "stems/kick.wav"
gain_db = -3
sends = [ { bus = "verb", level_db = -18 } ]
)"));
    session.set_override("track.kick.gain_db=-7.25");
    session.set_override("track.kick.mute=on");
    session.set_override("track.kick.eq.2.type=peak");
    session.set_override("track.kick.send.verb.level_db=-6");
    session.set_override("track.kick.offset_ms=20");
    session.set_override("master.limiter.enabled=true");
    const std::filesystem::path saved = dir / "saved.toml";
    session.save(saved);
    const std::string text = test::read_bytes(saved);
    INFO(text);
    CHECK_THAT(text, Contains("gain_db = -7.25\n") && Contains("mute = true\n") && Contains("offset_ms = 20\n") &&
                         Contains("{ bus = \"verb\", level_db = -6 }") && Contains("reverb = {}\n") &&
                         Contains("eq = [ { type = \"off\" },\n       { type = \"peak\" } ]\n") &&
                         Contains("[master.limiter]\n"));

    const Session reloaded = Session::load(saved);
    Engine engine(reloaded.engine_options());
    reloaded.apply(engine);
    CHECK(number(engine, "track.kick.gain_db") == -7.25);
    CHECK(number(engine, "track.kick.mute") == 1.0);
    CHECK(word(engine, "track.kick.eq.2.type") == "peak");
    CHECK(number(engine, "track.kick.send.verb.level_db") == -6.0);
    CHECK(number(engine, "master.limiter.enabled") == 1.0);
    CHECK(reloaded.strips()[2].offset_ms == 20.0);
}

TEST_CASE("quotes backslashes control characters and unicode in strings round-trip", "[save]") {
    TempDir dir;
    // A stem whose name needs escaping too.
    const std::string stem_name = "k\"i\\ck \xC3\xBC \xF0\x9F\x8E\xB5.wav";  // k"i\ck ü 🎵.wav
    write_stem(dir / "stems" / stem_name);
    const Session original = Session::load(write_session(dir, R"(
[[bus]]
name = "Bus \"A\" \u00e9"

[[track]]
name = "kick \\ drum"
file = "stems/k\"i\\ck \u00fc \U0001F3B5.wav"
output = "Bus \"A\" \u00e9"

[master.metadata]
title = "Say \"hi\" \\ back"
artist = "Sigur R\u00f3s \U0001F3B5"
album = "tab\there, line\nbreak, bell\u0007, delete\u007f"
comment = 'C:\Music\mix'
)"));
    const std::filesystem::path saved = dir / "saved.toml";
    original.save(saved);
    INFO(test::read_bytes(saved));
    const Session reloaded = Session::load(saved);

    CHECK(reloaded.metadata().title == "Say \"hi\" \\ back");
    CHECK(reloaded.metadata().artist == "Sigur R\xC3\xB3s \xF0\x9F\x8E\xB5");
    CHECK(reloaded.metadata().album == "tab\there, line\nbreak, bell\a, delete\x7F");
    CHECK(reloaded.metadata().comment == "C:\\Music\\mix");
    REQUIRE(reloaded.strips().size() == 3);
    CHECK(reloaded.strips()[1].name == "Bus \"A\" \xC3\xA9");
    CHECK(reloaded.strips()[2].name == "kick \\ drum");
    CHECK(reloaded.strips()[2].output == "Bus \"A\" \xC3\xA9");
    CHECK(reloaded.strips()[2].stem.path == dir / "stems" / stem_name);
}

TEST_CASE("a save into a missing folder throws naming the path and writes nothing", "[save]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    const Session session = Session::load(write_session(dir, R"(
[[track]]
name = "kick"
file = "stems/kick.wav"
)"));
    const std::filesystem::path target = dir / "missing/saved.toml";
    try {
        session.save(target);
        FAIL("the save did not fail");
    } catch (const SessionError& e) {
        CHECK_THAT(std::string(e.what()), Contains(target.string()) && Contains("does not exist"));
        CHECK(e.where().file == target.string());
    }
    CHECK_FALSE(std::filesystem::exists(dir / "missing"));
    CHECK_THROWS_AS(session.save(dir.path()), SessionError);  // a folder is not a file
}

TEST_CASE("a save that fails while writing leaves the file that stood there byte for byte", "[save]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    const std::filesystem::path file = write_session(dir, R"(
[[track]]
name = "kick"
file = "stems/kick.wav"
gain_db = -3   # a person's comment
)");
    const std::string before = test::read_bytes(file);
    const std::vector<std::string> entries = test::folder_entries(dir.path());
    const Session session = Session::load(file);
    Engine live(session.engine_options());
    session.apply(live);
    RTMIX_REQUIRE_OK(live.set("track.kick.gain_db", -9.0));
    const Session changed = session.with_values_of(live);

    SECTION("the disk refuses the bytes (a file size limit)") {
        // The write fails with EFBIG part way through the text, as on a full disk.
        rlimit old_limit{};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        rlimit limit = old_limit;
        limit.rlim_cur = 40;
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
        bool threw = false;
        std::string message;
        try {
            changed.save(file);
        } catch (const SessionError& e) {
            threw = true;
            message = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        std::signal(SIGXFSZ, old_handler);
        CHECK(threw);
        CHECK_THAT(message, Contains(file.string()));
    }
    SECTION("the folder is not writable") {
        if (::geteuid() == 0) {
            WARN("running as root, which may write anywhere: the file size limit covers this");
        } else {
            ::chmod(dir.path().c_str(), 0555);
            CHECK_THROWS_WITH(changed.save(file), Contains(file.string()));
            ::chmod(dir.path().c_str(), 0755);
        }
    }
    CHECK(test::read_bytes(file) == before);
    CHECK(test::folder_entries(dir.path()) == entries);  // nothing left aside

    // And the same save, allowed, replaces it.
    changed.save(file);
    CHECK_THAT(test::read_bytes(file), Contains("gain_db = -9\n"));
    CHECK(test::folder_entries(dir.path()) == entries);
}

TEST_CASE("the engine's lanes are saved: changed, new and removed ones, and a lane left alone as the file said it", "[save][automation]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    const Session original = Session::load(write_session(dir, R"(
[[track]]
name = "kick"
file = "stems/kick.wav"

[track.automation]
gain_db = [ [0, "-inf"], [0.5, 0, "smooth"], [1, -3] ]
pan = [ [0, -1], [1, 1] ]
"eq.1.type" = [ [0, "off"], [0.25, "peak"] ]
)"));
    Engine live(original.engine_options());
    original.apply(live);
    // A lane written live (a frame that is no whole number of milliseconds, a value no short
    // decimal gives), one replaced, one removed.
    const Lane written{{{1001, -6.0, Shape::linear}, {1961, -1.0 / 3.0, Shape::hold}, {30001, 0.0}}};
    RTMIX_REQUIRE_OK(live.automate("master.gain_db", written));
    RTMIX_REQUIRE_OK(live.automate("track.kick.pan", Lane{{{0, 0.5}}}));
    RTMIX_REQUIRE_OK(live.automate("track.kick.eq.1.type", Lane{}));

    const std::string text = original.with_values_of(live).to_toml(dir.path());
    INFO(text);
    CHECK_THAT(text, Catch::Matchers::Contains("\"gain_db\" = [ [0, \"-inf\"], [0.5, 0, \"smooth\"], [1, -3] ]"));
    CHECK_THAT(text, Catch::Matchers::Contains("\"pan\" = [ [0, 0.5] ]"));
    CHECK_THAT(text, !Catch::Matchers::Contains("eq.1.type"));
    const Session reloaded = Session::parse(text, dir / "again.toml");
    Engine again(reloaded.engine_options());
    reloaded.apply(again);
    const auto a = live.automation(), b = again.automation();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(a[i].first == b[i].first);
        REQUIRE(a[i].second.points.size() == b[i].second.points.size());
        for (std::size_t k = 0; k < a[i].second.points.size(); ++k) {
            CHECK(a[i].second.points[k].frame == b[i].second.points[k].frame);
            CHECK(a[i].second.points[k].value == b[i].second.points[k].value);  // bit for bit
            CHECK(a[i].second.points[k].shape == b[i].second.points[k].shape);
        }
    }
}
