// EQ lanes: the steady EQ cascades of several channels (of several strips) run side by side in
// SIMD lanes.
//
// Why: each SVF stage is a recursion, so one channel's EQ is bound by the latency of its state
// chain and by scalar arithmetic, whatever the CPU's vector width. Up to 16 independent channels
// (8 stereo tracks) filled into one set run as one vectorized cascade: every vector operation
// advances the same stage of 4, 8 or 16 channels by one sample. The executor fills a set with the
// tracks of one group (see graph/executor.cpp).
//
// Exactness: every lane performs the operations of Equalizer's scalar cascade, in the same order
// and association, without fused multiply-adds (the kernels are compiled with -ffp-contract=off).
// So a channel's output does not depend on which path ran it, on the other lanes, or on the
// instruction set: the bits are the same. Lanes with fewer stages than the longest are padded
// with identity stages (y = 1 * x + 0 * bp + 0 * lp, exact for finite samples).
//
// Instruction sets: the kernel is compiled three times (x86-64 baseline SSE2, AVX2 and AVX-512F)
// and the best the CPU supports is chosen once, at load time (RTMIX_SIMD=sse2|avx2|avx512 in the
// environment caps the choice, for benchmarks). Other architectures get the portable kernel.
//
// Threads: run_eq_lanes() is wait-free and allocation-free (its scratch lives on the stack).
#pragma once

#include <cstdint>

#include "dsp/eq.hpp"

namespace rtmix::dsp {

constexpr std::uint32_t eq_lane_count = 16;
constexpr std::uint32_t max_eq_stages = 2 * max_eq_bands;

/// The channels of one lane run: a buffer filtered in place, and for every stage its
/// coefficients and its two integrator states (read at the start, written back at the end).
/// Only the first `lanes` entries of each array, and of those the first `stages[lane]`, are read:
/// the arrays are left uninitialized (a set lives on the audio thread's stack for one run).
struct EqLaneSet {
    std::uint32_t lanes = 0;
    float* buffer[eq_lane_count];
    std::uint32_t stages[eq_lane_count];
    const SvfCoefficients* coefficients[eq_lane_count][max_eq_stages];
    float* state[eq_lane_count][max_eq_stages];
};

enum class SimdIsa : std::uint8_t { portable, avx2, avx512 };

/// The instruction set run_eq_lanes() uses on this machine.
SimdIsa eq_lanes_isa() noexcept;
bool simd_isa_supported(SimdIsa isa) noexcept;
const char* simd_isa_name(SimdIsa isa) noexcept;

/// Filters `frames` samples of every lane of `set` in place and updates the states.
void run_eq_lanes(const EqLaneSet& set, std::uint32_t frames) noexcept;
/// The same with a given instruction set (which must be supported), for tests and benchmarks.
void run_eq_lanes(const EqLaneSet& set, std::uint32_t frames, SimdIsa isa) noexcept;

namespace lanes_detail {
/// Chunk length of the kernels' transposed scratch.
constexpr std::uint32_t chunk_frames = 64;
/// One kernel: `x` is [frames][16] (frames <= chunk_frames), `coefficients` [stages][6][16]
/// (a1, a2, a3, m0, m1, m2), `state` [stages][2][16].
using Kernel = void (*)(const float* coefficients, float* state, std::uint32_t stages, float* x,
                        std::uint32_t frames);
void kernel_portable(const float*, float*, std::uint32_t, float*, std::uint32_t) noexcept;
void kernel_avx2(const float*, float*, std::uint32_t, float*, std::uint32_t) noexcept;
void kernel_avx512(const float*, float*, std::uint32_t, float*, std::uint32_t) noexcept;
}  // namespace lanes_detail

}  // namespace rtmix::dsp
