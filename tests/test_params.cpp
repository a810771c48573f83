// The control surface: path resolution, validation messages, suggestions, words, the queue limit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "control/param_table.hpp"

#include "harness.hpp"

using namespace rtmix;

namespace {
/// A small mix: a vocal track sending to a reverb return.
Engine& mix() {
    static const std::unique_ptr<Engine> e = [] {
        auto x = std::make_unique<Engine>();
        (void)x->add_track("vox", 1);
        (void)x->add_bus("verb");
        (void)x->add_effect("bus.verb", Effect::reverb);
        (void)x->add_send("track.vox", "bus.verb", -12.0);
        return x;
    }();
    return *e;
}
}  // namespace

TEST_CASE("an unknown path is an error that suggests the closest valid path", "[params]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("vox", 1));
    Status s = e.set("track.vox.gian_db", -3.0);
    CHECK(s.code() == Status::Code::unknown_path);
    CHECK(s.message() == "unknown parameter 'track.vox.gian_db' (did you mean 'track.vox.gain_db'?)");
    s = e.set("track.vxo.pan", 0.0);
    CHECK_THAT(s.message(), Catch::Contains("did you mean 'track.vox.pan'?"));
    s = e.set("track.vox.eq.9.freq_hz", 100.0);
    CHECK(s.code() == Status::Code::unknown_path);
    s = e.set("completely.unrelated", 1.0);
    CHECK(s.message() == "unknown parameter 'completely.unrelated'");
}

TEST_CASE("a value out of range is refused with the range, and the old value stays", "[params]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_track("vox", 1));
    RTMIX_REQUIRE_OK(e.set("track.vox.pan", 0.5));
    const Status s = e.set("track.vox.pan", 1.5);
    CHECK(s.code() == Status::Code::out_of_range);
    CHECK(s.message() == "track.vox.pan = 1.5: out of range [-1, 1]");
    double v = 0;
    RTMIX_REQUIRE_OK(e.get("track.vox.pan", v));
    CHECK(v == 0.5);
    CHECK(e.set("track.vox.eq.1.slope", 18.0).code() == Status::Code::out_of_range);
    CHECK(e.set("track.vox.mute", 0.5).code() == Status::Code::out_of_range);
}

TEST_CASE("word parameters take their words, and numbers also arrive as text", "[params]") {
    Engine& e = mix();
    RTMIX_REQUIRE_OK(e.set("track.vox.eq.2.type", "highshelf"));
    RTMIX_REQUIRE_OK(e.set("track.vox.compressor.detector", "rms"));
    RTMIX_REQUIRE_OK(e.set("track.vox.gain_db", "-3.5"));
    RTMIX_REQUIRE_OK(e.set("track.vox.gain_db", "-inf"));
    RTMIX_REQUIRE_OK(e.set("track.vox.mute", "on"));
    double v = 0;
    RTMIX_REQUIRE_OK(e.get("track.vox.eq.2.type", v));
    CHECK(v == 4.0);  // off, highpass, lowpass, lowshelf, highshelf
    RTMIX_REQUIRE_OK(e.get("track.vox.gain_db", v));
    CHECK(v == -120.0);
    const Status s = e.set("track.vox.eq.2.type", "bandpass");
    CHECK(s.message() ==
          "track.vox.eq.2.type = 'bandpass': expected one of: off, highpass, lowpass, lowshelf, highshelf, peak, notch");
    CHECK(e.set("track.vox.eq.2.type", 3.0).code() == Status::Code::invalid_value);
    CHECK(e.set("track.vox.gain_db", "loud").code() == Status::Code::invalid_value);
}

TEST_CASE("parameter paths cover strips, EQ bands, sends and effects", "[params]") {
    const std::vector<std::string> paths = mix().parameter_paths();
    auto has = [&](const char* p) { return std::binary_search(paths.begin(), paths.end(), std::string(p)); };
    CHECK(has("track.vox.gain_db"));
    CHECK(has("track.vox.eq.8.q"));
    CHECK(has("track.vox.send.verb.level_db"));
    CHECK(has("track.vox.compressor.threshold_db"));
    CHECK(has("bus.verb.reverb.decay_s"));
    CHECK(has("bus.verb.solo_safe"));
    CHECK(has("master.gain_db"));
    CHECK_FALSE(has("master.solo"));
    CHECK_FALSE(has("track.vox.solo_safe"));
    CHECK_FALSE(has("track.vox.reverb.decay_s"));
    double decay = 0;
    RTMIX_REQUIRE_OK(mix().get("bus.verb.reverb.decay_s", decay));
    CHECK(decay == 2.0);
}

TEST_CASE("a full parameter queue is reported to the caller and nothing is dropped", "[params][queue]") {
    Engine e(EngineOptions{.param_queue_capacity = 64});
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    int accepted = 0;
    Status s;
    for (int i = 0; i < 1000 && (s = e.set("track.t.gain_db", -double(i % 60))).ok(); ++i) ++accepted;
    CHECK(s.code() == Status::Code::queue_full);
    CHECK(accepted == 64);
    double v = 0;
    RTMIX_REQUIRE_OK(e.get("track.t.gain_db", v));
    CHECK(v == -double((accepted - 1) % 60));  // the refused change did not touch the model
    test::render(e, {}, 64);
    RTMIX_REQUIRE_OK(e.set("track.t.gain_db", -1.0));  // room again after one block
    test::render(e, {}, 64);
    const EngineStats stats = e.stats();
    CHECK(stats.params_applied == stats.params_sent);
}

