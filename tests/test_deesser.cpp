// The de-esser against the behaviour deesser.hpp defines: the band filter against the Butterworth
// highpass formula, the reduction against levels measured in the test (a highpass written here in
// double precision, single-bin DFTs over whole periods), and the whole chain against a
// double-precision reference written out from the definition.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "dsp/deesser.hpp"
#include "signals.hpp"

using namespace rtmix;

namespace {

constexpr double fs = 48000.0;
using Buffers = std::vector<std::vector<float>>;

dsp::Deesser make(const dsp::DeesserSettings& s, double sample_rate = fs, float smoothing_ms = 20.0f) {
    dsp::Deesser d;
    d.set(s);
    d.prepare(sample_rate, smoothing_ms);
    return d;
}

/// Runs `audio` (and `key`, if not empty) through `d` in blocks of `block` frames.
void run(dsp::Deesser& d, Buffers& audio, const Buffers& key = {}, std::size_t block = 256) {
    const std::size_t frames = audio[0].size();
    for (std::size_t pos = 0; pos < frames; pos += block) {
        const auto n = static_cast<std::uint32_t>(std::min(block, frames - pos));
        float* a[2] = {audio[0].data() + pos, audio.size() > 1 ? audio[1].data() + pos : nullptr};
        const float* k[2] = {key.empty() ? nullptr : key[0].data() + pos, key.size() > 1 ? key[1].data() + pos : nullptr};
        d.process(a, static_cast<std::uint32_t>(audio.size()), n, key.empty() ? nullptr : k,
                  static_cast<std::uint32_t>(key.size()));
    }
}

/// The 2nd-order Butterworth highpass at `fc`, by the bilinear transform of s^2 / (s^2 + sqrt(2) s + 1)
/// pre-warped at fc, in direct form and double precision: the test's own band filter.
std::vector<double> highpass(const std::vector<float>& x, double fc, double sample_rate = fs) {
    const double k = std::tan(test::pi * fc / sample_rate), r2 = std::sqrt(2.0);
    const double norm = 1.0 / (1.0 + r2 * k + k * k);
    const double b0 = norm, b1 = -2.0 * norm, b2 = norm;
    const double a1 = 2.0 * (k * k - 1.0) * norm, a2 = (1.0 - r2 * k + k * k) * norm;
    std::vector<double> y(x.size());
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        y[i] = b0 * x[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        x2 = x1;
        x1 = x[i];
        y2 = y1;
        y1 = y[i];
    }
    return y;
}

/// |H(f)|^2 of that filter: the Butterworth formula (f/fc)^4 / (1 + (f/fc)^4) with the frequencies
/// pre-warped by the bilinear transform (f -> tan(pi f / fs)).
double butterworth_power(double f, double fc, double sample_rate = fs) {
    const double ratio = std::tan(test::pi * f / sample_rate) / std::tan(test::pi * fc / sample_rate);
    const double r4 = std::pow(ratio, 4.0);
    return r4 / (1.0 + r4);
}

/// The sibilant band of the output: y - low, with low = x - HP(x) from the test's filter. In
/// split mode it is g * HP(x).
std::vector<double> output_band(const std::vector<float>& y, const std::vector<float>& x, double fc) {
    std::vector<double> band = highpass(x, fc);
    for (std::size_t i = 0; i < y.size(); ++i) band[i] += double(y[i]) - double(x[i]);
    return band;
}

/// Amplitude of the component at `f` over [begin, end): a single-bin DFT (exact for components
/// with whole periods in the window).
template <typename T>
double amplitude_at(const std::vector<T>& x, double f, std::size_t begin, std::size_t end) {
    std::complex<double> acc = 0.0;
    const double w = 2.0 * test::pi * f / fs;
    for (std::size_t n = begin; n < end; ++n) acc += double(x[n]) * std::polar(1.0, -w * double(n));
    return 2.0 * std::abs(acc) / double(end - begin);
}

template <typename T>
double rms_of(const std::vector<T>& x, std::size_t begin, std::size_t end) {
    double s = 0.0;
    for (std::size_t i = begin; i < end; ++i) s += double(x[i]) * double(x[i]);
    return std::sqrt(s / double(end - begin));
}

template <typename T>
double peak_of(const std::vector<T>& x, std::size_t begin, std::size_t end) {
    double p = 0.0;
    for (std::size_t i = begin; i < end; ++i) p = std::max(p, std::fabs(double(x[i])));
    return p;
}

// The test signal: a burst of 150 ms in the middle of the first 600 ms, then 900 ms more to see the
// release come to rest. The measuring window is 100 ms (whole periods of every component)
// starting 25 ms (50 attack times) into the burst.
constexpr std::size_t total_frames = 72000, burst_begin = 10800, burst_end = 18000;
constexpr std::size_t window_begin = 12000, window_end = 16800;
constexpr std::size_t release_frames = 2400;  // 50 ms

/// A vowel-like tone: the harmonics of 200 Hz up to 2 kHz, amplitude 1/n, peak `peak`, faded in
/// over its first 10 ms (a step would reach into the band).
std::vector<float> vowel(std::size_t frames, double peak = 0.25) {
    std::vector<double> v(frames, 0.0);
    for (int n = 1; n <= 10; ++n)
        for (std::size_t i = 0; i < frames; ++i) v[i] += std::sin(2.0 * test::pi * 200.0 * n * double(i) / fs + 0.7 * n) / n;
    const double scale = peak / peak_of(v, 0, std::min<std::size_t>(frames, 2400));
    for (std::size_t i = 0; i < std::min<std::size_t>(frames, 480); ++i)
        v[i] *= 0.5 - 0.5 * std::cos(test::pi * double(i) / 480.0);
    std::vector<float> x(frames);
    for (std::size_t i = 0; i < frames; ++i) x[i] = static_cast<float>(scale * v[i]);
    return x;
}

/// Band-limited noise: a sine at every 50 Hz from 5 to 10 kHz with random phases (fixed seed), at
/// unit peak over the burst, over [burst_begin, burst_end) and silent elsewhere.
const std::vector<double>& sibilance() {
    static const std::vector<double> s = [] {
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> phase(0.0, 2.0 * test::pi);
        std::vector<double> x(total_frames, 0.0);
        for (int f = 5000; f <= 10000; f += 50) {
            const double p = phase(rng), w = 2.0 * test::pi * f / fs;
            for (std::size_t i = burst_begin; i < burst_end; ++i) x[i] += std::sin(w * double(i) + p);
        }
        const double scale = 1.0 / peak_of(x, burst_begin, burst_end);
        for (double& v : x) v *= scale;
        return x;
    }();
    return s;
}

/// The vowel with the sibilant burst at `burst_peak` over it.
std::vector<float> voice(double burst_peak, double vowel_peak = 0.25) {
    std::vector<float> x = vowel(total_frames, vowel_peak);
    for (std::size_t i = 0; i < total_frames; ++i) x[i] += static_cast<float>(burst_peak * sibilance()[i]);
    return x;
}

double db(double ratio) { return 20.0 * std::log10(ratio); }

/// The first frame at which two signals differ in any bit (-0 and +0 too), or their length.
std::size_t first_difference(const Buffers& a, const Buffers& b) {
    std::size_t first = a[0].size();
    for (std::size_t ch = 0; ch < a.size(); ++ch)
        for (std::size_t i = 0; i < first; ++i)
            if (std::bit_cast<std::uint32_t>(a[ch][i]) != std::bit_cast<std::uint32_t>(b[ch][i])) first = i;
    return first;
}

double largest_difference(const std::vector<float>& y, const std::vector<float>& x, std::size_t begin, std::size_t end) {
    double d = 0.0;
    for (std::size_t i = begin; i < end; ++i) d = std::max(d, std::fabs(double(y[i]) - double(x[i])));
    return d;
}

}  // namespace

