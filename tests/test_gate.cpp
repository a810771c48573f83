// The gate against its definition (dsp/gate.hpp): the expander curve max(range, (ratio - 1)(L - T)),
// one-pole opening and closing with time constants attack_ms and release_ms, hold counted in
// frames, hysteresis, the key, stereo linking, and block-size independence. Every expectation is
// worked out here from the formulas, or from a double-precision model of the definition.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "dsp/gate.hpp"
#include "signals.hpp"

using namespace rtmix;

namespace {

constexpr double fs = 48000.0;

dsp::Gate make(const dsp::GateSettings& s) {
    dsp::Gate g;
    g.set(s);
    g.prepare(fs);
    return g;
}

double amplitude(double level_db) { return std::pow(10.0, level_db / 20.0); }

/// The steady gain of a closed gate in dB, written out from the definition.
double closed_gain_db(double level_db, double threshold_db, double ratio, double range_db) {
    return std::max(range_db, (ratio - 1.0) * (level_db - threshold_db));
}

/// Frames of `ms` milliseconds, rounded.
std::size_t frames_of(double ms) { return static_cast<std::size_t>(std::lround(ms * fs / 1000.0)); }

/// A sequence of steady levels: `sections` of (level in dBFS, frames). Values alternate in sign,
/// so |x| (what the detector sees) is the level's amplitude on every sample.
std::vector<float> steps(std::initializer_list<std::pair<double, std::size_t>> sections) {
    std::vector<float> x;
    for (const auto& [level_db, frames] : sections)
        for (std::size_t i = 0; i < frames; ++i)
            x.push_back(static_cast<float>((x.size() % 2 ? -1.0 : 1.0) * amplitude(level_db)));
    return x;
}

/// Mono processing in blocks of `block` frames.
void run(dsp::Gate& g, std::vector<float>& x, std::size_t block = 256) {
    for (std::size_t pos = 0; pos < x.size(); pos += block) {
        float* b[1] = {x.data() + pos};
        g.process(b, 1, static_cast<std::uint32_t>(std::min(block, x.size() - pos)));
    }
}

/// The gain in dB applied to sample i.
double gain_db_at(const std::vector<float>& out, const std::vector<float>& in, std::size_t i) {
    return 20.0 * std::log10(double(out[i]) / double(in[i]));
}

/// The gate written out in double precision from its definition (dsp/gate.hpp, 1 to 5), without
/// shortcuts: the gain in dB it applies to each sample of `x` (mono, no key).
std::vector<double> reference_gains_db(const dsp::GateSettings& s, const std::vector<float>& x) {
    const double attack = std::exp(-1.0 / (s.attack_ms * 1e-3 * fs));
    const double release = std::exp(-1.0 / (s.release_ms * 1e-3 * fs));
    const auto hold_frames = static_cast<long>(std::lround(s.hold_ms * fs / 1000.0));
    bool open = false;
    long hold = 0;
    double g = s.range_db;
    std::vector<double> gains(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double a = std::fabs(double(x[i]));
        const double level = a > 0.0 ? std::max(20.0 * std::log10(a), -200.0) : -200.0;
        if (level >= s.threshold_db) {
            open = true;
            hold = hold_frames;
        } else if (open) {
            if (level >= s.threshold_db - s.hysteresis_db)
                hold = hold_frames;
            else if (hold == 0)
                open = false;
            else
                --hold;
        }
        const double target = open ? 0.0 : closed_gain_db(level, s.threshold_db, s.ratio, s.range_db);
        const double c = target > g ? attack : release;
        g = c * g + (1.0 - c) * target;
        gains[i] = g;
    }
    return gains;
}

}  // namespace

TEST_CASE("below threshold - hysteresis a steady level settles on max(range, (ratio - 1)(L - T)) within 0.01 dB",
          "[gate]") {
    const double ratio = GENERATE(1.5, 2.0, 4.0, 100.0);
    dsp::GateSettings s;
    s.threshold_db = -40.0f;
    s.hysteresis_db = 0.25f;  // closes below -40.25 dB
    s.range_db = -80.0f;
    s.ratio = static_cast<float>(ratio);
    s.attack_ms = 1.0f;
    s.release_ms = 20.0f;
    for (double level_db : {-40.4, -40.6, -41.0, -44.0, -50.0, -60.0, -75.0, -100.0, -150.0}) {
        dsp::Gate g = make(s);
        std::vector<float> x(9600, static_cast<float>(amplitude(level_db)));  // 0.2 s of DC
        const std::vector<float> in = x;
        run(g, x);
        INFO("ratio " << ratio << " level " << level_db);
        CHECK(gain_db_at(x, in, x.size() - 1) == Approx(closed_gain_db(level_db, -40.0, ratio, -80.0)).margin(0.01));
    }
}

