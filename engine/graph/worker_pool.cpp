#include "graph/worker_pool.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>

namespace rtmix::engine {

namespace {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace

WorkerPool::WorkerPool(std::uint32_t workers, int priority, std::function<void()> on_start) {
    threads_.reserve(workers);
    for (std::uint32_t i = 0; i < workers; ++i)
        threads_.emplace_back([this, i, priority, on_start] {
            if (priority > 0) {
                sched_param p{};
                p.sched_priority = priority;
                if (const int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p); e != 0) refused_errno_.store(e);
            }
            if (on_start) on_start();
            started_.fetch_add(1);
            work(i + 1);
        });
    while (started_.load() < workers) std::this_thread::yield();
    if (const int e = refused_errno_.load(); e != 0)
        note_ = fmt::format("SCHED_FIFO {} was refused to the {} worker thread{} ({}), so the mix runs on the audio "
                            "thread alone; raise the process's rtprio limit (e.g. the audio group's in "
                            "/etc/security/limits.d) to use more threads",
                            priority, workers, workers == 1 ? "" : "s", std::strerror(e));
}

WorkerPool::~WorkerPool() {
    stop_.store(true);
    generation_.fetch_add(1);
    futex_wake_all(generation_);
    for (std::thread& t : threads_) t.join();
}

void WorkerPool::run(Job job, void* context) noexcept {
    job_ = job;
    context_ = context;
    active_.store(true);
    generation_.fetch_add(1);
    if (!threads_.empty()) futex_wake_all(generation_);
    job(context, 0);
    active_.store(false);
    // A worker still inside finishes its last node or sees the job is over; if it has been
    // preempted (more threads than free cores), let it run.
    for (Backoff backoff; joined_.load() != 0;) backoff.pause();
}

void WorkerPool::work(std::uint32_t participant) {
    std::uint32_t seen = generation_.load();
    for (;;) {
        std::uint32_t now = generation_.load();
        while (now == seen) {
            futex_wait(generation_, seen);
            now = generation_.load();
        }
        seen = now;
        if (stop_.load()) return;
        joined_.fetch_add(1);
        if (active_.load()) job_(context_, participant);
        joined_.fetch_sub(1);
    }
}

}  // namespace rtmix::engine
