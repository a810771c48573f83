// Loudness measurement against the EBU test definitions, synthesized here at 48 kHz: EBU Tech
// 3341 (momentary, short-term and integrated loudness, gating, true peak) and Tech 3342
// (loudness range), through rtmix::LoudnessMeter, through rtmix::analyze_file on real files
// written with libsndfile, and through `rtmix analyze` run as a process (text, JSON, exit codes,
// the plot and its writing aside).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "files.hpp"
#include "run_rtmix.hpp"
#include "rtmix/loudness.hpp"
#include "signals.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using test::Result;
using test::run_rtmix;
using test::TempDir;

namespace {

constexpr double fs = 48000.0;
constexpr double minus_infinity = -std::numeric_limits<double>::infinity();

/// A stretch of a test signal: a sine of peak level `dbfs` (per channel) lasting `seconds`.
struct Segment {
    double dbfs;
    double seconds;
};

/// A sine of `period` samples (48: 1 kHz at 48 kHz), starting at `phase_deg`, through the
/// segments one after the other with no break in its phase.
std::vector<float> sine_segments(const std::vector<Segment>& segments, unsigned period = 48, double phase_deg = 0.0) {
    std::vector<double> cycle(period);
    for (unsigned i = 0; i < period; ++i)
        cycle[i] = std::sin(2.0 * test::pi * i / period + phase_deg * test::pi / 180.0);
    std::vector<float> x;
    double total = 0;
    for (const Segment& s : segments) total += s.seconds;
    x.reserve(static_cast<std::size_t>(std::lround(total * fs)) + segments.size());
    for (const Segment& s : segments) {
        const double amplitude = std::pow(10.0, s.dbfs / 20.0);
        const auto frames = static_cast<std::size_t>(std::lround(s.seconds * fs));
        for (std::size_t i = 0; i < frames; ++i) x.push_back(static_cast<float>(amplitude * cycle[x.size() % period]));
    }
    return x;
}

/// `x` with raised-cosine fades of `seconds` at both ends. A tone switched on or off at once rings
/// past its amplitude once interpolated (the band-limited step overshoots, by 0.6 dB for fs/8 at
/// 0.5 FS switched on at 67.5 degrees), which the true-peak test signals are not about.
std::vector<float> faded(std::vector<float> x, double seconds = 0.02) {
    const auto n = std::min(static_cast<std::size_t>(seconds * fs), x.size() / 2);
    for (std::size_t i = 0; i < n; ++i) {
        const auto g = static_cast<float>(0.5 - 0.5 * std::cos(test::pi * static_cast<double>(i) / static_cast<double>(n)));
        x[i] *= g;
        x[x.size() - 1 - i] *= g;
    }
    return x;
}

/// The same signal on both channels, as the EBU's stereo test signals are.
std::vector<std::vector<float>> stereo(const std::vector<float>& x) { return {x, x}; }

/// A meter fed `channels` in blocks of `block` frames (odd by default, so blocks straddle the
/// 100 ms steps).
LoudnessMeter measure(const std::vector<std::vector<float>>& channels, bool keep_curve = false, std::size_t block = 1021) {
    LoudnessMeter meter(fs, static_cast<unsigned>(channels.size()), keep_curve);
    const std::size_t frames = channels.front().size();
    std::vector<const float*> ptrs(channels.size());
    for (std::size_t done = 0; done < frames;) {
        const std::size_t n = std::min(block, frames - done);
        for (std::size_t c = 0; c < channels.size(); ++c) ptrs[c] = channels[c].data() + done;
        meter.add(ptrs.data(), n);
        done += n;
    }
    return meter;
}

Loudness loudness_of(const std::vector<std::vector<float>>& channels) { return measure(channels).result(); }

/// Tech 3341's true-peak tolerance: +0.2 / -0.4 dB around the expected level.
void check_true_peak(double measured, double expected) {
    INFO("true peak " << measured << " dBTP, expected " << expected << " (+0.2/-0.4)");
    CHECK(measured <= expected + 0.2);
    CHECK(measured >= expected - 0.4);
}

/// The lowest and highest curve values from `from_s` seconds on (entry k ends at (k + 1) / 10 s).
std::pair<float, float> curve_range(const std::vector<float>& curve, double from_s) {
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (std::size_t k = 0; k < curve.size(); ++k)
        if (static_cast<double>(k + 1) * LoudnessMeter::curve_step_s >= from_s - 1e-9) {
            lo = std::min(lo, curve[k]);
            hi = std::max(hi, curve[k]);
        }
    return {lo, hi};
}

// --- The rtmix program ----------------------------------------------------------------------------

/// The value of "key": in the JSON object of `json` whose "path" is `path`; NaN for null.
double json_value(const std::string& json, const std::string& path, const std::string& key) {
    const std::size_t object = json.find("\"path\": \"" + path + "\"");
    REQUIRE(object != std::string::npos);
    const std::size_t end = json.find('}', object);
    const std::size_t at = json.find("\"" + key + "\": ", object);
    INFO("no " << key << " for " << path << " in:\n" << json);
    REQUIRE(at < end);
    const char* value = json.c_str() + at + key.size() + 4;
    if (std::string_view(value, 4) == "null") return std::numeric_limits<double>::quiet_NaN();
    char* stop = nullptr;
    const double v = std::strtod(value, &stop);
    REQUIRE(stop != value);
    return v;
}

}  // namespace

