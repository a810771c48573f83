// The rtmix program, run as a process: exit codes (0 done, 1 render failure, 2 usage or session
// error), what goes to stdout and stderr, and that its options reach the render.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "files.hpp"
#include "run_rtmix.hpp"
#include "signals.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using test::Result;
using test::run_rtmix;
using test::TempDir;

namespace {

/// DIR/session.toml with one mono track "a" (a 1 kHz sine of amplitude 0.5, panned hard left, so
/// the master's left channel carries it at 0.5) and a bus "drums" fed by track "kick".
std::filesystem::path write_project(const TempDir& dir) {
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, 48000.0, 12000, 0.5)}, 48000);
    test::write_audio(dir / "stems/kick.wav", {std::vector<float>(4800, 0.0f)}, 48000);
    test::write_text(dir / "session.toml", R"([session]
sample_rate = 48000

[[bus]]
name = "drums"

[[track]]
name = "kick"
file = "stems/kick.wav"
output = "drums"

[[track]]
name = "a"
file = "stems/a.wav"
pan = -1
)");
    return dir / "session.toml";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(text.substr(start, nl - start));
    if (start < text.size()) lines.push_back(text.substr(start));
    return lines;
}

}  // namespace

TEST_CASE("rtmix render writes the master and exits 0, and --json prints the summary on stdout", "[cli]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const auto master = (dir / "master.wav").string();

    SECTION("--json") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--bits", "32f", "--json"});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK_THAT(r.out, StartsWith("{") && Contains("\"master_peak_dbfs\": -6.02") && Contains("\"speed\"") &&
                              Contains("\"strips\"") && Contains("\"track.a\"") && Contains("\"frames\": 12000"));
        const test::Audio out = test::read_audio(master);
        CHECK((out.format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT);
        CHECK(out.frames() == 12000);
    }
    SECTION("text, with stderr not a terminal: no progress bar, nothing at all on stderr") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK_THAT(r.out, Contains("rendered") && Contains(master) && Contains("track a"));
        CHECK((test::read_audio(master).format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_24);  // the default
    }
}

TEST_CASE("rtmix exits 2 on a usage error, says why on stderr, and writes nothing", "[cli]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const auto master = (dir / "master.wav").string();

    SECTION("no arguments: the usage") {
        const Result r = run_rtmix(dir, {});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("usage:") && Contains("rtmix render SESSION"));
    }
    SECTION("an unknown option") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--frob"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("unknown option '--frob'"));
    }
    SECTION("--bits 12") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--bits", "12"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("--bits '12'") && Contains("16, 24 or 32f"));
    }
    SECTION("an unknown loudness preset") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--loudness", "radio"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("--loudness 'radio'") && Contains("streaming") && Contains("broadcast"));
    }
    SECTION("a loudness target out of range") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--target-lufs", "3"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("--target-lufs 3: out of range [-60, 0] LUFS"));
    }
    SECTION("a ceiling that is not a number") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--ceiling-dbtp", "loud"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("--ceiling-dbtp 'loud': expected a number (dBTP)"));
    }
    SECTION("an unknown dither") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--dither", "rpdf"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("--dither 'rpdf': expected none, tpdf or shaped"));
    }
    SECTION("FLAC with --bits 32f") {
        const Result r = run_rtmix(dir, {"render", session, "-o", (dir / "master.flac").string(), "--bits", "32f"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("FLAC"));
    }
    CHECK_FALSE(std::filesystem::exists(master));
    CHECK_FALSE(std::filesystem::exists(dir / "master.flac"));
}

TEST_CASE("rtmix exits 2 on a session error, with FILE:LINE:COL: on stderr", "[cli]") {
    TempDir dir;
    write_project(dir);
    const auto bad = (dir / "bad.toml").string();
    test::write_text(bad, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\ngian_db = -3\n");
    const Result r = run_rtmix(dir, {"render", bad, "-o", (dir / "master.wav").string()});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, StartsWith(bad + ":4:1: unknown key 'gian_db' in track 'a' (did you mean 'gain_db'?)"));
    CHECK(r.out.empty());
    CHECK_FALSE(std::filesystem::exists(dir / "master.wav"));

    const Result checked = run_rtmix(dir, {"check", bad});
    CHECK(checked.exit_code == 2);
    CHECK_THAT(checked.err, StartsWith(bad + ":4:1: "));
}

TEST_CASE("rtmix exits 2 on a bad --set, with the nearest path suggested", "[cli]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const Result r = run_rtmix(dir, {"render", session, "-o", (dir / "master.wav").string(), "--set", "track.a.gian_db=-2"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, StartsWith("--set track.a.gian_db=-2: ") && Contains("(did you mean 'track.a.gain_db'?)"));
    CHECK_FALSE(std::filesystem::exists(dir / "master.wav"));
}

