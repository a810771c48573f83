// The offline renderer, from real stem files to a real master file read back with libsndfile:
// levels against the gain and pan laws, resampling, sample-accurate offsets and cuts, every file
// format, writing aside, the effects' tail and the summary's figures.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "files.hpp"
#include "rtmix/render.hpp"
#include "rtmix/session.hpp"
#include "signals.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

/// Writes `text` as DIR/session.toml (dropping a leading line break) and loads it.
Session load_session(const TempDir& dir, std::string text) {
    if (!text.empty() && text.front() == '\n') text.erase(0, 1);
    test::write_text(dir / "session.toml", text);
    return Session::load(dir / "session.toml");
}

/// A 32-bit float WAV (stores the mix exactly) without a tail, unless the test says otherwise.
RenderOptions float_wav(const std::filesystem::path& output) {
    RenderOptions o;
    o.output = output;
    o.format = RenderOptions::Format::wav;
    o.sample = RenderOptions::Sample::float32;
    o.tail_s = 0.0;
    return o;
}

/// Amplitude and phase of the sinusoid at `freq_hz` in x[begin, begin + count), as
/// x[n] ~ amplitude * sin(w n + phase) with n counted from the start of the file. Exact for a
/// window of whole periods of every sinusoid present (they are then orthogonal).
struct Tone {
    double amplitude = 0.0, phase = 0.0;
};
Tone tone_at(const std::vector<float>& x, double freq_hz, double rate, std::size_t begin, std::size_t count) {
    double s = 0.0, c = 0.0;
    const double w = 2.0 * test::pi * freq_hz / rate;
    for (std::size_t n = begin; n < begin + count; ++n) {
        s += static_cast<double>(x[n]) * std::sin(w * static_cast<double>(n));
        c += static_cast<double>(x[n]) * std::cos(w * static_cast<double>(n));
    }
    s *= 2.0 / static_cast<double>(count);
    c *= 2.0 / static_cast<double>(count);
    return {std::hypot(s, c), std::atan2(c, s)};
}

double db(double gain) { return test::to_db(gain); }

/// Indices of the samples of `x` whose magnitude exceeds `threshold`.
std::vector<std::size_t> nonzero(const std::vector<float>& x, float threshold = 1e-6f) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < x.size(); ++i)
        if (std::fabs(x[i]) > threshold) out.push_back(i);
    return out;
}

const double fs = 48000.0;

}  // namespace

TEST_CASE("two mono sines land on the channels the equal-power pan law and the faders say", "[render][levels]") {
    TempDir dir;
    const std::size_t frames = 48000;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, frames, 0.5)}, 48000);
    test::write_audio(dir / "stems/b.wav", {test::sine(3000.0, fs, frames, 0.25)}, 48000);
    const Session session = load_session(dir, R"(
[session]
sample_rate = 48000

[[track]]
name = "a"
file = "stems/a.wav"
gain_db = -6
pan = -1

[[track]]
name = "b"
file = "stems/b.wav"
gain_db = 0
pan = 0.5
)");
    const RenderSummary summary = render(session, float_wav(dir / "master.wav"));
    const test::Audio out = test::read_audio(dir / "master.wav");
    REQUIRE(out.channels.size() == 2);
    REQUIRE(out.frames() == frames);
    CHECK(summary.frames == frames);

    // 24000 samples in the middle: 500 periods of 1 kHz and 1500 of 3 kHz.
    const std::size_t begin = 12000, count = 24000;
    const Tone a_left = tone_at(out.channels[0], 1000.0, fs, begin, count);
    const Tone a_right = tone_at(out.channels[1], 1000.0, fs, begin, count);
    const Tone b_left = tone_at(out.channels[0], 3000.0, fs, begin, count);
    const Tone b_right = tone_at(out.channels[1], 3000.0, fs, begin, count);

    // Equal power: left = cos(theta), right = sin(theta), theta = (pan + 1) pi / 4.
    const double theta_b = (0.5 + 1.0) * test::pi / 4.0;
    const double a_gain = std::pow(10.0, -6.0 / 20.0);
    // 0.01 dB: the samples are floats all the way (stems, mix, file); only rounding differs.
    CHECK(db(a_left.amplitude) == Approx(db(0.5 * a_gain)).margin(0.01));
    CHECK(db(a_right.amplitude) < -100.0);  // pan -1: nothing on the right
    CHECK(db(b_left.amplitude) == Approx(db(0.25 * std::cos(theta_b))).margin(0.01));
    CHECK(db(b_right.amplitude) == Approx(db(0.25 * std::sin(theta_b))).margin(0.01));
    // No latency in this mix: the sines keep the phase they have in the stems (zero at frame 0).
    CHECK(a_left.phase == Approx(0.0).margin(1e-3));
    CHECK(b_left.phase == Approx(0.0).margin(1e-3));
    CHECK(b_right.phase == Approx(0.0).margin(1e-3));
}