TEST_CASE("once open, a level at or above the threshold passes bit for bit (gain exactly 1)", "[gate]") {
    dsp::GateSettings s;  // threshold -40 dB, hysteresis 3 dB, hold 20 ms, attack 1 ms
    for (double level_db : {-39.9, -30.0, -6.0, 0.0, 6.0}) {
        dsp::Gate g = make(s);
        std::vector<float> x(9600, static_cast<float>(amplitude(level_db)));
        const std::vector<float> in = x;
        run(g, x);
        INFO("level " << level_db);
        // After 0.1 s (100 attack times) the gain has come to rest at 0 dB.
        CHECK(std::vector<float>(x.begin() + 4800, x.end()) == std::vector<float>(in.begin() + 4800, in.end()));
        CHECK(g.gain_reduction_db() == 0.0f);
    }
    // A sine dips below threshold - hysteresis at every zero crossing; the hold spans the dips.
    dsp::Gate g = make(s);
    std::vector<float> x = test::sine(1000.0, fs, 9600, 0.1);
    const std::vector<float> in = x;
    run(g, x, 100);
    CHECK(std::vector<float>(x.begin() + 4800, x.end()) == std::vector<float>(in.begin() + 4800, in.end()));
}

TEST_CASE("opening from fully closed is the one-pole step: 63.2 % of the way in dB after one attack time",
          "[gate]") {
    const double attack_ms = GENERATE(1.0, 5.0, 20.0);
    dsp::GateSettings s;
    s.range_db = -80.0f;
    s.attack_ms = static_cast<float>(attack_ms);
    dsp::Gate g = make(s);
    // -20 dBFS from the first sample: open at once, the gain rises from -80 dB to 0 dB.
    std::vector<float> x(frames_of(5.0 * attack_ms), 0.1f);
    const std::vector<float> in = x;
    run(g, x, 64);
    const std::size_t one_time_constant = frames_of(attack_ms);  // its last sample is one_time_constant - 1
    const double way = (gain_db_at(x, in, one_time_constant - 1) - -80.0) / 80.0;
    CHECK(way == Approx(1.0 - std::exp(-1.0)).margin(0.01));
    // And the whole rise is g(k) = -80 exp(-(k + 1) / (attack fs)) dB.
    double worst = 0.0;
    for (std::size_t k = 0; k < x.size(); ++k)
        worst = std::max(worst, std::fabs(gain_db_at(x, in, k) - -80.0 * std::exp(-double(k + 1) / (attack_ms * 1e-3 * fs))));
    INFO("largest deviation " << worst << " dB");
    CHECK(worst < 1e-3);
}

TEST_CASE("closing after the hold is the one-pole step: 63.2 % of the way in dB after one release time", "[gate]") {
    const double release_ms = GENERATE(20.0, 100.0, 400.0);
    dsp::GateSettings s;
    s.range_db = -80.0f;
    s.hold_ms = 10.0f;
    s.release_ms = static_cast<float>(release_ms);
    dsp::Gate g = make(s);
    // Open at -20 dBFS for 0.1 s, then -60 dBFS (target -80 dB: 99 dB per dB under -40 dB).
    const std::size_t drop = 4800, hold = frames_of(10.0), release = frames_of(release_ms);
    std::vector<float> x = steps({{-20.0, drop}, {-60.0, hold + 2 * release}});
    const std::vector<float> in = x;
    run(g, x, 64);
    // The gate closes on sample drop + hold; one release time later it is 63.2 % of the way down.
    const double way = gain_db_at(x, in, drop + hold + release - 1) / -80.0;
    CHECK(way == Approx(1.0 - std::exp(-1.0)).margin(0.01));
}

TEST_CASE("hold: after the level falls below threshold - hysteresis the gain stays at 0 dB for hold_ms, then falls",
          "[gate]") {
    const double hold_ms = GENERATE(0.0, 2.0, 10.0, 50.0);
    dsp::GateSettings s;
    s.hold_ms = static_cast<float>(hold_ms);
    s.release_ms = 20.0f;
    dsp::Gate g = make(s);
    const std::size_t drop = 4800, hold = frames_of(hold_ms);
    std::vector<float> x = steps({{-20.0, drop}, {-50.0, hold + 4800}});  // -50 dB < -43 dB
    const std::vector<float> in = x;
    run(g, x, 100);
    std::size_t first = drop;  // the first sample after the drop that is not passed unchanged
    while (first < x.size() && x[first] == in[first]) ++first;
    INFO("hold " << hold_ms << " ms: " << hold << " frames; the gain first falls " << first - drop
                 << " frames after the drop");
    CHECK(std::abs(static_cast<long>(first - drop) - static_cast<long>(hold)) <= 1);
    // From there on it falls, sample by sample.
    for (std::size_t i = first + 1; i < first + 200; ++i) REQUIRE(gain_db_at(x, in, i) < gain_db_at(x, in, i - 1));
}

