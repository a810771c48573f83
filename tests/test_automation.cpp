// Automation lanes: the shapes against their formulas, a fader lane against the gain it must give
// sample by sample, the same samples at any block size, a timeline that locates and stops, a
// set() that takes over until the next breakpoint, and the lanes a parameter refuses.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace rtmix;
using rtmix::test::Stereo;

namespace {

constexpr double rate = 48000.0;

double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }

/// A stereo track at unity pan law (a centred stereo track is a balance at 1) on DC 0.5.
std::unique_ptr<Engine> stereo_track(std::uint32_t block = 256) {
    EngineOptions o{.sample_rate = rate, .max_block_frames = block};
    o.threads = 1;
    auto e = std::make_unique<Engine>(o);
    test::require_ok(e->add_track("t", 2));
    return e;
}

std::vector<std::vector<float>> dc(std::size_t frames, float level = 0.5f) {
    return std::vector<std::vector<float>>(2, std::vector<float>(frames, level));
}

/// The gain a ramp through the lane's values at every 32nd frame gives at frame n: the lane is
/// read at grid point G for the ramp that ends there, so frame n (in the ramp from G - 32 to G)
/// has moved (n - (G - 32) + 1) / 32 of the way. Frame 0 stands at the lane's value at 0, the
/// first ramp starts there.
double expected_gain(const Lane& lane, std::int64_t n) {
    const std::int64_t g0 = (n / 32) * 32, g1 = g0 + 32;
    const double a = db_to_gain(lane_value(lane, static_cast<double>(g0)));
    const double b = db_to_gain(lane_value(lane, static_cast<double>(g1)));
    const double u = static_cast<double>(n - g0 + 1) / 32.0;
    return a + u * (b - a);
}

}  // namespace

TEST_CASE("lane shapes follow their formulas", "[automation]") {
    Lane lane;
    lane.points = {{1000, 2.0, Shape::linear},  {2000, 4.0, Shape::hold},        {3000, 1.0, Shape::exponential},
                   {4000, 16.0, Shape::smooth}, {5000, 0.0, Shape::linear},      {5000, 7.0, Shape::linear},
                   {6000, 8.0}};
    CHECK(lane_value(lane, 0) == 2.0);  // before the first point: its value
    CHECK(lane_value(lane, 1000) == 2.0);
    CHECK(lane_value(lane, 1250) == Approx(2.5));               // linear: a quarter of the way
    CHECK(lane_value(lane, 2500) == 4.0);                       // hold
    CHECK(lane_value(lane, 2999.0) == 4.0);
    CHECK(lane_value(lane, 3500) == Approx(4.0).epsilon(1e-12));  // exponential: sqrt(1 * 16)
    CHECK(lane_value(lane, 3250) == Approx(std::pow(16.0, 0.25)).epsilon(1e-12));
    const double u = 0.3;  // smooth: 3u^2 - 2u^3 of the way
    CHECK(lane_value(lane, 4300) == Approx(16.0 + (3 * u * u - 2 * u * u * u) * (0.0 - 16.0)).epsilon(1e-12));
    const double v = 4999.0 / 1000.0 - 4.0;
    CHECK(lane_value(lane, 4999.0) == Approx(16.0 - (3 * v * v - 2 * v * v * v) * 16.0).epsilon(1e-9));
    CHECK(lane_value(lane, 5000) == 7.0);  // two points at one frame: a jump, the later one holds
    CHECK(lane_value(lane, 5500) == Approx(7.5));
    CHECK(lane_value(lane, 1e9) == 8.0);  // after the last: its value
    for (const Shape s : {Shape::linear, Shape::hold, Shape::exponential, Shape::smooth})
        CHECK(shape_from_string(to_string(s)) == s);
    CHECK_FALSE(shape_from_string("cubic"));
}

TEST_CASE("a fader lane gives its gain sample by sample, a straight line between every 32nd frame",
          "[automation]") {
    Lane lane;
    lane.points = {{0, -40.0, Shape::smooth}, {3000, 0.0, Shape::linear}, {6000, -12.0, Shape::hold},
                   {7001, -3.0, Shape::linear}, {9000, -3.0}};
    const std::size_t frames = 10000;
    for (const std::uint32_t block : {64u, 1000u}) {
        INFO("blocks of " << block);
        const auto engine = stereo_track(block);
    Engine& e = *engine;
        test::require_ok(e.automate("track.t.gain_db", lane));
        const Stereo out = test::render(e, dc(frames), frames, block);
        for (std::size_t n = 0; n < frames; ++n) {
            INFO("frame " << n);
            REQUIRE(out.left[n] == Approx(0.5 * expected_gain(lane, static_cast<std::int64_t>(n))).epsilon(2e-5));
            REQUIRE(out.right[n] == out.left[n]);
        }
        // The hold's step at 7001 is declicked: it takes the 32 frames of the grid interval that
        // holds it (6976 to 7007), not one.
        CHECK(out.left[6975] == Approx(0.5 * db_to_gain(-12.0)).epsilon(1e-5));
        CHECK(out.left[6990] > 0.5 * db_to_gain(-12.0) + 1e-2);
        CHECK(out.left[6990] < 0.5 * db_to_gain(-3.0) - 1e-2);
        CHECK(out.left[7007] == Approx(0.5 * db_to_gain(-3.0)).epsilon(1e-5));
    }
}

