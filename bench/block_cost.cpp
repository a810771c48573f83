// Block cost of a full mix: N stereo tracks, each with a full strip (4 EQ bands, compressor, one
// post-fader send to a reverb return), into 4 group buses and the master. The master chain is
// chosen with --master: `plain` (no loudness meter, no limiter), `meter` (the default engine: the
// loudness meter on), `limiter` (meter and the true-peak limiter); comparing them gives the cost of
// each in one run.
//
// Prints min/p50/p99/p99.9/max of process() per block and the share of the block's deadline, and
// writes the same as JSON with --json FILE. Measures wall time of single process() calls on this
// thread after a warm-up; run on an otherwise idle machine, in a Release build.
//
//   rtmix_bench_block [--tracks 64] [--frames 64] [--rate 48000] [--blocks 20000]
//                     [--master plain|meter|limiter] [--threads N] [--group N] [--insert TYPE]...
//                     [--json FILE]
// --threads: threads that run the mix (1: the calling thread alone; default 1, so that figures
// compare across machines; 0: one per core). --group: EngineOptions::track_group (default 8; 1
// runs every track alone, as before the EQ lanes). --insert adds an insert of that processor type
// (rtmix params lists them) after every track's compressor, at its defaults (repeatable): the
// difference from a run without it is its cost per strip. RTMIX_SIMD=avx2 or sse2 caps the lanes'
// instruction set.
#include <rtmix/engine.hpp>

#include "mix.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numbers>
#include <random>
#include <string>
#include <vector>

