// Routing: nested buses, cycle refusal, unconnected strips, sends pre and post fader, mute and
// solo-in-place, state that survives recompiles, and deterministic output.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "harness.hpp"
#include "signals.hpp"

using namespace rtmix;
using test::render;

namespace {
const float centre = static_cast<float>(std::sqrt(0.5));  // equal-power pan gain at centre
double db(double x) { return std::pow(10.0, x / 20.0); }
}  // namespace

TEST_CASE("nested buses multiply their gains on the way to the master", "[routing]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_bus("inner"));
    RTMIX_REQUIRE_OK(e.add_bus("outer"));
    RTMIX_REQUIRE_OK(e.set_output("track.t", "bus.inner"));
    RTMIX_REQUIRE_OK(e.set_output("bus.inner", "bus.outer"));
    RTMIX_REQUIRE_OK(e.set("bus.inner.gain_db", -6.0));
    RTMIX_REQUIRE_OK(e.set("bus.outer.gain_db", -4.0));
    const auto out = render(e, {std::vector<float>(4800, 1.0f)}, 4800);
    CHECK(out.left.back() == Approx(centre * db(-10.0)).margin(1e-6));
    CHECK(out.right.back() == Approx(centre * db(-10.0)).margin(1e-6));
}

TEST_CASE("a routing cycle is refused with an error that names it, and nothing changes", "[routing]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_bus("a"));
    RTMIX_REQUIRE_OK(e.add_bus("b"));
    RTMIX_REQUIRE_OK(e.set_output("bus.a", "bus.b"));
    const Status s = e.set_output("bus.b", "bus.a");
    CHECK(s.code() == Status::Code::cycle);
    CHECK_THAT(s.message(), Catch::Contains("bus 'a' -> bus 'b' -> bus 'a'"));
    const Status via_send = e.add_send("bus.b", "bus.a");
    CHECK(via_send.code() == Status::Code::cycle);
    CHECK_THAT(via_send.message(), Catch::Contains("bus 'a' -> bus 'b' -> bus 'a'"));
    const Status self = e.set_output("bus.a", "bus.a");
    CHECK(self.code() == Status::Code::cycle);
    CHECK_THAT(self.message(), Catch::Contains("bus 'a' -> bus 'a'"));
    // The refused changes left the routing as it was: b still feeds the master.
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.set_output("track.t", "bus.b"));
    const auto out = render(e, {std::vector<float>(256, 1.0f)}, 256);
    CHECK(out.left.back() == Approx(centre).margin(1e-6));
}

TEST_CASE("an unconnected strip and an empty bus are silent at the master", "[routing]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_bus("empty"));
    RTMIX_REQUIRE_OK(e.set_output("track.t", ""));
    const auto out = render(e, {test::sine(100.0, 48000.0, 4800)}, 4800);
    // Silent once the reroute's 20 ms crossfade away from the master has played.
    CHECK(test::peak(out.left.data(), 960, 4800) == 0.0);
    CHECK(test::peak(out.right.data(), 960, 4800) == 0.0);
    StripMeter m{};
    REQUIRE(e.meter("track.t", m));
    CHECK(m.peak_dbfs[0] > -4.0f);  // the strip itself still runs and meters
}

TEST_CASE("a post-fader send follows the fader, a pre-fader send does not", "[routing][sends]") {
    const bool pre = GENERATE(false, true);
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_bus("fx"));
    RTMIX_REQUIRE_OK(e.set_output("track.t", ""));  // only the send reaches the master
    RTMIX_REQUIRE_OK(e.add_send("track.t", "bus.fx", -6.0, pre));
    RTMIX_REQUIRE_OK(e.set("track.t.gain_db", -10.0));
    RTMIX_REQUIRE_OK(e.set("track.t.pan", -1.0));
    const auto out = render(e, {std::vector<float>(4800, 1.0f)}, 4800);
    const double expected = db(-6.0) * (pre ? 1.0 : db(-10.0));  // pan hard left: gain 1 on L
    CHECK(out.left.back() == Approx(expected).margin(1e-6));
    CHECK(out.right.back() == Approx(0.0).margin(1e-6));
    RTMIX_REQUIRE_OK(e.set("track.t.send.fx.level_db", -20.0));
    const auto later = render(e, {std::vector<float>(4800, 1.0f)}, 4800);
    CHECK(later.left.back() == Approx(db(-20.0) * (pre ? 1.0 : db(-10.0))).margin(1e-6));
}

TEST_CASE("mute silences a track and its sends", "[routing][mute]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_bus("fx"));
    RTMIX_REQUIRE_OK(e.add_send("track.t", "bus.fx", 0.0, true));
    RTMIX_REQUIRE_OK(e.set("track.t.mute", 1.0));
    const auto out = render(e, {std::vector<float>(4800, 1.0f)}, 4800);
    CHECK(out.left.back() == 0.0f);
    CHECK(out.right.back() == 0.0f);
}

