#include "realtime_guard.hpp"

#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

// glibc's own entry points, bound by symbol version so that forwarding needs no dlsym (which
// could itself allocate or lock and recurse into these functions).
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
int rtmix_real_mutex_lock(pthread_mutex_t*);
int rtmix_real_mutex_trylock(pthread_mutex_t*);
int rtmix_real_rwlock_rdlock(pthread_rwlock_t*);
int rtmix_real_rwlock_wrlock(pthread_rwlock_t*);
}
__asm__(".symver rtmix_real_mutex_lock, __pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver rtmix_real_mutex_trylock, __pthread_mutex_trylock@GLIBC_2.2.5");
__asm__(".symver rtmix_real_rwlock_rdlock, __pthread_rwlock_rdlock@GLIBC_2.2.5");
__asm__(".symver rtmix_real_rwlock_wrlock, __pthread_rwlock_wrlock@GLIBC_2.2.5");

// The condition and semaphore waits have no internal alias to bind to: a versioned reference to
// their public names would bind to the definitions below (and loop). They are looked up with
// dlvsym() before main(), off any audio thread (dlvsym may allocate).
using CondWait = int (*)(pthread_cond_t*, pthread_mutex_t*);
using CondTimedWait = int (*)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
using SemWait = int (*)(sem_t*);
CondWait real_cond_wait = nullptr;
CondTimedWait real_cond_timedwait = nullptr;
SemWait real_sem_wait = nullptr;

__attribute__((constructor(101))) static void find_real_waits() {
    real_cond_wait = reinterpret_cast<CondWait>(dlvsym(RTLD_NEXT, "pthread_cond_wait", "GLIBC_2.3.2"));
    real_cond_timedwait = reinterpret_cast<CondTimedWait>(dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2"));
    real_sem_wait = reinterpret_cast<SemWait>(dlvsym(RTLD_NEXT, "sem_wait", "GLIBC_2.34"));
}

namespace {

__attribute__((tls_model("initial-exec"))) thread_local bool on_audio_thread = false;
std::atomic<std::uint64_t> allocation_violations{0};
std::atomic<std::uint64_t> lock_violations{0};

inline void note_allocation() noexcept {
    if (on_audio_thread) allocation_violations.fetch_add(1, std::memory_order_relaxed);
}
inline void note_lock() noexcept {
    if (on_audio_thread) lock_violations.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

namespace rtmix::test::rt {
AudioThreadScope::AudioThreadScope() noexcept { on_audio_thread = true; }
AudioThreadScope::~AudioThreadScope() { on_audio_thread = false; }
Violations violations() noexcept { return {allocation_violations.load(), lock_violations.load()}; }
void reset_violations() noexcept {
    allocation_violations = 0;
    lock_violations = 0;
}
}  // namespace rtmix::test::rt

extern "C" {

void* malloc(std::size_t n) {
    note_allocation();
    return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) {
    note_allocation();
    return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) {
    note_allocation();
    return __libc_realloc(p, n);
}
void free(void* p) {
    if (p != nullptr) note_allocation();
    __libc_free(p);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
    note_allocation();
    return __libc_memalign(alignment, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
    note_allocation();
    return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
    note_allocation();
    void* p = __libc_memalign(alignment, n);
    if (p == nullptr) return 12;  // ENOMEM
    *out = p;
    return 0;
}

int pthread_mutex_lock(pthread_mutex_t* m) {
    note_lock();
    return rtmix_real_mutex_lock(m);
}
int pthread_mutex_trylock(pthread_mutex_t* m) {
    note_lock();
    return rtmix_real_mutex_trylock(m);
}
int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
    note_lock();
    return rtmix_real_rwlock_rdlock(l);
}
int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
    note_lock();
    return rtmix_real_rwlock_wrlock(l);
}
int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
    note_lock();
    if (real_cond_wait == nullptr) find_real_waits();
    return real_cond_wait(c, m);
}
int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* t) {
    note_lock();
    if (real_cond_timedwait == nullptr) find_real_waits();
    return real_cond_timedwait(c, m, t);
}
int sem_wait(sem_t* s) {
    note_lock();
    if (real_sem_wait == nullptr) find_real_waits();
    return real_sem_wait(s);
}

}  // extern "C"

// operator new/delete go through malloc/free above in libstdc++; replacing them here as well
// makes the guard independent of that detail.
void* operator new(std::size_t n) {
    note_allocation();
    if (void* p = __libc_malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept {
    if (p != nullptr) note_allocation();
    __libc_free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