namespace {

/// A mix with lanes on strip, send, EQ, compressor, insert and return parameters, rendered in
/// blocks of `block` frames.
std::vector<float> render_automated(std::uint32_t block, std::uint32_t threads) {
    EngineOptions o{.sample_rate = rate, .max_block_frames = std::min<std::uint32_t>(block, 1024)};
    o.threads = threads;
    o.parallel_min_nodes = 1;
    Engine e(o);
    std::string gate;
    test::require_ok(e.batch([&] {
        test::require_ok(e.add_track("a", 1));
        test::require_ok(e.add_track("b", 2));
        test::require_ok(e.add_bus("verb"));
        test::require_ok(e.add_effect("bus.verb", Effect::reverb));
        test::require_ok(e.add_send("track.a", "bus.verb", -12.0));
        test::require_ok(e.add_insert("track.b", "gate", InsertPosition::post, &gate));
        return Status{};
    }));
    test::require_ok(e.set("track.a.eq.1.type", "peak"));
    test::require_ok(e.set("track.a.eq.1.gain_db", 6.0));
    test::require_ok(e.set("track.b.compressor.enabled", 1.0));
    auto lane = [](std::vector<Breakpoint> p) { return Lane{std::move(p)}; };
    test::require_ok(e.automate("track.a.gain_db", lane({{0, -20.0, Shape::smooth}, {5000, 0.0}, {9000, -6.0}})));
    test::require_ok(e.automate("track.a.pan", lane({{0, -1.0}, {12000, 1.0}})));
    test::require_ok(e.automate("track.a.send.verb.level_db", lane({{2000, -40.0}, {8000, 0.0, Shape::hold}, {10007, -20.0}})));
    test::require_ok(e.automate("track.a.eq.1.freq_hz", lane({{0, 200.0, Shape::exponential}, {10000, 4000.0}})));
    test::require_ok(e.automate("track.a.eq.2.type", lane({{0, 0.0, Shape::hold}, {4321, 5.0, Shape::hold}})));  // off, then peak
    test::require_ok(e.automate("track.b.compressor.threshold_db", lane({{0, -10.0}, {11000, -40.0}})));
    test::require_ok(e.automate(gate + ".threshold_db", lane({{3000, -60.0}, {9000, -20.0}})));
    test::require_ok(e.automate("bus.verb.reverb.mix", lane({{0, 1.0}, {6000, 0.2}})));
    test::require_ok(e.automate("master.gain_db", lane({{9500, 0.0}, {12000, -60.0}})));

    const std::size_t frames = 14000;
    std::vector<std::vector<float>> in(3, std::vector<float>(frames));
    for (std::size_t i = 0; i < frames; ++i) {
        in[0][i] = static_cast<float>(0.5 * std::sin(0.031 * static_cast<double>(i)));
        in[1][i] = static_cast<float>(0.4 * std::sin(0.007 * static_cast<double>(i)) * std::sin(0.0003 * static_cast<double>(i)));
        in[2][i] = static_cast<float>(0.4 * std::sin(0.011 * static_cast<double>(i)));
    }
    const Stereo out = test::render(e, in, frames, block);
    std::vector<float> both = out.left;
    both.insert(both.end(), out.right.begin(), out.right.end());
    return both;
}

}  // namespace

TEST_CASE("an automated mix is the same sample for sample at any block size and thread count", "[automation]") {
    const std::vector<float> reference = render_automated(256, 1);
    double energy = 0.0;
    for (float x : reference) energy += static_cast<double>(x) * x;
    REQUIRE(energy > 1.0);
    for (const auto& [block, threads] : std::vector<std::pair<std::uint32_t, std::uint32_t>>{
             {1, 1}, {64, 1}, {100, 1}, {4096, 1}, {100, 2}}) {
        INFO("blocks of " << block << ", " << threads << " threads");
        const std::vector<float> out = render_automated(block, threads);
        REQUIRE(out.size() == reference.size());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < out.size(); ++i) differ += std::memcmp(&out[i], &reference[i], sizeof(float)) != 0;
        CHECK(differ == 0);
    }
}

