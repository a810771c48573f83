// Executor: the audio thread's side of the engine.
//
// For every block: take the newest render plan from the mailbox, drain the parameter queue
// (changes with a sample offset wait in a preallocated list, in order, until their frame), run the
// plan's nodes between those frames, copy the master to the host, publish meters and report
// events. Everything here is wait-free: no allocation, lock, I/O or exception once constructed.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "control/param_change.hpp"
#include "control/plan_mailbox.hpp"
#include "graph/render_plan.hpp"

namespace rtmix::engine {

using ParamQueue = boost::lockfree::spsc_queue<ParamChange>;
using EventQueue = boost::lockfree::spsc_queue<AudioEvent>;

class Executor {
public:
    /// Control thread: preallocates room for `pending_capacity` offset changes.
    Executor(std::uint32_t max_block_frames, std::uint32_t pending_capacity, ParamQueue& params,
             PlanMailbox& mailbox, EventQueue& events);
    ~Executor();

    /// Audio thread, wait-free. See Engine::process().
    void process(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                 std::uint32_t frames) noexcept;

    /// Every change with a sequence number up to this one has been applied (control side reads).
    std::uint64_t applied_through() const noexcept { return applied_through_.load(std::memory_order_acquire); }
    std::uint64_t params_applied() const noexcept { return applied_.load(std::memory_order_relaxed); }
    std::uint64_t blocks() const noexcept { return blocks_.load(std::memory_order_relaxed); }
    /// Frames processed since the start.
    std::uint64_t frames() const noexcept { return frames_.load(std::memory_order_relaxed); }
    std::uint64_t events_lost() const noexcept { return events_lost_.load(std::memory_order_relaxed); }

private:
    void run_chunk(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                   std::uint32_t offset, std::uint32_t frames) noexcept;
    void run_nodes(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                   std::uint32_t call_offset, std::uint32_t pos, std::uint32_t frames) noexcept;
    void drain_queue() noexcept;
    void apply_due(std::uint32_t pos) noexcept;
    void apply(const ParamChange& change) noexcept;
    void publish_progress() noexcept;
    void report(AudioEvent event) noexcept;

    std::uint32_t max_block_frames_;
    ParamQueue& params_;
    PlanMailbox& mailbox_;
    EventQueue& events_;
    RenderPlan* plan_ = nullptr;

    // Changes waiting for a later frame, in the order sent (which is also the order of offsets).
    std::vector<ParamChange> waiting_;
    std::uint32_t waiting_count_ = 0;
    std::uint64_t last_popped_ = 0;
    std::vector<StripIo::SendTap> taps_;
    bool reported_full_ = false;  // one changes_delayed event per episode

    std::atomic<std::uint64_t> applied_through_{0};
    std::atomic<std::uint64_t> applied_{0};
    std::atomic<std::uint64_t> blocks_{0};
    std::atomic<std::uint64_t> frames_{0};
    std::atomic<std::uint64_t> events_lost_{0};
};

}  // namespace rtmix::engine