// --- EBU Tech 3341: loudness ----------------------------------------------------------------------

TEST_CASE("Tech 3341 cases 1 and 2: a 1 kHz stereo sine reads its peak level in M, S and I", "[loudness][tech3341]") {
    const double level = GENERATE(-23.0, -33.0);
    CAPTURE(level);
    const LoudnessMeter meter = measure(stereo(sine_segments({{level, 20.0}})), true);
    const Loudness l = meter.result();
    CHECK(l.integrated_lufs == Approx(level).margin(0.1));
    CHECK(l.max_momentary_lufs == Approx(level).margin(0.1));
    CHECK(l.max_short_term_lufs == Approx(level).margin(0.1));
    CHECK(l.range_lu == Approx(0.0).margin(0.1));
    // Every reading once its window is full of signal: momentary after 400 ms, short-term after 3 s.
    const auto [m_lo, m_hi] = curve_range(meter.momentary_curve(), 0.4);
    const auto [s_lo, s_hi] = curve_range(meter.short_term_curve(), 3.0);
    CHECK(m_lo == Approx(level).margin(0.1));
    CHECK(m_hi == Approx(level).margin(0.1));
    CHECK(s_lo == Approx(level).margin(0.1));
    CHECK(s_hi == Approx(level).margin(0.1));
    // A 1 kHz sine sampled at 48 kHz hits its crest: sample and true peak are its level.
    CHECK(l.sample_peak_dbfs == Approx(level).margin(0.01));
    check_true_peak(l.true_peak_dbtp, level);
}

TEST_CASE("Tech 3341 cases 3 to 5: the absolute and relative gates keep quiet parts out of I", "[loudness][tech3341]") {
    SECTION("case 3: -36, -23, -36 dBFS for 10, 60, 10 s (relative gate)") {
        CHECK(loudness_of(stereo(sine_segments({{-36, 10}, {-23, 60}, {-36, 10}}))).integrated_lufs ==
              Approx(-23.0).margin(0.1));
    }
    SECTION("case 4: -72, -36, -23, -36, -72 dBFS for 10, 10, 60, 10, 10 s (both gates)") {
        CHECK(loudness_of(stereo(sine_segments({{-72, 10}, {-36, 10}, {-23, 60}, {-36, 10}, {-72, 10}}))).integrated_lufs ==
              Approx(-23.0).margin(0.1));
    }
    SECTION("case 5: -26, -20, -26 dBFS for 20, 20.1, 20 s (nothing gated: the power average)") {
        CHECK(loudness_of(stereo(sine_segments({{-26, 20}, {-20, 20.1}, {-26, 20}}))).integrated_lufs ==
              Approx(-23.0).margin(0.1));
    }
}

TEST_CASE("Tech 3341 case 6: five and six channels weighted as BS.1770-4 says", "[loudness][tech3341][channels]") {
    // L and R at -28 dBFS, C at -24 dBFS, Ls and Rs at -30 dBFS (+1.5 dB weight each): -23 LUFS.
    const std::vector<float> front = sine_segments({{-28, 20}}), centre = sine_segments({{-24, 20}}),
                             surround = sine_segments({{-30, 20}}), silence(front.size(), 0.0f);
    SECTION("5.0: L, R, C, Ls, Rs") {
        CHECK(loudness_of({front, front, centre, surround, surround}).integrated_lufs == Approx(-23.0).margin(0.1));
    }
    SECTION("5.1: L, R, C, LFE, Ls, Rs with a silent LFE") {
        CHECK(loudness_of({front, front, centre, silence, surround, surround}).integrated_lufs ==
              Approx(-23.0).margin(0.1));
    }
    SECTION("5.1: the LFE channel is not counted, however loud") {
        const std::vector<float> lfe = sine_segments({{0, 20}});
        CHECK(loudness_of({front, front, centre, lfe, surround, surround}).integrated_lufs == Approx(-23.0).margin(0.1));
    }
}

