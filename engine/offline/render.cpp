// The offline renderer: stems in, master file out, through the same Engine::process() a live
// host calls. Runs on the caller's thread; the "audio thread" here is simply this loop.
//
// The mix's latency (Engine::latency_frames(): latent inserts, lookahead, the master limiter) is
// compensated: the first latency_frames() of the engine's output are dropped and the stems are
// read for as many more frames at the end, so frame 0 of the file is time 0 of the session.
//
// Loudness normalization renders the mix more than once (each pass is deterministic: a fresh
// engine, the same stems): pass 1 measures the mix as the session renders it; the next passes
// drive the master limiter (at the target's ceiling) with the gain the last measurement asks for,
// refined by the secant method because limiting makes loudness grow more slowly than the gain,
// until the result is within the tolerance. Every pass after the first writes its file aside;
// the one that reaches the target is renamed into place. When the target is out of reach (the
// limiter at its ceiling cannot make the mix that loud), more gain buys only limiting: of the
// passes within 0.1 LU of the loudest, the least limited one is kept, and a note says so.
#include "rtmix/render.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "files/audio_file.hpp"
#include "offline/master_writer.hpp"
#include "rtmix/loudness.hpp"

namespace rtmix {

namespace {

using Kind = SessionStrip::Kind;
using offline::check_output;
using offline::dither_mode;
using offline::integer_samples;

constexpr float silence_threshold = 1e-5f;  // -100 dBFS

struct TrackInput {
    std::unique_ptr<files::StemReader> reader;
    std::int64_t offset = 0;  // frames on the timeline
    std::uint32_t first_channel = 0;
};

float to_db(float amplitude) {
    return amplitude > 1e-6f ? 20.0f * std::log10(amplitude) : -120.0f;
}

std::int64_t to_frames(double seconds, double rate) {
    return static_cast<std::int64_t>(std::llround(seconds * rate));
}

void check_options(const RenderOptions& o) {
    if (o.output.empty()) throw RenderOptionsError("no output file given");
    if (!(o.start_s >= 0.0) || !std::isfinite(o.start_s))
        throw RenderOptionsError(fmt::format("start {} s: expected 0 or more seconds", o.start_s));
    if (o.length_s && (!(*o.length_s > 0.0) || !std::isfinite(*o.length_s)))
        throw RenderOptionsError(fmt::format("length {} s: expected more than 0 seconds", *o.length_s));
    if (o.tail_s && (!(*o.tail_s >= 0.0) || !std::isfinite(*o.tail_s)))
        throw RenderOptionsError(fmt::format("tail {} s: expected 0 or more seconds", *o.tail_s));
    if (o.format == RenderOptions::Format::flac && o.sample == RenderOptions::Sample::float32)
        throw RenderOptionsError("FLAC stores integer samples: use 16 or 24 bits");
}

/// A session that has nothing to play is refused, as are damaged stems when the render is strict.
void check_inputs(const Session& session, const RenderOptions& o) {
    bool any_track = false;
    for (const SessionStrip& s : session.strips()) {
        if (s.kind != Kind::track) continue;
        any_track = true;
        if (s.live() || s.stem.frames > 0) continue;
        if (s.stem.claimed_frames > 0)
            throw RenderOptionsError(fmt::format("track '{}': '{}' is truncated: its header claims {:.3f} s ({} frames), the "
                                                 "file holds no audio", s.name, s.stem.path.string(),
                                                 static_cast<double>(s.stem.claimed_frames) / s.stem.sample_rate,
                                                 s.stem.claimed_frames));
        throw RenderOptionsError(fmt::format("track '{}': '{}' holds no audio (0 frames): give the track a stem with audio "
                                             "or remove it", s.name, s.stem.path.string()));
    }
    if (!any_track)
        throw RenderOptionsError(fmt::format("nothing to render: '{}' has no tracks", session.file().string()));
    if (o.strict && !session.warnings().empty()) {
        std::string why = "damaged input refused (strict): " + session.warnings().front();
        for (std::size_t i = 1; i < session.warnings().size(); ++i) why += "; " + session.warnings()[i];
        throw RenderOptionsError(why);
    }
}

/// The engine of a render: the renderer measures the loudness of what it writes itself (exactly,
/// where the engine's real-time meter works in 0.1 LU steps), so the engine's meter stays off.
EngineOptions offline_options(const Session& session, const RenderOptions& options) {
    EngineOptions o = session.engine_options();
    o.loudness_meter = false;
    // Offline the caller runs at normal priority, like the workers: one per usable core by default.
    o.threads = options.threads != 0 ? options.threads : usable_cores();
    return o;
}

/// How a pass drives the master limiter: as the session says, or normalization's settings.
struct LimiterDrive {
    double gain_db = 0.0;
    double ceiling_dbtp = -1.0;
};

/// One pass of the render: engine, stem readers, buffers, the file (if it writes one), and the
/// figures.
class Renderer {
public:
    Renderer(const Session& session, const RenderOptions& options, std::optional<LimiterDrive> drive, std::uint32_t pass)
        : session_(session), options_(options), rate_(session.sample_rate()), block_(session.block_frames()),
          engine_(offline_options(session, options)), meter_(session.sample_rate(), 2), pass_(pass) {
        session.apply(engine_);
        if (drive) {
            const auto set = [&](const char* path, double v) {
                if (Status s = engine_.set(path, v); !s) throw RenderError(s.message());
            };
            set("master.limiter.enabled", 1.0);
            set("master.limiter.ceiling_dbtp", drive->ceiling_dbtp);
            set("master.limiter.gain_db", drive->gain_db);
        }
        const std::vector<std::uint32_t> first = session.track_input_channels();
        std::size_t files = 0;
        for (const SessionStrip& s : session.strips()) files += s.kind == Kind::track && !s.live() ? 1 : 0;
        files::check_open_file_room(files);
        std::size_t t = 0;
        for (const SessionStrip& s : session.strips()) {
            if (s.kind != Kind::track) continue;
            if (s.live()) {  // a live input: silent offline (its channels stay zero)
                ++t;
                continue;
            }
            TrackInput in;
            in.reader = std::make_unique<files::StemReader>(s.stem, rate_);
            in.offset = to_frames(s.offset_ms / 1000.0, rate_);
            in.first_channel = first[t++];
            end_ = std::max(end_, in.offset + static_cast<std::int64_t>(in.reader->length()));
            tracks_.push_back(std::move(in));
        }
        inputs_.assign(session.input_channels(), std::vector<float>(block_, 0.0f));
        for (auto& ch : inputs_) input_ptrs_.push_back(ch.data());
        left_.resize(block_);
        right_.resize(block_);
    }

