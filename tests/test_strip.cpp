// Channel strip behaviour through the whole engine: gains and pan laws against their formulas,
// smoothing bounds, sample-accurate changes and delays, NaN isolation, denormals, meters.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>

#include "harness.hpp"
#include "signals.hpp"

using namespace rtmix;
using test::render;

namespace {
const double fs = 48000.0;
const std::size_t ramp_frames = 960;  // 20 ms smoothing at 48 kHz
}  // namespace

TEST_CASE("a mono track pans with the equal-power law: L = cos((p+1)pi/4), R = sin((p+1)pi/4)", "[strip][pan]") {
    const double pan = GENERATE(-1.0, -0.5, 0.0, 0.3, 1.0);
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.set("track.t.pan", pan));
    const auto out = render(e, {std::vector<float>(4800, 0.5f)}, 4800);
    const double theta = (pan + 1.0) * test::pi / 4.0;
    CHECK(out.left.back() == Approx(0.5 * std::cos(theta)).margin(1e-6));
    CHECK(out.right.back() == Approx(0.5 * std::sin(theta)).margin(1e-6));
    if (pan == 0.0) CHECK(test::to_db(out.left.back() / 0.5) == Approx(-3.0103).margin(0.001));
}

TEST_CASE("a stereo track pans as a balance: centre is unity, turning away attenuates the far side by cos",
          "[strip][pan]") {
    const double pan = GENERATE(-1.0, -0.4, 0.0, 0.4, 1.0);
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("st", 2));
    RTMIX_REQUIRE_OK(e.set("track.st.pan", pan));
    const auto out = render(e, {std::vector<float>(4800, 0.3f), std::vector<float>(4800, 0.6f)}, 4800);
    const double left_gain = pan > 0 ? std::cos(pan * test::pi / 2) : 1.0;
    const double right_gain = pan < 0 ? std::cos(-pan * test::pi / 2) : 1.0;
    CHECK(out.left.back() == Approx(0.3 * left_gain).margin(1e-6));
    CHECK(out.right.back() == Approx(0.6 * right_gain).margin(1e-6));
}

TEST_CASE("a hard pan leaves the far side exactly silent, bit for bit, for mono and stereo sources",
          "[strip][pan]") {
    const double pan = GENERATE(-1.0, 1.0);
    const std::uint32_t channels = GENERATE(1u, 2u);
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", channels));
    RTMIX_REQUIRE_OK(e.set("track.t.pan", pan));
    // A full-scale sine, both polarities: the far side must be +0.0f (all bits clear), not a
    // -147 dB residue (float cos(pi/2) = -4.4e-8) nor a negative zero.
    std::vector<float> sine(9600);
    for (std::size_t i = 0; i < sine.size(); ++i) sine[i] = static_cast<float>(std::sin(2 * test::pi * 997 * i / fs));
    std::vector<std::vector<float>> in(channels, sine);
    const auto out = render(e, in, sine.size());
    const std::vector<float>& far = pan > 0 ? out.left : out.right;
    const std::vector<float>& near = pan > 0 ? out.right : out.left;
    std::size_t nonzero_bits = 0;
    for (std::size_t i = ramp_frames; i < far.size(); ++i) nonzero_bits += std::bit_cast<std::uint32_t>(far[i]) != 0u;
    CHECK(nonzero_bits == 0);
    // The near side is the source at unity (sin(pi/2) and the balance's 1 are exact).
    for (std::size_t i = ramp_frames; i < near.size(); i += 97) CHECK(near[i] == sine[i]);
}

TEST_CASE("trim, polarity and fader multiply the signal by their linear gains", "[strip]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.set("track.t.trim_db", 6.0));
    RTMIX_REQUIRE_OK(e.set("track.t.gain_db", -12.0));
    RTMIX_REQUIRE_OK(e.set("track.t.invert", 1.0));
    RTMIX_REQUIRE_OK(e.set("master.gain_db", -3.0));
    const auto out = render(e, {std::vector<float>(9600, 0.25f)}, 9600);
    const double expected = -0.25 * std::pow(10.0, (6.0 - 12.0 - 3.0) / 20.0) * std::sqrt(0.5);
    CHECK(out.left.back() == Approx(expected).margin(1e-6));
    CHECK(out.right.back() == Approx(expected).margin(1e-6));
}