TEST_CASE("a 44.1 kHz stem in a 48 kHz session keeps its pitch, level and length", "[render][resample]") {
    TempDir dir;
    const std::size_t stem_frames = 30000;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, 44100.0, stem_frames, 0.5)}, 44100);
    const Session session = load_session(dir, R"(
[session]
sample_rate = 48000

[[track]]
name = "a"
file = "stems/a.wav"
pan = -1
)");
    const RenderSummary summary = render(session, float_wav(dir / "master.wav"));
    const test::Audio out = test::read_audio(dir / "master.wav");
    CHECK(out.sample_rate == 48000);

    // Length at the session's rate: ceil(30000 * 48000 / 44100) = ceil(32653.06) = 32654.
    const auto expected_frames = static_cast<std::size_t>(std::ceil(stem_frames * 48000.0 / 44100.0));
    CHECK(expected_frames == 32654);
    CHECK(static_cast<double>(out.frames()) == Approx(static_cast<double>(expected_frames)).margin(2));
    CHECK(summary.frames == out.frames());
    REQUIRE(out.frames() > 22400);

    // 14400 samples (300 periods of 1 kHz) well away from the resampler's start and end.
    const std::size_t begin = 8000, count = 14400;
    const std::vector<float>& left = out.channels[0];
    const Tone tone = tone_at(left, 1000.0, fs, begin, count);
    // 0.1 dB: the resampler's passband ripple is far smaller than that at 1 kHz.
    CHECK(db(tone.amplitude) == Approx(db(0.5)).margin(0.1));
    // Had the stem been played at the wrong rate, the sine would sit at 1088.4 Hz instead.
    CHECK(tone_at(left, 1000.0 * 48000.0 / 44100.0, fs, begin, count).amplitude < 0.01);
    // The resampler's delay is compensated: the stem's frame 0 stays at the file's frame 0
    // (within a twentieth of a sample).
    CHECK(std::fabs(tone.phase) < 0.05 * 2.0 * test::pi * 1000.0 / fs);
    // What is not the 1 kHz sine is small: the residual is 60 dB below the sine.
    double residual = 0.0;
    const double w = 2.0 * test::pi * 1000.0 / fs;
    for (std::size_t n = begin; n < begin + count; ++n) {
        const double e = left[n] - tone.amplitude * std::sin(w * static_cast<double>(n) + tone.phase);
        residual += e * e;
    }
    residual = std::sqrt(residual / static_cast<double>(count));
    CHECK(db(residual / (0.5 / std::sqrt(2.0))) < -60.0);
    CHECK(test::peak(out.channels[1].data(), 0, out.frames()) < 1e-6);  // pan -1
    REQUIRE(summary.notes.size() == 1);
    CHECK_THAT(summary.notes[0], Contains("resampled"));
}

TEST_CASE("a resampled stem cut by start_s keeps its place on the timeline", "[render][resample][timing]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, 44100.0, 30000, 0.5)}, 44100);
    const Session session = load_session(dir, "[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\npan = -1\n");
    RenderOptions o = float_wav(dir / "master.wav");
    o.start_s = 0.0101;  // 485 frames at 48 kHz
    o.length_s = 0.4;    // 19200 frames
    render(session, o);
    const test::Audio out = test::read_audio(dir / "master.wav");
    REQUIRE(out.frames() == 19200);
    // File frame n is timeline frame n + 485, where the stem's sine has phase w (n + 485).
    const double w = 2.0 * test::pi * 1000.0 / fs;
    const Tone tone = tone_at(out.channels[0], 1000.0, fs, 2400, 14400);
    CHECK(db(tone.amplitude) == Approx(db(0.5)).margin(0.1));
    const double expected_phase = std::remainder(w * 485.0, 2.0 * test::pi);
    CHECK(std::remainder(tone.phase - expected_phase, 2.0 * test::pi) == Approx(0.0).margin(0.05 * w));
}

TEST_CASE("stems in FLAC, AIFF, Ogg and integer or float WAV, mono or stereo, play at their value", "[render][formats]") {
    struct Case {
        int format;
        int channels;
        const char* name;
        const char* described;  // Stem::format
        double step;            // the stem's quantization step; negative: lossy (not compared)
    };
    const Case c = GENERATE(Case{SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, "s.wav", "WAV 16-bit", 0x1p-15},
                            Case{SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2, "s.wav", "WAV 24-bit", 0x1p-23},
                            Case{SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, "s.wav", "WAV 32-bit float", 0.0},
                            Case{SF_FORMAT_WAVEX | SF_FORMAT_PCM_24, 2, "s.wav", "WAV (extensible) 24-bit", 0x1p-23},
                            Case{SF_FORMAT_OGG | SF_FORMAT_VORBIS, 2, "s.ogg", "Ogg Vorbis", -1.0},
                            Case{SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 2, "s.flac", "FLAC 16-bit", 0x1p-15},
                            Case{SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1, "s.flac", "FLAC 24-bit", 0x1p-23},
                            Case{SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 1, "s.aiff", "AIFF 16-bit", 0x1p-15},
                            Case{SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 2, "s.aiff", "AIFF 24-bit", 0x1p-23});
    INFO(c.described << ", " << c.channels << " channel(s)");
    TempDir dir;
    const std::size_t frames = 4800;
    // Peaks of 0.25 keep libsndfile's integer conversion (it writes with 2^(N-1) - 1 and reads
    // with 2^(N-1)) within one step of the floats written.
    const std::vector<std::vector<float>> stem = {test::sine(1000.0, fs, frames, 0.25), test::sine(250.0, fs, frames, -0.2)};
    test::write_audio(dir / "stems" / c.name, std::vector<std::vector<float>>(stem.begin(), stem.begin() + c.channels), 48000,
                      c.format);
    // Mono: hard left passes the stem at unity on the left. Stereo: the centre passes both sides.
    const Session session = load_session(dir, std::string("[[track]]\nname = \"s\"\nfile = \"stems/") + c.name + "\"\n" +
                                                  (c.channels == 1 ? "pan = -1\n" : ""));
    CHECK(session.strips()[1].stem.format == c.described);
    CHECK(session.strips()[1].stem.channels == static_cast<std::uint32_t>(c.channels));
    CHECK(session.strips()[1].stem.frames == frames);
    render(session, float_wav(dir / "master.wav"));
    const test::Audio out = test::read_audio(dir / "master.wav");
    const test::Audio decoded = test::read_audio(dir / "stems" / c.name);
    REQUIRE(out.frames() == frames);
    for (int ch = 0; ch < c.channels; ++ch) {
        double from_decoded = 0.0, from_original = 0.0;
        for (std::size_t i = 0; i < frames; ++i) {
            from_decoded = std::max(from_decoded, std::fabs(double(out.channels[ch][i]) - decoded.channels[ch][i]));
            from_original = std::max(from_original, std::fabs(double(out.channels[ch][i]) - stem[ch][i]));
        }
        CHECK(from_decoded <= 1e-7);        // what libsndfile decodes, at unity
        if (c.step >= 0.0) CHECK(from_original <= c.step);  // and so the signal written, within one step
    }
    if (c.channels == 1) CHECK(test::peak(out.channels[1].data(), 0, frames) == 0.0);
}

