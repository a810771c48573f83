// What the JACK and PortAudio backends share: the callback's load measurement and counters,
// written by the audio thread with relaxed atomics and read by status() on the control side.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

namespace rtmix::live {

/// Nanoseconds on the monotonic clock (a vDSO call: no system call, safe on the audio thread).
inline std::int64_t now_ns() noexcept {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

struct CallbackMeter {
    std::atomic<std::uint64_t> callbacks{0};
    std::atomic<std::uint64_t> xruns{0};
    std::atomic<std::uint64_t> busy_ns{0};     // time spent in callbacks since the last read
    std::atomic<std::uint64_t> period_ns{0};   // their periods, summed
    std::atomic<std::uint64_t> peak_ppm{0};    // largest load of one callback, parts per million
    std::atomic<std::uint64_t> total_busy_ns{0}, total_period_ns{0}, total_peak_ppm{0};  // since the start

    /// Audio thread, at the end of a callback that started at `start_ns` and covers `frames`.
    void record(std::int64_t start_ns, std::uint32_t frames, double rate) noexcept {
        const auto busy = static_cast<std::uint64_t>(now_ns() - start_ns);
        const auto period = static_cast<std::uint64_t>(static_cast<double>(frames) * 1e9 / rate);
        callbacks.fetch_add(1, std::memory_order_relaxed);
        busy_ns.fetch_add(busy, std::memory_order_relaxed);
        period_ns.fetch_add(period, std::memory_order_relaxed);
        total_busy_ns.fetch_add(busy, std::memory_order_relaxed);
        total_period_ns.fetch_add(period, std::memory_order_relaxed);
        const std::uint64_t ppm = period > 0 ? busy * 1'000'000 / period : 0;
        raise(peak_ppm, ppm);
        raise(total_peak_ppm, ppm);
    }

    static void raise(std::atomic<std::uint64_t>& max, std::uint64_t v) noexcept {
        std::uint64_t seen = max.load(std::memory_order_relaxed);
        while (v > seen && !max.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
        }
    }

    /// Control side: mean and peak load since the last call (fractions of the period).
    void take(double& mean, double& peak, double& total_mean, double& total_peak) noexcept {
        const std::uint64_t tb = total_busy_ns.load(std::memory_order_relaxed);
        const std::uint64_t tp = total_period_ns.load(std::memory_order_relaxed);
        total_mean = tp > 0 ? static_cast<double>(tb) / static_cast<double>(tp) : 0.0;
        total_peak = static_cast<double>(total_peak_ppm.load(std::memory_order_relaxed)) / 1e6;
        const std::uint64_t busy = busy_ns.exchange(0, std::memory_order_relaxed);
        const std::uint64_t period = period_ns.exchange(0, std::memory_order_relaxed);
        mean = period > 0 ? static_cast<double>(busy) / static_cast<double>(period) : 0.0;
        peak = static_cast<double>(peak_ppm.exchange(0, std::memory_order_relaxed)) / 1e6;
    }
};

}  // namespace rtmix::live
