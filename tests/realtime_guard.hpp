// A guard that proves the real-time rules: while a thread is marked as the audio thread, every
// call it makes to malloc/calloc/realloc/free (and so operator new/delete), or to a pthread lock,
// condition wait or semaphore wait, is counted as a violation.
//
// realtime_guard.cpp replaces those functions in the test binary; they forward to glibc. Linked
// only into rtmix_realtime_tests (the sanitizers install interposers of their own).
#pragma once

#include <cstdint>

namespace rtmix::test::rt {

struct Violations {
    std::uint64_t allocations = 0;  // malloc, calloc, realloc, aligned allocations, free
    std::uint64_t locks = 0;        // mutex lock/trylock, rwlock, condition and semaphore waits
};

/// Marks the calling thread as the audio thread for the scope's lifetime.
class AudioThreadScope {
public:
    AudioThreadScope() noexcept;
    ~AudioThreadScope();
    AudioThreadScope(const AudioThreadScope&) = delete;
    AudioThreadScope& operator=(const AudioThreadScope&) = delete;
};

Violations violations() noexcept;
void reset_violations() noexcept;

}  // namespace rtmix::test::rt