TEST_CASE("names and routing requests are validated", "[params]") {
    Engine e;
    CHECK(e.add_track("a.b").code() == Status::Code::invalid_name);
    CHECK(e.add_track("").code() == Status::Code::invalid_name);
    CHECK(e.add_track("x", 3).code() == Status::Code::invalid_value);
    RTMIX_REQUIRE_OK(e.add_track("x"));
    CHECK(e.add_track("x").code() == Status::Code::duplicate_name);
    CHECK(e.set_output("track.x", "bus.nowhere").code() == Status::Code::unknown_path);
    CHECK(e.add_effect("track.x", Effect::reverb).code() == Status::Code::invalid_value);
    CHECK(e.remove("master").code() == Status::Code::invalid_value);
    RTMIX_REQUIRE_OK(e.add_track("y", 2));
    CHECK(e.input_channels() == 3);  // x reads channel 0, y channels 1 and 2
}

TEST_CASE("docs/parameters.md documents every parameter with its range", "[params][docs]") {
    std::ifstream file(RTMIX_SOURCE_DIR "/docs/parameters.md");
    REQUIRE(file.good());
    std::stringstream text;
    text << file.rdbuf();
    const std::string doc = text.str();
    for (const engine::ParamSpec& spec : engine::param_specs()) {
        std::string key(spec.key);
        switch (spec.scope) {
            case engine::Scope::eq_band: key = "eq.N." + key; break;
            case engine::Scope::send: key = "send.BUS." + key; break;
            case engine::Scope::reverb: key = "reverb." + key; break;
            case engine::Scope::delay: key = "delay." + key; break;
            case engine::Scope::limiter: key = "limiter." + key; break;
            case engine::Scope::strip: break;
        }
        // The row of the parameter: "| `key` | unit | range | default |".
        const std::size_t row = doc.find("| `" + key + "` |");
        INFO(key);
        REQUIRE(row != std::string::npos);
        if (spec.kind == engine::ValueKind::number && spec.field != engine::Field::delay_samples) {
            const std::string line = doc.substr(row, doc.find('\n', row) - row);
            auto number = [](double v) {
                std::ostringstream o;
                o << v;
                std::string s = o.str();
                if (s[0] == '-') s = "\u2212" + s.substr(1);  // the docs use a real minus sign
                return s;
            };
            CHECK_THAT(line, Catch::Contains(number(spec.min)) && Catch::Contains(number(spec.max)));
        }
    }
}

TEST_CASE("when the audio thread's pending list is full, changes wait a block and an event says so",
          "[params][queue]") {
    Engine e(EngineOptions{.max_block_frames = 64, .param_queue_capacity = 16});
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    // 16 changes far in the future fill the pending list; 16 more wait in the queue behind them.
    for (int i = 0; i < 16; ++i) RTMIX_REQUIRE_OK(e.set("track.t.pan", -0.5, 200));
    test::render(e, {}, 64, 64);
    for (int i = 0; i < 16; ++i) RTMIX_REQUIRE_OK(e.set("track.t.pan", 0.25, 10));
    test::render(e, {}, 64, 64);
    const auto events = e.poll_events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].code == Event::Code::changes_delayed);
    test::render(e, {}, 64 * 8, 64);
    const EngineStats stats = e.stats();
    CHECK(stats.params_applied == stats.params_sent);  // none was dropped
    CHECK(e.poll_events().empty());                    // one event per episode
    const auto out = test::render(e, {std::vector<float>(2048, 1.0f)}, 2048, 64);
    const double theta = (0.25 + 1.0) * 3.14159265358979 / 4.0;  // the last pan sent is the one heard
    CHECK(out.left.back() == Approx(std::cos(theta)).margin(1e-6));
}

TEST_CASE("routing calls need queue room only for the messages they can send", "[params][queue]") {
    // 40 strips on a 16-message queue: without a solo, adding and routing needs no mute updates.
    Engine e(EngineOptions{.param_queue_capacity = 16});
    for (int i = 0; i < 40; ++i) RTMIX_REQUIRE_OK(e.add_track(std::string("t").append(std::to_string(i)), 1));
    RTMIX_REQUIRE_OK(e.add_bus("b"));
    RTMIX_REQUIRE_OK(e.set_output("track.t3", "bus.b"));
    // A solo silences 40 strips at once: 40 messages can never fit a 16-message queue, and the
    // error says what to change instead of "try again".
    const Status s = e.set("track.t0.solo", 1.0);
    CHECK(s.code() == Status::Code::limit_reached);
    CHECK_THAT(s.message(), Catch::Contains("needs 40 messages") && Catch::Contains("param_queue_capacity"));
    double solo = 1.0;
    RTMIX_REQUIRE_OK(e.get("track.t0.solo", solo));
    CHECK(solo == 0.0);
    const auto out = test::render(e, {std::vector<float>(64, 1.0f)}, 64);
    CHECK(out.left.back() > 0.5f);  // t0 plays, nothing was muted
}
