// Latency compensation across the graph: every sum (bus inputs, pre- and post-fader sends, the
// master) delays its shorter inputs so that everything arrives aligned, at the latency the engine
// reports, whatever the block size and the number of threads.
#include <catch2/catch.hpp>

#include <cmath>

#include "harness.hpp"
#include "signals.hpp"

using namespace rtmix;
using test::render;

namespace {

/// Where `x` is not zero: (frame, value) pairs.
std::vector<std::pair<std::size_t, float>> nonzero(const std::vector<float>& x) {
    std::vector<std::pair<std::size_t, float>> out;
    for (std::size_t i = 0; i < x.size(); ++i)
        if (x[i] != 0.0f) out.emplace_back(i, x[i]);
    return out;
}

enum class Paths { bus, pre_send, post_send, all };

enum class Latent { compressor, limiter };

/// Two stereo tracks with the same impulse, one with 10 ms of lookahead (its compressor's, or a
/// true-peak limiter insert's; both far above the impulse: a pure delay), into a bus and/or sent
/// pre- or post-fader to a return; both buses feed the master.
Engine& build(Engine& e, Paths paths, Latent latent) {
    RTMIX_REQUIRE_OK(e.add_track("late", 2));
    RTMIX_REQUIRE_OK(e.add_track("early", 2));
    RTMIX_REQUIRE_OK(e.add_bus("sum"));
    RTMIX_REQUIRE_OK(e.add_bus("ret"));
    if (latent == Latent::limiter) {
        RTMIX_REQUIRE_OK(e.add_insert("track.late", "limiter"));
        RTMIX_REQUIRE_OK(e.set("track.late.insert.1.lookahead_ms", 10.0));
    } else {
        RTMIX_REQUIRE_OK(e.set("track.late.compressor.enabled", 1.0));
        RTMIX_REQUIRE_OK(e.set("track.late.compressor.threshold_db", 0.0));
        RTMIX_REQUIRE_OK(e.set("track.late.compressor.lookahead_ms", 10.0));
    }
    for (const char* t : {"track.late", "track.early"}) {
        RTMIX_REQUIRE_OK(e.set_output(t, paths == Paths::bus || paths == Paths::all ? "bus.sum" : ""));
        if (paths == Paths::pre_send || paths == Paths::all) RTMIX_REQUIRE_OK(e.add_send(t, "bus.ret", 0.0, true));
        if (paths == Paths::post_send) RTMIX_REQUIRE_OK(e.add_send(t, "bus.ret", 0.0, false));
    }
    if (paths == Paths::all) {  // a post-fader send too, to a second return
        RTMIX_REQUIRE_OK(e.add_bus("ret2"));
        for (const char* t : {"track.late", "track.early"}) RTMIX_REQUIRE_OK(e.add_send(t, "bus.ret2", 0.0, false));
    }
    return e;
}

}  // namespace

TEST_CASE("two paths of different latency into a bus, a pre- and a post-fader send arrive as one aligned impulse",
          "[latency]") {
    const std::uint32_t lookahead = 480;  // 10 ms at 48 kHz (the limiter's shortest is 347 frames)
    const float amplitude = 0.25f;
    for (const Latent latent : {Latent::compressor, Latent::limiter})
    for (const Paths paths : {Paths::bus, Paths::pre_send, Paths::post_send, Paths::all}) {
        const float expected = amplitude * (paths == Paths::all ? 6.0f : 2.0f);
        for (const std::uint32_t block : {32u, 100u, 256u, 1024u})
            for (const std::uint32_t threads : {1u, 2u}) {
                INFO("latent " << static_cast<int>(latent) << ", paths " << static_cast<int>(paths) << ", block " << block
                               << ", threads " << threads);
                EngineOptions o{.max_block_frames = block};
                o.threads = threads;
                o.parallel_min_nodes = 1;
                Engine e(o);
                build(e, paths, latent);
                CHECK(e.latency_frames() == lookahead);
                render(e, {}, 4800, block);  // every fade-in done, silence in every line
                const std::vector<float> click = test::impulse(4096, amplitude);
                const test::Stereo out = render(e, {click, click, click, click}, 4096, block);
                for (const std::vector<float>* side : {&out.left, &out.right}) {
                    const auto hits = nonzero(*side);
                    REQUIRE(hits.size() == 1);
                    CHECK(hits[0].first == lookahead);
                    CHECK(hits[0].second == Approx(expected).epsilon(1e-6));
                }
            }
    }
}