TEST_CASE("the band is a 2nd-order Butterworth highpass: its response matches the formula within 0.05 dB",
          "[deesser]") {
    // Impulse responses in split and wideband mode while a loud key holds the reduction at -range:
    // split gives 1 - (1 - g) H(f), wideband g; so H = (1 - split) / (1 - g), with g measured too.
    struct Case { double sample_rate, freq_hz, corner_hz; };
    const Case c = GENERATE(Case{48000, 2000, 2000}, Case{48000, 6000, 6000}, Case{48000, 12000, 12000},
                            Case{44100, 16000, 16000}, Case{32000, 16000, 0.45 * 32000});
    const std::size_t settle = 4800, length = 8192;
    std::vector<float> h[2];
    for (int mode = 0; mode < 2; ++mode) {
        dsp::DeesserSettings s;
        s.mode = mode == 0 ? dsp::DeesserMode::split : dsp::DeesserMode::wideband;
        s.freq_hz = static_cast<float>(c.freq_hz);
        s.threshold_db = -60.0f;
        s.range_db = 24.0f;
        dsp::Deesser d = make(s, c.sample_rate);
        Buffers audio{std::vector<float>(settle + length, 0.0f)};
        audio[0][settle] = 1.0f;
        Buffers key{test::sine(0.4 * c.sample_rate, c.sample_rate, settle + length, 0.9)};
        run(d, audio, key);
        h[mode].assign(audio[0].begin() + settle, audio[0].end());
    }
    const double g = h[1][0];
    CHECK(db(g) == Approx(-24.0).margin(1e-3));
    for (double ratio : {0.25, 0.5, 0.7071, 1.0, 1.4142, 2.0, 4.0}) {
        const double f = ratio * c.corner_hz;
        if (f >= 0.49 * c.sample_rate) continue;
        const std::complex<double> split = test::dft_at(h[0], f, c.sample_rate);
        const double measured = std::norm((1.0 - split) / (1.0 - g));
        INFO("fs " << c.sample_rate << " corner " << c.corner_hz << " f " << f);
        CHECK(10.0 * std::log10(measured) ==
              Approx(10.0 * std::log10(butterworth_power(f, c.corner_hz, c.sample_rate))).margin(0.05));
    }
}

