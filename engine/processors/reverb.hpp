// The reverb (dsp::Reverb, an 8-line feedback delay network) as a processor kind: a bus's
// `reverb = {}` and an insert of type "reverb" on any strip. Stereo out.
#pragma once

#include "dsp/reverb.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind reverb_kind;

class ReverbProcessor final : public Processor {
public:
    explicit ReverbProcessor(const ProcessorSetup& setup) : dsp_(setup.sample_rate) {}
    /// `param` is a dsp::ReverbParam: the kind's parameters are in that order (checked in reverb.cpp).
    void apply(std::uint16_t param, std::uint8_t, float value) noexcept override {
        dsp_.set(static_cast<dsp::ReverbParam>(param), value);
    }
    void process(const ProcessIo& io) noexcept override { dsp_.process(io.audio[0], io.audio[1], io.frames); }
    void reset() noexcept override { dsp_.reset(); }

private:
    dsp::Reverb dsp_;
};

}  // namespace rtmix::engine