TEST_CASE("solo is in place: it silences other tracks but keeps the buses and returns it feeds",
          "[routing][solo]") {
    // Four tracks on distinct input levels, so each one's contribution is identifiable.
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("kick", 1));
    RTMIX_REQUIRE_OK(e.add_track("snare", 1));
    RTMIX_REQUIRE_OK(e.add_track("vox", 1));
    RTMIX_REQUIRE_OK(e.add_bus("drums"));
    RTMIX_REQUIRE_OK(e.add_bus("verb"));
    RTMIX_REQUIRE_OK(e.set_output("track.kick", "bus.drums"));
    RTMIX_REQUIRE_OK(e.set_output("track.snare", "bus.drums"));
    RTMIX_REQUIRE_OK(e.add_send("track.kick", "bus.verb", 0.0));
    RTMIX_REQUIRE_OK(e.add_send("track.vox", "bus.verb", 0.0));
    for (const char* t : {"track.kick", "track.snare", "track.vox"}) RTMIX_REQUIRE_OK(e.set(std::string(t) + ".pan", -1.0));
    const std::vector<std::vector<float>> in = {std::vector<float>(4800, 1.0f), std::vector<float>(4800, 10.0f),
                                                std::vector<float>(4800, 100.0f)};
    auto level = [&] { return render(e, in, 4800).left.back(); };

    CHECK(level() == Approx(1 + 10 + 100 + 1 + 100).margin(1e-3));  // kick and vox twice: direct and send

    RTMIX_REQUIRE_OK(e.set("track.kick.solo", 1.0));
    CHECK(level() == Approx(1 + 1).margin(1e-4));  // kick via drums and via the verb return

    RTMIX_REQUIRE_OK(e.set("track.kick.solo", 0.0));
    RTMIX_REQUIRE_OK(e.set("bus.drums.solo", 1.0));
    CHECK(level() == Approx(1 + 10).margin(1e-4));  // the bus and its sources; the verb is not safe

    RTMIX_REQUIRE_OK(e.set("bus.verb.solo_safe", 1.0));
    CHECK(level() == Approx(1 + 10 + 1).margin(1e-4));  // a solo-safe return stays: kick's send into it

    RTMIX_REQUIRE_OK(e.set("bus.drums.solo", 0.0));
    CHECK(level() == Approx(1 + 10 + 100 + 1 + 100).margin(1e-3));
}

TEST_CASE("removing a bus sends its sources to the master and drops the sends to it", "[routing]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_bus("b"));
    RTMIX_REQUIRE_OK(e.set_output("track.t", "bus.b"));
    RTMIX_REQUIRE_OK(e.add_send("track.t", "bus.b", 0.0));
    RTMIX_REQUIRE_OK(e.set("bus.b.gain_db", -20.0));
    RTMIX_REQUIRE_OK(e.remove("bus.b"));
    const auto out = render(e, {std::vector<float>(256, 1.0f)}, 256);
    CHECK(out.left.back() == Approx(centre).margin(1e-6));
    double v = 0;
    CHECK(e.get("track.t.send.b.level_db", v).code() == Status::Code::unknown_path);
}

TEST_CASE("routing changes while audio runs leave the DSP state of every strip intact", "[routing][state]") {
    // Two identical mixes; in the second one the routing is rebuilt around a ringing reverb and a
    // filtered track. No state may be reset by a recompile: a reset filter, compressor or reverb
    // would jump by about the signal's level. The reroute itself crossfades between two unity
    // buses, s * (1 - w) + s * w, which float rounding keeps within a few ulps of s, not exact.
    auto build = [](Engine& e) {
        RTMIX_REQUIRE_OK(e.add_track("t", 1));
        RTMIX_REQUIRE_OK(e.add_bus("a"));
        RTMIX_REQUIRE_OK(e.add_bus("b"));
        RTMIX_REQUIRE_OK(e.add_bus("verb"));
        RTMIX_REQUIRE_OK(e.add_effect("bus.verb", Effect::reverb));
        RTMIX_REQUIRE_OK(e.set_output("track.t", "bus.a"));
        RTMIX_REQUIRE_OK(e.add_send("track.t", "bus.verb", -6.0));
        RTMIX_REQUIRE_OK(e.set("track.t.eq.1.type", "lowpass"));
        RTMIX_REQUIRE_OK(e.set("track.t.eq.1.freq_hz", 300.0));
        RTMIX_REQUIRE_OK(e.set("track.t.compressor.enabled", 1.0));
    };
    Engine plain, rerouted;
    build(plain);
    build(rerouted);
    std::vector<float> x = test::sine(220.0, 48000.0, 24000, 0.8);
    x.resize(96000, 0.0f);
    const auto first = render(plain, {x}, 96000);
    test::Stereo second{{}, {}};
    for (std::size_t pos = 0; pos < 96000; pos += 12000) {
        if (pos == 24000) {
            RTMIX_REQUIRE_OK(rerouted.set_output("track.t", "bus.b"));  // a and b are both unity
            RTMIX_REQUIRE_OK(rerouted.add_track("other", 1));
            RTMIX_REQUIRE_OK(rerouted.add_send("track.other", "bus.verb", 0.0));
        }
        if (pos == 48000) RTMIX_REQUIRE_OK(rerouted.remove("track.other"));
        std::vector<float> part(x.begin() + static_cast<long>(pos), x.begin() + static_cast<long>(pos + 12000));
        const auto out = render(rerouted, {part}, 12000);
        second.left.insert(second.left.end(), out.left.begin(), out.left.end());
    }
    REQUIRE(test::peak(first.left.data(), 90000, 96000) > 1e-4);  // the reverb tail still rings
    double largest = 0.0;
    for (std::size_t i = 0; i < 96000; ++i)
        largest = std::max(largest, static_cast<double>(std::fabs(first.left[i] - second.left[i])));
    INFO("largest difference " << largest);
    CHECK(largest <= 1e-6);
    // Before the reroute the two are the same bit for bit.
    CHECK(std::memcmp(first.left.data(), second.left.data(), 24000 * sizeof(float)) == 0);
}

