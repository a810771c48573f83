// Session files: every kind of mistake is reported at its line and column with a message that says
// what is wrong (and what was probably meant); good files build the mix they describe.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "files.hpp"
#include "harness.hpp"
#include "rtmix/session.hpp"
#include "signals.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using test::TempDir;

namespace {

/// Writes `text` as DIR/session.toml. A raw string literal written as R"(  followed by a line
/// break would start with an empty line: that first line break is dropped, so line 1 is the
/// first line shown in the test.
std::filesystem::path write_session(const TempDir& dir, std::string_view text) {
    if (text.starts_with('\n')) text.remove_prefix(1);
    const std::filesystem::path file = dir / "session.toml";
    test::write_text(file, text);
    return file;
}

/// A short mono stem at `rate` (a quiet sine), enough for a track to load.
void write_stem(const std::filesystem::path& file, int rate = 48000, std::size_t channels = 1) {
    test::write_audio(file, std::vector<std::vector<float>>(channels, test::sine(440.0, rate, 480, 0.1)), rate);
}

/// Loads the session `text` (written to a file in `dir`, next to stems/kick.wav) and returns the
/// SessionError it must throw.
SessionError load_error(const TempDir& dir, std::string_view text) {
    write_stem(dir / "stems/kick.wav");
    const std::filesystem::path file = write_session(dir, text);
    try {
        (void)Session::load(file);
    } catch (const SessionError& e) {
        return e;
    }
    FAIL("the session loaded without an error:\n" << text);
    throw std::logic_error("unreachable");
}

/// The error points at `line`:`column` of the session file, and what() starts with it.
#define CHECK_LOCATED(error, path_, line_, column_)                                                  \
    do {                                                                                             \
        const std::string located_file_ = (path_).string();                                         \
        CHECK((error).where().file == located_file_);                                                \
        CHECK((error).where().line == (line_));                                                      \
        CHECK((error).where().column == (column_));                                                  \
        CHECK_THAT(std::string((error).what()),                                                      \
                   StartsWith(located_file_ + ":" + std::to_string(line_) + ":" + std::to_string(column_) + ": ")); \
    } while (false)

const std::string kick_track = R"(
[[track]]
name = "kick"
file = "stems/kick.wav"
)";

}  // namespace

// --- Mistakes ---------------------------------------------------------------------------------

TEST_CASE("an unknown key is reported at the key, with the nearest known key", "[session][errors]") {
    TempDir dir;
    const auto file = dir / "session.toml";

    SECTION("in a track") {
        const SessionError e = load_error(dir, kick_track + "gian_db = -3\n");
        CHECK_LOCATED(e, file, 4, 1);
        CHECK(e.message() == "unknown key 'gian_db' in track 'kick' (did you mean 'gain_db'?)");
    }
    SECTION("in a compressor") {
        const SessionError e = load_error(dir, kick_track + "compressor = { threshold_db = -20, ratoi = 4 }\n");
        CHECK_LOCATED(e, file, 4, 36);
        CHECK_THAT(e.message(), Contains("unknown key 'ratoi'") && Contains("compressor of track 'kick'") &&
                                    Contains("(did you mean 'ratio'?)"));
    }
    SECTION("in an EQ band (the band is counted from 1)") {
        const SessionError e = load_error(
            dir, kick_track + R"(eq = [ { type = "peak", freq_hz = 100 }, { type = "peak", fre_hz = 200 } ])" + "\n");
        CHECK_LOCATED(e, file, 4, 59);
        CHECK_THAT(e.message(), Contains("unknown key 'fre_hz' in EQ band 2 of track 'kick'") &&
                                    Contains("(did you mean 'freq_hz'?)"));
    }
    SECTION("in a send") {
        const SessionError e = load_error(dir, "[[bus]]\nname = \"verb\"" + kick_track +
                                                   R"(sends = [ { bus = "verb", levle_db = -18 } ])" + "\n");
        CHECK_LOCATED(e, file, 6, 27);
        CHECK_THAT(e.message(), Contains("unknown key 'levle_db' in send 1 of track 'kick'") &&
                                    Contains("(did you mean 'level_db'?)"));
    }
    SECTION("in [session]") {
        const SessionError e = load_error(dir, "[session]\nsample_rate = 48000\nblocks_frames = 256\n" + kick_track);
        CHECK_LOCATED(e, file, 3, 1);
        CHECK_THAT(e.message(), Contains("unknown key 'blocks_frames' in [session]") &&
                                    Contains("(did you mean 'block_frames'?)"));
    }
    SECTION("at the top level (the key inside its [[header]])") {
        const SessionError e = load_error(dir, "[[tracks]]\nname = \"kick\"\nfile = \"stems/kick.wav\"\n");
        CHECK_LOCATED(e, file, 1, 3);
        CHECK_THAT(e.message(), Contains("unknown key 'tracks' at the top level") && Contains("(did you mean 'track'?)"));
    }
    SECTION("with nothing near it: the keys that are valid there") {
        const SessionError e = load_error(dir, kick_track + "sparkle = 3\n");
        CHECK_LOCATED(e, file, 4, 1);
        CHECK_THAT(e.message(), StartsWith("unknown key 'sparkle' in track 'kick' (expected one of: ") &&
                                    Contains("gain_db") && Contains("sends") && Contains("offset_ms"));
        CHECK_THAT(e.message(), !Contains("reverb"));  // not valid on a track
    }
}