TEST_CASE("offsets move a stem by exactly offset_ms on the timeline, and start/length cut exactly",
          "[render][timing]") {
    TempDir dir;
    // "imp" holds one impulse at frame 1000; "bed" is silent and defines the session's length.
    std::vector<float> impulse(4800, 0.0f);
    impulse[1000] = 1.0f;
    test::write_audio(dir / "stems/imp.wav", {impulse}, 48000);
    test::write_audio(dir / "stems/bed.wav", {std::vector<float>(9600, 0.0f)}, 48000);
    auto session_with_offset = [&](double offset_ms) {
        return load_session(dir, R"(
[session]
sample_rate = 48000
block_frames = 256

[[track]]
name = "bed"
file = "stems/bed.wav"

[[track]]
name = "imp"
file = "stems/imp.wav"
pan = -1
offset_ms = )" + std::to_string(offset_ms) + "\n");
    };
    auto impulse_frames = [&](const test::Audio& out) {
        CHECK(nonzero(out.channels[1]).empty());
        return nonzero(out.channels[0]);
    };

    SECTION("offset_ms") {
        const double offset_ms = GENERATE(10.0, -10.0, 0.0);
        // 10 ms at 48 kHz = 480 frames.
        const std::size_t expected = offset_ms > 0 ? 1480 : offset_ms < 0 ? 520 : 1000;
        render(session_with_offset(offset_ms), float_wav(dir / "master.wav"));
        const test::Audio out = test::read_audio(dir / "master.wav");
        CHECK(out.frames() == 9600);
        const std::vector<std::size_t> at = impulse_frames(out);
        REQUIRE(at.size() == 1);
        CHECK(at[0] == expected);
        CHECK(out.channels[0][at[0]] == Approx(1.0f).margin(1e-6));
    }
    SECTION("start_s and length_s") {
        const double offset_ms = GENERATE(0.0, 10.0);
        RenderOptions o = float_wav(dir / "master.wav");
        o.start_s = 0.0101;   // round(484.8) = 485 frames, not a block boundary
        o.length_s = 0.0333;  // round(1598.4) = 1598 frames
        const RenderSummary summary = render(session_with_offset(offset_ms), o);
        const test::Audio out = test::read_audio(dir / "master.wav");
        CHECK(out.frames() == 1598);
        CHECK(summary.frames == 1598);
        const std::vector<std::size_t> at = impulse_frames(out);
        REQUIRE(at.size() == 1);
        CHECK(at[0] == (offset_ms > 0 ? 1480u : 1000u) - 485u);
    }
}

TEST_CASE("set_override of a fader changes the rendered level by exactly that many dB", "[render][override]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 9600, 0.5)}, 48000);
    Session session = load_session(dir, R"(
[[track]]
name = "a"
file = "stems/a.wav"
pan = -1
)");
    render(session, float_wav(dir / "before.wav"));
    session.set_override("track.a.gain_db=-12");
    render(session, float_wav(dir / "after.wav"));
    // 4800 samples (100 periods) in the middle.
    const Tone before = tone_at(test::read_audio(dir / "before.wav").channels[0], 1000.0, fs, 2400, 4800);
    const Tone after = tone_at(test::read_audio(dir / "after.wav").channels[0], 1000.0, fs, 2400, 4800);
    CHECK(db(before.amplitude) == Approx(db(0.5)).margin(0.01));
    CHECK(db(after.amplitude / before.amplitude) == Approx(-12.0).margin(0.01));
}