TEST_CASE("channels are weighted by their count: surrounds +1.5 dB, LFE not counted, extras 0 dB", "[loudness][channels]") {
    // One channel carrying a -23 dBFS sine, the others silent: weight 1 gives -26.0 LUFS (as one
    // side of a stereo pair), the surround weight 1.41 gives -24.5, the LFE -inf.
    const std::vector<float> tone = sine_segments({{-23, 3}}), silence(tone.size(), 0.0f);
    auto alone = [&](unsigned channels, unsigned at) {
        std::vector<std::vector<float>> x(channels, silence);
        x[at] = tone;
        return loudness_of(x).integrated_lufs;
    };
    const double front = -23.0 - 10.0 * std::log10(2.0), surround = front + 10.0 * std::log10(1.41);
    CHECK(alone(3, 2) == Approx(front).margin(0.05));     // L R C
    CHECK(alone(4, 3) == Approx(surround).margin(0.05));  // L R Ls Rs
    CHECK(alone(5, 4) == Approx(surround).margin(0.05));  // L R C Ls Rs
    CHECK(alone(6, 3) == minus_infinity);                 // L R C LFE Ls Rs
    CHECK(alone(6, 5) == Approx(surround).margin(0.05));
    CHECK(alone(8, 7) == Approx(front).margin(0.05));     // beyond 5.1: weight 1
}

TEST_CASE("Tech 3341 case 9: short-term loudness is constant at -23 after 3 s", "[loudness][tech3341]") {
    // 20 times 1.34 s at -20 dBFS and 1.66 s at -30 dBFS: every 3 s window holds one of each.
    std::vector<Segment> segments;
    for (int i = 0; i < 20; ++i) segments.insert(segments.end(), {{-20, 1.34}, {-30, 1.66}});
    const LoudnessMeter meter = measure(stereo(sine_segments(segments)), true);
    const auto [lo, hi] = curve_range(meter.short_term_curve(), 3.0);
    CHECK(lo == Approx(-23.0).margin(0.1));
    CHECK(hi == Approx(-23.0).margin(0.1));
    CHECK(meter.result().max_short_term_lufs == Approx(-23.0).margin(0.1));
}

TEST_CASE("Tech 3341 case 12: momentary loudness is constant at -23 after 1 s", "[loudness][tech3341]") {
    // 0.18 s at -20 dBFS and 0.22 s at -30 dBFS, repeated: every 400 ms window holds one of each.
    std::vector<Segment> segments;
    for (int i = 0; i < 50; ++i) segments.insert(segments.end(), {{-20, 0.18}, {-30, 0.22}});
    const LoudnessMeter meter = measure(stereo(sine_segments(segments)), true);
    const auto [lo, hi] = curve_range(meter.momentary_curve(), 1.0);
    CHECK(lo == Approx(-23.0).margin(0.1));
    CHECK(hi == Approx(-23.0).margin(0.1));
}

// --- EBU Tech 3341: true peak ---------------------------------------------------------------------

TEST_CASE("Tech 3341 cases 15 to 19: true peak between the samples, within +0.2/-0.4 dB", "[loudness][tech3341][true-peak]") {
    struct Case {
        const char* name;
        unsigned period;  // samples: fs/4, fs/6, fs/8
        double amplitude, phase_deg, expected_dbtp;
    };
    const Case c = GENERATE(Case{"15: fs/4 at 0.50 FS, 0 degrees", 4, 0.5, 0.0, -6.0},
                            Case{"16: fs/4 at 0.50 FS, 45 degrees", 4, 0.5, 45.0, -6.0},
                            Case{"17: fs/6 at 0.50 FS, 60 degrees", 6, 0.5, 60.0, -6.0},
                            Case{"18: fs/8 at 0.50 FS, 67.5 degrees", 8, 0.5, 67.5, -6.0},
                            Case{"19: fs/4 at 1.41 FS, 45 degrees", 4, 1.41, 45.0, 3.0});
    CAPTURE(c.name);
    const std::vector<float> x = faded(sine_segments({{test::to_db(c.amplitude), 1.0}}, c.period, c.phase_deg));
    const Loudness l = loudness_of(stereo(x));
    check_true_peak(l.true_peak_dbtp, c.expected_dbtp);
    // The samples themselves miss the crest by the phase: |sin| at the nearest sample.
    double nearest = 0;
    for (unsigned i = 0; i < c.period; ++i)
        nearest = std::max(nearest, std::fabs(std::sin(2.0 * test::pi * i / c.period + c.phase_deg * test::pi / 180.0)));
    CHECK(l.sample_peak_dbfs == Approx(test::to_db(c.amplitude * nearest)).margin(0.01));
}

