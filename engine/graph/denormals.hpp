// DenormalsOff: flushes denormal floats to zero for the scope it lives in (the audio thread's
// process call), and restores the previous mode on exit. Denormals in decaying filter and reverb
// tails can cost a hundred times the normal arithmetic. Wait-free.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace rtmix::engine {

class DenormalsOff {
public:
#if defined(__SSE__) || defined(__x86_64__)
    DenormalsOff() noexcept : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | flush_to_zero | denormals_are_zero); }
    ~DenormalsOff() { _mm_setcsr(saved_); }

private:
    static constexpr unsigned flush_to_zero = 0x8000;
    static constexpr unsigned denormals_are_zero = 0x0040;
    unsigned saved_;
#elif defined(__aarch64__)
    DenormalsOff() noexcept {
        __asm__ __volatile__("mrs %0, fpcr" : "=r"(saved_));
        const unsigned long long flushed = saved_ | (1ull << 24);
        __asm__ __volatile__("msr fpcr, %0" : : "r"(flushed));
    }
    ~DenormalsOff() { __asm__ __volatile__("msr fpcr, %0" : : "r"(saved_)); }

private:
    unsigned long long saved_;
#else
    DenormalsOff() noexcept {}
#endif
    DenormalsOff(const DenormalsOff&) = delete;
    DenormalsOff& operator=(const DenormalsOff&) = delete;
};

}  // namespace rtmix::engine
