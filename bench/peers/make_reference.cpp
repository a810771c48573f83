// make_reference.cpp - the reference mix of the peer benchmark (bench/peers/run): its stems, and the
// same mix written for each peer from one table of values.
//
// Usage: rtmix_bench_reference OUTDIR [--tracks N] [--seconds S] [--rate HZ] [--block FRAMES]
//
// Writes into OUTDIR:
//   stems/tNNN.wav        N stereo stems, 24-bit WAV, S seconds each, at the rate: drums, bass, pads,
//                         hats, snares and arpeggios (tones and filtered noise under envelopes), a
//                         fixed-seed PRNG per stem, so every run writes the same files
//   session.toml          the mix for rtmix: per track gain, pan, highpass + low shelf + peak + high
//                         shelf, compressor, a post-fader send to the reverb return "verb"; 4 group
//                         buses with a fader and a compressor; the master compressor and limiter
//   ffmpeg-afir.graph     the same mix as an ffmpeg -filter_complex_script; the reverb return is
//                         a convolution (afir) with reverb_ir.wav
//   ffmpeg-aecho.graph    the same, with a multi-tap echo (aecho) for the reverb return instead
//   ffmpeg.inputs         the -i files of both graphs, one a line (input N is reverb_ir.wav)
//   reverb_ir.wav         a stereo impulse response synthesized from the reverb's values (decay,
//                         predelay, damping, width): decorrelated noise under an exponential decay
//   ecasound-builtin.args the mix as ecasound arguments (one a line) with its built-in chain
//                         operators only: what they cannot express is left out (see below)
//   ecasound-ladspa.args  the whole mix in ecasound with LADSPA plugins (swh-plugins) for what the
//                         built-in operators lack: triplePara (shelves, peak), sc4 (compressor),
//                         gverb (reverb), fastLookaheadLimiter
//   reference.txt         what was made (tracks, seconds, rate, block): the run script's stamp
// The ecasound argument files end with the master chain; its output is the word @OUT@, which the
// run script replaces. All paths are relative to OUTDIR: run every peer from there.
//
// Every value is rounded (0.1 dB, whole Hz, 0.01) and printed the same way into every file, so the
// peers get the very same numbers. Units are converted where a peer wants others: ffmpeg's
// compressor takes a linear threshold, makeup and knee (the knee's width in dB is 20 log10(knee)),
// its limiter a linear ceiling; ecasound's panner a balance in percent.

#include <sndfile.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr double pi = std::numbers::pi;

// ------------------------------------------------------------------------------- the mix's values

struct Compressor {
    double threshold_db, ratio, attack_ms, release_ms, makeup_db;
    double knee_db = 6.0;  // rtmix's default, written out so every peer gets it
};

struct Track {
    std::string name;
    int group;  // 0 ... 3
    double gain_db, pan;
    double hp_hz;                  // highpass, 12 dB/oct, Q 0.7071
    double ls_hz, ls_db;           // low shelf, Q 0.7071
    double pk_hz, pk_db, pk_q;     // peak
    double hs_hz, hs_db;           // high shelf, Q 0.7071
    Compressor comp;
    double send_db;                // post-fader send to the reverb return
};

struct Group {
    std::string name;
    double gain_db;
    Compressor comp;
};

struct Reverb {
    double decay_s = 2.0, predelay_ms = 20.0, damping = 0.5, size = 0.7, width = 1.0;
};

struct Master {
    Compressor comp{-12.0, 2.0, 30.0, 200.0, 0.0};
    double ceiling_dbtp = -1.0, limiter_release_ms = 100.0, lookahead_ms = 5.0;
};

struct Mix {
    int rate = 48000, block = 1024;
    double seconds = 30.0;
    std::vector<Track> tracks;
    std::array<Group, 4> groups;
    Reverb reverb;
    Master master;
};

double round_to(double x, double step) { return std::round(x / step) * step; }

