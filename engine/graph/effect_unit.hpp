// EffectUnit: a bus insert (reverb or delay) as the graph and the parameter queue see it.
// The DSP lives in dsp/; this adapter gives it an RtObject face and a common process() call.
// Construction allocates (control thread); everything else is wait-free (audio thread).
#pragma once

#include <cstdint>

#include "control/param_change.hpp"
#include "dsp/reverb.hpp"
#include "dsp/stereo_delay.hpp"
#include "rtmix/engine.hpp"

namespace rtmix::engine {

class EffectUnit : public RtObject {
public:
    virtual Effect kind() const noexcept = 0;
    /// Processes one stereo block in place. Audio thread, wait-free.
    virtual void process(float* left, float* right, std::uint32_t frames) noexcept = 0;
    virtual void reset() noexcept = 0;
};

/// The adapter of one DSP effect class: parameter changes carry the effect's own parameter number
/// in their index.
template <class Dsp, class Param, Effect Kind>
class EffectAdapter final : public EffectUnit {
public:
    explicit EffectAdapter(double sample_rate) : dsp_(sample_rate) {}
    Effect kind() const noexcept override { return Kind; }
    void apply(ParamId, std::uint8_t index, float value) noexcept override {
        dsp_.set(static_cast<Param>(index), value);
    }
    void process(float* l, float* r, std::uint32_t frames) noexcept override { dsp_.process(l, r, frames); }
    void reset() noexcept override { dsp_.reset(); }

private:
    Dsp dsp_;
};

using ReverbUnit = EffectAdapter<dsp::Reverb, dsp::ReverbParam, Effect::reverb>;
using DelayUnit = EffectAdapter<dsp::StereoDelay, dsp::DelayParam, Effect::delay>;

}  // namespace rtmix::engine
