// EQ magnitude responses against the analytic formulas of the RBJ "Audio EQ Cookbook" biquads
// (the bilinear transform of the same analog prototypes, pre-warped at the band frequency), and
// the 4th-order Butterworth magnitude for the 24 dB/oct passes.
#include <catch2/catch.hpp>

#include <complex>
#include <cstring>
#include <random>
#include <vector>

#include "dsp/eq.hpp"
#include "signals.hpp"

using namespace rtmix;
using rtmix::test::pi;

namespace {

/// |H(e^jw)| of an RBJ cookbook biquad: b0..b2 over a0..a2 evaluated on the unit circle.
double biquad_magnitude(const double b[3], const double a[3], double w) {
    const std::complex<double> z1 = std::polar(1.0, -w), z2 = std::polar(1.0, -2.0 * w);
    return std::abs((b[0] + b[1] * z1 + b[2] * z2) / (a[0] + a[1] * z1 + a[2] * z2));
}

/// Expected magnitude in dB from the cookbook formulas (Q form for every type).
double cookbook_db(dsp::EqType type, double f0, double gain_db, double q, double fs, double f) {
    const double w0 = 2.0 * pi * f0 / fs, cw = std::cos(w0), sw = std::sin(w0);
    const double alpha = sw / (2.0 * q);
    const double A = std::pow(10.0, gain_db / 40.0);
    double b[3], a[3];
    switch (type) {
        case dsp::EqType::lowpass:
            b[0] = (1 - cw) / 2; b[1] = 1 - cw; b[2] = (1 - cw) / 2;
            a[0] = 1 + alpha; a[1] = -2 * cw; a[2] = 1 - alpha;
            break;
        case dsp::EqType::highpass:
            b[0] = (1 + cw) / 2; b[1] = -(1 + cw); b[2] = (1 + cw) / 2;
            a[0] = 1 + alpha; a[1] = -2 * cw; a[2] = 1 - alpha;
            break;
        case dsp::EqType::peak:
            b[0] = 1 + alpha * A; b[1] = -2 * cw; b[2] = 1 - alpha * A;
            a[0] = 1 + alpha / A; a[1] = -2 * cw; a[2] = 1 - alpha / A;
            break;
        case dsp::EqType::notch:
            b[0] = 1; b[1] = -2 * cw; b[2] = 1;
            a[0] = 1 + alpha; a[1] = -2 * cw; a[2] = 1 - alpha;
            break;
        case dsp::EqType::lowshelf: {
            const double s = 2 * std::sqrt(A) * alpha;
            b[0] = A * ((A + 1) - (A - 1) * cw + s); b[1] = 2 * A * ((A - 1) - (A + 1) * cw);
            b[2] = A * ((A + 1) - (A - 1) * cw - s);
            a[0] = (A + 1) + (A - 1) * cw + s; a[1] = -2 * ((A - 1) + (A + 1) * cw);
            a[2] = (A + 1) + (A - 1) * cw - s;
            break;
        }
        case dsp::EqType::highshelf: {
            const double s = 2 * std::sqrt(A) * alpha;
            b[0] = A * ((A + 1) + (A - 1) * cw + s); b[1] = -2 * A * ((A - 1) + (A + 1) * cw);
            b[2] = A * ((A + 1) + (A - 1) * cw - s);
            a[0] = (A + 1) - (A - 1) * cw + s; a[1] = 2 * ((A - 1) - (A + 1) * cw);
            a[2] = (A + 1) - (A - 1) * cw - s;
            break;
        }
        default: return 0.0;
    }
    return test::to_db(biquad_magnitude(b, a, 2.0 * pi * f / fs));
}

/// Measured magnitude in dB: the DFT of the band's impulse response at `f`.
double measured_db(const dsp::EqBandSettings& s, double fs, double f) {
    dsp::EqBand band;
    band.set(s);
    band.prepare(fs, 20.0f);
    std::vector<float> h = test::impulse(1 << 16);
    float* channels[1] = {h.data()};
    band.process(channels, 1, static_cast<std::uint32_t>(h.size()));
    return test::to_db(std::abs(test::dft_at(h, f, fs)));
}

const double probe_hz[] = {31.5, 125.0, 440.0, 1000.0, 2500.0, 6300.0, 14000.0};

}  // namespace