TEST_CASE("split mode turns down a sibilant burst to the threshold and leaves the vowel under it alone",
          "[deesser]") {
    dsp::DeesserSettings s;
    s.freq_hz = 6000.0f;
    s.threshold_db = -20.0f;
    s.range_db = 12.0f;
    const std::vector<float> x = voice(std::pow(10.0, -10.0 / 20.0));
    Buffers y{x}, reference{x};
    dsp::Deesser d = make(s);
    run(d, y);
    dsp::DeesserSettings off = s;
    off.range_db = 0.0f;
    dsp::Deesser none = make(off);
    run(none, reference);

    // Expected: the band's peak over the burst brought down to the threshold, at most by the range.
    const std::vector<double> band_in = highpass(x, s.freq_hz);
    const double band_peak_db = db(peak_of(band_in, burst_begin, burst_end));
    const double expected_db = -std::min(12.0, std::max(0.0, band_peak_db + 20.0));
    const std::vector<double> band_out = output_band(y[0], x, s.freq_hz);
    const double reduction_db = db(rms_of(band_out, window_begin, window_end) / rms_of(band_in, window_begin, window_end));
    INFO("band peak " << band_peak_db << " dB, expected " << expected_db << " dB, measured " << reduction_db << " dB");
    CHECK(expected_db < -5.0);
    CHECK(reduction_db == Approx(expected_db).margin(1.0));

    // The vowel's harmonics within 0.1 dB of the unreduced signal's. (They do move a little: far
    // below the corner HP(f) is about -(f/fc)^2, so low = x - high is slightly above x and
    // turning the band down raises 600 Hz by about 0.05 dB here.)
    for (double f : {200.0, 400.0, 600.0}) {
        INFO("harmonic " << f << " Hz");
        CHECK(db(amplitude_at(y[0], f, window_begin, window_end) / amplitude_at(reference[0], f, window_begin, window_end)) ==
              Approx(0.0).margin(0.1));
    }
    // No reduction before the burst, nor long after it. The envelope falls from the band's peak to
    // the threshold in about one release time (9 dB at 8.7 dB per release time); then the applied
    // reduction decays by e per release time. The output differs from the input by (1 - g) high,
    // and the vowel's band peaks at about -43 dBFS (7e-3), so 1e-6 needs A above -1.2e-3 dB: about
    // 10 release times after the burst (after 5 it still differs by about 6e-5). Once A is within
    // 1e-6 dB of 0 it is 0, and the output is the input exactly.
    CHECK(largest_difference(y[0], x, 0, burst_begin) == 0.0);
    CHECK(largest_difference(y[0], x, burst_end + 12 * release_frames, total_frames) <= 1e-6);
    CHECK(largest_difference(y[0], x, burst_end + 20 * release_frames, total_frames) == 0.0);
}

