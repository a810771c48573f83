// Inserts: any processor type on any strip, addressed as insert.N, with its own enabled and mix,
// before the EQ or after the compressor; parameter metadata for every path.
#include <catch2/catch.hpp>

#include <cmath>

#include "harness.hpp"
#include "signals.hpp"

using namespace rtmix;
using test::render;

namespace {

constexpr double centre = 0.70710678118654752;  // the equal-power pan law at the centre

double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }

/// The steady output level of a hard-knee compressor, by the formula of docs/parameters.md.
double compressed_db(double in_db, double threshold_db, double ratio) {
    return in_db <= threshold_db ? in_db : threshold_db + (in_db - threshold_db) / ratio;
}

}  // namespace

TEST_CASE("an insert is addressed as insert.N in the order added, and removing one renumbers the rest", "[inserts]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("vox", 1));
    std::string path;
    RTMIX_REQUIRE_OK(e.add_insert("track.vox", "compressor", InsertPosition::post, &path));
    CHECK(path == "track.vox.insert.1");
    RTMIX_REQUIRE_OK(e.add_insert("track.vox", "reverb", InsertPosition::pre, &path));
    CHECK(path == "track.vox.insert.2");
    RTMIX_REQUIRE_OK(e.set("track.vox.insert.1.ratio", 8.0));
    RTMIX_REQUIRE_OK(e.set("track.vox.insert.1.mix", 0.5));
    RTMIX_REQUIRE_OK(e.set("track.vox.insert.2.decay_s", 1.5));
    RTMIX_REQUIRE_OK(e.set("track.vox.insert.2.enabled", 0.0));
    double v = 0;
    RTMIX_REQUIRE_OK(e.get("track.vox.insert.1.enabled", v));
    CHECK(v == 1.0);  // an insert is on when added, even a compressor (whose own default is off)
    // A reverb has a mix of its own: the insert adds none.
    CHECK(e.set("track.vox.insert.2.mix", 0.3).ok());
    const std::vector<InsertInfo> list = e.inserts("track.vox");
    REQUIRE(list.size() == 2);
    CHECK(list[0].type == "compressor");
    CHECK(list[0].position == InsertPosition::post);
    CHECK(list[1].path == "track.vox.insert.2");
    CHECK(list[1].position == InsertPosition::pre);

    RTMIX_REQUIRE_OK(e.remove_insert("track.vox.insert.1"));
    RTMIX_REQUIRE_OK(e.get("track.vox.insert.1.decay_s", v));  // the reverb moved up
    CHECK(v == 1.5);
    CHECK(e.get("track.vox.insert.2.decay_s", v).code() == Status::Code::unknown_path);
    CHECK(e.remove_insert("track.vox.insert.2").code() == Status::Code::unknown_path);
    render(e, {}, 4800, 64);  // the removed one fades out and leaves the plan
    (void)e.poll_events();
    CHECK(e.inserts("track.vox").size() == 1);
}

TEST_CASE("an unknown insert type is refused with the types there are and the nearest one", "[inserts]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("vox", 1));
    const Status s = e.add_insert("track.vox", "compresor");
    CHECK(s.code() == Status::Code::invalid_value);
    CHECK_THAT(s.message(), Catch::Contains("did you mean 'compressor'") && Catch::Contains("reverb"));
    CHECK(e.add_insert("track.vox", "eq").code() == Status::Code::invalid_value);  // built in, not an insert
    CHECK(e.add_insert("track.nobody", "reverb").code() == Status::Code::unknown_path);
}

