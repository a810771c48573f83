// The lookahead true-peak limiter (dsp::Limiter) as a processor kind: the master's own limiter
// (`master.limiter.*`, in the master chain) and an insert of type "limiter" on any strip.
//
// The kind's parameters are dsp::LimiterParam without `enabled` (kind index i is LimiterParam
// i + 1, checked in limiter.cpp): an insert is switched by the insert's own `enabled`, which keeps
// the lookahead delay while bypassed; the master's `enabled` (master_limiter_params()) is the
// limiter's full bypass, with no latency.
#pragma once

#include <vector>

#include "dsp/limiter.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind limiter_kind;

/// The dsp::LimiterParam of the limiter kind's parameter `index`.
constexpr dsp::LimiterParam limiter_param(std::uint16_t index) noexcept {
    return static_cast<dsp::LimiterParam>(index + 1);
}

class LimiterProcessor final : public Processor {
public:
    /// An enabled limiter at its defaults, its ramps at rest.
    explicit LimiterProcessor(const ProcessorSetup& setup);
    void apply(std::uint16_t param, std::uint8_t, float value) noexcept override {
        dsp_.set(limiter_param(param), value);
    }
    void process(const ProcessIo& io) noexcept override;
    void reset() noexcept override { dsp_.reset(); }
    float gain_reduction_db() const noexcept override { return dsp_.gain_reduction_db(); }

private:
    dsp::Limiter dsp_;
    std::vector<float> mono_;  // the right side's copy of a mono strip's channel
};

}  // namespace rtmix::engine
