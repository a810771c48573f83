// A control thread floods parameter and routing changes while the audio thread processes 100 000
// blocks (25 000 under the sanitizers). Run under ThreadSanitizer in CI: no race, no crash, and
// every accepted change applied.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <thread>

#include "harness.hpp"

using namespace rtmix;

namespace {
// GCC says so with __SANITIZE_ADDRESS__ and __SANITIZE_THREAD__, Clang with __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif
}  // namespace

TEST_CASE("control floods while the audio thread runs: no race, every accepted change applied",
          "[concurrency]") {
    Engine e(EngineOptions{.max_block_frames = 64, .param_queue_capacity = 1024});
    RTMIX_REQUIRE_OK(e.add_track("steady", 1));
    RTMIX_REQUIRE_OK(e.add_bus("grp"));
    RTMIX_REQUIRE_OK(e.add_bus("verb"));
    RTMIX_REQUIRE_OK(e.add_effect("bus.verb", Effect::reverb));
    RTMIX_REQUIRE_OK(e.set_output("track.steady", "bus.grp"));

    // The audio thread runs until the control thread has done its share: at least 100 000 blocks
    // processed (25 000 under the sanitizers, which slow every block tenfold: a race shows in far
    // fewer) and 200 rounds of routing edits, however the scheduler shares the cores.
    constexpr std::uint64_t blocks = sanitized ? 25000 : 100000;
    constexpr int edit_rounds = 200;
    std::atomic<bool> stop{false};
    std::vector<float> dc(64, 0.5f);
    std::thread audio([&] {
        const float* in[1] = {dc.data()};
        std::vector<float> l(64), r(64);
        float* out[2] = {l.data(), r.data()};
        while (!stop) e.process(in, 1, out, 64);
    });

    std::uint64_t accepted = 0, refused_full = 0, last_edit_block = 0;
    int round = 0, edits = 0;
    for (;;) {
        const std::uint64_t block = e.stats().blocks_processed;
        if (block >= blocks && edits >= edit_rounds) break;
        ++round;
        const double g = -double(round % 40);
        Status s = e.set("track.steady.gain_db", g, static_cast<std::uint32_t>(round % 100));
        (s.ok() ? accepted : refused_full) += 1;
        REQUIRE((s.ok() || s.code() == Status::Code::queue_full));
        s = e.set("bus.grp.eq.1.freq_hz", 100.0 + round % 5000);
        (s.ok() ? accepted : refused_full) += 1;
        // Topology, paced by the audio (at most one edit round per 4 blocks, like a fast host):
        // a track appears with a send and goes again; the group is rerouted. Removed strips and
        // routes fade out for 20 ms, so an unpaced flood would keep hundreds of them in the plan.
        if (round % 50 == 0 && block >= last_edit_block + 4) {
            last_edit_block = block;
            ++edits;
            const std::string name = std::string("t").append(std::to_string(round));
            if (e.add_track(name, 1).ok()) {
                (void)e.add_send("track." + name, "bus.verb", -6.0);
                (void)e.set("track." + name + ".pan", 0.5);
                (void)e.remove("track." + name);
            }
            (void)e.set_output("bus.grp", edits % 2 == 0 ? "bus.verb" : "master");
            (void)e.poll_events();
        }
        if (round % 7 == 0) std::this_thread::yield();
    }
    stop = true;
    audio.join();
    RTMIX_REQUIRE_OK(e.set_output("bus.grp", "master"));
    RTMIX_REQUIRE_OK(e.set("track.steady.gain_db", -6.0));
    RTMIX_REQUIRE_OK(e.set("bus.verb.mute", 1.0));  // the group fed the reverb at times: still ringing
    // Drain what is left in the queue (offsets up to 100 frames need a few blocks).
    const std::vector<float> steady(64 * 40, 0.5f);
    test::render(e, {steady}, steady.size(), 64);
    const EngineStats stats = e.stats();
    INFO("accepted " << accepted << ", refused (queue full) " << refused_full << ", rounds " << round << ", edits "
                      << edits);
    CHECK(stats.blocks_processed >= blocks);
    CHECK(stats.params_applied == stats.params_sent);
    CHECK(accepted > 1000);
    // The last value set is what is heard: 0.5 * -6 dB * equal-power centre, through unity buses.
    const auto out = test::render(e, {steady}, steady.size(), 64);
    CHECK(out.left.back() == Approx(0.5 * std::pow(10.0, -6.0 / 20.0) * std::sqrt(0.5)).margin(1e-4));
}
