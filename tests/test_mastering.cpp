// Mastering, end to end through real files: the master limiter and its latency compensation,
// loudness normalization (measured independently with libebur128 on the file written), the
// engine's master loudness meter (EBU Tech 3341 case 1), TPDF and noise-shaped dither (error
// statistics of samples read back through libsndfile), and metadata read back by libsndfile,
// libFLAC and a RIFF chunk walk of this file's own.
#include <catch2/catch.hpp>

#include <ebur128.h>
#include <strings.h>
#include <FLAC/metadata.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "files.hpp"
#include "files/audio_file.hpp"
#include "rtmix/render.hpp"
#include "rtmix/session.hpp"
#include "signals.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

constexpr double fs = 48000.0;
constexpr double pi = 3.14159265358979323846;

Session load(const TempDir& dir, std::string text) {
    if (!text.empty() && text.front() == '\n') text.erase(0, 1);
    test::write_text(dir / "session.toml", text);
    return Session::load(dir / "session.toml");
}

RenderOptions wav24(const std::filesystem::path& output) {
    RenderOptions o;
    o.output = output;
    o.sample = RenderOptions::Sample::int24;
    o.tail_s = 0.0;
    return o;
}

struct Measured {
    double integrated_lufs, true_peak_dbtp;
};

/// The loudness and true peak of a file, by libebur128 directly (not through rtmix).
Measured measure(const std::filesystem::path& file) {
    const test::Audio a = test::read_audio(file);
    ebur128_state* st = ebur128_init(static_cast<unsigned>(a.channels.size()), static_cast<unsigned long>(a.sample_rate),
                                     EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    REQUIRE(st != nullptr);
    std::vector<float> interleaved(a.frames() * a.channels.size());
    for (std::size_t i = 0; i < a.frames(); ++i)
        for (std::size_t c = 0; c < a.channels.size(); ++c) interleaved[i * a.channels.size() + c] = a.channels[c][i];
    ebur128_add_frames_float(st, interleaved.data(), a.frames());
    Measured m{};
    ebur128_loudness_global(st, &m.integrated_lufs);
    double tp = 0.0;
    for (unsigned c = 0; c < a.channels.size(); ++c) {
        double x = 0.0;
        ebur128_true_peak(st, c, &x);
        tp = std::max(tp, x);
    }
    m.true_peak_dbtp = 20.0 * std::log10(tp);
    ebur128_destroy(&st);
    return m;
}

/// A programme with dynamics and transients: pink-ish noise under a slow swell, a 110 Hz tone,
/// and a click every half second (what a limiter has to catch). Deterministic.
std::vector<float> programme(std::size_t frames, double level, std::uint32_t seed) {
    std::mt19937 random(seed);
    std::normal_distribution<float> white(0.0f, 1.0f);
    std::vector<float> x(frames);
    float b0 = 0, b1 = 0, b2 = 0;  // three one-pole lowpasses summed: roughly -3 dB/octave
    for (std::size_t i = 0; i < frames; ++i) {
        const float w = white(random);
        b0 = 0.99765f * b0 + w * 0.0990460f;
        b1 = 0.96300f * b1 + w * 0.2965164f;
        b2 = 0.57000f * b2 + w * 1.0526913f;
        const double t = static_cast<double>(i) / fs;
        const double swell = 0.55 + 0.45 * std::sin(2.0 * pi * 0.2 * t);
        double v = 0.12 * (b0 + b1 + b2 + w * 0.1848f) * swell + 0.25 * std::sin(2.0 * pi * 110.0 * t);
        if (i % 24000 < 48) v += 0.9 * std::exp(-static_cast<double>(i % 24000) / 8.0);
        x[i] = static_cast<float>(level * v);
    }
    return x;
}

std::string two_stems(const TempDir& dir, double level) {
    const std::size_t n = static_cast<std::size_t>(8 * fs);
    test::write_audio(dir / "stems/a.wav", {programme(n, level, 1), programme(n, level, 2)}, 48000);
    test::write_audio(dir / "stems/b.wav", {programme(n, level * 0.5, 3)}, 48000);
    return "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n\n[[track]]\nname = \"b\"\nfile = \"stems/b.wav\"\n";
}

}  // namespace