// The values of track t (0-based) of n: varied, reproducible, in musically sensible ranges. The
// faders come down by 10 log10(n / 8) dB so that the master's level hardly depends on n.
Track make_track(int t, int n) {
    std::mt19937 rng(static_cast<std::uint32_t>(1000 + t));
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Track k;
    char name[16];
    std::snprintf(name, sizeof name, "t%03d", t + 1);
    k.name = name;
    k.group = t % 4;
    k.gain_db = round_to(-3.0 - 10.0 * std::log10(std::max(n, 1) / 8.0) - 4.0 * u(rng), 0.1);
    k.pan = round_to(0.8 * std::sin(0.7 * t + 0.3), 0.01);
    k.hp_hz = round_to(25.0 + 75.0 * u(rng), 1.0);
    k.ls_hz = round_to(80.0 + 120.0 * u(rng), 1.0);
    k.ls_db = round_to(-3.0 + 6.0 * u(rng), 0.1);
    k.pk_hz = round_to(250.0 * std::pow(16.0, u(rng)), 1.0);  // 250 Hz ... 4 kHz
    k.pk_db = round_to(-4.0 + 8.0 * u(rng), 0.1);
    k.pk_q = round_to(0.7 + 1.3 * u(rng), 0.01);
    k.hs_hz = round_to(6000.0 + 4000.0 * u(rng), 1.0);
    k.hs_db = round_to(-3.0 + 6.0 * u(rng), 0.1);
    k.comp.threshold_db = round_to(-30.0 + 12.0 * u(rng), 0.1);
    k.comp.ratio = round_to(2.0 + 4.0 * u(rng), 0.1);
    k.comp.attack_ms = round_to(2.0 + 18.0 * u(rng), 0.1);
    k.comp.release_ms = round_to(60.0 + 190.0 * u(rng), 1.0);
    k.comp.makeup_db = round_to(4.0 * u(rng), 0.1);
    k.send_db = round_to(-24.0 + 10.0 * u(rng), 0.1);
    return k;
}

Mix make_mix(int tracks, double seconds, int rate, int block) {
    Mix m;
    m.rate = rate;
    m.block = block;
    m.seconds = seconds;
    for (int t = 0; t < tracks; ++t) m.tracks.push_back(make_track(t, tracks));
    const std::array<const char*, 4> names{"drums", "low", "keys", "top"};
    for (int g = 0; g < 4; ++g)
        m.groups[static_cast<std::size_t>(g)] = Group{names[static_cast<std::size_t>(g)], -1.0 * (g % 2),
                                                      Compressor{-18.0 + g, 2.5, 15.0, 150.0, 1.0}};
    return m;
}

// ------------------------------------------------------------------------------- number formats

// One format for every number of every file: the rounded values print exactly.
std::string num(double x) {
    if (x == 0.0) x = 0.0;  // no "-0"
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
}
double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }
// Linear values for ffmpeg, with more digits: they are conversions, not the table's values.
std::string lin(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.8g", x);
    return buf;
}

// rtmix's balance for a stereo strip: turning right attenuates the left side by cos(pan pi/2).
double balance_left(double pan) { return pan > 0.0 ? std::cos(pan * pi / 2.0) : 1.0; }
double balance_right(double pan) { return pan < 0.0 ? std::cos(-pan * pi / 2.0) : 1.0; }

// A peak band's Q as a bandwidth in octaves (RBJ: 1/Q = 2 sinh(ln2/2 BW)).
double q_to_octaves(double q) { return 2.0 / std::log(2.0) * std::asinh(1.0 / (2.0 * q)); }

// ------------------------------------------------------------------------------- rtmix session

std::string comp_toml(const Compressor& c) {
    return "{ threshold_db = " + num(c.threshold_db) + ", ratio = " + num(c.ratio) + ", attack_ms = " +
           num(c.attack_ms) + ", release_ms = " + num(c.release_ms) + ", makeup_db = " + num(c.makeup_db) +
           ", knee_db = " + num(c.knee_db) + " }";
}

std::string session_toml(const Mix& m) {
    std::ostringstream o;
    o << "# The reference mix of the peer benchmark (bench/peers/run), written by rtmix_bench_reference:\n"
      << "# " << m.tracks.size() << " stereo stems of " << num(m.seconds) << " s, 4 group buses, a reverb return.\n"
      << "# ffmpeg-*.graph and ecasound-*.args hold the same mix for the peers.\n\n"
      << "[session]\nsample_rate = " << m.rate << "\nblock_frames = " << m.block << "\n\n";
    for (const Group& g : m.groups)
        o << "[[bus]]\nname = \"" << g.name << "\"\ngain_db = " << num(g.gain_db) << "\ncompressor = "
          << comp_toml(g.comp) << "\n\n";
    const Reverb& r = m.reverb;
    o << "[[bus]]\nname = \"verb\"             # reverb return: wet only\n"
      << "reverb = { decay_s = " << num(r.decay_s) << ", predelay_ms = " << num(r.predelay_ms)
      << ", damping = " << num(r.damping) << ", size = " << num(r.size) << ", width = " << num(r.width)
      << ", mix = 1 }\n\n";
    for (const Track& t : m.tracks) {
        o << "[[track]]\nname = \"" << t.name << "\"\nfile = \"stems/" << t.name << ".wav\"\noutput = \""
          << m.groups[static_cast<std::size_t>(t.group)].name << "\"\ngain_db = " << num(t.gain_db)
          << "\npan = " << num(t.pan) << "\n"
          << "eq = [ { type = \"highpass\", freq_hz = " << num(t.hp_hz) << ", q = 0.7071 },\n"
          << "       { type = \"lowshelf\", freq_hz = " << num(t.ls_hz) << ", gain_db = " << num(t.ls_db)
          << ", q = 0.7071 },\n"
          << "       { type = \"peak\", freq_hz = " << num(t.pk_hz) << ", gain_db = " << num(t.pk_db)
          << ", q = " << num(t.pk_q) << " },\n"
          << "       { type = \"highshelf\", freq_hz = " << num(t.hs_hz) << ", gain_db = " << num(t.hs_db)
          << ", q = 0.7071 } ]\n"
          << "compressor = " << comp_toml(t.comp) << "\n"
          << "sends = [ { bus = \"verb\", level_db = " << num(t.send_db) << " } ]\n\n";
    }
    const Master& ms = m.master;
    o << "[master]\ncompressor = " << comp_toml(ms.comp) << "\n\n"
      << "[master.limiter]\nceiling_dbtp = " << num(ms.ceiling_dbtp) << "\nrelease_ms = "
      << num(ms.limiter_release_ms) << "\nlookahead_ms = " << num(ms.lookahead_ms) << "\n";
    return o.str();
}

