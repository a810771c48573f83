// Pitch correction against independent truth: synthetic voices made here (a band-limited glottal
// pulse train, -12 dB/octave above 300 Hz, through a cascade of vowel formant resonators, with a
// pitch curve the test chooses: drifts around the notes of a key, vibrato, glides, onsets; sine
// sweeps; noise), and the output's pitch measured by a YIN estimator written here (full rate,
// double precision, its own window and hop: not the insert's detector). Residual errors are in
// cents from the note the test knows the voice is near, measured after the retune time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "dsp/pitch_correct.hpp"
#include "harness.hpp"
#include "signals.hpp"

using namespace rtmix;

namespace {

constexpr double fs = 48000.0;

double midi_hz(double note) { return 440.0 * std::exp2((note - 69.0) / 12.0); }
double hz_midi(double hz) { return 69.0 + 12.0 * std::log2(hz / 440.0); }

struct Formant {
    double freq, bandwidth;
};
const std::vector<Formant> vowel_a = {{730, 80}, {1090, 90}, {2440, 120}};
const std::vector<Formant> vowel_i = {{270, 60}, {2290, 100}, {3010, 120}};

/// The glottal source's harmonic amplitude at frequency f: -12 dB/octave above 300 Hz.
double source_amplitude(double f) { return 1.0 / (1.0 + (f / 300.0) * (f / 300.0)); }

/// A two-pole resonator at `f` of bandwidth `bw`, unity gain at DC: its coefficients.
struct Resonator {
    double a1, a2, g;
    Resonator(const Formant& fm) {
        const double r = std::exp(-test::pi * fm.bandwidth / fs);
        a1 = 2.0 * r * std::cos(2.0 * test::pi * fm.freq / fs);
        a2 = -r * r;
        g = 1.0 - a1 - a2;
    }
    double magnitude(double f) const {
        const double w = 2.0 * test::pi * f / fs;
        const double re = 1.0 - a1 * std::cos(w) - a2 * std::cos(2.0 * w);
        const double im = a1 * std::sin(w) + a2 * std::sin(2.0 * w);
        return g / std::hypot(re, im);
    }
};

/// The voice's true spectral envelope: source amplitude times the formant cascade's magnitude.
double envelope(double f, const std::vector<Formant>& vowel) {
    double m = source_amplitude(f);
    for (const Formant& fm : vowel) m *= Resonator(fm).magnitude(f);
    return m;
}

/// A voice of `frames` samples whose pitch at time t (s) is f0(t) Hz (0: silence), harmonics up to
/// 8 kHz, through `vowel`, scaled to a peak of `level`.
std::vector<float> voice(std::size_t frames, const std::function<double(double)>& f0,
                         const std::vector<Formant>& vowel = vowel_a, double level = 0.3) {
    std::vector<double> x(frames, 0.0);
    double phase = 0.0;
    for (std::size_t i = 0; i < frames; ++i) {
        const double f = f0(static_cast<double>(i) / fs);
        if (f <= 0.0) continue;
        double s = 0.0;
        for (int k = 1; k * f < 8000.0; ++k) s += source_amplitude(k * f) * std::sin(k * phase);
        x[i] = s;
        phase = std::fmod(phase + 2.0 * test::pi * f / fs, 2.0 * test::pi);
    }
    for (const Formant& fm : vowel) {
        const Resonator r(fm);
        double y1 = 0.0, y2 = 0.0;
        for (double& v : x) {
            const double y = r.g * v + r.a1 * y1 + r.a2 * y2;
            y2 = y1;
            y1 = y;
            v = y;
        }
    }
    double peak = 1e-30;
    for (double v : x) peak = std::max(peak, std::abs(v));
    std::vector<float> out(frames);
    for (std::size_t i = 0; i < frames; ++i) out[i] = static_cast<float>(x[i] / peak * level);
    return out;
}

/// The test's own pitch estimator: YIN (de Cheveigne and Kawahara, 2002) over [start, start + w)
/// against lags up to fs / lo_hz, the absolute threshold 0.1, parabolic interpolation of the
/// normalized difference. Hz, or 0 where no lag dips below the threshold.
double yin(const std::vector<float>& x, std::size_t start, double lo_hz = 70.0, double hi_hz = 1000.0,
           std::size_t w = 1024) {
    const auto max_lag = static_cast<std::size_t>(fs / lo_hz) + 1;
    const auto min_lag = std::max<std::size_t>(2, static_cast<std::size_t>(fs / hi_hz));
    if (start + w + max_lag + 1 > x.size()) return 0.0;
    std::vector<double> dn(max_lag + 2, 1.0);
    double running = 0.0;
    for (std::size_t tau = 1; tau <= max_lag + 1; ++tau) {
        double d = 0.0;
        for (std::size_t j = 0; j < w; ++j) {
            const double e = static_cast<double>(x[start + j]) - x[start + j + tau];
            d += e * e;
        }
        running += d;
        dn[tau] = running > 0.0 ? d * static_cast<double>(tau) / running : 1.0;
    }
    for (std::size_t tau = min_lag; tau < max_lag; ++tau)
        if (dn[tau] < 0.1) {
            while (tau + 1 < max_lag && dn[tau + 1] < dn[tau]) ++tau;
            const double a = dn[tau - 1], b = dn[tau], c = dn[tau + 1];
            const double den = a - 2.0 * b + c;
            return fs / (static_cast<double>(tau) + (den > 0.0 ? 0.5 * (a - c) / den : 0.0));
        }
    return 0.0;
}

/// The pitch of `y` in frames every 10 ms: the frame at output sample n is centred on n.
struct Frame {
    double time;  // of the input the frame shows (output time minus the latency), s
    double hz;    // 0: unvoiced
};
std::vector<Frame> track(const std::vector<float>& y, std::uint32_t latency, double lo_hz = 70.0,
                         double hi_hz = 1000.0) {
    std::vector<Frame> out;
    const std::size_t w = 1024;
    for (std::size_t c = latency + w; c + w < y.size(); c += 480) {
        const std::size_t start = c - w / 2;
        out.push_back({(static_cast<double>(c) - latency) / fs, yin(y, start, lo_hz, hi_hz, w)});
    }
    return out;
}

struct Stats {
    double median = 0.0, p95 = 0.0, max = 0.0;
    std::size_t count = 0;
};
Stats stats(std::vector<double> errors) {
    Stats s;
    if (errors.empty()) return s;
    for (double& e : errors) e = std::abs(e);
    std::sort(errors.begin(), errors.end());
    s.count = errors.size();
    s.median = errors[errors.size() / 2];
    s.p95 = errors[std::min(errors.size() - 1, errors.size() * 95 / 100)];
    s.max = errors.back();
    return s;
}

/// Runs `x` through a corrector with settings `s` in blocks of `block`.
std::vector<float> correct(const std::vector<float>& x, const dsp::PitchSettings& s, std::size_t block = 64,
                           dsp::PitchCorrector* keep = nullptr) {
    dsp::PitchCorrector local;
    dsp::PitchCorrector& pc = keep != nullptr ? *keep : local;
    pc.prepare(fs);
    pc.set(s);
    pc.reset();
    std::vector<float> y = x;
    for (std::size_t pos = 0; pos < y.size(); pos += block)
        pc.process(y.data() + pos, static_cast<std::uint32_t>(std::min(block, y.size() - pos)));
    return y;
}

/// Cents from the nearest note whose pitch class is in `mask` (bit 0 = C).
double cents_from_scale(double hz, std::uint16_t mask) {
    const double m = hz_midi(hz);
    double best = 1e9;
    for (int n = static_cast<int>(std::floor(m)) - 12; n <= static_cast<int>(std::ceil(m)) + 12; ++n)
        if (mask >> (n % 12) & 1) best = std::min(best, std::abs(m - n));
    return 100.0 * best;
}

/// Notes held `seconds` each, one after another (onsets between them), drifting by drift(t) cents
/// (t from the note's start).
struct Melody {
    std::vector<int> notes;
    double seconds;
    std::function<double(double)> drift;
    double f0(double t) const {
        const auto i = static_cast<std::size_t>(t / seconds);
        if (i >= notes.size()) return 0.0;
        return midi_hz(notes[i]) * std::exp2(drift(t - i * seconds) / 1200.0);
    }
    std::size_t frames() const { return static_cast<std::size_t>(notes.size() * seconds * fs) + 4096; }
};

/// Errors of each tracked frame from the note the melody is at, from `settle` s after each onset
/// to `tail` s before the note ends; the fraction of those frames found unvoiced.
struct Residual {
    std::vector<double> from_note, from_scale;
    std::size_t unvoiced = 0;
};
Residual residual(const std::vector<Frame>& frames, const Melody& m, std::uint16_t mask, double settle, double tail,
                  double transpose = 0.0) {
    Residual r;
    for (const Frame& f : frames) {
        const auto i = static_cast<std::size_t>(f.time / m.seconds);
        if (i >= m.notes.size()) continue;
        const double into = f.time - i * m.seconds;
        if (into < settle || into > m.seconds - tail) continue;
        if (f.hz <= 0.0) {
            ++r.unvoiced;
            continue;
        }
        r.from_note.push_back(100.0 * (hz_midi(f.hz) - m.notes[i] - transpose));
        r.from_scale.push_back(cents_from_scale(f.hz, mask));
    }
    return r;
}

/// The pitch classes of A natural minor, written out: A B C D E F G.
constexpr std::uint16_t pcs(std::initializer_list<int> classes) {
    std::uint16_t m = 0;
    for (int c : classes) m = static_cast<std::uint16_t>(m | 1u << c);
    return m;
}
constexpr std::uint16_t a_natural_minor = pcs({9, 11, 0, 2, 4, 5, 7});

dsp::PitchSettings settings(const char* scale = "minor", std::uint32_t key = 9, float speed_ms = 0.0f) {
    dsp::PitchSettings s;
    s.key = key;
    for (std::uint32_t i = 0; i < dsp::scales.size(); ++i)
        if (dsp::scales[i].name == scale) s.scale = i;
    s.speed_ms = speed_ms;
    return s;
}

}  // namespace

