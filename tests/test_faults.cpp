// Faults while playing are said, once and at a bearable rate: a strip that keeps producing NaNs
// is reported at most once a second, with the count of the others; a stem cut while it plays is
// named with where it now ends, on stderr and in the exit code, even with the console's input
// closed.
#include <catch2/catch.hpp>

#include <rtmix/live.hpp>
#include <rtmix/session.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "console.hpp"
#include "files.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using test::TempDir;

TEST_CASE("a strip that keeps producing NaNs is reported once a second, with a count, its name said once",
          "[console][faults]") {
    TempDir dir;
    // A stem with a NaN every 4800 frames (ten a second) for two seconds.
    std::vector<float> x(96000, 0.25f);
    for (std::size_t i = 100; i < x.size(); i += 4800) x[i] = std::numeric_limits<float>::quiet_NaN();
    test::write_audio(dir / "bad.wav", {x}, 48000);
    test::write_text(dir / "s.toml", "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"bad\"\nfile = \"bad.wav\"\n");
    Player player(Session::load(dir / "s.toml"), {.threads = 1});
    cli::Console console(player, nullptr);
    REQUIRE(player.wait_until_buffered(5.0));
    player.play();
    std::vector<float> l(256), r(256);
    float* out[2] = {l.data(), r.data()};
    auto play = [&](double seconds) {
        for (long n = static_cast<long>(seconds * 48000); n > 0; n -= 256) player.process(nullptr, 0, out, 256);
        REQUIRE(player.wait_until_buffered(5.0));
    };
    auto now = std::chrono::steady_clock::now();
    play(0.05);
    std::string said = console.tick(now).output;
    CHECK(said == "note: track.bad: non-finite sample (NaN or Inf); the strip was silenced and its filters cleared\n");
    // Five more within the second: held back.
    play(0.5);
    now += std::chrono::milliseconds(500);
    CHECK(console.tick(now).output.empty());
    // The second over: the ones held back, counted, in one line.
    now += std::chrono::milliseconds(600);
    said = console.tick(now).output;
    INFO(said);
    CHECK_THAT(said, Contains("note: track.bad: 5 more non-finite signals in the last second"));
    CHECK_THAT(said, !Contains("track.bad: track.bad"));
}

TEST_CASE("a stem cut while it plays is named with where it now ends", "[stream][faults]") {
    TempDir dir;
    // Eight seconds at 48 kHz, 16-bit mono: 44 bytes of header, 2 bytes a frame.
    test::write_audio(dir / "long.wav", {std::vector<float>(8 * 48000, 0.25f)}, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    test::write_text(dir / "s.toml", "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"long\"\nfile = \"long.wav\"\n");
    Player player(Session::load(dir / "s.toml"), {.threads = 1});
    REQUIRE(player.wait_until_buffered(5.0));
    std::filesystem::resize_file(dir / "long.wav", 44 + 2 * 3 * 48000);  // cut at 3 s
    player.play();
    std::vector<float> l(256), r(256);
    float* out[2] = {l.data(), r.data()};
    for (long n = 6 * 48000; n > 0; n -= 256) {
        player.process(nullptr, 0, out, 256);
        (void)player.wait_until_buffered(1.0);
    }
    const StreamStats s = player.stream_stats();
    INFO(s.error);
    CHECK_THAT(s.error, Contains("long.wav' ends at 3.000 s, 5.000 s before the length it had when the session was loaded"));
}
