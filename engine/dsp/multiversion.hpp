// RTMIX_AVX2_CLONE: compiles a hot function twice, for the x86-64 baseline and for AVX2, and lets
// the dynamic loader pick one for the CPU once, when the library loads (GCC's target_clones, an
// ifunc: nothing is decided on the audio thread). Meant for loops that vectorize: AVX2 runs them
// 8 floats at a time instead of 4. AVX2 without FMA: no multiply-add is fused, so both versions
// compute the same bits. Elsewhere (other compilers or architectures) the attribute is empty, and
// in sanitizer builds too: the loader runs an ifunc's resolver before the sanitizer's runtime is
// ready, and ThreadSanitizer crashes there.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__) && \
    !defined(__SANITIZE_ADDRESS__)
#define RTMIX_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define RTMIX_AVX2_CLONE
#endif
