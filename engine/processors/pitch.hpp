// Pitch correction (dsp::PitchCorrector) as a processor kind: an insert of type "pitch", on a
// mono signal only (it follows one voice), with a fixed latency.
#pragma once

#include "dsp/pitch_correct.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind pitch_kind;

class PitchProcessor final : public Processor {
public:
    /// In the order of pitch_kind.info.params (checked in pitch.cpp).
    enum class Param : std::uint16_t {
        key, scale, notes, a4_hz, speed_ms, amount, hold_cents, min_hz, max_hz, transpose, formants, count
    };

    explicit PitchProcessor(const ProcessorSetup& setup);
    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override;
    /// The first channel (the insert only ever gets one: the kind is mono).
    void process(const ProcessIo& io) noexcept override { dsp_.process(io.audio[0], io.frames); }
    void reset() noexcept override { dsp_.reset(); }
    const dsp::PitchCorrector& corrector() const noexcept { return dsp_; }

private:
    dsp::PitchCorrector dsp_;
    dsp::PitchSettings settings_{};
};

}  // namespace rtmix::engine
