// Backoff: how a thread that runs the mix waits for another one within a block, the one way the
// engine does it (after crill's progressive_backoff_wait). The first `spin_rounds` rounds spin
// with the CPU's pause hint: the other thread is running and will be done in nanoseconds to
// microseconds. After that each round also yields the CPU, in case the other thread was
// preempted and waits for this core. There is no sleep and no futex: the wait lasts as long as
// the work it waits for, and never longer than that work on the threads that run it.
//
// Who waits: the audio thread for workers still inside a block's job (WorkerPool::run), a
// participant for a task to become ready (Executor), a reader of the ready queue for the few
// instructions between a push's claim and its fill (ReadyQueue). This is why process() with
// worker threads is not wait-free: see EngineOptions::threads for when it is real-time safe.
#pragma once

#include <sched.h>

#include <cstdint>

namespace rtmix::engine {

/// Spin-wait hint for a busy loop.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

class Backoff {
public:
    static constexpr std::uint32_t spin_rounds = 64;

    /// One round of waiting. Wait-free in itself; a yield may let other threads run first.
    void pause() noexcept {
        cpu_relax();
        if (rounds_ < spin_rounds) ++rounds_;
        else sched_yield();
    }
    /// The awaited thing moved: spin again before yielding.
    void reset() noexcept { rounds_ = 0; }

private:
    std::uint32_t rounds_ = 0;
};

}  // namespace rtmix::engine
