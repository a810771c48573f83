// Reloading the session file while it plays (the console's `reload`, `rtmix play --watch`):
// what changed is applied to the running mix and nothing else; every change is declicked, judged
// against the offline renders of the two versions of the file (no sample-to-sample step larger
// than either version's own); a file that does not load, or a change the running mix cannot
// take, leaves the mix as it was.
#include <catch2/catch.hpp>

#include <rtmix/live.hpp>
#include <rtmix/render.hpp>
#include <rtmix/session.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "console.hpp"
#include "files.hpp"
#include "reload.hpp"
#include "signals.hpp"

using namespace rtmix;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

constexpr int rate = 48000;
constexpr std::uint32_t block = 256;

/// Version 1 of the file: keys (stereo) and vox (mono) sines, keys sending to a reverb bus, a
/// pan lane on keys.
const char* const version_1 = R"([session]
sample_rate = 48000
block_frames = 256

[[bus]]
name = "verb"
reverb = { decay_s = 1.0, mix = 1.0 }

[[track]]
name = "keys"
file = "stems/keys.wav"
sends = [ { bus = "verb", level_db = -12 } ]
automation = { pan = [ [0, -0.5], [4, 0.5] ] }

[[track]]
name = "vox"
file = "stems/vox.wav"
gain_db = -6
)";

/// Version 2: vox 10 dB louder with a new delay bus it sends to, keys without its send and with a
/// compressor, another pan lane, the reverb's decay changed.
const char* const version_2 = R"([session]
sample_rate = 48000
block_frames = 256

[[bus]]
name = "verb"
reverb = { decay_s = 2.0, mix = 1.0 }

[[bus]]
name = "echo"
delay = { time_ms = 150, feedback = 0.3 }

[[track]]
name = "keys"
file = "stems/keys.wav"
inserts = [ { type = "compressor", threshold_db = -30, ratio = 4 } ]
automation = { pan = [ [0, 0.5], [4, -0.5] ] }

[[track]]
name = "vox"
file = "stems/vox.wav"
gain_db = 4
sends = [ { bus = "echo", level_db = -10 } ]
)";

void write_stems(const TempDir& dir) {
    const std::size_t n = 4 * rate;
    test::write_audio(dir / "stems/keys.wav", {test::sine(330.0, rate, n, 0.4), test::sine(331.0, rate, n, 0.4)}, rate);
    test::write_audio(dir / "stems/vox.wav", {test::sine(220.0, rate, n, 0.4)}, rate);
}

struct Stereo {
    std::vector<float> left, right;
};

/// Plays `seconds` in 256-frame blocks, appending to `out`.
void run(Player& player, double seconds, Stereo& out) {
    std::vector<float> l(block), r(block);
    float* o[2] = {l.data(), r.data()};
    for (auto frames = static_cast<long>(seconds * rate); frames > 0; frames -= block) {
        player.process(nullptr, 0, o, block);
        out.left.insert(out.left.end(), l.begin(), l.end());
        out.right.insert(out.right.end(), r.begin(), r.end());
    }
}

/// The largest |x[n] - x[n-1]| over frames [from, to) of both channels.
double max_step(const Stereo& s, std::size_t from, std::size_t to) {
    double m = 0.0;
    for (const auto* ch : {&s.left, &s.right})
        for (std::size_t i = std::max<std::size_t>(from, 1); i < std::min(to, ch->size()); ++i)
            m = std::max(m, std::fabs(static_cast<double>((*ch)[i]) - (*ch)[i - 1]));
    return m;
}

/// The offline render of the session file `text` as floats.
Stereo render_of(const TempDir& dir, const char* text, const char* name) {
    test::write_text(dir / name, text);
    RenderOptions o;
    o.output = dir / (std::string(name) + ".wav");
    o.sample = RenderOptions::Sample::float32;
    o.dither = RenderOptions::Dither::none;
    o.length_s = 4.0;
    (void)render(Session::load(dir / name), o);
    const test::Audio a = test::read_audio(o.output);
    return {a.channels[0], a.channels[1]};
}

double rms_db(const std::vector<float>& x, std::size_t from, std::size_t to) {
    double sum = 0.0;
    for (std::size_t i = from; i < to; ++i) sum += static_cast<double>(x[i]) * x[i];
    return 10.0 * std::log10(sum / static_cast<double>(to - from));
}

}  // namespace

