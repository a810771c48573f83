// RenderPlan: the immutable, flat form of the mix that the audio thread runs.
//
// Compiled on the control side from the model (graph/compile.hpp), handed to the audio thread
// through a wait-free mailbox, and deleted on the control side after the audio thread hands it
// back. It never changes once published.
//
// Nodes are in dependency order: running them front to back is a valid serial schedule. Tasks
// cover the nodes in the same order (tracks in groups, every other node alone); each task carries
// its dependants and an initial dependency count, so a parallel scheduler can start every task
// whose count is zero and release dependants as tasks finish.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "automation/lane.hpp"
#include "graph/backoff.hpp"
#include "processors/insert.hpp"
#include "processors/master_chain.hpp"
#include "processors/strip.hpp"

namespace rtmix::engine {

struct PlanNode {
    enum class Kind : std::uint8_t { track, bus, master };
    Kind kind = Kind::track;
    Strip* strip = nullptr;

    // Tracks: which process() input channels feed the strip.
    std::uint32_t input_channel = 0;
    std::uint32_t input_channels = 0;

    std::uint32_t out_buffer = 0;  // stereo buffer the strip writes
    // Buses and the master: the buffers summed into the strip's input, in this fixed order
    // (so the sum is bit-identical under any schedule): plan.bus_inputs[first_input ...].
    std::uint32_t first_input = 0;
    std::uint32_t input_count = 0;
    // plan.send_taps[first_send ...]: the strip's sends and the buffers they write.
    std::uint32_t first_send = 0;
    std::uint32_t send_count = 0;
    // plan.inserts[first_insert ...]: the pre-inserts, then the post-inserts, each in order.
    std::uint32_t first_insert = 0;
    std::uint32_t pre_count = 0;
    std::uint32_t post_count = 0;
    // Channels through the EQ and compressor, and from the post-inserts on (StripIo).
    std::uint32_t mid_channels = 2;
    std::uint32_t back_channels = 2;

    // Sidechains: the buffer the strip writes its key into (no_buffer when nobody listens), and
    // the key tap its compressor listens to (plan.insert_keys has its inserts').
    std::uint32_t key_tap = no_buffer;
    std::uint32_t compressor_key = no_buffer;
    bool keyed = false;  // any of the above, or an insert that listens to a key
    // plan.edges[first_edge ...]: the latency compensation of the strip's outputs.
    std::uint32_t first_edge = 0;
    std::uint32_t edge_count = 0;
    std::uint32_t latency_frames = 0;  // from the track inputs to this node's output
};

/// The compensating delay of one output of a node's strip (output_edge, a send_edge(), or a
/// track's input_edge).
struct PlanEdge {
    std::uint32_t edge = 0;
    std::uint32_t frames = 0;
    DelayMemory* memory = nullptr;
};

/// The delay that aligns a sidechain key with the processor that listens to it.
struct PlanKeyDelay {
    CompensationDelay* delay = nullptr;
    DelayMemory* memory = nullptr;
    std::uint32_t frames = 0;
};

/// A lane of automation the executor evaluates (automation/lane.hpp), with the audio thread's
/// state of it.
struct PlanLane {
    ParamChange address;  // target, param, slot
    bool ramped = false;  // the target ramps in the frames it is given (apply_ramped())
    Strip* strip = nullptr;  // ramped: the strip, which takes them scheduled inside a run
    const LaneData* data = nullptr;      // null: no lane, only recorded (rec >= 0)
    std::uint32_t cursor = 0;            // where the last read stopped
    std::int64_t held_until = INT64_MIN; // a set() overrides the lane until this frame
    float last = 0.0f;                   // the value last sent
    bool sent = false;                   // `last` holds one

