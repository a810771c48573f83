// rtmix_bench: the engine's latency benchmarks, as tables for people and JSON for tools.
//
//   rtmix_bench [blocks] [max-tracks] [offline] [control] [swap]   (default: all five)
//               [--quick] [--json FILE] [--plot FILE.svg]
//
// blocks      per-block process time (min, p50, p99, p99.9, max, and as % of the block's deadline)
//             for N in {8, 32, 128, 512} tracks and blocks of {32, 64, 128, 256, 1024} frames;
// max-tracks  the largest N whose p99.9 at 64 frames stays under 50 % of the deadline, on one
//             thread and on all cores;
// offline     throughput in x real time at 1024-frame blocks for N tracks, one thread and all
//             cores, and the largest N that still runs faster than real time on one thread;
// control     from Engine::set() on the control thread to the first output sample it changes,
//             with the audio thread paced like a sound card (one 64-frame block per period);
// swap        the time a routing change takes on the control side (compile and publish a plan)
//             for 512 tracks, and the worst block time while 100 reroutes land.
// --plot draws the block cost (% of the deadline) against the number of tracks as an SVG.
// The mix is bench/mix.hpp's (full strips into 4 groups and a reverb). 48 kHz throughout. Wall
// time of process() on this thread: run it on an otherwise idle machine, in a Release build.
#include <rtmix/engine.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "mix.hpp"

namespace {

using namespace rtmix;
using bench::build_mix;
using bench::check;
using Clock = std::chrono::steady_clock;

constexpr double rate = 48000.0;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Percentiles {
    double min, p50, p99, p999, max;
};

Percentiles percentiles(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&](double p) { return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))]; };
    return {v.front(), at(0.5), at(0.99), at(0.999), v.back()};
}

std::uint32_t cores() { return std::max(1u, std::thread::hardware_concurrency()); }

/// An engine with the benchmark mix and its inputs, processing `frames`-frame blocks.
struct Rig {
    Engine engine;
    std::vector<std::vector<float>> in;
    std::vector<const float*> in_ptrs;
    std::vector<float> l, r;
    float* out[2];

    Rig(int tracks, std::uint32_t frames, std::uint32_t threads)
        : engine(options(frames, threads)), l(frames), r(frames), out{l.data(), r.data()} {
        build_mix(engine, tracks);
        in = bench::noise_inputs(engine.input_channels(), frames);
        for (auto& ch : in) in_ptrs.push_back(ch.data());
        for (int b = 0; b < 8; ++b) process(frames);  // the audio thread takes the mix's settings
    }
    static EngineOptions options(std::uint32_t frames, std::uint32_t threads) {
        // Room for the whole mix's settings at once: up to 2048 tracks are built in one batch.
        EngineOptions o{.sample_rate = rate, .max_block_frames = frames, .param_queue_capacity = 1u << 16};
        o.threads = threads;
        return o;
    }
    void process(std::uint32_t frames) {
        engine.process(in_ptrs.data(), static_cast<std::uint32_t>(in_ptrs.size()), out, frames);
    }
    /// Times `blocks` blocks after a warm-up; microseconds per block.
    std::vector<double> time_blocks(std::uint32_t frames, int blocks) {
        for (int b = 0; b < std::min(blocks / 4, 500); ++b) process(frames);
        std::vector<double> us(static_cast<std::size_t>(blocks));
        for (auto& u : us) {
            const auto t0 = Clock::now();
            process(frames);
            u = micros(Clock::now() - t0);
        }
        return us;
    }
};

/// Enough blocks for a stable p99.9 within a time budget: at least 1000.
int blocks_for(int tracks, std::uint32_t frames, double budget_s) {
    const double estimate_us = 2.5 * tracks * frames / 64.0 + 20.0;  // about 2.2 us per track per 64 frames
    return static_cast<int>(std::clamp(budget_s * 1e6 / estimate_us, 1000.0, 20000.0));
}

std::string json;  // the report, object by object

/// One measured cell of the block-cost matrix, for the plot.
struct Cell {
    int tracks;
    std::uint32_t frames;
    double p50_pct, p999_pct;
};
std::vector<Cell> cells;
void add_json(const std::string& key, const std::string& value) {
    json += (json.empty() ? "{\n  " : ",\n  ") + fmt::format("\"{}\": {}", key, value);
}

