// Offline loudness: libebur128 in its exact mode (every 400 ms gating block and 3 s short-term
// block kept), fed in steps of 100 ms so the momentary and short-term loudness can be read at
// each step for the maxima and the curves. True peak: the engine's detector (8x in two stages,
// a 384-tap half-band then a 12-tap 4x stage, see dsp/true_peak.hpp) rather than libebur128's 4x,
// 12-tap interpolator, which reads material with much content near Nyquist several tenths of a dB
// low. (The one place this folder uses an engine header: dsp/ is free of the rest of the engine.)
#include "rtmix/loudness.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <new>
#include <system_error>

#include <ebur128.h>
#include <fmt/format.h>
#include <sndfile.h>

#include "dsp/true_peak.hpp"

namespace rtmix {

namespace {

constexpr double minus_infinity = -std::numeric_limits<double>::infinity();
constexpr std::size_t file_chunk_frames = 4096;  // file frames read at a time

constexpr int meter_mode = EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_M | EBUR128_MODE_S;

/// Where each channel sits, by the channel count (the layouts loudness.hpp lists).
int channel_role(unsigned channels, unsigned c) {
    if (channels == 1) return EBUR128_DUAL_MONO;
    if (channels == 2) return c == 0 ? EBUR128_LEFT : EBUR128_RIGHT;
    if (channels == 3) return c == 0 ? EBUR128_LEFT : c == 1 ? EBUR128_RIGHT : EBUR128_CENTER;
    if (channels == 4) {
        static constexpr int quad[] = {EBUR128_LEFT, EBUR128_RIGHT, EBUR128_LEFT_SURROUND, EBUR128_RIGHT_SURROUND};
        return quad[c];
    }
    if (channels == 5) {
        static constexpr int five[] = {EBUR128_LEFT, EBUR128_RIGHT, EBUR128_CENTER, EBUR128_LEFT_SURROUND,
                                       EBUR128_RIGHT_SURROUND};
        return five[c];
    }
    static constexpr int five_one[] = {EBUR128_LEFT,   EBUR128_RIGHT,         EBUR128_CENTER,
                                       EBUR128_UNUSED, EBUR128_LEFT_SURROUND, EBUR128_RIGHT_SURROUND};
    if (c < 6) return five_one[c];
    return EBUR128_Mp135;  // a position libebur128 weights 1.0, as BS.1770-4 does the rear ones
}

double to_db(double gain) { return gain > 0.0 ? 20.0 * std::log10(gain) : minus_infinity; }

}  // namespace

struct LoudnessMeter::State {
    struct Closer {
        void operator()(ebur128_state* st) const noexcept { ebur128_destroy(&st); }
    };
    std::unique_ptr<ebur128_state, Closer> meter;
    double rate = 0;
    unsigned channels = 0;
    bool keep_curve = false;
    std::size_t step_frames = 0;      // frames in 100 ms, as libebur128 counts them
    std::size_t into_step = 0;        // frames added since the last reading
    std::uint64_t frames = 0;
    double max_momentary = minus_infinity, max_short_term = minus_infinity;
    std::vector<float> momentary, short_term;
    std::vector<float> interleaved;   // one step's frames at most
    std::vector<dsp::TruePeakDetector> detectors;  // one per channel
    std::vector<float> peaks;                      // one step's estimates at most
    float true_peak = 0.0f;                        // the largest estimate so far

    /// The true peak including the samples still inside the detectors' latency: copies of the
    /// detectors are fed silence, so the meter can go on taking audio afterwards.
    float flushed_true_peak() const {
        float p = true_peak;
        std::vector<float> zeros(dsp::TruePeakDetector::latency_for(rate) + 1, 0.0f), est(zeros.size());
        for (const dsp::TruePeakDetector& d : detectors) {
            dsp::TruePeakDetector copy = d;
            copy.process(zeros.data(), est.data(), static_cast<std::uint32_t>(zeros.size()));
            for (float e : est) p = std::max(p, e);
        }
        return p;
    }

