// make_stems.cpp - synthesizes the stems of the rtmix demo song.
//
// Usage: rtmix_demo_stems OUTDIR
//
// The song is 16 bars of 4/4 at 120 BPM in A minor (Am-F-C-G), about 34 s:
//   bars 1-2    intro: pad and arpeggio, the arpeggio's filter opening up
//   bars 3-8    drums and bass enter
//   bars 9-15   the lead plays the melody (its stem starts at bar 9, 16 s)
//   bar 16      a final A minor chord that rings out
// Every instrument is rendered into its own stem, normalized to -6 dBFS and written with
// libsndfile; session.toml mixes the stems with rtmix. The only randomness (humanised timing and
// velocity, noise) comes from a fixed-seed PRNG, so every run writes the same files.

#include <sndfile.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------- the song

constexpr double kBpm = 120.0;
constexpr int kStepsPerBar = 16;               // we count in sixteenth notes
constexpr double kStep = 60.0 / kBpm / 4.0;    // one sixteenth, in seconds
constexpr double kBar = kStep * kStepsPerBar;  // 2 s
constexpr int kBars = 16;
constexpr int kDrumsFirstBar = 3;
constexpr int kLeadFirstBar = 9;
constexpr double kLeadStart = (kLeadFirstBar - 1) * kBar;  // 16 s: offset_ms in session.toml

// Start time in seconds of sixteenth `step` of `bar` (bars count from 1, like a score).
constexpr double at(int bar, double step) { return ((bar - 1) * kStepsPerBar + step) * kStep; }

struct Chord {
    int root;                    // bass note (MIDI)
    std::array<int, 3> voicing;  // close voicing around middle C, voice-led
};
constexpr Chord kAm{33, {57, 60, 64}};  // A1 | A3 C4 E4
constexpr Chord kF{29, {57, 60, 65}};   // F1 | A3 C4 F4
constexpr Chord kC{36, {55, 60, 64}};   // C2 | G3 C4 E4
constexpr Chord kG{31, {55, 59, 62}};   // G1 | G3 B3 D4
// One chord per bar; the last phrase cadences F-G-Am.
constexpr std::array<Chord, kBars> kProgression{kAm, kF, kC, kG, kAm, kF, kC, kG,
                                                 kAm, kF, kC, kG, kAm, kF, kG, kAm};
const Chord& chord_at(int bar) { return kProgression[bar - 1]; }

// Drum patterns, one character per sixteenth: x = hit, g = ghost note, o = open hi-hat,
// . = rest. Odd and even bars alternate so the groove spans two bars: the kick plays 1 and 3
// plus syncopated pushes, the snare 2 and 4.
constexpr std::array<std::string_view, 2> kKick{"x.......x.x.....", "x..x....x.....x."};
constexpr std::array<std::string_view, 2> kSnare{"....x.......x...", "....x..g....x..g"};
constexpr std::string_view kSnareFill{"....x.......xxxx"};  // ends each 8-bar phrase
constexpr std::array<std::string_view, 2> kHats{"xxxxxxxxxxxxxxxx", "xxxxxxxxxxxxxxo."};
constexpr std::array<double, 4> kHatAccent{0.75, 0.40, 1.00, 0.45};  // the off-beat leads

// The bass riff over each chord's root: {step, length in steps, interval in semitones}.
struct BassHit { int step, len, interval; };
constexpr std::array<BassHit, 6> kBassRiff{
    {{0, 3, 0}, {3, 2, 0}, {6, 2, 12}, {8, 3, 0}, {11, 2, 0}, {14, 2, 7}}};

// The arpeggio walks up and down the chord (3 = the root an octave up).
constexpr std::array<int, 16> kArpOrder{0, 1, 2, 3, 2, 1, 0, 1, 0, 1, 2, 3, 2, 3, 1, 2};