TEST_CASE("every output format and sample format reads back as the float render, within one step",
          "[render][formats]") {
    struct Case {
        RenderOptions::Format format;
        RenderOptions::Sample sample;
        const char* name;
        int major;
        int subtype;
        double step;  // one quantization step: 2^-15 (16-bit), 2^-23 (24-bit), 0 (float)
    };
    const Case c = GENERATE(
        Case{RenderOptions::Format::wav, RenderOptions::Sample::int16, "master.wav", SF_FORMAT_WAV, SF_FORMAT_PCM_16, 0x1p-15},
        Case{RenderOptions::Format::wav, RenderOptions::Sample::int24, "master.wav", SF_FORMAT_WAV, SF_FORMAT_PCM_24, 0x1p-23},
        Case{RenderOptions::Format::wav, RenderOptions::Sample::float32, "master.wav", SF_FORMAT_WAV, SF_FORMAT_FLOAT, 0.0},
        Case{RenderOptions::Format::flac, RenderOptions::Sample::int16, "master.flac", SF_FORMAT_FLAC, SF_FORMAT_PCM_16, 0x1p-15},
        Case{RenderOptions::Format::flac, RenderOptions::Sample::int24, "master.flac", SF_FORMAT_FLAC, SF_FORMAT_PCM_24, 0x1p-23},
        Case{RenderOptions::Format::aiff, RenderOptions::Sample::int16, "master.aiff", SF_FORMAT_AIFF, SF_FORMAT_PCM_16, 0x1p-15},
        Case{RenderOptions::Format::aiff, RenderOptions::Sample::int24, "master.aiff", SF_FORMAT_AIFF, SF_FORMAT_PCM_24, 0x1p-23},
        Case{RenderOptions::Format::aiff, RenderOptions::Sample::float32, "master.aiff", SF_FORMAT_AIFF, SF_FORMAT_FLOAT, 0.0});
    INFO(c.name << ", subtype 0x" << std::hex << c.subtype);

    TempDir dir;
    // A stereo stem at 44.1 kHz in a 44.1 kHz session: a stereo track at the centre passes both
    // sides at unity (balance), so the float render is the stem itself. Integer files are
    // quantized with 2^(N-1) steps per unit, as libsndfile reads them back.
    const std::size_t frames = 11025;
    const std::vector<std::vector<float>> stem = {test::sine(441.0, 44100.0, frames, 0.25),
                                                  test::sine(1234.5, 44100.0, frames, -0.2)};
    test::write_audio(dir / "stems/st.wav", stem, 44100);
    const Session session = load_session(dir, R"(
[session]
sample_rate = 44100

[[track]]
name = "st"
file = "stems/st.wav"
)");
    render(session, float_wav(dir / "reference.wav"));
    const test::Audio reference = test::read_audio(dir / "reference.wav");
    REQUIRE(reference.frames() == frames);
    for (std::size_t ch = 0; ch < 2; ++ch)
        for (std::size_t i = 0; i < frames; ++i) REQUIRE(reference.channels[ch][i] == Approx(stem[ch][i]).margin(1e-7));

    RenderOptions o = float_wav(dir / c.name);
    o.format = c.format;
    o.sample = c.sample;
    // Without dither the error is the rounding's, at most half a step; with TPDF dither (2 steps
    // peak to peak) at most 1.5 steps.
    const bool dithered = GENERATE(false, true);
    INFO("dither: " << (dithered ? "tpdf" : "none"));
    o.dither = dithered ? RenderOptions::Dither::tpdf : RenderOptions::Dither::none;
    const RenderSummary summary = render(session, o);
    const test::Audio out = test::read_audio(dir / c.name);
    const int major = out.format & SF_FORMAT_TYPEMASK;
    if (c.major == SF_FORMAT_WAV) CHECK((major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX));
    else CHECK(major == c.major);
    CHECK((out.format & SF_FORMAT_SUBMASK) == c.subtype);
    CHECK(out.channels.size() == 2);
    CHECK(out.sample_rate == 44100);
    CHECK(out.frames() == frames);
    CHECK(summary.frames == frames);
    double largest_error = 0.0;
    for (std::size_t ch = 0; ch < 2; ++ch)
        for (std::size_t i = 0; i < frames; ++i)
            largest_error = std::max(largest_error, std::fabs(double(out.channels[ch][i]) - reference.channels[ch][i]));
    CHECK(largest_error <= (dithered ? 1.5 : 0.5) * c.step * (1 + 1e-6));
    if (c.step > 0) CHECK(largest_error > (dithered ? 0.5 : 0.0) * c.step);  // quantized (and dithered)
    CHECK(summary.dither == (c.step == 0 ? "" : dithered ? "tpdf" : "none"));
}

