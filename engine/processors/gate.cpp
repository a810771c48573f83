#include "processors/gate.hpp"

#include <array>

namespace rtmix::engine {

namespace {

constexpr std::array<ParamInfo, 8> params = {{
    {.key = "threshold_db", .unit = "dBFS", .min = -80, .max = 0, .def = -40, .smoothing = Smoothing::immediate,
     .description = "it opens when the level reaches this"},
    {.key = "range_db", .unit = "dB", .min = -100, .max = 0, .def = -80, .smoothing = Smoothing::immediate,
     .description = "the gain while fully closed (its most attenuation)"},
    {.key = "ratio", .min = 1, .max = 100, .def = 100, .smoothing = Smoothing::immediate,
     .description = "below the threshold the gain falls (ratio - 1) dB per dB: an expander; 100 is a gate"},
    {.key = "attack_ms", .unit = "ms", .min = 0.05, .max = 100, .def = 1, .smoothing = Smoothing::immediate,
     .description = "time constant of opening: after it the gain is 63 % of the way"},
    {.key = "hold_ms", .unit = "ms", .min = 0, .max = 2000, .def = 20, .smoothing = Smoothing::immediate,
     .description = "how long it stays open after the level falls below threshold - hysteresis"},
    {.key = "release_ms", .unit = "ms", .min = 1, .max = 5000, .def = 100, .smoothing = Smoothing::immediate,
     .description = "time constant of closing, after the hold"},
    {.key = "hysteresis_db", .unit = "dB", .min = 0, .max = 20, .def = 3, .smoothing = Smoothing::immediate,
     .description = "it closes only below threshold - hysteresis, so it does not chatter"},
    {.key = "sidechain_hpf_hz", .unit = "Hz", .min = 0, .max = 1000, .def = 0, .smoothing = Smoothing::immediate,
     .description = "a highpass before the detector (on the sidechain key, or on the signal itself); 0 = off"},
}};

using P = GateProcessor::Param;
constexpr std::size_t at(P p) { return static_cast<std::size_t>(p); }
static_assert(params.size() == at(P::count));
static_assert(param_index_matches(params, at(P::threshold_db), "threshold_db"));
static_assert(param_index_matches(params, at(P::range_db), "range_db"));
static_assert(param_index_matches(params, at(P::ratio), "ratio"));
static_assert(param_index_matches(params, at(P::attack_ms), "attack_ms"));
static_assert(param_index_matches(params, at(P::hold_ms), "hold_ms"));
static_assert(param_index_matches(params, at(P::release_ms), "release_ms"));
static_assert(param_index_matches(params, at(P::hysteresis_db), "hysteresis_db"));
static_assert(param_index_matches(params, at(P::sidechain_hpf_hz), "sidechain_hpf_hz"));

constexpr ProcessorInfo info{
    .type = "gate",
    .title = "Gate / expander",
    .summary = "turns the signal down while it stays below a threshold, with hold and hysteresis; an expander below ratio 100",
    .params = params,
    .sidechain = true,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) { return std::make_unique<GateProcessor>(setup); }

}  // namespace

const ProcessorKind gate_kind{info, &create};

GateProcessor::GateProcessor(const ProcessorSetup& setup) : detector_(setup.sample_rate, setup.max_block_frames) {
    gate_.prepare(setup.sample_rate);
    gate_.set(settings_);
}

void GateProcessor::apply(std::uint16_t param, std::uint8_t, float value) noexcept {
    dsp::GateSettings& s = settings_;
    switch (static_cast<P>(param)) {
        case P::threshold_db: s.threshold_db = value; break;
        case P::range_db: s.range_db = value; break;
        case P::ratio: s.ratio = value; break;
        case P::attack_ms: s.attack_ms = value; break;
        case P::hold_ms: s.hold_ms = value; break;
        case P::release_ms: s.release_ms = value; break;
        case P::hysteresis_db: s.hysteresis_db = value; break;
        case P::sidechain_hpf_hz: detector_.set_highpass(value); return;
        case P::count: return;
    }
    gate_.set(s);
}

void GateProcessor::process(const ProcessIo& io) noexcept {
    std::uint32_t n = 0;
    const float* const* input = detector_.listen(io.audio, io.channels, io.key, io.key_channels, io.frames, n);
    gate_.process(io.audio, io.channels, io.frames, input, input != nullptr ? n : 0);
}

}  // namespace rtmix::engine