// The melody: a four-bar question and a four-bar answer that comes home to A.
enum Pitch : int { G4 = 67, A4 = 69, B4 = 71, C5 = 72, D5 = 74, E5 = 76, F5 = 77, G5 = 79, A5 = 81 };
struct Note { int bar, step, len, pitch; };  // length in sixteenths
constexpr std::array kMelody = std::to_array<Note>({
    {9, 0, 2, A4},  {9, 2, 2, C5},  {9, 4, 6, E5},  {9, 10, 2, D5},  {9, 12, 4, C5},
    {10, 0, 6, A4}, {10, 6, 2, C5}, {10, 8, 4, D5}, {10, 12, 2, C5}, {10, 14, 2, A4},
    {11, 0, 4, G4}, {11, 4, 2, C5}, {11, 6, 4, E5}, {11, 10, 2, G5}, {11, 12, 4, E5},
    {12, 0, 8, D5}, {12, 8, 4, B4},  // a breath before the answer
    {13, 0, 2, E5}, {13, 2, 2, G5}, {13, 4, 6, A5}, {13, 10, 2, G5}, {13, 12, 4, E5},
    {14, 0, 4, F5}, {14, 4, 2, E5}, {14, 6, 2, C5}, {14, 8, 6, A4},  {14, 14, 2, C5},
    {15, 0, 4, B4}, {15, 4, 4, D5}, {15, 8, 2, C5}, {15, 10, 2, B4}, {15, 12, 4, G4},
    {16, 0, 16, A4},
});

// ------------------------------------------------------------------------------ DSP pieces

double midi_hz(double note) { return 440.0 * std::exp2((note - 69.0) / 12.0); }

// xorshift64*: a tiny, fast PRNG; a fixed seed makes every run identical.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    double uniform() {  // [0, 1)
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        return static_cast<double>((state_ * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
    }
    double bipolar() { return 2.0 * uniform() - 1.0; }  // white noise in [-1, 1)
    double vary(double amount) { return amount * bipolar(); }  // humanisation: +-amount

private:
    std::uint64_t state_;
};

// PolyBLEP: a naive waveform's jumps are rounded off over one sample on each side with a
// polynomial, which removes most of the audible aliasing.
double poly_blep(double t, double dt) {
    if (t < dt) {
        t /= dt;
        return t + t - t * t - 1.0;
    }
    if (t > 1.0 - dt) {
        t = (t - 1.0) / dt;
        return t * t + t + t + 1.0;
    }
    return 0.0;
}

// An oscillator with its own phase (0..1): band-limited saw and pulse, and a sine.
class Osc {
public:
    explicit Osc(double phase = 0.0) : phase_(phase) {}
    double saw(double hz, double rate) {
        const double dt = hz / rate;
        const double out = 2.0 * phase_ - 1.0 - poly_blep(phase_, dt);
        advance(dt);
        return out;
    }
    double pulse(double hz, double rate, double width) {
        const double dt = hz / rate;
        double out = phase_ < width ? 1.0 : -1.0;
        out += poly_blep(phase_, dt);                                // rising edge
        out -= poly_blep(std::fmod(phase_ + 1.0 - width, 1.0), dt);  // falling edge
        advance(dt);
        return out - (2.0 * width - 1.0);  // without the DC of an uneven pulse
    }
    double sine(double hz, double rate) {
        const double out = std::sin(2.0 * std::numbers::pi * phase_);
        advance(hz / rate);
        return out;
    }

private:
    void advance(double dt) {
        phase_ += dt;
        phase_ -= std::floor(phase_);
    }
    double phase_;
};

// State-variable filter (trapezoidal, after Zavalishin and Simper): it stays stable and smooth
// when the cutoff moves every sample. Returns the low-, band- and high-pass outputs.
class Svf {
public:
    struct Out { double low, band, high; };
    Out tick(double x, double cutoff, double q, double rate) {
        const double g = std::tan(std::numbers::pi * std::min(cutoff, 0.45 * rate) / rate);
        const double k = 1.0 / q;
        const double a1 = 1.0 / (1.0 + g * (g + k));
        const double v3 = x - ic2_;
        const double v1 = a1 * ic1_ + g * a1 * v3;
        const double v2 = ic2_ + g * v1;
        ic1_ = 2.0 * v1 - ic1_;
        ic2_ = 2.0 * v2 - ic2_;
        return {v2, v1, x - k * v1 - v2};
    }

private:
    double ic1_ = 0.0, ic2_ = 0.0;
};

// ADSR envelope at time t after note-on, for a key held `gate` seconds: a linear attack, then
// exponential decay and release (the times are time constants).
struct Adsr {
    double attack, decay, sustain, release;
    double operator()(double t, double gate) const {
        const double held = std::min(t, gate);
        double level = held < attack ? held / attack
                                     : sustain + (1.0 - sustain) * std::exp(-(held - attack) / decay);
        if (t > gate) level *= std::exp(-(t - gate) / release);
        return level;
    }
    double length(double gate) const { return gate + 7.0 * release; }  // down to about -60 dB
};

