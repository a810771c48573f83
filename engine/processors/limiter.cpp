#include "processors/limiter.hpp"

#include <algorithm>
#include <array>

namespace rtmix::engine {

namespace {

using L = dsp::LimiterParam;

constexpr ParamInfo number(L p, std::string_view key, std::string_view unit, Smoothing smoothing,
                           std::string_view description, bool latency = false) {
    const dsp::ParamRange r = dsp::limiter_range(p);
    return {.key = key, .unit = unit, .min = r.min, .max = r.max, .def = r.def, .smoothing = smoothing,
            .description = description, .latency = latency};
}

constexpr std::array<ParamInfo, 4> params = {{
    number(L::gain_db, "gain_db", "dB", Smoothing::ramp, "input gain into the limiter (loudness normalization drives it)"),
    number(L::ceiling_dbtp, "ceiling_dbtp", "dBTP", Smoothing::immediate, "the true-peak ceiling"),
    number(L::release_ms, "release_ms", "ms", Smoothing::immediate,
           "after a 25 ms hold, gain reduction decays with this time constant"),
    number(L::lookahead_ms, "lookahead_ms", "ms", Smoothing::immediate,
           "the latency; a change while audio runs jumps the delay (make it while stopped)", true),
}};

constexpr std::size_t at(L p) { return static_cast<std::size_t>(p) - 1; }
static_assert(param_index_matches(params, at(L::gain_db), "gain_db"));
static_assert(param_index_matches(params, at(L::ceiling_dbtp), "ceiling_dbtp"));
static_assert(param_index_matches(params, at(L::release_ms), "release_ms"));
static_assert(param_index_matches(params, at(L::lookahead_ms), "lookahead_ms"));

constexpr ProcessorInfo info{
    .type = "limiter",
    .title = "True-peak limiter",
    .summary = "stereo-linked lookahead limiter whose output never exceeds its ceiling in true peak (BS.1770-4)",
    .params = params,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) { return std::make_unique<LimiterProcessor>(setup); }

std::uint32_t latency(std::span<const double> values, double sample_rate) {
    return dsp::Limiter::latency_frames_for(sample_rate, static_cast<float>(values[at(L::lookahead_ms)]));
}

std::uint32_t max_latency(double sample_rate) {
    return dsp::Limiter::latency_frames_for(sample_rate, static_cast<float>(params[at(L::lookahead_ms)].max));
}

}  // namespace

const ProcessorKind limiter_kind{info, &create, &latency, &max_latency};

LimiterProcessor::LimiterProcessor(const ProcessorSetup& setup)
    : dsp_(setup.sample_rate, setup.smoothing_ms), mono_(setup.max_block_frames) {
    dsp_.set(L::enabled, 1.0f);
    dsp_.reset();
}

void LimiterProcessor::process(const ProcessIo& io) noexcept {
    if (io.channels > 1) {
        dsp_.process(io.audio[0], io.audio[1], io.frames);
        return;
    }
    // A mono strip: both sides of the stereo limiter see the one channel.
    std::copy_n(io.audio[0], io.frames, mono_.data());
    dsp_.process(io.audio[0], mono_.data(), io.frames);
}

}  // namespace rtmix::engine