// --- EBU Tech 3342: loudness range ----------------------------------------------------------------

TEST_CASE("Tech 3342 cases 1 to 4: loudness range of 1 kHz sine steps, 20 s each, within 1 LU",
          "[loudness][tech3342]") {
    struct Case {
        std::vector<double> levels;
        double expected_lu;
    };
    const Case c = GENERATE(Case{{-20, -30}, 10.0}, Case{{-20, -15}, 5.0}, Case{{-40, -20}, 20.0},
                            Case{{-50, -35, -20, -35, -50}, 15.0});
    std::vector<Segment> segments;
    for (const double level : c.levels) segments.push_back({level, 20.0});
    const double lra = loudness_of(stereo(sine_segments(segments))).range_lu;
    CAPTURE(c.levels, c.expected_lu);
    CHECK(lra == Approx(c.expected_lu).margin(1.0));
}

// --- Conventions: mono, silence, curves, the meter itself -----------------------------------------

TEST_CASE("a mono file is measured as dual mono: as the stereo file with it on both sides", "[loudness][channels]") {
    const std::vector<float> x = sine_segments({{-23, 5}});
    const Loudness mono = loudness_of({x}), both = loudness_of(stereo(x));
    CHECK(mono.integrated_lufs == Approx(-23.0).margin(0.1));
    CHECK(mono.integrated_lufs == Approx(both.integrated_lufs).margin(1e-9));
    CHECK(mono.max_momentary_lufs == Approx(both.max_momentary_lufs).margin(1e-9));
    CHECK(mono.true_peak_dbtp == Approx(both.true_peak_dbtp).margin(1e-9));
    // One channel of the stereo pair alone is 3 dB quieter than the pair.
    const std::vector<float> silence(x.size(), 0.0f);
    CHECK(loudness_of({x, silence}).integrated_lufs == Approx(-23.0 - 3.01).margin(0.1));
}

TEST_CASE("silence measures -inf loudness and peaks, a range of 0, and curves at the floor", "[loudness]") {
    const std::vector<float> silence(static_cast<std::size_t>(5 * fs), 0.0f);
    const LoudnessMeter meter = measure(stereo(silence), true);
    const Loudness l = meter.result();
    CHECK(l.integrated_lufs == minus_infinity);
    CHECK(l.range_lu == 0.0);
    CHECK(l.true_peak_dbtp == minus_infinity);
    CHECK(l.sample_peak_dbfs == minus_infinity);
    CHECK(l.max_momentary_lufs == minus_infinity);
    CHECK(l.max_short_term_lufs == minus_infinity);
    REQUIRE(meter.momentary_curve().size() == 50);
    for (const float v : meter.momentary_curve()) CHECK(v == LoudnessMeter::curve_floor_lufs);
    for (const float v : meter.short_term_curve()) CHECK(v == LoudnessMeter::curve_floor_lufs);

    // Nothing added at all: the same.
    const LoudnessMeter empty(fs, 2, true);
    CHECK(empty.result().integrated_lufs == minus_infinity);
    CHECK(empty.result().max_momentary_lufs == minus_infinity);
    CHECK(empty.momentary_curve().empty());
}