TEST_CASE("the scales are the ones their names say", "[pitch]") {
    CHECK(dsp::scale_mask(9, 2, 0) == a_natural_minor);                       // A minor
    CHECK(dsp::scale_mask(0, 1, 0) == pcs({0, 2, 4, 5, 7, 9, 11}));            // C major
    CHECK(dsp::scale_mask(2, 3, 0) == pcs({2, 4, 5, 7, 9, 11, 0}));            // D dorian: the white keys
    CHECK(dsp::scale_mask(4, 4, 0) == pcs({4, 5, 7, 9, 11, 0, 2}));            // E phrygian
    CHECK(dsp::scale_mask(5, 5, 0) == pcs({5, 7, 9, 11, 0, 2, 4}));            // F lydian
    CHECK(dsp::scale_mask(7, 6, 0) == pcs({7, 9, 11, 0, 2, 4, 5}));            // G mixolydian
    CHECK(dsp::scale_mask(11, 7, 0) == pcs({11, 0, 2, 4, 5, 7, 9}));           // B locrian
    CHECK(dsp::scale_mask(9, 8, 0) == pcs({9, 11, 0, 2, 4, 5, 8}));            // A harmonic minor: G#
    CHECK(dsp::scale_mask(9, 9, 0) == pcs({9, 11, 0, 2, 4, 6, 8}));            // A melodic minor: F# G#
    CHECK(dsp::scale_mask(7, 10, 0) == pcs({7, 9, 11, 2, 4}));                 // G major pentatonic
    CHECK(dsp::scale_mask(9, 11, 0) == pcs({9, 0, 2, 4, 7}));                  // A minor pentatonic
    CHECK(dsp::scale_mask(9, 12, 0) == pcs({9, 0, 2, 3, 4, 7}));               // A blues: D#
    CHECK(dsp::scale_mask(3, 0, 0) == 0xFFF);                                  // chromatic
    CHECK(dsp::scale_mask(9, dsp::custom_scale, pcs({1, 6})) == pcs({1, 6}));  // custom: the notes as given
}

