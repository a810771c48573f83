// Recording automation (Engine::record()): touch, latch and write against the breakpoints their
// rules give (computed here from the frames the sets land at), the lane played back against the
// output heard while it was written (sample for sample, at another block size), thinning against
// dense evaluation, and the things that record nothing.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "automation/lane.hpp"
#include "harness.hpp"

using namespace rtmix;
using rtmix::test::Stereo;

namespace {

constexpr double rate = 48000.0;
constexpr std::int64_t grid = 32;
constexpr std::int64_t glide = 960;  // the default 20 ms smoothing at 48 kHz, on the grid

std::int64_t grid_at_or_after(std::int64_t f) { return (f + grid - 1) / grid * grid; }

std::unique_ptr<Engine> stereo_track(std::uint32_t max_block = 128) {
    EngineOptions o{.sample_rate = rate, .max_block_frames = max_block};
    o.threads = 1;
    auto e = std::make_unique<Engine>(o);
    test::require_ok(e->add_track("t", 2));
    return e;
}

/// Renders `frames` frames of a sine in blocks of `block`, calling `before(pos)` ahead of each
/// block (where the test sets, releases, moves the timeline, ...).
Stereo render(Engine& e, std::size_t frames, std::uint32_t block, const std::function<void(std::int64_t)>& before = {}) {
    Stereo out{std::vector<float>(frames), std::vector<float>(frames)};
    std::vector<float> in(frames);
    for (std::size_t i = 0; i < frames; ++i) in[i] = static_cast<float>(0.5 * std::sin(0.01 * static_cast<double>(i)));
    for (std::size_t pos = 0; pos < frames; pos += block) {
        if (before) before(static_cast<std::int64_t>(pos));
        const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(block, frames - pos));
        const float* ins[2] = {in.data() + pos, in.data() + pos};
        float* outs[2] = {out.left.data() + pos, out.right.data() + pos};
        e.process(ins, 2, outs, n);
    }
    return out;
}

/// The number of frames in [from, to) where the two outputs differ in any bit.
std::size_t differences(const Stereo& a, const Stereo& b, std::size_t from, std::size_t to) {
    std::size_t n = 0;
    for (std::size_t i = from; i < to; ++i)
        n += (std::memcmp(&a.left[i], &b.left[i], sizeof(float)) != 0 || std::memcmp(&a.right[i], &b.right[i], sizeof(float)) != 0);
    return n;
}

Lane lane_of(Engine& e, const std::string& path) {
    for (auto& [p, lane] : e.automation())
        if (p == path) return lane;
    FAIL("no lane for " << path);
    return {};
}

void check_points(const Lane& lane, const std::vector<Breakpoint>& expected) {
    INFO("lane of " << lane.points.size() << " points");
    REQUIRE(lane.points.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("breakpoint " << i);
        CHECK(lane.points[i].frame == expected[i].frame);
        CHECK(lane.points[i].value == expected[i].value);
        CHECK(lane.points[i].shape == expected[i].shape);
    }
}

}  // namespace

TEST_CASE("touch writes from the set to the release and glides back, and the lane plays what was heard", "[automation][record]") {
    const Lane old{{{0, -6.0, Shape::hold}, {30000, -12.0, Shape::hold}}};
    const auto engine = stereo_track();
    Engine& e = *engine;
    test::require_ok(e.automate("track.t.gain_db", old));
    test::require_ok(e.record("track.t.gain_db", AutomationMode::touch));
    CHECK(e.recording() == std::vector<std::pair<std::string, AutomationMode>>{{"track.t.gain_db", AutomationMode::touch}});
    const std::size_t frames = 20000;
    const Stereo heard = render(e, frames + 1000, 100, [&](std::int64_t pos) {
        if (pos == 5000) test::require_ok(e.set("track.t.gain_db", -20.0, 13));  // lands at 5013
        if (pos == 9000) test::require_ok(e.release("track.t.gain_db", 7));      // lets go at 9007
        if (pos == 12000) (void)e.automation();  // the control side takes the stretch: a new plan mid-roll
        if (pos == 20000) e.set_timeline(20000, false);
    });
    // Written from the grid point at or after 5013 (5024): a glide of 960 frames from the lane's
    // value there to -20; let go at the grid point at or after 9007 (9024): back to the lane's
    // value 960 frames later, where the lane takes over again. Everything else stays.
    const Lane lane = lane_of(e, "track.t.gain_db");
    check_points(lane, {{0, -6.0, Shape::hold},
                        {5024, -6.0, Shape::linear},
                        {5024 + glide, -20.0, Shape::hold},
                        {9024, -20.0, Shape::linear},
                        {9024 + glide, -6.0, Shape::hold},
                        {30000, -12.0, Shape::hold}});
    bool said = false;
    for (const Event& ev : e.poll_events())
        said = said || (ev.code == Event::Code::automation_written && ev.strip == "track.t.gain_db");
    CHECK(said);

    // The same mix with the written lane, in other blocks: the same samples.
    const auto replay = stereo_track(1024);
    test::require_ok(replay->automate("track.t.gain_db", lane));
    const Stereo played = render(*replay, frames, 256);
    CHECK(differences(heard, played, 0, frames) == 0);
    CHECK(std::fabs(heard.left[7000]) > 0.0f);  // (not silence that would match anything)
}