// ------------------------------------------------------------------------------- ffmpeg graph

// acompressor with rtmix's compressor values: peak detector on the louder channel (link=maximum),
// threshold and makeup as gains, the knee as the ratio of its ends (its width in dB is 20 log10).
std::string comp_ffmpeg(const Compressor& c) {
    return "acompressor=threshold=" + lin(db_to_gain(c.threshold_db)) + ":ratio=" + num(c.ratio) +
           ":attack=" + num(c.attack_ms) + ":release=" + num(c.release_ms) + ":makeup=" +
           lin(db_to_gain(c.makeup_db)) + ":knee=" + lin(db_to_gain(c.knee_db)) + ":link=maximum:detection=peak";
}

// The reverb return as aecho: 12 taps from the predelay over 70% of the decay time, each tap's gain
// on the reverb's exponential decay (-60 dB at decay_s), wet only (in_gain=0).
std::string aecho_reverb(const Reverb& r) {
    std::string delays, decays;
    double energy = 0.0;
    std::vector<std::pair<double, double>> taps;
    for (int i = 0; i < 12; ++i) {
        const double t_ms = r.predelay_ms + 0.7 * r.decay_s * 1000.0 * std::pow((i + 1) / 12.0, 1.5);
        const double g = std::pow(10.0, -3.0 * t_ms / 1000.0 / r.decay_s);
        taps.emplace_back(round_to(t_ms, 1.0), g);
        energy += g * g;
    }
    for (std::size_t i = 0; i < taps.size(); ++i) {
        if (i > 0) {
            delays += '|';
            decays += '|';
        }
        delays += num(taps[i].first);
        decays += lin(taps[i].second / std::sqrt(energy));  // unity energy gain
    }
    return "aecho=in_gain=0:out_gain=1:delays=" + delays + ":decays=" + decays;
}

// The whole mix. Inputs 0 ... n-1 are the stems, input n the impulse response (afir only).
// Per stem: highpass, low shelf (bass), peak (equalizer), high shelf (treble), compressor, fader
// (volume), balance (pan), then asplit into the group and the post-fader send.
std::string ffmpeg_graph(const Mix& m, bool afir) {
    std::ostringstream o;
    const std::size_t n = m.tracks.size();
    for (std::size_t i = 0; i < n; ++i) {
        const Track& t = m.tracks[i];
        o << "[" << i << ":a]highpass=f=" << num(t.hp_hz) << ":p=2:t=q:w=0.7071"
          << ",bass=f=" << num(t.ls_hz) << ":g=" << num(t.ls_db) << ":t=q:w=0.7071"
          << ",equalizer=f=" << num(t.pk_hz) << ":t=q:w=" << num(t.pk_q) << ":g=" << num(t.pk_db)
          << ",treble=f=" << num(t.hs_hz) << ":g=" << num(t.hs_db) << ":t=q:w=0.7071"
          << "," << comp_ffmpeg(t.comp) << ",volume=" << num(t.gain_db) << "dB"
          << ",pan=stereo|c0=" << lin(balance_left(t.pan)) << "*c0|c1=" << lin(balance_right(t.pan)) << "*c1"
          << ",asplit=2[g" << i << "][s" << i << "];\n"
          << "[s" << i << "]volume=" << num(t.send_db) << "dB[r" << i << "];\n";
    }
    for (int g = 0; g < 4; ++g) {
        std::size_t inputs = 0;
        for (std::size_t i = 0; i < n; ++i)
            if (m.tracks[i].group == g) {
                o << "[g" << i << "]";
                ++inputs;
            }
        const Group& gr = m.groups[static_cast<std::size_t>(g)];
        if (inputs == 0) {  // fewer than 4 tracks: an empty group is silence
            o << "anullsrc=r=" << m.rate << ":cl=stereo,atrim=duration=" << num(m.seconds) << "[G" << g << "];\n";
            continue;
        }
        o << "amix=inputs=" << inputs << ":normalize=0:duration=longest,volume=" << num(gr.gain_db) << "dB,"
          << comp_ffmpeg(gr.comp) << "[G" << g << "];\n";
    }
    for (std::size_t i = 0; i < n; ++i) o << "[r" << i << "]";
    o << "amix=inputs=" << n << ":normalize=0:duration=longest";
    if (afir)
        o << "[vin];\n[vin][" << n << ":a]afir=dry=1:wet=1:gtype=none:irfmt=input[V];\n";
    else
        o << "," << aecho_reverb(m.reverb) << "[V];\n";
    const Master& ms = m.master;
    o << "[G0][G1][G2][G3][V]amix=inputs=5:normalize=0:duration=longest," << comp_ffmpeg(ms.comp)
      << ",alimiter=limit=" << lin(db_to_gain(ms.ceiling_dbtp)) << ":attack=" << num(ms.lookahead_ms)
      << ":release=" << num(ms.limiter_release_ms) << ":level=0:latency=1[out]\n";
    return o.str();
}