TEST_CASE("held notes drifting +-50 cents around the notes of A minor come out on the notes", "[pitch]") {
    // A minor, hard snap (speed 0) and the default 20 ms; a low, a middle and a high voice; each
    // note 0.8 s, drifting 50 cents away and back (a sine of 0.9 Hz, from 0 at the onset).
    const std::vector<int> middle = {57, 60, 64, 62, 59, 55, 65, 69};
    const auto [offset, speed] = GENERATE(table<int, float>({{-12, 0.0f}, {0, 0.0f}, {12, 0.0f}, {0, 20.0f}, {-12, 20.0f}}));
    Melody m{middle, 0.8, [](double t) { return 50.0 * std::sin(2.0 * test::pi * 0.9 * t); }};
    for (int& n : m.notes) n += offset;
    const std::vector<float> x = voice(m.frames(), [&](double t) { return m.f0(t); });
    const std::vector<float> y = correct(x, settings("minor", 9, speed));
    const std::uint32_t latency = dsp::PitchCorrector::latency_frames(fs);
    // After the retune time: 100 ms for the detector's window and five time constants.
    const double settle = 0.1 + 5.0 * speed / 1000.0;
    const Residual in = residual(track(x, 0), m, a_natural_minor, settle, 0.03);
    const Residual out = residual(track(y, latency), m, a_natural_minor, settle, 0.03);
    const Stats before = stats(in.from_note), after = stats(out.from_note), scale = stats(out.from_scale);
    INFO("voice offset " << offset << " semitones, speed " << speed << " ms: input median " << before.median << " p95 "
                         << before.p95 << " cents; output median " << after.median << " p95 " << after.p95 << " max "
                         << after.max << " (" << after.count << " frames, " << out.unvoiced << " unvoiced)");
    REQUIRE(before.p95 > 40.0);  // the input really is out of tune
    REQUIRE(after.count > 0.9 * before.count);
    CHECK(out.unvoiced == 0);
    if (speed == 0.0f) {
        // Hard snap: the targets.
        CHECK(after.median < 3.0);
        CHECK(after.p95 < 10.0);
        CHECK(scale.median < 3.0);
        CHECK(scale.p95 < 10.0);
    } else {
        // A retune speed is a deliberate lag: the correction follows the voice's drift (up to
        // 50 x 2 pi x 0.9 = 283 cents/s) a time constant late, 5.7 cents at 20 ms; the
        // detector's own lag adds to it for a low voice.
        CHECK(after.median < 6.0);
        CHECK(after.p95 < 10.0);
    }
}