    // Recording (Engine::record()): the executor keeps the state of slot `rec` (-1: not recorded).
    std::int32_t rec = -1;
    std::uint32_t rec_serial = 0;        // the arming (a slot is reused for later ones)
    AutomationMode rec_mode = AutomationMode::read;
    bool stepped = false;                // words, switches, choices: written as steps
    std::uint32_t glide = 32;            // frames a written set() glides over (grid multiple)
    std::int64_t touch_timeout = 0;      // touch: frames after the last set() that end it; 0: none
    double base = 0.0;                   // no lane: the parameter's value when armed
};

/// What a scheduler runs as one piece: one node, or a group of tracks (consecutive nodes) whose
/// EQs run together in SIMD lanes (dsp/eq_lanes.hpp).
struct PlanTask {
    std::uint32_t first_node = 0;
    std::uint32_t node_count = 1;
    // For a parallel scheduler: plan.dependants[first_dependant ...] are the tasks that consume
    // this task's buffers; `dependencies` is how many distinct tasks this one waits for.
    std::uint32_t first_dependant = 0;
    std::uint32_t dependant_count = 0;
    std::uint32_t dependencies = 0;
};

/// The tasks that may run now, for a parallel run of the plan: each task is pushed exactly once
/// per run, so `slots` needs one entry per task. Lock-free: a push claims a slot with one
/// fetch_add and fills it; a pop claims the next filled slot with a compare-exchange (and waits the
/// few instructions between a push's claim and its fill).
class ReadyQueue {
public:
    static constexpr std::uint32_t empty = UINT32_MAX;
    explicit ReadyQueue(std::size_t capacity) : slots_(capacity) {}

    /// Before a run, while no other thread touches the queue.
    void clear(std::uint32_t used) noexcept {
        for (std::uint32_t i = 0; i < used; ++i) slots_[i].store(empty, std::memory_order_relaxed);
        head_.store(0, std::memory_order_relaxed);
        tail_.store(0, std::memory_order_relaxed);
    }
    void push(std::uint32_t node) noexcept {
        const std::uint32_t i = tail_.fetch_add(1, std::memory_order_acq_rel);
        slots_[i].store(node, std::memory_order_release);
    }
    bool pop(std::uint32_t& node) noexcept {
        std::uint32_t h = head_.load(std::memory_order_acquire);
        for (;;) {
            if (h >= tail_.load(std::memory_order_acquire)) return false;
            if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel)) break;
        }
        for (Backoff backoff; (node = slots_[h].load(std::memory_order_acquire)) == empty;) backoff.pause();
        return true;
    }

private:
    std::vector<std::atomic<std::uint32_t>> slots_;
    std::atomic<std::uint32_t> head_{0}, tail_{0};
};

/// The per-run state of a parallel run: dependency counters and the ready queue (per task), tasks
/// still to finish, and what each node reported. Reset by the audio thread at the start of each run.
struct ParallelState {
    ParallelState(std::size_t tasks, std::size_t nodes) : waiting(tasks), ready(tasks), non_finite(nodes, 0) {}
    std::vector<std::atomic<std::uint32_t>> waiting;
    ReadyQueue ready;
    std::atomic<std::uint32_t> remaining{0};
    std::vector<std::uint8_t> non_finite;  // each entry written by the one thread that ran the node
};

struct SendTapPlan {
    std::uint32_t slot;    // the source Strip's send state
    std::uint32_t buffer;  // stereo buffer the send writes
};

struct RenderPlan {
    std::vector<PlanNode> nodes;  // topological order: every node after the nodes it reads
    std::vector<PlanTask> tasks;  // in the same order
    std::vector<std::uint32_t> bus_inputs;
    std::vector<SendTapPlan> send_taps;
    std::vector<Insert*> inserts;
    std::vector<std::uint32_t> insert_keys;  // per insert: the key tap it listens to, or no_buffer
    std::vector<PlanEdge> edges;
    std::vector<PlanKeyDelay> key_delays;
    std::vector<PlanLane> lanes;  // automation
    // Some lane's target cannot take changes scheduled inside a run (a processor's parameter):
    // runs end at every grid point of the timeline.
    bool lanes_split_runs = false;
    std::vector<std::uint32_t> dependants;

    std::uint32_t buffer_count = 0;
    std::uint32_t max_block_frames = 0;
    std::vector<float> buffer_storage;  // buffer_count stereo buffers of max_block_frames
    std::unique_ptr<ParallelState> parallel;  // for a parallel run; sized to the tasks

    std::uint32_t latency_frames = 0;  // of the master strip's output (the master chain's comes on top)
    // The last parameter change sent before the plan: it takes over at that change's frame, so a
    // change that alters the graph (a lookahead, hence the compensation) is as sample-accurate as
    // any other.
    std::uint64_t after_sequence = 0;
    MasterChain* master_chain = nullptr;  // runs on the master's output

    // Keeps every Strip and Insert this plan points at alive until the plan is deleted
    // (always on the control side).
    std::vector<std::shared_ptr<void>> keep_alive;

    float* channel(std::uint32_t buffer, std::uint32_t ch) noexcept {
        return buffer_storage.data() + (static_cast<std::size_t>(buffer) * 2 + ch) * max_block_frames;
    }
};

}  // namespace rtmix::engine