// ------------------------------------------------------------------------------- ecasound

// ecasound's panner (-epp) is a linear balance: right% = 50 passes both sides at unity, 100 only
// the right one. rtmix's balance law cos(pan pi/2) for the attenuated side maps onto it exactly.
std::string epp(double pan) {
    const double right = pan >= 0.0 ? 100.0 - 50.0 * balance_left(pan) : 50.0 * balance_right(pan);
    return "-epp:" + lin(right);
}

// sc4 (swh): RMS/peak (1 = peak), attack ms, release ms, threshold dB, ratio, knee radius dB (half
// the knee's width), makeup dB.
std::string sc4(const Compressor& c) {
    return "-el:sc4,1," + num(c.attack_ms) + "," + num(c.release_ms) + "," + num(c.threshold_db) + "," +
           num(c.ratio) + "," + num(c.knee_db / 2.0) + "," + num(c.makeup_db);
}

// ecasound's built-in compressor (-eca, John S. Dyson's): peak level % (69, its default), release
// in s, the fast compressor's "rate" (0.5 is 2:1, 1.0 infinity:1: we give 1 - 1/ratio), and the
// whole chain's rate (0.5 keeps the dynamics). It has no threshold, attack, knee or makeup.
std::string eca(const Compressor& c) {
    return "-eca:69," + num(c.release_ms / 1000.0) + "," + lin(1.0 - 1.0 / c.ratio) + ",0.5";
}

// Appends `item` to the comma-separated `list`.
void append(std::string& list, const std::string& item) {
    if (!list.empty()) list += ',';
    list += item;
}