TEST_CASE("a voice with vibrato, gliding between notes, is held on the notes of the scale", "[pitch]") {
    // Vibrato of +-30 cents at 5.5 Hz on notes 1 s long, then glides of 250 ms between them
    // (linear in cents); hard snap. The output's pitch is measured against the nearest note of
    // the scale: during a glide the target steps through the notes between (A, B, C).
    const double vib = 30.0, rate = 5.5;
    Melody m{{57, 60, 64, 60, 57}, 1.0, [&](double t) { return vib * std::sin(2.0 * test::pi * rate * t); }};
    SECTION("vibrato") {
        const std::vector<float> x = voice(m.frames(), [&](double t) { return m.f0(t); });
        const std::vector<float> y = correct(x, settings("minor", 9, 0.0f));
        const Residual out = residual(track(y, dsp::PitchCorrector::latency_frames(fs)), m, a_natural_minor, 0.1, 0.03);
        const Stats s = stats(out.from_note);
        INFO("vibrato +-30 cents at 5.5 Hz, speed 0: median " << s.median << " p95 " << s.p95 << " max " << s.max);
        // The pitch moves up to 1040 cents/s; the detector's estimate lags the voice by about
        // half its window and a hop (about 8 ms for this voice), which leaves a few cents.
        CHECK(s.median < 5.0);
        CHECK(s.p95 < 12.0);
    }
    SECTION("glides") {
        const double glide = 0.25;
        auto f0 = [&](double t) {
            const auto i = static_cast<std::size_t>(t / m.seconds);
            if (i >= m.notes.size()) return 0.0;
            const double into = t - i * m.seconds;
            const double from = i > 0 ? m.notes[i - 1] : m.notes[0];
            const double note = into < glide ? from + (m.notes[i] - from) * into / glide : m.notes[i];
            return midi_hz(note);
        };
        const std::vector<float> x = voice(m.frames(), f0);
        const std::vector<float> y = correct(x, settings("minor", 9, 0.0f));
        std::vector<double> held, gliding;
        for (const Frame& f : track(y, dsp::PitchCorrector::latency_frames(fs))) {
            const auto i = static_cast<std::size_t>(f.time / m.seconds);
            if (f.hz <= 0.0 || i >= m.notes.size() || f.time < 0.1) continue;
            const double into = f.time - i * m.seconds;
            (into < glide + 0.05 && i > 0 ? gliding : held).push_back(cents_from_scale(f.hz, a_natural_minor));
        }
        const Stats g = stats(gliding), h = stats(held);
        INFO("glides: median " << g.median << " p95 " << g.p95 << "; held: median " << h.median << " p95 " << h.p95);
        CHECK(h.median < 3.0);
        CHECK(h.p95 < 10.0);
        // While gliding the voice crosses a note boundary every 100 ms or so: the frames that
        // straddle a step (21 ms of the test's window) read between the notes.
        CHECK(g.median < 3.0);
        CHECK(g.p95 < 30.0);
    }
}