TEST_CASE("hysteresis: a level between threshold - hysteresis and threshold keeps an open gate open but does not "
          "open a closed one",
          "[gate]") {
    dsp::GateSettings s;
    s.threshold_db = -40.0f;
    s.hysteresis_db = 6.0f;  // closes only below -46 dB
    s.range_db = -80.0f;
    s.hold_ms = 5.0f;
    s.release_ms = 10.0f;
    const double band_db = -43.0;
    SECTION("closed, it stays closed") {
        dsp::Gate g = make(s);
        std::vector<float> x = steps({{band_db, 9600}});
        const std::vector<float> in = x;
        run(g, x);
        // Closed, the target is max(-80, 99 x -3) = -80 dB, which the gain already is.
        for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(gain_db_at(x, in, i) == Approx(-80.0).margin(0.01));
    }
    SECTION("open, it stays open until the level falls below threshold - hysteresis") {
        dsp::Gate g = make(s);
        std::vector<float> x = steps({{-20.0, 4800}, {band_db, 9600}, {-47.0, 9600}});
        const std::vector<float> in = x;
        run(g, x);
        // 0.2 s in the band, 40 hold times: passed unchanged throughout.
        CHECK(std::vector<float>(x.begin() + 4800, x.begin() + 14400) ==
              std::vector<float>(in.begin() + 4800, in.begin() + 14400));
        // Below -46 dB it closes: 0.2 s later (hold and 19.5 release times) it is at the range.
        CHECK(gain_db_at(x, in, x.size() - 1) == Approx(-80.0).margin(0.01));
    }
    SECTION("without hysteresis the same level closes it") {
        s.hysteresis_db = 0.0f;
        dsp::Gate g = make(s);
        std::vector<float> x = steps({{-20.0, 4800}, {band_db, 9600}});
        const std::vector<float> in = x;
        run(g, x);
        CHECK(gain_db_at(x, in, x.size() - 1) == Approx(closed_gain_db(band_db, -40.0, 100.0, -80.0)).margin(0.01));
    }
}

TEST_CASE("with a key the gate opens on the key's level, not the audio's", "[gate]") {
    const std::uint32_t key_channels = GENERATE(1u, 2u);
    dsp::GateSettings s;  // threshold -40 dB, range -80 dB, hold 20 ms
    s.release_ms = 10.0f;
    const std::size_t half = 19200;  // 0.4 s
    // The audio: a quiet sine (-60 dBFS peak), far below the threshold on its own.
    const std::vector<float> audio = test::sine(1000.0, fs, 2 * half, 0.001);
    // The key: a loud sine (-10 dBFS) for the first half, then silence. With two key channels the
    // first is silent throughout: the detector takes the larger of them.
    std::vector<float> loud = test::sine(200.0, fs, 2 * half, 0.3);
    std::fill(loud.begin() + half, loud.end(), 0.0f);
    const std::vector<float> silent(2 * half, 0.0f);
    const float* key[2] = {key_channels == 1 ? loud.data() : silent.data(), loud.data()};

    dsp::Gate g = make(s);
    std::vector<float> x = audio;
    for (std::size_t pos = 0; pos < x.size(); pos += 128) {
        float* b[1] = {x.data() + pos};
        const float* k[2] = {key[0] + pos, key[1] + pos};
        g.process(b, 1, 128, k, key_channels);
    }
    // While the key is loud (after 0.1 s, 100 attack times) the quiet audio passes unchanged.
    CHECK(std::vector<float>(x.begin() + 4800, x.begin() + half) ==
          std::vector<float>(audio.begin() + 4800, audio.begin() + half));
    // 0.2 s after the key falls silent (hold and 18 release times) it is turned down by the range.
    const double gain_db = test::to_db(test::rms(x.data(), half + 9600, 2 * half) / test::rms(audio.data(), half + 9600, 2 * half));
    CHECK(gain_db == Approx(-80.0).margin(0.01));

    // Without the key the same audio is closed from the start; and loud audio is gated by a silent key.
    dsp::Gate alone = make(s);
    std::vector<float> y = audio;
    run(alone, y, 128);
    CHECK(test::to_db(test::rms(y.data(), 4800, half) / test::rms(audio.data(), 4800, half)) ==
          Approx(-80.0).margin(0.01));
    dsp::Gate keyed = make(s);
    std::vector<float> z = test::sine(1000.0, fs, half, 0.5);
    const std::vector<float> z_in = z;
    float* zb[1] = {z.data()};
    const float* quiet_key[2] = {silent.data(), silent.data()};
    keyed.process(zb, 1, static_cast<std::uint32_t>(half), quiet_key, key_channels);
    CHECK(test::to_db(test::rms(z.data(), 0, half) / test::rms(z_in.data(), 0, half)) == Approx(-80.0).margin(0.01));
}

