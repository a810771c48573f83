// Exact from frame zero: what was set before the audio started stands at frame 0, and the mix is
// the same sample for sample at any block size and any number of threads, parameter changes at
// sample offsets included.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace rtmix;
using rtmix::test::Stereo;

namespace {

constexpr double rate = 48000.0;

/// A change at an absolute frame of the stream.
struct Change {
    std::int64_t frame;
    std::string path;
    double value = 0.0;
    std::string word = {};
};

/// Renders `inputs` in blocks of `block` frames, sending each change just before the block that
/// holds its frame, with its offset into that block.
Stereo render_with_changes(Engine& e, const std::vector<std::vector<float>>& inputs, std::size_t frames,
                           std::uint32_t block, const std::vector<Change>& changes) {
    Stereo out{std::vector<float>(frames), std::vector<float>(frames)};
    std::vector<const float*> in(inputs.size());
    std::size_t next = 0;
    for (std::size_t pos = 0; pos < frames; pos += block) {
        const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(block, frames - pos));
        for (; next < changes.size() && changes[next].frame < static_cast<std::int64_t>(pos + n); ++next) {
            const Change& c = changes[next];
            const auto offset = static_cast<std::uint32_t>(c.frame - static_cast<std::int64_t>(pos));
            test::require_ok(c.word.empty() ? e.set(c.path, c.value, offset) : e.set(c.path, c.word, offset));
        }
        for (std::size_t c = 0; c < inputs.size(); ++c) in[c] = inputs[c].data() + pos;
        float* o[2] = {out.left.data() + pos, out.right.data() + pos};
        e.process(in.data(), static_cast<std::uint32_t>(in.size()), o, n);
    }
    return out;
}

/// Seven input channels: a voice-like tone with vibrato, a stereo guitar-like pair, kick pulses,
/// stereo keys (chords with a noise edge), a bass; deterministic.
std::vector<std::vector<float>> test_inputs(std::size_t frames) {
    std::vector<std::vector<float>> in(7, std::vector<float>(frames));
    std::mt19937 random(11);
    std::uniform_real_distribution<float> noise(-1.0f, 1.0f);
    for (std::size_t i = 0; i < frames; ++i) {
        const double t = static_cast<double>(i) / rate;
        const double vib = 220.0 * (1.0 + 0.01 * std::sin(2 * M_PI * 5.0 * t));
        in[0][i] = static_cast<float>(0.4 * std::sin(2 * M_PI * vib * t) + 0.2 * std::sin(2 * M_PI * 2 * vib * t));
        in[1][i] = static_cast<float>(0.3 * std::sin(2 * M_PI * 330.0 * t)) + 0.05f * noise(random);
        in[2][i] = static_cast<float>(0.3 * std::sin(2 * M_PI * 331.5 * t)) + 0.05f * noise(random);
        const double beat = std::fmod(t, 0.125);  // a kick every 125 ms
        in[3][i] = static_cast<float>(0.9 * std::exp(-beat * 40.0) * std::sin(2 * M_PI * 55.0 * beat));
        in[4][i] = static_cast<float>(0.2 * (std::sin(2 * M_PI * 261.6 * t) + std::sin(2 * M_PI * 329.6 * t))) +
                   0.02f * noise(random);
        in[5][i] = static_cast<float>(0.2 * (std::sin(2 * M_PI * 392.0 * t) + std::sin(2 * M_PI * 523.3 * t))) +
                   0.02f * noise(random);
        in[6][i] = static_cast<float>(0.5 * std::sin(2 * M_PI * 55.0 * t) + 0.2 * std::sin(2 * M_PI * 110.0 * t));
    }
    return in;
}

/// A mix with every processor: every EQ type and slope, compressors (RMS, peak, lookahead, keyed
/// from the kick, on a bus and the master), every insert type (pre and post, the dynamics keyed;
/// pitch correction on the voice),
/// reverb and delay returns, pre- and post-fader sends, an alignment delay, the master limiter.
struct Inserts {
    std::vector<std::string> paths;  // "track.keys.insert.N", in order
    std::vector<std::string> types;
    std::string of(std::string_view type) const {
        for (std::size_t i = 0; i < types.size(); ++i)
            if (types[i] == type) return paths[i];
        FAIL("no insert of type " << type);
        return {};
    }
};