TEST_CASE("a sine sweep comes out as semitone steps", "[pitch]") {
    // 150 Hz to 600 Hz in 4 s (6 semitones a second), chromatic, hard snap.
    const double seconds = 4.0, f1 = 150.0, f2 = 600.0;
    const auto length = static_cast<std::size_t>(seconds * fs) + 4096;
    std::vector<float> x(length, 0.0f);
    double phase = 0.0;
    for (std::size_t i = 0; i < length; ++i) {
        const double t = std::min(seconds, static_cast<double>(i) / fs);
        x[i] = static_cast<float>(0.3 * std::sin(phase));
        phase = std::fmod(phase + 2.0 * test::pi * f1 * std::pow(f2 / f1, t / seconds) / fs, 2.0 * test::pi);
    }
    const std::vector<float> y = correct(x, settings("chromatic", 0, 0.0f));
    // On the steps: frames whose neighbours (10 ms either side) read the same note, so the test's
    // 21 ms window does not straddle a step.
    std::vector<Frame> frames;
    for (const Frame& f : track(y, dsp::PitchCorrector::latency_frames(fs), 100.0, 1000.0))
        if (f.time >= 0.1 && f.time <= seconds - 0.05 && f.hz > 0.0) frames.push_back(f);
    std::vector<double> on_steps, all;
    std::size_t steps = 0;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const double note = std::round(hz_midi(frames[i].hz));
        all.push_back(cents_from_scale(frames[i].hz, 0xFFF));
        if (i == 0 || note != std::round(hz_midi(frames[i - 1].hz))) ++steps;
        if (i > 0 && i + 1 < frames.size() && note == std::round(hz_midi(frames[i - 1].hz)) &&
            note == std::round(hz_midi(frames[i + 1].hz)))
            on_steps.push_back(all.back());
    }
    const Stats s = stats(on_steps), a = stats(all);
    INFO("sweep: on the steps median " << s.median << " p95 " << s.p95 << " cents (" << s.count << " of " << a.count
                                       << " frames; all frames: median " << a.median << " p95 " << a.p95 << "), "
                                       << steps << " notes");
    CHECK(s.median < 3.0);
    CHECK(s.p95 < 10.0);
    CHECK(s.count > a.count / 2);
    CHECK(steps >= 23);  // 24 semitones: 150 Hz to 600 Hz
    CHECK(steps <= 27);
}

TEST_CASE("noise, breaths and silence pass through untouched, delayed by the latency", "[pitch]") {
    const std::uint32_t latency = dsp::PitchCorrector::latency_frames(fs);
    const std::size_t frames = static_cast<std::size_t>(3.0 * fs);
    std::mt19937 random(7);
    std::normal_distribution<float> gauss(0.0f, 0.1f);
    std::vector<float> white(frames), breath(frames, 0.0f), silence(frames, 0.0f);
    for (float& v : white) v = gauss(random);
    // A breath: noise through a 2nd-order bandpass around 1.5 kHz, swelling and fading.
    double y1 = 0.0, y2 = 0.0;
    const Resonator band({1500.0, 1200.0});
    for (std::size_t i = 0; i < frames; ++i) {
        const double env = std::sin(test::pi * static_cast<double>(i) / frames);
        const double y = band.g * gauss(random) * 3.0 + band.a1 * y1 + band.a2 * y2;
        y2 = y1;
        y1 = y;
        breath[i] = static_cast<float>(env * y);
    }
    for (const std::vector<float>* x : {&white, &breath, &silence}) {
        const std::vector<float> y = correct(*x, settings("minor", 9, 0.0f));
        std::size_t differ = 0;
        for (std::size_t i = latency; i < frames; ++i) differ += y[i] != (*x)[i - latency];
        CHECK(differ == 0);
        const double in_rms = test::rms(x->data(), 0, frames - latency), out_rms = test::rms(y.data(), latency, frames);
        if (in_rms > 0.0) CHECK(std::abs(test::to_db(out_rms / in_rms)) < 0.5);
    }
}

