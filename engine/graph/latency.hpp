// Latency compensation, worked out at compile time (graph/compile.cpp): how late every strip's
// signal is, and therefore how long each compensating delay must be.
//
// A strip's input is as late as the latest of what it sums (a track's: 0) and no earlier than any
// sidechain key its processors listen to needs (a key must meet the processor's input); its
// output is later by its own processors (compressor lookahead, inserts). Every output that reaches
// its destination sooner than that destination's input, and every key that reaches its listener
// sooner than the listener's signal, is delayed by the difference. Control side.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "model/model.hpp"

namespace rtmix::engine {

/// A processor that listens to another strip's key: the built-in compressor or an insert.
struct KeyedSlot {
    std::size_t listener = 0;           // model index (compile's `all`) of the strip it belongs to
    std::size_t source = 0;             // model index of the strip it listens to
    SlotModel* slot = nullptr;
    CompensationDelay* delay = nullptr;  // the audio-side delay that aligns the key
    std::uint32_t offset = 0;            // latency of the listener's processors before this one
    std::uint32_t insert = UINT32_MAX;   // its place among the strip's inserts in plan order (pre, then post); UINT32_MAX: the compressor
};

/// Every processor of `all` that listens to a strip of `all`.
std::vector<KeyedSlot> keyed_slots(const std::vector<StripModel*>& all,
                                   const std::unordered_map<std::uint32_t, std::size_t>& index_of, double sample_rate);

struct Latencies {
    std::vector<std::uint32_t> in, out;  // per model index: at the strip's input and its output
};

/// The latencies of every strip, visiting them in `order` (a topological order in which every
/// strip comes after what it sums and the keys it listens to); `consumers[i]`: what strip i
/// feeds through its output and sends.
Latencies compute_latencies(const std::vector<StripModel*>& all, const std::vector<std::size_t>& order,
                            const std::vector<std::vector<std::size_t>>& consumers, const std::vector<KeyedSlot>& keyed,
                            double sample_rate);

}  // namespace rtmix::engine