// The mix as ecasound arguments, one a line. Chains: one per stem (stem -> loop "tNNN"); from that
// loop one chain to its group's loop and one with the send level to the reverb's loop (a chain has
// one output, so a split is two chains on one loop input); one chain per group (group loop ->
// master loop); the reverb chain (-> master loop); the master chain (-> the file @OUT@). Loops sum
// their writers (-z:mixmode,sum).
std::string ecasound_args(const Mix& m, bool ladspa) {
    std::ostringstream o;
    auto arg = [&](const std::string& a) { o << a << "\n"; };
    arg("-q");
    arg("-z:mixmode,sum");
    arg("-z:nodb");  // no double buffering: no disk I/O thread, the engine does it
    arg("-b:" + std::to_string(m.block));
    arg("-t:" + num(m.seconds));
    for (const Track& t : m.tracks) {
        arg("-a:" + t.name);
        arg("-i:stems/" + t.name + ".wav");
        arg("-efh:" + num(t.hp_hz));
        if (ladspa) {
            // triplePara: low shelf (gain, Hz, slope 1 = Q 0.7071), three peak bands (gain, Hz,
            // octaves: band 1 is ours, bands 2 and 3 flat), high shelf (gain, Hz, slope).
            arg("-el:triplePara," + num(t.ls_db) + "," + num(t.ls_hz) + ",1," + num(t.pk_db) + "," + num(t.pk_hz) +
                "," + lin(q_to_octaves(t.pk_q)) + ",0,1000,1,0,4000,1," + num(t.hs_db) + "," + num(t.hs_hz) + ",1");
            arg(sc4(t.comp));
        } else {
            arg(eca(t.comp));
        }
        arg("-eadb:" + num(t.gain_db));
        arg(epp(t.pan));
        arg("-o:loop," + t.name);
        arg("-a:" + t.name + "_g," + t.name + "_s");
        arg("-i:loop," + t.name);
        arg("-a:" + t.name + "_s");
        arg("-eadb:" + num(t.send_db));
    }
    for (int g = 0; g < 4; ++g) {  // each group's loop: one output object shared by its chains
        std::string chains;
        for (const Track& t : m.tracks)
            if (t.group == g) append(chains, t.name + "_g");
        if (chains.empty()) continue;
        arg("-a:" + chains);
        arg("-o:loop,group" + std::to_string(g));
    }
    std::string sends;
    for (const Track& t : m.tracks) append(sends, t.name + "_s");
    arg("-a:" + sends);
    arg("-o:loop,verb");
    std::string to_master;
    for (int g = 0; g < 4; ++g) {
        const bool used = std::any_of(m.tracks.begin(), m.tracks.end(), [&](const Track& t) { return t.group == g; });
        if (!used) continue;
        const Group& gr = m.groups[static_cast<std::size_t>(g)];
        const std::string chain = "bus_" + gr.name;
        to_master += chain + ",";
        arg("-a:" + chain);
        arg("-i:loop,group" + std::to_string(g));
        arg("-eadb:" + num(gr.gain_db));
        arg(ladspa ? sc4(gr.comp) : eca(gr.comp));
    }
    const Reverb& r = m.reverb;
    arg("-a:bus_verb");
    arg("-i:loop,verb");
    if (ladspa) {
        // gverb: mono in, stereo out: the return's two sides summed into channel 1 first. Room
        // size (m), reverb time (s), damping, input bandwidth, dry (-70 dB: off), early
        // reflections and tail (dB).
        arg("-chmix:1");
        arg("-el:gverb," + num(10.0 + 40.0 * r.size) + "," + num(r.decay_s) + "," + num(r.damping) +
            ",0.75,-70,-12,-6");
    } else {
        // -ete: Stefan M. Fendt's reverb: room size (m), feedback %, wet %.
        arg("-ete:" + num(10.0 + 40.0 * r.size) + ",50,100");
    }
    to_master += "bus_verb";
    arg("-a:" + to_master);
    arg("-o:loop,master");
    const Master& ms = m.master;
    arg("-a:master");
    arg("-i:loop,master");
    if (ladspa) {
        arg(sc4(ms.comp));
        // fastLookaheadLimiter: input gain dB, limit dB, release s (its lookahead is fixed).
        arg("-el:fastLookaheadLimiter,0," + num(ms.ceiling_dbtp) + "," + num(ms.limiter_release_ms / 1000.0));
    } else {
        arg(eca(ms.comp));
        arg("-eal:" + lin(100.0 * db_to_gain(ms.ceiling_dbtp)));  // an instant limiter, no lookahead
    }
    arg("-f:s24_le,2," + std::to_string(m.rate));
    arg("-o:@OUT@");
    return o.str();
}

// ------------------------------------------------------------------------------- stems

// One stem's instrument, by track number: a mix of drums, bass, pads, hats, snares and arpeggios.
enum class Voice { kick, bass, pad, hats, snare, arp };

struct Synth {
    int rate;
    std::size_t frames;
    std::mt19937 rng;
    std::vector<double> l, r;

    Synth(int sample_rate, double seconds, std::uint32_t seed)
        : rate(sample_rate), frames(static_cast<std::size_t>(std::llround(seconds * sample_rate))), rng(seed),
          l(frames, 0.0), r(frames, 0.0) {}

    double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }
    double noise() { return std::normal_distribution<double>(0.0, 1.0)(rng); }
    static double midi_hz(double note) { return 440.0 * std::pow(2.0, (note - 69.0) / 12.0); }

    // Adds a sound starting at `start` s, `length` s long, one sample at a time from `sample(t, i)`
    // returning left and right; `i` counts from the sound's start.
    template <class F>
    void add(double start, double length, F sample) {
        const auto s0 = static_cast<std::size_t>(std::max(0.0, start) * rate);
        const auto len = static_cast<std::size_t>(length * rate);
        for (std::size_t i = 0; i < len && s0 + i < frames; ++i) {
            const auto [a, b] = sample(static_cast<double>(i) / rate, i);
            l[s0 + i] += a;
            r[s0 + i] += b;
        }
    }
};

constexpr std::array<int, 7> kScale{0, 2, 3, 5, 7, 8, 10};  // natural minor