TEST_CASE("a chord does not warble: it passes through", "[pitch]") {
    // A major triad of three voices, each drifting on its own (out of tune by up to 30 cents).
    const std::size_t frames = static_cast<std::size_t>(3.0 * fs);
    std::vector<float> x(frames, 0.0f);
    const int notes[3] = {57, 61, 64};
    for (int v = 0; v < 3; ++v) {
        const std::vector<float> part = voice(
            frames, [&](double t) { return midi_hz(notes[v]) * std::exp2(30.0 * std::sin(1.3 * t + 2.0 * v) / 1200.0); },
            v == 1 ? vowel_i : vowel_a, 0.2);
        for (std::size_t i = 0; i < frames; ++i) x[i] += part[i];
    }
    const std::uint32_t latency = dsp::PitchCorrector::latency_frames(fs);
    const std::vector<float> y = correct(x, settings("chromatic", 0, 0.0f));
    double error = 0.0, energy = 0.0;
    for (std::size_t i = latency; i < frames; ++i) {
        const double d = static_cast<double>(y[i]) - x[i - latency];
        error += d * d;
        energy += static_cast<double>(x[i - latency]) * x[i - latency];
    }
    INFO("difference from the delayed chord: " << 10.0 * std::log10(error / energy + 1e-30) << " dB");
    CHECK(error < 0.01 * energy);  // below -20 dB
}

TEST_CASE("the latency measured from an onset is the reported one, to the sample", "[pitch]") {
    for (const double rate : {44100.0, 48000.0, 96000.0}) {
        dsp::PitchCorrector pc;
        pc.prepare(rate);
        const std::uint32_t latency = pc.latency();
        CHECK(latency == dsp::PitchCorrector::latency_frames(rate));
        CHECK(latency == static_cast<std::uint32_t>(std::ceil(rate / 120.0)) + 8);
        CHECK(latency <= static_cast<std::uint32_t>(0.010 * rate));  // at most 10 ms
    }
    CHECK(dsp::PitchCorrector::latency_frames(fs) == 408);
    // A voice from silence at frame 24000 (0.5 s), out of tune by 40 cents so the corrector acts.
    const std::uint32_t onset = 24000;
    const std::vector<float> x =
        voice(static_cast<std::size_t>(2.0 * fs), [&](double t) { return t * fs >= onset ? midi_hz(57.4) : 0.0; });
    std::uint32_t first_in = 0;
    while (x[first_in] == 0.0f) ++first_in;
    REQUIRE(first_in >= onset);
    REQUIRE(first_in < onset + 4);  // sin(0) = 0: the voice's first sample that is not 0
    for (const std::size_t block : {std::size_t{1}, std::size_t{64}, std::size_t{1000}}) {
        const std::vector<float> y = correct(x, settings("minor", 9, 0.0f), block);
        std::uint32_t first_out = 0;
        while (y[first_out] == 0.0f) ++first_out;
        CHECK(first_out - first_in == dsp::PitchCorrector::latency_frames(fs));
        // And the note is corrected once it has settled (A3, 40 cents flat of where it was).
        const double hz = yin(y, onset + 408 + static_cast<std::size_t>(0.5 * fs));
        CHECK(std::abs(100.0 * (hz_midi(hz) - 57.0)) < 3.0);
    }
}

TEST_CASE("formants stay where they were through a transpose of 2 semitones", "[pitch]") {
    // G3 on the vowels /a/ and /i/, transposed up 2 semitones with no correction: the output's
    // harmonics (single-bin DFTs at k f0' over a steady half second) against the voice's true
    // envelope (source and formant filters, evaluated here) at those frequencies, below 4 kHz, in
    // dB after the mean difference (the level) is taken out. A voice whose formants moved with
    // its pitch (formants = false: resampled grains) is measured the same way.
    const double f0 = midi_hz(55.0), f1 = f0 * std::exp2(2.0 / 12.0);
    for (const std::vector<Formant>* vowel : {&vowel_a, &vowel_i}) {
        const std::vector<float> x = voice(static_cast<std::size_t>(1.5 * fs), [&](double) { return f0; }, *vowel);
        auto distance = [&](const std::vector<float>& y, double pitch) {
            const std::size_t begin = static_cast<std::size_t>(0.6 * fs), n = static_cast<std::size_t>(0.5 * fs);
            std::vector<double> diff;
            for (int k = 1; k * pitch < 4000.0; ++k) {
                std::complex<double> acc = 0.0;
                const double w = 2.0 * test::pi * k * pitch / fs;
                for (std::size_t i = 0; i < n; ++i) {
                    const double hann = 0.5 - 0.5 * std::cos(2.0 * test::pi * static_cast<double>(i) / n);
                    acc += hann * y[begin + i] * std::polar(1.0, -w * static_cast<double>(i));
                }
                diff.push_back(test::to_db(std::abs(acc)) - test::to_db(envelope(k * pitch, *vowel)));
            }
            double mean = 0.0, sq = 0.0;
            for (double d : diff) mean += d / diff.size();
            for (double d : diff) sq += (d - mean) * (d - mean) / diff.size();
            return std::sqrt(sq);
        };
        dsp::PitchSettings s = settings("chromatic", 0, 0.0f);
        s.amount = 0.0f;
        s.transpose = 2.0f;
        const std::vector<float> kept = correct(x, s);
        s.formants = false;
        const std::vector<float> moved = correct(x, s);
        const double in = distance(x, f0), d_kept = distance(kept, f1), d_moved = distance(moved, f1);
        // The pitch is where the transpose puts it, both ways.
        const double hz_kept = yin(kept, static_cast<std::size_t>(0.8 * fs)), hz_moved = yin(moved, static_cast<std::size_t>(0.8 * fs));
        INFO("vowel F1 " << (*vowel)[0].freq << " Hz: envelope distance input " << in << " dB, kept " << d_kept
                         << " dB, moved " << d_moved << " dB; pitch " << hz_kept << " / " << hz_moved << " Hz (want "
                         << f1 << ")");
        CHECK(std::abs(1200.0 * std::log2(hz_kept / f1)) < 2.0);
        CHECK(std::abs(1200.0 * std::log2(hz_moved / f1)) < 2.0);
        CHECK(in < 0.1);  // the measure itself: the input sits on its envelope
        // PSOLA's grains are two periods long: the envelope comes out smoothed over about f0 (a
        // sharp formant's peak, /a/'s F1 of 80 Hz between harmonics 196 Hz apart, comes out a
        // few dB off), but it stays where it was, while resampled grains move it by the 12 % of
        // the transpose.
        CHECK(d_kept < 5.0);
        CHECK(d_kept < 0.75 * d_moved);
    }
}

