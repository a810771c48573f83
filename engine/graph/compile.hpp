// Compiling the mix model into a RenderPlan (control thread; allocates).
#pragma once

#include <memory>
#include <string>

#include "graph/render_plan.hpp"
#include "session/model.hpp"

namespace rtmix::engine {

/// Builds the plan for `model`. The model must be free of cycles (Model::find_cycle()).
std::unique_ptr<RenderPlan> compile_plan(const Model& model, std::uint32_t max_block_frames);

}  // namespace rtmix::engine
