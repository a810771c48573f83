// Sidechains: a dynamics processor's detector listens to another strip. The key is a graph
// dependency like a send: it orders the plan, is latency-compensated, refuses cycles, and gives
// the same bits at any thread count.
#include <catch2/catch.hpp>

#include <cmath>

#include "harness.hpp"
#include "signals.hpp"

using namespace rtmix;
using test::render;

namespace {

constexpr double centre = 0.70710678118654752;

/// The hard-knee static curve, written out: the steady gain reduction (dB) of a level above it.
double reduction_db(double level_db, double threshold_db, double ratio) {
    return level_db <= threshold_db ? 0.0 : (threshold_db + (level_db - threshold_db) / ratio) - level_db;
}

/// A kick made of DC bursts (a level the detector sees exactly): `burst` frames at `level`
/// every `period` frames, from `first`.
std::vector<float> bursts(std::size_t frames, std::size_t first, std::size_t burst, std::size_t period, float level) {
    std::vector<float> x(frames, 0.0f);
    for (std::size_t start = first; start < frames; start += period)
        for (std::size_t i = start; i < std::min(frames, start + burst); ++i) x[i] = level;
    return x;
}

/// bass (mono, DC 0.25) with its compressor keyed by kick (mono, bursts, unheard: output "").
void build(Engine& e) {
    RTMIX_REQUIRE_OK(e.add_track("kick", 1));
    RTMIX_REQUIRE_OK(e.add_track("bass", 1));
    RTMIX_REQUIRE_OK(e.set_output("track.kick", ""));
    for (const auto& [path, value] : {std::pair{"track.bass.compressor.enabled", 1.0}, {"track.bass.compressor.threshold_db", -30.0},
                                       {"track.bass.compressor.ratio", 10.0}, {"track.bass.compressor.knee_db", 0.0},
                                       {"track.bass.compressor.attack_ms", 0.5}, {"track.bass.compressor.release_ms", 20.0}})
        RTMIX_REQUIRE_OK(e.set(path, value));
    RTMIX_REQUIRE_OK(e.set_sidechain("track.bass.compressor", "track.kick"));
}

}  // namespace

TEST_CASE("a bass ducked by a kick: gain reduction where the kick is, and only there", "[sidechain]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    build(e);
    CHECK(e.sidechain("track.bass.compressor") == "track.kick");
    const std::size_t frames = 48000, burst = 2400, period = 12000, first = 6000;
    const float kick_level = 0.7f;
    const std::vector<float> kick = bursts(frames, first, burst, period, kick_level);
    const std::vector<float> bass(frames, 0.25f);
    const test::Stereo out = render(e, {kick, bass}, frames, 64);
    const double ducked = 0.25 * centre * std::pow(10.0, reduction_db(20.0 * std::log10(kick_level), -30.0, 10.0) / 20.0);
    for (std::size_t start = first; start < frames; start += period) {
        INFO("burst at " << start);
        // Settled inside the burst (after 20 attack times): the static curve of the kick's level.
        CHECK(out.left[start + burst - 1] == Approx(ducked).epsilon(2e-4));
        // Released before the next burst (ten release times later): the bass within 0.01 dB of
        // its full level.
        if (start + period < frames) CHECK(out.left[start + period - 1] == Approx(0.25 * centre).epsilon(1.2e-3));
    }
    // Before the first kick nothing was reduced at all.
    for (std::size_t i = 0; i < first; ++i) REQUIRE(out.left[i] == static_cast<float>(0.25f * static_cast<float>(centre)));
}

TEST_CASE("a key from a later path is aligned: the bass waits for it, and the reduction meets the kick", "[sidechain][latency]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    build(e);
    RTMIX_REQUIRE_OK(e.add_insert("track.kick", "limiter"));  // its default 5 ms lookahead on the kick's path
    RTMIX_REQUIRE_OK(e.set_output("track.kick", "master"));
    RTMIX_REQUIRE_OK(e.set("track.kick.gain_db", -120.0));  // in the mix, but silent: only its key counts
    const std::uint32_t latency = e.latency_frames();
    CHECK(latency == 347);  // the limiter's shortest latency, above 5 ms (240 frames)
    render(e, {}, 9600, 64);
    const std::size_t frames = 9600, onset = 3000;
    const std::vector<float> kick = bursts(frames, onset, 2400, frames, 0.5f);  // below the limiter's ceiling
    const std::vector<float> bass(frames, 0.25f);
    const test::Stereo out = render(e, {kick, bass}, frames, 64);
    std::size_t first_reduced = frames;
    for (std::size_t i = latency; i < frames && first_reduced == frames; ++i)  // (before: the silence rendered above)
        if (out.left[i] < 0.999f * 0.25f * static_cast<float>(centre)) first_reduced = i;
    // The kick enters at `onset`; the mix is `latency` late; the gain moves on the first sample.
    CHECK(first_reduced == onset + latency);
}