TEST_CASE("hold_cents keeps a note that sits between two from flipping", "[pitch]") {
    // A voice at A3 + 50 cents, wobbling +-8 cents: half-way to A#3 in the chromatic scale.
    const std::vector<float> x = voice(static_cast<std::size_t>(3.0 * fs),
                                       [](double t) { return midi_hz(57.5 + 0.08 * std::sin(2.0 * test::pi * 1.5 * t)); });
    auto notes_heard = [&](float hold) {
        dsp::PitchSettings s = settings("chromatic", 0, 0.0f);
        s.hold_cents = hold;
        const std::vector<float> y = correct(x, s);
        std::vector<int> seen;
        for (const Frame& f : track(y, dsp::PitchCorrector::latency_frames(fs)))
            if (f.time > 0.1 && f.hz > 0.0) {
                const int n = static_cast<int>(std::lround(hz_midi(f.hz)));
                if (std::find(seen.begin(), seen.end(), n) == seen.end()) seen.push_back(n);
            }
        return seen.size();
    };
    CHECK(notes_heard(20.0f) == 1);
    CHECK(notes_heard(0.0f) == 2);
}

TEST_CASE("amount, transpose, a4_hz, a custom scale and the meters", "[pitch]") {
    // A3 + 30 cents, held.
    const double pitch = 57.3;
    const std::vector<float> x = voice(static_cast<std::size_t>(1.5 * fs), [&](double) { return midi_hz(pitch); });
    const std::size_t at = static_cast<std::size_t>(1.0 * fs);
    auto heard = [&](const dsp::PitchSettings& s) { return hz_midi(yin(correct(x, s), at)); };
    dsp::PitchSettings s = settings("chromatic", 0, 0.0f);
    SECTION("the meters") {
        dsp::PitchCorrector pc;
        (void)correct(x, s, 64, &pc);
        CHECK(std::abs(100.0 * (hz_midi(pc.detected_hz()) - pitch)) < 2.0);
        CHECK(pc.target_note() == 57);
        CHECK(pc.correction_cents() == Approx(-30.0).margin(2.0));
    }
    SECTION("amount 0.5 goes half way") {
        s.amount = 0.5f;
        CHECK(100.0 * (heard(s) - pitch) == Approx(-15.0).margin(2.0));
    }
    SECTION("amount 0 and no transpose pass the voice through (delayed)") {
        s.amount = 0.0f;
        const std::vector<float> y = correct(x, s);
        const std::uint32_t latency = dsp::PitchCorrector::latency_frames(fs);
        double error = 0.0, energy = 0.0;
        for (std::size_t i = static_cast<std::size_t>(0.2 * fs); i < x.size(); ++i) {
            const double d = static_cast<double>(y[i]) - x[i - latency];
            error += d * d;
            energy += static_cast<double>(x[i - latency]) * x[i - latency];
        }
        INFO("difference " << 10.0 * std::log10(error / energy) << " dB");
        CHECK(error < 1e-3 * energy);  // below -30 dB
    }
    SECTION("transpose moves the corrected note") {
        s.transpose = -5.0f;
        CHECK(100.0 * (heard(s) - 52.0) == Approx(0.0).margin(2.0));
        s.transpose = 7.0f;
        CHECK(100.0 * (heard(s) - 64.0) == Approx(0.0).margin(2.0));
    }
    SECTION("a4_hz retunes the scale") {
        s.a4_hz = 432.0f;  // the notes move down 31.8 cents: A3 + 30 cents is 62 cents above A3 there
        const double a3_432 = 57.0 + 12.0 * std::log2(432.0 / 440.0);
        CHECK(100.0 * (heard(s) - (a3_432 + 1.0)) == Approx(0.0).margin(2.0));  // nearest: A#3 at 432
    }
    SECTION("a custom set of notes") {
        s.scale = dsp::custom_scale;
        s.notes = pcs({0, 4, 7});  // C E G: A3 + 30 cents is nearest to G3
        CHECK(100.0 * (heard(s) - 55.0) == Approx(0.0).margin(2.0));
    }
}

