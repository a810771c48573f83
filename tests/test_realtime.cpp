// The real-time rules, proven: nothing the audio thread runs allocates or takes a lock, even while
// a control thread floods parameter changes and rebuilds the routing.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "harness.hpp"
#include "realtime_guard.hpp"
#include "signals.hpp"

using namespace rtmix;
namespace rt = rtmix::test::rt;

namespace {
int* volatile sink = nullptr;  // keeps the compiler from eliding the test allocations
}

TEST_CASE("the guard itself catches an allocation and a lock on the audio thread", "[realtime]") {
    rt::reset_violations();
    std::mutex m;
    {
        rt::AudioThreadScope audio;
        sink = new int(7);
        delete sink;
        std::lock_guard lock(m);
    }
    const rt::Violations v = rt::violations();
    CHECK(v.allocations >= 2);
    CHECK(v.locks >= 1);
    rt::reset_violations();
    sink = new int(1);  // off the audio thread: allowed
    delete sink;
    CHECK(rt::violations().allocations == 0);
}

TEST_CASE("process() neither allocates nor locks under parameter floods and topology changes", "[realtime]") {
    // The master chain runs too: the limiter (changed while it runs) and the loudness meter
    // (reset by swapping in a fresh libebur128 state).
    // Three threads run the graph, and the plan is large enough to run in parallel: the worker
    // threads are marked as audio threads for their whole life.
    EngineOptions options{.max_block_frames = 128, .param_queue_capacity = 512};
    options.threads = 3;
    options.parallel_min_nodes = 4;
    options.on_worker_start = [] { thread_local rt::AudioThreadScope worker; };
    Engine e(options);
    REQUIRE(e.threads() == 3);
    RTMIX_REQUIRE_OK(e.add_track("kick", 1));
    RTMIX_REQUIRE_OK(e.add_track("keys", 2));
    RTMIX_REQUIRE_OK(e.add_bus("drums"));
    RTMIX_REQUIRE_OK(e.add_bus("verb"));
    RTMIX_REQUIRE_OK(e.add_effect("bus.verb", Effect::reverb));
    RTMIX_REQUIRE_OK(e.set_output("track.kick", "bus.drums"));
    RTMIX_REQUIRE_OK(e.add_send("track.keys", "bus.verb", -10.0));
    for (const char* p : {"track.kick", "track.keys", "bus.drums", "master"}) {
        const std::string s(p);
        RTMIX_REQUIRE_OK(e.set(s + ".eq.1.type", "highpass"));
        RTMIX_REQUIRE_OK(e.set(s + ".eq.2.type", "peak"));
        RTMIX_REQUIRE_OK(e.set(s + ".compressor.enabled", 1.0));
    }
    RTMIX_REQUIRE_OK(e.set("master.limiter.enabled", 1.0));
    RTMIX_REQUIRE_OK(e.set("master.gain_db", 12.0));
    // Every insert type on the mono track (before its EQ, a stereo one making it stereo), and the
    // dynamics after the stereo track's compressor, keyed by the mono track; their parameters are
    // flooded below, and inserts come and go with the routing.
    std::vector<std::string> insert_types;
    for (const ProcessorInfo* type : processor_types())
        if (type->insert) insert_types.emplace_back(type->type);
    REQUIRE(insert_types.size() >= 3);
    for (const std::string& type : insert_types) RTMIX_REQUIRE_OK(e.add_insert("track.kick", type, InsertPosition::pre));
    for (const ProcessorInfo* type : processor_types())
        if (type->insert && type->sidechain) {
            std::string path;
            RTMIX_REQUIRE_OK(e.add_insert("track.keys", type->type, InsertPosition::post, &path));
            RTMIX_REQUIRE_OK(e.set_sidechain(path, "track.kick"));
        }
    // A lookahead change rebuilds the limiter's analysis (up to a millisecond of work, documented:
    // "make it while stopped"), and every latency change recompiles the plan: those are flooded
    // every 50th round, the rest every round.
    std::vector<ParameterInfo> insert_params, latency_params;
    for (ParameterInfo& p : e.parameters())
        if (p.path.find(".insert.") != std::string::npos)
            (p.path.ends_with("lookahead_ms") ? latency_params : insert_params).push_back(std::move(p));
    REQUIRE(!latency_params.empty());
    /// The round's value of an insert parameter: somewhere in its range.
    auto value_of = [](const ParameterInfo& p, int round) {
        if (p.kind == ValueKind::word) return static_cast<double>(round % static_cast<int>(p.words.size()));
        if (p.kind == ValueKind::boolean) return static_cast<double>(round % 2);
        if (!p.choices.empty()) return p.choices[static_cast<std::size_t>(round) % p.choices.size()];
        return p.min + (p.max - p.min) * ((round * 37) % 100) / 99.0;
    };

    // Automation: lanes on the faders, a pan, a send and every continuous insert parameter (the
    // kick's fader is also flooded by set() below: its lane holds for it), read at every 32nd
    // frame; the audio thread locates and stops the timeline now and then, and every 50th round
    // replaces a lane (a new plan, whose lanes carry the old ones' state over).
    std::vector<std::pair<std::string, Lane>> lanes;
    for (const ParameterInfo& p : e.parameters()) {
        const bool strip_level = p.path == "track.kick.gain_db" || p.path == "track.keys.pan" ||
                                 p.path == "track.keys.send.verb.level_db" || p.path == "master.gain_db";
        const bool insert_number = p.path.find(".insert.") != std::string::npos && p.kind == ValueKind::number &&
                                   p.choices.empty() && !p.path.ends_with("lookahead_ms");
        if (!strip_level && !insert_number) continue;
        Lane lane;
        const Shape shapes[3] = {Shape::linear, Shape::hold, Shape::smooth};
        for (int k = 0; k < 64; ++k) lane.points.push_back({k * 30000LL, k % 2 ? p.max : p.min, shapes[k % 3]});
        RTMIX_REQUIRE_OK(e.automate(p.path, lane));
        lanes.emplace_back(p.path, std::move(lane));
    }
    REQUIRE(lanes.size() > 10);
    // Recording (Engine::record()): the flooded fader in touch with a timeout, an EQ frequency
    // without a lane in latch, the reverb size in write, a send that comes and goes; the modes
    // change and disarm as the rounds go, and the audio thread writes through stops and locates.
    const std::vector<std::string> recorded = {"track.kick.gain_db", "track.keys.eq.2.freq_hz", "bus.verb.reverb.size",
                                               "track.keys.send.verb.level_db", "track.keys.eq.2.type"};
    const AutomationMode modes[] = {AutomationMode::touch, AutomationMode::latch, AutomationMode::write,
                                    AutomationMode::read};
    for (std::size_t i = 0; i < recorded.size(); ++i)
        RTMIX_REQUIRE_OK(e.record(recorded[i], modes[i % 3], {.touch_timeout_s = 0.05}));

    const std::vector<float> kick = test::sine(60.0, 48000.0, 256, 0.9);
    const std::vector<float> keys = test::sine(440.0, 48000.0, 256, 0.5);
    std::vector<float> nan_block(256, 0.0f);
    nan_block[10] = std::numeric_limits<float>::quiet_NaN();
    std::atomic<bool> stop{false};
    rt::reset_violations();
    std::thread audio([&] {
        std::vector<float> l(256), r(256);
        float* out[2] = {l.data(), r.data()};
        // Twice the prepared block: process() splits the call into chunks.
        for (int b = 0; !stop; ++b) {
            const float* in[3] = {b % 500 == 0 ? nan_block.data() : kick.data(), keys.data(), keys.data()};
            rt::AudioThreadScope scope;
            if (b % 300 == 0) e.set_timeline((b * 7919LL) % 1900000, b % 900 != 0);
            e.process(in, 3, out, 256);
        }
    });
    int round = 0, edits = 0, written = 0;
    std::uint64_t last_edit_block = 0;
    // Until the audio thread has run 20 000 chunks and the control thread 150 rounds of routing
    // edits, whichever takes longer on this machine.
    for (;;) {
        const std::uint64_t block = e.stats().blocks_processed;
        if (block >= 20000 && edits >= 150) break;
        ++round;
        (void)e.set("track.kick.gain_db", -double(round % 30), static_cast<std::uint32_t>(round % 300));
        (void)e.set("track.keys.eq.2.freq_hz", 200.0 + round % 3000);
        (void)e.set("bus.verb.reverb.size", (round % 10) / 10.0);
        (void)e.set("track.kick.solo", round % 3 == 0 ? 1.0 : 0.0);
        (void)e.set("master.limiter.ceiling_dbtp", -double(round % 6));
        (void)e.set("master.limiter.release_ms", 50.0 + round % 200);
        for (int k = 0; k < 4; ++k) {
            const ParameterInfo& p = insert_params[static_cast<std::size_t>(round * 4 + k) % insert_params.size()];
            (void)e.set(p.path, value_of(p, round + k));  // (offsets are flooded above: each one splits a block)
        }
        if (round % 50 == 0) {
            const ParameterInfo& p = latency_params[static_cast<std::size_t>(round / 50) % latency_params.size()];
            (void)e.set(p.path, value_of(p, round));
        }
        if (round % 50 == 25) {
            const auto& [path, lane] = lanes[static_cast<std::size_t>(round / 50) % lanes.size()];
            (void)e.automate(path, lane);
        }
        if (round % 7 == 0) (void)e.release("track.kick.gain_db", static_cast<std::uint32_t>(round % 100));
        if (round % 3 == 0) (void)e.set("track.keys.send.verb.level_db", -double(round % 40));
        if (round % 5 == 0) (void)e.set("track.keys.eq.2.type", round % 2 ? "peak" : "notch");
        if (round % 30 == 0) {
            const std::string& path = recorded[static_cast<std::size_t>(round / 30) % recorded.size()];
            (void)e.record(path, modes[static_cast<std::size_t>(round / 30) % 4], {.touch_timeout_s = 0.02});
            (void)e.automation();  // takes the written stretches: new lanes, new plans
        }
        if (round % 40 == 0) {
            (void)e.reset_meters();
            MasterLoudness loudness{};
            CHECK(e.master_loudness(loudness));
        }
        // Routing edits paced by the audio (one round per 4 blocks): removals fade out for 20 ms.
        if (round % 20 == 0 && block >= last_edit_block + 4) {
            last_edit_block = block;
            ++edits;
            const std::string name = std::string("tmp").append(std::to_string(round));
            (void)e.add_track(name, 1);
            (void)e.record("track." + name + ".gain_db", AutomationMode::write);  // removed while recorded
            (void)e.add_send("track." + name, "bus.verb", -3.0, true);
            (void)e.add_effect("bus.drums", Effect::delay);
            (void)e.set_output("track.keys", edits % 2 == 0 ? "bus.drums" : "master");
            (void)e.remove("track." + name);
            (void)e.remove_effect("bus.drums", Effect::delay);
            std::string added;
            if (e.add_insert("bus.drums", insert_types[static_cast<std::size_t>(edits) % insert_types.size()],
                             InsertPosition::pre, &added).ok())
                (void)e.remove_insert(added);
            (void)e.remove_send("track.keys", "bus.verb");  // fades out; the re-add takes another slot
            (void)e.add_send("track.keys", "bus.verb", -10.0);
            (void)e.record("track.keys.send.verb.level_db", AutomationMode::latch);
            for (const Event& ev : e.poll_events()) written += ev.code == Event::Code::automation_written ? 1 : 0;
        }
        // Paced, so that a block meets tens of changes rather than hundreds: every change with its
        // own sample offset splits the block it lands in, and a flood of them would make the
        // audio thread run the whole graph frame by frame.
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    stop = true;
    audio.join();
    const rt::Violations v = rt::violations();
    INFO("control rounds: " << round << ", routing edit rounds: " << edits);
    CHECK(round > 100);
    CHECK(written > 0);  // the recorder wrote lanes while it ran
    CHECK(v.allocations == 0);
    CHECK(v.locks == 0);
}
