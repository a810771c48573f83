// `rtmix play` and `rtmix devices`: a session played live through JACK or PortAudio, with the
// console on stdin. The program only wires the library together: rtmix::Session loads the
// session, rtmix::open_backend() joins the server or opens the device, rtmix::Player streams
// the stems and runs the mix from the backend's callback, and the console changes it.
#include "play.hpp"

#include <rtmix/live.hpp>
#include <rtmix/session.hpp>

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "console.hpp"
#include "output_format.hpp"
#include "reload.hpp"
#include "usage.hpp"

namespace rtmix::cli {

namespace {

std::atomic<bool> stop_requested{false};

void on_signal(int) { stop_requested.store(true); }

struct PlayArgs {
    std::string session;
    BackendOptions backend;
    std::vector<std::string> overrides;
    std::optional<double> start, duration, loop_start, loop_end;
    std::uint32_t threads = 0;
    bool stats = false;
    bool watch = false;
    std::optional<RecordOptions> record;
    std::string record_label;  // "WAV 24-bit", for the messages
};

std::uint32_t whole_number(std::string_view option, std::string_view text, std::uint32_t lo, std::uint32_t hi) {
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi)
        throw UsageError{fmt::format("{} '{}': expected a whole number from {} to {}", option, text, lo, hi)};
    return v;
}

double time_value(std::string_view option, std::string_view text) {
    const std::optional<double> t = parse_time(text);
    if (!t) throw UsageError{fmt::format("{} '{}': expected seconds (12.5) or minutes:seconds (1:30)", option, text)};
    return *t;
}

PlayArgs parse_play(const std::vector<std::string_view>& args) {
    PlayArgs p;
    std::optional<std::string_view> record, format, bits, dither;
    bool no_clobber = false, overwrite = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= args.size()) throw UsageError{fmt::format("{} needs a value", a)};
            return args[++i];
        };
        if (a == "--backend") {
            const std::string_view b = value();
            if (b == "jack") p.backend.kind = BackendKind::jack;
            else if (b == "portaudio") p.backend.kind = BackendKind::portaudio;
            else throw UsageError{fmt::format("--backend '{}': expected jack or portaudio", b)};
        } else if (a == "--device") p.backend.device = value();
        else if (a == "--frames") p.backend.frames = whole_number(a, value(), 16, 8192);
        else if (a == "--connect") p.backend.connect = true;
        else if (a == "--server") p.backend.server = value();
        else if (a == "--name") p.backend.client_name = value();
        else if (a == "--set") p.overrides.emplace_back(value());
        else if (a == "--start") p.start = time_value(a, value());
        else if (a == "--duration") p.duration = time_value(a, value());
        else if (a == "--loop") {
            p.loop_start = time_value(a, value());
            p.loop_end = time_value(a, value());
        } else if (a == "--threads") p.threads = whole_number(a, value(), 0, 256);
        else if (a == "--stats") p.stats = true;
        else if (a == "--watch") p.watch = true;
        else if (a == "--record") record = value();
        else if (a == "--format") format = value();
        else if (a == "--bits") bits = value();
        else if (a == "--dither") dither = value();
        else if (a == "-n" || a == "--no-clobber") no_clobber = true;
        else if (a == "-y" || a == "--overwrite") overwrite = true;
        else if (a.starts_with("-") && a.size() > 1) throw UsageError{fmt::format("unknown option '{}'", a)};
        else if (p.session.empty()) p.session = a;
        else throw UsageError{fmt::format("unexpected argument '{}' (one session file)", a)};
    }
    if (p.session.empty()) throw UsageError{"play needs a session file"};
    if (record) {
        RecordOptions r;
        r.output = std::string(*record);
        if (*record == "-" || *record == "/dev/stdout") throw UsageError{"--record -: the standard output carries the console; name a file"};
        const OutputFormat f = output_format(r.output, format, bits);
        r.format = f.format;
        r.sample = f.sample;
        if (dither) r.dither = dither_named(*dither);
        r.no_clobber = no_clobber_from(no_clobber, overwrite);
        p.record = r;
        p.record_label = format_label(f);
    } else {
        for (const auto& [given, name] : {std::pair{format.has_value(), "--format"}, {bits.has_value(), "--bits"},
                                          {dither.has_value(), "--dither"}, {no_clobber, "-n"}, {overwrite, "-y"}})
            if (given) throw UsageError{fmt::format("{} applies to a recording: give --record FILE", name)};
    }
    return p;
}

}  // namespace