TEST_CASE("a sidechained mix gives the same bits on 1, 2 and 4 threads", "[sidechain][parallel]") {
    auto run = [](std::uint32_t threads) {
        EngineOptions o{.max_block_frames = 100};
        o.threads = threads;
        o.parallel_min_nodes = 1;
        Engine e(o);
        build(e);
        RTMIX_REQUIRE_OK(e.add_track("pad", 2));
        RTMIX_REQUIRE_OK(e.add_bus("music"));
        RTMIX_REQUIRE_OK(e.set_output("track.pad", "bus.music"));
        RTMIX_REQUIRE_OK(e.set_output("track.bass", "bus.music"));
        RTMIX_REQUIRE_OK(e.add_insert("bus.music", "compressor"));
        RTMIX_REQUIRE_OK(e.set_sidechain("bus.music.insert.1", "track.kick"));
        RTMIX_REQUIRE_OK(e.add_insert("track.kick", "limiter"));
        const std::size_t frames = 24000;
        const std::vector<float> kick = bursts(frames, 1000, 1200, 6000, 0.6f);
        const std::vector<float> bass = test::sine(55.0, 48000.0, frames, 0.3), pad = test::sine(330.0, 48000.0, frames, 0.2);
        return render(e, {kick, bass, pad, pad}, frames, 100);
    };
    const test::Stereo one = run(1);
    for (const std::uint32_t threads : {2u, 4u}) {
        const test::Stereo other = run(threads);
        CHECK(other.left == one.left);
        CHECK(other.right == one.right);
    }
}

TEST_CASE("a sidechain that closes a cycle is refused and named, and a strip cannot key itself", "[sidechain]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("bass", 1));
    RTMIX_REQUIRE_OK(e.add_bus("x"));
    RTMIX_REQUIRE_OK(e.set_output("track.bass", "bus.x"));
    const Status cycle = e.set_sidechain("track.bass.compressor", "bus.x");
    CHECK(cycle.code() == Status::Code::cycle);
    CHECK_THAT(cycle.message(), Catch::Contains("track 'bass' -> bus 'x' -sidechain-> track 'bass'"));
    CHECK(e.sidechain("track.bass.compressor").empty());
    CHECK(e.set_sidechain("track.bass.compressor", "track.bass").code() == Status::Code::invalid_value);
    RTMIX_REQUIRE_OK(e.add_insert("track.bass", "reverb"));
    CHECK(e.set_sidechain("track.bass.insert.1", "bus.x").code() == Status::Code::invalid_value);  // no detector
    CHECK(e.set_sidechain("track.bass.compressor", "track.nobody").code() == Status::Code::unknown_path);
}

TEST_CASE("removing the key's strip makes the processor listen to its own signal again", "[sidechain]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    build(e);
    RTMIX_REQUIRE_OK(e.remove("track.kick"));
    CHECK(e.sidechain("track.bass.compressor").empty());
    const std::vector<float> bass(4800, 0.25f);  // -12 dBFS: above the threshold, it compresses itself
    const auto out = render(e, {std::vector<float>(4800, 0.0f), bass}, 4800, 64);  // the bass reads channel 1
    const double own = 0.25 * centre * std::pow(10.0, reduction_db(20.0 * std::log10(0.25), -30.0, 10.0) / 20.0);
    CHECK(out.left.back() == Approx(own).epsilon(2e-4));
}

TEST_CASE("the sidechain highpass keeps a key's low end from the detector", "[sidechain]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    build(e);
    const std::size_t frames = 48000;
    const std::vector<float> kick(frames, 0.7f);  // all low end: DC
    const std::vector<float> bass(frames, 0.25f);
    auto out = render(e, {kick, bass}, frames, 64);
    CHECK(out.left.back() < 0.1f * 0.25f);  // ducked hard
    RTMIX_REQUIRE_OK(e.set("track.bass.compressor.sidechain_hpf_hz", 100.0));
    out = render(e, {kick, bass}, frames, 64);
    CHECK(out.left.back() == Approx(0.25 * centre).epsilon(1e-5));  // the detector hears nothing
}

TEST_CASE("a gate keyed by the kick lets a pad through only while the kick plays", "[sidechain][gate]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("kick", 1));
    RTMIX_REQUIRE_OK(e.add_track("pad", 2));
    RTMIX_REQUIRE_OK(e.set_output("track.kick", ""));
    RTMIX_REQUIRE_OK(e.add_insert("track.pad", "gate", InsertPosition::pre));
    RTMIX_REQUIRE_OK(e.set_sidechain("track.pad.insert.1", "track.kick"));
    RTMIX_REQUIRE_OK(e.set("track.pad.insert.1.threshold_db", -20.0));
    RTMIX_REQUIRE_OK(e.set("track.pad.insert.1.range_db", -60.0));
    RTMIX_REQUIRE_OK(e.set("track.pad.insert.1.hold_ms", 0.0));
    RTMIX_REQUIRE_OK(e.set("track.pad.insert.1.release_ms", 5.0));
    const std::size_t frames = 48000;
    const std::vector<float> kick = bursts(frames, 12000, 4800, frames, 0.5f);
    const std::vector<float> pad(frames, 0.2f);  // -14 dBFS: above the threshold itself, but the gate hears the kick
    const test::Stereo out = render(e, {kick, pad, pad}, frames, 64);
    CHECK(out.left[11999] == Approx(0.2 * std::pow(10.0, -60.0 / 20.0)).epsilon(1e-3));  // closed: the range
    CHECK(out.left[16799] == 0.2f);                                                       // open: unity
    CHECK(out.left[frames - 1] == Approx(0.2 * std::pow(10.0, -60.0 / 20.0)).epsilon(1e-3));
}