void build_mix(Engine& e, Inserts& inserts) {
    std::vector<std::string>& insert_paths = inserts.paths;
    test::require_ok(e.batch([&] {
        test::require_ok(e.add_track("vox", 1));
        test::require_ok(e.add_track("gtr", 2));
        test::require_ok(e.add_track("kick", 1));
        test::require_ok(e.add_track("keys", 2));
        test::require_ok(e.add_track("bass", 1));
        test::require_ok(e.add_bus("drums"));
        test::require_ok(e.add_bus("verb"));
        test::require_ok(e.add_effect("bus.verb", Effect::reverb));
        test::require_ok(e.add_bus("echo"));
        test::require_ok(e.add_effect("bus.echo", Effect::delay));
        test::require_ok(e.set_output("track.kick", "bus.drums"));
        test::require_ok(e.add_send("track.vox", "bus.verb", -10.0));
        test::require_ok(e.add_send("track.gtr", "bus.echo", -12.0, true));
        test::require_ok(e.add_send("track.keys", "bus.verb", -14.0));
        test::require_ok(e.add_send("bus.echo", "bus.verb", -9.0));
        for (const ProcessorInfo* kind : processor_types()) {
            if (!kind->insert) continue;
            if (kind->mono) continue;  // below, on the voice
            std::string path;
            test::require_ok(e.add_insert("track.keys", kind->type, InsertPosition::post, &path));
            insert_paths.push_back(path);
            inserts.types.emplace_back(kind->type);
        }
        std::string gate;
        test::require_ok(e.add_insert("track.vox", "gate", InsertPosition::pre, &gate));
        // A kind that follows one voice (pitch) goes on the voice, a mono track, after its gate.
        for (const ProcessorInfo* kind : processor_types()) {
            if (!kind->insert || !kind->mono) continue;
            std::string path;
            test::require_ok(e.add_insert("track.vox", kind->type, InsertPosition::post, &path));
            insert_paths.push_back(path);
            inserts.types.emplace_back(kind->type);
        }
        insert_paths.push_back(gate);
        inserts.types.emplace_back("vox gate");
        return Status{};
    }));
    test::require_ok(e.set_sidechain("track.bass.compressor", "track.kick"));
    test::require_ok(e.set_sidechain(insert_paths.back(), "track.kick"));

    test::require_ok(e.set("track.vox.eq.1.type", "highpass"));
    test::require_ok(e.set("track.vox.eq.1.freq_hz", 90.0));
    test::require_ok(e.set("track.vox.eq.2.type", "peak"));
    test::require_ok(e.set("track.vox.eq.2.freq_hz", 2500.0));
    test::require_ok(e.set("track.vox.eq.2.gain_db", 4.0));
    test::require_ok(e.set("track.vox.eq.3.type", "highshelf"));
    test::require_ok(e.set("track.vox.eq.3.gain_db", -3.0));
    test::require_ok(e.set("track.vox.compressor.enabled", 1.0));
    test::require_ok(e.set("track.vox.compressor.detector", "rms"));
    test::require_ok(e.set("track.vox.compressor.threshold_db", -24.0));
    test::require_ok(e.set("track.vox.insert.1.threshold_db", -30.0));
    test::require_ok(e.set("track.gtr.eq.1.type", "highpass"));
    test::require_ok(e.set("track.gtr.eq.1.slope", 24.0));
    test::require_ok(e.set("track.gtr.eq.1.freq_hz", 120.0));
    test::require_ok(e.set("track.gtr.eq.2.type", "lowshelf"));
    test::require_ok(e.set("track.gtr.eq.2.gain_db", 3.0));
    test::require_ok(e.set("track.gtr.eq.3.type", "notch"));
    test::require_ok(e.set("track.gtr.eq.3.freq_hz", 700.0));
    test::require_ok(e.set("track.gtr.eq.4.type", "lowpass"));
    test::require_ok(e.set("track.gtr.eq.4.freq_hz", 9000.0));
    test::require_ok(e.set("track.gtr.delay_ms", 2.5));
    test::require_ok(e.set("track.gtr.pan", -0.4));
    test::require_ok(e.set("track.bass.compressor.enabled", 1.0));
    test::require_ok(e.set("track.bass.compressor.threshold_db", -30.0));
    test::require_ok(e.set("track.bass.compressor.lookahead_ms", 3.0));
    test::require_ok(e.set("track.keys.gain_db", -4.0));
    for (const std::string& p : insert_paths) {
        ParameterInfo mix;
        if (e.parameter_info(p + ".mix", mix)) test::require_ok(e.set(p + ".mix", 0.6));
    }
    test::require_ok(e.set("bus.verb.reverb.predelay_ms", 120.0));
    test::require_ok(e.set("bus.verb.reverb.decay_s", 1.5));
    test::require_ok(e.set("bus.echo.delay.time_ms", 100.0));
    test::require_ok(e.set("bus.echo.delay.feedback", 0.4));
    test::require_ok(e.set("bus.drums.compressor.enabled", 1.0));
    test::require_ok(e.set("bus.drums.compressor.threshold_db", -18.0));
    test::require_ok(e.set("master.compressor.enabled", 1.0));
    test::require_ok(e.set("master.limiter.enabled", 1.0));
    test::require_ok(e.set("master.limiter.gain_db", 4.0));
}

