// The de-esser (dsp::Deesser) as a processor kind: an insert of type "deesser", split-band or
// wideband, with a sidechain.
#pragma once

#include "dsp/deesser.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind deesser_kind;

class DeesserProcessor final : public Processor {
public:
    /// In the order of deesser_kind.info.params (checked in deesser.cpp).
    enum class Param : std::uint16_t { mode, freq_hz, threshold_db, range_db, count };

    explicit DeesserProcessor(const ProcessorSetup& setup);
    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override;
    void process(const ProcessIo& io) noexcept override {
        deesser_.process(io.audio, io.channels, io.frames, io.key, io.key != nullptr ? io.key_channels : 0);
    }
    void reset() noexcept override { deesser_.reset(); }
    float gain_reduction_db() const noexcept override { return deesser_.gain_reduction_db(); }
    float block_max_reduction_db() const noexcept override { return deesser_.block_max_reduction_db(); }

private:
    dsp::Deesser deesser_;
    dsp::DeesserSettings settings_{};
};

}  // namespace rtmix::engine