TEST_CASE("reload applies what the file changed, and only that, without a click", "[console][reload]") {
    TempDir dir;
    write_stems(dir);
    const Stereo offline_1 = render_of(dir, version_1, "v1.toml");
    const Stereo offline_2 = render_of(dir, version_2, "v2.toml");

    const std::filesystem::path file = dir / "session.toml";
    test::write_text(file, version_1);
    Player player(Session::load(file), {.threads = 1});
    cli::Console console(player, nullptr);
    cli::SessionReloader reloader(file, {}, false);
    console.set_reloader(&reloader);
    REQUIRE(player.wait_until_buffered(10.0));
    player.play();
    Stereo live;
    run(player, 1.0, live);
    // A change of the console's own, which the file does not touch: it stays.
    CHECK(console.execute("set bus.verb.gain_db -1") == "ok: bus.verb.gain_db = -1\n");

    test::write_text(file, version_2);
    const std::string out = console.execute("reload");
    INFO(out);
    CHECK_THAT(out, Contains("added bus 'echo'"));
    CHECK_THAT(out, Contains("added bus.echo.delay"));
    CHECK_THAT(out, Contains("removed the send from track.keys to bus.verb"));
    CHECK_THAT(out, Contains("added track.keys.insert.1 (compressor)"));
    CHECK_THAT(out, Contains("added a send from track.vox to bus.echo at -10 dB"));
    CHECK_THAT(out, Contains("track.vox.gain_db = 4"));
    CHECK_THAT(out, Contains("bus.verb.reverb.decay_s = 2"));
    CHECK_THAT(out, Contains("new automation of track.keys.pan (2 points)"));
    CHECK_THAT(out, !Contains("bus.verb.gain_db"));
    CHECK_THAT(out, !Contains("track.vox.send.echo.level_db"));  // the new send's own values are its adding
    const std::size_t reloaded_at = live.left.size();

    // The engine holds the new file's mix, and the console's change.
    double v = 0.0;
    CHECK(player.engine().get("track.vox.gain_db", v).ok());
    CHECK(v == 4.0);
    CHECK(player.engine().get("bus.verb.gain_db", v).ok());
    CHECK(v == -1.0);
    CHECK(player.engine().get("bus.verb.reverb.decay_s", v).ok());
    CHECK(v == 2.0);
    CHECK(player.engine().get("track.keys.insert.1.threshold_db", v).ok());
    CHECK(v == -30.0);
    CHECK(player.engine().get("bus.echo.delay.time_ms", v).ok());
    CHECK(v == 150.0);
    REQUIRE(player.engine().inserts("track.keys").size() == 1);
    bool pan_lane = false;
    for (const auto& [path, lane] : player.engine().automation())
        if (path == "track.keys.pan") pan_lane = lane.points.size() == 2 && lane.points[0].value == 0.5;
    CHECK(pan_lane);
    // And the player's session is the new one (what `save` writes from).
    CHECK(player.session().strips().size() == 5);  // master, 2 buses, 2 tracks

    run(player, 2.5, live);
    // No click: no step larger than the music's own, in either version of the file.
    const std::size_t n = std::min({live.left.size(), offline_1.left.size(), offline_2.left.size()});
    const double music = std::max(max_step(offline_1, 0, n), max_step(offline_2, 0, n));
    const double around = max_step(live, reloaded_at - block, n);
    INFO("largest step: " << around << " live after the reload, " << music << " in the renders");
    CHECK(around <= music * 1.02);
    // Once the changes have glided and the first version's reverb has died away, the mix sounds
    // as the second version's render (the reverb bus the console turned down is silent by then).
    const std::size_t end = n, from = n - rate;
    CHECK(rms_db(live.left, from, end) == Approx(rms_db(offline_2.left, from, end)).margin(0.3));
    CHECK(rms_db(live.right, from, end) == Approx(rms_db(offline_2.right, from, end)).margin(0.3));
    CHECK(std::fabs(rms_db(offline_2.left, from, end) - rms_db(offline_1.left, from, end)) > 1.0);  // the versions differ
}

TEST_CASE("a file that does not load, or changes the tracks, leaves the mix as it was", "[console][reload]") {
    TempDir dir;
    write_stems(dir);
    const std::filesystem::path file = dir / "session.toml";
    test::write_text(file, version_1);
    Player player(Session::load(file), {.threads = 1});
    cli::Console console(player, nullptr);
    cli::SessionReloader reloader(file, {"track.vox.pan=0.25"}, false);
    console.set_reloader(&reloader);

    // A mistake: its place in the file, and nothing applied.
    std::string broken = version_2;
    broken.replace(broken.find("gain_db = 4"), 11, "gain_db = loud");
    test::write_text(file, broken);
    std::string out = console.execute("reload");
    CHECK_THAT(out, Contains("session.toml:22:11: TOML syntax"));
    CHECK_THAT(out, Contains("not applied; the mix plays on as it was"));
    double v = 0.0;
    CHECK(player.engine().get("track.vox.gain_db", v).ok());
    CHECK(v == -6.0);

    // A track added: refused, before anything is touched.
    std::string more = version_2;
    more += "\n[[track]]\nname = \"bass\"\nfile = \"stems/vox.wav\"\n";
    test::write_text(file, more);
    out = console.execute("reload");
    CHECK_THAT(out, Contains("track 'bass' was added: tracks cannot change while the mix plays"));
    CHECK(player.engine().get("track.vox.gain_db", v).ok());
    CHECK(v == -6.0);
    CHECK(player.engine().inserts("track.keys").empty());
    CHECK_FALSE(player.engine().get("track.bass.gain_db", v).ok());

    // Fixed: applied, with the override of the command line kept.
    test::write_text(file, version_2);
    out = console.execute("reload");
    CHECK_THAT(out, Contains("track.vox.gain_db = 4"));
    CHECK(player.engine().get("track.vox.pan", v).ok());
    CHECK(v == 0.25);
    // Read again unchanged: nothing to do.
    CHECK_THAT(console.execute("reload"), Contains("nothing changed"));
}

TEST_CASE("watching the file reloads it once a save has settled", "[console][reload]") {
    TempDir dir;
    write_stems(dir);
    const std::filesystem::path file = dir / "session.toml";
    test::write_text(file, version_1);
    Player player(Session::load(file), {.threads = 1});
    cli::Console console(player, nullptr);
    cli::SessionReloader reloader(file, {}, true);
    console.set_reloader(&reloader);
    auto now = std::chrono::steady_clock::now();
    const auto step = std::chrono::milliseconds(100);
    CHECK(console.tick(now).output.empty());

    test::write_text(file, version_2);
    // The first look sees the change; the next one, a look later, finds it settled and applies it.
    now += step;
    CHECK(console.tick(now).output.empty());
    now += step;
    const std::string out = console.tick(now).output;
    CHECK_THAT(out, Contains("track.vox.gain_db = 4"));
    // Touched without a change: nothing.
    std::filesystem::last_write_time(file, std::filesystem::file_time_type::clock::now());
    for (int i = 0; i < 3; ++i) {
        now += step;
        CHECK(console.tick(now).output.empty());
    }
}
