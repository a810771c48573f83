#include "processors/deesser.hpp"

#include <array>

namespace rtmix::engine {

namespace {

constexpr std::array<std::string_view, 2> mode_words = {"split", "wideband"};

constexpr std::array<ParamInfo, 4> params = {{
    {.key = "mode", .kind = ValueKind::word, .max = 1, .words = mode_words, .smoothing = Smoothing::crossfade,
     .description = "split: only the sibilant band is turned down; wideband: the whole signal, while the band is loud"},
    {.key = "freq_hz", .unit = "Hz", .min = 2000, .max = 16000, .def = 6000, .smoothing = Smoothing::glide,
     .description = "where the sibilant band starts (a 2nd-order Butterworth highpass)"},
    {.key = "threshold_db", .unit = "dBFS", .min = -60, .max = 0, .def = -30, .smoothing = Smoothing::immediate,
     .description = "the band is brought down to this level"},
    {.key = "range_db", .unit = "dB", .min = 0, .max = 24, .def = 12, .smoothing = Smoothing::immediate,
     .description = "by at most this much"},
}};

using P = DeesserProcessor::Param;
constexpr std::size_t at(P p) { return static_cast<std::size_t>(p); }
static_assert(params.size() == at(P::count));
static_assert(param_index_matches(params, at(P::mode), "mode"));
static_assert(param_index_matches(params, at(P::freq_hz), "freq_hz"));
static_assert(param_index_matches(params, at(P::threshold_db), "threshold_db"));
static_assert(param_index_matches(params, at(P::range_db), "range_db"));

constexpr ProcessorInfo info{
    .type = "deesser",
    .title = "De-esser",
    .summary = "a fast limiter on the sibilant band, 0.5 ms attack and 50 ms release, split-band or wideband",
    .params = params,
    .sidechain = true,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) { return std::make_unique<DeesserProcessor>(setup); }

}  // namespace

const ProcessorKind deesser_kind{info, &create};

DeesserProcessor::DeesserProcessor(const ProcessorSetup& setup) {
    deesser_.prepare(setup.sample_rate, setup.smoothing_ms);
}

void DeesserProcessor::apply(std::uint16_t param, std::uint8_t, float value) noexcept {
    dsp::DeesserSettings& s = settings_;
    switch (static_cast<P>(param)) {
        case P::mode: s.mode = value != 0.0f ? dsp::DeesserMode::wideband : dsp::DeesserMode::split; break;
        case P::freq_hz: s.freq_hz = value; break;
        case P::threshold_db: s.threshold_db = value; break;
        case P::range_db: s.range_db = value; break;
        case P::count: return;
    }
    deesser_.set(s);
}

}  // namespace rtmix::engine