TEST_CASE("wideband mode turns the whole signal down while the band is loud: the vowel by as much as the band",
          "[deesser]") {
    dsp::DeesserSettings s;
    s.mode = dsp::DeesserMode::wideband;
    s.freq_hz = 6000.0f;
    s.threshold_db = -20.0f;
    s.range_db = 12.0f;
    const std::vector<float> x = voice(std::pow(10.0, -10.0 / 20.0));
    Buffers y{x};
    dsp::Deesser d = make(s);
    run(d, y);
    const std::vector<double> band_in = highpass(x, s.freq_hz), band_out = highpass(y[0], s.freq_hz);
    const double expected_db = -std::min(12.0, std::max(0.0, db(peak_of(band_in, burst_begin, burst_end)) + 20.0));
    const double band_db = db(rms_of(band_out, window_begin, window_end) / rms_of(band_in, window_begin, window_end));
    INFO("expected " << expected_db << " dB, band " << band_db << " dB");
    CHECK(band_db == Approx(expected_db).margin(1.0));
    for (double f : {200.0, 400.0, 600.0}) {
        const double vowel_db = db(amplitude_at(y[0], f, window_begin, window_end) / amplitude_at(x, f, window_begin, window_end));
        INFO("harmonic " << f << " Hz: " << vowel_db << " dB");
        CHECK(vowel_db == Approx(band_db).margin(0.1));
    }
    CHECK(largest_difference(y[0], x, 0, burst_begin) == 0.0);
    CHECK(largest_difference(y[0], x, burst_end + 20 * release_frames, total_frames) == 0.0);
}

TEST_CASE("the range caps the reduction: a very loud burst is turned down by range_db and no more", "[deesser]") {
    const double range_db = GENERATE(3.0, 12.0, 24.0);
    const std::vector<float> x = voice(0.9);  // the band's peak about 40 dB over the threshold
    for (auto mode : {dsp::DeesserMode::split, dsp::DeesserMode::wideband}) {
        dsp::DeesserSettings s;
        s.mode = mode;
        s.threshold_db = -40.0f;
        s.range_db = static_cast<float>(range_db);
        dsp::Deesser d = make(s);
        Buffers y{x};
        float* b[1] = {y[0].data()};
        d.process(b, 1, static_cast<std::uint32_t>(burst_begin));
        CHECK(d.block_max_reduction_db() == 0.0f);
        b[0] = y[0].data() + burst_begin;
        d.process(b, 1, static_cast<std::uint32_t>(burst_end - burst_begin));
        INFO("range " << range_db << " mode " << int(mode));
        CHECK(d.gain_reduction_db() == Approx(-range_db).margin(1e-3));
        CHECK(d.block_max_reduction_db() == Approx(-range_db).margin(1e-3));
        CHECK(d.block_max_reduction_db() >= -range_db - 1e-3);
        // Settled: from 10 ms (20 attack times) into the burst.
        const std::size_t settled = burst_begin + 480;
        if (mode == dsp::DeesserMode::wideband) {
            double lowest = 0.0, highest = -100.0;
            for (std::size_t i = settled; i < burst_end; ++i)
                if (std::fabs(x[i]) > 1e-3) {
                    lowest = std::min(lowest, db(y[0][i] / x[i]));
                    highest = std::max(highest, db(y[0][i] / x[i]));
                }
            CHECK(lowest == Approx(-range_db).margin(0.1));
            CHECK(highest == Approx(-range_db).margin(0.1));
        } else {
            const std::vector<double> band_in = highpass(x, s.freq_hz);
            const std::vector<double> band_out = output_band(y[0], x, s.freq_hz);
            CHECK(db(rms_of(band_out, settled, burst_end) / rms_of(band_in, settled, burst_end)) ==
                  Approx(-range_db).margin(0.1));
        }
    }
}

