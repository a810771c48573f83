// Mailbox: hands render plans to the audio thread and takes retired ones back (the executor's
// PlanMailbox is a Mailbox<RenderPlan>; this file knows plans only as pointers it deletes).
//
// The control side publishes into a single atomic slot; the audio thread takes the newest plan
// at the top of a block with one atomic exchange, and pushes the plan it replaces onto an SPSC
// queue that the control side drains and deletes. A plan published before the audio thread took
// the previous one simply replaces it (the control side deletes the one never seen). The audio
// thread only swaps when the retire queue has room, so it never has to free, block or drop.
#pragma once

#include <atomic>
#include <memory>

#include <boost/lockfree/spsc_queue.hpp>

namespace rtmix::engine {

template <class Plan>
class Mailbox {
public:
    explicit Mailbox(std::size_t retire_capacity = 64) : retired_(retire_capacity) {}
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;
    ~Mailbox() {
        delete pending_.exchange(nullptr);
        Plan* p = nullptr;
        while (retired_.pop(p)) delete p;
    }

    /// Control side: makes `plan` the next one the audio thread takes. Returns a previously
    /// published plan the audio thread never took (the caller deletes it), or null.
    std::unique_ptr<Plan> publish(std::unique_ptr<Plan> plan) {
        return std::unique_ptr<Plan>(pending_.exchange(plan.release(), std::memory_order_acq_rel));
    }

    /// Audio thread, wait-free: the plan to run this block (`current` or a newer one). When it
    /// switches, `adopt(next)` runs first (while `current` and everything it keeps alive still
    /// stands), then `current` goes onto the retire queue.
    template <class Adopt>
    Plan* take(Plan* current, Adopt&& adopt) noexcept {
        if (pending_.load(std::memory_order_acquire) == nullptr) return current;
        if (current != nullptr && retired_.write_available() == 0) return current;
        Plan* next = pending_.exchange(nullptr, std::memory_order_acq_rel);
        adopt(next);
        if (current != nullptr) retired_.push(current);
        return next;
    }

    /// Control side: one plan the audio thread has let go of, or null.
    std::unique_ptr<Plan> collect() {
        Plan* p = nullptr;
        return std::unique_ptr<Plan>(retired_.pop(p) ? p : nullptr);
    }

private:
    std::atomic<Plan*> pending_{nullptr};
    boost::lockfree::spsc_queue<Plan*> retired_;
};

}  // namespace rtmix::engine
