// Automation in session files: lanes in a strip's table, a processor's table or a
// [track.automation] section, their times (seconds, m:ss.sss, samples) and words; every mistake at
// its line and column; a render that follows the lane, the same at any block size; and a session
// written back that reads as the same lanes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "files.hpp"
#include "rtmix/render.hpp"
#include "rtmix/session.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

std::filesystem::path write_session(const TempDir& dir, std::string_view text) {
    if (text.starts_with('\n')) text.remove_prefix(1);
    const std::filesystem::path file = dir / "session.toml";
    test::write_text(file, text);
    return file;
}

/// A stereo stem of DC 0.5 (two seconds at 48 kHz), for a fader to act on.
void write_dc_stem(const TempDir& dir) {
    test::write_audio(dir / "stems/dc.wav", {std::vector<float>(96000, 0.5f), std::vector<float>(96000, 0.5f)}, 48000);
}

SessionError load_error(const TempDir& dir, std::string_view text) {
    write_dc_stem(dir);
    const std::filesystem::path file = write_session(dir, text);
    try {
        (void)Session::load(file);
    } catch (const SessionError& e) {
        return e;
    }
    FAIL("the session loaded without an error:\n" << text);
    throw std::logic_error("unreachable");
}

const SessionLane& lane_of(const Session& s, std::string_view path) {
    for (const SessionLane& l : s.automation())
        if (l.path == path) return l;
    FAIL("no lane for " << path);
    throw std::logic_error("unreachable");
}

double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }

}  // namespace

