// Executor: the audio thread's side of the engine.
//
// For every block: drain the parameter queue (changes with a sample offset wait in a preallocated
// list, in order, until their frame), take the newest render plan from the mailbox (it takes over
// at the frame of the last change sent before it: at once, or later in the block, or in a later
// block), run the plan's nodes between those frames, copy the master to the host, publish meters and report
// events. Before the very first frame, the plan is settled: what was set before the audio started
// stands at frame 0 instead of gliding there from the defaults (nothing has sounded to smooth). Everything here is wait-free: no allocation, lock, I/O or exception once constructed.
//
// The plan's tasks (a group of tracks, or one bus) run serially in plan order, or, with worker
// threads and a plan of at least `parallel_min_nodes` nodes, in parallel by dependency counting:
// every task whose inputs are ready goes into the plan's ready queue, the audio thread and the
// workers take tasks from it, and finishing a task counts down its dependants, queueing those that
// reach zero. A group of tracks runs its strips' EQs together in SIMD lanes (dsp/eq_lanes.hpp).
// The output is the same bit for bit whatever the schedule and the grouping: each node's
// processing reads only finished inputs, a bus sums them in the plan's fixed order, and the lanes
// compute exactly what each strip's own EQ would.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "control/param_change.hpp"
#include "control/plan_mailbox.hpp"
#include "graph/render_plan.hpp"
#include "graph/worker_pool.hpp"

namespace rtmix::engine {

using ParamQueue = boost::lockfree::spsc_queue<ParamChange>;
using PlanMailbox = Mailbox<RenderPlan>;
using EventQueue = boost::lockfree::spsc_queue<AudioEvent>;
using RecordQueue = boost::lockfree::spsc_queue<RecordReport>;

class Executor {
public:
    struct Threads {
        std::uint32_t count = 1;            // the audio thread and count - 1 workers
        std::uint32_t parallel_min_nodes = 16;
        int priority = 0;                   // SCHED_FIFO priority of the workers; 0: normal
        std::function<void()> on_worker_start;
    };

    /// Control thread: preallocates room for `pending_capacity` offset changes; starts workers.
    Executor(std::uint32_t max_block_frames, std::uint32_t pending_capacity, ParamQueue& params,
             PlanMailbox& mailbox, EventQueue& events, RecordQueue& records, const Threads& threads);
    ~Executor();

    /// Audio thread, wait-free. See Engine::process().
    void process(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                 std::uint32_t frames) noexcept;

    /// Audio thread, before process(): see Engine::set_timeline().
    void set_timeline(std::int64_t frame, bool rolling) noexcept {
        if (frame == timeline_ && rolling == rolling_) return;
        lanes_fresh_ = true;
        if (armed_ > 0) timeline_moves(frame, rolling);
        timeline_ = frame;
        rolling_ = rolling;
    }
    /// Frames between the points where automation lanes are read (on the timeline).
    static constexpr std::int64_t automation_grid = 32;