TEST_CASE("a value of the wrong type is reported at the value, with the type expected and found",
          "[session][errors]") {
    TempDir dir;
    const auto file = dir / "session.toml";

    SECTION("a string for a number") {
        const SessionError e = load_error(dir, kick_track + "gain_db = \"loud\"\n");
        CHECK_LOCATED(e, file, 4, 11);
        CHECK_THAT(e.message(), Contains("gain_db in track 'kick' must be a number, not a string"));
    }
    SECTION("an integer for a boolean") {
        const SessionError e = load_error(dir, kick_track + "mute = 1\n");
        CHECK_LOCATED(e, file, 4, 8);
        CHECK_THAT(e.message(), Contains("mute in track 'kick' must be true or false, not an integer"));
    }
    SECTION("a number for an EQ type") {
        const SessionError e = load_error(dir, kick_track + "eq = [ { type = 3 } ]\n");
        CHECK_LOCATED(e, file, 4, 17);
        CHECK_THAT(e.message(), Contains("type in EQ band 1 of track 'kick' must be one of:") &&
                                    Contains("highpass") && Contains("peak") && Contains("not an integer"));
    }
    SECTION("eq as a table instead of an array of bands") {
        const SessionError e = load_error(dir, kick_track + "eq = { type = \"peak\" }\n");
        CHECK_LOCATED(e, file, 4, 6);
        CHECK_THAT(e.message(), Contains("eq of track 'kick' must be an array of bands") && Contains("not a table"));
    }
    SECTION("[track] instead of [[track]]") {
        const SessionError e = load_error(dir, "[track]\nname = \"kick\"\nfile = \"stems/kick.wav\"\n");
        CHECK_LOCATED(e, file, 1, 1);
        CHECK_THAT(e.message(), Contains("'track' must be an array of tables ([[track]])") &&
                                    Contains("not a single table ([track])"));
    }
}

TEST_CASE("a value out of range is reported at the value, with the range", "[session][errors]") {
    TempDir dir;
    const auto file = dir / "session.toml";

    SECTION("a fader") {
        const SessionError e = load_error(dir, kick_track + "gain_db = 20\n");
        CHECK_LOCATED(e, file, 4, 11);
        CHECK_THAT(e.message(), Contains("gain_db") && Contains("20") && Contains("out of range [-120, 12]"));
    }
    SECTION("a send level") {
        const SessionError e = load_error(dir, "[[bus]]\nname = \"verb\"" + kick_track +
                                                   R"(sends = [ { bus = "verb", level_db = 20 } ])" + "\n");
        CHECK_LOCATED(e, file, 6, 38);
        CHECK_THAT(e.message(), Contains("level_db = 20") && Contains("out of range [-120, 12]"));
    }
    SECTION("a compressor ratio") {
        const SessionError e = load_error(dir, kick_track + "compressor = { ratio = 0.5 }\n");
        CHECK_LOCATED(e, file, 4, 24);
        CHECK_THAT(e.message(), Contains("compressor.ratio = 0.5") && Contains("out of range [1, 100]"));
    }
}

