// Parallel execution of the render plan: the output is bit-identical for any number of threads,
// including while parameters change at sample offsets and the routing changes between blocks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace rtmix;

namespace {

constexpr std::uint32_t block = 128;

/// "t" and 3 -> "t3" (built with append: GCC 12 warns wrongly on "literal" + std::to_string).
std::string numbered(const char* prefix, long n) { return std::string(prefix).append(std::to_string(n)); }

/// 24 stereo tracks with full strips into 4 groups, a reverb and a delay return, a master with
/// compressor and limiter; `blocks` blocks of noise and tones, with changes along the way.
std::vector<float> render_mix(std::uint32_t threads, std::uint32_t min_nodes, int blocks,
                              std::uint32_t track_group = 8) {
    EngineOptions o{.sample_rate = 48000.0, .max_block_frames = block};
    o.threads = threads;
    o.track_group = track_group;
    o.parallel_min_nodes = min_nodes;
    Engine e(o);
    REQUIRE(e.threads() == threads);
    const int tracks = 24;
    auto ok = [](const Status& s) {
        INFO(s.message());
        REQUIRE(s);
    };
    ok(e.batch([&] {
        for (int g = 0; g < 4; ++g) ok(e.add_bus(numbered("g", g)));
        ok(e.add_bus("verb"));
        ok(e.add_effect("bus.verb", Effect::reverb));
        ok(e.add_bus("echo"));
        ok(e.add_effect("bus.echo", Effect::delay));
        ok(e.add_send("bus.echo", "bus.verb", -6.0));
        for (int t = 0; t < tracks; ++t) {
            const std::string name = numbered("t", t), path = "track." + name;
            ok(e.add_track(name, t % 5 == 2 ? 1 : 2));
            ok(e.set_output(path, numbered("bus.g", t % 4)));
            ok(e.add_send(path, t % 3 == 0 ? "bus.echo" : "bus.verb", -12.0 - t % 5));
        }
        return Status{};
    }));
    for (int t = 0; t < tracks; ++t) {
        const std::string path = numbered("track.t", t);
        ok(e.set(path + ".eq.1.type", "highpass"));
        ok(e.set(path + ".eq.1.freq_hz", 40.0 + t));
        ok(e.set(path + ".eq.2.type", "peak"));
        ok(e.set(path + ".eq.2.freq_hz", 300.0 + 50.0 * t));
        ok(e.set(path + ".eq.2.gain_db", t % 2 ? 3.0 : -3.0));
        ok(e.set(path + ".compressor.enabled", 1.0));
        ok(e.set(path + ".compressor.threshold_db", -30.0));
        ok(e.set(path + ".pan", std::sin(t * 0.9)));
    }
    for (int g = 0; g < 4; ++g) ok(e.set(numbered("bus.g", g) + ".compressor.enabled", 1.0));
    ok(e.set("master.compressor.enabled", 1.0));
    ok(e.set("master.limiter.enabled", 1.0));
    ok(e.set("master.limiter.gain_db", 6.0));

    std::mt19937 random(5);
    std::normal_distribution<float> noise(0.0f, 0.2f);
    std::vector<std::vector<float>> in(e.input_channels(), std::vector<float>(block));
    std::vector<const float*> in_ptrs;
    for (auto& ch : in) in_ptrs.push_back(ch.data());
    std::vector<float> l(block), r(block), out;
    float* outs[2] = {l.data(), r.data()};
    for (int b = 0; b < blocks; ++b) {
        for (std::size_t c = 0; c < in.size(); ++c)
            for (std::uint32_t i = 0; i < block; ++i)
                in[c][i] = noise(random) + 0.3f * std::sin(0.01f * static_cast<float>((b * block + i) * (c + 1)));
        if (b % 7 == 3) ok(e.set(numbered("track.t", b % tracks) + ".gain_db", -6.0 * (b % 3), 17 * (b % 5)));
        if (b % 11 == 5) ok(e.set(numbered("bus.g", b % 4) + ".pan", 0.1 * (b % 9) - 0.4, 33));
        // An EQ glide takes its strip out of the lanes until it ends; a type change fades.
        if (b % 13 == 6) ok(e.set(numbered("track.t", b % tracks) + ".eq.2.freq_hz", 500.0 + 10.0 * b, 5));
        if (b == 90) ok(e.set("track.t3.eq.4.type", "highshelf"));
        if (b % 17 == 8) ok(e.set(numbered("track.t", b % tracks) + ".compressor.enabled", b % 2 ? 1.0 : 0.0));
        if (b == blocks / 2) ok(e.set_output("track.t5", "bus.g1"));  // a reroute: a new plan
        if (b == blocks / 2 + 10) ok(e.remove_send("track.t10", "bus.verb"));
        e.process(in_ptrs.data(), static_cast<std::uint32_t>(in_ptrs.size()), outs, block);
        out.insert(out.end(), l.begin(), l.end());
        out.insert(out.end(), r.begin(), r.end());
    }
    return out;
}

}  // namespace

TEST_CASE("the output is bit-identical whether tracks run alone or in groups", "[parallel][lanes]") {
    // Groups run their tracks' EQs in SIMD lanes and their compressors interleaved.
    const std::vector<float> alone = render_mix(1, 1, 300, 1);
    double energy = 0.0;
    for (float x : alone) energy += static_cast<double>(x) * x;
    REQUIRE(energy > 1.0);
    for (const std::uint32_t group : {3u, 8u}) {
        INFO("groups of " << group);
        const std::vector<float> grouped = render_mix(1, 1, 300, group);
        REQUIRE(grouped.size() == alone.size());
        CHECK(std::memcmp(grouped.data(), alone.data(), alone.size() * sizeof(float)) == 0);
        const std::vector<float> parallel = render_mix(2, 1, 300, group);
        CHECK(std::memcmp(parallel.data(), alone.data(), alone.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("the output is bit-identical with 1, 2 and 4 threads", "[parallel]") {
    const std::vector<float> serial = render_mix(1, 1, 400);
    double energy = 0.0;
    for (float x : serial) energy += static_cast<double>(x) * x;
    REQUIRE(energy > 1.0);  // the mix is not silent
    for (const std::uint32_t threads : {2u, 4u}) {
        for (const std::uint32_t min_nodes : {1u, 16u}) {
            INFO(threads << " threads, parallel from " << min_nodes << " nodes");
            const std::vector<float> parallel = render_mix(threads, min_nodes, 400);
            REQUIRE(parallel.size() == serial.size());
            CHECK(std::memcmp(parallel.data(), serial.data(), serial.size() * sizeof(float)) == 0);
        }
    }
}

TEST_CASE("a small plan runs on the audio thread alone and a large one in parallel, the same either way", "[parallel]") {
    // Under the threshold the workers are never woken; either way the result is the serial one.
    const std::vector<float> serial = render_mix(1, 1, 50);
    CHECK(std::memcmp(render_mix(3, 1000, 50).data(), serial.data(), serial.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(render_mix(3, 2, 50).data(), serial.data(), serial.size() * sizeof(float)) == 0);
}