TEST_CASE("FLAC with 32-bit float samples is refused before anything is written", "[render][formats]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 4800, 0.5)}, 48000);
    const Session session = load_session(dir, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    RenderOptions o = float_wav(dir / "master.flac");
    o.format = RenderOptions::Format::flac;
    CHECK_THROWS_AS(render(session, o), RenderError);
    CHECK(test::folder_entries(dir.path()) == std::vector<std::string>{"session.toml", "stems"});
}

TEST_CASE("the master is written aside: a cancel or a failure never touches what stood there",
          "[render][aside]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 24000, 0.5)}, 48000);  // 94 blocks of 256
    const Session session = load_session(dir, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    const std::filesystem::path out_dir = dir / "out";
    const std::filesystem::path master = out_dir / "master.wav";
    const std::string old_bytes = "an older master, byte for byte\n";
    test::write_text(master, old_bytes);

    SECTION("a cancel midway throws, keeps the old file and leaves nothing else") {
        RenderOptions o = float_wav(master);
        int calls = 0;
        RenderProgress last;
        o.progress = [&](const RenderProgress& p) {
            last = p;
            return ++calls < 10;  // cancel at the 10th block
        };
        CHECK_THROWS_AS(render(session, o), RenderError);
        CHECK(calls == 10);
        CHECK(last.frames_done == 10 * 256);
        CHECK(last.frames_total == 24000);
        CHECK(test::read_bytes(master) == old_bytes);
        CHECK(test::folder_entries(out_dir) == std::vector<std::string>{"master.wav"});
    }
    SECTION("a finished render replaces the old file") {
        const RenderSummary summary = render(session, float_wav(master));
        CHECK(summary.output == master);
        const test::Audio out = test::read_audio(master);
        CHECK(out.frames() == 24000);
        CHECK(test::folder_entries(out_dir) == std::vector<std::string>{"master.wav"});
    }
    SECTION("a folder that does not exist: an error naming the path, nothing created") {
        const std::filesystem::path missing = dir / "no/such/folder/master.wav";
        CHECK_THROWS_WITH(render(session, float_wav(missing)), Contains(missing.string()));
        CHECK_THROWS_AS(render(session, float_wav(missing)), RenderError);
        CHECK_FALSE(std::filesystem::exists(dir / "no"));
    }
}

TEST_CASE("a start at or past the end of the stems is refused, with or without a length", "[render][timing]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 4800, 0.5)}, 48000);  // 0.1 s
    const Session session = load_session(dir, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    RenderOptions o = float_wav(dir / "master.wav");
    o.start_s = GENERATE(0.1, 0.5);
    const bool with_length = GENERATE(false, true);
    if (with_length) o.length_s = 1.0;
    INFO("start " << o.start_s << " s, " << (with_length ? "with" : "without") << " a length");
    CHECK_THROWS_AS(render(session, o), RenderOptionsError);
    CHECK_THROWS_WITH(render(session, o), Contains("nothing to render: the stems end at 0.100 s"));
    CHECK(test::folder_entries(dir.path()) == std::vector<std::string>{"session.toml", "stems"});
    o.start_s = 0.099;  // 4752 frames: 48 frames remain
    CHECK(render(session, o).frames == (with_length ? 48000u : 48u));
}

TEST_CASE("effects ring out after the stems: until silence by default, or for exactly tail_s", "[render][tail]") {
    TempDir dir;
    // A 10 ms burst at the start of a 100 ms stem, sent to a short reverb.
    std::vector<float> burst = test::sine(1000.0, fs, 4800, 0.5);
    std::fill(burst.begin() + 480, burst.end(), 0.0f);
    test::write_audio(dir / "stems/burst.wav", {burst}, 48000);
    const Session session = load_session(dir, R"(
[session]
sample_rate = 48000
block_frames = 256

[[bus]]
name = "verb"
reverb = { decay_s = 0.3, predelay_ms = 0, mix = 1 }

[[track]]
name = "burst"
file = "stems/burst.wav"
sends = [ { bus = "verb", level_db = 0 } ]
)");

    SECTION("by default, until the master is silent") {
        RenderOptions o = float_wav(dir / "master.wav");
        o.tail_s.reset();
        const RenderSummary summary = render(session, o);
        const test::Audio out = test::read_audio(dir / "master.wav");
        REQUIRE(out.frames() > 4800);
        CHECK(summary.frames == out.frames());
        CHECK(summary.tail_seconds == Approx(static_cast<double>(out.frames() - 4800) / fs));
        CHECK(summary.warnings.empty());  // not cut at max_tail_s
        // The reverb is audible after the stem ends (the dry burst ended at frame 480)...
        CHECK(db(std::max(test::peak(out.channels[0].data(), 4800, out.frames()),
                          test::peak(out.channels[1].data(), 4800, out.frames()))) > -60.0);
        // ...and has died away at the end of the file: the last 256 frames are below -80 dBFS.
        for (const auto& ch : out.channels) CHECK(db(test::peak(ch.data(), out.frames() - 256, out.frames())) < -80.0);
        // A 0.3 s RT60 falls 100 dB in 0.5 s: the file is not padded with seconds of silence.
        CHECK(out.frames() < 4800 + 48000);
    }
    SECTION("length_s without tail_s: exactly that long, the reverb cut where the length ends") {
        RenderOptions o = float_wav(dir / "master.wav");
        o.tail_s.reset();
        o.length_s = 0.2;  // past the stem's 0.1 s, and still inside the reverb's ring
        const RenderSummary summary = render(session, o);
        const test::Audio out = test::read_audio(dir / "master.wav");
        CHECK(out.frames() == 9600);
        CHECK(summary.frames == 9600);
        CHECK(db(test::peak(out.channels[0].data(), 9600 - 256, 9600)) > -80.0);  // it still rang there
        o.tail_s = 0.1;  // a tail only when asked for
        render(session, o);
        CHECK(test::read_audio(dir / "master.wav").frames() == 9600 + 4800);
    }
    SECTION("tail_s = 0.5: exactly half a second more than the stems") {
        RenderOptions o = float_wav(dir / "master.wav");
        o.tail_s = 0.5;
        const RenderSummary summary = render(session, o);
        const test::Audio out = test::read_audio(dir / "master.wav");
        CHECK(out.frames() == 4800 + 24000);
        CHECK(summary.tail_seconds == Approx(0.5));
    }
}

TEST_CASE("the summary's figures match the file and the expected strip levels", "[render][summary]") {
    const std::string detector = GENERATE(as<std::string>{}, "rms", "peak");
    INFO("detector: " << detector);
    TempDir dir;
    const std::size_t frames = 48000;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, frames, 0.5)}, 48000);
    test::write_audio(dir / "stems/b.wav", {test::sine(3000.0, fs, frames, 0.25)}, 48000);
    // The compressed track: a steady sine, 100 Hz so a fast attack catches every peak for the
    // peak detector; the RMS detector sees the sine's RMS (amplitude / sqrt 2).
    test::write_audio(dir / "stems/c.wav", {test::sine(100.0, fs, frames, 0.5)}, 48000);
    const Session session = load_session(dir, R"(
[session]
sample_rate = 48000

[[track]]
name = "a"
file = "stems/a.wav"
gain_db = -6
pan = -1

[[track]]
name = "b"
file = "stems/b.wav"
pan = 0.5

[[track]]
name = "c"
file = "stems/c.wav"
gain_db = -20
compressor = { threshold_db = -30, ratio = 4, knee_db = 6, attack_ms = 0.1, release_ms = 1000, detector = ")" +
                                                  detector + "\" }\n");
    const RenderSummary summary = render(session, float_wav(dir / "master.wav"));
    const test::Audio out = test::read_audio(dir / "master.wav");

    CHECK(summary.frames == out.frames());
    CHECK(summary.sample_rate == fs);
    CHECK(summary.seconds == Approx(static_cast<double>(out.frames()) / fs));
    CHECK(summary.clipped_samples == 0);
    // 0.01 dB: the same float samples, measured twice.
    CHECK(summary.master_peak_dbfs == Approx(db(out.peak())).margin(0.01));

    REQUIRE(summary.strips.size() == 4);
    CHECK(summary.strips[0].strip == "master");
    CHECK(summary.strips[1].strip == "track.a");
    CHECK(summary.strips[2].strip == "track.b");
    CHECK(summary.strips[3].strip == "track.c");
    CHECK(summary.strips[0].peak_dbfs == Approx(summary.master_peak_dbfs).margin(0.01));
    // A sampled 1 kHz (3 kHz) sine at 48 kHz hits its crest exactly (every 48th / 16th sample).
    // 0.1 dB leaves room for a meter that reads at float precision or per block.
    CHECK(summary.strips[1].peak_dbfs == Approx(db(0.5) - 6.0).margin(0.1));  // pan -1: all left
    CHECK(summary.strips[2].peak_dbfs == Approx(db(0.25 * std::sin(1.5 * test::pi / 4.0))).margin(0.1));  // right side
    CHECK(summary.strips[1].max_gain_reduction_db == 0.0f);
    CHECK(summary.strips[2].max_gain_reduction_db == 0.0f);

    // The static curve (docs/parameters.md) at the detected level, above the knee here:
    // x - T > W/2 -> output T + (x - T)/R, gain reduction (x - T)(1/R - 1).
    const double threshold = -30.0, ratio = 4.0, knee = 6.0;
    const double level = detector == "rms" ? db(0.5 / std::sqrt(2.0)) : db(0.5);  // the compressor precedes the fader
    REQUIRE(level - threshold > knee / 2.0);
    const double expected_reduction = (level - threshold) * (1.0 / ratio - 1.0);
    // 0.5 dB: the detector's ripple on a steady sine and the attack's approach to the target.
    CHECK(summary.strips[3].max_gain_reduction_db < 0.0f);
    CHECK(summary.strips[3].max_gain_reduction_db == Approx(expected_reduction).margin(0.5));
}

namespace {

/// A session whose every value must stand from frame 0: an impulse heard only through a 100 ms
/// delay (pre-fader send, the track's own fader at -120 dB) and a reverb with a 200 ms predelay,
/// and a music stem through a gate, a compressor with lookahead, an EQ and a delay insert.
Session exactness_session(const TempDir& dir, std::uint32_t block_frames) {
    return load_session(dir, R"(
[session]
sample_rate = 48000
block_frames = )" + std::to_string(block_frames) + R"(

[[bus]]
name = "echo"
delay = { time_ms = 100, feedback = 0, mix = 1 }

[[bus]]
name = "verb"
reverb = { predelay_ms = 200, decay_s = 1.0, size = 0.4 }

[[track]]
name = "imp"
file = "stems/imp.wav"
gain_db = -120
sends = [ { bus = "echo", level_db = 0, pre_fader = true }, { bus = "verb", level_db = -6, pre_fader = true } ]

[[track]]
name = "music"
file = "stems/music.wav"
offset_ms = 50
gain_db = -6
eq = [ { type = "highpass", freq_hz = 120, slope = 24 }, { type = "peak", freq_hz = 2000, gain_db = 3 } ]
compressor = { threshold_db = -20, ratio = 4, lookahead_ms = 2 }
inserts = [ { type = "gate", threshold_db = -40, position = "pre" }, { type = "delay", time_ms = 140, mix = 0.3 } ]
sends = [ { bus = "verb", level_db = -12 } ]
)");
}

/// How many samples of `a` and `b` differ (bit patterns), and the first that does; a.size() if none.
std::pair<std::size_t, std::size_t> differences(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    std::size_t count = 0, first = a.size();
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            first = std::min(first, i);
            ++count;
        }
    return {count, first};
}

void write_exactness_stems(const TempDir& dir) {
    test::write_audio(dir / "stems/imp.wav", {test::impulse(24000)}, 48000);
    std::mt19937 random(3);
    std::uniform_real_distribution<float> noise(-0.3f, 0.3f);
    std::vector<float> l = test::sine(330.0, 48000, 36000, 0.5), r = test::sine(440.0, 48000, 36000, 0.5);
    for (std::size_t i = 0; i < l.size(); ++i) {
        const float burst = (i / 6000) % 2 == 0 ? 1.0f : 0.05f;  // loud and quiet stretches
        l[i] = burst * (l[i] + noise(random));
        r[i] = burst * (r[i] + noise(random));
    }
    test::write_audio(dir / "stems/music.wav", {l, r}, 48000);
}

}  // namespace