void play(Synth& s, Voice v, double bpm) {
    const double beat = 60.0 / bpm, total = static_cast<double>(s.frames) / s.rate;
    const int root = 45 + static_cast<int>(s.uniform(0.0, 5.0));  // A2 ... C#3
    switch (v) {
        case Voice::kick:  // a sine falling from 150 to 50 Hz with a click, on every beat
            for (double t0 = 0.0; t0 < total; t0 += beat) {
                const double vel = s.uniform(0.8, 1.0);
                double phase = 0.0;
                s.add(t0, 0.45, [&](double t, std::size_t) {
                    phase += 2.0 * pi * (50.0 + 100.0 * std::exp(-t / 0.03)) / s.rate;
                    const double x = vel * (std::sin(phase) * std::exp(-t / 0.12) + 0.3 * s.noise() * std::exp(-t / 0.004));
                    return std::pair{x, x};
                });
            }
            break;
        case Voice::snare:  // noise through a resonator plus a 190 Hz body, beats 2 and 4
            for (double t0 = beat; t0 < total; t0 += 2.0 * beat) {
                double bl = 0.0, br = 0.0, hl = 0.0, hr = 0.0;
                const double vel = s.uniform(0.7, 1.0);
                s.add(t0, 0.3, [&](double t, std::size_t) {
                    const double nl = s.noise(), nr = s.noise();
                    bl += 0.35 * (nl - bl);  // one-pole lowpass, then subtract it: bright noise
                    br += 0.35 * (nr - br);
                    hl = nl - bl;
                    hr = nr - br;
                    const double env = std::exp(-t / 0.06), body = 0.8 * std::sin(2.0 * pi * 190.0 * t) * std::exp(-t / 0.05);
                    return std::pair{vel * (0.5 * hl * env + body), vel * (0.5 * hr * env + body)};
                });
            }
            break;
        case Voice::hats: {  // highpassed noise bursts on sixteenths, accents on the off-beats
            double lpl = 0.0, lpr = 0.0;
            int step = 0;
            for (double t0 = 0.0; t0 < total; t0 += beat / 4.0, ++step) {
                const double acc = (step % 4 == 2 ? 1.0 : 0.45) * s.uniform(0.8, 1.0);
                const double decay = step % 16 == 14 ? 0.12 : 0.025;  // an open hat now and then
                s.add(t0, 5.0 * decay, [&](double t, std::size_t) {
                    const double nl = s.noise(), nr = s.noise();
                    lpl += 0.6 * (nl - lpl);
                    lpr += 0.6 * (nr - lpr);
                    const double env = acc * std::exp(-t / decay);
                    return std::pair{0.4 * (nl - lpl) * env, 0.4 * (nr - lpr) * env};
                });
            }
            break;
        }
        case Voice::bass: {  // a filtered saw on eighths, following the scale
            int step = 0;
            for (double t0 = 0.0; t0 < total; t0 += beat / 2.0, ++step) {
                const int degree = (step / 8) % 4 == 3 ? 4 : ((step / 8) % 4) * 2;
                const double f = Synth::midi_hz(root - 12 + kScale[static_cast<std::size_t>(degree % 7)] + (step % 4 == 3 ? 12 : 0));
                double ph = 0.0, lp = 0.0;
                s.add(t0, beat / 2.0 * 0.9, [&](double t, std::size_t) {
                    ph += f / s.rate;
                    ph -= std::floor(ph);
                    const double cutoff = 0.02 + 0.2 * std::exp(-t / 0.08);
                    lp += cutoff * ((2.0 * ph - 1.0) - lp);
                    const double x = 0.8 * lp * std::min(1.0, t / 0.005) * std::exp(-t / 0.4);
                    return std::pair{x, x};
                });
            }
            break;
        }
        case Voice::pad: {  // three-note chords of detuned sines, swelling over two bars, with airy noise
            for (double t0 = 0.0; t0 < total; t0 += 8.0 * beat) {
                const int deg = static_cast<int>(s.uniform(0.0, 7.0));
                std::array<double, 3> f{};
                for (std::size_t k = 0; k < 3; ++k)
                    f[k] = Synth::midi_hz(root + 12 + kScale[static_cast<std::size_t>((deg + 2 * static_cast<int>(k)) % 7)]);
                const double len = 8.0 * beat;
                double nl = 0.0, nr = 0.0;
                s.add(t0, len, [&](double t, std::size_t) {
                    double a = 0.0, b = 0.0;
                    for (std::size_t k = 0; k < 3; ++k) {
                        a += std::sin(2.0 * pi * f[k] * 0.998 * t);
                        b += std::sin(2.0 * pi * f[k] * 1.002 * t);
                    }
                    nl += 0.01 * (s.noise() - nl);  // dark noise
                    nr += 0.01 * (s.noise() - nr);
                    const double env = std::sin(pi * t / len);
                    return std::pair{env * (0.2 * a + 2.0 * nl), env * (0.2 * b + 2.0 * nr)};
                });
            }
            break;
        }
        case Voice::arp: {  // plucked sixteenths up and down the scale, the right side 7 ms late
            int step = 0;
            for (double t0 = 0.0; t0 < total; t0 += beat / 4.0, ++step) {
                const int idx = step % 8 < 4 ? step % 8 : 8 - step % 8;
                const double f = Synth::midi_hz(root + 24 + kScale[static_cast<std::size_t>((idx * 2) % 7)] + 12 * (idx / 4));
                const double vel = s.uniform(0.6, 1.0);
                auto tone = [&](double t) {
                    return vel * std::exp(-t / 0.09) * (std::sin(2.0 * pi * f * t) + 0.3 * std::sin(4.0 * pi * f * t));
                };
                s.add(t0, 0.4, [&](double t, std::size_t) { return std::pair{0.6 * tone(t), t > 0.007 ? 0.6 * tone(t - 0.007) : 0.0}; });
            }
            break;
        }
    }
}