TEST_CASE("rtmix exits 1 when the render fails, naming the path", "[cli]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const auto master = (dir / "missing/master.wav").string();
    const Result r = run_rtmix(dir, {"render", session, "-o", master});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains(master));
    CHECK_FALSE(std::filesystem::exists(dir / "missing"));
}

TEST_CASE("rtmix check prints the routing tree and the latency, and check --json prints them as JSON", "[cli]") {
    TempDir dir;
    const auto session = write_project(dir).string();

    SECTION("text") {
        const Result r = run_rtmix(dir, {"check", session});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK_THAT(r.out, Contains("ok") && Contains("latency: 0 frames"));
        // The master, then its sources; the kick sits under the bus it feeds, indented further.
        const std::vector<std::string> lines = lines_of(r.out);
        auto line_with = [&](const std::string& words) {
            for (std::size_t i = 0; i < lines.size(); ++i)
                if (lines[i].find(words) != std::string::npos) return i;
            FAIL("no line with '" << words << "' in:\n" << r.out);
            return lines.size();
        };
        const std::size_t bus = line_with("bus drums"), kick = line_with("track kick"), a = line_with("track a");
        REQUIRE(bus > 0);
        CHECK_THAT(lines[bus - 1], StartsWith("master"));  // the root, right above its first source
        CHECK(kick == bus + 1);
        CHECK(lines[kick].find("track kick") > lines[bus].find("bus drums"));
        CHECK(lines[a].find("track a") == lines[bus].find("bus drums"));  // both feed the master
        CHECK_THAT(lines[a], Contains("stems/a.wav") && Contains("mono") && Contains("48000 Hz"));
    }
    SECTION("--json") {
        const Result r = run_rtmix(dir, {"check", session, "--json"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.out, StartsWith("{") && Contains("\"latency_frames\": 0") && Contains("\"strip\": \"bus.drums\"") &&
                              Contains("\"output\": \"bus.drums\""));
    }
}

TEST_CASE("rtmix render --set, --start, --length and --tail reach the render", "[cli]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const auto plain = (dir / "plain.wav").string(), quieter = (dir / "quieter.wav").string();

    REQUIRE(run_rtmix(dir, {"render", session, "-o", plain, "--bits", "32f"}).exit_code == 0);
    REQUIRE(run_rtmix(dir, {"render", session, "-o", quieter, "--bits", "32f", "--set", "track.a.gain_db=-6"}).exit_code == 0);
    const double plain_peak = test::read_audio(plain).peak(), quieter_peak = test::read_audio(quieter).peak();
    CHECK(plain_peak == Approx(0.5).margin(1e-6));  // a 1 kHz sine sampled at 48 kHz hits its crest
    // 0.01 dB: float files, only the fader differs.
    CHECK(test::to_db(quieter_peak / plain_peak) == Approx(-6.0).margin(0.01));

    // 0.05 s in (2400 frames), 0:00.1 long (4800 frames), no tail.
    const auto cut = (dir / "cut.wav").string();
    REQUIRE(run_rtmix(dir, {"render", session, "-o", cut, "--start", "0.05", "--length", "0:00.1", "--tail", "0"}).exit_code == 0);
    CHECK(test::read_audio(cut).frames() == 4800);
}

TEST_CASE("rtmix render --loudness normalizes and reports before and after, as text and JSON", "[cli][mastering]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    // Two seconds of the sine: the gated loudness needs at least one 400 ms block.
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, 48000.0, 96000, 0.5)}, 48000);
    const auto master = (dir / "master.wav").string();
    const Result text = run_rtmix(dir, {"render", session, "-o", master, "--loudness", "broadcast", "--bits", "16"});
    REQUIRE(text.exit_code == 0);
    CHECK_THAT(text.out, Contains("normalized to -23.0 LUFS, ceiling -1.0 dBTP (broadcast)") && Contains("before") &&
                             Contains("after      -23.0 LUFS") && Contains("dither       tpdf"));

    const Result json = run_rtmix(dir, {"render", session, "-o", master, "--target-lufs", "-20", "--ceiling-dbtp", "-2",
                                        "--dither", "shaped", "--bits", "16", "--json"});
    REQUIRE(json.exit_code == 0);
    CHECK_THAT(json.out, Contains("\"dither\": \"shaped\"") && Contains("\"preset\": null") &&
                             Contains("\"target_lufs\": -20.00") && Contains("\"ceiling_dbtp\": -2.00") &&
                             Contains("\"reached\": true") && Contains("\"integrated_lufs\": -20.0"));
    // A ceiling alone: the limiter at that ceiling, no normalization.
    const Result ceiling = run_rtmix(dir, {"render", session, "-o", master, "--ceiling-dbtp", "-9", "--json"});
    REQUIRE(ceiling.exit_code == 0);
    CHECK_THAT(ceiling.out, Contains("\"normalization\": null") && Contains("\"latency_frames\": 240") &&
                                Contains("\"true_peak_dbtp\": -9.0"));
    const Result plain = run_rtmix(dir, {"render", session, "-o", master, "--bits", "32f", "--json"});
    REQUIRE(plain.exit_code == 0);
    CHECK_THAT(plain.out, Contains("\"normalization\": null") && Contains("\"dither\": null") &&
                              Contains("\"latency_frames\": 0"));
}

