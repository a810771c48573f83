// The rtmix program, run as a process: exit codes (0 done, 1 render failure, 2 usage or session
// error), what goes to stdout and stderr, and that its options reach the render.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
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
    SECTION("a time the console refuses too: 1:75 is a typo, not 2:15") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--start", "1:75"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("--start '1:75'") && Contains("under 60"));
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
    // 5 ms of lookahead is below the limiter's shortest latency, 347 frames; the limiter aims
    // its 0.15 dB safety margin under the ceiling.
    CHECK_THAT(ceiling.out, Contains("\"normalization\": null") && Contains("\"latency_frames\": 347") &&
                                Contains("\"true_peak_dbtp\": -9.15"));
    const Result plain = run_rtmix(dir, {"render", session, "-o", master, "--bits", "32f", "--json"});
    REQUIRE(plain.exit_code == 0);
    CHECK_THAT(plain.out, Contains("\"normalization\": null") && Contains("\"dither\": null") &&
                              Contains("\"latency_frames\": 0"));
}

TEST_CASE("rtmix check shows the master limiter, its latency and the loudness target", "[cli][mastering]") {
    TempDir dir;
    const auto session = write_project(dir);
    std::ofstream(session, std::ios::app) << "\n[master.limiter]\nlookahead_ms = 10\n\n[master.loudness]\npreset = \"apple\"\n";
    const Result text = run_rtmix(dir, {"check", session.string()});
    REQUIRE(text.exit_code == 0);
    CHECK_THAT(text.out, Contains("master  [limiter]") && Contains("latency: 480 frames (10.00 ms)") &&
                             Contains("loudness target: -16.0 LUFS, true peak under -1.0 dBTP (apple)"));
    const Result json = run_rtmix(dir, {"check", session.string(), "--json"});
    REQUIRE(json.exit_code == 0);
    CHECK_THAT(json.out, Contains("\"latency_frames\": 480") &&
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

TEST_CASE("a truncated stem is named with the length its header claims and the length found, and --strict refuses it",
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
        const Result strict = run_rtmix(dir, {"check", session, "--strict"});
        CHECK(strict.exit_code == 2);
        CHECK_THAT(strict.err, Contains("(strict): " + warning));
    }
    SECTION("render --strict: an error, nothing written") {
        const Result r = run_rtmix(dir, {"render", session, "-o", master, "--strict"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("(strict)") && Contains(warning));
        CHECK_FALSE(std::filesystem::exists(master));
        CHECK(test::folder_entries(dir.path()) == std::vector<std::string>{"io", "session.toml", "stems"});
    }
}

TEST_CASE("a header-only stem says it is truncated, and an empty stem and a session without tracks are refused by render",
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

TEST_CASE("a stem whose header claims an implausible sample rate is refused with the path and the rate", "[cli][damaged]") {
    TempDir dir;
    const auto master = (dir / "master.wav").string();
    const int rate = GENERATE(1, 7999, 768001);
    INFO("claimed rate " << rate);
    // Five seconds at 48 kHz, then the header's rate (and byte rate) rewritten: the samples stay.
    const auto stem = dir / "stems/odd.wav";
    test::write_audio(stem, {std::vector<float>(5 * 48000, 0.25f)}, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    {
        std::fstream f(stem, std::ios::in | std::ios::out | std::ios::binary);
        const std::uint32_t fields[2] = {static_cast<std::uint32_t>(rate), static_cast<std::uint32_t>(rate) * 2};
        f.seekp(24);  // the fmt chunk of a plain WAV: rate at 24, byte rate at 28, little-endian
        for (const std::uint32_t v : fields)
            for (int b = 0; b < 4; ++b) f.put(static_cast<char>((v >> (8 * b)) & 0xff));
    }
    const auto session = write_one_track_session(dir, "stems/odd.wav").string();
    std::string expected = "'";  // built in steps: GCC 12 misreads a long chain of + as an overflow
    expected += stem.string();
    expected += "' claims a sample rate of ";
    expected += std::to_string(rate);
    expected += " Hz; a stem's rate must be 8000 to 768000 Hz";
    const Result checked = run_rtmix(dir, {"check", session});
    CHECK(checked.exit_code == 2);
    CHECK_THAT(checked.err, Contains(expected));
    const Result rendered = run_rtmix(dir, {"render", session, "-o", master});
    CHECK(rendered.exit_code == 2);
    CHECK_THAT(rendered.err, Contains(expected));
    CHECK_FALSE(std::filesystem::exists(master));
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

namespace {

/// True when the two renders hold the same samples, bit for bit.
bool same_bits(const test::Audio& a, const test::Audio& b) {
    if (a.channels.size() != b.channels.size() || a.frames() != b.frames()) return false;
    for (std::size_t c = 0; c < a.channels.size(); ++c)
        if (std::memcmp(a.channels[c].data(), b.channels[c].data(), a.frames() * sizeof(float)) != 0) return false;
    return true;
}

}  // namespace

TEST_CASE("rtmix render -o - streams the master to stdout, the summary to stderr: the samples of a file render",
          "[cli][output]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const auto file = (dir / "file.wav").string();
    REQUIRE(run_rtmix(dir, {"render", session, "-o", file, "--bits", "32f", "--tail", "0"}).exit_code == 0);
    const test::Audio reference = test::read_audio(file);
    REQUIRE(reference.frames() == 12000);

    SECTION("WAV, 32-bit float, through a pipe: the same bits, lengths unknown in the header") {
        const Result r = test::run_rtmix_piped(dir, {"render", session, "-o", "-", "--bits", "32f", "--tail", "0"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.err, Contains("rendered -") && Contains("WAV 32-bit float"));
        REQUIRE(r.out.size() == 44 + 12000 * 8);
        CHECK(r.out.substr(0, 8) == std::string("RIFF\xff\xff\xff\xff", 8));
        CHECK(same_bits(test::decode_audio(dir / "streamed.wav", r.out), reference));
    }
    SECTION("--json goes to stderr too") {
        const Result r = test::run_rtmix_piped(dir, {"render", session, "-o", "-", "--bits", "32f", "--tail", "0", "--json"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.err, StartsWith("{") && Contains("\"frames\": 12000"));
        CHECK(same_bits(test::decode_audio(dir / "streamed.wav", r.out), reference));
    }
    SECTION("raw float (--format f32): the samples, interleaved, nothing else") {
        const Result r = test::run_rtmix_piped(dir, {"render", session, "-o", "-", "--format", "f32", "--tail", "0"});
        CHECK(r.exit_code == 0);
        REQUIRE(r.out.size() == 12000 * 8);
        std::vector<float> interleaved(24000);
        std::memcpy(interleaved.data(), r.out.data(), r.out.size());
        bool same = true;
        for (std::size_t i = 0; i < 12000; ++i)
            same = same && std::memcmp(&interleaved[2 * i], &reference.channels[0][i], 4) == 0 &&
                   std::memcmp(&interleaved[2 * i + 1], &reference.channels[1][i], 4) == 0;
        CHECK(same);
    }
    SECTION("FLAC, 16-bit: within one step of the float render") {
        const Result r = test::run_rtmix_piped(dir, {"render", session, "-o", "-", "--format", "flac", "--bits", "16",
                                                     "--dither", "none", "--tail", "0"});
        CHECK(r.exit_code == 0);
        const test::Audio streamed = test::decode_audio(dir / "streamed.flac", r.out);
        CHECK((streamed.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC);
        REQUIRE(streamed.frames() == 12000);
        double most = 0.0;
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t i = 0; i < 12000; ++i)
                most = std::max(most, std::fabs(double(streamed.channels[c][i]) - reference.channels[c][i]));
        CHECK(most <= 0x1p-15);
    }
    SECTION("a loudness target (passes held until one is kept): the same bits as its file render") {
        // Two seconds: the gated loudness needs at least one 400 ms block.
        test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, 48000.0, 96000, 0.5)}, 48000);
        const auto normalized = (dir / "normalized.wav").string();
        REQUIRE(run_rtmix(dir, {"render", session, "-o", normalized, "--bits", "32f", "--loudness", "broadcast"}).exit_code == 0);
        const Result r = test::run_rtmix_piped(dir, {"render", session, "-o", "-", "--bits", "32f", "--loudness", "broadcast"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.err, Contains("normaliz"));
        const test::Audio streamed = test::decode_audio(dir / "streamed.wav", r.out);
        CHECK(streamed.frames() == test::read_audio(normalized).frames());
        CHECK(same_bits(streamed, test::read_audio(normalized)));
    }
    SECTION("stdout redirected to a regular file: the header gets the lengths") {
        const Result r = run_rtmix(dir, {"render", session, "-o", "-", "--bits", "24", "--tail", "0"});
        CHECK(r.exit_code == 0);
        REQUIRE(r.out.size() == 44 + 12000 * 6);
        const std::uint32_t riff = static_cast<unsigned char>(r.out[4]) | static_cast<unsigned char>(r.out[5]) << 8 |
                                   static_cast<unsigned char>(r.out[6]) << 16 | static_cast<std::uint32_t>(static_cast<unsigned char>(r.out[7])) << 24;
        CHECK(riff == 36 + 12000 * 6);
        CHECK(test::read_audio(dir / "io/stdout").frames() == 12000);
    }
    // Nothing but the session, the stems, the reference renders and the captured output.
    for (const std::string& entry : test::folder_entries(dir.path())) CHECK_FALSE(entry.ends_with(".partial"));
}

TEST_CASE("rtmix render refuses the session file and its stems as outputs, -n keeps an existing file, -y replaces it",
          "[cli][output]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const std::string session_bytes = test::read_bytes(session), stem_bytes = test::read_bytes(dir / "stems/a.wav");

    SECTION("the session file") {
        const Result r = run_rtmix(dir, {"render", session, "-o", session, "--format", "wav"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("'" + session + "' is the session file"));
    }
    SECTION("a stem") {
        const Result r = run_rtmix(dir, {"render", session, "-o", (dir / "stems/a.wav").string()});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("is the stem of track 'a'"));
    }
    CHECK(test::read_bytes(session) == session_bytes);
    CHECK(test::read_bytes(dir / "stems/a.wav") == stem_bytes);
    CHECK(test::folder_entries(dir / "stems") == std::vector<std::string>{"a.wav", "kick.wav"});

    SECTION("-n, --no-clobber: an existing file stays, exit 1; a new one is written") {
        const auto master = dir / "master.wav";
        test::write_text(master, "an older master\n");
        std::string refused = master.string();
        refused.insert(0, 1, '\'').append("' exists: not overwritten (no-clobber)");
        for (const std::string flag : {"-n", "--no-clobber"}) {
            const Result r = run_rtmix(dir, {"render", session, "-o", master.string(), flag});
            CHECK(r.exit_code == 1);
            CHECK_THAT(r.err, Contains(refused));
            CHECK(test::read_bytes(master) == "an older master\n");
        }
        CHECK(run_rtmix(dir, {"render", session, "-o", (dir / "new.wav").string(), "-n"}).exit_code == 0);
        CHECK(test::read_audio(dir / "new.wav").frames() == 12000);
    }
    SECTION("-y, --overwrite (the default): replaced; -n with -y is a usage error") {
        const auto master = dir / "master.wav";
        test::write_text(master, "an older master\n");
        CHECK(run_rtmix(dir, {"render", session, "-o", master.string(), "-y"}).exit_code == 0);
        CHECK(test::read_audio(master).frames() == 12000);
        const Result both = run_rtmix(dir, {"render", session, "-o", master.string(), "-n", "-y"});
        CHECK(both.exit_code == 2);
        CHECK_THAT(both.err, Contains("contradict"));
    }
}

TEST_CASE("rtmix render writes the format the extension names (Ogg Vorbis, Opus, MP3, raw float) or refuses with the list",
          "[cli][output]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    struct Case {
        const char* name;
        int major, sub;
    };
    const Case c = GENERATE(Case{"m.ogg", SF_FORMAT_OGG, SF_FORMAT_VORBIS}, Case{"m.opus", SF_FORMAT_OGG, SF_FORMAT_OPUS},
                            Case{"m.mp3", SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III});
    INFO(c.name);
    const auto out = (dir / c.name).string();
    const Result r = run_rtmix(dir, {"render", session, "-o", out, "--tail", "0"});
    CHECK(r.exit_code == 0);
    const test::Audio a = test::decode_audio(dir / "copy", test::read_bytes(out));
    CHECK((a.format & SF_FORMAT_TYPEMASK) == c.major);
    CHECK((a.format & SF_FORMAT_SUBMASK) == c.sub);
    // Lossy: the length within an encoder's frame or two, the 0.5 sine's level within 1 dB.
    CHECK(a.frames() >= 12000 - 2304);
    CHECK(a.frames() <= 12000 + 4608);
    CHECK(test::to_db(a.peak() / 0.5) == Approx(0.0).margin(1.0));
    CHECK_FALSE(r.out.find("dither") != std::string::npos);  // lossy formats encode floats

    SECTION("--bits does not apply") {
        const Result bits = run_rtmix(dir, {"render", session, "-o", (dir / "b").string() + c.name, "--bits", "16"});
        CHECK(bits.exit_code == 2);
        CHECK_THAT(bits.err, Contains("--bits does not apply"));
    }
}

TEST_CASE("rtmix render refuses an output it cannot tell the format of, naming the formats", "[cli][output]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const std::string name = GENERATE("master", "master.xyz", "master.m4a");
    const Result r = run_rtmix(dir, {"render", session, "-o", (dir / name).string()});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("wav, flac, aiff (.aif), ogg (Vorbis), opus, mp3, f32 (raw 32-bit float)"));
    CHECK_FALSE(std::filesystem::exists(dir / name));
    CHECK(run_rtmix(dir, {"render", session, "-o", (dir / name).string(), "--format", "flac"}).exit_code == 0);
    CHECK((test::read_audio(dir / name).format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC);
}

TEST_CASE("a killed render leaves its hidden partial file, and the next render to that name removes it", "[cli][output]") {
    TempDir dir;
    const auto session = write_project(dir).string();
    const auto master = dir / "master.wav";

    SECTION("SIGKILL midway, then a render") {
        // An hour of tail keeps it busy until it is killed.
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        std::vector<std::string> args = {RTMIX_CLI, "render", session, "-o", master.string(), "--tail", "3600"};
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        REQUIRE(posix_spawn(&pid, RTMIX_CLI, &actions, nullptr, argv.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        const std::string partial = ".master.wav." + std::to_string(pid) + "-0.partial";
        bool seen = false;
        for (int i = 0; i < 2000 && !seen; ++i) {  // up to 20 s: a sanitizer build starts slowly
            seen = std::filesystem::exists(dir / partial);
            if (!seen) ::usleep(10000);
        }
        ::kill(pid, SIGKILL);
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        REQUIRE(seen);
        CHECK(std::filesystem::exists(dir / partial));
        CHECK_FALSE(std::filesystem::exists(master));

        REQUIRE(run_rtmix(dir, {"render", session, "-o", master.string()}).exit_code == 0);
        CHECK_FALSE(std::filesystem::exists(dir / partial));
        CHECK(test::read_audio(master).frames() == 12000);
    }
    SECTION("only partials of that name, of processes that are gone") {
        pid_t gone = 0;  // a process that ran and was reaped
        std::vector<std::string> args = {"/bin/true"};
        char* argv[] = {args[0].data(), nullptr};
        REQUIRE(posix_spawn(&gone, "/bin/true", nullptr, nullptr, argv, environ) == 0);
        REQUIRE(::waitpid(gone, nullptr, 0) == gone);
        const std::string dead = ".master.wav." + std::to_string(gone) + "-0.partial";
        const std::string alive = ".master.wav." + std::to_string(::getpid()) + "-0.partial";  // this test runs
        const std::string other = ".other.wav." + std::to_string(gone) + "-0.partial";
        for (const std::string& name : {dead, alive, other}) test::write_text(dir / name, "partial\n");
        REQUIRE(run_rtmix(dir, {"render", session, "-o", master.string()}).exit_code == 0);
        CHECK_FALSE(std::filesystem::exists(dir / dead));
        CHECK(std::filesystem::exists(dir / alive));
        CHECK(std::filesystem::exists(dir / other));
    }
}

TEST_CASE("a session of more stems than the open-file limit allows: the limit is raised to the hard one, or the need is said",
          "[cli][scale]") {
    TempDir dir;
    // 100 tracks of a 0.1 s stem each: over a soft limit of 64 open files.
    // Strings built by appending: GCC 12 misreads chains of + here as overflows.
    auto cat = [](std::initializer_list<std::string_view> parts) {
        std::string out;
        for (const std::string_view p : parts) out.append(p);
        return out;
    };
    std::string text = "[session]\nsample_rate = 48000\n";
    for (int i = 0; i < 100; ++i) {
        const std::string name = cat({"t", std::to_string(i)});
        test::write_audio(dir / cat({"stems/", name, ".wav"}), {std::vector<float>(4800, 0.001f)}, 48000);
        text.append(cat({"\n[[track]]\nname = \"", name, "\"\nfile = \"stems/", name, ".wav\"\n"}));
    }
    test::write_text(dir / "many.toml", text);
    const std::string render = cat({"exec '", RTMIX_CLI, "' render '", (dir / "many.toml").string(), "' -o '",
                                    (dir / "mix.wav").string(), "' > '", (dir / "out").string(), "' 2> '",
                                    (dir / "err").string(), "'"});
    // A soft limit of 64 under a higher hard one: rtmix raises it and renders.
    int status = std::system(cat({"ulimit -S -n 64 && ", render}).c_str());
    INFO(test::read_bytes(dir / "err"));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(test::read_audio(dir / "mix.wav").frames() >= 4800);
    std::filesystem::remove(dir / "mix.wav");
    // A hard limit of 64: refused before any stem is opened, with what it needs.
    status = std::system(cat({"ulimit -n 64 && ", render}).c_str());
    const std::string err = test::read_bytes(dir / "err");
    INFO(err);
    CHECK(WEXITSTATUS(status) == 1);
    CHECK_THAT(err, Contains("the session plays 100 stem files at once, one open file each, but this process may open "
                             "only 64 files (RLIMIT_NOFILE): allow at least 132 (`ulimit -n 132`, which needs a higher hard "
                             "limit)"));
    CHECK_FALSE(std::filesystem::exists(dir / "mix.wav"));
}