TEST_CASE("every value stands at frame 0: a 100 ms echo at frame 4800, a 200 ms predelay silent until then",
          "[render][exactness]") {
    TempDir dir;
    std::vector<float> imp = test::impulse(24000);
    test::write_audio(dir / "stems/imp.wav", {imp}, 48000);
    test::write_audio(dir / "stems/music.wav", {std::vector<float>(100, 0.0f), std::vector<float>(100, 0.0f)}, 48000);
    const std::uint32_t block = GENERATE(32u, 100u, 4096u);
    INFO("blocks of " << block);
    render(exactness_session(dir, block), float_wav(dir / "master.wav"));
    const test::Audio out = test::read_audio(dir / "master.wav");
    REQUIRE(out.frames() > 9600);
    // The pre-fader send takes the centred mono track's equal-power pan: cos(pi/4) on each side.
    const float echo = std::cos(static_cast<float>(test::pi) / 4.0f);
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t i = 0; i < 9600; ++i) {
            INFO("channel " << c << ", frame " << i);
            if (i == 4800)
                REQUIRE(out.channels[c][i] == Approx(echo).epsilon(1e-6));
            else
                REQUIRE(out.channels[c][i] == 0.0f);
        }
    CHECK(test::peak(out.channels[0].data(), 9600, out.frames()) > 1e-4);  // then the reverb sounds
}

