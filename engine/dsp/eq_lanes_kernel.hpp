// The EQ lane kernel, included by one source file per instruction set (eq_lanes_*.cpp), each
// compiled with its own target flags and -ffp-contract=off. RTMIX_LANE_WIDTH (floats per vector)
// and RTMIX_LANE_KERNEL (the function's name) are defined by the includer.
//
// Everything here has internal linkage and uses no library templates, so no code compiled for a
// wider instruction set can be picked by the linker for the baseline build.
//
// The arithmetic is Equalizer's scalar cascade (eq.cpp, run_cascade_stereo), operation for
// operation: see eq_lanes.hpp.

#include <cstdint>

#include "dsp/eq_lanes.hpp"

namespace rtmix::dsp::lanes_detail {

namespace {

constexpr std::uint32_t width = RTMIX_LANE_WIDTH;
constexpr std::uint32_t vectors = eq_lane_count / width;  // vectors per sample frame
typedef float Vec __attribute__((vector_size(width * sizeof(float))));

inline Vec load(const float* p) noexcept {
    Vec v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

inline void store(float* p, Vec v) noexcept { __builtin_memcpy(p, &v, sizeof v); }

/// N stages over `frames` frames; the states stay in registers for the whole run.
template <std::uint32_t N>
inline void cascade(const float* coefficients, float* state, float* x, std::uint32_t frames) noexcept {
    Vec s1[N][vectors], s2[N][vectors];
    for (std::uint32_t k = 0; k < N; ++k)
        for (std::uint32_t j = 0; j < vectors; ++j) {
            s1[k][j] = load(state + (k * 2 + 0) * eq_lane_count + j * width);
            s2[k][j] = load(state + (k * 2 + 1) * eq_lane_count + j * width);
        }
    for (std::uint32_t i = 0; i < frames; ++i) {
        float* xi = x + i * eq_lane_count;
        Vec u0[vectors];
        for (std::uint32_t j = 0; j < vectors; ++j) u0[j] = load(xi + j * width);
        for (std::uint32_t k = 0; k < N; ++k) {
            const float* c = coefficients + k * 6 * eq_lane_count;
            for (std::uint32_t j = 0; j < vectors; ++j) {
                const std::uint32_t o = j * width;
                const Vec a1 = load(c + 0 * eq_lane_count + o), a2 = load(c + 1 * eq_lane_count + o),
                          a3 = load(c + 2 * eq_lane_count + o), m0 = load(c + 3 * eq_lane_count + o),
                          m1 = load(c + 4 * eq_lane_count + o), m2 = load(c + 5 * eq_lane_count + o);
                const Vec u3 = u0[j] - s2[k][j];
                const Vec u1 = a1 * s1[k][j] + a2 * u3;
                const Vec u2 = s2[k][j] + a2 * s1[k][j] + a3 * u3;
                s1[k][j] = 2.0f * u1 - s1[k][j];
                s2[k][j] = 2.0f * u2 - s2[k][j];
                u0[j] = m0 * u0[j] + m1 * u1 + m2 * u2;
            }
        }
        for (std::uint32_t j = 0; j < vectors; ++j) store(xi + j * width, u0[j]);
    }
    for (std::uint32_t k = 0; k < N; ++k)
        for (std::uint32_t j = 0; j < vectors; ++j) {
            store(state + (k * 2 + 0) * eq_lane_count + j * width, s1[k][j]);
            store(state + (k * 2 + 1) * eq_lane_count + j * width, s2[k][j]);
        }
}

}  // namespace

void RTMIX_LANE_KERNEL(const float* coefficients, float* state, std::uint32_t stages, float* x,
                       std::uint32_t frames) noexcept {
    // Stages in groups whose states fit in the registers of this instruction set.
    constexpr std::uint32_t group = width >= 16 ? 4 : 2;
    while (stages > 0) {
        const std::uint32_t take = stages < group ? stages : group;
        if (take == 1)
            cascade<1>(coefficients, state, x, frames);
        else if (take == 2)
            cascade<2>(coefficients, state, x, frames);
        else if (take == 3)
            cascade<3>(coefficients, state, x, frames);
        else
            cascade<group>(coefficients, state, x, frames);
        coefficients += take * 6 * eq_lane_count;
        state += take * 2 * eq_lane_count;
        stages -= take;
    }
}

}  // namespace rtmix::dsp::lanes_detail
