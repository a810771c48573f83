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
/// run in tasks of up to `track_group` (1 to max_track_group), their EQs in lanes.
std::unique_ptr<RenderPlan> compile_plan(const Model& model, std::uint32_t max_block_frames,
                                         std::uint32_t track_group = max_track_group);

}  // namespace rtmix::engine