TEST_CASE("an output or a send naming no bus is reported at the name, with the nearest bus", "[session][errors]") {
    TempDir dir;
    const auto file = dir / "session.toml";

    SECTION("output") {
        const SessionError e = load_error(dir, "[[bus]]\nname = \"drums\"" + kick_track + "output = \"drum\"\n");
        CHECK_LOCATED(e, file, 6, 10);
        CHECK(e.message() == "unknown bus 'drum' in output of track 'kick' (did you mean 'drums'?)");
    }
    SECTION("a send") {
        const SessionError e = load_error(dir, "[[bus]]\nname = \"verb\"" + kick_track +
                                                   R"(sends = [ { bus = "verbb", level_db = -18 } ])" + "\n");
        CHECK_LOCATED(e, file, 6, 19);
        CHECK(e.message() == "unknown bus 'verbb' in sends of track 'kick' (did you mean 'verb'?)");
    }
}

TEST_CASE("a duplicate track or bus name is reported at the second name, with the first's line",
          "[session][errors]") {
    TempDir dir;
    const auto file = dir / "session.toml";

    SECTION("tracks") {
        const SessionError e = load_error(dir, kick_track + kick_track.substr(1));
        CHECK_LOCATED(e, file, 5, 8);
        CHECK_THAT(e.message(), Contains("duplicate track name 'kick' (first at line 2)"));
    }
    SECTION("buses") {
        const SessionError e = load_error(dir, "[[bus]]\nname = \"verb\"\n[[bus]]\nname = \"verb\"\n");
        CHECK_LOCATED(e, file, 4, 8);
        CHECK_THAT(e.message(), Contains("duplicate bus name 'verb' (first at line 2)"));
    }
}

TEST_CASE("a routing cycle is reported at the output that closes it, with the cycle named", "[session][errors]") {
    TempDir dir;
    const SessionError e = load_error(dir, R"(
[[bus]]
name = "a"
output = "b"
[[bus]]
name = "b"
output = "a"
)");
    CHECK_LOCATED(e, dir / "session.toml", 6, 10);
    CHECK_THAT(e.message(), Contains("cycle") && Contains("bus 'a' -> bus 'b' -> bus 'a'"));
}

TEST_CASE("a stem that is missing, is not audio or has three channels is reported at its file key",
          "[session][errors]") {
    TempDir dir;
    const auto file = dir / "session.toml";
    std::filesystem::path stem;

    SECTION("missing: the message gives the path resolved against the session's folder") {
        stem = dir / "stems/missing.wav";
    }
    SECTION("not audio: garbage bytes in a .wav") {
        stem = dir / "stems/garbage.wav";
        test::write_text(stem, std::string(4096, '\x5a') + "this is not a RIFF file");
    }
    SECTION("three channels") {
        stem = dir / "stems/three.wav";
        write_stem(stem, 48000, 3);
    }
    const SessionError e =
        load_error(dir, "[[track]]\nname = \"kick\"\nfile = \"stems/" + stem.filename().string() + "\"\n");
    CHECK_LOCATED(e, file, 3, 8);
    CHECK_THAT(e.message(), StartsWith("track 'kick': ") && Contains(stem.string()));
    if (stem.filename() == "missing.wav") CHECK_THAT(e.message(), Contains("not found"));
    if (stem.filename() == "garbage.wav") CHECK_THAT(e.message(), Contains("cannot read audio file"));
    if (stem.filename() == "three.wav") CHECK_THAT(e.message(), Contains("has 3 channels"));
}

TEST_CASE("a TOML syntax error is reported at its position", "[session][errors]") {
    TempDir dir;
    const SessionError e = load_error(dir, kick_track + "gain_db = = 3\n");
    CHECK_LOCATED(e, dir / "session.toml", 4, 11);  // the second '='
    CHECK_THAT(e.message(), StartsWith("TOML syntax: "));
}