TEST_CASE("rtmix check shows the master limiter, its latency and the loudness target", "[cli][mastering]") {
    TempDir dir;
    const auto session = write_project(dir);
    std::ofstream(session, std::ios::app) << "\n[master.limiter]\nlookahead_ms = 2\n\n[master.loudness]\npreset = \"apple\"\n";
    const Result text = run_rtmix(dir, {"check", session.string()});
    REQUIRE(text.exit_code == 0);
    CHECK_THAT(text.out, Contains("master  [limiter]") && Contains("latency: 96 frames (2.00 ms)") &&
                             Contains("loudness target: -16.0 LUFS, true peak under -1.0 dBTP (apple)"));
    const Result json = run_rtmix(dir, {"check", session.string(), "--json"});
    REQUIRE(json.exit_code == 0);
    CHECK_THAT(json.out, Contains("\"latency_frames\": 96") &&
                             Contains("\"loudness_target\": {\"preset\": \"apple\", \"target_lufs\": -16.00, \"ceiling_dbtp\": -1.00}"));
}

TEST_CASE("rtmix params lists every parameter with its value and range, and --json for scripts", "[cli][params]") {
    TempDir dir;
    const auto session = write_project(dir).string();

    SECTION("text, filtered to one strip") {
        const Result r = run_rtmix(dir, {"params", session, "track.a"});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        const std::vector<std::string> lines = lines_of(r.out);
        CHECK(lines.size() > 50);
        for (const std::string& line : lines) CHECK_THAT(line, StartsWith("track.a."));
        bool pan = false;
        for (const std::string& line : lines)
            if (line.starts_with("track.a.pan ")) {
                pan = true;
                CHECK_THAT(line, Contains(" -1 ") && Contains("-1 ... 1"));  // the session's value, the range
            }
        CHECK(pan);
    }
    SECTION("--json: an array of objects with path, kind, unit, min, max, default, words and description") {
        const Result r = run_rtmix(dir, {"params", session, "--json", "track.a.eq.1.type"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.out, StartsWith("[") && Contains("\"path\": \"track.a.eq.1.type\"") && Contains("\"kind\": \"word\"") &&
                              Contains("\"default\": \"off\"") && Contains("\"words\": [\"off\", \"highpass\"") &&
                              Contains("\"description\": "));
        const Result gain = run_rtmix(dir, {"params", session, "--json", "track.a.gain_db"});
        CHECK_THAT(gain.out, Contains("\"unit\": \"dB\", \"min\": -120, \"max\": 12, \"default\": 0, \"value\": 0"));
    }
    SECTION("no session file: a usage error") {
        const Result r = run_rtmix(dir, {"params"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("params needs a session file"));
    }
}

namespace {

/// Writes `seconds` of a 16-bit mono 440 Hz sine (amplitude 0.5) at 48 kHz as DIR/stems/NAME, then
/// cuts the file after `kept_frames` frames of samples (the header still claims them all).
std::filesystem::path write_truncated_wav(const TempDir& dir, const std::string& name, double seconds,
                                          std::size_t kept_frames) {
    const std::filesystem::path file = dir / "stems" / name;
    test::write_audio(file, {test::sine(440.0, 48000.0, static_cast<std::size_t>(seconds * 48000), 0.5)}, 48000,
                      SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    const std::string bytes = test::read_bytes(file);
    const std::size_t data = bytes.find("data");
    REQUIRE(data != std::string::npos);
    std::filesystem::resize_file(file, data + 8 + 2 * kept_frames);
    return file;
}

std::filesystem::path write_one_track_session(const TempDir& dir, const std::string& stem) {
    test::write_text(dir / "session.toml", "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"a\"\nfile = \"" + stem + "\"\n");
    return dir / "session.toml";
}

}  // namespace

TEST_CASE("a truncated stem is named with the length its header claims and the length found; --strict refuses it",
          "[cli][damaged]") {
    TempDir dir;
    const auto stem = write_truncated_wav(dir, "cut.wav", 8.0, 33600).string();  // 8 s claimed, 0.7 s present
    const auto session = write_one_track_session(dir, "stems/cut.wav").string();
    const auto master = (dir / "master.wav").string();
    const std::string warning = "track 'a': '" + stem + "' is truncated: its header claims 8.000 s (384000 frames), "
                                "the file holds 0.700 s (33600 frames)";

    SECTION("render: the warning in the summary, the audio that is there") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--bits", "32f", "--tail", "0"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.out, Contains("warning: " + warning));
        const test::Audio out = test::read_audio(master);
        CHECK(out.frames() == 33600);
        CHECK(out.peak() > 0.3);
    }
    SECTION("check: the same warning") {
        const Result r = run_rtmix(dir, {"check", session});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.out, Contains("warning: " + warning));
        const Result json = run_rtmix(dir, {"check", session, "--json"});
        CHECK_THAT(json.out, Contains("\"warnings\": [") && Contains("is truncated"));
    }
    SECTION("render --strict: an error, nothing written") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--strict"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("(strict)") && Contains(warning));
        CHECK_FALSE(std::filesystem::exists(master));
        CHECK(test::folder_entries(dir.path()) == std::vector<std::string>{"io", "session.toml", "stems"});
    }
}

