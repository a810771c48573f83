// ParamRange: the minimum, maximum and default of a DSP parameter, which the engine validates
// user values against and documents.
#pragma once

namespace rtmix::dsp {

struct ParamRange {
    float min, max, def;
};

}  // namespace rtmix::dsp
