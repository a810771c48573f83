// The control surface: path resolution, validation messages, suggestions, words, the queue limit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

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

namespace {

/// The cells of a Markdown table row "| a | b | c |".
std::vector<std::string> cells(const std::string& line) {
    std::vector<std::string> out;
    std::size_t at = line.find('|');
    while (at != std::string::npos) {
        const std::size_t next = line.find('|', at + 1);
        if (next == std::string::npos) break;
        std::string cell = line.substr(at + 1, next - at - 1);
        while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
        while (!cell.empty() && cell.back() == ' ') cell.pop_back();
        out.push_back(cell);
        at = next;
    }
    return out;
}

/// A number as the docs write it: a real minus sign.
std::string doc_number(double v) {
    std::ostringstream o;
    o << v;
    std::string s = o.str();
    if (s[0] == '-') s.replace(0, 1, "\u2212");
    return s;
}

/// Checks the row of `path` against its declaration: "| `path` | unit | range | default | notes |".
void check_row(const std::string& doc, const std::string& path, const ParamInfo& p) {
    INFO(path);
    const std::size_t row = doc.find("| `" + path + "` |");
    REQUIRE(row != std::string::npos);
    const std::string line = doc.substr(row, doc.find('\n', row) - row);
    const std::vector<std::string> c = cells(line);
    REQUIRE(c.size() >= 4);
    switch (p.kind) {
        case ValueKind::boolean: CHECK(c[1] == "boolean"); break;
        case ValueKind::word:
            CHECK(c[1] == "word");
            for (std::string_view w : p.words) CHECK_THAT(c[2], Catch::Contains(fmt::format("`{}`", w)));
            CHECK(c[3] == fmt::format("`{}`", p.words[static_cast<std::size_t>(p.def)]));
            break;
        case ValueKind::number:
            CHECK(c[1] == (p.unit.empty() ? std::string("\u2014") : std::string(p.unit)));
            if (!p.per_second) {
                CHECK_THAT(c[2], Catch::Contains(doc_number(p.min)) && Catch::Contains(doc_number(p.max)));
                // The default, as written (to four significant digits at least).
                std::string d = c[3];
                if (d.rfind("\u2212", 0) == 0) d.replace(0, 3, 1, '-');
                if (d.find_first_of("0123456789") == 0 || d[0] == '-')
                    CHECK(std::stod(d) == Approx(p.def).epsilon(1e-4).margin(1e-9));
            }
            break;
    }
}

}  // namespace

TEST_CASE("docs/parameters.md documents every parameter with its unit, range and default", "[params][docs]") {
    std::ifstream file(RTMIX_SOURCE_DIR "/docs/parameters.md");
    REQUIRE(file.good());
    std::stringstream text;
    text << file.rdbuf();
    const std::string doc = text.str();
    for (const ParamInfo& p : strip_params()) check_row(doc, std::string(p.key), p);
    for (const ParamInfo& p : send_params()) check_row(doc, "send.BUS." + std::string(p.key), p);
    for (const ParamInfo& p : insert_params()) check_row(doc, "insert.N." + std::string(p.key), p);
    for (const ParamInfo& p : master_limiter_params()) check_row(doc, "limiter." + std::string(p.key), p);
    // Every processor type's parameters, below its own name ("compressor.ratio", "eq.N.freq_hz").
    for (const ProcessorInfo* type : processor_types()) {
        const std::string prefix = std::string(type->type) + (type->groups > 1 ? ".N." : ".");
        for (const ParamInfo& p : type->params) check_row(doc, prefix + std::string(p.key), p);
    }
}

TEST_CASE("every declared parameter has a description, a valid range and a default inside it", "[params][docs]") {
    auto check = [](const ParamInfo& p) {
        INFO(p.key);
        CHECK(!p.description.empty());
        CHECK(p.min <= p.max);
        CHECK(p.def >= p.min);
        CHECK(p.def <= p.max);
        if (p.kind == ValueKind::word) CHECK(p.max == static_cast<double>(p.words.size() - 1));
        if (p.kind == ValueKind::boolean) CHECK((p.min == 0 && p.max == 1));
    };
    for (const ParamInfo& p : strip_params()) check(p);
    for (const ParamInfo& p : send_params()) check(p);
    for (const ParamInfo& p : insert_params()) check(p);
    for (const ProcessorInfo* type : processor_types())
        for (const ParamInfo& p : type->params) check(p);
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