TEST_CASE("a fader or mute change moves no faster than the 20 ms linear ramp allows", "[strip][smoothing]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    const std::size_t frames = 48000;
    std::vector<float> dc(frames, 1.0f);
    std::vector<float> left;
    auto run = [&](std::size_t n) {
        auto part = render(e, {std::vector<float>(dc.begin(), dc.begin() + static_cast<long>(n))}, n, 64);
        left.insert(left.end(), part.left.begin(), part.left.end());
    };
    run(4800);
    RTMIX_REQUIRE_OK(e.set("track.t.gain_db", -40.0));
    run(4800);
    RTMIX_REQUIRE_OK(e.set("track.t.mute", 1.0));
    run(4800);
    RTMIX_REQUIRE_OK(e.set("track.t.mute", 0.0));
    RTMIX_REQUIRE_OK(e.set("track.t.gain_db", 6.0));
    run(4800);
    double largest_step = 0.0;
    for (std::size_t i = 1; i < left.size(); ++i) largest_step = std::max(largest_step, double(std::fabs(left[i] - left[i - 1])));
    // The largest jump is the last one: from silence to +6 dB at the centre pan gain.
    const double allowed = std::pow(10.0, 6.0 / 20.0) * std::sqrt(0.5) / ramp_frames;
    CHECK(largest_step <= allowed * 1.001);
    CHECK(largest_step >= allowed * 0.9);  // and it did move at that rate (the bound is tight)
    CHECK(left[4800 * 3 - 1] == 0.0f);     // muted
}

TEST_CASE("a change with a sample offset lands on that sample, also beyond the first block", "[strip][automation]") {
    const std::uint32_t offset = GENERATE(0u, 37u, 300u);
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    render(e, {std::vector<float>(256, 1.0f)}, 256);
    RTMIX_REQUIRE_OK(e.set("track.t.gain_db", -20.0, offset));
    const auto out = render(e, {std::vector<float>(2048, 1.0f)}, 2048, 256);
    const float before = static_cast<float>(std::sqrt(0.5));
    for (std::uint32_t i = 0; i < offset; ++i) REQUIRE(out.left[i] == Approx(before).margin(1e-7));
    CHECK(out.left[offset] < before);  // the ramp starts exactly here
    CHECK(out.left[offset] > before * 0.99);
}

TEST_CASE("the alignment delay is sample-accurate and delay_ms converts at the sample rate", "[strip][delay]") {
    Engine e(EngineOptions{.sample_rate = fs});
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.set("track.t.delay_samples", 37.0));
    RTMIX_REQUIRE_OK(e.set("track.t.pan", -1.0));
    render(e, {}, 4800);  // let the 20 ms crossfade to the new tap finish
    std::vector<float> x(1024, 0.0f);
    x[100] = 1.0f;
    auto out = render(e, {x}, 1024);
    std::size_t at = 0;
    for (std::size_t i = 0; i < out.left.size(); ++i)
        if (std::fabs(out.left[i]) > 0.5f) at = i;
    CHECK(at == 137);
    RTMIX_REQUIRE_OK(e.set("track.t.delay_ms", 2.5));
    double samples = 0.0;
    RTMIX_REQUIRE_OK(e.get("track.t.delay_samples", samples));
    CHECK(samples == 120.0);
}

