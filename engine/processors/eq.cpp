#include "processors/eq.hpp"

#include <array>

namespace rtmix::engine {

namespace {

constexpr std::array<std::string_view, 7> type_words = {"off", "highpass", "lowpass", "lowshelf", "highshelf", "peak", "notch"};
constexpr std::array<double, 2> slopes = {12.0, 24.0};

constexpr std::array<ParamInfo, 5> params = {{
    {.key = "type", .kind = ValueKind::word, .max = 6, .words = type_words, .smoothing = Smoothing::crossfade,
     .description = "the band's response; a change fades out, switches, fades in"},
    {.key = "freq_hz", .unit = "Hz", .min = 10, .max = 24000, .def = 1000, .smoothing = Smoothing::glide,
     .description = "cutoff, centre or shelf midpoint; limited internally to 0.49 x the sample rate"},
    {.key = "gain_db", .unit = "dB", .min = -24, .max = 24, .def = 0, .smoothing = Smoothing::glide,
     .description = "peak and shelves only"},
    {.key = "q", .min = 0.1, .max = 20, .def = 0.70710678, .smoothing = Smoothing::glide,
     .description = "bandwidth of peak and notch, resonance of 12 dB/oct passes, shelf slope"},
    {.key = "slope", .unit = "dB/oct", .min = 12, .max = 24, .def = 12, .choices = slopes,
     .smoothing = Smoothing::crossfade,
     .description = "highpass and lowpass only; 24 is a 4th-order Butterworth and ignores q"},
}};

using P = EqProcessor::Param;
static_assert(params.size() == static_cast<std::size_t>(P::count));
static_assert(param_index_matches(params, static_cast<std::size_t>(P::type), "type"));
static_assert(param_index_matches(params, static_cast<std::size_t>(P::freq_hz), "freq_hz"));
static_assert(param_index_matches(params, static_cast<std::size_t>(P::gain_db), "gain_db"));
static_assert(param_index_matches(params, static_cast<std::size_t>(P::q), "q"));
static_assert(param_index_matches(params, static_cast<std::size_t>(P::slope), "slope"));

constexpr ProcessorInfo info{
    .type = "eq",
    .title = "EQ",
    .summary = "eight bands in series, each a trapezoidal state-variable filter with the RBJ cookbook responses",
    .params = params,
    .groups = dsp::max_eq_bands,
    .insert = false,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) { return std::make_unique<EqProcessor>(setup); }

}  // namespace

const ProcessorKind eq_kind{info, &create};

EqProcessor::EqProcessor(const ProcessorSetup& setup) { eq_.prepare(setup.sample_rate, setup.smoothing_ms); }

void EqProcessor::apply(std::uint16_t param, std::uint8_t, float value) noexcept {
    constexpr auto per_band = static_cast<std::uint16_t>(P::count);
    const std::uint32_t band = (param / per_band) % dsp::max_eq_bands;
    dsp::EqBandSettings& s = settings_[band];
    switch (static_cast<P>(param % per_band)) {
        case P::type: s.type = static_cast<dsp::EqType>(value); break;
        case P::freq_hz: s.freq_hz = value; break;
        case P::gain_db: s.gain_db = value; break;
        case P::q: s.q = value; break;
        case P::slope: s.slope_db_oct = value >= 24.0f ? 24 : 12; break;
        case P::count: return;
    }
    eq_.band(band).set(s);
}

void EqProcessor::process(const ProcessIo& io) noexcept { eq_.process(io.audio, io.channels, io.frames); }

}  // namespace rtmix::engine