TEST_CASE("a compressor insert follows its static curve, and its mix blends dry and wet linearly", "[inserts]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_insert("track.t", "compressor"));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.threshold_db", -20.0));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.ratio", 4.0));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.knee_db", 0.0));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.attack_ms", 1.0));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.release_ms", 10.0));
    const double in = 0.5;  // a steady level: the detector sees 20 log10(0.5) exactly
    const std::vector<float> dc(48000, static_cast<float>(in));
    const double wet = db_to_gain(compressed_db(20.0 * std::log10(in), -20.0, 4.0));
    auto out = render(e, {dc}, 48000, 64);
    CHECK(out.left.back() / centre == Approx(wet).epsilon(2e-5));  // within 0.0002 dB
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.mix", 0.25));
    out = render(e, {dc}, 48000, 64);
    CHECK(out.left.back() / centre == Approx(in + 0.25 * (wet - in)).epsilon(2e-5));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.mix", 0.0));
    out = render(e, {dc}, 4800, 64);
    CHECK(out.left.back() == static_cast<float>(in) * static_cast<float>(centre));  // dry, bit for bit
}

TEST_CASE("pre inserts run before the EQ and compressor, post inserts after them", "[inserts]") {
    // The strip's compressor holds the level near -20 dBFS; an insert compressor at ratio 1 is a
    // plain +12 dB gain (its makeup). Before the strip's compressor the gain is squashed, after
    // it the gain is heard.
    auto level_db = [](InsertPosition position) {
        Engine e(EngineOptions{.max_block_frames = 64});
        RTMIX_REQUIRE_OK(e.add_track("t", 2));
        for (const auto& [path, value] : {std::pair{"track.t.compressor.enabled", 1.0}, {"track.t.compressor.threshold_db", -20.0},
                                           {"track.t.compressor.ratio", 100.0}, {"track.t.compressor.knee_db", 0.0},
                                           {"track.t.compressor.attack_ms", 1.0}})
            RTMIX_REQUIRE_OK(e.set(path, value));
        RTMIX_REQUIRE_OK(e.add_insert("track.t", "compressor", position));
        RTMIX_REQUIRE_OK(e.set("track.t.insert.1.ratio", 1.0));
        RTMIX_REQUIRE_OK(e.set("track.t.insert.1.makeup_db", 12.0));
        const std::vector<float> dc(48000, 0.25f);  // -12 dBFS
        const auto out = render(e, {dc, dc}, 48000, 64);
        return 20.0 * std::log10(out.left.back());
    };
    const double ratio_100 = compressed_db(-12.0 + 12.0, -20.0, 100.0);  // pre: 0 dBFS into the compressor
    CHECK(level_db(InsertPosition::pre) == Approx(ratio_100).margin(0.01));
    CHECK(level_db(InsertPosition::post) == Approx(compressed_db(-12.0, -20.0, 100.0) + 12.0).margin(0.01));
}

TEST_CASE("a stereo insert on a mono track makes it stereo, and its pan a balance", "[inserts]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    const std::vector<float> dc(9600, 0.5f);
    auto out = render(e, {dc}, 9600, 64);
    CHECK(out.left.back() == Approx(0.5 * centre).epsilon(1e-6));  // mono: equal power
    RTMIX_REQUIRE_OK(e.add_insert("track.t", "reverb"));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.mix", 0.0));  // the reverb's own mix: dry only
    out = render(e, {dc}, 9600, 64);
    CHECK(out.left.back() == 0.5f);  // stereo: the balance leaves the centre at unity
    CHECK(out.right.back() == 0.5f);
    RTMIX_REQUIRE_OK(e.set("track.t.pan", 0.5));
    out = render(e, {dc}, 9600, 64);
    CHECK(out.left.back() == Approx(0.5 * std::cos(0.5 * test::pi / 2.0)).epsilon(1e-6));
    CHECK(out.right.back() == 0.5f);
}