TEST_CASE("a NaN or Inf from one track is zeroed at its strip, reported, and never reaches the master", "[strip][nan]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("bad", 1));
    RTMIX_REQUIRE_OK(e.add_track("good", 1));
    RTMIX_REQUIRE_OK(e.set("track.bad.eq.1.type", "peak"));
    RTMIX_REQUIRE_OK(e.set("track.bad.eq.1.gain_db", 6.0));
    std::vector<float> bad(48000, 0.1f), good = test::sine(440.0, fs, 48000, 0.5);
    bad[1000] = std::numeric_limits<float>::quiet_NaN();
    bad[20000] = std::numeric_limits<float>::infinity();
    const auto out = render(e, {bad, good}, 48000);
    for (std::size_t i = 0; i < out.left.size(); ++i) {
        REQUIRE(std::isfinite(out.left[i]));
        REQUIRE(std::isfinite(out.right[i]));
    }
    const auto events = e.poll_events();
    REQUIRE(events.size() == 2);
    CHECK(events[0].code == Event::Code::non_finite_signal);
    CHECK(events[0].strip == "track.bad");
    // The poisoned strip recovers: its filter state was cleared, so it is heard again.
    CHECK(std::fabs(out.left.back() - good.back() * std::sqrt(0.5)) > 0.01);
}

TEST_CASE("denormal inputs are flushed to zero on the audio thread", "[strip][denormal]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    const float tiny = 1e-40f;  // a denormal float
    REQUIRE(std::fpclassify(tiny) == FP_SUBNORMAL);
    const auto out = render(e, {std::vector<float>(512, tiny)}, 512);
    for (float v : out.left) REQUIRE(v == 0.0f);
}

TEST_CASE("strip meters report peak, RMS and gain reduction of the strip's output", "[strip][meters]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.set("track.t.pan", -1.0));
    RTMIX_REQUIRE_OK(e.set("track.t.compressor.enabled", 1.0));
    RTMIX_REQUIRE_OK(e.set("track.t.compressor.threshold_db", -20.0));
    RTMIX_REQUIRE_OK(e.set("track.t.compressor.ratio", 2.0));
    RTMIX_REQUIRE_OK(e.set("track.t.compressor.knee_db", 0.0));
    RTMIX_REQUIRE_OK(e.set("track.t.compressor.attack_ms", 0.5));
    RTMIX_REQUIRE_OK(e.set("track.t.compressor.release_ms", 1000.0));
    const auto out = render(e, {test::sine(1000.0, fs, 96000, 0.5)}, 96000);
    StripMeter m{};
    REQUIRE(e.meter("track.t", m));
    const double out_peak_db = test::to_db(test::peak(out.left.data(), 48000, 96000));
    // Input peak -6.02 dBFS is 13.98 dB over the threshold: ratio 2 removes half of that.
    CHECK(m.gain_reduction_db == Approx(-13.98 / 2).margin(0.1));
    CHECK(m.gain_reduction_db == Approx(out_peak_db - test::to_db(0.5)).margin(0.1));
    CHECK(m.max_gain_reduction_db <= m.gain_reduction_db + 0.01f);
    CHECK(m.peak_dbfs[0] == Approx(out_peak_db).margin(0.05));
    CHECK(m.rms_dbfs[0] == Approx(out_peak_db - 3.0103).margin(0.1));
    // Hard left: the right side only held the first 20 ms of the pan ramp, and its peak meter has
    // been falling at 20 dB/s since.
    CHECK(m.peak_dbfs[1] < m.peak_dbfs[0] - 35.0f);
    StripMeter master{};
    REQUIRE(e.meter("master", master));
    CHECK(master.peak_hold_dbfs == Approx(test::to_db(test::peak(out.left.data(), 0, 96000))).margin(0.01));
    RTMIX_REQUIRE_OK(e.reset_meters());
    render(e, {}, 256);
    REQUIRE(e.meter("master", master));
    CHECK(master.peak_hold_dbfs < -150.0f);
}

TEST_CASE("a change sent later never overtakes one still waiting for its frame", "[strip][automation]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.set("track.t.gain_db", -20.0, 200));
    RTMIX_REQUIRE_OK(e.set("track.t.gain_db", -6.0));  // "now", but sent after the change at 200
    const auto out = render(e, {std::vector<float>(9600, 1.0f)}, 9600);
    const float unity = static_cast<float>(std::sqrt(0.5));
    CHECK(out.left[199] == unity);  // neither change has landed yet
    CHECK(out.left[200] < unity);
    CHECK(out.left.back() == Approx(unity * std::pow(10.0, -6.0 / 20.0)).margin(1e-6));  // the last one sent stays
}