    /// Every change with a sequence number up to this one has been applied (control side reads).
    std::uint64_t applied_through() const noexcept { return applied_through_.load(std::memory_order_acquire); }
    std::uint64_t params_applied() const noexcept { return applied_.load(std::memory_order_relaxed); }
    std::uint64_t blocks() const noexcept { return blocks_.load(std::memory_order_relaxed); }
    /// Frames processed since the start.
    std::uint64_t frames() const noexcept { return frames_.load(std::memory_order_relaxed); }
    std::uint64_t events_lost() const noexcept { return events_lost_.load(std::memory_order_relaxed); }
    /// Recorder reports that found the queue full (control side reads).
    std::uint64_t records_lost() const noexcept { return records_lost_.load(std::memory_order_relaxed); }
    /// Threads that run the graph, the audio thread included.
    std::uint32_t threads() const noexcept { return pool_ ? pool_->workers() + 1 : 1; }
    /// Why the workers lack the real-time priority asked for (empty if they have it).
    std::string scheduling_note() const { return scheduling_note_; }

private:
    void run_chunk(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                   std::uint32_t offset, std::uint32_t frames) noexcept;
    /// What one run of the plan's nodes reads and writes.
    struct Run {
        Executor* executor;
        const float* const* inputs;
        std::uint32_t input_channels;
        float* const* outputs;
        std::uint32_t call_offset, pos, frames;
    };
    void run_nodes(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                   std::uint32_t call_offset, std::uint32_t pos, std::uint32_t frames) noexcept;
    /// Runs one node; true if its strip went non-finite (an event to report).
    bool run_node(const Run& run, std::uint32_t index, StripIo::SendTap* taps) noexcept;
    /// Runs one task (a node, or a group of tracks); sets non_finite[node] for each of its nodes.
    void run_task(const Run& run, std::uint32_t index, StripIo::SendTap* taps, std::uint8_t* non_finite) noexcept;
    /// The inputs, outputs, sends and inserts of node `index` for this run (a bus's input is its
    /// output buffer, where run_node() sums).
    StripIo node_io(const Run& run, std::uint32_t index, StripIo::SendTap* taps) noexcept;
    static void parallel_job(void* run, std::uint32_t participant) noexcept;
    void drain_queue() noexcept;
    /// Before the first frame: everything in the plan at rest at the values set so far.
    void settle_plan() noexcept;
    /// Takes a newly published plan out of the mailbox into held_ (retiring an older held one).
    void hold_newest_plan() noexcept;
    /// Swaps held_ in once every change sent before it has been applied.
    void swap_plan_if_due() noexcept;
    /// Every change with a sequence number up to this one has been applied.
    std::uint64_t applied_now() const noexcept;
    /// Sends every lane's value: rolling, the value at the next grid point, ramped to reach it
    /// there; stopped (or `snap`), the value at the position now.
    void run_lanes(bool snap) noexcept;
    /// The ramped lanes' values at the grid points inside the run of `frames` frames from now,
    /// scheduled into their strips (no cut of the run there).
    void schedule_lanes(std::uint32_t frames) noexcept;
    /// A set() from the control side on an automated parameter: its lane waits for its next point.
    void hold_lanes_of(const ParamChange& change) noexcept;
    // --- Recording (Engine::record()) ---------------------------------------------------------
    /// The audio thread's state of one recorded parameter. While it is written, the parameter
    /// follows `from` -> `to` (then to's value) for from.frame <= x < curve_end, its lane (or
    /// `base`) elsewhere: the very breakpoints reported, so the lane built from them plays back
    /// what was heard.
    struct RecState {
        std::uint32_t serial = 0;  // the arming; 0: slot free
        AutomationMode mode = AutomationMode::read;
        bool writing = false;      // a written stretch is open
        Breakpoint from{INT64_MAX, 0.0, Shape::hold}, to{INT64_MAX, 0.0, Shape::hold};
        std::int64_t curve_end = INT64_MIN;
        std::int64_t touch_end = INT64_MAX;  // touch with a timeout: the frame it lets go
        double base = 0.0;
        PlanLane* lane = nullptr;  // in plan_
    };
    /// The recording state of a recorded lane, if its arming is still in force.
    RecState* state_of(const PlanLane& lane) noexcept;
    /// The recorded lane of the plan that `change` addresses, with its state; null if none.
    PlanLane* recorded_lane(const ParamChange& change, RecState*& state) noexcept;
    /// The value of a lane at timeline frame `x`: what is written, else its lane.
    double lane_value(PlanLane& lane, std::int64_t x) noexcept;
    double old_value(PlanLane& lane, const RecState& r, std::int64_t x) noexcept;
    double rec_value(PlanLane& lane, RecState& r, std::int64_t x) noexcept;
    void record(const RecState& r, std::uint32_t slot, RecordReport::Kind kind, std::int64_t frame, double value,
                Shape shape) noexcept;
    /// A set() of `value` written from grid point `at`: a glide (numbers) or a step.
    void write_change(PlanLane& lane, RecState& r, double value, std::int64_t at) noexcept;
    /// Writing starts at `at` with the constant `value` (write mode, or a jump while writing).
    void write_constant(PlanLane& lane, RecState& r, double value, std::int64_t at) noexcept;
    /// A touch lets go at frame `frame`: it glides back to its lane, written.
    void let_go(PlanLane& lane, RecState& r, std::int64_t frame) noexcept;
    /// The written stretch ends where the timeline stopped or jumped (`frame`: the position of
    /// the frame that did not play). `cut`: its glide is cut at the grid point there (the mode
    /// changed while the timeline rolls on), else it is kept whole.
    void end_stretch(PlanLane& lane, RecState& r, std::int64_t frame, bool cut) noexcept;
    /// set() of a recorded parameter: written (true) while the timeline rolls.
    bool record_change(const ParamChange& change) noexcept;
    bool release_touch(const ParamChange& change) noexcept;
    /// Touches whose timeout came by `now` let go.
    void expire_touches(std::int64_t now) noexcept;
    /// Before a new plan takes over: armings, mode changes and disarmings it carries.
    void adopt_recording(RenderPlan& next) noexcept;
    void timeline_moves(std::int64_t frame, bool rolling) noexcept;

    void apply_due(std::uint32_t pos) noexcept;
    void apply(const ParamChange& change) noexcept;
    void publish_progress() noexcept;
    void report(AudioEvent event) noexcept;

    std::uint32_t max_block_frames_;
    ParamQueue& params_;
    PlanMailbox& mailbox_;
    EventQueue& events_;
    RecordQueue& records_;
    std::vector<RecState> rec_;     // max_recorded
    std::uint32_t armed_ = 0;       // slots in use
    std::int64_t touch_deadline_ = INT64_MAX;  // the earliest touch_end
    RenderPlan* plan_ = nullptr;
    RenderPlan* held_ = nullptr;  // published, waiting for the frame of the last change before it

    // Changes waiting for a later frame, in the order sent (which is also the order of offsets).
    std::vector<ParamChange> waiting_;
    std::uint32_t waiting_count_ = 0;
    std::uint64_t last_popped_ = 0;
    std::vector<StripIo::SendTap> taps_;  // max_sends per participant
    bool reported_full_ = false;  // one changes_delayed event per episode
    bool started_ = false;        // a frame has been processed
    // The timeline the automation follows: the position of the next frame, whether it moves with
    // the frames, and whether the lanes must be read at the next segment although it is not on
    // the grid (a locate, a new plan).
    std::int64_t timeline_ = 0;
    bool rolling_ = true;
    bool lanes_fresh_ = true;
    std::uint32_t parallel_min_nodes_;
    std::unique_ptr<WorkerPool> pool_;
    std::string scheduling_note_;  // why there are no workers although some were asked for
    Run run_{};  // the run under way, for the workers

    std::atomic<std::uint64_t> applied_through_{0};
    std::atomic<std::uint64_t> applied_{0};
    std::atomic<std::uint64_t> blocks_{0};
    std::atomic<std::uint64_t> frames_{0};
    std::atomic<std::uint64_t> events_lost_{0};
    std::atomic<std::uint64_t> records_lost_{0};
};

}  // namespace rtmix::engine
