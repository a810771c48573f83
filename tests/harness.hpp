// Drives an Engine the way a host does: input channels in, stereo master out, block by block.
#pragma once

#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "rtmix/engine.hpp"

namespace rtmix::test {

struct Stereo {
    std::vector<float> left, right;
};

/// Renders `frames` frames of `inputs` (one vector per input channel, shorter ones padded with
/// silence) in blocks of `block` frames.
inline Stereo render(Engine& engine, const std::vector<std::vector<float>>& inputs, std::size_t frames,
                     std::uint32_t block = 256) {
    Stereo out{std::vector<float>(frames), std::vector<float>(frames)};
    std::vector<std::vector<float>> padded = inputs;
    for (auto& ch : padded) ch.resize(frames, 0.0f);
    std::vector<const float*> in(padded.size());
    for (std::size_t pos = 0; pos < frames; pos += block) {
        const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(block, frames - pos));
        for (std::size_t c = 0; c < padded.size(); ++c) in[c] = padded[c].data() + pos;
        float* o[2] = {out.left.data() + pos, out.right.data() + pos};
        engine.process(in.data(), static_cast<std::uint32_t>(in.size()), o, n);
    }
    return out;
}

/// Fails the test with the message if `s` is not ok.
#define RTMIX_REQUIRE_OK(expr)                    \
    do {                                          \
        const ::rtmix::Status rtmix_s_ = (expr);  \
        INFO(rtmix_s_.message());                 \
        REQUIRE(rtmix_s_.ok());                   \
    } while (false)

/// Fails the test with the message if `s` is not ok (a function: it nests, in a batch() lambda).
inline void require_ok(const ::rtmix::Status& s) {
    INFO(s.message());
    REQUIRE(s.ok());
}

}  // namespace rtmix::test