    /// Renders into `writer` (committed by the caller), or only measures when it is null.
    RenderSummary run(files::AsideWriter* writer) {
        const auto started = std::chrono::steady_clock::now();
        const std::int64_t start = to_frames(options_.start_s, rate_);
        // One rule, with or without a length: the render starts before the last stem ends.
        if (start >= end_)
            throw RenderOptionsError(fmt::format("nothing to render: the stems end at {:.3f} s, the render starts at {:.3f} s",
                                          static_cast<double>(end_) / rate_, options_.start_s));
        const std::int64_t end = options_.length_s ? start + std::max<std::int64_t>(1, to_frames(*options_.length_s, rate_)) : end_;
        // A render from `start` runs the session from time 0 and keeps what comes from `start`
        // on: what sounded before (a reverb's tail, a compressor's envelope, a delay's repeats)
        // sounds into it, so the span is the same samples as the same span of a full render.
        for (TrackInput& t : tracks_) t.reader->start_at(-t.offset);

        latency_ = engine_.latency_frames();
        skip_ = latency_ + static_cast<std::uint64_t>(start);
        content_ = static_cast<std::uint64_t>(end - start);

        RenderProgress progress;
        progress.pass = pass_;
        progress.writing = writer != nullptr;
        progress.frames_total = static_cast<std::uint64_t>(end);
        // The stems are read for the latency past `end` too: those frames of input make the last
        // frames of the span (a cut with --length sounds as the same span of a full render).
        const std::int64_t read_end = end + static_cast<std::int64_t>(latency_);
        for (std::int64_t pos = 0; pos < read_end;) {
            const auto n = static_cast<std::uint32_t>(std::min<std::int64_t>(block_, read_end - pos));
            for (TrackInput& t : tracks_) {
                float* dst[2] = {inputs_[t.first_channel].data(), nullptr};
                if (t.first_channel + 1 < inputs_.size()) dst[1] = inputs_[t.first_channel + 1].data();
                t.reader->read(dst, n);
            }
            process(n);
            write(writer, left_.data(), right_.data(), n);
            pos += n;
            progress.frames_done += n;
            report(progress);
        }
        for (auto& ch : inputs_) std::fill(ch.begin(), ch.end(), 0.0f);
        progress.in_tail = true;
        tail(writer, progress);

        RenderSummary summary;
        summary.output = options_.output;
        summary.sample_rate = rate_;
        summary.frames = written_;
        summary.seconds = static_cast<double>(written_) / rate_;
        summary.tail_seconds = static_cast<double>(written_ - std::min(written_, content_)) / rate_;
        summary.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        summary.speed = summary.wall_seconds > 0 ? summary.seconds / summary.wall_seconds : 0.0;
        summary.master_peak_dbfs = to_db(peak_);
        summary.clipped_samples = writer != nullptr ? writer->clipped() : clipped_;
        summary.loudness = meter_.result();
        summary.latency_frames = latency_;
        MasterLoudness master{};
        (void)engine_.master_loudness(master);
        summary.max_limiter_reduction_db = master.limiter_max_gain_reduction_db;
        for (const SessionStrip& s : session_.strips()) {
            StripMeter m{};
            if (!engine_.meter(s.path(), m)) continue;
            summary.strips.push_back({s.path(), std::max(m.peak_hold_dbfs, -120.0f), m.max_gain_reduction_db});
        }
        summary.notes = session_.notes();
        collect_events();
        summary.warnings = session_.warnings();  // damaged inputs first
        summary.warnings.insert(summary.warnings.end(), warnings_.begin(), warnings_.end());
        if (summary.clipped_samples > 0)
            summary.warnings.push_back(fmt::format("the master peaks at {:+.1f} dBFS: {} samples were clipped to full scale",
                                                   summary.master_peak_dbfs, summary.clipped_samples));
        else if (peak_ > 1.0f)
            summary.warnings.push_back(fmt::format("the master peaks at {:+.1f} dBFS, over full scale (kept in the float file)",
                                                   summary.master_peak_dbfs));
        return summary;
    }

private:
    void process(std::uint32_t n) {
        float* out[2] = {left_.data(), right_.data()};
        engine_.process(input_ptrs_.data(), static_cast<std::uint32_t>(input_ptrs_.size()), out, n);
        if (++blocks_ % 1024 == 0) collect_events();
    }