TEST_CASE("pitch correction gives the same output at any block size", "[pitch]") {
    Melody m{{57, 60, 64}, 0.5, [](double t) { return 40.0 * std::sin(2.0 * test::pi * 1.1 * t); }};
    const std::vector<float> x = voice(m.frames(), [&](double t) { return m.f0(t); });
    dsp::PitchSettings s = settings("minor", 9, 20.0f);
    s.transpose = 3.0f;
    const std::vector<float> a = correct(x, s, 1), b = correct(x, s, 64), c = correct(x, s, 999);
    CHECK(a == b);
    CHECK(a == c);
}

TEST_CASE("a pitch insert runs on mono tracks, is refused on stereo ones, and reports its latency",
          "[pitch][inserts]") {
    Engine e(EngineOptions{.max_block_frames = 256});
    RTMIX_REQUIRE_OK(e.add_track("vox", 1));
    RTMIX_REQUIRE_OK(e.add_track("gtr", 2));
    RTMIX_REQUIRE_OK(e.add_bus("b"));
    std::string path;
    RTMIX_REQUIRE_OK(e.add_insert("track.vox", "pitch", InsertPosition::post, &path));
    CHECK(path == "track.vox.insert.1");
    for (const char* stereo : {"track.gtr", "bus.b", "master"}) {
        const Status s = e.add_insert(stereo, "pitch", InsertPosition::post);
        CHECK(!s.ok());
        CHECK_THAT(s.message(), Catch::Contains("needs a mono signal"));
    }
    // A stereo insert before it would make its signal stereo: refused too.
    const Status widened = e.add_insert("track.vox", "reverb", InsertPosition::pre);
    CHECK(!widened.ok());
    CHECK_THAT(widened.message(), Catch::Contains("after a stereo insert"));
    RTMIX_REQUIRE_OK(e.add_insert("track.vox", "reverb", InsertPosition::post));  // after it: fine
    RTMIX_REQUIRE_OK(e.remove_insert("track.vox.insert.2"));
    RTMIX_REQUIRE_OK(e.set(path + ".key", "A"));
    RTMIX_REQUIRE_OK(e.set(path + ".scale", "minor"));
    CHECK(!e.set(path + ".scale", "minorr").ok());
    CHECK(!e.set(path + ".notes", 0.0).ok());
    CHECK(e.latency_frames() == dsp::PitchCorrector::latency_frames(48000.0));
    // Through the engine: a voice from silence reaches the master after exactly that latency, and
    // every parameter change keeps it.
    RTMIX_REQUIRE_OK(e.set(path + ".transpose", 3.0));
    RTMIX_REQUIRE_OK(e.set(path + ".min_hz", 100.0));
    CHECK(e.latency_frames() == 408);
    const std::uint32_t onset = 12000;
    const std::vector<float> x = voice(48000, [&](double t) { return t * fs >= onset ? midi_hz(57.3) : 0.0; });
    const test::Stereo out = test::render(e, {x}, x.size(), 256);
    std::uint32_t first_in = 0, first = 0;
    while (x[first_in] == 0.0f) ++first_in;
    while (out.left[first] == 0.0f) ++first;
    CHECK(first_in >= onset);
    CHECK(first == first_in + 408);
}
