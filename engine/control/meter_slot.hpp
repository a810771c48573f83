// MeterSlot and FloatSlot: meter readings written by the audio thread and read by the control side
// without locks.
//
// A seqlock (the pattern of crill's seqlock_object): the writer bumps a sequence number to odd,
// stores the fields, bumps it to even; a reader retries while the number is odd or changed under
// it. Fields are atomics so the racing reads are well defined. The fence-free ordering follows
// Boehm, "Can seqlocks get along with programming language memory models?" (2012): the writer's
// field stores are releases (the odd sequence number cannot sink below them), the reader's field
// loads are acquires (its second sequence load cannot rise above them). On x86 these are plain
// moves; and ThreadSanitizer understands them, which it does not for fences.
// publish() is wait-free (audio thread); read() is lock-free (control side).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "rtmix/engine.hpp"

namespace rtmix::engine {

/// N floats published together.
template <std::size_t N>
class FloatSlot {
public:
    explicit FloatSlot(const std::array<float, N>& initial) {
        for (std::size_t i = 0; i < N; ++i) values_[i].store(initial[i], std::memory_order_relaxed);
    }

    /// Audio thread, wait-free. Single writer.
    void publish(const std::array<float, N>& values) noexcept {
        const std::uint32_t s = seq_.load(std::memory_order_relaxed);
        seq_.store(s + 1, std::memory_order_relaxed);
        for (std::size_t i = 0; i < N; ++i) values_[i].store(values[i], std::memory_order_release);
        seq_.store(s + 2, std::memory_order_release);
    }

    /// Control side, lock-free: retries only while a publish is under way.
    std::array<float, N> read() const noexcept {
        std::array<float, N> v;
        for (;;) {
            const std::uint32_t before = seq_.load(std::memory_order_acquire);
            if (before & 1u) continue;
            for (std::size_t i = 0; i < N; ++i) v[i] = values_[i].load(std::memory_order_acquire);
            if (seq_.load(std::memory_order_relaxed) == before) return v;
        }
    }

private:
    std::atomic<std::uint32_t> seq_{0};
    std::array<std::atomic<float>, N> values_;
};

/// One strip's meters.
class MeterSlot {
public:
    void publish(const StripMeter& m) noexcept {
        slot_.publish({m.peak_dbfs[0], m.peak_dbfs[1], m.rms_dbfs[0], m.rms_dbfs[1], m.peak_hold_dbfs,
                       m.gain_reduction_db, m.max_gain_reduction_db});
    }

    StripMeter read() const noexcept {
        const std::array<float, 7> v = slot_.read();
        return StripMeter{{v[0], v[1]}, {v[2], v[3]}, v[4], v[5], v[6]};
    }

private:
    FloatSlot<7> slot_{{-200.0f, -200.0f, -200.0f, -200.0f, -200.0f, 0.0f, 0.0f}};
};

}  // namespace rtmix::engine