    /// Everything the engine outputs goes through here: the latency is dropped from the front,
    /// the rest is measured and written.
    void write(files::AsideWriter* writer, const float* l, const float* r, std::uint32_t n) {
        const auto drop = static_cast<std::uint32_t>(std::min<std::uint64_t>(skip_, n));
        skip_ -= drop;
        l += drop;
        r += drop;
        n -= drop;
        if (n == 0) return;
        const float* channels[2] = {l, r};
        meter_.add(channels, n);
        const bool integer = integer_samples(options_);
        for (std::uint32_t i = 0; i < n; ++i) {
            const float a = std::max(std::abs(l[i]), std::abs(r[i]));
            peak_ = std::max(peak_, a);
            if (integer) clipped_ += (std::abs(l[i]) > 1.0f) + (std::abs(r[i]) > 1.0f);
        }
        if (writer != nullptr) writer->write(l, r, n);
        written_ += n;
    }

    void report(const RenderProgress& p) {
        if (options_.progress && !options_.progress(p))
            throw RenderError(fmt::format("render cancelled; '{}' was not written", options_.output.string()));
    }

    /// Effects ring out after the stems: for `tail_s`, or until the master stays silent. A render
    /// of a given length has no tail unless `tail_s` asks for one.
    void tail(files::AsideWriter* writer, RenderProgress& progress) {
        if (options_.length_s && !options_.tail_s) return;
        if (options_.tail_s) {
            for (std::int64_t left = to_frames(*options_.tail_s, rate_); left > 0;) {
                const auto n = static_cast<std::uint32_t>(std::min<std::int64_t>(block_, left));
                process(n);
                write(writer, left_.data(), right_.data(), n);
                left -= n;
                progress.frames_done += n;
                report(progress);
            }
            return;
        }
        // Silent blocks wait in `pending` until something audible follows (a delay repeat); once
        // the silence has lasted the whole window, they are dropped and the file ends.
        const std::int64_t window = to_frames(options_.silence_window_s, rate_);
        const std::int64_t limit = to_frames(options_.max_tail_s, rate_);
        std::vector<float> pending_l, pending_r;
        std::int64_t rendered = 0;
        bool silent_end = false;
        while (rendered < limit) {
            process(block_);
            rendered += block_;
            progress.frames_done += block_;
            report(progress);
            float peak = 0.0f;
            for (std::uint32_t i = 0; i < block_; ++i) peak = std::max({peak, std::abs(left_[i]), std::abs(right_[i])});
            if (peak < silence_threshold) {
                pending_l.insert(pending_l.end(), left_.begin(), left_.end());
                pending_r.insert(pending_r.end(), right_.begin(), right_.end());
                if (static_cast<std::int64_t>(pending_l.size()) >= window) {
                    silent_end = true;
                    break;
                }
                continue;
            }
            flush(writer, pending_l, pending_r);
            write(writer, left_.data(), right_.data(), block_);
        }
        if (!silent_end) {
            flush(writer, pending_l, pending_r);
            warnings_.push_back(fmt::format("the tail was cut after {:.0f} s while effects still rang; --tail sets it",
                                            options_.max_tail_s));
        }
    }