TEST_CASE("a stereo-linked gate applies the same gain to both channels, opened by the louder", "[gate]") {
    dsp::GateSettings s;
    s.hold_ms = 5.0f;
    s.release_ms = 30.0f;
    s.attack_ms = 2.0f;
    // Left opens, holds and closes, twice; right stays far below the threshold (-80 dBFS DC).
    const std::vector<float> left = steps({{-60.0, 2400}, {-12.0, 4800}, {-55.0, 7200}, {-20.0, 4800}, {-70.0, 4800}});
    const std::vector<float> right(left.size(), 1e-4f);
    std::vector<float> l = left, r = right;
    dsp::Gate g = make(s);
    for (std::size_t pos = 0; pos < l.size(); pos += 64) {
        float* b[2] = {l.data() + pos, r.data() + pos};
        g.process(b, 2, static_cast<std::uint32_t>(std::min<std::size_t>(64, l.size() - pos)));
    }
    // The same gain on every sample: the ratios agree to the rounding of the two products.
    double worst = 0.0;
    for (std::size_t i = 0; i < l.size(); ++i)
        worst = std::max(worst, std::fabs((double(l[i]) / left[i]) / (double(r[i]) / right[i]) - 1.0));
    INFO("largest relative difference " << worst);
    CHECK(worst < 1e-6);
    // Where the left is loud and the gate at rest, the quiet right passes unchanged.
    CHECK(std::vector<float>(r.begin() + 4800, r.begin() + 7200) == std::vector<float>(right.begin() + 4800, right.begin() + 7200));
    // And the whole run follows the model of the definition, driven by the left.
    const std::vector<double> want = reference_gains_db(s, left);
    double off = 0.0;
    for (std::size_t i = 0; i < r.size(); ++i) off = std::max(off, std::fabs(gain_db_at(r, right, i) - want[i]));
    CHECK(off < 1e-3);
}

TEST_CASE("a sequence of steady levels is gated as a double-precision model of the definition, within 1e-3 dB",
          "[gate]") {
    dsp::GateSettings s;
    s.threshold_db = -30.0f;
    s.hysteresis_db = 4.0f;
    s.range_db = -60.0f;
    s.ratio = 4.0f;
    s.attack_ms = 2.0f;
    s.hold_ms = 3.0f;
    s.release_ms = 15.0f;
    // Levels above the threshold, in the band (-34 ... -30 dB), on the expander's slope (-34 ... -50
    // dB) and at the range; sections shorter and longer than the hold; all at least 0.5 dB from an edge.
    const std::vector<float> in = steps({{-70.0, 1000}, {-20.0, 2000}, {-32.0, 3000}, {-36.0, 100}, {-31.0, 2000},
                                         {-38.0, 3000}, {-29.0, 50},  {-45.0, 4000}, {-80.0, 2000}, {-10.0, 500},
                                         {-40.0, 144},  {-25.0, 1000}, {-200.0, 3000}, {-33.0, 2000}});
    std::vector<float> x = in;
    dsp::Gate g = make(s);
    run(g, x, 100);
    const std::vector<double> want = reference_gains_db(s, in);
    double worst = 0.0;
    std::size_t where = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = std::fabs(gain_db_at(x, in, i) - want[i]);
        if (e > worst) worst = e, where = i;
    }
    INFO("largest difference " << worst << " dB at sample " << where);
    CHECK(worst < 1e-3);
}