TEST_CASE("latch writes the last value until the timeline stops, and a set cuts a glide short", "[automation][record]") {
    const Lane old{{{0, 0.0, Shape::linear}, {48000, -24.0, Shape::linear}}};
    const auto engine = stereo_track();
    Engine& e = *engine;
    test::require_ok(e.automate("track.t.gain_db", old));
    test::require_ok(e.record("track.t.gain_db", AutomationMode::latch));
    const std::int64_t stop = 8010;
    const Stereo heard = render(e, 9000, 10, [&](std::int64_t pos) {
        if (pos == 3000) test::require_ok(e.set("track.t.gain_db", -10.0, 5));  // 3005: grid 3008
        if (pos == 3500) test::require_ok(e.set("track.t.gain_db", -3.0));      // 3500: grid 3520, mid-glide
        if (pos == 6000) test::require_ok(e.release("track.t.gain_db"));        // latched: no effect
        if (pos == stop) e.set_timeline(stop, false);
        if (pos == 8500) test::require_ok(e.set("track.t.gain_db", -40.0, 3));  // stopped: not written
    });
    const double a = lane_value(old, 3008.0);
    const Breakpoint first{3008, a, Shape::linear}, target{3008 + glide, -10.0, Shape::hold};
    const double cut = engine::segment_value(first, target, 3520.0);
    const std::int64_t back = grid_at_or_after(stop) + 1;  // the last value read, then the lane
    const Lane lane = lane_of(e, "track.t.gain_db");
    check_points(lane, {{0, 0.0, Shape::linear},
                        first,
                        {3520, cut, Shape::linear},
                        {3520 + glide, -3.0, Shape::hold},
                        {back, lane_value(old, static_cast<double>(back)), Shape::linear},
                        {48000, -24.0, Shape::linear}});

    const auto replay = stereo_track(1024);
    test::require_ok(replay->automate("track.t.gain_db", lane));
    const Stereo played = render(*replay, static_cast<std::size_t>(stop), 333);
    CHECK(differences(heard, played, 0, static_cast<std::size_t>(stop)) == 0);
}

TEST_CASE("write writes from where it is armed over all the timeline rolls over, across a jump", "[automation][record]") {
    const Lane old{{{0, 0.0, Shape::linear}, {48000, -24.0, Shape::linear}}};
    const auto script = [](Engine& e, bool record) {
        return [&e, record](std::int64_t pos) {
            if (record && pos == 2000) test::require_ok(e.record("track.t.gain_db", AutomationMode::write));
            if (record && pos == 6000) test::require_ok(e.set("track.t.gain_db", -30.0, 50));  // 6050: grid 6080
            if (pos == 10000) e.set_timeline(30000, true);  // a locate while rolling
            if (pos == 12000) e.set_timeline(32000, false);
        };
    };
    const auto engine = stereo_track();
    Engine& e = *engine;
    test::require_ok(e.automate("track.t.gain_db", old));
    const Stereo heard = render(e, 12100, 100, script(e, true));
    const double w = lane_value(old, 2016.0);  // armed at 2000: from the grid point at or after it
    const Lane lane = lane_of(e, "track.t.gain_db");
    check_points(lane, {{0, 0.0, Shape::linear},
                        {2016, w, Shape::hold},  // the value it had, held
                        {6080, w, Shape::linear},
                        {6080 + glide, -30.0, Shape::hold},
                        // the jump at 10000 ends the stretch after the grid point at or after it
                        {10017, lane_value(old, 10017.0), Shape::linear},
                        {30000, -30.0, Shape::hold},  // and the value goes on where it lands
                        {32001, lane_value(old, 32001.0), Shape::linear},
                        {48000, -24.0, Shape::linear}});
    CHECK(e.record("track.t.gain_db", AutomationMode::read).ok());
    CHECK(e.recording().empty());

    // The same timeline with the written lane, in other blocks.
    const auto replay = stereo_track(1024);
    Engine& r = *replay;
    test::require_ok(r.automate("track.t.gain_db", lane));
    const Stereo played = render(r, 12000, 500, script(r, false));
    CHECK(differences(heard, played, 0, 12000) == 0);
}

