// Compiling the mix model into a RenderPlan (control thread; allocates).
#pragma once

#include <memory>
#include <string>

#include "graph/render_plan.hpp"
#include "model/model.hpp"

namespace rtmix::engine {

/// Most tracks in one task: 8 stereo tracks fill the 16 EQ lanes.
constexpr std::uint32_t max_track_group = 8;

/// Builds the plan for `model`. The model must be free of cycles (Model::find_cycle()). Tracks
/// run in tasks of up to `track_group` (1 to max_track_group), their EQs in lanes. Latency is
/// compensated at every sum: the plan delays each strip output that reaches its destination
/// sooner than the longest path into it, allocating the delays' memory into the model where it
/// needs more (RenderPlan::edges, RenderPlan::latency_frames).
std::unique_ptr<RenderPlan> compile_plan(Model& model, std::uint32_t max_block_frames, double sample_rate,
                                         std::uint32_t track_group = max_track_group);

}  // namespace rtmix::engine