    /// Reads the momentary and short-term loudness at the end of a step: the maxima and the curves.
    void read_step() {
        double m = minus_infinity, s = minus_infinity;
        ebur128_loudness_momentary(meter.get(), &m);
        ebur128_loudness_shortterm(meter.get(), &s);
        max_momentary = std::max(max_momentary, m);
        max_short_term = std::max(max_short_term, s);
        if (keep_curve) {
            momentary.push_back(static_cast<float>(std::max(m, static_cast<double>(curve_floor_lufs))));
            short_term.push_back(static_cast<float>(std::max(s, static_cast<double>(curve_floor_lufs))));
        }
    }
};

LoudnessMeter::LoudnessMeter(double sample_rate, unsigned channels, bool keep_curve) : state_(std::make_unique<State>()) {
    if (!(sample_rate >= 16.0 && sample_rate <= 2822400.0))
        throw std::invalid_argument(fmt::format("loudness meter: sample rate {} Hz is outside 16 Hz .. 2822400 Hz", sample_rate));
    if (channels < 1 || channels > 64)
        throw std::invalid_argument(fmt::format("loudness meter: {} channels (1 to 64 can be measured)", channels));
    const auto rate = static_cast<unsigned long>(std::lround(sample_rate));
    state_->meter.reset(ebur128_init(channels, rate, meter_mode));
    if (!state_->meter) throw std::bad_alloc();
    for (unsigned c = 0; c < channels; ++c) ebur128_set_channel(state_->meter.get(), c, channel_role(channels, c));
    state_->rate = sample_rate;
    state_->channels = channels;
    state_->keep_curve = keep_curve;
    state_->step_frames = (rate + 5) / 10;
    state_->interleaved.resize(state_->step_frames * channels);
    state_->detectors.assign(channels, dsp::TruePeakDetector(sample_rate));
    state_->peaks.resize(state_->step_frames);
}

LoudnessMeter::~LoudnessMeter() = default;
LoudnessMeter::LoudnessMeter(LoudnessMeter&&) noexcept = default;
LoudnessMeter& LoudnessMeter::operator=(LoudnessMeter&&) noexcept = default;

void LoudnessMeter::add(const float* const* channels, std::size_t frames) {
    State& s = *state_;
    const unsigned count = s.channels;
    std::size_t done = 0;
    while (done < frames) {
        // Up to the end of the current 100 ms step, interleaved for libebur128.
        const std::size_t n = std::min(frames - done, s.step_frames - s.into_step);
        for (unsigned c = 0; c < count; ++c) {
            const float* src = channels[c] + done;
            for (std::size_t i = 0; i < n; ++i) s.interleaved[i * count + c] = src[i];
        }
        if (ebur128_add_frames_float(s.meter.get(), s.interleaved.data(), n) != EBUR128_SUCCESS) throw std::bad_alloc();
        for (unsigned c = 0; c < count; ++c) {
            s.detectors[c].process(channels[c] + done, s.peaks.data(), static_cast<std::uint32_t>(n));
            for (std::size_t i = 0; i < n; ++i) s.true_peak = std::max(s.true_peak, s.peaks[i]);
        }
        done += n;
        s.frames += n;
        s.into_step += n;
        if (s.into_step == s.step_frames) {
            s.into_step = 0;
            s.read_step();
        }
    }
}

Loudness LoudnessMeter::result() const {
    State& s = *state_;
    ebur128_state* st = s.meter.get();
    Loudness l;
    l.integrated_lufs = minus_infinity;
    ebur128_loudness_global(st, &l.integrated_lufs);
    l.range_lu = 0.0;
    if (ebur128_loudness_range(st, &l.range_lu) != EBUR128_SUCCESS) l.range_lu = 0.0;
    if (!std::isfinite(l.range_lu)) l.range_lu = 0.0;
    double sample_peak = 0.0;
    for (unsigned c = 0; c < s.channels; ++c) {
        double sp = 0.0;
        ebur128_sample_peak(st, c, &sp);
        sample_peak = std::max(sample_peak, sp);
    }
    // The detector returns every sample exactly among its points, so this is never below the
    // sample peak.
    l.true_peak_dbtp = to_db(std::max(static_cast<double>(s.flushed_true_peak()), sample_peak));
    l.sample_peak_dbfs = to_db(sample_peak);
    l.max_momentary_lufs = s.max_momentary;
    l.max_short_term_lufs = s.max_short_term;
    if (s.into_step > 0) {
        // The input ends inside a step: its last readings count towards the maxima (not the curves,
        // which hold whole steps only).
        double m = minus_infinity, st_loudness = minus_infinity;
        ebur128_loudness_momentary(st, &m);
        ebur128_loudness_shortterm(st, &st_loudness);
        l.max_momentary_lufs = std::max(l.max_momentary_lufs, m);
        l.max_short_term_lufs = std::max(l.max_short_term_lufs, st_loudness);
    }
    return l;
}

const std::vector<float>& LoudnessMeter::momentary_curve() const { return state_->momentary; }
const std::vector<float>& LoudnessMeter::short_term_curve() const { return state_->short_term; }
double LoudnessMeter::sample_rate() const noexcept { return state_->rate; }
unsigned LoudnessMeter::channels() const noexcept { return state_->channels; }
std::uint64_t LoudnessMeter::frames() const noexcept { return state_->frames; }

// --- analyze_file -------------------------------------------------------------------------------

FileLoudness analyze_file(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw LoudnessError(fmt::format("audio file not found: '{}'", path));
    if (std::filesystem::is_directory(path, ec))
        throw LoudnessError(fmt::format("'{}' is a folder, not an audio file", path));
    SF_INFO info{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
    if (file == nullptr)
        throw LoudnessError(fmt::format("cannot read audio file '{}': {}", path, sf_strerror(nullptr)));
    struct Closer {
        SNDFILE* f;
        ~Closer() { sf_close(f); }
    } closer{file};
    if (info.channels < 1 || info.channels > 64)
        throw LoudnessError(fmt::format("'{}' has {} channels; 1 to 64 can be measured", path, info.channels));
    if (info.samplerate < 16 || info.samplerate > 2822400)
        throw LoudnessError(fmt::format("'{}' has a sample rate of {} Hz, which cannot be measured", path, info.samplerate));

    const auto channels = static_cast<unsigned>(info.channels);
    LoudnessMeter meter(info.samplerate, channels, true);
    std::vector<float> interleaved(file_chunk_frames * channels);
    std::vector<std::vector<float>> planar(channels, std::vector<float>(file_chunk_frames));
    std::vector<const float*> pointers(channels);
    for (unsigned c = 0; c < channels; ++c) pointers[c] = planar[c].data();
    while (true) {
        const sf_count_t got = sf_readf_float(file, interleaved.data(), static_cast<sf_count_t>(file_chunk_frames));
        if (got < 0 || (got < static_cast<sf_count_t>(file_chunk_frames) && sf_error(file) != SF_ERR_NO_ERROR))
            throw LoudnessError(fmt::format("error reading '{}': {}", path, sf_strerror(file)));
        if (got == 0) break;
        const auto n = static_cast<std::size_t>(got);
        for (std::size_t i = 0; i < n; ++i)
            for (unsigned c = 0; c < channels; ++c) planar[c][i] = interleaved[i * channels + c];
        meter.add(pointers.data(), n);
    }

    FileLoudness out;
    out.path = path;
    out.sample_rate = info.samplerate;
    out.channels = channels;
    out.frames = meter.frames();
    out.loudness = meter.result();
    out.momentary = meter.momentary_curve();
    out.short_term = meter.short_term_curve();
    return out;
}

}  // namespace rtmix