TEST_CASE("an EQ band without a type, and a reverb on a track, are reported", "[session][errors]") {
    TempDir dir;
    const auto file = dir / "session.toml";

    SECTION("an EQ band without a type: at the band") {
        const SessionError e = load_error(dir, kick_track + "eq = [ { freq_hz = 100 } ]\n");
        CHECK_LOCATED(e, file, 4, 8);
        CHECK_THAT(e.message(), Contains("EQ band 1 of track 'kick' has no type") && Contains("highpass"));
    }
    SECTION("a reverb on a track: at the key, pointing to buses") {
        const SessionError e = load_error(dir, kick_track + "reverb = { decay_s = 2 }\n");
        CHECK_LOCATED(e, file, 4, 1);
        CHECK_THAT(e.message(), Contains("reverb on track 'kick'") && Contains("[[bus]]"));
    }
}

TEST_CASE("an insert without a type, of an unknown type, or with an unknown key is reported at its place",
          "[session][errors][inserts]") {
    TempDir dir;
    const auto file = dir / "session.toml";

    SECTION("no type: at the insert") {
        const SessionError e = load_error(dir, kick_track + "inserts = [ { ratio = 8 } ]\n");
        CHECK_LOCATED(e, file, 4, 13);
        CHECK_THAT(e.message(), Contains("insert 1 of track 'kick' has no type") && Contains("compressor"));
    }
    SECTION("an unknown type: at the type, with the nearest") {
        const SessionError e = load_error(dir, kick_track + "inserts = [ { type = \"compresor\" } ]\n");
        CHECK_LOCATED(e, file, 4, 22);
        CHECK_THAT(e.message(), Contains("unknown insert type 'compresor'") && Contains("did you mean 'compressor'"));
    }
    SECTION("an unknown key: at the key, with the nearest of the type's") {
        const SessionError e = load_error(dir, kick_track + "inserts = [ { type = \"compressor\", rato = 8 } ]\n");
        CHECK_LOCATED(e, file, 4, 36);
        CHECK(e.message() == "unknown key 'rato' in insert 1 of track 'kick' (did you mean 'ratio'?)");
    }
    SECTION("a position that is neither pre nor post") {
        const SessionError e = load_error(dir, kick_track + "inserts = [ { type = \"reverb\", position = \"middle\" } ]\n");
        CHECK_LOCATED(e, file, 4, 43);
        CHECK_THAT(e.message(), Contains("position = 'middle'") && Contains("\"pre\""));
    }
    SECTION("a value out of range: at the value, with the range") {
        const SessionError e = load_error(dir, kick_track + "inserts = [ { type = \"reverb\" }, { type = \"compressor\", ratio = 200 } ]\n");
        CHECK_LOCATED(e, file, 4, 65);
        CHECK_THAT(e.message(), Contains("track.kick.insert.2.ratio = 200") && Contains("[1, 100]"));
    }
}

TEST_CASE("a session file that does not exist is reported with its name", "[session][errors]") {
    TempDir dir;
    const auto file = dir / "nothing.toml";
    try {
        (void)Session::load(file);
        FAIL("no error");
    } catch (const SessionError& e) {
        CHECK(e.where().line == 0);
        CHECK_THAT(std::string(e.what()), StartsWith(file.string() + ": ") && Contains("no such file"));
    }
}

// --- Good files ---------------------------------------------------------------------------------

namespace {

/// Changes the working folder for the scope.
class WorkingFolder {
public:
    explicit WorkingFolder(const std::filesystem::path& folder) : saved_(std::filesystem::current_path()) {
        std::filesystem::current_path(folder);
    }
    ~WorkingFolder() { std::filesystem::current_path(saved_); }
    WorkingFolder(const WorkingFolder&) = delete;
    WorkingFolder& operator=(const WorkingFolder&) = delete;

private:
    std::filesystem::path saved_;
};

}  // namespace

TEST_CASE("relative stem paths resolve against the session file's folder, not the working folder", "[session]") {
    TempDir dir;
    // The session in project/, its stem in project/stems/ (mono). A decoy with the same relative
    // name sits in the working folder (stereo, 44.1 kHz): picking it would show in the probe.
    write_stem(dir / "project/stems/kick.wav", 48000, 1);
    write_stem(dir / "stems/kick.wav", 44100, 2);
    test::write_text(dir / "project/session.toml", kick_track);

    const WorkingFolder cwd(dir.path());
    const Session session = Session::load("project/session.toml");  // relative to the working folder
    REQUIRE(session.strips().size() == 2);
    const Stem& stem = session.strips()[1].stem;
    CHECK(stem.path == dir / "project/stems/kick.wav");
    CHECK(stem.path.is_absolute());
    CHECK(stem.channels == 1);
    CHECK(stem.sample_rate == 48000.0);
    CHECK(stem.frames == 480);
    CHECK(stem.format == "WAV 32-bit float");
    CHECK(session.notes().empty());
}

