// RenderPlan: the immutable, flat form of the mix that the audio thread runs.
//
// Compiled on the control side from the model (graph/compile.hpp), handed to the audio thread
// through a wait-free mailbox, and deleted on the control side after the audio thread hands it
// back. It never changes once published.
//
// Nodes are in dependency order: running them front to back is a valid serial schedule. Each node
// also carries its dependants and an initial dependency count, so a parallel scheduler can start
// every node whose count is zero and release dependants as nodes finish.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/effect_unit.hpp"
#include "graph/master_chain.hpp"
#include "graph/strip.hpp"

namespace rtmix::engine {

struct PlanNode {
    enum class Kind : std::uint8_t { track, bus, master };
    Kind kind = Kind::track;
    Strip* strip = nullptr;

    // Tracks: which process() input channels feed the strip.
    std::uint32_t input_channel = 0;
    std::uint32_t input_channels = 0;

    std::uint32_t out_buffer = 0;  // stereo buffer the strip writes
    // Buses and the master: the buffers summed into the strip's input, in this fixed order
    // (so the sum is bit-identical under any schedule): plan.bus_inputs[first_input ...].
    std::uint32_t first_input = 0;
    std::uint32_t input_count = 0;
    // plan.send_taps[first_send ...]: the strip's sends and the buffers they write.
    std::uint32_t first_send = 0;
    std::uint32_t send_count = 0;
    // plan.effects[first_effect ...]: bus inserts, in order.
    std::uint32_t first_effect = 0;
    std::uint32_t effect_count = 0;

    // For a parallel scheduler: plan.dependants[first_dependant ...] are the nodes that consume
    // this node's buffers; `dependencies` is how many distinct nodes this one waits for.
    std::uint32_t first_dependant = 0;
    std::uint32_t dependant_count = 0;
    std::uint32_t dependencies = 0;

    std::uint32_t latency_frames = 0;  // from the track inputs to this node's output
};

struct SendTapPlan {
    std::uint32_t slot;    // the source Strip's send state
    std::uint32_t buffer;  // stereo buffer the send writes
};

struct RenderPlan {
    std::vector<PlanNode> nodes;  // topological order: every node after the nodes it reads
    std::vector<std::uint32_t> bus_inputs;
    std::vector<SendTapPlan> send_taps;
    std::vector<EffectUnit*> effects;
    std::vector<std::uint32_t> dependants;

    std::uint32_t buffer_count = 0;
    std::uint32_t max_block_frames = 0;
    std::vector<float> buffer_storage;  // buffer_count stereo buffers of max_block_frames

    std::uint32_t latency_frames = 0;
    MasterChain* master_chain = nullptr;  // runs on the master's output

    // Keeps every Strip and EffectUnit this plan points at alive until the plan is deleted
    // (always on the control side).
    std::vector<std::shared_ptr<void>> keep_alive;

    float* channel(std::uint32_t buffer, std::uint32_t ch) noexcept {
        return buffer_storage.data() + (static_cast<std::size_t>(buffer) * 2 + ch) * max_block_frames;
    }
};

}  // namespace rtmix::engine