TEST_CASE("a header-only stem says it is truncated; an empty stem and a session without tracks are refused by render",
          "[cli][damaged]") {
    TempDir dir;
    const auto master = (dir / "master.wav").string();

    SECTION("a header claiming 8 s and no samples") {
        const auto stem = write_truncated_wav(dir, "hdr.wav", 8.0, 0).string();
        const auto session = write_one_track_session(dir, "stems/hdr.wav").string();
        const Result r = run_rtmix(dir, {"render", session, "-o", master});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("'" + stem + "' is truncated: its header claims 8.000 s (384000 frames), the file holds no audio"));
        CHECK_THAT(r.err, !Contains("unimplemented") && !Contains("not recognised"));
        CHECK_FALSE(std::filesystem::exists(master));
    }
    SECTION("a header cut short") {
        const auto stem = write_truncated_wav(dir, "hdr.wav", 1.0, 0).string();
        std::filesystem::resize_file(stem, 30);  // inside the fmt chunk
        const auto session = write_one_track_session(dir, "stems/hdr.wav").string();
        const Result r = run_rtmix(dir, {"check", session});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("'" + stem + "' is truncated: the file ends inside its WAV header (30 bytes)"));
    }
    SECTION("a stem of 0 frames: a note from check, a refusal from render") {
        std::filesystem::create_directories(dir / "stems");
        SF_INFO info{};
        info.samplerate = 48000;
        info.channels = 1;
        info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
        SNDFILE* f = sf_open((dir / "stems/empty.wav").c_str(), SFM_WRITE, &info);  // closed with no samples
        REQUIRE(f != nullptr);
        sf_close(f);
        const auto session = write_one_track_session(dir, "stems/empty.wav").string();
        const std::string what = "track 'a': '" + (dir / "stems/empty.wav").string() + "' holds no audio (0 frames)";
        const Result checked = run_rtmix(dir, {"check", session});
        CHECK(checked.exit_code == 0);
        CHECK_THAT(checked.out, Contains("note: " + what));
        const Result r = run_rtmix(dir, {"render", session, "-o", master});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains(what));
        CHECK_FALSE(std::filesystem::exists(master));
    }
    SECTION("a session with no tracks") {
        test::write_text(dir / "session.toml", "[session]\nsample_rate = 48000\n\n[[bus]]\nname = \"verb\"\n");
        const auto session = (dir / "session.toml").string();
        const Result checked = run_rtmix(dir, {"check", session});
        CHECK(checked.exit_code == 0);
        CHECK_THAT(checked.out, Contains("note: the session has no tracks"));
        const Result r = run_rtmix(dir, {"render", session, "-o", master});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("nothing to render: '" + session + "' has no tracks"));
        CHECK_FALSE(std::filesystem::exists(master));
    }
}

TEST_CASE("a stem read from a pipe (/dev/stdin) is refused up front: it must be read twice", "[cli][damaged]") {
    TempDir dir;
    write_project(dir);
    const auto session = write_one_track_session(dir, "/dev/stdin").string();
    const std::string wav = test::read_bytes(dir / "stems/kick.wav");  // 4800 frames: fits a pipe's buffer
    const Result r = test::run_rtmix_piped(dir, {"render", session, "-o", (dir / "master.wav").string()}, wav);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("'/dev/stdin' is a pipe: a stem is read more than once"));
    CHECK_FALSE(std::filesystem::exists(dir / "master.wav"));
}
