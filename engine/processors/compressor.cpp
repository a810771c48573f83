#include "processors/compressor.hpp"

#include <array>

namespace rtmix::engine {

namespace {

constexpr std::array<std::string_view, 2> detector_words = {"peak", "rms"};

constexpr std::array<ParamInfo, 10> params = {{
    {.key = "enabled", .kind = ValueKind::boolean, .max = 1, .smoothing = Smoothing::crossfade,
     .description = "disabling releases smoothly, then bypasses"},
    {.key = "threshold_db", .unit = "dBFS", .min = -60, .max = 0, .def = -20, .smoothing = Smoothing::immediate,
     .description = "level where compression starts (the middle of the knee)"},
    {.key = "ratio", .min = 1, .max = 100, .def = 4, .smoothing = Smoothing::immediate,
     .description = "input dB over the threshold per output dB; 1 = no compression"},
    {.key = "knee_db", .unit = "dB", .min = 0, .max = 24, .def = 6, .smoothing = Smoothing::immediate,
     .description = "total knee width, centred on the threshold"},
    {.key = "attack_ms", .unit = "ms", .min = 0.1, .max = 500, .def = 10, .smoothing = Smoothing::immediate,
     .description = "time constant: after it a step of gain reduction is 63 % of the way"},
    {.key = "release_ms", .unit = "ms", .min = 1, .max = 5000, .def = 100, .smoothing = Smoothing::immediate,
     .description = "time constant of the way back"},
    {.key = "makeup_db", .unit = "dB", .min = 0, .max = 36, .def = 0, .description = "gain after compression"},
    {.key = "detector", .kind = ValueKind::word, .max = 1, .words = detector_words, .smoothing = Smoothing::immediate,
     .description = "peak: largest |x| of the channels each sample; rms: mean square of the channels over 10 ms"},
    {.key = "lookahead_ms", .unit = "ms", .min = 0, .max = dsp::max_lookahead_ms, .def = 0, .smoothing = Smoothing::crossfade,
     .description = "the audio waits this long for its gain, so the reduction meets a transient; the strip's latency",
     .latency = true},
    {.key = "sidechain_hpf_hz", .unit = "Hz", .min = 0, .max = 1000, .def = 0, .smoothing = Smoothing::immediate,
     .description = "a highpass before the detector (on the sidechain key, or on the signal itself); 0 = off"},
}};

using P = CompressorProcessor::Param;
constexpr std::size_t at(P p) { return static_cast<std::size_t>(p); }
static_assert(params.size() == at(P::count));
static_assert(param_index_matches(params, at(P::enabled), "enabled"));
static_assert(param_index_matches(params, at(P::threshold_db), "threshold_db"));
static_assert(param_index_matches(params, at(P::ratio), "ratio"));
static_assert(param_index_matches(params, at(P::knee_db), "knee_db"));
static_assert(param_index_matches(params, at(P::attack_ms), "attack_ms"));
static_assert(param_index_matches(params, at(P::release_ms), "release_ms"));
static_assert(param_index_matches(params, at(P::makeup_db), "makeup_db"));
static_assert(param_index_matches(params, at(P::detector), "detector"));
static_assert(param_index_matches(params, at(P::lookahead_ms), "lookahead_ms"));
static_assert(param_index_matches(params, at(P::sidechain_hpf_hz), "sidechain_hpf_hz"));

constexpr ProcessorInfo info{
    .type = "compressor",
    .title = "Compressor",
    .summary = "feed-forward, stereo-linked, soft knee (Giannoulis, Massberg & Reiss 2012)",
    .params = params,
    .sidechain = true,
    .wet_dry = true,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) { return std::make_unique<CompressorProcessor>(setup); }

std::uint32_t latency(std::span<const double> values, double sample_rate) {
    return dsp::Compressor::lookahead_frames(sample_rate, static_cast<float>(values[at(P::lookahead_ms)]));
}

std::uint32_t max_latency(double sample_rate) { return dsp::Compressor::lookahead_frames(sample_rate, dsp::max_lookahead_ms); }

}  // namespace

const ProcessorKind compressor_kind{info, &create, &latency, &max_latency};

CompressorProcessor::CompressorProcessor(const ProcessorSetup& setup) : detector_(setup.sample_rate, setup.max_block_frames) {
    comp_.prepare(setup.sample_rate, setup.smoothing_ms);
}

void CompressorProcessor::apply(std::uint16_t param, std::uint8_t, float value) noexcept {
    dsp::CompressorSettings& s = settings_;
    switch (static_cast<P>(param)) {
        case P::enabled: s.enabled = value != 0.0f; break;
        case P::threshold_db: s.threshold_db = value; break;
        case P::ratio: s.ratio = value; break;
        case P::knee_db: s.knee_db = value; break;
        case P::attack_ms: s.attack_ms = value; break;
        case P::release_ms: s.release_ms = value; break;
        case P::makeup_db: s.makeup_db = value; break;
        case P::detector: s.detector = static_cast<dsp::Detector>(value); break;
        case P::lookahead_ms: s.lookahead_ms = value; break;
        case P::sidechain_hpf_hz: detector_.set_highpass(value); return;
        case P::count: return;
    }
    comp_.set(s);
}

void CompressorProcessor::process(const ProcessIo& io) noexcept {
    listen(io.audio, io.channels, io.key, io.key_channels, io.frames);
    comp_.process(io.audio, io.channels, io.frames);
}

}  // namespace rtmix::engine