TEST_CASE("a render is the same sample for sample at any block size, and a span of it from --start",
          "[render][exactness]") {
    TempDir dir;
    write_exactness_stems(dir);
    render(exactness_session(dir, 256), float_wav(dir / "reference.wav"));
    const test::Audio reference = test::read_audio(dir / "reference.wav");
    REQUIRE(reference.frames() > 36000);
    REQUIRE(test::peak(reference.channels[0].data(), 0, reference.frames()) > 0.05);

    SECTION("block sizes") {
        for (const std::uint32_t block : {32u, 64u, 100u, 1024u, 4096u}) {
            INFO("blocks of " << block);
            render(exactness_session(dir, block), float_wav(dir / "master.wav"));
            const test::Audio out = test::read_audio(dir / "master.wav");
            REQUIRE(out.frames() == reference.frames());
            for (std::size_t c = 0; c < 2; ++c) {
                const auto [count, first] = differences(out.channels[c], reference.channels[c]);
                INFO("channel " << c << ": " << count << " samples differ, the first at frame " << first);
                CHECK(count == 0);
            }
        }
    }
    SECTION("--start T --length L is frames T to T + L of the full render") {
        RenderOptions o = float_wav(dir / "span.wav");
        o.start_s = 0.3137;  // round(15057.6) = 15058 frames: inside the reverb's and the delay's tails
        o.length_s = 0.25;   // 12000 frames
        render(exactness_session(dir, 100), o);
        const test::Audio span = test::read_audio(dir / "span.wav");
        REQUIRE(span.frames() == 12000);
        for (std::size_t c = 0; c < 2; ++c) {
            const std::vector<float> expected(reference.channels[c].begin() + 15058,
                                              reference.channels[c].begin() + 15058 + 12000);
            const auto [count, first] = differences(span.channels[c], expected);
            INFO("channel " << c << ": " << count << " samples differ, the first at frame " << first);
            CHECK(count == 0);
        }
    }
}

namespace {

/// Reads everything from the FIFO `path` on a thread of its own, until its writer closes it, or
/// gives up after 10 s without data (should no writer ever come, say the FIFO was replaced).
class FifoReader {
public:
    explicit FifoReader(const std::filesystem::path& path)
        : fd_(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)), thread_([this] {
              char buffer[65536];
              pollfd p{fd_, POLLIN, 0};
              while (fd_ >= 0 && ::poll(&p, 1, 10000) > 0) {  // Linux: no POLLHUP before a writer came
                  const ssize_t n = ::read(fd_, buffer, sizeof buffer);
                  if (n == 0) break;  // the writer closed it
                  if (n > 0) bytes_.append(buffer, static_cast<std::size_t>(n));
              }
          }) {}
    ~FifoReader() {
        if (thread_.joinable()) thread_.join();
        if (fd_ >= 0) ::close(fd_);
    }
    FifoReader(const FifoReader&) = delete;
    FifoReader& operator=(const FifoReader&) = delete;
    /// Everything read once the writer closed it.
    std::string bytes() {
        thread_.join();
        return bytes_;
    }

private:
    int fd_;
    std::string bytes_;
    std::thread thread_;
};

}  // namespace

