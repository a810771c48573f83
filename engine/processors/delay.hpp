// The stereo delay (dsp::StereoDelay) as a processor kind: a bus's `delay = {}` and an insert of
// type "delay" on any strip. Stereo out. Its parameters are dsp::DelayParam, in that order
// (checked in delay.cpp).
#pragma once

#include "dsp/stereo_delay.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind delay_kind;
using DelayProcessor = StereoDspProcessor<dsp::StereoDelay, dsp::DelayParam>;

}  // namespace rtmix::engine
