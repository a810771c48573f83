// The stereo delay (dsp::StereoDelay) as a processor kind: a bus's `delay = {}` and an insert of
// type "delay" on any strip. Stereo out.
#pragma once

#include "dsp/stereo_delay.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind delay_kind;

class DelayProcessor final : public Processor {
public:
    explicit DelayProcessor(const ProcessorSetup& setup) : dsp_(setup.sample_rate) {}
    /// `param` is a dsp::DelayParam: the kind's parameters are in that order (checked in delay.cpp).
    void apply(std::uint16_t param, std::uint8_t, float value) noexcept override {
        dsp_.set(static_cast<dsp::DelayParam>(param), value);
    }
    void process(const ProcessIo& io) noexcept override { dsp_.process(io.audio[0], io.audio[1], io.frames); }
    void reset() noexcept override { dsp_.reset(); }

private:
    dsp::StereoDelay dsp_;
};

}  // namespace rtmix::engine