TEST_CASE("the timeline locates and stops: lanes land on their value there", "[automation]") {
    Lane lane;
    lane.points = {{0, 0.0}, {48000, -48.0}};  // -1 dB per 1000 frames
    const auto engine = stereo_track(64);
    Engine& e = *engine;
    test::require_ok(e.automate("track.t.gain_db", lane));
    std::vector<float> l(64), r(64), in(64, 0.5f);
    const float* ins[2] = {in.data(), in.data()};
    float* outs[2] = {l.data(), r.data()};
    for (int b = 0; b < 10; ++b) e.process(ins, 2, outs, 64);
    CHECK(l[63] == Approx(0.5 * db_to_gain(lane_value(lane, 640))).epsilon(1e-5));

    SECTION("a locate lands on the lane's value within 32 frames") {
        e.set_timeline(24000, true);  // -24 dB
        e.process(ins, 2, outs, 64);
        CHECK(l[0] > 0.5 * db_to_gain(-1.0));  // declicked: not a jump
        CHECK(l[40] == Approx(0.5 * db_to_gain(lane_value(lane, 24041))).epsilon(1e-4));
    }
    SECTION("stopped, the values stand; rolling again, they go on from there") {
        e.set_timeline(12000, false);  // -12 dB
        for (int b = 0; b < 4; ++b) e.process(ins, 2, outs, 64);
        CHECK(l[0] == Approx(0.5 * db_to_gain(-12.0)).epsilon(1e-5));
        CHECK(l[63] == l[0]);
        e.set_timeline(12000, true);
        e.process(ins, 2, outs, 64);
        e.process(ins, 2, outs, 64);
        CHECK(l[63] == Approx(0.5 * db_to_gain(lane_value(lane, 12128))).epsilon(1e-4));
    }
}

TEST_CASE("a set() takes over from the lane until its next breakpoint", "[automation]") {
    Lane lane;
    lane.points = {{0, 0.0, Shape::hold}, {4800, -6.0, Shape::hold}, {9600, -20.0, Shape::hold}};
    const auto engine = stereo_track(64);
    Engine& e = *engine;
    test::require_ok(e.automate("track.t.gain_db", lane));
    const std::size_t frames = 188 * 64;
    std::vector<float> in(frames, 0.5f);
    Stereo out{std::vector<float>(frames), std::vector<float>(frames)};
    for (std::size_t pos = 0; pos < frames; pos += 64) {
        if (pos == 5120) test::require_ok(e.set("track.t.gain_db", -30.0, 7));  // at frame 5127
        const float* ins[2] = {in.data() + pos, in.data() + pos};
        float* outs[2] = {out.left.data() + pos, out.right.data() + pos};
        e.process(ins, 2, outs, 64);
    }
    CHECK(out.left[5000] == Approx(0.5 * db_to_gain(-6.0)).epsilon(1e-5));
    CHECK(out.left[9000] == Approx(0.5 * db_to_gain(-30.0)).epsilon(1e-5));  // the set() holds
    CHECK(out.left[11000] == Approx(0.5 * db_to_gain(-20.0)).epsilon(1e-5));  // the next point takes over
}

TEST_CASE("release() gives a parameter back to its lane at once", "[automation]") {
    Lane lane;
    lane.points = {{0, 0.0, Shape::hold}, {4800, -6.0, Shape::hold}, {48000, -20.0, Shape::hold}};
    const auto engine = stereo_track(64);
    Engine& e = *engine;
    test::require_ok(e.automate("track.t.gain_db", lane));
    const std::size_t frames = 150 * 64;
    std::vector<float> in(frames, 0.5f);
    Stereo out{std::vector<float>(frames), std::vector<float>(frames)};
    for (std::size_t pos = 0; pos < frames; pos += 64) {
        if (pos == 5120) test::require_ok(e.set("track.t.gain_db", -30.0));
        if (pos == 6400) test::require_ok(e.release("track.t.gain_db", 3));  // at frame 6403
        const float* ins[2] = {in.data() + pos, in.data() + pos};
        float* outs[2] = {out.left.data() + pos, out.right.data() + pos};
        e.process(ins, 2, outs, 64);
    }
    CHECK(out.left[6300] == Approx(0.5 * db_to_gain(-30.0)).epsilon(1e-5));  // the set() holds (its 20 ms ramp done)
    CHECK(out.left[6402] == Approx(0.5 * db_to_gain(-30.0)).epsilon(1e-5));
    CHECK(out.left[6403] > out.left[6402]);  // released: on its way back
    CHECK(out.left[6500] == Approx(0.5 * db_to_gain(-6.0)).epsilon(1e-5));  // the lane's value
    CHECK_FALSE(e.release("track.t.pan").ok());  // no lane there
}

