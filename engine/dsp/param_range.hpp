// ParamRange: the minimum, maximum and default of a DSP parameter, which the engine validates
// user values against and documents.
#pragma once

namespace rtmix::dsp {

struct ParamRange {
    float min, max, def;
};

/// The decimal a float was written as: the double nearest to the shortest decimal that reads back
/// as `v` (0.1f gives 0.1, not 0.10000000149011612). Declarations are doubles that people type and
/// read, so a range end written 0.1f must be 0.1 to accept 0.1 and print as "0.1".
constexpr double decimal(float v) noexcept {
    if (v == 0.0f || v != v) return static_cast<double>(v);
    const double x = v < 0.0f ? -static_cast<double>(v) : static_cast<double>(v);
    const double sign = v < 0.0f ? -1.0 : 1.0;
    // Every power of ten from 1e-22 to 1e22 is exact as a double up to 1e22; dividing by one
    // rounds correctly, so m / 10^k is the double nearest to the decimal m * 10^-k.
    double powers[23] = {};
    powers[0] = 1.0;
    for (int i = 1; i < 23; ++i) powers[i] = powers[i - 1] * 10.0;
    int e = 0;  // 10^e <= x < 10^(e + 1)
    while (e < 22 && x >= powers[e + 1]) ++e;
    while (e > -22 && x < (e >= 0 ? powers[e] : 1.0 / powers[-e])) --e;
    for (int digits = 1; digits <= 9; ++digits) {
        const int k = digits - 1 - e;  // decimals after the point
        if (k > 22 || k < -22) break;
        const double scaled = k >= 0 ? x * powers[k] : x / powers[-k];
        const auto m = static_cast<double>(static_cast<long long>(scaled + 0.5));
        const double candidate = k >= 0 ? m / powers[k] : m * powers[-k];
        if (static_cast<float>(sign * candidate) == v) return sign * candidate;
    }
    return static_cast<double>(v);
}

static_assert(decimal(0.1f) == 0.1 && decimal(0.95f) == 0.95 && decimal(0.35f) == 0.35);
static_assert(decimal(-24.0f) == -24.0 && decimal(2000.0f) == 2000.0 && decimal(0.0f) == 0.0);

}  // namespace rtmix::dsp