TEST_CASE("the curves hold one reading per 100 ms, and a steady sine's momentary reading is its I", "[loudness][curve]") {
    SECTION("48 kHz: 20.05 s gives 200 readings, the last half step only counts towards the maxima") {
        const LoudnessMeter meter = measure(stereo(sine_segments({{-23, 20.05}})), true);
        REQUIRE(meter.momentary_curve().size() == 200);
        REQUIRE(meter.short_term_curve().size() == 200);
        const double integrated = meter.result().integrated_lufs;
        for (std::size_t k = 3; k < 200; ++k) {  // windows full from 400 ms on: entries 3 onwards
            INFO("reading " << k);
            REQUIRE(meter.momentary_curve()[k] == Approx(integrated).margin(0.01));
        }
        // The first readings reach back before the start, where there was silence.
        CHECK(meter.momentary_curve()[0] < integrated - 5.0);
        CHECK(meter.short_term_curve()[9] < integrated - 3.0);
        CHECK(meter.short_term_curve()[29] == Approx(integrated).margin(0.01));
    }
    SECTION("44.1 kHz: readings every 4410 frames") {
        LoudnessMeter meter(44100.0, 1, true);
        const std::vector<float> x = test::sine(1000.0, 44100.0, 44100 * 3 + 4409, std::pow(10.0, -20.0 / 20.0));
        const float* ptr = x.data();
        meter.add(&ptr, x.size());
        CHECK(meter.momentary_curve().size() == 30);
        CHECK(meter.frames() == x.size());
        CHECK(meter.momentary_curve().back() == Approx(-20.0).margin(0.1));
    }
    SECTION("without keep_curve the curves stay empty but the maxima are kept") {
        const LoudnessMeter meter = measure(stereo(sine_segments({{-23, 2}})), false);
        CHECK(meter.momentary_curve().empty());
        CHECK(meter.result().max_momentary_lufs == Approx(-23.0).margin(0.1));
    }
}

TEST_CASE("the figures do not depend on how the input is split into blocks", "[loudness]") {
    std::vector<Segment> segments{{-30, 0.7}, {-18, 1.3}, {-40, 1.05}};
    const std::vector<std::vector<float>> x = stereo(sine_segments(segments));
    const LoudnessMeter whole = measure(x, true, x[0].size());
    const Loudness reference = whole.result();
    const std::size_t block = GENERATE(1, 37, 4800, 4801);
    CAPTURE(block);
    const LoudnessMeter split = measure(x, true, block);
    const Loudness l = split.result();
    CHECK(l.integrated_lufs == reference.integrated_lufs);
    CHECK(l.range_lu == reference.range_lu);
    CHECK(l.true_peak_dbtp == reference.true_peak_dbtp);
    CHECK(l.max_momentary_lufs == reference.max_momentary_lufs);
    CHECK(l.max_short_term_lufs == reference.max_short_term_lufs);
    CHECK(split.momentary_curve() == whole.momentary_curve());
    CHECK(split.short_term_curve() == whole.short_term_curve());
}

TEST_CASE("a meter refuses what it cannot measure, and moves", "[loudness]") {
    CHECK_THROWS_AS(LoudnessMeter(48000.0, 0), std::invalid_argument);
    CHECK_THROWS_AS(LoudnessMeter(48000.0, 65), std::invalid_argument);
    CHECK_THROWS_AS(LoudnessMeter(0.0, 2), std::invalid_argument);
    CHECK_THROWS_AS(LoudnessMeter(std::nan(""), 2), std::invalid_argument);

    const std::vector<float> x = sine_segments({{-23, 1}});
    LoudnessMeter first(fs, 1, true);
    const float* ptr = x.data();
    first.add(&ptr, x.size());
    LoudnessMeter moved(std::move(first));
    moved.add(&ptr, x.size());  // goes on where it was
    CHECK(moved.frames() == 2 * x.size());
    CHECK(moved.momentary_curve().size() == 20);
    CHECK(moved.result().integrated_lufs == Approx(-23.0).margin(0.1));
}

// --- analyze_file: real files ---------------------------------------------------------------------