TEST_CASE("a lane a parameter cannot take is refused with the reason", "[automation]") {
    const auto engine = stereo_track();
    Engine& e = *engine;
    std::string gate;
    test::require_ok(e.add_insert("track.t", "gate", InsertPosition::post, &gate));
    auto refused = [&](std::string_view path, std::vector<Breakpoint> points, const char* words) {
        const Status s = e.automate(path, Lane{std::move(points)});
        INFO(s.message());
        CHECK_FALSE(s.ok());
        CHECK_THAT(s.message(), Catch::Matchers::Contains(words));
    };
    refused("track.t.gain_db", {{100, 0.0}, {50, -6.0}}, "breakpoint 2 at frame 50 comes before breakpoint 1");
    refused("track.t.gain_db", {{0, 0.0}, {50, 30.0}}, "breakpoint 2");
    refused("track.t.pan", {{0, 0.0}, {50, 2.0}}, "[-1, 1]");
    refused("track.t.eq.1.type", {{0, 1.0, Shape::linear}, {50, 2.0}}, "only steps: use 'hold'");
    refused("track.t.eq.1.freq_hz", {{0, 100.0, Shape::exponential}, {50, 0.0}}, "above 0");
    refused("track.t.solo", {{0, 0.0, Shape::hold}}, "solo and solo_safe decide which strips the solos silence");
    refused("track.t.mute", {{0, 0.0, Shape::linear}, {50, 1.0}}, "only steps: use 'hold'");
    refused("track.t.delay_ms", {{0, 1.0}}, "alignment delay");
    refused("track.t.compressor.lookahead_ms", {{0, 1.0}}, "latency");
    refused("track.t.gian_db", {{0, 0.0}}, "gain_db");
    // A lane of -inf dB is the range's end: silence.
    test::require_ok(e.automate("track.t.gain_db", Lane{{{0, -INFINITY}, {100, 0.0}}}));
    test::require_ok(e.automate(gate + ".range_db", Lane{{{0, -30.0}}}));
    const auto lanes = e.automation();
    REQUIRE(lanes.size() == 2);
    CHECK(lanes[0].first == "track.t.gain_db");
    CHECK(lanes[1].first == gate + ".range_db");
    test::require_ok(e.automate("track.t.gain_db", Lane{}));  // an empty lane removes it
    CHECK(e.automation().size() == 1);
}

TEST_CASE("a mute lane silences its strip from its breakpoint with the mute's declick, and a solo elsewhere still silences it",
          "[automation]") {
    // Mute from frame 4800 to 9600. The lane is read at every 32nd frame for the interval that
    // ends there, as a fader's is: a step at 4800 starts in the interval 4768 to 4799 that
    // holds it, and the mute ramps to silence over the strip's 20 ms from there.
    Lane lane;
    lane.points = {{0, 0.0, Shape::hold}, {4800, 1.0, Shape::hold}, {9600, 0.0, Shape::hold}};
    const std::size_t frames = 16000;
    const std::size_t ramp = 960;  // 20 ms at 48 kHz
    std::vector<float> first;
    for (const std::uint32_t block : {64u, 1000u}) {
        INFO("blocks of " << block);
        const auto engine = stereo_track(block);
        Engine& e = *engine;
        test::require_ok(e.automate("track.t.mute", lane));
        const Stereo out = test::render(e, dc(frames), frames, block);
        CHECK(out.left[4767] == 0.5f);                // heard up to the interval of the breakpoint
        CHECK(out.left[4768] < 0.5f);                 // on its way down from there
        CHECK(out.left[4768 + ramp / 2] < 0.3f);
        CHECK(out.left[4768 + ramp / 2] > 0.2f);      // declicked, not cut
        CHECK(out.left[4768 + ramp] == 0.0f);         // silent
        CHECK(out.left[9567] == 0.0f);
        CHECK(out.left[9568] > 0.0f);                 // unmuted in the interval of 9600
        CHECK(out.left[9568 + ramp] == 0.5f);         // back
        CHECK(out.right == out.left);
        if (first.empty()) first = out.left;
        else CHECK(out.left == first);  // the same samples at any block size
    }

    // The solo logic on top of the lane: another track soloed silences this one whatever its
    // lane says; unsoloed, the lane rules again.
    const auto engine = stereo_track(256);
    Engine& e = *engine;
    test::require_ok(e.add_track("other", 2));
    test::require_ok(e.automate("track.t.mute", lane));
    test::require_ok(e.set("track.other.solo", 1.0));
    std::vector<std::vector<float>> in = dc(frames);
    in.push_back(std::vector<float>(frames, 0.0f));  // the other track: silent
    in.push_back(std::vector<float>(frames, 0.0f));
    Stereo out = test::render(e, in, 3000, 256);
    CHECK(out.left[2999] == 0.0f);  // soloed away, although the lane says heard
    test::require_ok(e.set("track.other.solo", 0.0));
    out = test::render(e, in, 1500, 256);
    CHECK(out.left[1499] == 0.5f);  // frames 3000 to 4499: the lane says heard
}