int run_play(const std::vector<std::string_view>& args) {
    const PlayArgs a = parse_play(args);
    Session session = Session::load(a.session);  // SessionError: main() reports it
    for (const std::string& o : a.overrides) session.set_override(o);
    for (const std::string& note : session.notes()) std::fprintf(stderr, "note: %s\n", note.c_str());
    for (const std::string& warning : session.warnings()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    if (a.record) check_recording(session, *a.record);  // before any audio starts

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    const auto began = std::chrono::steady_clock::now();
    std::atomic<bool> quit{false};
    std::thread timer;
    if (a.duration) {  // --duration: quit after that long, as if `quit` had been typed
        timer = std::thread([&] {
            const auto until = began + std::chrono::duration<double>(*a.duration);
            while (!quit.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
            stop_requested.store(true);
        });
    }
    struct JoinTimer {
        std::atomic<bool>& quit;
        std::thread& t;
        ~JoinTimer() {
            quit.store(true);
            if (t.joinable()) t.join();
        }
    } join_timer{quit, timer};

    BackendOptions backend_options = a.backend;
    if (backend_options.kind == BackendKind::portaudio && backend_options.sample_rate == 0)
        backend_options.sample_rate = session.sample_rate();
    std::optional<double> resume_at = a.start;
    bool resume_playing = true;
    bool recorded = false;  // a recording ends with the player that made it
    SessionReloader reloader(a.session, a.overrides, a.watch);
    for (;;) {
        std::unique_ptr<Backend> backend;
        try {
            backend = open_backend(backend_options);
        } catch (const BackendError& e) {
            std::fprintf(stderr, "rtmix: %s\n", e.what());
            return exit_failure;
        }
        PlayerOptions po;
        po.sample_rate = backend->sample_rate();
        po.max_block_frames = backend->buffer_frames();
        po.threads = a.threads;
        po.worker_priority = backend->worker_priority();
        Player player(session, po);
        if (a.loop_start) player.set_loop(*a.loop_start, *a.loop_end);
        if (resume_at) player.locate(*resume_at);
        try {
            backend->start(player);
        } catch (const BackendError& e) {
            std::fprintf(stderr, "rtmix: %s\n", e.what());
            return exit_failure;
        }
        player.wait_until_buffered(2.0);
        if (a.record && !recorded) {
            player.start_recording(*a.record);  // RenderError, RenderOptionsError: main() reports it
            recorded = true;
        }
        if (resume_playing) player.play();
        std::printf("playing %s: %s, %zu track%s, %.1f s; type `help` for commands\n", a.session.c_str(),
                    backend->description().c_str(), player.stream_stats().tracks.size() + player.live_channels().size(),
                    player.stream_stats().tracks.size() + player.live_channels().size() == 1 ? "" : "s", player.length_s());
        std::fflush(stdout);

        ConsoleOptions co;
        co.interrupted = &stop_requested;
        co.reloader = &reloader;
        double new_rate = 0.0;
        ConsoleEnd end = run_console(player, *backend, co, new_rate);
        // Input closed (a script's pipe ended): play on to the end of the session, or until
        // --duration or a signal.
        // A play command lands at the next callback: a transport not playing yet is not one that
        // stopped, until it has been seen playing or a second has passed.
        const auto closed_at = std::chrono::steady_clock::now();
        bool seen_playing = false;
        // Without its input the console's checks go on, their reports (a track that failed, a
        // non-finite signal, xruns, underruns) on stderr.
        Console checks(player, backend.get());
        while (end == ConsoleEnd::input_closed && !stop_requested.load()) {
            const Console::Tick tick = checks.tick(std::chrono::steady_clock::now());
            if (tick.end) {
                end = *tick.end;  // reported below
                new_rate = tick.new_rate;
                break;
            }
            if (!tick.output.empty()) {
                std::fputs(tick.output.c_str(), stderr);
                std::fflush(stderr);
            }
            const TransportState t = player.transport();
            seen_playing = seen_playing || t.playing;
            if (const std::string r = reloader.poll(player, std::chrono::steady_clock::now()); !r.empty()) {
                std::fputs(r.c_str(), stdout);
                std::fflush(stdout);
            }
            const bool stopped = !t.playing && (seen_playing || std::chrono::steady_clock::now() - closed_at > std::chrono::seconds(1));
            if (!a.duration && !t.looping && (stopped || t.position_s > player.length_s() + 0.5)) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const BackendStatus last = backend->status();
        const StreamStats streams = player.stream_stats();
        if (a.stats || end == ConsoleEnd::backend_failed)
            std::printf("stats: %.1f s, %llu callbacks of %u frames at %.0f Hz, load mean %.1f %% peak %.1f %%, "
                        "xruns %llu, underruns %llu\n",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(),
                        static_cast<unsigned long long>(last.callbacks), last.buffer_frames, last.sample_rate,
                        100.0 * last.total_load_average, 100.0 * last.total_load_peak,
                        static_cast<unsigned long long>(last.xruns), static_cast<unsigned long long>(streams.underruns));
        std::fflush(stdout);
        if (player.recording()) {
            // What played is kept even when the backend failed: the file ends where the audio did.
            backend->stop();
            const RecordSummary rec = player.stop_recording();
            std::printf("recorded %s: %.3f s, %s\n", rec.output.string().c_str(),
                        static_cast<double>(rec.frames) / player.engine().sample_rate(), a.record_label.c_str());
            if (rec.lost_frames > 0)
                std::fprintf(stderr, "rtmix: warning: the recording lost %llu frames (%.3f s): the disk did not keep up\n",
                             static_cast<unsigned long long>(rec.lost_frames),
                             static_cast<double>(rec.lost_frames) / player.engine().sample_rate());
            if (rec.clipped_samples > 0)
                std::fprintf(stderr, "rtmix: warning: %llu samples of the recording clipped at full scale\n",
                             static_cast<unsigned long long>(rec.clipped_samples));
            if (end == ConsoleEnd::rate_changed)
                std::printf("the recording ends here: a file has one sample rate\n");
            std::fflush(stdout);
        }
        // A track that failed while playing is an error of the run, said on stderr whatever the
        // console showed.
        const bool track_failed = !streams.error.empty();
        if (track_failed) std::fprintf(stderr, "rtmix: a track failed while playing: %s\n", streams.error.c_str());
        if (end == ConsoleEnd::backend_failed) {
            // The console's transcript (stdout) has it; stderr gets it too, for scripts and logs.
            const std::string why = last.error.empty() ? std::string("the audio backend failed") : last.error;
            std::fprintf(stderr, "rtmix: %s\n", why.c_str());
            backend->stop();
            return exit_failure;
        }
        if (end != ConsoleEnd::rate_changed) {
            backend->stop();
            return track_failed ? exit_failure : exit_ok;
        }
        // The server changed its rate: rebuild the mix as it now stands at the new rate, from
        // where it was, in a new client.
        std::printf("the sample rate changed to %.0f Hz: restarting the mix at that rate\n", new_rate);
        session = player.session().with_values_of(player.engine());  // as reloaded, with the console's values
        resume_at = player.transport().position_s;
        resume_playing = player.transport().playing;
        backend->stop();
    }
}

int run_devices(const std::vector<std::string_view>& args) {
    if (!args.empty()) throw UsageError{fmt::format("devices takes no arguments, not '{}'", args.front())};
    std::vector<AudioDevice> devices;
    try {
        devices = audio_devices();
    } catch (const BackendError& e) {
        std::fprintf(stderr, "rtmix: %s\n", e.what());
        return exit_failure;
    }
    if (devices.empty()) std::printf("PortAudio finds no audio devices\n");
    std::string api;
    for (const AudioDevice& d : devices) {
        if (d.host_api != api) std::printf("%s%s:\n", api.empty() ? "" : "\n", d.host_api.c_str());
        api = d.host_api;
        std::printf("  %3d  %-40s  in %2d  out %2d  %6.0f Hz%s%s\n", d.index, d.name.c_str(), d.input_channels,
                    d.output_channels, d.default_sample_rate, d.default_output ? "  (default output)" : "",
                    d.default_input ? "  (default input)" : "");
    }
    return exit_ok;
}

}  // namespace rtmix::cli