TEST_CASE("the same input renders bit-identical output twice", "[routing][determinism]") {
    auto run = [] {
        Engine e;
        RTMIX_REQUIRE_OK(e.add_track("a", 1));
        RTMIX_REQUIRE_OK(e.add_track("b", 2));
        RTMIX_REQUIRE_OK(e.add_bus("verb"));
        RTMIX_REQUIRE_OK(e.add_effect("bus.verb", Effect::reverb));
        RTMIX_REQUIRE_OK(e.add_effect("bus.verb", Effect::delay));
        RTMIX_REQUIRE_OK(e.add_send("track.a", "bus.verb", -3.0));
        RTMIX_REQUIRE_OK(e.add_send("track.b", "bus.verb", -9.0, true));
        RTMIX_REQUIRE_OK(e.set("track.a.compressor.enabled", 1.0));
        RTMIX_REQUIRE_OK(e.set("track.b.eq.3.type", "peak"));
        RTMIX_REQUIRE_OK(e.set("track.b.eq.3.gain_db", 9.0));
        return render(e, {test::sine(330.0, 48000.0, 48000), test::sine(990.0, 48000.0, 48000, 0.3),
                          test::sine(50.0, 48000.0, 48000, 0.5)},
                      48000, 100);
    };
    const auto x = run(), y = run();
    CHECK(std::memcmp(x.left.data(), y.left.data(), x.left.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(x.right.data(), y.right.data(), x.right.size() * sizeof(float)) == 0);
}

TEST_CASE("a host block larger than max_block_frames is processed in chunks, transparently", "[routing][chunks]") {
    auto run = [](std::uint32_t host_block) {
        Engine e(EngineOptions{.max_block_frames = 64});
        RTMIX_REQUIRE_OK(e.add_track("a", 1));
        RTMIX_REQUIRE_OK(e.add_bus("verb"));
        RTMIX_REQUIRE_OK(e.add_effect("bus.verb", Effect::reverb));
        RTMIX_REQUIRE_OK(e.add_send("track.a", "bus.verb", -6.0));
        RTMIX_REQUIRE_OK(e.set("track.a.eq.1.type", "peak"));
        RTMIX_REQUIRE_OK(e.set("track.a.compressor.enabled", 1.0));
        render(e, {}, 4800, 64);  // let every ramp settle
        return render(e, {test::sine(440.0, 48000.0, 48000, 0.9)}, 48000, host_block);
    };
    const auto small = run(64), large = run(1000);
    CHECK(std::memcmp(small.left.data(), large.left.data(), small.left.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(small.right.data(), large.right.data(), small.right.size() * sizeof(float)) == 0);
}

namespace {
double largest_step(const std::vector<float>& x) {
    double s = 0.0;
    for (std::size_t i = 1; i < x.size(); ++i) s = std::max(s, double(std::fabs(x[i] - x[i - 1])));
    return s;
}
}  // namespace

TEST_CASE("a track removed while it sounds fades out over the ramp, then leaves the plan", "[routing][fade]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    const std::vector<float> dc(9600, 1.0f);
    render(e, {dc}, 4800, 64);
    const std::uint64_t plans_before = e.stats().plans_published;
    RTMIX_REQUIRE_OK(e.remove("track.t"));
    CHECK_FALSE(e.meter("track.t", *std::make_unique<StripMeter>()));  // gone from names at once
    const auto out = render(e, {dc}, 9600, 64);
    CHECK(largest_step(out.left) <= centre / 960.0 * 1.001);  // 20 ms ramp at 48 kHz
    CHECK(out.left[959] == 0.0f);
    CHECK(out.left.back() == 0.0f);
    // The control side drops the strip from the plan on a control call once it has seen the mute
    // applied and then a fade's worth of frames played (never earlier).
    (void)e.poll_events();
    render(e, {dc}, 4800, 64);
    (void)e.poll_events();
    CHECK(e.stats().plans_published == plans_before + 2);
    RTMIX_REQUIRE_OK(e.add_track("t", 1));  // the name is free again
}

TEST_CASE("a send removed while it sounds fades out, and its path is free at once", "[routing][fade]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_bus("fx"));
    RTMIX_REQUIRE_OK(e.set_output("track.t", ""));
    RTMIX_REQUIRE_OK(e.add_send("track.t", "bus.fx", 0.0));
    const std::vector<float> dc(9600, 1.0f);
    render(e, {dc}, 4800, 64);
    RTMIX_REQUIRE_OK(e.remove_send("track.t", "bus.fx"));
    double level = 0;
    CHECK(e.get("track.t.send.fx.level_db", level).code() == Status::Code::unknown_path);
    const auto out = render(e, {dc}, 9600, 64);
    CHECK(largest_step(out.left) <= centre / 960.0 * 1.001);
    CHECK(out.left.back() == 0.0f);
    RTMIX_REQUIRE_OK(e.add_send("track.t", "bus.fx", -6.0));  // a new send while the old one fades
    (void)e.poll_events();
    const auto again = render(e, {dc}, 4800, 64);
    CHECK(again.left.back() == Approx(centre * db(-6.0)).margin(1e-6));
}

TEST_CASE("a reverb removed while it rings crossfades to the dry bus signal", "[routing][fade]") {
    auto build = [](Engine& e) {
        RTMIX_REQUIRE_OK(e.add_track("t", 1));
        RTMIX_REQUIRE_OK(e.add_bus("verb"));
        RTMIX_REQUIRE_OK(e.add_effect("bus.verb", Effect::reverb));
        RTMIX_REQUIRE_OK(e.set_output("track.t", ""));
        RTMIX_REQUIRE_OK(e.add_send("track.t", "bus.verb", 0.0));
    };
    Engine kept(EngineOptions{.max_block_frames = 64}), removed(EngineOptions{.max_block_frames = 64});
    build(kept);
    build(removed);
    const std::vector<float> tone = test::sine(330.0, 48000.0, 24000, 0.5);
    render(kept, {tone}, 24000, 64);
    render(removed, {tone}, 24000, 64);
    RTMIX_REQUIRE_OK(removed.remove_effect("bus.verb", Effect::reverb));
    const std::vector<float> next = test::sine(330.0, 48000.0, 48000, 0.5);
    const auto wet = render(kept, {next}, 4800, 64);
    const auto out = render(removed, {next}, 4800, 64);
    // At the moment of removal nothing jumps: the output starts where the reverb was...
    CHECK(std::fabs(out.left[0] - wet.left[0]) < 0.01);
    // ...and ends as the dry send into the bus (equal-power centre pan of the tone).
    CHECK(out.left[4000] == Approx(next[4000] * centre).margin(1e-6));
    (void)removed.poll_events();
    double decay = 0;
    CHECK(removed.get("bus.verb.reverb.decay_s", decay).code() == Status::Code::unknown_path);
    RTMIX_REQUIRE_OK(removed.add_effect("bus.verb", Effect::reverb));  // can come back at once
}

TEST_CASE("a reroute crossfades from the old destination to the new one without a step", "[routing][fade]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_bus("a"));
    RTMIX_REQUIRE_OK(e.add_bus("b"));
    RTMIX_REQUIRE_OK(e.set("bus.b.gain_db", -6.0));
    RTMIX_REQUIRE_OK(e.set_output("track.t", "bus.a"));
    const std::vector<float> dc(9600, 1.0f);
    render(e, {dc}, 4800, 64);
    RTMIX_REQUIRE_OK(e.set_output("track.t", "bus.b"));
    const auto out = render(e, {dc}, 9600, 64);
    // An equal-gain crossfade between two constant levels is a straight line over the 20 ms ramp.
    const double from = centre, to = centre * db(-6.0);
    CHECK(largest_step(out.left) <= (from - to) / 960.0 * 1.001);
    CHECK(out.left[479] == Approx((from + to) / 2).margin(1e-3));
    CHECK(out.left.back() == Approx(to).margin(1e-6));
    (void)e.poll_events();
    render(e, {dc}, 4800, 64);
    (void)e.poll_events();  // the old route has left the plan
    const auto later = render(e, {dc}, 256, 64);
    CHECK(later.left.back() == Approx(to).margin(1e-6));
}
