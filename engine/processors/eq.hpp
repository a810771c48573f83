// The EQ every strip has built in (`eq.N.*`): eight bands of dsp::Equalizer, as a processor kind.
//
// Parameters: per band (group) type, freq_hz, gain_db, q, slope. A change reaches the band at
// once; the band glides or crossfades to it (dsp/eq.hpp). The strip runs the equalizer directly
// (equalizer()) so that groups of strips can run their steady bands in SIMD lanes.
#pragma once

#include <array>

#include "dsp/eq.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind eq_kind;

class EqProcessor final : public Processor {
public:
    /// The parameters of one band, in the order of eq_kind.info.params (checked in eq.cpp).
    enum class Param : std::uint16_t { type, freq_hz, gain_db, q, slope, count };

    explicit EqProcessor(const ProcessorSetup& setup);
    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override;
    void process(const ProcessIo& io) noexcept override;
    void reset() noexcept override { eq_.reset(); }

    dsp::Equalizer& equalizer() noexcept { return eq_; }

private:
    dsp::Equalizer eq_;
    std::array<dsp::EqBandSettings, dsp::max_eq_bands> settings_{};
};

}  // namespace rtmix::engine