void blocks_section(bool quick) {
    const int track_counts[] = {8, 32, 128, 512};
    const std::uint32_t sizes[] = {32, 64, 128, 256, 1024};
    std::puts("== block cost: one thread, 48 kHz; us per block (% of the block's deadline)");
    std::printf("%6s %6s %16s %16s %16s %16s %16s\n", "tracks", "frames", "min", "p50", "p99", "p99.9", "max");
    std::string rows;
    for (const int n : track_counts)
        for (const std::uint32_t f : sizes) {
            if (quick && (n > 128 || f > 256)) continue;
            Rig rig(n, f, 1);
            const Percentiles p = percentiles(rig.time_blocks(f, blocks_for(n, f, quick ? 0.3 : 1.5)));
            const double deadline = 1e6 * f / rate;
            auto cell = [&](double us) { return fmt::format("{:.1f} ({:.1f}%)", us, 100.0 * us / deadline); };
            std::printf("%6d %6u %16s %16s %16s %16s %16s\n", n, f, cell(p.min).c_str(), cell(p.p50).c_str(),
                        cell(p.p99).c_str(), cell(p.p999).c_str(), cell(p.max).c_str());
            std::fflush(stdout);
            cells.push_back({n, f, 100.0 * p.p50 / deadline, 100.0 * p.p999 / deadline});
            rows += fmt::format("{}{{\"tracks\": {}, \"frames\": {}, \"deadline_us\": {:.3f}, \"min_us\": {:.3f}, "
                                "\"p50_us\": {:.3f}, \"p99_us\": {:.3f}, \"p999_us\": {:.3f}, \"max_us\": {:.3f}}}",
                                rows.empty() ? "" : ", ", n, f, deadline, p.min, p.p50, p.p99, p.p999, p.max);
        }
    add_json("block_cost", "[" + rows + "]");
}

/// The largest N (to a step of 8) whose p99.9 at 64 frames stays under 50 % of the deadline.
int max_tracks(std::uint32_t threads, double& p999_us) {
    const std::uint32_t f = 64;
    const double limit = 0.5 * 1e6 * f / rate;
    int lo = 0, hi = 2048;  // lo passes, hi fails
    p999_us = 0.0;
    while (hi - lo > 8) {
        const int mid = (lo + hi) / 2 / 8 * 8;
        Rig rig(mid, f, threads);
        const double p = percentiles(rig.time_blocks(f, 4000)).p999;
        if (p < limit) {
            lo = mid;
            p999_us = p;
        } else {
            hi = mid;
        }
    }
    return lo;
}

void max_tracks_section() {
    std::puts("== max tracks in real time: 64-frame blocks, p99.9 under 50 % of the 1333 us deadline");
    double p1 = 0, pn = 0;
    const int one = max_tracks(1, p1);
    std::printf("1 thread:   %d tracks (p99.9 %.1f us)\n", one, p1);
    std::fflush(stdout);
    const int all = cores() > 1 ? max_tracks(cores(), pn) : one;
    if (cores() > 1) std::printf("%u threads: %d tracks (p99.9 %.1f us)\n", cores(), all, pn);
    add_json("max_tracks_64", fmt::format("{{\"threads_1\": {}, \"threads_all\": {}, \"cores\": {}}}", one, all, cores()));
}

void offline_section(bool quick) {
    std::puts("== offline throughput: 1024-frame blocks as fast as possible, x real time");
    std::printf("%6s %10s %12s\n", "tracks", "1 thread", fmt::format("{} threads", cores()).c_str());
    std::string rows;
    const std::uint32_t f = 1024;
    auto speed = [&](int n, std::uint32_t threads) {
        Rig rig(n, f, threads);
        const int blocks = std::max(20, static_cast<int>((quick ? 0.3 : 1.0) * 1e6 / (2.5 * n * 16 + 50)));
        for (int b = 0; b < 5; ++b) rig.process(f);
        const auto t0 = Clock::now();
        for (int b = 0; b < blocks; ++b) rig.process(f);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        return blocks * f / rate / s;
    };
    for (const int n : {32, 128, 512, 1024}) {
        if (quick && n > 128) continue;
        const double one = speed(n, 1), all = speed(n, cores());
        std::printf("%6d %9.1fx %11.1fx\n", n, one, all);
        std::fflush(stdout);
        rows += fmt::format("{}{{\"tracks\": {}, \"x_realtime_1\": {:.2f}, \"x_realtime_all\": {:.2f}}}", rows.empty() ? "" : ", ",
                            n, one, all);
    }
    add_json("offline", "[" + rows + "]");
}

