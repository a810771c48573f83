// rtmix::Engine: the mixing engine a host application links.
//
// Life cycle: construct with the sample rate and the largest block the host will pass; build the
// mix (tracks, buses, routing, sends, effects) and set parameters from a control thread; call
// process() from the audio thread for every block. The mix can change while audio runs.
//
// Threads:
// - Control calls (everything but process()) may come from any non-audio thread; they serialize
//   on an internal control-side mutex. They may allocate and take locks.
// - process() is the audio thread's only entry point. It never allocates, locks, does I/O, logs or
//   throws. Parameter changes reach it through a lock-free queue; a new routing reaches it as an
//   immutable render plan swapped in at the top of a block.
// - With one thread (EngineOptions::threads = 1, the default for a host that gives no real-time
//   priority) process() is wait-free. With worker threads it waits, within the block, for the
//   work they took (spinning, then yielding: graph/backoff.hpp); that is real-time safe only when
//   the workers run in the caller's scheduling class: EngineOptions::worker_priority = the audio
//   thread's SCHED_FIFO priority (or, offline, a caller at normal priority like the workers). If
//   the system refuses that priority the engine runs on the audio thread alone and says so
//   (poll_events()). docs/architecture.md states the guarantee for each configuration.
//
// Exactness: the output is a function of the mix, the inputs and the changes with their frames,
// not of the block sizes process() is called with, the number of threads or the track grouping:
// the same samples, bit for bit. What is set before the first process() stands from frame 0 (no
// glide from the defaults); docs/architecture.md says how each part keeps this.
//
// Names: strips are addressed as "track.NAME", "bus.NAME" and "master"; parameters as paths below
// them ("track.vox.gain_db", "track.vox.insert.1.threshold_db", "bus.verb.reverb.decay_s");
// docs/parameters.md lists every path, parameter_info() describes each (rtmix/parameters.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rtmix/automation.hpp"
#include "rtmix/parameters.hpp"
#include "rtmix/status.hpp"