TEST_CASE("a track without output feeds the master, one with output = BUS feeds that bus", "[session]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    write_stem(dir / "stems/snare.wav");
    const Session session = Session::load(write_session(dir, R"(
[session]
sample_rate = 48000
block_frames = 128

[[bus]]
name = "drums"

[[track]]
name = "kick"
file = "stems/kick.wav"
output = "drums"

[[track]]
name = "snare"
file = "stems/snare.wav"
)"));
    CHECK(session.sample_rate() == 48000.0);
    CHECK(session.block_frames() == 128);
    // The master first, then buses and tracks in file order.
    REQUIRE(session.strips().size() == 4);
    CHECK(session.strips()[0].path() == "master");
    CHECK(session.strips()[1].path() == "bus.drums");
    CHECK(session.strips()[2].path() == "track.kick");
    CHECK(session.strips()[3].path() == "track.snare");
    CHECK(session.strips()[2].output == "drums");
    CHECK(session.strips()[3].output == "master");
    CHECK(session.track_input_channels() == std::vector<std::uint32_t>{0, 1});

    // In the engine: with the bus muted, only the snare (channel 1) reaches the master.
    Engine engine(session.engine_options());
    session.apply(engine);
    RTMIX_REQUIRE_OK(engine.set("bus.drums.mute", 1.0));
    const std::size_t frames = 4800;  // 100 ms: the 20 ms mute ramp has ended well before the end
    const auto out = test::render(engine, {std::vector<float>(frames, 0.25f), std::vector<float>(frames, 0.5f)}, frames,
                                  session.block_frames());
    const double centre = std::sqrt(0.5);  // equal-power pan at the centre
    CHECK(out.left.back() == Approx(0.5 * centre).margin(1e-6));
    CHECK(out.right.back() == Approx(0.5 * centre).margin(1e-6));
}

TEST_CASE("a compressor table switches the compressor on, and EQ bands become eq.1, eq.2 in order", "[session]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    write_stem(dir / "stems/bass.wav");
    write_stem(dir / "stems/keys.wav");
    const Session session = Session::load(write_session(dir, R"(
[[track]]
name = "kick"
file = "stems/kick.wav"
gain_db = -3
pan = 0.25
eq = [ { type = "highpass", freq_hz = 30 }, { type = "peak", freq_hz = 60, gain_db = 3, q = 1.5 } ]
compressor = { threshold_db = -18, ratio = 3, attack_ms = 5, release_ms = 80, makeup_db = 2 }

[[track]]
name = "bass"
file = "stems/bass.wav"
compressor = { enabled = false, ratio = 2 }

[[track]]
name = "keys"
file = "stems/keys.wav"

[master]
eq = [ { type = "highshelf", freq_hz = 10000, gain_db = 1.0 } ]
)"));
    Engine engine(session.engine_options());
    session.apply(engine);
    auto get = [&](std::string_view path) {
        double v = std::nan("");
        RTMIX_REQUIRE_OK(engine.get(path, v));
        return v;
    };
    CHECK(get("track.kick.gain_db") == -3.0);
    CHECK(get("track.kick.pan") == 0.25);
    CHECK(get("track.kick.compressor.enabled") == 1.0);
    CHECK(get("track.kick.compressor.threshold_db") == -18.0);
    CHECK(get("track.kick.compressor.ratio") == 3.0);
    CHECK(get("track.kick.compressor.attack_ms") == Approx(5.0));
    CHECK(get("track.kick.compressor.release_ms") == Approx(80.0));
    CHECK(get("track.kick.compressor.makeup_db") == 2.0);
    CHECK(get("track.bass.compressor.enabled") == 0.0);  // enabled = false wins
    CHECK(get("track.bass.compressor.ratio") == 2.0);
    CHECK(get("track.keys.compressor.enabled") == 0.0);  // no table: off (the default)

    // Word parameters read back as their index in the list: off 0, highpass 1, ..., peak 5.
    CHECK(get("track.kick.eq.1.type") == 1.0);
    CHECK(get("track.kick.eq.1.freq_hz") == Approx(30.0));
    CHECK(get("track.kick.eq.2.type") == 5.0);
    CHECK(get("track.kick.eq.2.freq_hz") == Approx(60.0));
    CHECK(get("track.kick.eq.2.gain_db") == 3.0);
    CHECK(get("track.kick.eq.2.q") == Approx(1.5));
    CHECK(get("track.kick.eq.3.type") == 0.0);
    CHECK(get("master.eq.1.type") == 4.0);  // highshelf
    CHECK(get("master.eq.1.freq_hz") == Approx(10000.0));
    CHECK(get("master.eq.1.gain_db") == 1.0);
}

TEST_CASE("an inserts list builds the inserts in order, at their positions, with their values", "[session][inserts]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    const Session session = Session::load(write_session(dir, kick_track + R"(inserts = [ { type = "compressor", ratio = 8, mix = 0.5 },
            { type = "reverb", position = "pre", decay_s = 1.25, enabled = false } ]
[[bus]]
name = "verb"
reverb = { decay_s = 3 }
delay = {}
)"));
    const SessionStrip& kick = session.strips().back();
    REQUIRE(kick.inserts.size() == 2);
    CHECK(kick.inserts[0].type == "compressor");
    CHECK(kick.inserts[0].slot == "insert.1");
    CHECK(kick.inserts[0].position == InsertPosition::post);
    CHECK(kick.inserts[1].slot == "insert.2");
    CHECK(kick.inserts[1].position == InsertPosition::pre);
    const SessionStrip& verb = session.strips()[1];
    REQUIRE(verb.inserts.size() == 2);  // the named effects, the reverb first
    CHECK(verb.inserts[0].slot == "reverb");
    CHECK(verb.inserts[1].slot == "delay");
    CHECK(verb.inserts[1].position == InsertPosition::pre);

    Engine engine(session.engine_options());
    session.apply(engine);
    double v = 0;
    RTMIX_REQUIRE_OK(engine.get("track.kick.insert.1.ratio", v));
    CHECK(v == 8.0);
    RTMIX_REQUIRE_OK(engine.get("track.kick.insert.1.mix", v));
    CHECK(v == 0.5);
    RTMIX_REQUIRE_OK(engine.get("track.kick.insert.1.enabled", v));
    CHECK(v == 1.0);
    RTMIX_REQUIRE_OK(engine.get("track.kick.insert.2.decay_s", v));
    CHECK(v == 1.25);
    RTMIX_REQUIRE_OK(engine.get("track.kick.insert.2.enabled", v));
    CHECK(v == 0.0);
    RTMIX_REQUIRE_OK(engine.get("bus.verb.reverb.decay_s", v));
    CHECK(v == 3.0);
    const std::vector<InsertInfo> inserts = engine.inserts("track.kick");
    REQUIRE(inserts.size() == 2);
    CHECK(inserts[1].position == InsertPosition::pre);
}

TEST_CASE("sidechain = NAME keys a compressor or a dynamics insert to a track or bus and a wrong name is located",
          "[session][sidechain]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    write_stem(dir / "stems/bass.wav");
    const std::string song = kick_track + R"(
[[track]]
name = "bass"
file = "stems/bass.wav"
compressor = { ratio = 6, sidechain = "kick" }
inserts = [ { type = "compressor", sidechain = "track.kick", mix = 0.5 } ]
)";
    SECTION("applied") {
        const Session session = Session::load(write_session(dir, song));
        const SessionStrip& bass = session.strips().back();
        REQUIRE(bass.sidechains.size() == 2);
        CHECK(bass.sidechains[0].processor == "compressor");
        CHECK(bass.sidechains[1].processor == "insert.1");
        Engine engine(session.engine_options());
        session.apply(engine);
        CHECK(engine.sidechain("track.bass.compressor") == "track.kick");
        CHECK(engine.sidechain("track.bass.insert.1") == "track.kick");
    }
    SECTION("a name that is no track or bus: at the value, with the nearest") {
        std::string typo = song;
        typo.replace(typo.find("sidechain = \"kick\""), 18, "sidechain = \"kik\" ");
        const SessionError e = load_error(dir, typo);
        CHECK_LOCATED(e, dir / "session.toml", 8, 39);
        CHECK_THAT(e.message(), Contains("sidechain 'kik' of track.bass.compressor") && Contains("did you mean 'kick'"));
    }
    SECTION("a key of a reverb is an unknown key") {
        const SessionError e = load_error(dir, kick_track + "inserts = [ { type = \"reverb\", sidechain = \"kick\" } ]\n");
        CHECK_THAT(e.message(), Contains("unknown key 'sidechain' in insert 1 of track 'kick'"));
    }
}

TEST_CASE("a stem at 44.1 kHz in a 48 kHz session is noted as resampled", "[session]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav", 44100);
    const Session session = Session::load(write_session(dir, "[session]\nsample_rate = 48000\n" + kick_track));
    CHECK(session.strips()[1].stem.sample_rate == 44100.0);
    REQUIRE(session.notes().size() == 1);
    CHECK_THAT(session.notes()[0], Contains("kick") && Contains("44100") && Contains("resampled") && Contains("48000"));
}