/// Changes while it plays, at frames no block size lines up with.
std::vector<Change> test_changes(const Inserts& inserts) {
    const std::string keys_reverb = inserts.of("reverb"), keys_delay = inserts.of("delay");
    const std::string keys_gate = inserts.of("gate"), vox_pitch = inserts.of("pitch");
    return {
        {1999, vox_pitch + ".key", 0.0, "A"},
        {4001, vox_pitch + ".transpose", 2.0},
        {6101, vox_pitch + ".speed_ms", 0.0},
        {8009, vox_pitch + ".scale", 0.0, "major"},
        {1237, "track.vox.gain_db", -6.0},
        {2049, "track.vox.eq.2.freq_hz", 1200.0},  // a glide
        {3001, "track.gtr.eq.3.type", 0.0, "peak"},  // a type fade
        {3001, "track.gtr.eq.3.gain_db", 5.0},
        {4555, "track.gtr.pan", 0.6},
        {5003, "bus.verb.reverb.predelay_ms", 40.0},
        {5711, "bus.verb.reverb.size", 0.3},
        {6007, "bus.echo.delay.time_ms", 180.0},
        {7013, keys_gate + ".enabled", 0.0},
        {7919, "track.gtr.delay_ms", 0.5},
        {8111, "track.vox.send.verb.level_db", -4.0},
        {9029, keys_reverb + ".predelay_ms", 80.0},
        {9029, keys_delay + ".time_ms", 60.0},
        {10007, "track.bass.compressor.lookahead_ms", 1.0},
        {11003, keys_gate + ".enabled", 1.0},
        {12011, "track.keys.mute", 1.0},
        {13009, "master.limiter.gain_db", 8.0},
        {14983, "track.keys.mute", 0.0},
    };
}

constexpr std::size_t mix_frames = 24000;

std::vector<float> render_mix(std::uint32_t block, std::uint32_t threads, const std::vector<std::vector<float>>& in) {
    EngineOptions o{.sample_rate = rate, .max_block_frames = std::min<std::uint32_t>(block, 1024)};
    o.threads = threads;
    o.parallel_min_nodes = 1;
    Engine e(o);
    Inserts inserts;
    build_mix(e, inserts);
    const Stereo out = render_with_changes(e, in, mix_frames, block, test_changes(inserts));
    std::vector<float> both = out.left;
    both.insert(both.end(), out.right.begin(), out.right.end());
    return both;
}

/// The first frame (and how many) where two renders differ.
std::pair<std::size_t, std::size_t> first_difference(const std::vector<float>& a, const std::vector<float>& b) {
    std::size_t first = a.size(), count = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            first = std::min(first, i % mix_frames);
            ++count;
        }
    return {first, count};
}

}  // namespace

TEST_CASE("the mix is the same sample for sample at any block size and thread count", "[exactness]") {
    const auto in = test_inputs(mix_frames);
    const std::vector<float> reference = render_mix(256, 1, in);
    double energy = 0.0;
    for (float x : reference) energy += static_cast<double>(x) * x;
    REQUIRE(energy > 10.0);  // the mix is not silent
    struct Run {
        std::uint32_t block, threads;
    };
    for (const Run run : {Run{1, 1}, Run{32, 1}, Run{100, 1}, Run{1024, 1}, Run{4096, 1}, Run{100, 2}, Run{256, 2},
                          Run{1024, 4}}) {
        INFO("blocks of " << run.block << " frames, " << run.threads << " threads");
        const std::vector<float> out = render_mix(run.block, run.threads, in);
        REQUIRE(out.size() == reference.size());
        const auto [first, count] = first_difference(out, reference);
        INFO(count << " samples differ, the first at frame " << first);
        CHECK(count == 0);
    }
}