TEST_CASE("every EQ band type matches the cookbook magnitude response within 0.1 dB", "[eq]") {
    const double fs = GENERATE(44100.0, 48000.0, 96000.0);
    const dsp::EqType type = GENERATE(dsp::EqType::lowpass, dsp::EqType::highpass, dsp::EqType::peak,
                                      dsp::EqType::notch, dsp::EqType::lowshelf, dsp::EqType::highshelf);
    struct Case { double f0, gain_db, q; };
    const Case c = GENERATE(Case{1000.0, 6.0, 0.707}, Case{250.0, -9.0, 2.0}, Case{5000.0, 12.0, 0.5});
    dsp::EqBandSettings s;
    s.type = type;
    s.freq_hz = static_cast<float>(c.f0);
    s.gain_db = static_cast<float>(c.gain_db);
    s.q = static_cast<float>(c.q);
    for (double f : probe_hz) {
        if (type == dsp::EqType::notch && std::fabs(f - c.f0) / c.f0 < 0.05) continue;  // -inf at f0
        INFO("type " << int(type) << " fs " << fs << " f0 " << c.f0 << " at " << f << " Hz");
        CHECK(measured_db(s, fs, f) == Approx(cookbook_db(type, c.f0, c.gain_db, c.q, fs, f)).margin(0.1));
    }
}

TEST_CASE("24 dB/oct passes are 4th-order Butterworth: |H|^2 = 1 / (1 + (W/Wc)^8) pre-warped", "[eq]") {
    const double fs = GENERATE(44100.0, 48000.0, 96000.0);
    const bool highpass = GENERATE(false, true);
    const double f0 = 800.0;
    dsp::EqBandSettings s;
    s.type = highpass ? dsp::EqType::highpass : dsp::EqType::lowpass;
    s.freq_hz = static_cast<float>(f0);
    s.slope_db_oct = 24;
    for (double f : probe_hz) {
        const double ratio = std::tan(pi * f / fs) / std::tan(pi * f0 / fs);
        const double r8 = std::pow(highpass ? 1.0 / ratio : ratio, 8.0);
        const double expected_db = -10.0 * std::log10(1.0 + r8);
        if (expected_db < -100.0) continue;  // below float resolution of the measurement
        INFO("fs " << fs << " at " << f << " Hz");
        CHECK(measured_db(s, fs, f) == Approx(expected_db).margin(0.1));
    }
}

TEST_CASE("a 24 dB/oct highpass falls 24 dB per octave well below its cutoff", "[eq]") {
    dsp::EqBandSettings s;
    s.type = dsp::EqType::highpass;
    s.freq_hz = 2000.0f;
    s.slope_db_oct = 24;
    const double slope = measured_db(s, 48000.0, 250.0) - measured_db(s, 48000.0, 125.0);
    CHECK(slope == Approx(24.0).margin(0.3));
}

TEST_CASE("an EQ band whose settings jump every 64 samples stays bounded and finite", "[eq]") {
    const double fs = 48000.0;
    dsp::EqBand band;
    dsp::EqBandSettings s;
    s.type = dsp::EqType::peak;
    s.gain_db = 18.0f;
    s.q = 8.0f;
    band.set(s);
    band.prepare(fs, 20.0f);
    std::vector<float> x = test::sine(1000.0, fs, 48000, 0.25);
    float* channels[1] = {x.data()};
    // Jump the target between extremes every 64 samples: the glide and the SVF keep it stable.
    for (std::uint32_t block = 0; block < x.size() / 64; ++block) {
        s.freq_hz = block % 2 ? 20.0f : 20000.0f;
        s.q = block % 3 ? 0.1f : 20.0f;
        band.set(s);
        float* ch[1] = {channels[0] + block * 64};
        band.process(ch, 1, 64);
    }
    // Bound: input 0.25 through at most +18 dB (x7.94) and a resonance overshoot margin.
    CHECK(test::peak(x.data(), 0, x.size()) < 0.25 * 7.95 * 2.0);
    for (float v : x) REQUIRE(std::isfinite(v));
}

TEST_CASE("a stereo band filters each channel exactly as a mono band does, independently", "[eq]") {
    const std::uint8_t slope = GENERATE(std::uint8_t{12}, std::uint8_t{24});
    dsp::EqBandSettings s;
    s.type = dsp::EqType::highpass;
    s.freq_hz = 900.0f;
    s.slope_db_oct = slope;
    const std::vector<float> left_in = test::sine(300.0, 48000.0, 4096, 0.7);
    std::vector<float> right_in = test::impulse(4096);
    right_in[1000] = -0.5f;

    auto run = [&](std::vector<float*> channels) {
        dsp::EqBand band;
        band.set(s);
        band.prepare(48000.0, 20.0f);
        band.process(channels.data(), static_cast<std::uint32_t>(channels.size()), 4096);
    };
    std::vector<float> l = left_in, r = right_in, mono_l = left_in, mono_r = right_in;
    run({l.data(), r.data()});
    run({mono_l.data()});
    run({mono_r.data()});
    for (std::size_t i = 0; i < 4096; ++i) {
        REQUIRE(l[i] == Approx(mono_l[i]).margin(1e-6));
        REQUIRE(r[i] == Approx(mono_r[i]).margin(1e-6));
    }
}