TEST_CASE("set_override changes a value, and a bad path or value throws and leaves the session as it was",
          "[session][override]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    Session session = Session::load(write_session(dir, R"(
[[bus]]
name = "verb"
reverb = { decay_s = 2.4 }

[[track]]
name = "kick"
file = "stems/kick.wav"
gain_db = -3
)"));
    auto value_after_apply = [&](std::string_view path) {
        Engine engine(session.engine_options());
        session.apply(engine);
        double v = std::nan("");
        RTMIX_REQUIRE_OK(engine.get(path, v));
        return v;
    };

    SECTION("good paths: a number, a bus effect, a word") {
        session.set_override("track.kick.gain_db=-7.5");
        session.set_override("bus.verb.reverb.decay_s = 3");
        session.set_override("track.kick.eq.1.type=peak");
        CHECK(value_after_apply("track.kick.gain_db") == -7.5);
        CHECK(value_after_apply("bus.verb.reverb.decay_s") == Approx(3.0));
        CHECK(value_after_apply("track.kick.eq.1.type") == 5.0);
    }
    SECTION("an unknown path: the nearest path is suggested") {
        try {
            session.set_override("track.kick.gian_db=-2");
            FAIL("no error");
        } catch (const SessionError& e) {
            CHECK(e.where().line == 0);
            CHECK_THAT(std::string(e.what()), StartsWith("--set ") && Contains("track.kick.gian_db") &&
                                                  Contains("(did you mean 'track.kick.gain_db'?)"));
        }
        CHECK(value_after_apply("track.kick.gain_db") == -3.0);
    }
    SECTION("a value out of range: the range is given") {
        try {
            session.set_override("track.kick.gain_db=30");
            FAIL("no error");
        } catch (const SessionError& e) {
            CHECK_THAT(std::string(e.what()), StartsWith("--set ") && Contains("[-120, 12]"));
        }
        CHECK(value_after_apply("track.kick.gain_db") == -3.0);
    }
    SECTION("no '=' or no value") {
        CHECK_THROWS_WITH(session.set_override("track.kick.gain_db"), StartsWith("--set ") && Contains("PATH=VALUE"));
        CHECK_THROWS_WITH(session.set_override("track.kick.gain_db="), StartsWith("--set ") && Contains("PATH=VALUE"));
    }
}