TEST_CASE("the gate's output does not depend on the block sizes (1, 7, 64, 1000 or ragged), bit for bit", "[gate]") {
    const bool with_key = GENERATE(false, true);
    dsp::GateSettings s;
    s.threshold_db = -35.0f;
    s.hysteresis_db = 3.0f;
    s.range_db = -60.0f;
    s.ratio = 4.0f;
    s.attack_ms = 2.0f;
    s.hold_ms = 10.0f;
    s.release_ms = 30.0f;
    // Noise in sections of random level around the threshold and far below it, and silence.
    const std::size_t frames = 48000;
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    std::uniform_int_distribution<std::size_t> length(200, 6000);
    const float levels[5] = {0.1f, 0.012f, 0.02f, 0.0005f, 0.0f};
    std::vector<float> left(frames), right(frames), key(frames);
    for (std::size_t i = 0, section = 0; i < frames; ++section) {
        const std::size_t end = std::min(frames, i + length(rng));
        for (; i < end; ++i) {
            left[i] = levels[section % 5] * noise(rng);
            right[i] = 0.5f * levels[(section + 1) % 5] * noise(rng);
            key[i] = levels[(section + 2) % 5] * noise(rng);
        }
    }
    auto render = [&](auto next_block) {
        dsp::Gate g = make(s);
        std::vector<float> l = left, r = right;
        dsp::GateSettings changed = s;
        changed.threshold_db = -30.0f;  // a change of settings halfway
        changed.hold_ms = 2.0f;
        for (std::size_t pos = 0; pos < frames;) {
            if (pos == frames / 2) g.set(changed);
            const std::size_t end = pos < frames / 2 ? frames / 2 : frames;
            const auto n = static_cast<std::uint32_t>(std::min(next_block(), end - pos));
            float* b[2] = {l.data() + pos, r.data() + pos};
            const float* k[1] = {key.data() + pos};
            g.process(b, 2, n, with_key ? k : nullptr, with_key ? 1 : 0);
            pos += n;
        }
        return std::make_pair(l, r);
    };
    const auto reference = render([] { return std::size_t{64}; });
    // The signal does gate: some samples pass, some are turned down.
    std::size_t passed = 0, reduced = 0;
    for (std::size_t i = 0; i < frames; ++i) {
        passed += reference.first[i] == left[i] && left[i] != 0.0f;
        reduced += std::fabs(reference.first[i]) < 0.5f * std::fabs(left[i]);
    }
    CHECK(passed > 1000);
    CHECK(reduced > 1000);
    for (std::size_t block : {1, 7, 1000}) {
        INFO("blocks of " << block);
        CHECK(render([&] { return block; }) == reference);
    }
    std::uniform_int_distribution<std::size_t> size(1, 300);
    INFO("ragged blocks");
    CHECK(render([&] { return size(rng); }) == reference);
}

TEST_CASE("the meters report the gain in dB: at rest exactly 0 dB open and exactly the range closed", "[gate]") {
    dsp::GateSettings s;
    s.range_db = -70.0f;
    s.attack_ms = 1.0f;
    s.release_ms = 20.0f;
    dsp::Gate g = make(s);
    CHECK(g.gain_reduction_db() == -70.0f);  // starts closed
    // A block that opens: its lowest gain is its first sample's, -70 dB times one attack step.
    std::vector<float> x(480, 0.1f);
    float* b[1] = {x.data()};
    g.process(b, 1, 480);
    const double c = std::exp(-1.0 / (1e-3 * fs));
    CHECK(g.block_max_reduction_db() == Approx(-70.0 * c).margin(1e-4));
    CHECK(g.gain_reduction_db() == Approx(-70.0 * std::pow(c, 480.0)).margin(1e-4));
    // 0.5 s open: at rest at exactly +0 dB, not still decaying towards it (a gain of -1e-200 dB, on
    // its way through subnormal numbers, would read -0 as a float).
    std::vector<float> more(24000, 0.1f);
    run(g, more);
    CHECK(g.gain_reduction_db() == 0.0f);
    CHECK_FALSE(std::signbit(g.gain_reduction_db()));
    CHECK(g.block_max_reduction_db() == 0.0f);
    // 1 s of silence (the hold and 49 release times): at rest at exactly the range.
    std::vector<float> silence(48000, 0.0f);
    run(g, silence);
    CHECK(g.gain_reduction_db() == -70.0f);
    CHECK(g.block_max_reduction_db() == -70.0f);
}

TEST_CASE("settings outside their ranges are clamped to them", "[gate]") {
    dsp::GateSettings s;
    s.threshold_db = -40.0f;
    s.hysteresis_db = 0.0f;
    s.ratio = 1000.0f;     // acts as 100
    s.range_db = -200.0f;  // acts as -100
    for (const auto& [level_db, want_db] : {std::pair{-40.5, closed_gain_db(-40.5, -40.0, 100.0, -100.0)},
                                            std::pair{-60.0, -100.0}}) {
        dsp::Gate g = make(s);
        std::vector<float> x(9600, static_cast<float>(amplitude(level_db)));
        const std::vector<float> in = x;
        run(g, x);
        INFO("level " << level_db);
        CHECK(gain_db_at(x, in, x.size() - 1) == Approx(want_db).margin(0.01));
    }
}