namespace {

using rtmix::bench::build_mix;
using rtmix::bench::check;

double percentile(const std::vector<double>& sorted, double p) {
    const auto i = static_cast<std::size_t>(std::clamp(p * static_cast<double>(sorted.size() - 1), 0.0,
                                                       static_cast<double>(sorted.size() - 1)));
    return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
    int tracks = 64, frames = 64, blocks = 20000;
    double rate = 48000.0;
    const char* json = nullptr;
    std::string master = "meter";
    std::vector<std::string> inserts;
    int threads = 1;
    int group = 8;
    int lanes = 0;  // automated parameters per track (fader, pan, EQ band 2 frequency, send level)
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--tracks") tracks = std::atoi(argv[i + 1]);
        else if (a == "--frames") frames = std::atoi(argv[i + 1]);
        else if (a == "--blocks") blocks = std::atoi(argv[i + 1]);
        else if (a == "--rate") rate = std::atof(argv[i + 1]);
        else if (a == "--json") json = argv[i + 1];
        else if (a == "--master") master = argv[i + 1];
        else if (a == "--threads") threads = std::atoi(argv[i + 1]);
        else if (a == "--group") group = std::atoi(argv[i + 1]);
        else if (a == "--insert") inserts.emplace_back(argv[i + 1]);
        else if (a == "--lanes") lanes = std::clamp(std::atoi(argv[i + 1]), 0, 4);
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    const auto block = static_cast<std::uint32_t>(frames);
    if (master != "plain" && master != "meter" && master != "limiter") {
        std::fprintf(stderr, "--master %s: expected plain, meter or limiter\n", master.c_str());
        return 2;
    }
    // Room for every parameter of a large mix before the first block.
    rtmix::EngineOptions options{.sample_rate = rate,
                                 .max_block_frames = block,
                                 .param_queue_capacity = 1u << 16,
                                 .loudness_meter = master != "plain"};
    options.threads = static_cast<std::uint32_t>(std::max(0, threads));
    options.track_group = static_cast<std::uint32_t>(std::max(1, group));
    rtmix::Engine e(options);
    build_mix(e, tracks);
    for (int t = 0; t < tracks; ++t)
        for (const std::string& type : inserts) check(e.add_insert("track." + rtmix::bench::numbered("t", t), type));
    // Automation: lanes that move all the time (a new value at every 32nd frame), the costly case.
    const char* automated[4] = {"gain_db", "pan", "eq.2.freq_hz", "send.verb.level_db"};
    for (int t = 0; t < tracks; ++t)
        for (int l = 0; l < lanes; ++l) {
            rtmix::Lane lane;
            const double lo = l == 0 ? -12.0 : l == 1 ? -0.5 : l == 2 ? 300.0 : -30.0;
            const double hi = l == 0 ? 0.0 : l == 1 ? 0.5 : l == 2 ? 3000.0 : -10.0;
            for (int k = 0; k < 200; ++k)
                lane.points.push_back({static_cast<std::int64_t>(k) * 24000 + t * 7, k % 2 ? hi : lo,
                                       l == 2 ? rtmix::Shape::exponential : rtmix::Shape::linear});
            check(e.automate("track." + rtmix::bench::numbered("t", t) + "." + automated[l], lane));
        }
    if (master == "limiter") {
        check(e.set("master.limiter.enabled", 1.0));
        check(e.set("master.limiter.gain_db", 6.0));  // so that it limits
    }

    std::vector<std::vector<float>> in = rtmix::bench::noise_inputs(e.input_channels(), block);
    std::vector<const float*> in_ptrs;
    for (auto& ch : in) in_ptrs.push_back(ch.data());
    std::vector<float> out_l(block), out_r(block);
    float* out[2] = {out_l.data(), out_r.data()};

    for (int b = 0; b < 2000; ++b) e.process(in_ptrs.data(), static_cast<std::uint32_t>(in_ptrs.size()), out, block);
    std::vector<double> us(static_cast<std::size_t>(blocks));
    for (int b = 0; b < blocks; ++b) {
        const auto t0 = std::chrono::steady_clock::now();
        e.process(in_ptrs.data(), static_cast<std::uint32_t>(in_ptrs.size()), out, block);
        const auto t1 = std::chrono::steady_clock::now();
        us[static_cast<std::size_t>(b)] = std::chrono::duration<double, std::micro>(t1 - t0).count();
    }
    std::sort(us.begin(), us.end());
    const double deadline_us = 1e6 * frames / rate;
    const double stats[5] = {us.front(), percentile(us, 0.5), percentile(us, 0.99), percentile(us, 0.999), us.back()};
    const char* names[5] = {"min", "p50", "p99", "p99.9", "max"};
    std::string extra;
    for (const std::string& type : inserts) extra += ", " + type;
    if (lanes > 0) extra += ", " + std::to_string(lanes) + " automated";
    std::printf("%d stereo tracks (4 EQ bands, compressor%s, 1 send) -> 4 buses + reverb return -> master (%s)\n", tracks,
                extra.c_str(), master == "plain" ? "no meter, no limiter" : master == "meter" ? "loudness meter" : "loudness meter + limiter");
    std::printf("%d-frame blocks at %.0f Hz (deadline %.1f us), %d blocks measured, %u thread%s, tracks in groups "
                "of %d (EQ lanes: %s)\n", frames, rate, deadline_us, blocks, e.threads(), e.threads() == 1 ? "" : "s",
                group, rtmix::simd_instruction_set());
    std::printf("%-6s %10s %10s\n", "", "us/block", "% deadline");
    for (int i = 0; i < 5; ++i) std::printf("%-6s %10.2f %10.2f\n", names[i], stats[i], 100.0 * stats[i] / deadline_us);
    if (tracks > 0) std::printf("per track (p50): %.3f us per block\n", stats[1] / tracks);
    if (json != nullptr) {
        FILE* f = std::fopen(json, "w");
        if (f == nullptr) {
            std::fprintf(stderr, "cannot write %s\n", json);
            return 1;
        }
        std::fprintf(f, "{\"tracks\": %d, \"frames\": %d, \"sample_rate\": %.0f, \"blocks\": %d, \"master\": \"%s\", "
                     "\"threads\": %u, \"group\": %d, \"simd\": \"%s\", \"deadline_us\": %.3f", tracks, frames, rate, blocks,
                     master.c_str(), e.threads(), group, rtmix::simd_instruction_set(), deadline_us);
        for (int i = 0; i < 5; ++i) std::fprintf(f, ", \"%s_us\": %.3f", names[i], stats[i]);
        std::fprintf(f, "}\n");
        std::fclose(f);
    }
    return 0;
}
