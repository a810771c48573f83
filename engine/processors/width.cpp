#include "processors/width.hpp"

#include <array>

namespace rtmix::engine {

namespace {

constexpr std::array<ParamInfo, 3> params = {{
    {.key = "width", .min = 0, .max = 2, .def = 1, .description = "0 mono (L = R), 1 as it is, 2 twice the side"},
    {.key = "mid_db", .unit = "dB", .min = -24, .max = 12, .def = 0, .description = "gain of the mid, (L + R) / 2"},
    {.key = "side_db", .unit = "dB", .min = -24, .max = 12, .def = 0, .description = "gain of the side, (L - R) / 2, on top of the width"},
}};

using P = WidthProcessor::Param;
constexpr std::size_t at(P p) { return static_cast<std::size_t>(p); }
static_assert(params.size() == at(P::count));
static_assert(param_index_matches(params, at(P::width), "width"));
static_assert(param_index_matches(params, at(P::mid_db), "mid_db"));
static_assert(param_index_matches(params, at(P::side_db), "side_db"));

constexpr ProcessorInfo info{
    .type = "width",
    .title = "Stereo width / M-S",
    .summary = "mid/side gains: narrow or widen the stereo image; a mono signal gets the mid gain",
    .params = params,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) { return std::make_unique<WidthProcessor>(setup); }

}  // namespace

const ProcessorKind width_kind{info, &create};

void WidthProcessor::apply(std::uint16_t param, std::uint8_t, float value) noexcept {
    if (param >= at(P::count)) return;
    values_[param] = value;
    dsp_.set(values_[at(P::width)], values_[at(P::mid_db)], values_[at(P::side_db)]);
}

}  // namespace rtmix::engine