void control_section() {
    // A track at -120 dB; set() raises it; the audio thread, paced at 64 frames per 1.333 ms,
    // notes when the first changed sample leaves process(). Latency = that time - set() time.
    std::puts("== control latency: set() to the first changed output sample (64-frame blocks, paced)");
    const std::uint32_t f = 64;
    Engine e(EngineOptions{.sample_rate = rate, .max_block_frames = f});
    check(e.add_track("probe", 1));
    check(e.set("track.probe.gain_db", -120.0));
    std::vector<float> dc(f, 0.5f), l(f), r(f);
    float* out[2] = {l.data(), r.data()};
    const float* in[1] = {dc.data()};
    for (int b = 0; b < 100; ++b) e.process(in, 1, out, f);
    std::vector<double> latencies;
    for (int trial = 0; trial < 200; ++trial) {
        const float before = l[f - 1];
        std::atomic<bool> go{false};
        Clock::time_point set_at{};
        std::thread control([&] {
            while (!go.load()) std::this_thread::yield();
            std::this_thread::sleep_for(std::chrono::microseconds(137 * (trial % 9)));  // anywhere in a period
            set_at = Clock::now();
            check(e.set("track.probe.gain_db", trial % 2 == 0 ? -60.0 : -120.0));
        });
        auto next = Clock::now();
        const auto period = std::chrono::nanoseconds(static_cast<long>(1e9 * f / rate));
        go = true;
        for (int b = 0; b < 2000; ++b) {
            next += period;
            std::this_thread::sleep_until(next);
            e.process(in, 1, out, f);
            const auto done = Clock::now();
            bool changed = false;
            for (std::uint32_t i = 0; i < f && !changed; ++i) changed = l[i] != before;
            if (changed && set_at != Clock::time_point{}) {
                latencies.push_back(micros(done - set_at));
                break;
            }
        }
        control.join();
        for (int b = 0; b < 40; ++b) e.process(in, 1, out, f);  // let the ramp finish
    }
    const Percentiles p = percentiles(latencies);
    std::printf("over %zu changes: min %.0f us, p50 %.0f us, p99 %.0f us, max %.0f us (one period is 1333 us)\n",
                latencies.size(), p.min, p.p50, p.p99, p.max);
    add_json("control_latency_us", fmt::format("{{\"min\": {:.1f}, \"p50\": {:.1f}, \"p99\": {:.1f}, \"max\": {:.1f}, \"period\": {:.1f}}}",
                                               p.min, p.p50, p.p99, p.max, 1e6 * f / rate));
}