TEST_CASE("turning a band on and off, switching its type or slope, and moving it never clicks", "[eq]") {
    // A 440 Hz tone through a band that is switched around every 4800 samples. A click shows as a
    // second difference far above what any steady sine of that frequency can produce: A w^2 for
    // amplitude A. The loudest clean version of the tone here is the input boosted by 12 dB.
    const double fs = 48000.0, freq = 440.0, amplitude = 0.5;
    dsp::EqBand band;
    band.prepare(fs, 20.0f);
    std::vector<float> x = test::sine(freq, fs, 48000, amplitude);
    dsp::EqBandSettings peak{dsp::EqType::peak, 440.0f, 12.0f, 1.0f, 12};
    dsp::EqBandSettings shelf{dsp::EqType::lowshelf, 800.0f, -12.0f, 0.7f, 12};
    dsp::EqBandSettings hp12{dsp::EqType::highpass, 1000.0f, 0.0f, 0.7f, 12};
    dsp::EqBandSettings hp24 = hp12;
    hp24.slope_db_oct = 24;
    dsp::EqBandSettings far = peak;
    far.freq_hz = 4000.0f;
    const dsp::EqBandSettings off{};
    const dsp::EqBandSettings steps[] = {peak, off, peak, shelf, hp12, hp24, off, far, peak, off};
    for (std::size_t k = 0; k < x.size() / 4800; ++k) {
        band.set(steps[k % std::size(steps)]);
        for (std::size_t pos = k * 4800; pos < (k + 1) * 4800; pos += 64) {
            float* ch[1] = {x.data() + pos};
            band.process(ch, 1, 64);
        }
    }
    const double w = 2.0 * test::pi * freq / fs;
    const double loudest_clean = amplitude * std::pow(10.0, 12.0 / 20.0) * w * w;
    double largest = 0.0;
    for (std::size_t i = 2; i < x.size(); ++i)
        largest = std::max(largest, double(std::fabs(x[i] - 2.0f * x[i - 1] + x[i - 2])));
    CHECK(largest < 1.5 * loudest_clean);
}

TEST_CASE("steady bands run as one cascade with exactly the output of band-by-band processing", "[eq]") {
    // Two equalizers set alike: one runs its bands through Equalizer::process (the fused cascade
    // once steady), the other band by band. Their outputs must match bit for bit, with one and
    // two stages per band (a 24 dB/oct highpass has two).
    const double fs = 48000.0;
    auto setup = [&](dsp::Equalizer& eq) {
        eq.prepare(fs, 20.0f);
        const dsp::EqBandSettings bands[] = {
            {dsp::EqType::highpass, 40.0f, 0.0f, 0.7071f, 24}, {dsp::EqType::lowshelf, 150.0f, 3.0f, 0.7071f, 12},
            {dsp::EqType::peak, 1200.0f, -4.0f, 1.5f, 12},     {dsp::EqType::notch, 3000.0f, 0.0f, 4.0f, 12},
            {dsp::EqType::highshelf, 9000.0f, 2.0f, 0.7071f, 12}, {dsp::EqType::lowpass, 18000.0f, 0.0f, 0.7071f, 12}};
        for (std::uint32_t b = 0; b < 6; ++b) eq.band(b).set(bands[b]);
    };
    dsp::Equalizer fused, separate;
    setup(fused);
    setup(separate);
    std::mt19937 random(3);
    std::normal_distribution<float> noise(0.0f, 0.3f);
    for (int block = 0; block < 200; ++block) {
        std::vector<float> l(64), r(64);
        for (std::size_t i = 0; i < 64; ++i) {
            l[i] = noise(random);
            r[i] = noise(random);
        }
        std::vector<float> l2 = l, r2 = r;
        float* a[2] = {l.data(), r.data()};
        float* b[2] = {l2.data(), r2.data()};
        fused.process(a, 2, 64);
        for (std::uint32_t band = 0; band < dsp::max_eq_bands; ++band) separate.band(band).process(b, 2, 64);
        INFO("block " << block);
        REQUIRE(std::memcmp(l.data(), l2.data(), 64 * sizeof(float)) == 0);
        REQUIRE(std::memcmp(r.data(), r2.data(), 64 * sizeof(float)) == 0);
    }
}
