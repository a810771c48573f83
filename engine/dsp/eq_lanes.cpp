#include "dsp/eq_lanes.hpp"

#include <cstdlib>
#include <cstring>

namespace rtmix::dsp {

namespace {

using lanes_detail::chunk_frames;

#if defined(RTMIX_X86_KERNELS)
bool cpu_has(SimdIsa isa) noexcept {
    __builtin_cpu_init();
    switch (isa) {
        case SimdIsa::portable: return true;
        case SimdIsa::avx2: return __builtin_cpu_supports("avx2") != 0;
        case SimdIsa::avx512: return __builtin_cpu_supports("avx512f") != 0;
    }
    return false;
}
#else
bool cpu_has(SimdIsa isa) noexcept { return isa == SimdIsa::portable; }
#endif

typedef float Quad __attribute__((vector_size(16)));
typedef int QuadMask __attribute__((vector_size(16)));

inline Quad load4(const float* p) noexcept {
    Quad v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

inline void store4(float* p, Quad v) noexcept { __builtin_memcpy(p, &v, sizeof v); }

/// 4 x 4 transpose: rows in, columns out.
inline void transpose(Quad& a, Quad& b, Quad& c, Quad& d) noexcept {
    const Quad t0 = __builtin_shuffle(a, b, QuadMask{0, 4, 1, 5}), t1 = __builtin_shuffle(a, b, QuadMask{2, 6, 3, 7});
    const Quad t2 = __builtin_shuffle(c, d, QuadMask{0, 4, 1, 5}), t3 = __builtin_shuffle(c, d, QuadMask{2, 6, 3, 7});
    a = __builtin_shuffle(t0, t2, QuadMask{0, 1, 4, 5});
    b = __builtin_shuffle(t0, t2, QuadMask{2, 3, 6, 7});
    c = __builtin_shuffle(t1, t3, QuadMask{0, 1, 4, 5});
    d = __builtin_shuffle(t1, t3, QuadMask{2, 3, 6, 7});
}

/// Frames i..i+3 of 4 lane buffers into 4 rows of the [frame][lane] scratch (row stride 16).
inline void transpose4(float* const* rows, std::uint32_t i, float* x) noexcept {
    Quad a = load4(rows[0] + i), b = load4(rows[1] + i), c = load4(rows[2] + i), d = load4(rows[3] + i);
    transpose(a, b, c, d);
    store4(x, a);
    store4(x + eq_lane_count, b);
    store4(x + 2 * eq_lane_count, c);
    store4(x + 3 * eq_lane_count, d);
}

inline void untranspose4(const float* x, float* const* rows, std::uint32_t i) noexcept {
    Quad a = load4(x), b = load4(x + eq_lane_count), c = load4(x + 2 * eq_lane_count), d = load4(x + 3 * eq_lane_count);
    transpose(a, b, c, d);
    store4(rows[0] + i, a);
    store4(rows[1] + i, b);
    store4(rows[2] + i, c);
    store4(rows[3] + i, d);
}

/// The best supported instruction set, capped by RTMIX_SIMD. Chosen while the library loads, so
/// the audio thread never runs an initialisation guard.
SimdIsa choose() noexcept {
    SimdIsa cap = SimdIsa::avx512;
    if (const char* env = std::getenv("RTMIX_SIMD")) {
        if (std::strcmp(env, "sse2") == 0 || std::strcmp(env, "portable") == 0) cap = SimdIsa::portable;
        if (std::strcmp(env, "avx2") == 0) cap = SimdIsa::avx2;
    }
    if (cap >= SimdIsa::avx512 && cpu_has(SimdIsa::avx512)) return SimdIsa::avx512;
    if (cap >= SimdIsa::avx2 && cpu_has(SimdIsa::avx2)) return SimdIsa::avx2;
    return SimdIsa::portable;
}

const SimdIsa chosen = choose();

lanes_detail::Kernel kernel_for(SimdIsa isa) noexcept {
#if defined(RTMIX_X86_KERNELS)
    if (isa == SimdIsa::avx512) return &lanes_detail::kernel_avx512;
    if (isa == SimdIsa::avx2) return &lanes_detail::kernel_avx2;
#endif
    (void)isa;
    return &lanes_detail::kernel_portable;
}

}  // namespace

SimdIsa eq_lanes_isa() noexcept { return chosen; }

bool simd_isa_supported(SimdIsa isa) noexcept { return cpu_has(isa); }

const char* simd_isa_name(SimdIsa isa) noexcept {
    switch (isa) {
        case SimdIsa::portable: return "portable";
        case SimdIsa::avx2: return "avx2";
        case SimdIsa::avx512: return "avx512";
    }
    return "?";
}

void run_eq_lanes(const EqLaneSet& set, std::uint32_t frames) noexcept { run_eq_lanes(set, frames, chosen); }

void run_eq_lanes(const EqLaneSet& set, std::uint32_t frames, SimdIsa isa) noexcept {
    const std::uint32_t lanes = set.lanes < eq_lane_count ? set.lanes : eq_lane_count;
    std::uint32_t stages = 0;
    for (std::uint32_t l = 0; l < lanes; ++l) stages = set.stages[l] > stages ? set.stages[l] : stages;
    if (lanes == 0 || stages == 0) return;

    // Structure of arrays: [stage][coefficient][lane] and [stage][state][lane]. Missing stages
    // and unused lanes get identity coefficients and zero states.
    alignas(64) float coefficients[max_eq_stages][6][eq_lane_count];
    alignas(64) float state[max_eq_stages][2][eq_lane_count];
    const SvfCoefficients identity{};
    for (std::uint32_t s = 0; s < stages; ++s)
        for (std::uint32_t l = 0; l < eq_lane_count; ++l) {
            const bool real = l < lanes && s < set.stages[l];
            const SvfCoefficients& c = real ? *set.coefficients[l][s] : identity;
            coefficients[s][0][l] = c.a1;
            coefficients[s][1][l] = c.a2;
            coefficients[s][2][l] = c.a3;
            coefficients[s][3][l] = c.m0;
            coefficients[s][4][l] = c.m1;
            coefficients[s][5][l] = c.m2;
            state[s][0][l] = real ? set.state[l][s][0] : 0.0f;
            state[s][1][l] = real ? set.state[l][s][1] : 0.0f;
        }

    // Lanes in groups of 4, transposed 4 x 4 at a time; a group's missing lanes read zeros and
    // write to a scratch row.
    const lanes_detail::Kernel kernel = kernel_for(isa);
    alignas(64) float x[chunk_frames][eq_lane_count];
    alignas(16) float spare[chunk_frames] = {};
    const std::uint32_t quads = (lanes + 3) / 4;
    float* row[eq_lane_count];
    if (quads * 4 < eq_lane_count) std::memset(x, 0, sizeof x);
    for (std::uint32_t done = 0; done < frames;) {
        const std::uint32_t n = frames - done < chunk_frames ? frames - done : chunk_frames;
        for (std::uint32_t l = 0; l < quads * 4; ++l) row[l] = l < lanes ? set.buffer[l] + done : spare;
        for (std::uint32_t q = 0; q < quads; ++q) {
            float* const* r = row + 4 * q;
            std::uint32_t i = 0;
            for (; i + 4 <= n; i += 4) transpose4(r, i, &x[i][4 * q]);
            for (; i < n; ++i)
                for (std::uint32_t k = 0; k < 4; ++k) x[i][4 * q + k] = r[k][i];
        }
        kernel(&coefficients[0][0][0], &state[0][0][0], stages, &x[0][0], n);
        for (std::uint32_t q = 0; q < quads; ++q) {
            float* const* r = row + 4 * q;
            std::uint32_t i = 0;
            for (; i + 4 <= n; i += 4) untranspose4(&x[i][4 * q], r, i);
            for (; i < n; ++i)
                for (std::uint32_t k = 0; k < 4; ++k) r[k][i] = x[i][4 * q + k];
        }
        for (float& v : spare) v = 0.0f;
        done += n;
    }
    for (std::uint32_t l = 0; l < lanes; ++l)
        for (std::uint32_t s = 0; s < set.stages[l]; ++s) {
            set.state[l][s][0] = state[s][0][l];
            set.state[l][s][1] = state[s][1][l];
        }
}

}  // namespace rtmix::dsp