// A stem: its file name and format, and one buffer per channel.
struct Stem {
    std::string name;
    int rate;
    int format;  // libsndfile SF_FORMAT_* flags
    std::vector<std::vector<double>> channels;

    Stem(std::string file_name, int sample_rate, int sf_format, int channel_count, double seconds)
        : name(std::move(file_name)), rate(sample_rate), format(sf_format),
          channels(channel_count, std::vector<double>(static_cast<std::size_t>(seconds * sample_rate))) {}
    std::vector<double>& mono() { return channels[0]; }
    std::size_t frames() const { return channels[0].size(); }
};

// Calls fn(i, t) for each sample index i of `stem` from `start` seconds on for `dur` seconds;
// t is the time since `start`. The instruments add their sound into the buffers.
template <class Fn>
void for_samples(const Stem& stem, double start, double dur, Fn&& fn) {
    const auto first = static_cast<std::size_t>(std::max(0.0, std::ceil(start * stem.rate)));
    const auto end = std::min(stem.frames(), static_cast<std::size_t>(std::ceil((start + dur) * stem.rate)));
    for (std::size_t i = first; i < end; ++i) fn(i, static_cast<double>(i) / stem.rate - start);
}

// ----------------------------------------------------------------------------- instruments

// Kick: a sine whose pitch falls from 150 Hz to 48 Hz within a few tens of milliseconds, plus a
// 2 ms noise click for the beater; tanh saturation adds punch.
void kick(Stem& s, double start, double vel, Rng& rng) {
    Osc body;
    for_samples(s, start, 1.2, [&](std::size_t i, double t) {
        const double hz = 48.0 + 102.0 * std::exp(-t / 0.03);
        const double tone = std::tanh(1.8 * body.sine(hz, s.rate)) * std::exp(-t / 0.15);
        const double click = 0.4 * rng.bipolar() * std::exp(-t / 0.0015);
        s.mono()[i] += vel * (tone + click);
    });
}

// Snare: two decaying sine modes for the shell, plus noise through a broad band-pass around
// 3.5 kHz for the wires.
void snare(Stem& s, double start, double vel, Rng& rng) {
    Osc low, high;
    Svf wires;
    for_samples(s, start, 0.65, [&](std::size_t i, double t) {
        const double shell = (0.7 * low.sine(185.0, s.rate) + 0.35 * high.sine(330.0, s.rate)) * std::exp(-t / 0.05);
        const double noise = wires.tick(rng.bipolar(), 3500.0, 0.5, s.rate).band * std::exp(-t / 0.08);
        s.mono()[i] += vel * (shell + 0.8 * noise);
    });
}

// Hi-hat: noise through a high-pass near 7 kHz plus a resonant band near 10.5 kHz for sheen.
// It stops after `dur` with a 5 ms fade: that is how the next hit chokes an open hat.
void hat(Stem& s, double start, double vel, double decay, double dur, Rng& rng) {
    Svf hp, bp;
    for_samples(s, start, dur, [&](std::size_t i, double t) {
        const double n = rng.bipolar();
        const double metal = hp.tick(n, 7000.0, 0.9, s.rate).high + 0.6 * bp.tick(n, 10500.0, 2.0, s.rate).band;
        const double choke = std::min(1.0, (dur - t) / 0.005);
        s.mono()[i] += vel * metal * std::exp(-t / decay) * choke;
    });
}

// Bass: two slightly detuned saws through a resonant low-pass whose cutoff jumps up with each
// note and closes within ~100 ms (harder notes open it further), then a soft clip.
void bass_note(Stem& s, double start, double gate, int pitch, double vel, Rng& rng) {
    const Adsr amp{0.004, 0.25, 0.6, 0.03};
    const double hz = midi_hz(pitch);
    Osc a(rng.uniform()), b(rng.uniform());
    Svf lp;
    for_samples(s, start, amp.length(gate), [&](std::size_t i, double t) {
        const double x = 0.5 * (a.saw(hz * 1.003, s.rate) + b.saw(hz / 1.003, s.rate));
        const double cutoff = 110.0 + 1700.0 * vel * std::exp(-t / 0.09);
        s.mono()[i] += std::tanh(1.5 * vel * amp(t, gate) * lp.tick(x, cutoff, 1.6, s.rate).low);
    });
}