TEST_CASE("with a key the detector listens to it: the audio's band is turned down only while the key bursts",
          "[deesser]") {
    struct Layout { std::uint32_t audio, key; };
    const Layout layout = GENERATE(Layout{1, 1}, Layout{2, 1}, Layout{1, 2}, Layout{2, 2});
    dsp::DeesserSettings s;
    s.threshold_db = -20.0f;
    s.range_db = 12.0f;
    // Audio: the vowel with steady tones in the band at -40 dBFS, far below the threshold.
    const double tones[2] = {8000.0, 9000.0};
    Buffers x;
    for (std::uint32_t ch = 0; ch < layout.audio; ++ch) {
        std::vector<float> a = vowel(total_frames);
        const std::vector<float> t = test::sine(tones[ch], fs, total_frames, 0.01);
        for (std::size_t i = 0; i < total_frames; ++i) a[i] += t[i];
        x.push_back(a);
    }
    // Key: the burst alone, in its last channel (a stereo key's other channel is silent).
    Buffers key(layout.key, std::vector<float>(total_frames, 0.0f));
    const double burst_peak = std::pow(10.0, -10.0 / 20.0);
    for (std::size_t i = 0; i < total_frames; ++i) key.back()[i] = static_cast<float>(burst_peak * sibilance()[i]);

    Buffers y = x;
    dsp::Deesser d = make(s);
    run(d, y, key);
    const double expected_db =
        -std::min(12.0, std::max(0.0, db(peak_of(highpass(key.back(), s.freq_hz), burst_begin, burst_end)) + 20.0));
    for (std::uint32_t ch = 0; ch < layout.audio; ++ch) {
        const std::vector<double> band_in = highpass(x[ch], s.freq_hz), band_out = output_band(y[ch], x[ch], s.freq_hz);
        const double reduction_db =
            db(amplitude_at(band_out, tones[ch], window_begin, window_end) / amplitude_at(band_in, tones[ch], window_begin, window_end));
        INFO("audio " << layout.audio << " key " << layout.key << " channel " << ch << ": expected " << expected_db
                      << " dB, measured " << reduction_db << " dB");
        CHECK(expected_db < -5.0);
        CHECK(reduction_db == Approx(expected_db).margin(1.0));
        CHECK(largest_difference(y[ch], x[ch], 0, burst_begin) == 0.0);
        CHECK(largest_difference(y[ch], x[ch], burst_end + 20 * release_frames, total_frames) == 0.0);
    }

    // And the audio's own burst does nothing while the key is silent.
    Buffers loud(layout.audio, voice(burst_peak));
    const Buffers loud_in = loud;
    const Buffers silent_key(layout.key, std::vector<float>(total_frames, 0.0f));
    dsp::Deesser quiet_key = make(s);
    run(quiet_key, loud, silent_key);
    CHECK(first_difference(loud, loud_in) == total_frames);
}

TEST_CASE("with no reduction the output is the input bit for bit", "[deesser]") {
    const auto mode = GENERATE(dsp::DeesserMode::split, dsp::DeesserMode::wideband);
    struct Case { float threshold_db, range_db; double burst_peak, vowel_peak; };
    // Quiet input under a 0 dBFS threshold, and a loud one with no range.
    const Case c = GENERATE(Case{0.0f, 12.0f, 0.1, 0.05}, Case{-60.0f, 0.0f, 0.9, 0.25});
    dsp::DeesserSettings s;
    s.mode = mode;
    s.threshold_db = c.threshold_db;
    s.range_db = c.range_db;
    Buffers x{voice(c.burst_peak, c.vowel_peak), voice(0.5 * c.burst_peak, c.vowel_peak)};
    for (float& v : x[1]) v = -v;
    Buffers y = x;
    dsp::Deesser d = make(s);
    run(d, y, {}, 100);
    CHECK(first_difference(y, x) == total_frames);
    CHECK(d.gain_reduction_db() == 0.0f);
    CHECK(d.block_max_reduction_db() == 0.0f);
}