TEST_CASE("set_override sets a track's offset_ms, a value of the session rather than of the engine",
          "[session][override]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    Session session = Session::load(write_session(dir, kick_track + "offset_ms = 5\n"));
    REQUIRE(session.strips()[1].offset_ms == 5.0);

    session.set_override("track.kick.offset_ms=-12.5");
    CHECK(session.strips()[1].offset_ms == -12.5);

    CHECK_THROWS_WITH(session.set_override("track.kick.offset_ms=soon"),
                      StartsWith("--set ") && Contains("expected a number of milliseconds"));
    CHECK_THROWS_WITH(session.set_override("track.kick.offset_ms="), StartsWith("--set ") && Contains("PATH=VALUE"));
    CHECK(session.strips()[1].offset_ms == -12.5);
}

// A session file refuses an offset_ms beyond 24 hours (a frame count that large overflows);
// an override must refuse it too.
TEST_CASE("set_override refuses an offset_ms that the session file refuses", "[session][override]") {
    TempDir dir;
    write_stem(dir / "stems/kick.wav");
    CHECK_THAT(load_error(dir, kick_track + "offset_ms = 1e12\n").message(), Contains("offset_ms"));  // the file: refused
    Session session = Session::load(write_session(dir, kick_track));
    CHECK_THROWS_AS(session.set_override("track.kick.offset_ms=1e12"), SessionError);
    CHECK_THROWS_AS(session.set_override("track.kick.offset_ms=1e300"), SessionError);
    CHECK(session.strips()[1].offset_ms == 0.0);
}

