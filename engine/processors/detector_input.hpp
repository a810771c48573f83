// DetectorInput: what a dynamics processor's detector listens to in one run: a sidechain key
// (already aligned by the insert or the strip) or the processor's own audio, through its
// sidechain highpass when that is on (dsp/key_filter.hpp). Shared by the compressor and the gate.
//
// Threads: the constructor allocates (control side); set_highpass() and listen() are wait-free.
#pragma once

#include <cstdint>
#include <vector>

#include "dsp/key_filter.hpp"

namespace rtmix::engine {

class DetectorInput {
public:
    DetectorInput(double sample_rate, std::uint32_t max_block_frames)
        : sample_rate_(sample_rate), max_block_frames_(max_block_frames), filtered_(2 * static_cast<std::size_t>(max_block_frames)) {}

    /// The sidechain highpass's cutoff (0: off).
    void set_highpass(float freq_hz) noexcept { filter_.set(sample_rate_, freq_hz); }
    void reset() noexcept { filter_.reset(); }

    /// The detector's input for a run of `frames`: null (listen to the audio as it is), `key`, or
    /// the filtered key or audio; `channels` receives its channel count. The pointers stay valid
    /// until the next call.
    const float* const* listen(const float* const* audio, std::uint32_t audio_channels, const float* const* key,
                               std::uint32_t key_channels, std::uint32_t frames, std::uint32_t& channels) noexcept {
        const float* const* source = key != nullptr ? key : audio;
        channels = key != nullptr ? key_channels : audio_channels;
        if (!filter_.on()) return key;
        if (channels > 2) channels = 2;
        for (std::uint32_t c = 0; c < channels; ++c) {
            float* out = filtered_.data() + static_cast<std::size_t>(c) * max_block_frames_;
            filter_.process(c, source[c], out, frames);
            view_[c] = out;
        }
        return view_;
    }

private:
    double sample_rate_;
    std::uint32_t max_block_frames_;
    dsp::KeyFilter filter_;
    std::vector<float> filtered_;  // 2 x max_block_frames
    const float* view_[2] = {nullptr, nullptr};
};

}  // namespace rtmix::engine