// Pad: each chord tone is three saws, one centred and two detuned by +-8 cents; the sharp one
// goes left and the flat one right, which makes the pad wide. A low-pass per side opens and
// closes with the amplitude envelope.
void pad_chord(Stem& s, double start, double gate, const Adsr& env, const Chord& chord, Rng& rng) {
    const double detune = std::exp2(8.0 / 1200.0);
    for (const int note : chord.voicing) {
        const double hz = midi_hz(note);
        Osc centre(rng.uniform()), sharp(rng.uniform()), flat(rng.uniform());
        Svf left, right;
        for_samples(s, start, env.length(gate), [&](std::size_t i, double t) {
            const double e = env(t, gate);
            const double c = 0.6 * centre.saw(hz, s.rate);
            const double cutoff = 600.0 + 2000.0 * e;
            s.channels[0][i] += 0.3 * e * left.tick(c + sharp.saw(hz * detune, s.rate), cutoff, 0.8, s.rate).low;
            s.channels[1][i] += 0.3 * e * right.tick(c + flat.saw(hz / detune, s.rate), cutoff, 0.8, s.rate).low;
        });
    }
}

// Arp pluck: a narrow pulse through a low-pass that snaps shut in ~60 ms, with a short
// exponential decay. `bright` is the depth of the filter envelope.
void pluck(Stem& s, double start, int pitch, double vel, double bright) {
    const double hz = midi_hz(pitch);
    Osc osc;
    Svf lp;
    for_samples(s, start, 0.9, [&](std::size_t i, double t) {
        const double env = std::min(1.0, t / 0.002) * std::exp(-t / 0.12);
        const double cutoff = 300.0 + bright * std::exp(-t / 0.06);
        s.mono()[i] += vel * env * lp.tick(osc.pulse(hz, s.rate, 0.3), cutoff, 1.2, s.rate).low;
    });
}

// Lead: two detuned saws and a square an octave down. The pitch glides from the previous note
// (portamento), vibrato fades in after 200 ms, and a low-pass follows the amplitude envelope.
void lead_note(Stem& s, double start, double gate, double from, int pitch, double vel) {
    const Adsr amp{0.012, 0.3, 0.75, 0.12};
    Osc a, b(0.33), sub(0.5), vibrato;
    Svf lp;
    for_samples(s, start, amp.length(gate), [&](std::size_t i, double t) {
        const double glide = pitch + (from - pitch) * std::exp(-t / 0.03);
        const double depth = 0.25 * std::clamp((t - 0.2) / 0.3, 0.0, 1.0);  // semitones
        const double hz = midi_hz(glide + depth * vibrato.sine(5.5, s.rate));
        const double x = a.saw(hz * 1.002, s.rate) + b.saw(hz / 1.002, s.rate) + 0.5 * sub.pulse(hz / 2, s.rate, 0.5);
        const double e = amp(t, gate);
        s.mono()[i] += vel * e * lp.tick(x, 900.0 + 3500.0 * e, 0.9, s.rate).low;
    });
}

// ------------------------------------------------------------------------------- the parts