TEST_CASE("an output that is a symbolic link replaces the file it points to, in that file's folder, and the link stays",
          "[render][aside][output]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 4800, 0.5)}, 48000);
    const Session session = load_session(dir, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    test::write_text(dir / "masters/final.wav", "an older master\n");
    std::filesystem::create_directories(dir / "out");
    std::filesystem::create_symlink("../masters/final.wav", dir / "out/link.wav");  // relative to the link's folder
    std::filesystem::create_symlink(dir / "out/link.wav", dir / "chain.wav");        // a link to the link

    render(session, float_wav(dir / "chain.wav"));
    CHECK(std::filesystem::is_symlink(std::filesystem::symlink_status(dir / "chain.wav")));
    CHECK(std::filesystem::is_symlink(std::filesystem::symlink_status(dir / "out/link.wav")));
    const test::Audio out = test::read_audio(dir / "masters/final.wav");
    CHECK(out.frames() == 4800);
    CHECK(out.peak() == Approx(0.5 * std::cos(test::pi / 4)).margin(1e-3));  // centred: -3 dB on each side
    CHECK(test::folder_entries(dir / "masters") == std::vector<std::string>{"final.wav"});  // no partial left
    CHECK(test::folder_entries(dir / "out") == std::vector<std::string>{"link.wav"});

    SECTION("a dangling link: the file it names is created") {
        std::filesystem::create_symlink("masters/new.wav", dir / "new.wav");
        render(session, float_wav(dir / "new.wav"));
        CHECK(std::filesystem::is_symlink(std::filesystem::symlink_status(dir / "new.wav")));
        CHECK(test::read_audio(dir / "masters/new.wav").frames() == 4800);
    }
}

TEST_CASE("an output that is a FIFO is written through, never replaced: the same samples as a file render",
          "[render][output]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 24000, 0.5), test::sine(300.0, fs, 24000, 0.25)}, 48000);
    const Session session = load_session(dir, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    render(session, float_wav(dir / "reference.wav"));
    const test::Audio reference = test::read_audio(dir / "reference.wav");
    REQUIRE(reference.frames() == 24000);
    REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
    const bool through_link = GENERATE(false, true);
    std::filesystem::path output = dir / "pipe";
    if (through_link) {
        std::filesystem::create_symlink("pipe", dir / "pipe.wav");
        output = dir / "pipe.wav";
    }
    INFO((through_link ? "through a symbolic link" : "the FIFO itself"));

    SECTION("WAV, 32-bit float") {
        FifoReader reader(dir / "pipe");
        const RenderSummary summary = render(session, float_wav(output));
        const std::string bytes = reader.bytes();
        CHECK(summary.frames == 24000);
        CHECK(bytes.size() == 44 + 24000 * 8);
        const test::Audio streamed = test::decode_audio(dir / "streamed.wav", bytes);
        CHECK((streamed.format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT);
        REQUIRE(streamed.frames() == 24000);
        for (std::size_t c = 0; c < 2; ++c)
            CHECK(std::memcmp(streamed.channels[c].data(), reference.channels[c].data(), 24000 * sizeof(float)) == 0);
    }
    SECTION("FLAC, 24-bit: within one step of the float render") {
        FifoReader reader(dir / "pipe");
        RenderOptions o = float_wav(output);
        o.format = RenderOptions::Format::flac;
        o.sample = RenderOptions::Sample::int24;
        o.dither = RenderOptions::Dither::none;
        render(session, o);
        const test::Audio streamed = test::decode_audio(dir / "streamed.flac", reader.bytes());
        CHECK((streamed.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC);
        REQUIRE(streamed.frames() == 24000);
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t i = 0; i < 24000; ++i) REQUIRE(std::abs(streamed.channels[c][i] - reference.channels[c][i]) <= 0x1p-23);
    }
    CHECK(std::filesystem::is_fifo(std::filesystem::status(dir / "pipe")));
    CHECK(std::filesystem::is_fifo(std::filesystem::symlink_status(dir / "pipe")));
    if (through_link) CHECK(std::filesystem::is_symlink(std::filesystem::symlink_status(dir / "pipe.wav")));
    for (const std::string& entry : test::folder_entries(dir.path())) CHECK_FALSE(entry.ends_with(".partial"));
}

TEST_CASE("AIFF cannot stream: a FIFO output in AIFF is refused and left as it was", "[render][output]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 4800, 0.5)}, 48000);
    const Session session = load_session(dir, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
    RenderOptions o = float_wav(dir / "pipe");
    o.format = RenderOptions::Format::aiff;
    CHECK_THROWS_WITH(render(session, o), Contains("cannot stream AIFF to '" + (dir / "pipe").string() + "' (a FIFO)"));
    CHECK(std::filesystem::is_fifo(std::filesystem::symlink_status(dir / "pipe")));
}

TEST_CASE("the session file and the stems are refused as outputs, also through a link, and stay as they were",
          "[render][output]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 4800, 0.5)}, 48000);
    const Session session = load_session(dir, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    const std::string session_bytes = test::read_bytes(dir / "session.toml");
    const std::string stem_bytes = test::read_bytes(dir / "stems/a.wav");
    std::filesystem::create_symlink("stems/a.wav", dir / "link.wav");
    CHECK_THROWS_WITH(render(session, float_wav(dir / "session.toml")),
                      Contains("'" + (dir / "session.toml").string() + "' is the session file"));
    CHECK_THROWS_WITH(render(session, float_wav(dir / "stems/../stems/a.wav")), Contains("is the stem of track 'a'"));
    CHECK_THROWS_WITH(render(session, float_wav(dir / "link.wav")), Contains("is the stem of track 'a'"));
    CHECK_THROWS_AS(render(session, float_wav(dir / "link.wav")), RenderOptionsError);
    CHECK(test::read_bytes(dir / "session.toml") == session_bytes);
    CHECK(test::read_bytes(dir / "stems/a.wav") == stem_bytes);
    CHECK(test::folder_entries(dir / "stems") == std::vector<std::string>{"a.wav"});
}

TEST_CASE("an output that is a link to an open descriptor (/dev/stderr's kind) is written through that file",
          "[render][output]") {
    TempDir dir;
    test::write_audio(dir / "stems/a.wav", {test::sine(1000.0, fs, 4800, 0.5)}, 48000);
    const Session session = load_session(dir, "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    const int fd = ::open((dir / "redirected.wav").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    struct stat before {};
    REQUIRE(::fstat(fd, &before) == 0);
    std::filesystem::create_symlink("/proc/self/fd/" + std::to_string(fd), dir / "fd.wav");
    render(session, float_wav(dir / "fd.wav"));
    ::close(fd);
    struct stat after {};
    REQUIRE(::stat((dir / "redirected.wav").c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);  // the same file, written through, not replaced
    CHECK(test::read_audio(dir / "redirected.wav").frames() == 4800);  // its header's lengths filled in
    CHECK(std::filesystem::is_symlink(std::filesystem::symlink_status(dir / "fd.wav")));
}