TEST_CASE("an insert switched off passes its input through, and back on it is heard again", "[inserts]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("t", 2));
    RTMIX_REQUIRE_OK(e.add_insert("track.t", "delay"));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.time_ms", 10.0));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.feedback", 0.0));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.enabled", 0.0));
    const std::vector<float> tone = test::sine(440.0, 48000.0, 9600, 0.5);
    auto out = render(e, {tone, tone}, 9600, 64);
    for (std::size_t i = 4800; i < 9600; ++i) REQUIRE(out.left[i] == tone[i]);  // after the crossfade
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.enabled", 1.0));
    render(e, {}, 96000, 64);  // the crossfade back, and the tone out of the delay line, over silence
    const std::vector<float> click = test::impulse(9600);
    out = render(e, {click, click}, 9600, 64);
    // The delay alone (mix 1): the click arrives 10 ms later, 480 frames.
    CHECK(test::peak(out.left.data(), 0, 470) < 1e-6);
    CHECK(test::peak(out.left.data(), 470, 490) > 0.5);
}

TEST_CASE("parameter_info describes every path from its declaration", "[inserts][params]") {
    Engine e(EngineOptions{.sample_rate = 44100.0});
    RTMIX_REQUIRE_OK(e.add_track("vox", 1));
    RTMIX_REQUIRE_OK(e.add_insert("track.vox", "compressor"));
    ParameterInfo info;
    RTMIX_REQUIRE_OK(e.parameter_info("track.vox.insert.1.attack_ms", info));
    CHECK(info.kind == ValueKind::number);
    CHECK(info.unit == "ms");
    CHECK(info.min == 0.1);
    CHECK(info.max == 500.0);
    CHECK(info.def == 10.0);
    CHECK(!info.description.empty());
    RTMIX_REQUIRE_OK(e.parameter_info("track.vox.eq.3.type", info));
    CHECK(info.kind == ValueKind::word);
    CHECK(info.words.size() == 7);
    CHECK(info.words[5] == "peak");
    RTMIX_REQUIRE_OK(e.parameter_info("track.vox.delay_samples", info));
    CHECK(info.max == std::round(0.1 * 44100.0));  // the range in force at the engine's rate
    CHECK(e.parameter_info("track.vox.insert.2.ratio", info).code() == Status::Code::unknown_path);
    const std::vector<ParameterInfo> all = e.parameters();
    CHECK(all.size() == e.parameter_paths().size());
}

TEST_CASE("width 1 is the identity bit for bit, width 0 folds to mono, and mid/side gains follow M/S", "[inserts][width]") {
    Engine e(EngineOptions{.max_block_frames = 64});
    RTMIX_REQUIRE_OK(e.add_track("t", 2));
    RTMIX_REQUIRE_OK(e.add_insert("track.t", "width"));
    const std::vector<float> l = test::sine(440.0, 48000.0, 9600, 0.5), r = test::sine(660.0, 48000.0, 9600, 0.3);
    auto out = render(e, {l, r}, 9600, 64);
    for (std::size_t i = 0; i < l.size(); ++i) {
        REQUIRE(out.left[i] == l[i]);  // a stereo track at the centre: balance is unity
        REQUIRE(out.right[i] == r[i]);
    }
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.width", 0.0));
    out = render(e, {l, r}, 9600, 64);
    for (std::size_t i = 4800; i < l.size(); ++i) {
        REQUIRE(out.left[i] == out.right[i]);
        REQUIRE(out.left[i] == Approx(0.5 * (l[i] + r[i])).margin(1e-7));
    }
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.width", 1.5));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.mid_db", -6.0));
    RTMIX_REQUIRE_OK(e.set("track.t.insert.1.side_db", 3.0));
    out = render(e, {l, r}, 9600, 64);
    const double gm = std::pow(10.0, -6.0 / 20.0), gs = 1.5 * std::pow(10.0, 3.0 / 20.0);
    for (std::size_t i = 4800; i < l.size(); ++i) {
        const double m = 0.5 * (l[i] + r[i]), s = 0.5 * (l[i] - r[i]);
        REQUIRE(out.left[i] == Approx(gm * m + gs * s).margin(1e-6));
        REQUIRE(out.right[i] == Approx(gm * m - gs * s).margin(1e-6));
    }
}