void play_drums(Stem& kicks, Stem& snares, Stem& hats) {
    Rng rng(0xD2D5'0001);
    const auto human = [&] { return rng.vary(0.003); };  // +-3 ms
    struct HatHit { double time, vel; bool open; };
    std::vector<HatHit> hat_hits;

    for (int bar = kDrumsFirstBar; bar < kBars; ++bar) {
        const int variant = bar % 2;
        const bool fill = bar % 8 == 0 || bar == kBars - 1;
        const std::string_view snare_pattern = fill ? kSnareFill : kSnare[variant];
        for (int step = 0; step < kStepsPerBar; ++step) {
            const double t = at(bar, step);
            if (kKick[variant][step] == 'x') kick(kicks, t + human(), 0.95 + rng.vary(0.05), rng);
            if (const char c = snare_pattern[step]; c != '.') {
                double vel = c == 'g' ? 0.22 : 1.0;                          // ghost notes are soft
                if (fill && step >= 12) vel = 0.55 + 0.15 * (step - 12);  // the fill rises
                snare(snares, t + human(), vel * (1.0 + rng.vary(0.06)), rng);
            }
            if (const char c = kHats[variant][step]; c != '.') {
                // The first beat of the second half gets an open hat, like a crash.
                const bool open = c == 'o' || (bar == kLeadFirstBar && step == 0);
                hat_hits.push_back({t + human(), kHatAccent[step % 4] * (1.0 + rng.vary(0.1)), open});
            }
        }
    }
    // Under the final chord: one kick and a long open hat.
    kick(kicks, at(kBars, 0), 1.0, rng);
    hat_hits.push_back({at(kBars, 0), 1.0, true});

    // An open hat rings until the next hit chokes it.
    for (std::size_t h = 0; h < hat_hits.size(); ++h) {
        const HatHit& hit = hat_hits[h];
        const double decay = hit.open ? 0.35 : 0.03;
        double dur = 8.0 * decay;
        if (hit.open && h + 1 < hat_hits.size()) dur = std::min(dur, hat_hits[h + 1].time - hit.time);
        hat(hats, hit.time, hit.vel, decay, dur, rng);
    }
}

void play_bass(Stem& s) {
    Rng rng(0xBA55'0002);
    for (int bar = kDrumsFirstBar; bar < kBars; ++bar) {
        for (const BassHit& h : kBassRiff) {
            const double gate = h.len * kStep * 0.85;  // slightly detached
            const double vel = (h.step % 4 == 0 ? 1.0 : 0.8) + rng.vary(0.05);
            bass_note(s, at(bar, h.step) + rng.vary(0.002), gate, chord_at(bar).root + h.interval, vel, rng);
        }
    }
    bass_note(s, at(kBars, 0), 1.0, chord_at(kBars).root, 1.0, rng);  // the final root
}

void play_chords(Stem& s) {
    Rng rng(0xC40D'0003);
    // One held chord per bar; each release overlaps the next chord's attack.
    const Adsr held{0.08, 1.0, 0.7, 0.4};
    for (int bar = 1; bar < kBars; ++bar) pad_chord(s, at(bar, 0), kBar, held, chord_at(bar), rng);
    // The final chord is struck and left to ring.
    pad_chord(s, at(kBars, 0), 0.5, Adsr{0.02, 1.5, 0.8, 0.45}, chord_at(kBars), rng);

    // While the drums play, duck the pad on every beat, like a compressor keyed by the kick:
    // the "pumping" makes it groove.
    for (std::size_t i = 0; i < s.frames(); ++i) {
        const double t = static_cast<double>(i) / s.rate;
        if (t < at(kDrumsFirstBar, 0) || t >= at(kBars, 0)) continue;
        const double since_beat = std::fmod(t, 4.0 * kStep);
        const double duck = 1.0 - 0.35 * std::min(1.0, since_beat / 0.01) * std::exp(-since_beat / 0.12);
        for (auto& channel : s.channels) channel[i] *= duck;
    }
}

void play_arp(Stem& s) {
    Rng rng(0xA4B0'0004);
    for (int bar = 1; bar < kBars; ++bar) {
        const auto& v = chord_at(bar).voicing;
        const std::array<int, 4> tones{v[0] + 12, v[1] + 12, v[2] + 12, v[0] + 24};
        for (int step = 0; step < kStepsPerBar; ++step) {
            // The filter opens over the intro; the arp steps back when the lead comes in.
            const double t = at(bar, step);
            const double bright = 400.0 + 3200.0 * std::min(1.0, t / at(kDrumsFirstBar, 0));
            const double level = bar >= kLeadFirstBar ? 0.75 : 1.0;
            const double accent = step % 4 == 0 ? 1.0 : step % 2 == 0 ? 0.8 : 0.65;
            pluck(s, t + rng.vary(0.002), tones[kArpOrder[step]], level * accent * (1.0 + rng.vary(0.08)), bright);
        }
    }
}

// The lead stem starts at kLeadStart; times inside it are relative to that.
void play_lead(Stem& s) {
    Rng rng(0x1EAD'0005);
    for (std::size_t n = 0; n < kMelody.size(); ++n) {
        const Note& note = kMelody[n];
        const double start = std::max(0.0, at(note.bar, note.step) - kLeadStart + rng.vary(0.005));
        const double gate = note.len * kStep - 0.03;  // a short gap between notes
        // Glide from the previous note, unless there was a rest in between.
        double from = note.pitch;
        if (n > 0) {
            const Note& prev = kMelody[n - 1];
            if (at(prev.bar, prev.step + prev.len) >= at(note.bar, note.step)) from = prev.pitch;
        }
        const double vel = (note.step % 4 == 0 ? 1.0 : 0.85) * (1.0 + rng.vary(0.05));
        lead_note(s, start, gate, from, note.pitch, vel);
    }
}

// Scales a stem to the given peak and fades out its last 10 ms. Returns the new peak.
double normalize(Stem& s, double peak_db) {
    double peak = 0.0;
    for (const auto& channel : s.channels)
        for (const double x : channel) peak = std::max(peak, std::abs(x));
    const double gain = peak > 0.0 ? std::pow(10.0, peak_db / 20.0) / peak : 0.0;
    const auto fade = static_cast<std::size_t>(0.01 * s.rate);
    for (auto& channel : s.channels) {
        for (std::size_t i = 0; i < channel.size(); ++i) {
            const std::size_t left = channel.size() - i;
            channel[i] *= gain * (left < fade ? static_cast<double>(left) / fade : 1.0);
        }
    }
    return peak * gain;
}

// -------------------------------------------------------------------------------- the files

void complain(const char* what, const fs::path& path, const std::string& reason) {
    std::fprintf(stderr, "rtmix_demo_stems: %s '%s': %s\n", what, path.string().c_str(), reason.c_str());
}

// Writes the stem to `dir/NAME.tmp`, then renames it into place.
bool write_stem(const fs::path& dir, const Stem& s) {
    const fs::path path = dir / s.name;
    fs::path tmp = path;
    tmp += ".tmp";

    SF_INFO info{};
    info.samplerate = s.rate;
    info.channels = static_cast<int>(s.channels.size());
    info.format = s.format;
    SNDFILE* file = sf_open(tmp.string().c_str(), SFM_WRITE, &info);
    if (file == nullptr) {
        complain("cannot write", tmp, sf_strerror(nullptr));
        return false;
    }
    std::vector<float> frames(s.frames() * s.channels.size());  // libsndfile wants interleaved
    for (std::size_t i = 0; i < s.frames(); ++i)
        for (std::size_t c = 0; c < s.channels.size(); ++c)
            frames[i * s.channels.size() + c] = static_cast<float>(s.channels[c][i]);
    const auto count = static_cast<sf_count_t>(s.frames());
    const bool written = sf_writef_float(file, frames.data(), count) == count;
    const std::string reason = sf_strerror(file);
    std::error_code ec;
    if (sf_close(file) != 0 || !written) {
        complain("cannot write", tmp, reason);
        fs::remove(tmp, ec);
        return false;
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        complain("cannot rename", tmp, ec.message());
        fs::remove(tmp, ec);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: rtmix_demo_stems OUTDIR\n");
        return 1;
    }
    const fs::path dir = argv[1];
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        complain("cannot create directory", dir, ec.message());
        return 1;
    }

    constexpr int kWav24 = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    constexpr int kWav16 = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    constexpr int kFlac24 = SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    std::vector<Stem> stems;
    stems.reserve(7);  // the references below must stay valid
    Stem& kicks = stems.emplace_back("kick.wav", 48000, kWav24, 1, 33.0);
    Stem& snares = stems.emplace_back("snare.wav", 48000, kWav24, 1, 33.0);
    Stem& hats = stems.emplace_back("hats.wav", 48000, kWav24, 1, 33.0);
    Stem& bass = stems.emplace_back("bass.wav", 48000, kWav24, 1, 33.0);
    // The pad is at 44.1 kHz on purpose: the mixer resamples it.
    Stem& chords = stems.emplace_back("chords.wav", 44100, kWav16, 2, 34.0);
    Stem& arp = stems.emplace_back("arp.flac", 48000, kFlac24, 1, 31.5);
    // The lead only holds the second half; the session places it with offset_ms.
    Stem& lead = stems.emplace_back("lead.wav", 48000, kWav24, 1, 34.0 - kLeadStart);

    play_drums(kicks, snares, hats);
    play_bass(bass);
    play_chords(chords);
    play_arp(arp);
    play_lead(lead);

    for (Stem& s : stems) {
        const double peak = normalize(s, -6.0);
        if (!write_stem(dir, s)) return 1;
        std::printf("%-11s %-6s %5d Hz %6.2f s  peak %5.1f dBFS\n", s.name.c_str(),
                    s.channels.size() == 1 ? "mono" : "stereo", s.rate,
                    static_cast<double>(s.frames()) / s.rate, 20.0 * std::log10(peak));
    }
    return 0;
}