void swap_section() {
    std::puts("== plan swap: 512 tracks, 64-frame blocks");
    const std::uint32_t f = 64;
    Rig rig(512, f, 1);
    std::vector<double> compile_us;
    for (int i = 0; i < 20; ++i) {
        const auto t0 = Clock::now();
        check(rig.engine.set_output(bench::numbered("track.t", i), bench::numbered("bus.group", (i + 1 + i / 4) % 4)));
        compile_us.push_back(micros(Clock::now() - t0));
        for (int b = 0; b < 4; ++b) rig.process(f);
    }
    const Percentiles c = percentiles(compile_us);
    std::printf("a routing change on the control side (compile + publish): p50 %.0f us, max %.0f us\n", c.p50, c.max);

    // The audio thread runs flat out while the control thread makes 100 reroutes.
    const Percentiles quiet = percentiles(rig.time_blocks(f, 2000));
    std::atomic<bool> done{false};
    std::vector<double> during;
    during.reserve(200000);
    std::thread audio([&] {
        while (!done.load()) {
            const auto t0 = Clock::now();
            rig.process(f);
            during.push_back(micros(Clock::now() - t0));
        }
    });
    for (int i = 0; i < 100; ++i) {
        check(rig.engine.set_output(bench::numbered("track.t", 100 + i), bench::numbered("bus.group", i % 4)));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done = true;
    audio.join();
    const Percentiles d = percentiles(during);
    std::printf("block time without reroutes: p50 %.1f us, p99.9 %.1f us, max %.1f us\n", quiet.p50, quiet.p999, quiet.max);
    std::printf("block time during 100 reroutes (%zu blocks): p50 %.1f us, p99.9 %.1f us, max %.1f us\n", during.size(),
                d.p50, d.p999, d.max);
    add_json("plan_swap", fmt::format("{{\"tracks\": 512, \"compile_publish_p50_us\": {:.1f}, \"compile_publish_max_us\": {:.1f}, "
                                      "\"quiet_max_us\": {:.1f}, \"rerouting_p999_us\": {:.1f}, \"rerouting_max_us\": {:.1f}}}",
                                      c.p50, c.max, quiet.max, d.p999, d.max));
}

/// An SVG plot of the block cost: % of the deadline (p50 solid, p99.9 dashed) against the number
/// of tracks (log scale), one line per block size.
std::string plot_svg() {
    const double w = 720, h = 420, left = 70, right = 150, top = 40, bottom = 50;
    const double pw = w - left - right, ph = h - top - bottom;
    double top_pct = 60.0;  // the 50 % line always shows
    for (const Cell& c : cells) top_pct = std::max(top_pct, c.p999_pct);
    top_pct = std::ceil(top_pct / 10.0) * 10.0;
    auto x = [&](int tracks) { return left + pw * (std::log2(tracks) - 3.0) / 6.0; };  // 8 ... 512
    auto y = [&](double pct) { return top + ph * (1.0 - pct / top_pct); };
    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">rtmix block cost, one thread, 48 kHz</text>\n",
        w, h, left);
    for (double pct = 0; pct <= top_pct + 1e-9; pct += top_pct / 5) {
        svg += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>", left, left + pw, y(pct), y(pct));
        svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.0f} %</text>\n", left - 6, y(pct) + 4, pct);
    }
    for (int n = 8; n <= 512; n *= 2) {
        svg += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#eee\"/>", x(n), top, top + ph);
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x(n), top + ph + 18, n);
    }
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">stereo tracks with full strips</text>\n",
                       left + pw / 2, h - 10);
    svg += fmt::format("<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\">time per block, % of its deadline</text>\n",
                       top + ph / 2);
    svg += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#c00\" stroke-dasharray=\"2 3\"/>\n",
                       left, left + pw, y(50.0));
    const char* colours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"};
    int k = 0;
    for (const std::uint32_t f : {32u, 64u, 128u, 256u, 1024u}) {
        std::string solid, dashed;
        for (const Cell& c : cells)
            if (c.frames == f) {
                solid += fmt::format("{:.1f},{:.1f} ", x(c.tracks), y(c.p50_pct));
                dashed += fmt::format("{:.1f},{:.1f} ", x(c.tracks), y(c.p999_pct));
            }
        if (solid.empty()) continue;
        const char* colour = colours[k % 5];
        svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", solid, colour);
        svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n",
                           dashed, colour);
        svg += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"/>"
                           "<text x=\"{4}\" y=\"{5}\">{6} frames</text>\n",
                           left + pw + 12, left + pw + 36, top + 10 + 20 * k, colour, left + pw + 42, top + 14 + 20 * k, f);
        ++k;
    }
    svg += fmt::format("<text x=\"{0}\" y=\"{1}\">solid: p50</text><text x=\"{0}\" y=\"{2}\">dashed: p99.9</text>"
                       "<text x=\"{0}\" y=\"{3}\" fill=\"#c00\">dotted: 50 %</text>\n",
                       left + pw + 12, top + 30 + 20 * k, top + 48 + 20 * k, top + 66 + 20 * k);
    return svg + "</svg>\n";
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> sections;
    bool quick = false;
    const char* json_file = nullptr;
    const char* plot_file = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") quick = true;
        else if (a == "--json" && i + 1 < argc) json_file = argv[++i];
        else if (a == "--plot" && i + 1 < argc) plot_file = argv[++i];
        else if (a == "blocks" || a == "max-tracks" || a == "offline" || a == "control" || a == "swap") sections.push_back(a);
        else {
            std::fprintf(stderr, "usage: rtmix_bench [blocks] [max-tracks] [offline] [control] [swap] [--quick] [--json FILE] [--plot FILE.svg]\n");
            return 2;
        }
    }
    if (sections.empty()) sections = {"blocks", "max-tracks", "offline", "control", "swap"};
    std::printf("rtmix_bench: 48 kHz, %u cores%s\n", cores(), quick ? ", quick" : "");
    add_json("cores", std::to_string(cores()));
    for (const std::string& s : sections) {
        if (s == "blocks") blocks_section(quick);
        if (s == "max-tracks") max_tracks_section();
        if (s == "offline") offline_section(quick);
        if (s == "control") control_section();
        if (s == "swap") swap_section();
        std::fflush(stdout);
    }
    json += "\n}\n";
    if (plot_file != nullptr && !cells.empty()) {
        const std::string svg = plot_svg();
        FILE* f = std::fopen(plot_file, "w");
        if (f == nullptr || std::fputs(svg.c_str(), f) < 0 || std::fclose(f) != 0) {
            std::fprintf(stderr, "rtmix_bench: cannot write %s\n", plot_file);
            return 1;
        }
    }
    if (json_file != nullptr) {
        FILE* f = std::fopen(json_file, "w");
        if (f == nullptr || std::fputs(json.c_str(), f) < 0 || std::fclose(f) != 0) {
            std::fprintf(stderr, "rtmix_bench: cannot write %s\n", json_file);
            return 1;
        }
    }
    return 0;
}