    void flush(files::AsideWriter* writer, std::vector<float>& l, std::vector<float>& r) {
        if (l.empty()) return;
        write(writer, l.data(), r.data(), static_cast<std::uint32_t>(l.size()));
        l.clear();
        r.clear();
    }

    void collect_events() {
        for (const Event& e : engine_.poll_events())
            if (std::find(warnings_.begin(), warnings_.end(), e.message) == warnings_.end()) warnings_.push_back(e.message);
    }

    const Session& session_;
    const RenderOptions& options_;
    double rate_;
    std::uint32_t block_;
    Engine engine_;
    std::vector<TrackInput> tracks_;
    std::int64_t end_ = 0;  // the end of the last stem on the timeline
    std::vector<std::vector<float>> inputs_;
    std::vector<const float*> input_ptrs_;
    std::vector<float> left_, right_;
    std::uint64_t written_ = 0, clipped_ = 0, blocks_ = 0;
    std::uint64_t content_ = 0;  // frames of the timeline rendered before the tail
    std::uint32_t latency_ = 0;
    std::uint64_t skip_ = 0;  // output frames still to drop (the latency)
    float peak_ = 0.0f;
    LoudnessMeter meter_;
    std::uint32_t pass_;
    std::vector<std::string> warnings_;
};

const char* dither_name(const RenderOptions& o) {
    if (!integer_samples(o)) return "";
    switch (o.dither) {
        case RenderOptions::Dither::none: return "none";
        case RenderOptions::Dither::tpdf: return "tpdf";
        case RenderOptions::Dither::shaped: return "shaped";
    }
    return "";
}

/// One pass that writes the file aside; commit() renames it into place.
struct WrittenPass {
    std::unique_ptr<files::AsideWriter> writer;
    RenderSummary summary;
};

WrittenPass write_pass(const Session& session, const RenderOptions& options, std::optional<LimiterDrive> drive,
                       std::uint32_t pass, bool hold = false) {
    WrittenPass out;
    out.writer = offline::open_master_writer(session, options, session.sample_rate(), hold);
    Renderer renderer(session, options, drive, pass);
    out.summary = renderer.run(out.writer.get());
    out.writer->set_loudness(out.summary.loudness);
    out.summary.dither = dither_name(options);
    return out;
}

RenderSummary normalized(const Session& session, const RenderOptions& options, const LoudnessTarget& target) {
    const auto started = std::chrono::steady_clock::now();
    NormalizationSummary norm;
    norm.target = target;
    std::uint32_t pass = 1;
    const RenderSummary before = Renderer(session, options, std::nullopt, pass).run(nullptr);
    norm.before = before.loudness;
    if (!std::isfinite(before.loudness.integrated_lufs))
        throw RenderOptionsError("cannot normalize the loudness: the mix is silent (no gated loudness to measure)");

    // The gain the limiter already had from the session is where the search starts from.
    double session_gain = 0.0;
    {
        EngineOptions probe_options = session.engine_options();
        probe_options.threads = 1;  // a probe runs no audio: no worker threads
        Engine probe(probe_options);
        session.apply(probe);
        double enabled = 0.0;
        (void)probe.get("master.limiter.enabled", enabled);
        if (enabled != 0.0) (void)probe.get("master.limiter.gain_db", session_gain);
    }
    constexpr double min_gain = -24.0, max_gain = 24.0;  // the range of master.limiter.gain_db
    constexpr std::uint32_t max_passes = 6;
    // When the target is out of reach, passes this close to the loudest one sound as loud.
    constexpr double unreachable_margin_lu = 0.1;
    double gain = std::clamp(session_gain + target.target_lufs - before.loudness.integrated_lufs, min_gain, max_gain);
    double last_gain = NAN, last_lufs = NAN;
    // The passes that may still be kept (each holds its file aside): the one closest to the target,
    // and those within `unreachable_margin_lu` of the loudest so far (the candidates should the
    // target be out of reach). The others are dropped, and their files with them.
    struct Kept {
        WrittenPass pass;
        double gain_db, lufs, error;
    };
    std::vector<Kept> kept;
    double best_error = INFINITY, loudest = -INFINITY;
    for (;;) {
        // Each pass holds its file until one is kept: aside, or a stream in a temporary file.
        WrittenPass p = write_pass(session, options, LimiterDrive{gain, target.ceiling_dbtp}, ++pass, /*hold=*/true);
        const double lufs = p.summary.loudness.integrated_lufs;
        const double error = std::abs(lufs - target.target_lufs);
        best_error = std::min(best_error, error);
        if (std::isfinite(lufs)) loudest = std::max(loudest, lufs);
        kept.push_back(Kept{std::move(p), gain, lufs, error});
        std::erase_if(kept, [&](const Kept& k) { return k.error != best_error && !(k.lufs >= loudest - unreachable_margin_lu); });
        if (error <= options.loudness_tolerance_lu || pass >= max_passes) break;
        // Secant step from the last two passes (the slope is 1 LU/dB without limiting, less with).
        double slope = 1.0;
        if (std::isfinite(last_gain) && gain != last_gain) slope = std::clamp((lufs - last_lufs) / (gain - last_gain), 0.05, 1.0);
        last_gain = gain;
        last_lufs = lufs;
        const double next = std::clamp(gain + (target.target_lufs - lufs) / slope, min_gain, max_gain);
        if (next == gain) break;  // at the end of the range: the target is out of reach
        gain = next;
    }
    norm.passes = pass;
    norm.reached = best_error <= options.loudness_tolerance_lu + 1e-9;
    // Reached: the pass closest to the target (the first of equals). Out of reach, every pass short
    // of it: more gain only bought limiting, so of the passes within the margin of the loudest, the
    // least limited one (the one with less gain of equals).
    std::size_t chosen = 0;
    for (std::size_t i = 0; i < kept.size(); ++i)
        if (kept[i].error == best_error) {
            chosen = i;
            break;
        }
    const std::size_t closest = chosen;
    const bool short_of_target = !norm.reached && loudest < target.target_lufs;
    const auto limiting = [&](std::size_t i) { return -kept[i].pass.summary.max_limiter_reduction_db; };
    if (short_of_target) {
        bool found = false;
        for (std::size_t i = 0; i < kept.size(); ++i) {
            if (!(kept[i].lufs >= loudest - unreachable_margin_lu)) continue;
            if (!found || limiting(i) < limiting(chosen) ||
                (limiting(i) == limiting(chosen) && kept[i].gain_db < kept[chosen].gain_db))
                chosen = i;
            found = true;
        }
    }
    norm.gain_db = kept[chosen].gain_db;
    const double chosen_limiting = limiting(chosen);
    kept[chosen].pass.writer->commit();
    RenderSummary summary = std::move(kept[chosen].pass.summary);
    if (!norm.reached)
        summary.warnings.push_back(fmt::format("the loudness target {:.1f} LUFS was not reached: {:.1f} LUFS after {} passes "
                                               "(limiter gain {:+.1f} dB)", target.target_lufs,
                                               summary.loudness.integrated_lufs, norm.passes, norm.gain_db));
    if (short_of_target) {
        std::string note = fmt::format(
            "the target being out of reach, kept the least limited of the passes within {:.1f} LU of the loudest "
            "({:.2f} LUFS): {:.2f} LUFS with {:.1f} dB of limiting (limiter gain {:+.1f} dB)",
            unreachable_margin_lu, loudest, kept[chosen].lufs, chosen_limiting, norm.gain_db);
        if (chosen != closest)
            note += fmt::format(", rather than {:.2f} LUFS with {:.1f} dB (gain {:+.1f} dB)", kept[closest].lufs,
                                limiting(closest), kept[closest].gain_db);
        summary.notes.push_back(std::move(note));
    }
    if (-summary.max_limiter_reduction_db > options.limiting_warning_db)
        summary.warnings.push_back(fmt::format("reaching {:.1f} LUFS took up to {:.1f} dB of limiting (more than {:.0f} dB): "
                                               "transients lose punch; a lower target or a mix with more headroom "
                                               "(gentler peaks) keeps them", target.target_lufs,
                                               -summary.max_limiter_reduction_db, options.limiting_warning_db));
    // The time of every pass: the speed is what the whole normalized render achieved.
    summary.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    summary.speed = summary.wall_seconds > 0 ? summary.seconds / summary.wall_seconds : 0.0;
    summary.normalization = norm;
    return summary;
}

}  // namespace

RenderSummary render(const Session& session, const RenderOptions& options) {
    check_options(options);
    check_inputs(session, options);
    if (dither_mode(options) == files::DitherMode::shaped && !files::shaped_dither_designed(session.sample_rate()))
        throw RenderOptionsError(fmt::format("noise-shaped dither has designs for {:g} to {:g} Hz only, not the session's "
                                             "{:g} Hz: use TPDF dither (--dither tpdf)", files::shaped_dither_min_rate,
                                             files::shaped_dither_max_rate, session.sample_rate()));
    try {
        check_output(session, options);
        const std::optional<LoudnessTarget> target = options.loudness ? options.loudness : session.loudness_target();
        if (target) return normalized(session, options, *target);
        WrittenPass p = write_pass(session, options, std::nullopt, 1);
        p.writer->commit();
        return std::move(p.summary);
    } catch (const files::FileError& e) {
        throw RenderError(e.what());
    }
}

namespace offline {

/// Whether the file stores integer samples (quantized, dithered, clipped at full scale).
bool integer_samples(const RenderOptions& o) {
    using F = RenderOptions::Format;
    const bool floats = o.format == F::ogg || o.format == F::opus || o.format == F::mp3 || o.format == F::f32;
    return !floats && o.sample != RenderOptions::Sample::float32;
}

/// The output never replaces an input: the session file and the stems are refused as outputs
/// (through links too). With no_clobber, an existing file is refused.
void check_output(const Session& session, const RenderOptions& o) {
    const files::OutputTarget target = files::resolve_output(o.output);
    if (target.kind != files::OutputTarget::Kind::file) return;
    std::error_code ec;
    if (!std::filesystem::exists(target.file, ec)) return;
    if (std::filesystem::equivalent(target.file, session.file(), ec))
        throw RenderOptionsError(fmt::format("'{}' is the session file: the master cannot be written over an input",
                                             o.output.string()));
    for (const SessionStrip& s : session.strips())
        if (s.kind == Kind::track && !s.live() && std::filesystem::equivalent(target.file, s.stem.path, ec))
            throw RenderOptionsError(fmt::format("'{}' is the stem of track '{}': the master cannot be written over an input",
                                                 o.output.string(), s.name));
    if (o.no_clobber) throw RenderError(fmt::format("'{}' exists: not overwritten (no-clobber)", o.output.string()));
}

files::DitherMode dither_mode(const RenderOptions& o) {
    if (!integer_samples(o)) return files::DitherMode::none;
    switch (o.dither) {
        case RenderOptions::Dither::none: return files::DitherMode::none;
        case RenderOptions::Dither::tpdf: return files::DitherMode::tpdf;
        case RenderOptions::Dither::shaped: return files::DitherMode::shaped;
    }
    return files::DitherMode::none;
}

std::unique_ptr<files::AsideWriter> open_master_writer(const Session& session, const RenderOptions& o, double sample_rate,
                                                       bool hold) {
    // The file layer's names of the same formats.
    files::Container container = files::Container::wav;
    switch (o.format) {
        case RenderOptions::Format::wav: container = files::Container::wav; break;
        case RenderOptions::Format::flac: container = files::Container::flac; break;
        case RenderOptions::Format::aiff: container = files::Container::aiff; break;
        case RenderOptions::Format::ogg: container = files::Container::ogg; break;
        case RenderOptions::Format::opus: container = files::Container::opus; break;
        case RenderOptions::Format::mp3: container = files::Container::mp3; break;
        case RenderOptions::Format::f32: container = files::Container::raw_f32; break;
    }
    const auto encoding = o.sample == RenderOptions::Sample::int16   ? files::Encoding::int16
                          : o.sample == RenderOptions::Sample::int24 ? files::Encoding::int24
                                                                     : files::Encoding::float32;
    return std::make_unique<files::AsideWriter>(o.output, container, encoding, sample_rate, dither_mode(o),
                                                session.metadata(), hold, o.no_clobber);
}

}  // namespace offline

}  // namespace rtmix
