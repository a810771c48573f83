// The benchmark mix: N stereo tracks, each with a full strip (4 EQ bands, compressor, pan, one
// post-fader send to a reverb return), into 4 group buses and the master. Shared by the
// benchmark programs so that their figures describe the same mix.
#pragma once

#include <rtmix/engine.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace rtmix::bench {

inline void check(const Status& s) {
    if (!s) {
        std::fprintf(stderr, "rtmix bench: %s\n", s.message().c_str());
        std::exit(1);
    }
}

inline std::string numbered(const char* prefix, int n) { return std::string(prefix).append(std::to_string(n)); }

/// Adds the mix to a fresh engine.
inline void build_mix(Engine& e, int tracks) {
    check(e.batch([&] {
        for (int g = 0; g < 4; ++g) check(e.add_bus(numbered("group", g)));
        check(e.add_bus("verb"));
        check(e.add_effect("bus.verb", Effect::reverb));
        for (int t = 0; t < tracks; ++t) {
            const std::string name = numbered("t", t), path = "track." + name;
            check(e.add_track(name, 2));
            check(e.set_output(path, numbered("bus.group", t % 4)));
            check(e.add_send(path, "bus.verb", -18.0));
            const char* types[4] = {"highpass", "lowshelf", "peak", "highshelf"};
            const double freqs[4] = {40.0, 120.0, 1200.0 + 10.0 * t, 9000.0};
            for (int b = 0; b < 4; ++b) {
                const std::string band = path + numbered(".eq.", b + 1);
                check(e.set(band + ".type", types[b]));
                check(e.set(band + ".freq_hz", freqs[b]));
                if (b > 0) check(e.set(band + ".gain_db", b == 2 ? -3.0 : 2.0));
            }
            check(e.set(path + ".compressor.enabled", 1.0));
            check(e.set(path + ".compressor.threshold_db", -24.0));
            check(e.set(path + ".compressor.ratio", 3.0));
            check(e.set(path + ".pan", std::sin(t * 0.7)));
        }
        return Status{};
    }));
}

/// Input channels of noise at about -12 dBFS (every compressor works), `frames` long.
inline std::vector<std::vector<float>> noise_inputs(std::uint32_t channels, std::uint32_t frames) {
    std::mt19937 rng(1);
    std::normal_distribution<float> noise(0.0f, 0.25f);
    std::vector<std::vector<float>> in(channels, std::vector<float>(frames));
    for (auto& ch : in)
        for (float& v : ch) v = noise(rng);
    return in;
}

}  // namespace rtmix::bench
