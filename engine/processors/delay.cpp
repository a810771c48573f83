#include "processors/delay.hpp"

#include <array>

namespace rtmix::engine {

namespace {

using D = dsp::DelayParam;

constexpr ParamInfo number(D p, std::string_view key, std::string_view unit, Smoothing smoothing,
                           std::string_view description) {
    const dsp::ParamRange r = dsp::delay_range(p);
    // The ranges are floats (what the DSP clamps to); the declaration holds the decimals they were
    // written as, so the documented ends are accepted as typed and printed as written.
    return {.key = key, .unit = unit, .min = dsp::decimal(r.min), .max = dsp::decimal(r.max),
            .def = dsp::decimal(r.def), .smoothing = smoothing, .description = description};
}

constexpr std::array<ParamInfo, 4> params = {{
    number(D::time_ms, "time_ms", "ms", Smoothing::glide, "delay time; a change glides like tape, without clicks"),
    number(D::feedback, "feedback", "", Smoothing::ramp, "gain of each repeat"),
    number(D::damping, "damping", "", Smoothing::ramp, "one-pole lowpass in the feedback: repeats grow darker"),
    number(D::mix, "mix", "", Smoothing::ramp, "0 dry only, 1 wet only"),
}};

constexpr std::size_t at(D p) { return static_cast<std::size_t>(p); }
static_assert(param_index_matches(params, at(D::time_ms), "time_ms"));
static_assert(param_index_matches(params, at(D::feedback), "feedback"));
static_assert(param_index_matches(params, at(D::damping), "damping"));
static_assert(param_index_matches(params, at(D::mix), "mix"));

constexpr ProcessorInfo info{
    .type = "delay",
    .title = "Delay",
    .summary = "a stereo delay with feedback and a damped feedback path",
    .params = params,
    .tail = true,
    .stereo = true,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) {
    auto p = std::make_unique<DelayProcessor>(setup);
    for (std::uint16_t i = 0; i < params.size(); ++i) p->apply(i, 0, static_cast<float>(params[i].def));
    return p;
}

}  // namespace

const ProcessorKind delay_kind{info, &create};

}  // namespace rtmix::engine
