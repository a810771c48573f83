#include "processors/reverb.hpp"

#include <array>

namespace rtmix::engine {

namespace {

using R = dsp::ReverbParam;

constexpr ParamInfo number(R p, std::string_view key, std::string_view unit, Smoothing smoothing,
                           std::string_view description) {
    const dsp::ParamRange r = dsp::reverb_range(p);
    // The ranges are floats (what the DSP clamps to); the declaration holds the decimals they were
    // written as, so the documented ends are accepted as typed and printed as written.
    return {.key = key, .unit = unit, .min = dsp::decimal(r.min), .max = dsp::decimal(r.max),
            .def = dsp::decimal(r.def), .smoothing = smoothing, .description = description};
}

constexpr std::array<ParamInfo, 6> params = {{
    number(R::decay_s, "decay_s", "s", Smoothing::glide, "RT60 at low frequencies"),
    number(R::predelay_ms, "predelay_ms", "ms", Smoothing::glide, "time before the reverberation starts"),
    number(R::damping, "damping", "", Smoothing::glide, "0 bright, 1 dark: high frequencies die sooner"),
    number(R::size, "size", "", Smoothing::glide, "scales the delay lengths (room size, echo density)"),
    number(R::width, "width", "", Smoothing::ramp, "0 mono, 1 full stereo"),
    number(R::mix, "mix", "", Smoothing::ramp, "0 dry only, 1 wet only (a return bus wants 1)"),
}};

constexpr std::size_t at(R p) { return static_cast<std::size_t>(p); }
static_assert(param_index_matches(params, at(R::decay_s), "decay_s"));
static_assert(param_index_matches(params, at(R::predelay_ms), "predelay_ms"));
static_assert(param_index_matches(params, at(R::damping), "damping"));
static_assert(param_index_matches(params, at(R::size), "size"));
static_assert(param_index_matches(params, at(R::width), "width"));
static_assert(param_index_matches(params, at(R::mix), "mix"));

constexpr ProcessorInfo info{
    .type = "reverb",
    .title = "Reverb",
    .summary = "an 8-line feedback delay network (Jot & Chaigne 1991) with predelay, damping and width",
    .params = params,
    .tail = true,
    .stereo = true,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) {
    auto p = std::make_unique<ReverbProcessor>(setup);
    for (std::uint16_t i = 0; i < params.size(); ++i) p->apply(i, 0, static_cast<float>(params[i].def));
    return p;
}

}  // namespace

const ProcessorKind reverb_kind{info, &create};

}  // namespace rtmix::engine