TEST_CASE("what is set before the audio starts stands at frame 0", "[exactness]") {
    const std::size_t frames = 12000;
    std::vector<std::vector<float>> impulse(1, std::vector<float>(frames, 0.0f));
    impulse[0][0] = 1.0f;
    EngineOptions o{.sample_rate = rate, .max_block_frames = 256};
    o.threads = 1;

    SECTION("a delay insert of 100 ms repeats an impulse at frame 4800, at full level") {
        Engine e(o);
        test::require_ok(e.add_track("t", 1));
        std::string delay;
        test::require_ok(e.add_insert("track.t", "delay", InsertPosition::post, &delay));
        test::require_ok(e.set(delay + ".time_ms", 100.0));
        test::require_ok(e.set(delay + ".feedback", 0.0));
        const Stereo out = test::render(e, impulse, frames, 100);
        // Wet only: the stereo delay makes the track stereo, the centred pan is then a balance at
        // unity, so the echo is the impulse itself, 4800 frames later, and nothing else.
        for (std::size_t i = 0; i < frames; ++i) {
            INFO("frame " << i);
            REQUIRE(out.left[i] == (i == 4800 ? 1.0f : 0.0f));
            REQUIRE(out.right[i] == out.left[i]);
        }
    }
    SECTION("a reverb with a 200 ms predelay is silent for 200 ms") {
        Engine e(o);
        test::require_ok(e.add_track("t", 1));
        std::string verb;
        test::require_ok(e.add_insert("track.t", "reverb", InsertPosition::post, &verb));
        test::require_ok(e.set(verb + ".predelay_ms", 200.0));
        const Stereo out = test::render(e, impulse, frames, 100);
        std::size_t first = frames;
        for (std::size_t i = 0; i < frames && first == frames; ++i)
            if (out.left[i] != 0.0f || out.right[i] != 0.0f) first = i;
        CHECK(first >= 9600);
        CHECK(first < frames);  // and then it sounds
    }
    SECTION("a track at -120 dB is silent from the first sample") {
        Engine e(o);
        test::require_ok(e.add_track("t", 1));
        test::require_ok(e.set("track.t.gain_db", -120.0));
        std::vector<std::vector<float>> loud(1, std::vector<float>(frames, 0.9f));
        const Stereo out = test::render(e, loud, frames, 64);
        for (std::size_t i = 0; i < frames; ++i) {
            INFO("frame " << i);
            REQUIRE(out.left[i] == 0.0f);
            REQUIRE(out.right[i] == 0.0f);
        }
    }
    SECTION("a send at -6.02 dB carries half the signal from the first sample") {
        Engine e(o);
        test::require_ok(e.add_track("t", 1));
        test::require_ok(e.add_bus("b"));
        test::require_ok(e.set_output("track.t", ""));
        test::require_ok(e.add_send("track.t", "bus.b", 20.0 * std::log10(0.5)));
        std::vector<std::vector<float>> dc(1, std::vector<float>(256, 0.8f));
        const Stereo out = test::render(e, dc, 256, 64);
        const float expected = 0.8f * std::cos(static_cast<float>(M_PI) / 4.0f) * 0.5f;  // equal-power centre
        for (std::size_t i = 0; i < 256; ++i) {
            INFO("frame " << i);
            REQUIRE(out.left[i] == Approx(expected).epsilon(1e-6));
            REQUIRE(out.right[i] == Approx(expected).epsilon(1e-6));
        }
    }
    SECTION("a change before the start with a sample offset still glides from there") {
        // Settling concerns the values standing at frame 0 only: a change for a later frame is
        // smoothed as always.
        Engine e(o);
        test::require_ok(e.add_track("t", 2));
        test::require_ok(e.set("track.t.gain_db", -6.0, 1000));
        std::vector<std::vector<float>> dc(2, std::vector<float>(4000, 0.5f));
        const Stereo out = test::render(e, dc, 4000, 256);
        CHECK(out.left[999] == 0.5f);
        CHECK(out.left[1000] < 0.5f);
        CHECK(out.left[1000] > 0.49f);  // the first step of a 20 ms ramp
        CHECK(out.left[3000] == Approx(0.5 * std::pow(10.0, -6.0 / 20.0)).epsilon(1e-6));
    }
}