TEST_CASE("the master limiter's lookahead is reported as latency and compensated in a render", "[mastering][limiter]") {
    TempDir dir;
    // A stereo stem with one impulse at frame 12345: with the limiter on (10 ms lookahead) it
    // must still land on frame 12345 of the file.
    std::vector<float> l(48000, 0.0f), r(48000, 0.0f);
    l[12345] = 0.5f;
    r[12345] = 0.25f;
    test::write_audio(dir / "stems/imp.wav", {l, r}, 48000);
    const Session session = load(dir, R"(
[master.limiter]
ceiling_dbtp = -1.0
lookahead_ms = 10

[[track]]
name = "imp"
file = "stems/imp.wav"
)");
    Engine engine(session.engine_options());
    session.apply(engine);
    CHECK(engine.latency_frames() == 480);  // 10 ms at 48 kHz

    RenderOptions o = wav24(dir / "out.wav");
    o.sample = RenderOptions::Sample::float32;
    const RenderSummary s = render(session, o);
    CHECK(s.latency_frames == 480);
    const test::Audio out = test::read_audio(dir / "out.wav");
    REQUIRE(out.frames() == 48000);  // exactly the stem's length: the latency is not in the file
    std::size_t at = 0;
    for (std::size_t i = 0; i < out.frames(); ++i)
        if (std::fabs(out.channels[0][i]) > std::fabs(out.channels[0][at])) at = i;
    CHECK(at == 12345);
    CHECK(out.channels[0][12345] == Approx(0.5).margin(1e-6));  // under the ceiling: untouched
    CHECK(out.channels[1][12345] == Approx(0.25).margin(1e-6));
}

TEST_CASE("a true-peak ceiling holds on a render driven hard into the limiter", "[mastering][limiter]") {
    TempDir dir;
    const Session session = load(dir, two_stems(dir, 1.0) + R"(
[master]
gain_db = 9

[master.limiter]
ceiling_dbtp = -1.0
)");
    const RenderSummary s = render(session, wav24(dir / "hot.wav"));
    const Measured m = measure(dir / "hot.wav");
    INFO("true peak " << m.true_peak_dbtp << " dBTP, limiter " << s.max_limiter_reduction_db << " dB");
    CHECK(m.true_peak_dbtp <= -1.0);
    CHECK(s.max_limiter_reduction_db < -6.0);  // it did have work to do
    CHECK(s.loudness.true_peak_dbtp == Approx(m.true_peak_dbtp).margin(0.01));
}

TEST_CASE("loudness normalization reaches each preset within 0.5 LU under the ceiling", "[mastering][normalize]") {
    struct Case {
        const char* preset;
        double stem_level, target, ceiling;
    };
    const Case c = GENERATE(Case{"streaming", 0.1, -14.0, -1.0}, Case{"apple", 0.3, -16.0, -1.0},
                            Case{"broadcast", 2.0, -23.0, -1.0});
    INFO(c.preset);
    TempDir dir;
    const Session session = load(dir, two_stems(dir, c.stem_level));

    // The mix as it is, measured independently, is what the summary calls "before".
    RenderOptions plain_options = wav24(dir / "plain.wav");
    plain_options.sample = RenderOptions::Sample::float32;  // a loud mix is not clipped
    render(session, plain_options);
    const Measured plain = measure(dir / "plain.wav");

    RenderOptions o = wav24(dir / "master.wav");
    o.loudness = LoudnessTarget::preset_named(c.preset);
    REQUIRE(o.loudness);
    CHECK(o.loudness->target_lufs == c.target);
    CHECK(o.loudness->ceiling_dbtp == c.ceiling);
    const RenderSummary s = render(session, o);
    const Measured m = measure(dir / "master.wav");
    INFO("before " << plain.integrated_lufs << " LUFS; after " << m.integrated_lufs << " LUFS, " << m.true_peak_dbtp
                   << " dBTP, limiter " << s.max_limiter_reduction_db << " dB");
    CHECK(std::fabs(m.integrated_lufs - c.target) <= 0.5);
    CHECK(m.true_peak_dbtp <= c.ceiling);
    REQUIRE(s.normalization);
    CHECK(s.normalization->reached);
    CHECK(s.normalization->passes >= 2);
    CHECK(s.normalization->before.integrated_lufs == Approx(plain.integrated_lufs).margin(0.05));
    CHECK(s.loudness.integrated_lufs == Approx(m.integrated_lufs).margin(0.05));
    CHECK(s.normalization->gain_db == Approx(c.target - plain.integrated_lufs).margin(3.0));
}