// Scales the stem to a -6 dBFS peak and fades its last 10 ms, so the stems share a level.
void normalize(Synth& s) {
    double peak = 1e-12;
    for (std::size_t i = 0; i < s.frames; ++i) peak = std::max({peak, std::fabs(s.l[i]), std::fabs(s.r[i])});
    const double gain = db_to_gain(-6.0) / peak;
    const std::size_t fade = static_cast<std::size_t>(0.01 * s.rate);
    for (std::size_t i = 0; i < s.frames; ++i) {
        const std::size_t left = s.frames - i;
        const double g = gain * (left < fade ? static_cast<double>(left) / static_cast<double>(fade) : 1.0);
        s.l[i] *= g;
        s.r[i] *= g;
    }
}

// ------------------------------------------------------------------------------- the reverb's IR

// The reverb return as an impulse response for ffmpeg's afir: silence for the predelay, then
// Gaussian noise (independent per side at width 1) decaying by 60 dB over decay_s; damping makes
// the highs die faster (their decay time is (1 - 0.6 damping) decay_s), as in an FDN with damped
// feedback. Scaled to unity energy gain.
void make_ir(const Reverb& r, int rate, std::vector<float>& interleaved, std::size_t& frames) {
    const std::size_t pre = static_cast<std::size_t>(r.predelay_ms * 1e-3 * rate);
    const std::size_t tail = static_cast<std::size_t>(1.1 * r.decay_s * rate);
    frames = pre + tail;
    interleaved.assign(frames * 2, 0.0f);
    std::mt19937 rng(77);
    std::normal_distribution<double> g(0.0, 1.0);
    const double hi_decay = (1.0 - 0.6 * r.damping) * r.decay_s;
    std::array<double, 2> lp{0.0, 0.0};
    std::array<double, 2> energy{0.0, 0.0};
    std::vector<double> h(frames * 2, 0.0);
    for (std::size_t i = 0; i < tail; ++i) {
        const double t = static_cast<double>(i) / rate;
        const double common = g(rng);
        for (std::size_t c = 0; c < 2; ++c) {
            const double x = r.width * g(rng) + (1.0 - r.width) * common;
            lp[c] += 0.15 * (x - lp[c]);  // lows below about 1.2 kHz at 48 kHz
            const double v = lp[c] * std::pow(10.0, -3.0 * t / r.decay_s) + (x - lp[c]) * std::pow(10.0, -3.0 * t / hi_decay);
            h[(pre + i) * 2 + c] = v;
            energy[c] += v * v;
        }
    }
    for (std::size_t i = 0; i < frames; ++i)
        for (std::size_t c = 0; c < 2; ++c) interleaved[i * 2 + c] = static_cast<float>(h[i * 2 + c] / std::sqrt(energy[c]));
}

// ------------------------------------------------------------------------------- files

bool fail(const std::string& what, const fs::path& path, const std::string& reason) {
    std::fprintf(stderr, "rtmix_bench_reference: %s '%s': %s\n", what.c_str(), path.string().c_str(), reason.c_str());
    return false;
}

// Writes interleaved stereo to `path` (aside, then renamed into place).
bool write_wav(const fs::path& path, const std::vector<float>& interleaved, std::size_t frames, int rate, int format) {
    fs::path tmp = path;
    tmp += ".tmp";
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = 2;
    info.format = format;
    SNDFILE* file = sf_open(tmp.string().c_str(), SFM_WRITE, &info);
    if (file == nullptr) return fail("cannot write", tmp, sf_strerror(nullptr));
    const auto count = static_cast<sf_count_t>(frames);
    const bool written = sf_writef_float(file, interleaved.data(), count) == count;
    const std::string reason = sf_strerror(file);
    std::error_code ec;
    if (sf_close(file) != 0 || !written) {
        fs::remove(tmp, ec);
        return fail("cannot write", tmp, reason);
    }
    fs::rename(tmp, path, ec);
    if (ec) return fail("cannot rename", tmp, ec.message());
    return true;
}

