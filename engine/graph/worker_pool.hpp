// WorkerPool: threads that help the audio thread run one job per block, and sleep in between.
//
// run(job) is called on the audio thread: it publishes the job, wakes the workers (one futex
// wake), runs the job itself as participant 0, and returns once every worker that joined has left
// it. Workers sleep on a futex between jobs: no idle spinning. A worker that wakes late finds the
// job over and sleeps again, so a slow wake-up never delays a block by more than the job itself
// (the audio thread does all the work if need be).
//
// The hand-over, with sequentially consistent atomics: run() stores the job, sets `active_`,
// bumps `generation_` and wakes; a worker that sees a new generation counts itself in
// (`joined_`), then reads `active_`, and only then the job. When its own part is done, run()
// clears `active_` and waits for `joined_` to drop to zero: a worker either joined before that
// (and is waited for) or sees `active_` false and leaves without touching the job. So run() may
// overwrite the job for the next block as soon as it returns.
//
// Threads: constructor and destructor on the control side (they start and join the workers);
// run() on the audio thread, wait-free apart from waiting for the job's own participants.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "graph/backoff.hpp"

namespace rtmix::engine {

class WorkerPool {
public:
    using Job = void (*)(void* context, std::uint32_t participant) noexcept;

    /// Starts `workers` threads. `priority` > 0 asks for SCHED_FIFO at that priority (see
    /// scheduling_note()); `on_start` runs first on every worker thread (e.g. to mark it).
    WorkerPool(std::uint32_t workers, int priority, std::function<void()> on_start);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    std::uint32_t workers() const noexcept { return static_cast<std::uint32_t>(threads_.size()); }
    /// Runs `job` on the caller (participant 0) and on every worker that wakes in time
    /// (participants 1 ... workers()). Audio thread.
    void run(Job job, void* context) noexcept;
    /// Why the workers run without the real-time priority asked for; empty when they have it (or
    /// none was asked for). Control side, after construction.
    const std::string& scheduling_note() const noexcept { return note_; }

private:
    void work(std::uint32_t participant);

    std::vector<std::thread> threads_;
    std::atomic<std::uint32_t> generation_{0};
    std::atomic<bool> active_{false};
    std::atomic<std::uint32_t> joined_{0};
    std::atomic<bool> stop_{false};
    Job job_ = nullptr;
    void* context_ = nullptr;
    std::string note_;
    std::atomic<std::uint32_t> started_{0};
    std::atomic<int> refused_errno_{0};
};

}  // namespace rtmix::engine