TEST_CASE("the de-esser's output does not depend on the block sizes", "[deesser]") {
    const bool keyed = GENERATE(false, true);
    dsp::DeesserSettings s;
    s.threshold_db = -25.0f;
    s.range_db = 18.0f;
    const Buffers x{voice(0.6), voice(0.3, 0.1)};
    Buffers key;
    if (keyed) key = {voice(0.8, 0.05)};
    // Halfway: a new corner (a glide), the other mode (a crossfade) and a new threshold.
    const std::size_t change = total_frames / 2 + 333;
    auto render = [&](std::size_t block) {
        dsp::Deesser d = make(s);
        Buffers y = x;
        for (std::size_t pos = 0; pos < total_frames;) {
            if (pos == change) {
                dsp::DeesserSettings t = s;
                t.freq_hz = 4000.0f;
                t.mode = dsp::DeesserMode::wideband;
                t.threshold_db = -35.0f;
                d.set(t);
            }
            const std::size_t end = pos < change ? change : total_frames;
            const auto n = static_cast<std::uint32_t>(std::min(block, end - pos));
            float* a[2] = {y[0].data() + pos, y[1].data() + pos};
            const float* k[1] = {keyed ? key[0].data() + pos : nullptr};
            d.process(a, 2, n, keyed ? k : nullptr, keyed ? 1 : 0);
            pos += n;
        }
        return y;
    };
    const Buffers one = render(1);
    CHECK(one != x);  // it did reduce
    for (std::size_t block : {7, 64, 1000}) {
        const std::size_t first = first_difference(render(block), one);
        INFO("blocks of " << block << ": the first frame that differs is " << first);
        CHECK(first == total_frames);
    }
}

TEST_CASE("split and wideband outputs match a double-precision reference of the defined behaviour within 1e-5",
          "[deesser]") {
    const auto mode = GENERATE(dsp::DeesserMode::split, dsp::DeesserMode::wideband);
    const bool keyed = GENERATE(false, true);
    dsp::DeesserSettings s;
    s.mode = mode;
    s.freq_hz = 5000.0f;
    s.threshold_db = -28.0f;
    s.range_db = 15.0f;
    // Bursts at several levels on both channels, at different times.
    Buffers x{voice(0.5), vowel(total_frames, 0.1)};
    const std::vector<double>& burst = sibilance();
    for (std::size_t i = 0; i + 30000 < total_frames; ++i) x[1][i + 30000] += static_cast<float>(0.08 * burst[i]);
    for (std::size_t i = 0; i + 45000 < total_frames; ++i) x[0][i + 45000] += static_cast<float>(0.9 * burst[i]);
    Buffers key;
    if (keyed) key = {voice(0.2, 0.3), vowel(total_frames, 0.02)};

    // The reference: deesser.hpp's behaviour, written out.
    const double envelope_coef = std::exp(-1.0 / (0.050 * fs)), attack = std::exp(-1.0 / (0.0005 * fs)),
                 release = std::exp(-1.0 / (0.050 * fs));
    const Buffers& detected = keyed ? key : x;
    const std::vector<double> hp[2] = {highpass(x[0], s.freq_hz), highpass(x[1], s.freq_hz)};
    const std::vector<double> hp_key[2] = {highpass(detected[0], s.freq_hz), highpass(detected[1], s.freq_hz)};
    std::vector<double> want[2] = {std::vector<double>(total_frames), std::vector<double>(total_frames)};
    double e = 0.0, applied = 0.0, deepest = 0.0;
    for (std::size_t i = 0; i < total_frames; ++i) {
        e = std::max({std::fabs(hp_key[0][i]), std::fabs(hp_key[1][i]), envelope_coef * e});
        const double level_db = e > 1e-10 ? 20.0 * std::log10(e) : -200.0;
        const double target = -std::min<double>(s.range_db, std::max(0.0, level_db - s.threshold_db));
        const double c = target < applied ? attack : release;
        applied = c * applied + (1.0 - c) * target;
        deepest = std::min(deepest, applied);
        const double g = std::pow(10.0, applied / 20.0);
        for (int ch = 0; ch < 2; ++ch)
            want[ch][i] = mode == dsp::DeesserMode::split ? x[ch][i] - (1.0 - g) * hp[ch][i] : g * x[ch][i];
    }

    dsp::Deesser d = make(s);
    Buffers y = x;
    float* a[2] = {y[0].data(), y[1].data()};
    const float* k[2] = {keyed ? key[0].data() : nullptr, keyed ? key[1].data() : nullptr};
    d.process(a, 2, static_cast<std::uint32_t>(total_frames), keyed ? k : nullptr, keyed ? 2 : 0);
    double worst = 0.0;
    for (int ch = 0; ch < 2; ++ch)
        for (std::size_t i = 0; i < total_frames; ++i) worst = std::max(worst, std::fabs(y[ch][i] - want[ch][i]));
    INFO("largest difference " << worst << ", deepest reduction " << deepest << " dB");
    CHECK(deepest < -10.0);
    CHECK(worst <= 1e-5);
    CHECK(d.block_max_reduction_db() == Approx(deepest).margin(1e-3));
}