bool write_text(const fs::path& path, const std::string& text) {
    fs::path tmp = path;
    tmp += ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << text;
        if (!f.good()) return fail("cannot write", tmp, "write error");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return fail("cannot rename", tmp, ec.message());
    return true;
}

int usage() {
    std::fprintf(stderr,
                 "usage: rtmix_bench_reference OUTDIR [--tracks N] [--seconds S] [--rate HZ] [--block FRAMES]\n"
                 "  defaults: 32 tracks, 30 s, 48000 Hz, 1024 frames per block\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') return usage();
    const fs::path dir = argv[1];
    int tracks = 32, rate = 48000, block = 1024;
    double seconds = 30.0;
    for (int i = 2; i < argc; i += 2) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        char* end = nullptr;
        const double v = std::strtod(argv[i + 1], &end);
        if (end == argv[i + 1] || *end != '\0') {
            std::fprintf(stderr, "rtmix_bench_reference: %s %s: expected a number\n", argv[i], argv[i + 1]);
            return 2;
        }
        if (a == "--tracks") tracks = static_cast<int>(v);
        else if (a == "--seconds") seconds = v;
        else if (a == "--rate") rate = static_cast<int>(v);
        else if (a == "--block") block = static_cast<int>(v);
        else return usage();
    }
    if (tracks < 1 || tracks > 1024 || seconds < 1.0 || seconds > 3600.0 || rate < 8000 || rate > 192000 || block < 1 ||
        block > 8192 || (block & (block - 1)) != 0) {
        std::fprintf(stderr, "rtmix_bench_reference: expected 1 ... 1024 tracks, 1 ... 3600 s, 8000 ... 192000 Hz, "
                             "a power of 2 up to 8192 frames per block\n");
        return 2;
    }

    std::error_code ec;
    fs::create_directories(dir / "stems", ec);
    if (ec) return fail("cannot create directory", dir / "stems", ec.message()), 1;
    fs::remove(dir / "reference.txt", ec);  // the stamp goes last: an interrupted run leaves none

    const Mix mix = make_mix(tracks, seconds, rate, block);
    constexpr std::array<Voice, 6> voices{Voice::kick, Voice::bass, Voice::pad, Voice::hats, Voice::snare, Voice::arp};
    std::vector<float> buf;
    for (int t = 0; t < tracks; ++t) {
        Synth s(rate, seconds, static_cast<std::uint32_t>(17 + t));
        play(s, voices[static_cast<std::size_t>(t) % voices.size()], 112.0 + 4.0 * (t % 3));
        normalize(s);
        buf.resize(s.frames * 2);
        for (std::size_t i = 0; i < s.frames; ++i) {
            buf[2 * i] = static_cast<float>(s.l[i]);
            buf[2 * i + 1] = static_cast<float>(s.r[i]);
        }
        const fs::path stem = dir / "stems" / (mix.tracks[static_cast<std::size_t>(t)].name + ".wav");
        if (!write_wav(stem, buf, s.frames, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_24)) return 1;
    }

    std::size_t ir_frames = 0;
    make_ir(mix.reverb, rate, buf, ir_frames);
    if (!write_wav(dir / "reverb_ir.wav", buf, ir_frames, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT)) return 1;

    std::string inputs;
    for (const Track& t : mix.tracks) inputs += "stems/" + t.name + ".wav\n";
    inputs += "reverb_ir.wav\n";
    const std::string stamp = "tracks " + std::to_string(tracks) + "\nseconds " + num(seconds) + "\nrate " +
                              std::to_string(rate) + "\nblock " + std::to_string(block) + "\n";
    if (!write_text(dir / "session.toml", session_toml(mix)) ||
        !write_text(dir / "ffmpeg-afir.graph", ffmpeg_graph(mix, true)) ||
        !write_text(dir / "ffmpeg-aecho.graph", ffmpeg_graph(mix, false)) ||
        !write_text(dir / "ffmpeg.inputs", inputs) ||
        !write_text(dir / "ecasound-builtin.args", ecasound_args(mix, false)) ||
        !write_text(dir / "ecasound-ladspa.args", ecasound_args(mix, true)) ||
        !write_text(dir / "reference.txt", stamp))
        return 1;
    std::printf("%d stereo stems of %s s at %d Hz, the session and the peers' graphs in %s\n", tracks,
                num(seconds).c_str(), rate, dir.string().c_str());
    return 0;
}
