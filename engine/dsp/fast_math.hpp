// Fast base-2 logarithm and exponential for per-sample level conversions (dB <-> linear), and the
// branch-free clamps that let loops over them vectorize.
//
// fast_log2 and fast_exp2 split a float into exponent and mantissa with integer operations and
// approximate the mantissa part with a small polynomial (a Chebyshev fit, close to minimax). No
// tables, branches or library calls: a loop over them vectorizes with plain SSE2, and the result
// depends only on the argument (a scalar and a vectorized evaluation give the same bits).
//
// Accuracy (tests/test_compressor.cpp checks it against std::log2 and std::exp2 in double):
//   fast_log2: absolute error <= 8e-6 for x in [1e-20, 1e6] (5.6e-6 from the polynomial, the rest
//              the rounding of the result), i.e. <= 4.8e-5 dB on an amplitude level (6.02 dB per
//              unit) and <= 2.4e-5 dB on a power level (3.01 dB per unit). Exact at powers of 2.
//   fast_exp2: relative error <= 3e-7 (2.5e-6 dB) for x in [-125, 127]; exactly 1 at x = 0 and
//              exact at integers. x is clamped to that range (2^-125 is about -753 dB).
// Pure functions, noexcept and safe on the audio thread.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace rtmix::dsp {

/// The bits of `x` as an integer that orders like the float: for non-NaN a and b,
/// a < b exactly when float_order(a) < float_order(b) (with -0 just below +0).
inline std::int32_t float_order(float x) noexcept {
    const auto bits = std::bit_cast<std::int32_t>(x);
    return bits ^ ((bits >> 31) & 0x7fffffff);
}

/// The float whose float_order is `order` (float_order is its own inverse).
inline float float_from_order(std::int32_t order) noexcept {
    return std::bit_cast<float>(order ^ ((order >> 31) & 0x7fffffff));
}

/// std::clamp(x, lo, hi) (lo <= hi) through integer compares. The result is exactly x, lo or hi,
/// as with float compares, but the compiler may evaluate it without branches even under
/// -ftrapping-math (GCC's default), so loops over it vectorize. A NaN x clamps to lo or hi.
inline float clamp_by_order(float x, float lo, float hi) noexcept {
    return float_from_order(std::clamp(float_order(x), float_order(lo), float_order(hi)));
}

/// max(x, 0) by arithmetic: exact for |x| < FLT_MAX / 2, +0 for x <= 0, and branch-free like
/// clamp_by_order.
inline float positive_part(float x) noexcept { return 0.5f * (x + std::fabs(x)); }

/// max(x, lo) for x and lo >= 0 (or a NaN x, which gives lo or NaN) through integer compares:
/// non-negative floats order like their bits.
inline float max_non_negative(float x, float lo) noexcept {
    return std::bit_cast<float>(std::max(std::bit_cast<std::int32_t>(x), std::bit_cast<std::int32_t>(lo)));
}

/// log2(x) for a normal, positive, finite x. Other arguments give a finite or NaN result without
/// undefined behaviour, but not their logarithm.
inline float fast_log2(float x) noexcept {
    // x = 2^e * m with m in [sqrt(1/2), sqrt(2)): subtracting the bits of sqrt(1/2) carries into
    // the exponent field exactly when the mantissa is at least sqrt(2).
    constexpr std::uint32_t sqrt_half_bits = 0x3f3504f3;
    const auto bits = std::bit_cast<std::uint32_t>(x);
    const std::int32_t e = static_cast<std::int32_t>(bits - sqrt_half_bits) >> 23;
    const float z = std::bit_cast<float>(bits - (static_cast<std::uint32_t>(e) << 23)) - 1.0f;  // m - 1
    // log2(1 + z) = z * q(z), q a degree-5 fit of log2(1 + z) / z for z in [-0.293, 0.415).
    float q = -0.202289263729f;
    q = q * z + 0.316898187156f;
    q = q * z - 0.366925770958f;
    q = q * z + 0.479925573471f;
    q = q * z - 0.721195752394f;
    q = q * z + 1.44270044001f;
    return static_cast<float>(e) + z * q;
}

/// 2^x, with x clamped to [-125, 127] so that the result is a normal float.
inline float fast_exp2(float x) noexcept {
    x = clamp_by_order(x, -125.0f, 127.0f);
    // Adding 1.5 * 2^23 rounds x to the nearest integer n, which lands in the low mantissa bits.
    constexpr float shifter = 12582912.0f;
    const float shifted = x + shifter;
    const std::uint32_t n = std::bit_cast<std::uint32_t>(shifted) - std::bit_cast<std::uint32_t>(shifter);
    const float f = x - (shifted - shifter);  // in [-0.5, 0.5]
    // 2^f = 1 + f * r(f), r a degree-4 fit of (2^f - 1) / f for f in [-0.5, 0.5].
    float r = 0.00133813025373f;
    r = r * f + 0.00966636851539f;
    r = r * f + 0.055503810138f;
    r = r * f + 0.24022349038f;
    r = r * f + 0.69314718056f;
    const float p = 1.0f + f * r;  // in [0.707, 1.415]: scaling by 2^n adds n to its exponent
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(p) + (n << 23));
}

}  // namespace rtmix::dsp
