// The compressor as a processor kind: built into every strip (`compressor.*`) and available as an
// insert. The DSP is dsp::Compressor; the strip runs it directly (compressor()) so that a group of
// strips can interleave their compressors' filters.
#pragma once

#include "dsp/compressor.hpp"
#include "processors/detector_input.hpp"
#include "processors/processor.hpp"

namespace rtmix::engine {

extern const ProcessorKind compressor_kind;

class CompressorProcessor final : public Processor {
public:
    /// In the order of compressor_kind.info.params (checked in compressor.cpp).
    enum class Param : std::uint16_t {
        enabled, threshold_db, ratio, knee_db, attack_ms, release_ms, makeup_db, detector, lookahead_ms,
        sidechain_hpf_hz, count
    };

    explicit CompressorProcessor(const ProcessorSetup& setup);
    void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept override;
    void process(const ProcessIo& io) noexcept override;
    void reset() noexcept override {
        comp_.reset();
        detector_.reset();
    }
    float gain_reduction_db() const noexcept override { return comp_.gain_reduction_db(); }
    float block_max_reduction_db() const noexcept override { return comp_.block_max_reduction_db(); }

    dsp::Compressor& compressor() noexcept { return comp_; }
    /// Points the detector for the next run of `frames` at `key` (a sidechain, already aligned),
    /// or at `audio` when there is none; through the sidechain highpass when it is on. Audio
    /// thread, wait-free.
    void listen(const float* const* audio, std::uint32_t channels, const float* const* key, std::uint32_t key_channels,
                std::uint32_t frames) noexcept {
        std::uint32_t n = 0;
        const float* const* input = detector_.listen(audio, channels, key, key_channels, frames, n);
        comp_.listen_to(input, n);
    }

private:
    dsp::Compressor comp_;
    dsp::CompressorSettings settings_{};
    DetectorInput detector_;
};

}  // namespace rtmix::engine