TEST_CASE("a latent insert on a bus delays the strips that skip that bus, and the master reports the sum",
          "[latency]") {
    // a -> bus x (limiter, 8 ms) -> bus y (limiter, 10 ms) -> master; b -> bus y; c -> master.
    Engine e(EngineOptions{.max_block_frames = 64});
    for (const char* t : {"a", "b", "c"}) RTMIX_REQUIRE_OK(e.add_track(t, 2));
    RTMIX_REQUIRE_OK(e.add_bus("x"));
    RTMIX_REQUIRE_OK(e.add_bus("y"));
    RTMIX_REQUIRE_OK(e.set_output("track.a", "bus.x"));
    RTMIX_REQUIRE_OK(e.set_output("bus.x", "bus.y"));
    RTMIX_REQUIRE_OK(e.set_output("track.b", "bus.y"));
    RTMIX_REQUIRE_OK(e.add_insert("bus.x", "limiter"));
    RTMIX_REQUIRE_OK(e.set("bus.x.insert.1.lookahead_ms", 8.0));
    RTMIX_REQUIRE_OK(e.add_insert("bus.y", "limiter"));
    RTMIX_REQUIRE_OK(e.set("bus.y.insert.1.lookahead_ms", 10.0));
    std::vector<InsertInfo> inserts = e.inserts("bus.x");
    REQUIRE(inserts.size() == 1);
    CHECK(inserts[0].latency_frames == 384);
    CHECK(e.latency_frames() == 384 + 480);
    render(e, {}, 4800, 64);
    const std::vector<float> click = test::impulse(2048, 0.1f);
    const std::vector<float> none(2048, 0.0f);
    // Each track alone: its impulse comes out at the mix's latency.
    for (int t = 0; t < 3; ++t) {
        std::vector<std::vector<float>> in(6, none);
        in[2 * t] = in[2 * t + 1] = click;
        const auto hits = nonzero(render(e, in, 2048, 64).left);
        INFO("track " << t);
        REQUIRE(hits.size() == 1);
        CHECK(hits[0].first == 384 + 480);
        CHECK(hits[0].second == Approx(0.1f).epsilon(1e-6));
    }
    // With the master limiter on, its latency comes on top: at its default lookahead (5 ms),
    // its shortest, 347 frames (see dsp/limiter.hpp).
    RTMIX_REQUIRE_OK(e.set("master.limiter.enabled", 1.0));
    CHECK(e.latency_frames() == 384 + 480 + 347);
}

TEST_CASE("a latency that changes while audio plays is declicked and ends aligned", "[latency]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("late", 2));
    RTMIX_REQUIRE_OK(e.add_track("early", 2));
    RTMIX_REQUIRE_OK(e.add_insert("track.late", "limiter"));
    RTMIX_REQUIRE_OK(e.set("track.early.gain_db", -120.0));  // only the compensated track is heard
    const std::vector<float> tone = test::sine(100.0, 48000.0, 48000, 0.25);
    render(e, {tone, tone, tone, tone}, 9600, 64);
    const std::uint32_t before = e.latency_frames();
    RTMIX_REQUIRE_OK(e.set("track.late.insert.1.lookahead_ms", 10.0));
    const std::uint32_t after = e.latency_frames();
    CHECK(after == 480);
    CHECK(after > before);
    // The early track's compensating delay grows while it plays: its output moves along a
    // crossfade, never jumping more than a 100 Hz sine of 0.25 moves in a few samples.
    RTMIX_REQUIRE_OK(e.set("track.early.gain_db", 0.0));
    RTMIX_REQUIRE_OK(e.set("track.late.gain_db", -120.0));
    render(e, {tone, tone, tone, tone}, 4800, 64);
    RTMIX_REQUIRE_OK(e.set("track.late.insert.1.lookahead_ms", 2.0));
    const test::Stereo out = render(e, {tone, tone, tone, tone}, 9600, 64);
    float largest = 0.0f;
    for (std::size_t i = 1; i < out.left.size(); ++i) largest = std::max(largest, std::fabs(out.left[i] - out.left[i - 1]));
    const float sine_step = static_cast<float>(0.25 * 2.0 * test::pi * 100.0 / 48000.0);
    CHECK(largest < 2.5f * sine_step);
}
