// The gate / downward expander (dsp::Gate) as a processor kind: an insert of type "gate", with a
// sidechain (a key from another strip) and a sidechain highpass.
#pragma once

#include "dsp/gate.hpp"
#include "processors/detector_input.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind gate_kind;

class GateProcessor final : public Processor {
public:
    /// In the order of gate_kind.info.params (checked in gate.cpp).
    enum class Param : std::uint16_t {
        threshold_db, range_db, ratio, attack_ms, hold_ms, release_ms, hysteresis_db, sidechain_hpf_hz, count
    };

    explicit GateProcessor(const ProcessorSetup& setup);
    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override;
    void process(const ProcessIo& io) noexcept override;
    void reset() noexcept override {
        gate_.reset();
        detector_.reset();
    }
    float gain_reduction_db() const noexcept override { return gate_.gain_reduction_db(); }
    float block_max_reduction_db() const noexcept override { return gate_.block_max_reduction_db(); }

private:
    dsp::Gate gate_;
    dsp::GateSettings settings_{};
    DetectorInput detector_;
};

}  // namespace rtmix::engine
