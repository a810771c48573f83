// The reverb (dsp::Reverb, an 8-line feedback delay network) as a processor kind: a bus's
// `reverb = {}` and an insert of type "reverb" on any strip. Stereo out. Its parameters are
// dsp::ReverbParam, in that order (checked in reverb.cpp).
#pragma once

#include "dsp/reverb.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind reverb_kind;
using ReverbProcessor = StereoDspProcessor<dsp::Reverb, dsp::ReverbParam>;

}  // namespace rtmix::engine