TEST_CASE("analyze_file measures WAV, FLAC and AIFF files, float and integer, as the meter does", "[loudness][files]") {
    TempDir dir;
    SECTION("Tech 3341 case 1 in a float WAV: exactly the meter's figures") {
        const auto x = stereo(sine_segments({{-23, 20}}));
        test::write_audio(dir / "case1.wav", x, 48000);
        const FileLoudness f = analyze_file((dir / "case1.wav").string());
        const LoudnessMeter meter = measure(x, true);
        CHECK(f.path == (dir / "case1.wav").string());
        CHECK(f.sample_rate == 48000);
        CHECK(f.channels == 2);
        CHECK(f.frames == 960000);
        CHECK(f.loudness.integrated_lufs == meter.result().integrated_lufs);
        CHECK(f.loudness.max_momentary_lufs == meter.result().max_momentary_lufs);
        CHECK(f.loudness.true_peak_dbtp == meter.result().true_peak_dbtp);
        CHECK(f.momentary == meter.momentary_curve());
        CHECK(f.short_term == meter.short_term_curve());
        CHECK(f.loudness.integrated_lufs == Approx(-23.0).margin(0.1));
    }
    SECTION("Tech 3341 case 3 (gating) in a 24-bit WAV") {
        test::write_audio(dir / "case3.wav", stereo(sine_segments({{-36, 10}, {-23, 60}, {-36, 10}})), 48000,
                          SF_FORMAT_WAV | SF_FORMAT_PCM_24);
        const FileLoudness f = analyze_file((dir / "case3.wav").string());
        CHECK(f.frames == 80 * 48000);
        CHECK(f.loudness.integrated_lufs == Approx(-23.0).margin(0.1));
    }
    SECTION("Tech 3341 case 19 (+3 dBTP, samples just below full scale) in a 24-bit WAV") {
        test::write_audio(dir / "case19.wav", stereo(faded(sine_segments({{test::to_db(1.41), 1.0}}, 4, 45.0))), 48000,
                          SF_FORMAT_WAV | SF_FORMAT_PCM_24);
        const FileLoudness f = analyze_file((dir / "case19.wav").string());
        check_true_peak(f.loudness.true_peak_dbtp, 3.0);
        CHECK(f.loudness.sample_peak_dbfs == Approx(test::to_db(1.41 * std::sqrt(0.5))).margin(0.01));
    }
    SECTION("Tech 3341 case 2 in a 16-bit FLAC") {
        test::write_audio(dir / "case2.flac", stereo(sine_segments({{-33, 20}})), 48000, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
        const FileLoudness f = analyze_file((dir / "case2.flac").string());
        CHECK(f.loudness.integrated_lufs == Approx(-33.0).margin(0.1));
        CHECK(f.loudness.max_short_term_lufs == Approx(-33.0).margin(0.1));
    }
    SECTION("Tech 3342 case 1 (-20 then -30 dBFS) in a 24-bit FLAC") {
        test::write_audio(dir / "lra1.flac", stereo(sine_segments({{-20, 20}, {-30, 20}})), 48000,
                          SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
        CHECK(analyze_file((dir / "lra1.flac").string()).loudness.range_lu == Approx(10.0).margin(1.0));
    }
    SECTION("Tech 3341 case 6 (5.0) in a 16-bit AIFF, and a mono WAV") {
        const std::vector<float> front = sine_segments({{-28, 20}}), centre = sine_segments({{-24, 20}}),
                                 surround = sine_segments({{-30, 20}});
        test::write_audio(dir / "case6.aiff", {front, front, centre, surround, surround}, 48000,
                          SF_FORMAT_AIFF | SF_FORMAT_PCM_16);
        const FileLoudness five = analyze_file((dir / "case6.aiff").string());
        CHECK(five.channels == 5);
        CHECK(five.loudness.integrated_lufs == Approx(-23.0).margin(0.1));
        test::write_audio(dir / "mono.wav", {sine_segments({{-23, 5}})}, 48000);
        CHECK(analyze_file((dir / "mono.wav").string()).loudness.integrated_lufs == Approx(-23.0).margin(0.1));
    }
}

TEST_CASE("analyze_file throws LoudnessError naming the path of what it cannot read", "[loudness][files]") {
    TempDir dir;
    const std::string missing = (dir / "missing.wav").string(), text = (dir / "notes.wav").string(),
                      folder = dir.path().string();
    test::write_text(text, "not audio at all\n");
    CHECK_THROWS_WITH(analyze_file(missing), Contains(missing) && Contains("not found"));
    CHECK_THROWS_WITH(analyze_file(text), Contains(text));
    CHECK_THROWS_WITH(analyze_file(folder), Contains(folder) && Contains("folder"));
    CHECK_THROWS_AS(analyze_file(missing), LoudnessError);
}

// --- rtmix analyze --------------------------------------------------------------------------------

TEST_CASE("rtmix analyze prints each file's figures as text, and --json as an array", "[loudness][cli]") {
    TempDir dir;
    const std::string a = (dir / "a.wav").string(), quiet = (dir / "quiet.wav").string();
    test::write_audio(a, stereo(sine_segments({{-23, 20}})), 48000);
    test::write_audio(quiet, stereo(std::vector<float>(48000, 0.0f)), 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);

    SECTION("--json: one object per file, in order, -inf as null") {
        const Result r = run_rtmix(dir, {"analyze", a, quiet, "--json"});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK_THAT(r.out, StartsWith("[\n  {") && Catch::Matchers::EndsWith("}\n]\n"));
        CHECK(r.out.find(a) < r.out.find(quiet));
        CHECK(json_value(r.out, a, "integrated_lufs") == Approx(-23.0).margin(0.1));
        CHECK(json_value(r.out, a, "max_momentary_lufs") == Approx(-23.0).margin(0.1));
        CHECK(json_value(r.out, a, "max_short_term_lufs") == Approx(-23.0).margin(0.1));
        CHECK(json_value(r.out, a, "true_peak_dbtp") == Approx(-23.0).margin(0.2));
        CHECK(json_value(r.out, a, "sample_peak_dbfs") == Approx(-23.0).margin(0.01));
        CHECK(json_value(r.out, a, "range_lu") == Approx(0.0).margin(0.1));
        CHECK(json_value(r.out, a, "sample_rate") == 48000);
        CHECK(json_value(r.out, a, "channels") == 2);
        CHECK(json_value(r.out, a, "frames") == 960000);
        CHECK(json_value(r.out, a, "seconds") == Approx(20.0));
        CHECK(std::isnan(json_value(r.out, quiet, "integrated_lufs")));
        CHECK(std::isnan(json_value(r.out, quiet, "true_peak_dbtp")));
        CHECK(json_value(r.out, quiet, "range_lu") == 0.0);
    }
    SECTION("text: the path, the format and the six figures, -inf for silence") {
        const Result r = run_rtmix(dir, {"analyze", a, quiet});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK_THAT(r.out, StartsWith(a + "  (48000 Hz, stereo, 0:20.0)\n"));
        CHECK_THAT(r.out, Contains("  integrated        -23.0 LUFS\n") && Contains("  loudness range      0.0 LU\n") &&
                              Contains("  true peak         -23.0 dBTP\n") && Contains("  sample peak       -23.0 dBFS\n") &&
                              Contains("  max momentary     -23.0 LUFS\n") && Contains("  max short-term    -23.0 LUFS\n"));
        CHECK_THAT(r.out, Contains("\n\n" + quiet + "  (48000 Hz, stereo, 0:01.0)\n") &&
                              Contains("  integrated         -inf LUFS\n") && Contains("  true peak          -inf dBTP\n"));
    }
}

TEST_CASE("rtmix analyze exits 1 naming a file it cannot read, and still reports the others", "[loudness][cli]") {
    TempDir dir;
    const std::string a = (dir / "a.wav").string(), missing = (dir / "missing.wav").string(),
                      b = (dir / "b.flac").string();
    test::write_audio(a, stereo(sine_segments({{-23, 3}})), 48000);
    test::write_audio(b, {sine_segments({{-33, 3}})}, 48000, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);

    SECTION("text") {
        const Result r = run_rtmix(dir, {"analyze", a, missing, b});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Contains(missing));
        CHECK_THAT(r.out, Contains(a + "  (") && Contains(b + "  (48000 Hz, mono, 0:03.0)"));
        CHECK(r.out.find(missing) == std::string::npos);
    }
    SECTION("--json: the unreadable file holds an error") {
        const Result r = run_rtmix(dir, {"analyze", a, missing, b, "--json"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Contains(missing));
        CHECK_THAT(r.out, Contains("\"path\": \"" + missing + "\",\n    \"error\": \"audio file not found"));
        CHECK(json_value(r.out, b, "integrated_lufs") == Approx(-33.0).margin(0.1));
        CHECK(json_value(r.out, a, "integrated_lufs") == Approx(-23.0).margin(0.1));
    }
}

TEST_CASE("rtmix analyze exits 2 on a usage mistake and writes nothing", "[loudness][cli]") {
    TempDir dir;
    const std::string a = (dir / "a.wav").string();
    test::write_audio(a, stereo(sine_segments({{-23, 1}})), 48000);
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    // FILE stands for a readable audio file.
    const Case c = GENERATE(Case{{"analyze"}, "at least one audio file"},
                            Case{{"analyze", "--json"}, "at least one audio file"},
                            Case{{"analyze", "FILE", "--frob"}, "unknown option '--frob'"},
                            Case{{"analyze", "FILE", "--plot"}, "--plot needs a file name"},
                            Case{{"analyze", "FILE", "--plot", "plot.pdf"}, "--plot 'plot.pdf': the name must end in .png or .svg"},
                            Case{{"analyze", "FILE", "--plot", "plot"}, "must end in .png or .svg"});
    CAPTURE(c.args);
    std::vector<std::string> args = c.args;
    for (std::string& arg : args)
        if (arg == "FILE") arg = a;
    const Result r = run_rtmix(dir, args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(c.says));
    CHECK(r.out.empty());
    CHECK(test::folder_entries(dir.path()) == std::vector<std::string>{"a.wav", "io"});
}

TEST_CASE("rtmix analyze --help prints its usage and exits 0", "[loudness][cli]") {
    TempDir dir;
    const Result r = run_rtmix(dir, {"analyze", "--help"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, StartsWith("usage: rtmix analyze FILE...") && Contains("--plot OUT.png|OUT.svg"));
}

TEST_CASE("rtmix analyze --plot writes a PNG or an SVG, one panel per file", "[loudness][cli][plot]") {
    TempDir dir;
    const std::string a = (dir / "a.wav").string(), b = (dir / "b.wav").string();
    test::write_audio(a, stereo(sine_segments({{-36, 3}, {-23, 6}, {-36, 3}})), 48000);
    test::write_audio(b, {sine_segments({{-20, 2}, {-30, 2}})}, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_24);

    SECTION("PNG") {
        const std::string plot = (dir / "loudness.png").string();
        const Result r = run_rtmix(dir, {"analyze", a, b, "--plot", plot});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        const std::string bytes = test::read_bytes(plot);
        REQUIRE(bytes.size() > 24);
        CHECK_THAT(bytes, StartsWith("\x89PNG\r\n\x1a\n"));
        // The header's size: 960 wide, two stacked panels of 300.
        auto be32 = [&](std::size_t at) {
            return (static_cast<unsigned>(static_cast<unsigned char>(bytes[at])) << 24) |
                   (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
                   (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
                   static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 3]));
        };
        CHECK(be32(16) == 960);
        CHECK(be32(20) == 600);
    }
    SECTION("SVG, with an upper-case extension") {
        const std::string plot = (dir / "loudness.SVG").string();
        const Result r = run_rtmix(dir, {"analyze", a, "--plot", plot, "--json"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.out, StartsWith("["));
        CHECK_THAT(test::read_bytes(plot), Contains("<svg"));
    }
    // Written aside and renamed: no temporary file is left behind.
    for (const std::string& name : test::folder_entries(dir.path())) CHECK_THAT(name, !StartsWith("."));
}

TEST_CASE("a plot that fails leaves what stood at its destination untouched", "[loudness][cli][plot]") {
    TempDir dir;
    const std::string a = (dir / "a.wav").string();
    test::write_audio(a, stereo(sine_segments({{-23, 4}})), 48000);
    const std::string before = "an older plot, kept as it was\n";

    SECTION("the disk fills up while the plot is written") {
        std::filesystem::create_directories(dir / "plots");
        const std::string plot = (dir / "plots/loudness.png").string();
        test::write_text(plot, before);
        const Result r = run_rtmix(dir, {"analyze", a, "--plot", plot}, 4096);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Contains(plot));
        CHECK_THAT(r.out, Contains("-23.0 LUFS"));  // the figures are still printed
        CHECK(test::read_bytes(plot) == before);
        CHECK(test::folder_entries(dir / "plots") == std::vector<std::string>{"loudness.png"});
    }
    SECTION("the folder is not writable") {
        if (::geteuid() == 0) {
            WARN("running as root, which may write anywhere: the disk-full case covers this");
            return;
        }
        std::filesystem::create_directories(dir / "plots");
        const std::string plot = (dir / "plots/loudness.svg").string();
        test::write_text(plot, before);
        ::chmod((dir / "plots").c_str(), 0555);
        const Result r = run_rtmix(dir, {"analyze", a, "--plot", plot});
        ::chmod((dir / "plots").c_str(), 0755);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Contains(plot));
        CHECK(test::read_bytes(plot) == before);
    }
    SECTION("the folder does not exist") {
        const std::string plot = (dir / "missing/loudness.png").string();
        const Result r = run_rtmix(dir, {"analyze", a, "--plot", plot});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Contains(plot) && Contains("does not exist"));
        CHECK_FALSE(std::filesystem::exists(dir / "missing"));
    }
}
