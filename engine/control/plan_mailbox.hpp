// Mailbox: hands render plans to the audio thread and takes retired ones back (the executor's
// PlanMailbox is a Mailbox<RenderPlan>; this file knows plans only as pointers it deletes).
//
// The control side publishes into a single atomic slot; the audio thread takes the newest plan
// at the top of a block with one atomic exchange (and may hold it until its frame comes), and
// pushes the plan it replaces onto an SPSC queue that the control side drains and deletes. A plan
// published before the audio thread took the previous one simply replaces it (the control side
// deletes the one never seen). The audio thread only takes a plan when the retire queue has room,
// so it never has to free, block or drop.
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

    /// Audio thread, wait-free: the newest published plan, taken out of the mailbox to be held
    /// until it is due (then swapped in with `adopt`/retire() by the caller), or null when there
    /// is none or the retire queue has no room for the plan it will replace.
    Plan* take_pending() noexcept {
        if (pending_.load(std::memory_order_acquire) == nullptr || retired_.write_available() == 0) return nullptr;
        return pending_.exchange(nullptr, std::memory_order_acq_rel);
    }
    /// Audio thread: hands a plan back to the control side to delete. False when the queue is
    /// full (take_pending() leaves room for one).
    bool retire(Plan* plan) noexcept { return retired_.push(plan); }
    bool can_retire() const noexcept { return retired_.write_available() > 0; }

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