TEST_CASE("the corner can move at any speed without blowing up, and a glide ends on the new corner", "[deesser]") {
    const double sample_rate = GENERATE(44100.0, 96000.0);
    const float smoothing_ms = GENERATE(0.0f, 20.0f);
    dsp::DeesserSettings s;
    s.threshold_db = -60.0f;
    s.range_db = 24.0f;
    dsp::Deesser d = make(s, sample_rate, smoothing_ms);
    // Loud white noise while the corner jumps between the ends of its range every 32 frames; a
    // loud key holds the reduction at -24 dB throughout.
    const std::size_t sweep = 24000, settle = 9600, length = 8192, frames = sweep + settle + length;
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> noise(-0.9f, 0.9f);
    std::uniform_real_distribution<float> corner(2000.0f, 16000.0f);
    Buffers x(2, std::vector<float>(frames, 0.0f));
    for (std::size_t i = 0; i < sweep; ++i) x[0][i] = noise(rng), x[1][i] = noise(rng);
    x[0][sweep + settle] = 1.0f;  // then an impulse, once the filter has settled on its last corner
    const Buffers key{test::sine(0.4 * sample_rate, sample_rate, frames, 0.9)};
    Buffers y = x;
    for (std::size_t pos = 0; pos < frames; pos += 32) {
        if (pos < sweep) {
            s.freq_hz = (pos / 32) % 5 == 4 ? corner(rng) : ((pos / 32) % 2 ? 2000.0f : 16000.0f);
            d.set(s);
        } else if (pos == sweep) {
            s.freq_hz = 3000.0f;
            d.set(s);
        }
        float* a[2] = {y[0].data() + pos, y[1].data() + pos};
        const float* k[1] = {key[0].data() + pos};
        d.process(a, 2, 32, k, 1);
    }
    bool finite = true;
    double peak = 0.0;
    for (const auto& ch : y)
        for (float v : ch) finite = finite && std::isfinite(v), peak = std::max(peak, double(std::fabs(v)));
    CHECK(finite);
    CHECK(peak <= 4.0);
    const std::vector<float> h(y[0].begin() + static_cast<std::ptrdiff_t>(sweep + settle), y[0].end());
    const double g = std::pow(10.0, -24.0 / 20.0);
    for (double f : {1500.0, 3000.0, 6000.0}) {
        const double measured = std::norm((1.0 - test::dft_at(h, f, sample_rate)) / (1.0 - g));
        INFO("fs " << sample_rate << " f " << f);
        CHECK(10.0 * std::log10(measured) == Approx(10.0 * std::log10(butterworth_power(f, 3000.0, sample_rate))).margin(0.05));
    }
}

TEST_CASE("a change of mode crossfades linearly from the split output to the wideband one over the smoothing time",
          "[deesser]") {
    dsp::DeesserSettings s;
    s.threshold_db = -60.0f;
    s.range_db = 12.0f;
    dsp::Deesser d = make(s, fs, 20.0f);
    // DC audio has no band, so split passes it whole and wideband turns it down by the range.
    const std::size_t before = 9600, fade = 960, frames = before + 2 * fade;
    Buffers y{std::vector<float>(frames, 0.5f)};
    const Buffers key{test::sine(0.4 * fs, fs, frames, 0.9)};
    float* a[1] = {y[0].data()};
    const float* k[1] = {key[0].data()};
    d.process(a, 1, static_cast<std::uint32_t>(before), k, 1);
    s.mode = dsp::DeesserMode::wideband;
    d.set(s);
    a[0] += before;
    k[0] += before;
    d.process(a, 1, static_cast<std::uint32_t>(2 * fade), k, 1);
    const double g = std::pow(10.0, -12.0 / 20.0);
    CHECK(y[0][before - 1] == Approx(0.5).margin(1e-6));
    double worst = 0.0;
    for (std::size_t i = 0; i < 2 * fade; ++i) {
        const double m = std::min(1.0, double(i + 1) / double(fade));
        worst = std::max(worst, std::fabs(y[0][before + i] - 0.5 * (1.0 - (1.0 - g) * m)));
    }
    CHECK(worst <= 1e-5);
}
