#include "processors/pitch.hpp"

#include <array>

namespace rtmix::engine {

namespace {

constexpr std::array<std::string_view, dsp::scales.size()> scale_words = [] {
    std::array<std::string_view, dsp::scales.size()> out{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = dsp::scales[i].name;
    return out;
}();

constexpr std::array<ParamInfo, 11> params = {{
    {.key = "key", .kind = ValueKind::word, .max = 11, .def = 0, .words = dsp::pitch_class_names,
     .smoothing = Smoothing::immediate, .description = "the key (root) of the scale"},
    {.key = "scale", .kind = ValueKind::word, .max = dsp::scales.size() - 1, .def = 0, .words = scale_words,
     .smoothing = Smoothing::immediate,
     .description = "the notes the voice is brought to; custom: the pitch classes of `notes`"},
    {.key = "notes", .min = 1, .max = 4095, .def = 4095, .smoothing = Smoothing::immediate,
     .description = "scale = custom: the allowed pitch classes, bit 0 = C ... bit 11 = B (a session file may write "
                    "notes = [\"C\", \"E\", \"G\"])"},
    {.key = "a4_hz", .unit = "Hz", .min = 400, .max = 480, .def = 440, .smoothing = Smoothing::immediate,
     .description = "reference tuning: the frequency of A4"},
    {.key = "speed_ms", .unit = "ms", .min = 0, .max = 200, .def = 20, .smoothing = Smoothing::immediate,
     .description = "retune speed: the time constant the correction follows the target with (0: hard snap)"},
    {.key = "amount", .min = 0, .max = 1, .def = 1, .smoothing = Smoothing::immediate,
     .description = "how much of the way to the target note the voice is moved"},
    {.key = "hold_cents", .unit = "cents", .min = 0, .max = 100, .def = 20, .smoothing = Smoothing::immediate,
     .description = "a held note is kept until the voice is this much closer to another note of the scale"},
    {.key = "min_hz", .unit = "Hz", .min = 60, .max = 1200, .def = 60, .smoothing = Smoothing::immediate,
     .description = "the lowest pitch the detector looks for (below min_hz ... max_hz: passed through)"},
    {.key = "max_hz", .unit = "Hz", .min = 60, .max = 1200, .def = 1200, .smoothing = Smoothing::immediate,
     .description = "the highest pitch the detector looks for"},
    {.key = "transpose", .unit = "semitones", .min = -12, .max = 12, .def = 0, .smoothing = Smoothing::immediate,
     .description = "moves the corrected voice by this many semitones (fractions allowed)"},
    {.key = "formants", .kind = ValueKind::boolean, .max = 1, .def = 1, .smoothing = Smoothing::immediate,
     .description = "keep the voice's formants (its vowels) where they are; off: they move with the pitch"},
}};

using P = PitchProcessor::Param;
constexpr std::size_t at(P p) { return static_cast<std::size_t>(p); }
static_assert(params.size() == at(P::count));
static_assert(param_index_matches(params, at(P::key), "key"));
static_assert(param_index_matches(params, at(P::scale), "scale"));
static_assert(param_index_matches(params, at(P::notes), "notes"));
static_assert(param_index_matches(params, at(P::a4_hz), "a4_hz"));
static_assert(param_index_matches(params, at(P::speed_ms), "speed_ms"));
static_assert(param_index_matches(params, at(P::amount), "amount"));
static_assert(param_index_matches(params, at(P::hold_cents), "hold_cents"));
static_assert(param_index_matches(params, at(P::min_hz), "min_hz"));
static_assert(param_index_matches(params, at(P::max_hz), "max_hz"));
static_assert(param_index_matches(params, at(P::transpose), "transpose"));
static_assert(param_index_matches(params, at(P::formants), "formants"));

constexpr ProcessorInfo info{
    .type = "pitch",
    .title = "Pitch correction",
    .summary = "brings a mono voice to the notes of a scale (YIN detection, PSOLA shifting that keeps the formants), "
               "8.5 ms latency",
    .params = params,
    .mono = true,
};

std::unique_ptr<Processor> create(const ProcessorSetup& setup) { return std::make_unique<PitchProcessor>(setup); }

std::uint32_t latency(std::span<const double>, double sample_rate) {
    return dsp::PitchCorrector::latency_frames(sample_rate);
}

std::uint32_t max_latency(double sample_rate) { return dsp::PitchCorrector::latency_frames(sample_rate); }

}  // namespace

const ProcessorKind pitch_kind{info, &create, &latency, &max_latency};

PitchProcessor::PitchProcessor(const ProcessorSetup& setup) {
    dsp_.prepare(setup.sample_rate);
    dsp_.set(settings_);
}

void PitchProcessor::apply(std::uint16_t param, std::uint8_t, float value) noexcept {
    dsp::PitchSettings& s = settings_;
    switch (static_cast<P>(param)) {
        case P::key: s.key = static_cast<std::uint32_t>(value); break;
        case P::scale: s.scale = static_cast<std::uint32_t>(value); break;
        case P::notes: s.notes = static_cast<std::uint16_t>(value); break;
        case P::a4_hz: s.a4_hz = value; break;
        case P::speed_ms: s.speed_ms = value; break;
        case P::amount: s.amount = value; break;
        case P::hold_cents: s.hold_cents = value; break;
        case P::min_hz: s.min_hz = value; break;
        case P::max_hz: s.max_hz = value; break;
        case P::transpose: s.transpose = value; break;
        case P::formants: s.formants = value != 0.0f; break;
        case P::count: return;
    }
    dsp_.set(s);
}

}  // namespace rtmix::engine