TEST_CASE("normalization from the session file, and a warning when it takes heavy limiting", "[mastering][normalize]") {
    TempDir dir;
    // A quiet mix with clicks: reaching -9 LUFS needs far more than 4 dB off the peaks.
    const Session session = load(dir, two_stems(dir, 0.15) + R"(
[master.loudness]
target_lufs = -9
ceiling_dbtp = -0.5
)");
    REQUIRE(session.loudness_target());
    const RenderSummary s = render(session, wav24(dir / "loud.wav"));
    const Measured m = measure(dir / "loud.wav");
    CHECK(m.true_peak_dbtp <= -0.5);
    CHECK(std::fabs(m.integrated_lufs - -9.0) <= 0.5);
    bool warned = false;
    for (const std::string& w : s.warnings) warned = warned || w.find("of limiting") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("an unreachable target keeps the least limited pass that is as loud as the loudest, and says so",
          "[mastering][normalize]") {
    TempDir dir;
    // A 440 Hz tone swelling +-4 dB around -10.5 dBFS every 2 s. 0 LUFS under a -1 dBTP ceiling is
    // beyond it: once the limiter holds the swell's troughs at the ceiling (about 12 dB of gain),
    // the tone is a steady sine at the ceiling and more gain only deepens the limiting.
    const std::size_t frames = static_cast<std::size_t>(8 * fs);
    std::vector<float> swell(frames);
    for (std::size_t i = 0; i < frames; ++i) {
        const double t = static_cast<double>(i) / fs;
        swell[i] = static_cast<float>(0.3 * std::pow(10.0, 4.0 * std::sin(2 * pi * 0.5 * t) / 20.0) *
                                      std::sin(2 * pi * 440.0 * t));
    }
    test::write_audio(dir / "stems/a.wav", {swell, swell}, 48000);
    const std::string mix = "[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n";
    const Session session = load(dir, mix + "\n[master.loudness]\ntarget_lufs = 0\nceiling_dbtp = -1\n");
    const RenderSummary s = render(session, wav24(dir / "master.wav"));
    const Measured m = measure(dir / "master.wav");
    REQUIRE(s.normalization);
    CHECK_FALSE(s.normalization->reached);

    // The loudest this mix can be made: the limiter driven with the most gain it takes (24 dB),
    // rendered without normalization and measured by libebur128.
    const Session driven = load(dir, mix + "\n[master.limiter]\nceiling_dbtp = -1\ngain_db = 24\n");
    const RenderSummary d = render(driven, wav24(dir / "driven.wav"));
    const Measured loudest = measure(dir / "driven.wav");
    INFO("kept " << m.integrated_lufs << " LUFS with " << s.max_limiter_reduction_db << " dB (gain "
                 << s.normalization->gain_db << " dB); driven " << loudest.integrated_lufs << " LUFS with "
                 << d.max_limiter_reduction_db << " dB");
    // As loud as it gets, within 0.1 LU (and a 0.02 LU reading margin) ...
    CHECK(m.integrated_lufs >= loudest.integrated_lufs - 0.12);
    CHECK(m.true_peak_dbtp <= -1.0);
    // ... for far less limiting than driving the limiter all the way.
    CHECK(s.normalization->gain_db <= 24.0 - 3.0);
    CHECK(-s.max_limiter_reduction_db <= -d.max_limiter_reduction_db - 3.0);
    bool noted = false;
    for (const std::string& n : s.notes)
        noted = noted || n.find("kept the least limited of the passes within 0.1 LU of the loudest") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("normalizing a silent mix is refused before anything is written", "[mastering][normalize]") {
    TempDir dir;
    test::write_audio(dir / "stems/s.wav", {std::vector<float>(48000, 0.0f)}, 48000);
    const Session session = load(dir, "[[track]]\nname = \"s\"\nfile = \"stems/s.wav\"\n");
    RenderOptions o = wav24(dir / "out.wav");
    o.loudness = LoudnessTarget::preset_named("streaming");
    CHECK_THROWS_AS(render(session, o), RenderOptionsError);
    CHECK_FALSE(std::filesystem::exists(dir / "out.wav"));
}

TEST_CASE("the engine's master loudness meter reads EBU Tech 3341 case 1 and restarts on reset", "[mastering][meter]") {
    // 1 kHz at -23 dBFS on both channels of a stereo track (balance at the centre passes both at
    // unity) -> -23.0 LUFS momentary, short-term and integrated.
    Engine e(EngineOptions{.sample_rate = fs, .max_block_frames = 256});
    REQUIRE(e.add_track("tone", 2));
    const float amp = static_cast<float>(std::pow(10.0, -23.0 / 20.0));
    const std::vector<float> tone = test::sine(1000.0, fs, static_cast<std::size_t>(fs) * 12, amp);
    std::vector<float> l(256), r(256);
    float* out[2] = {l.data(), r.data()};
    auto play = [&](std::size_t from, std::size_t frames) {
        for (std::size_t i = from; i < from + frames; i += 256) {
            const float* in[2] = {tone.data() + i, tone.data() + i};
            e.process(in, 2, out, 256);
        }
    };
    play(0, 256 * 20);
    REQUIRE(e.reset_meters());
    play(256 * 20, 256 * 1875);  // 10 s
    MasterLoudness m{};
    REQUIRE(e.master_loudness(m));
    CHECK(m.momentary_lufs == Approx(-23.0).margin(0.1));
    CHECK(m.short_term_lufs == Approx(-23.0).margin(0.1));
    CHECK(m.integrated_lufs == Approx(-23.0).margin(0.1));
    CHECK(m.true_peak_dbtp == Approx(-23.0).margin(0.2));
    CHECK(m.sample_peak_dbfs <= -23.0 + 1e-3);
    CHECK(m.limiter_max_gain_reduction_db == 0.0f);

    REQUIRE(e.reset_meters());
    play(256 * 2000, 256);  // the reset lands at the start of this block and publishes at once
    REQUIRE(e.master_loudness(m));  // nothing measured yet
    CHECK(std::isinf(m.true_peak_dbtp));
    CHECK(std::isinf(m.integrated_lufs));
    play(256 * 2001, 256 * 30);  // 160 ms: one publication, too little for a 400 ms block
    REQUIRE(e.master_loudness(m));
    CHECK(std::isinf(m.integrated_lufs));
    CHECK(m.true_peak_dbtp == Approx(-23.0).margin(0.2));  // measured since the reset
}

TEST_CASE("TPDF dither: the error read back has zero mean and 1/4 LSB^2 variance whatever the signal", "[mastering][dither]") {
    // A constant between two 16-bit steps: without dither the error is the same every sample
    // (it follows the signal); with TPDF its mean is 0 and its variance 1/12 + 1/6 = 1/4 LSB^2 for
    // every offset (Lipshitz, Wannamaker and Vanderkooy 1992).
    TempDir dir;
    const double offset = GENERATE(0.0, 0.25, 0.5, 0.8);
    INFO("offset " << offset << " LSB");
    const double lsb = 1.0 / 32768.0;
    const std::size_t n = 200000;
    const float x = static_cast<float>((1000.0 + offset) * lsb);
    for (const bool dithered : {false, true}) {
        const std::filesystem::path file = dir / (dithered ? "tpdf.wav" : "none.wav");
        {
            files::AsideWriter w(file, files::Container::wav, files::Encoding::int16, fs,
                                 dithered ? files::DitherMode::tpdf : files::DitherMode::none);
            const std::vector<float> c(n, x);
            w.write(c.data(), c.data(), static_cast<std::uint32_t>(n));
            w.commit();
        }
        SF_INFO info{};
        SNDFILE* f = sf_open(file.c_str(), SFM_READ, &info);
        REQUIRE(f != nullptr);
        CHECK((info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16);
        std::vector<short> s(n * 2);
        REQUIRE(sf_readf_short(f, s.data(), static_cast<sf_count_t>(n)) == static_cast<sf_count_t>(n));
        sf_close(f);
        double sum = 0.0, sum2 = 0.0, worst = 0.0;
        for (short v : s) {
            const double e = v - (1000.0 + offset);
            sum += e;
            sum2 += e * e;
            worst = std::max(worst, std::fabs(e));
        }
        const double mean = sum / static_cast<double>(s.size());
        const double variance = sum2 / static_cast<double>(s.size()) - mean * mean;
        INFO((dithered ? "tpdf" : "none") << ": mean " << mean << ", variance " << variance);
        if (dithered) {
            CHECK(std::fabs(mean) < 0.01);
            CHECK(variance == Approx(0.25).margin(0.01));
            CHECK(worst <= 1.5 + 1e-9);
            // As docs/mastering.md states it: 0.5 LSB RMS at 16 bits, -96.3 dBFS (plain rounding's
            // 1/sqrt(12) LSB would be -101.1).
            CHECK(20.0 * std::log10(std::sqrt(variance) / 32768.0) == Approx(-96.33).margin(0.1));
        } else {
            CHECK(variance < 1e-9);  // the same error every sample
            CHECK(std::fabs(mean) == Approx(std::min(offset, 1.0 - offset)).margin(1e-9));
        }
    }
}

TEST_CASE("noise-shaped dither moves the error out of 2-5 kHz and keeps its mean at zero", "[mastering][dither]") {
    TempDir dir;
    const std::size_t n = 1 << 16;
    const double lsb = 1.0 / 32768.0;
    // A quiet 440 Hz sine: the error spectrum is what matters, measured from the samples read back.
    const std::vector<float> signal = test::sine(440.0, fs, n, 40.0 * lsb);
    auto error_band_power = [&](files::DitherMode mode, double lo, double hi, double& mean) {
        const std::filesystem::path file = dir / "d.wav";
        {
            files::AsideWriter w(file, files::Container::wav, files::Encoding::int16, fs, mode);
            w.write(signal.data(), signal.data(), static_cast<std::uint32_t>(n));
            w.commit();
        }
        const test::Audio a = test::read_audio(file);
        std::vector<float> e(n);
        mean = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            e[i] = static_cast<float>((a.channels[0][i] - signal[i]) / lsb);
            mean += e[i];
        }
        mean /= static_cast<double>(n);
        double p = 0.0;
        for (double f = lo; f <= hi; f += 250.0) p += std::norm(test::dft_at(e, f, fs));
        return p;
    };
    double mean_tpdf = 0, mean_shaped = 0;
    const double mid_tpdf = error_band_power(files::DitherMode::tpdf, 2000.0, 5000.0, mean_tpdf);
    const double mid_shaped = error_band_power(files::DitherMode::shaped, 2000.0, 5000.0, mean_shaped);
    const double top_tpdf = error_band_power(files::DitherMode::tpdf, 18000.0, 22000.0, mean_tpdf);
    const double top_shaped = error_band_power(files::DitherMode::shaped, 18000.0, 22000.0, mean_shaped);
    INFO("2-5 kHz: " << 10 * std::log10(mid_shaped / mid_tpdf) << " dB; 18-22 kHz: " << 10 * std::log10(top_shaped / top_tpdf)
                     << " dB");
    CHECK(mid_shaped < mid_tpdf / 4.0);  // more than 6 dB less where hearing is most sensitive
    CHECK(top_shaped > top_tpdf * 4.0);  // and more near the top of the band
    CHECK(std::fabs(mean_shaped) < 0.05);
}

namespace {

/// In-place radix-2 FFT (size a power of two), for the noise spectra below.
void fft(std::vector<std::complex<double>>& x) {
    const std::size_t n = x.size();
    for (std::size_t i = 1, j = 0; i < n; ++i) {
        std::size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) std::swap(x[i], x[j]);
    }
    for (std::size_t len = 2; len <= n; len <<= 1) {
        const std::complex<double> step = std::polar(1.0, -2.0 * pi / static_cast<double>(len));
        for (std::size_t i = 0; i < n; i += len) {
            std::complex<double> w = 1.0;
            for (std::size_t k = 0; k < len / 2; ++k, w *= step) {
                const std::complex<double> u = x[i + k], v = x[i + k + len / 2] * w;
                x[i + k] = u + v;
                x[i + k + len / 2] = u - v;
            }
        }
    }
}

/// The curve shaped dither's noise follows, in dB: Terhardt's threshold in quiet (f in kHz),
/// T(f) = 3.64 f^-0.8 - 6.5 exp(-0.6 (f - 3.3)^2) + 0.001 f^4, held at its 500 Hz value below
/// 500 Hz and capped at 30 dB.
double threshold_curve_db(double hz) {
    const double f = std::max(hz, 500.0) / 1000.0;
    return std::min(3.64 * std::pow(f, -0.8) - 6.5 * std::exp(-0.6 * (f - 3.3) * (f - 3.3)) + 0.001 * std::pow(f, 4), 30.0);
}

}  // namespace

TEST_CASE("noise-shaped dither follows the threshold-of-hearing curve at 44.1, 48 and 96 kHz within 2 dB",
          "[mastering][dither]") {
    const double rate = GENERATE(44100.0, 48000.0, 96000.0);
    INFO(rate << " Hz");
    TempDir dir;
    // Silence written as 16 bits: what is read back is the dither's total error alone.
    const std::size_t frames = std::size_t{1} << 18;
    {
        files::AsideWriter w(dir / "noise.wav", files::Container::wav, files::Encoding::int16, rate,
                             files::DitherMode::shaped);
        const std::vector<float> silence(frames, 0.0f);
        w.write(silence.data(), silence.data(), static_cast<std::uint32_t>(frames));
        w.commit();
    }
    const test::Audio a = test::read_audio(dir / "noise.wav");
    REQUIRE(a.frames() == frames);
    // Welch's estimate: Hann windows of 4096 samples overlapping by half, averaged.
    const std::size_t size = 4096;
    std::vector<double> psd(size / 2 + 1, 0.0);
    std::size_t segments = 0;
    double mean = 0.0;
    for (float v : a.channels[0]) mean += v * 32768.0;
    mean /= static_cast<double>(frames);
    for (std::size_t start = 0; start + size <= frames; start += size / 2, ++segments) {
        std::vector<std::complex<double>> x(size);
        for (std::size_t i = 0; i < size; ++i)
            x[i] = a.channels[0][start + i] * 32768.0 * (0.5 - 0.5 * std::cos(2.0 * pi * static_cast<double>(i) / size));
        fft(x);
        for (std::size_t k = 0; k < psd.size(); ++k) psd[k] += std::norm(x[k]);
    }
    // Third-octave bands from 200 Hz to 90 % of Nyquist: the measured power against the curve's,
    // both as band averages, compared after removing their mean difference (the level is free).
    std::vector<double> centres, difference;
    for (double fc = 200.0; fc * std::pow(2.0, 1.0 / 6.0) < 0.45 * rate; fc *= std::pow(2.0, 1.0 / 3.0)) {
        double measured = 0.0, curve = 0.0;
        std::size_t bins = 0;
        for (std::size_t k = 1; k < psd.size(); ++k) {
            const double f = static_cast<double>(k) * rate / size;
            if (f < fc * std::pow(2.0, -1.0 / 6.0) || f >= fc * std::pow(2.0, 1.0 / 6.0)) continue;
            measured += psd[k];
            curve += std::pow(10.0, threshold_curve_db(f) / 10.0);
            ++bins;
        }
        if (bins == 0) continue;
        centres.push_back(fc);
        difference.push_back(10.0 * std::log10(measured / curve));
    }
    REQUIRE(centres.size() > 15);
    double offset = 0.0;
    for (double d : difference) offset += d;
    offset /= static_cast<double>(difference.size());
    std::string table;
    double worst = 0.0;
    for (std::size_t b = 0; b < centres.size(); ++b) {
        table += fmt::format("{:.0f} Hz: curve {:.1f} dB, off by {:+.2f} dB\n", centres[b], threshold_curve_db(centres[b]),
                             difference[b] - offset);
        worst = std::max(worst, std::fabs(difference[b] - offset));
    }
    INFO(table << "worst " << worst << " dB over " << segments << " segments; mean " << mean << " LSB");
    CHECK(worst <= 2.0);
    CHECK(std::fabs(mean) < 0.05);
}

TEST_CASE("noise-shaped dither is refused at a rate it has no design for, before anything is written",
          "[mastering][dither]") {
    TempDir dir;
    for (const double rate : {32000.0, 192000.0}) {
        INFO(rate);
        try {
            files::AsideWriter w(dir / "x.wav", files::Container::wav, files::Encoding::int16, rate,
                                 files::DitherMode::shaped);
            FAIL("accepted");
        } catch (const files::FileError& e) {
            CHECK_THAT(e.what(), Contains("noise-shaped dither has designs for 44100 to 96000 Hz only") &&
                                     Contains("use TPDF dither"));
        }
        // TPDF has no such limit; a float file is never dithered.
        CHECK_NOTHROW(files::AsideWriter(dir / "t.wav", files::Container::wav, files::Encoding::int16, rate,
                                         files::DitherMode::tpdf));
        CHECK_NOTHROW(files::AsideWriter(dir / "f.wav", files::Container::wav, files::Encoding::float32, rate,
                                         files::DitherMode::shaped));
    }
    const std::size_t n = 9600;
    test::write_audio(dir / "stems/a.wav", {std::vector<float>(n, 0.1f)}, 192000);
    const Session session = load(dir, "[session]\nsample_rate = 192000\n\n[[track]]\nname = \"a\"\nfile = \"stems/a.wav\"\n");
    RenderOptions o = wav24(dir / "m.wav");
    o.dither = RenderOptions::Dither::shaped;
    CHECK_THROWS_WITH(render(session, o), Contains("not the session's 192000 Hz"));
    CHECK_FALSE(std::filesystem::exists(dir / "m.wav"));
}

TEST_CASE("metadata reaches WAV (INFO, bext with loudness, ISRC) and FLAC (Vorbis comments)", "[mastering][metadata]") {
    TempDir dir;
    const Session session = load(dir, two_stems(dir, 0.3) + R"(
[master.metadata]
title = "Night Drive"
artist = "The Examples"
album = "Test Tones"
date = "2026-11-24"
isrc = "GB-ABC-26-00001"
comment = "mastered with rtmix"
)");
    CHECK(session.metadata().isrc == "GBABC2600001");

    SECTION("WAV") {
        const RenderSummary s = render(session, wav24(dir / "m.wav"));
        SF_INFO info{};
        SNDFILE* f = sf_open((dir / "m.wav").c_str(), SFM_READ, &info);
        REQUIRE(f != nullptr);
        auto str = [&](int tag) {
            const char* v = sf_get_string(f, tag);
            return std::string(v ? v : "");
        };
        CHECK(str(SF_STR_TITLE) == "Night Drive");
        CHECK(str(SF_STR_ARTIST) == "The Examples");
        CHECK(str(SF_STR_ALBUM) == "Test Tones");
        CHECK(str(SF_STR_DATE) == "2026-11-24");
        CHECK(str(SF_STR_COMMENT) == "mastered with rtmix");
        SF_BROADCAST_INFO bext{};
        REQUIRE(sf_command(f, SFC_GET_BROADCAST_INFO, &bext, sizeof bext) == SF_TRUE);
        sf_close(f);
        CHECK(std::string(bext.originator, strnlen(bext.originator, sizeof bext.originator)) == "rtmix");
        CHECK(bext.version == 2);
        const Measured m = measure(dir / "m.wav");
        CHECK(bext.loudness_value / 100.0 == Approx(m.integrated_lufs).margin(0.06));
        CHECK(bext.max_true_peak_level / 100.0 == Approx(m.true_peak_dbtp).margin(0.06));
        CHECK(bext.loudness_value == std::lround(s.loudness.integrated_lufs * 100.0));

        // The ISRC, found by walking the RIFF chunks: LIST/INFO/ISRC.
        const std::string bytes = test::read_bytes(dir / "m.wav");
        REQUIRE(bytes.compare(0, 4, "RIFF") == 0);
        auto le32 = [&](std::size_t at) {
            std::uint32_t v = 0;
            for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
            return v;
        };
        CHECK(le32(4) == bytes.size() - 8);
        std::string isrc;
        for (std::size_t pos = 12; pos + 8 <= bytes.size();) {
            const std::uint32_t size = le32(pos + 4);
            if (bytes.compare(pos, 4, "LIST") == 0 && bytes.compare(pos + 8, 4, "INFO") == 0)
                for (std::size_t sub = pos + 12; sub + 8 <= pos + 8 + size;) {
                    const std::uint32_t len = le32(sub + 4);
                    if (bytes.compare(sub, 4, "ISRC") == 0) isrc = std::string(bytes.c_str() + sub + 8);
                    sub += 8 + len + (len & 1u);
                }
            pos += 8 + size + (size & 1u);
        }
        CHECK(isrc == "GBABC2600001");
    }
    SECTION("FLAC") {
        RenderOptions o = wav24(dir / "m.flac");
        o.format = RenderOptions::Format::flac;
        render(session, o);
        FLAC__StreamMetadata* tags = nullptr;
        REQUIRE(FLAC__metadata_get_tags((dir / "m.flac").c_str(), &tags));
        std::vector<std::string> comments;
        for (FLAC__uint32 i = 0; i < tags->data.vorbis_comment.num_comments; ++i) {
            const auto& c = tags->data.vorbis_comment.comments[i];
            comments.emplace_back(reinterpret_cast<const char*>(c.entry), c.length);
        }
        FLAC__metadata_object_delete(tags);
        auto has = [&](const std::string& entry) {
            for (const std::string& c : comments)
                if (c.size() == entry.size() && strncasecmp(c.c_str(), entry.c_str(), entry.find('=')) == 0 &&
                    c.substr(entry.find('=')) == entry.substr(entry.find('=')))
                    return true;
            return false;
        };
        CHECK(has("TITLE=Night Drive"));
        CHECK(has("ARTIST=The Examples"));
        CHECK(has("ALBUM=Test Tones"));
        CHECK(has("DATE=2026-11-24"));
        CHECK(has("ISRC=GBABC2600001"));
        const test::Audio a = test::read_audio(dir / "m.flac");  // still a valid stream
        CHECK(a.frames() == static_cast<std::size_t>(8 * fs));
    }
}

TEST_CASE("mastering sections of a session file are checked with file, line and column", "[mastering][session]") {
    TempDir dir;
    const std::string tracks = two_stems(dir, 0.3);
    auto error = [&](const std::string& text) {
        try {
            load(dir, tracks + text);
        } catch (const SessionError& e) {
            return e;
        }
        FAIL("no error");
        return SessionError({}, "");
    };
    SECTION("a preset name with a typo") {
        const SessionError e = error("[master.loudness]\npreset = \"streamin\"\n");
        CHECK(e.where().line == 9);
        CHECK_THAT(e.message(), Contains("expected one of: streaming, apple, broadcast") && Contains("did you mean 'streaming'"));
    }
    SECTION("a target out of range") {
        const SessionError e = error("[master.loudness]\ntarget_lufs = 3\n");
        CHECK(e.where().line == 9);
        CHECK(e.where().column == 15);
        CHECK_THAT(e.message(), Contains("out of range [-60, 0] LUFS"));
    }
    SECTION("a malformed ISRC") {
        const SessionError e = error("[master.metadata]\nisrc = \"GB-ABC-26-0001\"\n");
        CHECK(e.where().line == 9);
        CHECK_THAT(e.message(), Contains("expected 12 characters"));
    }
    SECTION("a limiter on a bus") {
        const SessionError e = error("[[bus]]\nname = \"b\"\nlimiter = { ceiling_dbtp = -1 }\n");
        CHECK(e.where().line == 10);
        CHECK_THAT(e.message(), Contains("it belongs to the master ([master.limiter])"));
    }
    SECTION("a limiter key with a typo") {
        const SessionError e = error("[master.limiter]\nceiling_db = -1\n");
        CHECK_THAT(e.message(), Contains("did you mean 'ceiling_dbtp'"));
    }
    SECTION("a ceiling out of range") {
        const SessionError e = error("[master.limiter]\nceiling_dbtp = 1\n");
        CHECK(e.where().line == 9);
        CHECK_THAT(e.message(), Contains("out of range"));
    }
}