TEST_CASE("lanes in a strip, a processor and an automation section, with their times and words",
          "[session][automation]") {
    TempDir dir;
    write_dc_stem(dir);
    const Session s = Session::load(write_session(dir, R"(
[session]
sample_rate = 48000

[[bus]]
name = "verb"
reverb = { automation = { mix = [ [0, 0.5], [1, 0.1, "smooth"] ] } }

[[track]]
name = "vox"
file = "stems/dc.wav"
sends = [ { bus = "verb", level_db = -10 } ]
inserts = [ { type = "gate", automation = { threshold_db = [ [0, -60], ["0:01.5", -30] ] } } ]
eq = [ { type = "peak" } ]

[track.automation]
gain_db = [ [0, "-inf"], [0.5, 0, "smooth"], ["1:02.25", -6], ["1:0:00", -12] ]
"send.verb.level_db" = [ ["24000 samples", -40], [1.25, -3, "exponential"] ]
"eq.1.type" = [ [0, "peak"],
                [0.75, "notch"] ]
"eq.1.freq_hz" = [ [0, 200, "exponential"], [1, 2000] ]
)"));
    const SessionLane& gain = lane_of(s, "track.vox.gain_db");
    REQUIRE(gain.lane.points.size() == 4);
    CHECK(std::isinf(gain.lane.points[0].value));
    CHECK(gain.lane.points[1].frame == 24000);
    CHECK(gain.lane.points[1].shape == Shape::smooth);
    CHECK(gain.lane.points[2].frame == 48000 * 62 + 12000);  // 1:02.25
    CHECK(gain.lane.points[3].frame == 48000LL * 3600);       // 1:0:00
    CHECK(gain.lane.points[2].shape == Shape::linear);
    CHECK(gain.where.line == 16);
    const SessionLane& send = lane_of(s, "track.vox.send.verb.level_db");
    CHECK(send.lane.points[0].frame == 24000);
    CHECK(send.lane.points[1].frame == 60000);
    CHECK(lane_of(s, "track.vox.insert.1.threshold_db").lane.points[1].frame == 72000);
    CHECK(lane_of(s, "bus.verb.reverb.mix").lane.points[1].value == 0.1);
    const SessionLane& type = lane_of(s, "track.vox.eq.1.type");
    CHECK(type.lane.points[0].value == 5.0);  // "peak": its index among the EQ's types
    CHECK(type.lane.points[1].value == 6.0);  // "notch"
    CHECK(type.lane.points[0].shape == Shape::hold);  // a word steps
    CHECK(type.points_where[1].line == 19);  // a lane may span lines (inside its array)

    // The engine the session builds has them.
    Engine e(s.engine_options());
    s.apply(e);
    CHECK(e.automation().size() == 6);
}

TEST_CASE("a mistake in a lane is reported at its line and column with what was expected",
          "[session][automation][errors]") {
    TempDir dir;
    const std::string head = "[[track]]\nname = \"vox\"\nfile = \"stems/dc.wav\"\n";
    struct Case {
        std::string lane;  // the automation line (line 4)
        const char* at;    // where on it the error points: the first occurrence of this
        const char* words;
    };
    const Case cases[] = {
        {R"(automation = { gain_db = [ [1, 0], [0.5, -6] ] })", "[0.5", "breakpoint 2 at frame 24000 comes before breakpoint 1"},
        {R"(automation = { gain_db = [ [0, 0], [1, 30] ] })", "[1, 30]", "out of range"},
        {R"(automation = { gian_db = [ [0, 0] ] })", "gian_db", "did you mean 'track.vox.gain_db'"},
        {R"(automation = { "eq.1.type" = [ [0, "peak", "linear"], [1, "notch"] ] })", "[0, \"peak\"", "only steps: use 'hold'"},
        {R"(automation = { "eq.1.type" = [ [0, "peek"] ] })", "\"peek\"", "expected one of: off, highpass"},
        {R"(automation = { gain_db = [ ["1:75", 0] ] })", "\"1:75\"", "expected seconds (a number), \"m:ss.sss\""},
        {R"(automation = { gain_db = [ [0, 0, "smoth"] ] })", "\"smoth\"", "did you mean 'smooth'"},
        {R"(automation = { gain_db = [ [0] ] })", "[0]", "must be [time, value] or [time, value, \"shape\"]"},
        {R"(automation = { gain_db = 3 })", "3", "must be an array of breakpoints"},
        {R"(automation = { solo = [ [0, true] ] })", "solo", "solo and solo_safe decide which strips the solos silence"},
        {R"(automation = { pan = [ [0, "left"] ] })", "\"left\"", "is not a value of it"},
        {R"(automation = { gain_db = [ [-1, 0] ] })", "-1", "expected 0 or more seconds"},
    };
    for (const Case& c : cases) {
        INFO(c.lane);
        const SessionError e = load_error(dir, head + c.lane + "\n");
        INFO(e.what());
        CHECK(e.where().line == 4);
        CHECK(e.where().column == c.lane.find(c.at) + 1);
        CHECK_THAT(std::string(e.what()), Contains(c.words));
    }
}

TEST_CASE("a rendered fade follows its lane, the same at any block size", "[session][automation][render]") {
    TempDir dir;
    write_dc_stem(dir);
    auto session = [&](int block) {
        return Session::load(write_session(dir, R"(
[session]
sample_rate = 48000
block_frames = )" + std::to_string(block) + R"(

[[track]]
name = "dc"
file = "stems/dc.wav"
automation = { gain_db = [ [0, -24], [0.5, 0, "smooth"], [1.0, -6] ] }
)"));
    };
    RenderOptions o;
    o.format = RenderOptions::Format::wav;
    o.sample = RenderOptions::Sample::float32;
    o.tail_s = 0.0;
    o.output = dir / "a.wav";
    render(session(64), o);
    o.output = dir / "b.wav";
    render(session(1000), o);
    const test::Audio a = test::read_audio(dir / "a.wav"), b = test::read_audio(dir / "b.wav");
    REQUIRE(a.frames() == 96000);
    REQUIRE(b.frames() == a.frames());
    CHECK(std::memcmp(a.channels[0].data(), b.channels[0].data(), a.frames() * sizeof(float)) == 0);
    // On the grid points the gain is the lane's: -24 dB at 0, 0 dB at 0.5 s, a smooth S between,
    // -6 dB from 1 s on (the stem is stereo: its centred pan is a balance at unity).
    CHECK(a.channels[0][0] == Approx(0.5 * db_to_gain(-24.0)).epsilon(1e-3));  // stands there from frame 0
    for (const std::int64_t n : {4800LL, 12000LL, 24000LL, 36000LL, 47999LL, 60000LL}) {
        INFO("frame " << n);
        // Frame n is the end of the ramp towards grid point n + 1 when n + 1 is on the grid.
        const double t = static_cast<double>(n + 1);
        double db = 0.0;
        if (t <= 24000) {  // the segment from 0 s is linear (the shape of its first point)
            db = -24.0 + 24.0 * t / 24000;
        } else {  // the one from 0.5 s is smooth
            const double u = std::min(1.0, (t - 24000) / 24000);
            db = -6.0 * (3 * u * u - 2 * u * u * u);
        }
        CHECK(a.channels[0][static_cast<std::size_t>(n)] == Approx(0.5 * db_to_gain(db)).epsilon(2e-3));
    }
    CHECK(a.channels[0][90000] == Approx(0.5 * db_to_gain(-6.0)).epsilon(1e-5));
}

TEST_CASE("a session written back reads as the same lanes", "[session][automation][save]") {
    TempDir dir;
    write_dc_stem(dir);
    const Session s = Session::load(write_session(dir, R"(
[[bus]]
name = "verb"
reverb = {}

[[track]]
name = "vox"
file = "stems/dc.wav"
sends = [ { bus = "verb", level_db = -10 } ]

[track.automation]
gain_db = [ [0, "-inf"], [0.5, 0, "smooth"], ["24001 samples", -6, "hold"], [2, -3] ]
"send.verb.level_db" = [ [0, -40], [1.25, -3, "exponential"] ]
"eq.2.type" = [ [0, "off"], [1, "highshelf"] ]

[master]
automation = { gain_db = [ [10, 0], [12, -60] ] }
)"));
    const std::string text = s.to_toml(dir.path());
    INFO(text);
    test::write_text(dir / "again.toml", text);
    const Session again = Session::load(dir / "again.toml");
    REQUIRE(again.automation().size() == s.automation().size());
    for (const SessionLane& lane : s.automation()) {
        INFO(lane.path);
        const SessionLane& other = lane_of(again, lane.path);
        REQUIRE(other.lane.points.size() == lane.lane.points.size());
        for (std::size_t i = 0; i < lane.lane.points.size(); ++i) {
            CHECK(other.lane.points[i].frame == lane.lane.points[i].frame);
            CHECK(other.lane.points[i].value == lane.lane.points[i].value);
            CHECK(other.lane.points[i].shape == lane.lane.points[i].shape);
        }
    }
}
