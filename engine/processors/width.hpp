// Stereo width / mid-side (dsp::StereoWidth) as a processor kind: an insert of type "width".
#pragma once

#include "dsp/stereo_width.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind width_kind;

class WidthProcessor final : public Processor {
public:
    /// In the order of width_kind.info.params (checked in width.cpp).
    enum class Param : std::uint16_t { width, mid_db, side_db, count };

    explicit WidthProcessor(const ProcessorSetup& setup) { dsp_.prepare(setup.sample_rate, setup.smoothing_ms); }
    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override;
    void process(const ProcessIo& io) noexcept override { dsp_.process(io.audio, io.channels, io.frames); }
    void reset() noexcept override { dsp_.settle(); }

private:
    dsp::StereoWidth dsp_;
    float values_[3] = {1.0f, 0.0f, 0.0f};
};

}  // namespace rtmix::engine