namespace rtmix {

struct EngineOptions {
    double sample_rate = 48000.0;
    /// Largest number of frames one internal pass handles; process() splits longer calls.
    std::uint32_t max_block_frames = 1024;
    /// Room for parameter changes in flight between the control and the audio thread.
    std::uint32_t param_queue_capacity = 8192;
    /// Duration of the ramp that smooths every continuous parameter, in milliseconds.
    float smoothing_ms = 20.0f;
    /// Measure the master's loudness (BS.1770-4 / EBU R128) on the audio thread; see
    /// Engine::master_loudness(). Costs a K-weighting filter and an 8x true-peak interpolator.
    bool loudness_meter = true;
    /// Threads that run the mix: the audio thread (the one calling process()) and threads - 1
    /// workers that help it and sleep between blocks. 0: automatic: one per core the process may
    /// use (its CPU affinity, usable_cores()) when worker_priority is set, else 1, so that a host
    /// that gives no real-time priority gets a wait-free process(). An explicit count > 1 with
    /// worker_priority 0 is for callers at normal priority (offline rendering). The output is the
    /// same bit for bit whatever the number.
    std::uint32_t threads = 0;
    /// Smaller render plans (tracks + buses + master) run on the audio thread alone: for them
    /// waking workers costs more than it saves.
    std::uint32_t parallel_min_nodes = 16;
    /// SCHED_FIFO priority for the workers, the one the host's audio thread has (JACK clients: the
    /// server's client priority); 0 leaves them at normal priority. A refusal (no rtprio
    /// permission) is reported once by poll_events(), and the mix runs on the audio thread alone:
    /// workers that cannot share the audio thread's class would make it wait on them.
    int worker_priority = 0;
    /// Tracks run in groups of up to this many (1 to 8) as one piece of work; the steady EQs of
    /// a group's tracks run side by side in SIMD lanes (AVX-512, AVX2 or SSE2, chosen at run
    /// time). 1 runs every track alone. The output is the same bit for bit whatever the number.
    std::uint32_t track_group = 8;
    /// Runs first on every worker thread (a host may name it, pin it, or mark it for tests).
    std::function<void()> on_worker_start = {};
};

/// The named bus effects of add_effect(): inserts of type "reverb" and "delay" addressed as
/// "bus.NAME.reverb" and "bus.NAME.delay", running before the EQ.
enum class Effect { reverb, delay };

/// Where an insert runs in its strip: after the built-in compressor (the default; before the
/// fader and the sends) or before the built-in EQ (after the input stage and alignment delay).
enum class InsertPosition : std::uint8_t { post, pre };

/// One insert of a strip (Engine::inserts()).
struct InsertInfo {
    std::string path;  ///< "track.vox.insert.2", or "bus.verb.reverb" for a named bus effect
    std::string type;  ///< its processor type ("gate", "reverb", ...)
    InsertPosition position = InsertPosition::post;
    std::uint32_t latency_frames = 0;  ///< the delay it adds (kept while it is bypassed)
    std::string sidechain;             ///< the strip its detector listens to ("track.kick"), or empty
};

/// Meter readings of one strip, measured on its output (after fader, pan and mute).
struct StripMeter {
    float peak_dbfs[2];       ///< sample peak with a 20 dB/s fall-back, per channel
    float rms_dbfs[2];        ///< RMS integrated over 300 ms, per channel
    float peak_hold_dbfs;     ///< highest sample peak since the last reset_meters()
    float gain_reduction_db;  ///< compressor gain reduction now (<= 0)
    float max_gain_reduction_db;  ///< most gain reduction since the last reset_meters() (<= 0)
};

/// Loudness of the master output (after the limiter) per ITU-R BS.1770-4 and EBU R128, measured
/// since the last reset_meters() and refreshed every 100 ms. Values are -infinity while there is
/// nothing to measure (silence, or less audio than the window).
struct MasterLoudness {
    float momentary_lufs;          ///< 400 ms window
    float short_term_lufs;         ///< 3 s window
    float integrated_lufs;         ///< gated (EBU R128), in 0.1 LU steps
    float range_lu;                ///< loudness range (EBU Tech 3342); 0 until measurable
    float true_peak_dbtp;          ///< highest true peak (8x oversampled), both channels
    float sample_peak_dbfs;        ///< highest sample peak, both channels
    float limiter_gain_reduction_db;      ///< the master limiter's gain reduction now (<= 0)
    float limiter_max_gain_reduction_db;  ///< its most gain reduction since the reset (<= 0)
};

/// Something the audio thread reported, formatted on the control side.
struct Event {
    enum class Code {
        non_finite_signal,  ///< a NaN or Inf on a strip: it was silenced and its state cleared
        changes_delayed,    ///< the audio thread's list of pending changes was full: some
                            ///< changes waited for the next block (none was dropped)
        events_lost,        ///< the event queue was full: events were counted, not delivered
        scheduling,         ///< the worker threads could not get the real-time priority asked for:
                            ///< the mix runs on the audio thread alone
        automation_written, ///< a recorded pass was merged into a lane (Engine::record()); `strip`
                            ///< is the parameter's path
        automation_lost,    ///< the recorder's queue was full: a pass was not written
    };
    Code code;
    std::string strip;    ///< "track.NAME", "bus.NAME", "master", or empty
    std::string message;  ///< for a person
};

/// How Engine::record() records a parameter.
struct AutomationRecordOptions {
    /// touch: the touch also ends this long (on the timeline) after the last set(), as when a
    /// hand lets go of a fader; 0: only release(), a mode change or a stop end it.
    double touch_timeout_s = 0.0;
};

/// Counters for hosts and tests; read on the control side.
struct EngineStats {
    std::uint64_t params_sent = 0;     ///< parameter changes accepted by set() and routing calls
    std::uint64_t params_applied = 0;  ///< of those, applied by the audio thread so far
    std::uint64_t plans_published = 0;
    std::uint64_t blocks_processed = 0;
};

class Engine {
public:
    explicit Engine(const EngineOptions& options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // --- Mix topology (control thread) -------------------------------------------------------

    /// Adds a track with 1 (mono) or 2 (stereo) input channels. Its input is read from
    /// process()'s `inputs[first_input_channel ...]`; by default the next free channels.
    Status add_track(std::string_view name, std::uint32_t channels = 1,
                     std::int32_t first_input_channel = -1);
    /// Adds a stereo bus; like a track it feeds the master until routed elsewhere.
    Status add_bus(std::string_view name);
    /// Removes "track.NAME" or "bus.NAME" with its sends; strips that fed a removed bus fall
    /// back to the master, sends to it disappear.
    Status remove(std::string_view strip);
    /// Routes a strip's output to "master", "bus.NAME", or "" (not connected: silent).
    Status set_output(std::string_view strip, std::string_view destination);
    /// Adds a send from a strip to "bus.NAME", post-fader unless `pre_fader`.
    Status add_send(std::string_view strip, std::string_view bus, double level_db = 0.0,
                    bool pre_fader = false);
    Status remove_send(std::string_view strip, std::string_view bus);
    /// Inserts a reverb or delay on a bus or the master (after the input stage, before the EQ),
    /// addressed as "bus.NAME.reverb" / "bus.NAME.delay"; one of each per strip.
    Status add_effect(std::string_view bus, Effect effect);
    Status remove_effect(std::string_view bus, Effect effect);
    /// Appends an insert of processor type `type` (processor_types()) to a track, bus or the
    /// master; it is on, at its defaults, and addressed as "STRIP.insert.N", N counting the
    /// strip's numbered inserts from 1 in the order they were added. `path`, if given, receives
    /// that path.
    Status add_insert(std::string_view strip, std::string_view type, InsertPosition position = InsertPosition::post,
                      std::string* path = nullptr);
    /// Removes "STRIP.insert.N" (it crossfades to its input first); later inserts are renumbered.
    Status remove_insert(std::string_view insert);
    /// The inserts of a strip in the order they were added (empty for an unknown strip).
    std::vector<InsertInfo> inserts(std::string_view strip) const;
    /// Makes the detector of a dynamics processor ("track.bass.compressor", "bus.x.insert.2": the
    /// kinds with ProcessorInfo::sidechain) listen to another strip ("track.kick", "bus.drums"):
    /// to its signal after its inserts, before its fader, pan and mute, aligned in time with the
    /// processor's own signal. "" listens to the processor's own signal again. The key is a
    /// dependency like a send: a cycle is refused and named.
    Status set_sidechain(std::string_view processor, std::string_view source);
    /// The strip the processor's sidechain listens to ("track.kick"), or empty.
    std::string sidechain(std::string_view processor) const;
    /// Runs `edits` and publishes one render plan at the end instead of one per change; the
    /// return value is the first failure, if any (later edits still run).
    Status batch(const std::function<Status()>& edits);

    // --- Parameters (control thread) ---------------------------------------------------------

    /// Sets a numeric parameter; the change lands `sample_offset` frames into the next block
    /// the audio thread processes (later blocks if it is larger) and is smoothed from there
    /// (before the first block: it stands from frame 0). Changes never overtake each other: one
    /// sent after a change that is still waiting for its frame lands no earlier than that change;
    /// a change that alters the graph (a lookahead) takes the new latency compensation with it
    /// at its frame, and so does any routing change sent after it.
    Status set(std::string_view path, double value, std::uint32_t sample_offset = 0);
    /// Sets a parameter that takes a word ("peak", "highpass", ...).
    Status set(std::string_view path, std::string_view value, std::uint32_t sample_offset = 0);
    Status set(std::string_view path, const char* value, std::uint32_t sample_offset = 0) {
        return set(path, std::string_view(value), sample_offset);
    }
    /// The value last set (or the default) of a numeric parameter.
    Status get(std::string_view path, double& value) const;
    /// The value last set (or the default) of a word parameter ("peak", "rms", ...).
    Status get(std::string_view path, std::string& word) const;
    /// Every valid parameter path of the current mix, sorted.
    std::vector<std::string> parameter_paths() const;
    /// What the parameter at `path` is: kind, unit, range in force, default, words, description.
    Status parameter_info(std::string_view path, ParameterInfo& out) const;
    /// parameter_info() of every path of parameter_paths(), in that order.
    std::vector<ParameterInfo> parameters() const;

    // --- Automation (control thread; rtmix/automation.hpp) -----------------------------------

    /// Gives the parameter at `path` a lane of breakpoints on the timeline (set_timeline()),
    /// replacing the lane it had; an empty lane removes it. Published like a routing change. Any
    /// number parameter takes every shape; words and switches take `hold` (the last point's shape
    /// is never used). Refused, with the reason: values out of range (the message names the
    /// breakpoint and the range), points out of order, an exponential segment that does not stay
    /// above 0, and the parameters that are set rather than moved (solo, solo_safe, the
    /// alignment delay, anything that changes the latency). A strip's mute takes steps; a solo
    /// elsewhere silences the strip whatever its mute lane says.
    ///
    /// The audio thread reads every lane at each 32nd frame of the timeline while it rolls and
    /// sends the value it will have at the next such point: trim, fader, pan and send levels ramp
    /// there in a straight line, other parameters glide there with their own smoothing. A set()
    /// of an automated parameter takes over from its lane until the lane's next breakpoint (as a
    /// fader touched by hand, "touch" in Ardour and Tracktion), then the lane goes on, or until
    /// release() gives it back.
    Status automate(std::string_view path, const Lane& lane);
    /// Gives an automated parameter back to its lane at once (at `sample_offset` into the next
    /// block), after a set() took over from it: it moves to the lane's value within 32 frames.
    /// A parameter recorded in touch mode (record()) that is being written: ends the touch, and
    /// it glides back to its lane, as written, over the smoothing time.
    Status release(std::string_view path, std::uint32_t sample_offset = 0);
    /// Every lane of the mix, by parameter path, in the order of parameter_paths().
    std::vector<std::pair<std::string, Lane>> automation() const;

    /// Records the values set() gives the parameter at `path` into its lane while the timeline
    /// rolls, in `mode` (AutomationMode: touch, latch, write; read stops recording). What a set()
    /// does while written is heard exactly as the written lane plays it back: from the first
    /// 32nd frame of the timeline at or after the frame the set() lands at, a number glides there
    /// in a straight line over the smoothing time (EngineOptions::smoothing_ms, to the next 32nd
    /// frame), a word or switch steps there. The audio thread reports each written breakpoint
    /// with its frame; when a written stretch ends (a touch let go, the timeline stopped or
    /// jumped, the mode changed) the control side replaces the lane's points over exactly that
    /// stretch with them, thinned (thin(): 0.1 dB for gains, 0.5 % of the range for the rest,
    /// of the logarithm for frequencies), and publishes the lane as automate() does; a
    /// poll_events() Event (automation_written) says so. The control side takes the reports in
    /// any control call. Refused for what automate() refuses. docs/automation.md.
    Status record(std::string_view path, AutomationMode mode, const AutomationRecordOptions& options = {});
    /// The parameters being recorded and their modes, in the order of parameter_paths().
    std::vector<std::pair<std::string, AutomationMode>> recording() const;

    // --- Audio (audio thread) ----------------------------------------------------------------

    /// Where the timeline is: the position (frames from the session's start) of the next frame
    /// process() renders, and whether it moves on with the frames (a transport playing) or stands
    /// (stopped; the mix still runs). Call it from the audio thread before process() when the
    /// host's transport moves otherwise (a locate, a loop, a stop); a jump makes every lane land on
    /// its value there within 32 frames. By default the timeline starts at 0 and rolls.
    void set_timeline(std::int64_t frame, bool rolling) noexcept;

    /// Renders `frames` frames. `inputs[c]` is input channel c (nullptr: silence); channels past
    /// `input_channels` read silence. `outputs[0]`, `outputs[1]` receive the master, left and
    /// right. Wait-free: no allocation, lock, I/O or exception.
    void process(const float* const* inputs, std::uint32_t input_channels,
                 float* const* outputs, std::uint32_t frames) noexcept;

    // --- Meters, events, facts (control thread) ----------------------------------------------

    /// Latest meters of "track.NAME", "bus.NAME" or "master"; false if there is no such strip.
    bool meter(std::string_view strip, StripMeter& out) const;
    /// Loudness of the master output; false if EngineOptions::loudness_meter is off (the
    /// limiter's figures are still filled in).
    bool master_loudness(MasterLoudness& out) const;
    /// Clears the peak holds, maximum gain reductions and the loudness measurement (in order with
    /// parameter changes).
    Status reset_meters();
    /// Events the audio thread reported since the last call.
    std::vector<Event> poll_events();
    /// Number of input channels the current tracks read (the `inputs` process() looks at).
    std::uint32_t input_channels() const;
    /// Total latency of the mix from track input to master output, in frames: the longest path's
    /// lookaheads and latent inserts (every shorter path is delayed to match), plus the master
    /// limiter's lookahead while it is enabled.
    std::uint32_t latency_frames() const;
    double sample_rate() const noexcept;
    std::uint32_t max_block_frames() const noexcept;
    EngineStats stats() const;
    /// Threads that run the mix (see EngineOptions::threads), the audio thread included.
    std::uint32_t threads() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The CPUs this process may run on (its affinity mask: taskset, cgroup cpusets), at least 1.
std::uint32_t usable_cores() noexcept;

/// The instruction set the EQ lanes use on this machine (see EngineOptions::track_group):
/// "avx512", "avx2" or "portable" (SSE2 on x86-64). Chosen when the library loads; the
/// environment variable RTMIX_SIMD=avx2 or =sse2 caps it, for comparisons.
const char* simd_instruction_set() noexcept;

}  // namespace rtmix