TEST_CASE("a touch with a timeout lets go that long after its last set", "[automation][record]") {
    const auto engine = stereo_track();
    Engine& e = *engine;
    test::require_ok(e.set("track.t.pan", 0.25));
    test::require_ok(e.record("track.t.pan", AutomationMode::touch, {.touch_timeout_s = 0.1}));  // 4800 frames
    render(e, 20000, 64, [&](std::int64_t pos) {
        if (pos == 1024) test::require_ok(e.set("track.t.pan", -0.5, 10));  // grid 1056
        if (pos == 1536) test::require_ok(e.set("track.t.pan", 0.75));      // grid 1536: the timer starts again
    });
    const Breakpoint first{1056, 0.25, Shape::linear}, to{1056 + glide, -0.5, Shape::hold};
    const double cut = engine::segment_value(first, to, 1536.0);  // the second set meets the glide at 1536
    const std::int64_t let_go = 1536 + 4800;
    const Lane lane = lane_of(e, "track.t.pan");
    // No lane before: the parameter's value stands for it on both sides.
    check_points(lane, {first, {1536, cut, Shape::linear}, {1536 + glide, 0.75, Shape::hold},
                        {let_go, 0.75, Shape::linear}, {let_go + glide, 0.25, Shape::linear}});
}

TEST_CASE("words and switches record as steps, and nothing is written while the timeline stands", "[automation][record]") {
    const auto engine = stereo_track();
    Engine& e = *engine;
    test::require_ok(e.record("track.t.eq.1.type", AutomationMode::latch));
    test::require_ok(e.record("track.t.gain_db", AutomationMode::write));
    e.set_timeline(0, false);
    render(e, 4000, 100, [&](std::int64_t pos) {
        if (pos == 1000) test::require_ok(e.set("track.t.gain_db", -5.0));  // stopped: set, not written
        if (pos == 2000) e.set_timeline(2000, true);                           // rolls from here
        if (pos == 2500) test::require_ok(e.set("track.t.eq.1.type", "peak", 1));
        if (pos == 3500) e.set_timeline(3500, false);
    });
    double gain = 0.0;
    test::require_ok(e.get("track.t.gain_db", gain));
    CHECK(gain == -5.0);
    // Write from where it rolled (at the value set while stopped) to where it stopped.
    check_points(lane_of(e, "track.t.gain_db"), {{2000, -5.0, Shape::hold}, {3521, -5.0, Shape::linear}});
    const ParameterInfo* info = nullptr;
    ParameterInfo type;
    test::require_ok(e.parameter_info("track.t.eq.1.type", type));
    info = &type;
    const auto peak = static_cast<double>(std::find(info->words.begin(), info->words.end(), "peak") - info->words.begin());
    check_points(lane_of(e, "track.t.eq.1.type"),
                 {{2528, 0.0, Shape::hold}, {2560, peak, Shape::hold}, {3521, 0.0, Shape::hold}});

    // What cannot be recorded is refused, like a lane.
    CHECK_THAT(e.record("track.t.solo", AutomationMode::touch).message(), Catch::Matchers::Contains("cannot be recorded"));
    CHECK_FALSE(e.record("track.t.gian_db", AutomationMode::touch).ok());
    CHECK_FALSE(e.record("track.t.pan", AutomationMode::touch, {.touch_timeout_s = -1.0}).ok());
}

TEST_CASE("thin() keeps every frame within the tolerance", "[automation][record]") {
    // A dense wobbly fader (linear segments every 37 frames), a step, a jump and a smooth curve.
    Lane dense;
    for (int k = 0; k < 400; ++k) {
        const double x = k * 0.05;
        dense.points.push_back({k * 37LL, -20.0 + 8.0 * std::sin(x) + 0.3 * std::sin(7.3 * x), Shape::linear});
    }
    dense.points[200].shape = Shape::hold;
    dense.points.push_back({399 * 37LL, 3.0, Shape::smooth});
    dense.points.push_back({16000, -3.0, Shape::linear});
    for (const bool logarithmic : {false, true}) {
        Lane lane = dense;
        if (logarithmic)
            for (Breakpoint& b : lane.points) b.value = 1000.0 * std::pow(2.0, b.value / 10.0);  // Hz, > 0
        const double tolerance = logarithmic ? 0.005 * std::log(1000.0) : 0.1;
        const Lane thinned = thin(lane, tolerance, logarithmic);
        INFO((logarithmic ? "logarithmic" : "linear") << ": " << thinned.points.size() << " of " << lane.points.size());
        CHECK(thinned.points.size() < lane.points.size() / 3);
        double worst = 0.0;
        for (std::int64_t f = 0; f <= 16000; ++f) {
            const double a = lane_value(lane, static_cast<double>(f)), b = lane_value(thinned, static_cast<double>(f));
            worst = std::max(worst, logarithmic ? std::fabs(std::log(a) - std::log(b)) : std::fabs(a - b));
        }
        CHECK(worst <= tolerance * (1 + 1e-9));
        // The step, the jump and the curve stay as they were.
        for (const std::int64_t f : {200 * 37LL, 201 * 37LL, 399 * 37LL}) {
            bool found = false;
            for (const Breakpoint& b : thinned.points) found = found || b.frame == f;
            CHECK(found);
        }
        CHECK(thinned.points.back().frame == 16000);
    }
}