TEST_CASE("a pitch insert's key, scale, notes and detection range are checked at their place, and stereo tracks refuse it",
          "[session][errors][inserts][pitch]") {
    TempDir dir;
    const auto file = dir / "session.toml";
    SECTION("a key that does not exist: at the value, with the keys") {
        const SessionError e = load_error(dir, kick_track + "inserts = [ { type = \"pitch\", key = \"H\" } ]\n");
        CHECK_LOCATED(e, file, 4, 37);
        CHECK_THAT(e.message(), Contains("'H'") && Contains("C, C#, D, D#, E, F, F#, G, G#, A, A#, B"));
    }
    SECTION("a scale that does not exist: at the value, with the nearest and the scales") {
        const SessionError e = load_error(dir, kick_track + "inserts = [ { type = \"pitch\", key = \"A\", scale = \"minr\" } ]\n");
        CHECK_LOCATED(e, file, 4, 50);
        CHECK_THAT(e.message(), Contains("'minr'") && Contains("minor") && Contains("mixolydian") && Contains("custom"));
    }
    SECTION("an empty custom set of notes") {
        const SessionError e =
            load_error(dir, kick_track + "inserts = [ { type = \"pitch\", scale = \"custom\", notes = [] } ]\n");
        CHECK_LOCATED(e, file, 4, 57);
        CHECK_THAT(e.message(), Contains("notes in insert 1 of track 'kick' is empty") && Contains("C#"));
    }
    SECTION("a note that does not exist: at the note, with the notes") {
        const SessionError e = load_error(
            dir, kick_track + "inserts = [ { type = \"pitch\", scale = \"custom\", notes = [\"C\", \"E\", \"Q\"] } ]\n");
        CHECK_LOCATED(e, file, 4, 68);
        CHECK_THAT(e.message(), Contains("unknown note 'Q'") && Contains("A# (or Bb)"));
    }
    SECTION("a detection range whose ends are swapped") {
        const SessionError e =
            load_error(dir, kick_track + "inserts = [ { type = \"pitch\", min_hz = 900, max_hz = 300 } ]\n");
        CHECK_LOCATED(e, file, 4, 54);
        CHECK_THAT(e.message(), Contains("swapped") && Contains("min_hz = 900") && Contains("max_hz = 300"));
    }
    SECTION("a stereo track: at the insert") {
        write_stem(dir / "stems/pad.wav", 48000, 2);
        const SessionError e = load_error(
            dir, "[[track]]\nname = \"pad\"\nfile = \"stems/pad.wav\"\ninserts = [ { type = \"gate\" }, { type = \"pitch\" } ]\n");
        CHECK_LOCATED(e, file, 4, 32);
        CHECK_THAT(e.message(), Contains("needs a mono signal") && Contains("a stereo track"));
    }
    SECTION("notes written as names set the 12-bit mask, flats or sharps") {
        write_stem(dir / "stems/kick.wav");
        const auto path = write_session(
            dir, kick_track + "inserts = [ { type = \"pitch\", scale = \"custom\", notes = [\"C\", \"Eb\", \"G\", \"A#\"] } ]\n");
        const Session s = Session::load(path);
        Engine e(s.engine_options());
        s.apply(e);
        double notes = 0.0, scale = 0.0;
        RTMIX_REQUIRE_OK(e.get("track.kick.insert.1.notes", notes));
        CHECK(notes == (1 << 0 | 1 << 3 | 1 << 7 | 1 << 10));
        std::string word;
        RTMIX_REQUIRE_OK(e.get("track.kick.insert.1.scale", word));
        CHECK(word == "custom");
        (void)scale;
    }
}