TEST_CASE("a dense stream of sets thins to a lane within 0.1 dB of what was heard", "[automation][record]") {
    const auto engine = stereo_track();
    Engine& e = *engine;
    test::require_ok(e.record("track.t.gain_db", AutomationMode::write));
    // A set every 200 frames (a fader sending 240 values a second), rounded to float as sent.
    std::vector<std::pair<std::int64_t, double>> sets;
    for (int k = 0; k < 150; ++k)
        sets.emplace_back(1000 + 200LL * k + (k * 7) % 100,
                          static_cast<double>(static_cast<float>(-20.0 + 10.0 * std::sin(k * 0.04) + 0.02 * (k % 3))));
    const std::int64_t stop = 40000;
    render(e, 41000, 100, [&](std::int64_t pos) {
        for (const auto& [f, v] : sets)
            if (f >= pos && f < pos + 100) test::require_ok(e.set("track.t.gain_db", v, static_cast<std::uint32_t>(f - pos)));
        if (pos == stop) e.set_timeline(stop, false);
    });
    // What was heard, by the rule (computed here on its own): each set glides in a straight line
    // from the value at the grid point at or after it, over 960 frames, a later set taking over.
    struct Glide {
        std::int64_t at;
        double from, to;
    };
    std::vector<Glide> glides;
    const auto heard = [&](std::int64_t x, std::size_t count) {
        double v = 0.0;  // the fader's value before anything is written
        for (std::size_t k = 0; k < count; ++k) {
            const Glide& g = glides[k];
            if (g.at > x) break;
            v = x >= g.at + glide ? g.to : g.from + static_cast<double>(x - g.at) / static_cast<double>(glide) * (g.to - g.from);
        }
        return v;
    };
    for (const auto& [f, v] : sets) {
        const std::int64_t at = grid_at_or_after(f);
        glides.push_back({at, heard(at, glides.size()), v});
    }
    const Lane lane = lane_of(e, "track.t.gain_db");
    INFO(lane.points.size() << " breakpoints for " << sets.size() << " sets");
    CHECK(lane.points.size() < sets.size());
    double worst = 0.0;
    for (std::int64_t x = 0; x <= grid_at_or_after(stop); ++x)
        worst = std::max(worst, std::fabs(lane_value(lane, static_cast<double>(x)) - heard(x, glides.size())));
    CHECK(worst <= 0.1 + 1e-9);
    CHECK(worst > 0.0);  // it did thin
}

TEST_CASE("an S-curve a stretch cuts keeps its values on both sides", "[automation][record]") {
    const Lane old{{{0, -30.0, Shape::smooth}, {20000, 0.0, Shape::linear}, {30000, 0.0}}};
    const auto engine = stereo_track();
    Engine& e = *engine;
    test::require_ok(e.automate("track.t.gain_db", old));
    test::require_ok(e.record("track.t.gain_db", AutomationMode::touch));
    render(e, 12000, 100, [&](std::int64_t pos) {
        if (pos == 5000) test::require_ok(e.set("track.t.gain_db", -6.0));  // grid 5024
        if (pos == 8000) test::require_ok(e.release("track.t.gain_db"));     // grid 8000: back at 8960
    });
    const Lane lane = lane_of(e, "track.t.gain_db");
    // Outside the stretch [5024, 8960] the lane is the old one, within the 0.1 dB the recorder
    // thins to, at every frame.
    double worst = 0.0;
    for (std::int64_t x = 0; x <= 30000; ++x)
        if (x < 5024 || x >= 8960) worst = std::max(worst, std::fabs(lane_value(lane, double(x)) - lane_value(old, double(x))));
    CHECK(worst <= 0.1);
    CHECK(lane_value(lane, 6500.0) == -6.0);
}
