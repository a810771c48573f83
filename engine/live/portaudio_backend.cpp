// The PortAudio backend: any device of any host API PortAudio has (ALSA, JACK, OSS).
//
// The stream is non-interleaved float, full duplex when the session has live inputs (device
// channels), output only otherwise. The callback calls Player::process() with the device's
// input channels mapped to the live inputs; xruns are the underflow and overflow flags the host
// API reports.
#include <portaudio.h>
#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "live/backend_common.hpp"
#include "live/backends.hpp"
#include "rtmix/live.hpp"

namespace rtmix::live {

namespace {

/// Pa_Initialize() with stderr silenced: host APIs probing absent hardware (ALSA's unused PCM
/// definitions, a JACK server that is not running) print pages of noise that mean nothing here.
class PortAudioLibrary {
public:
    PortAudioLibrary() {
        std::fflush(stderr);
        const int saved = ::dup(2);
        const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (saved >= 0 && null >= 0) ::dup2(null, 2);
        error_ = Pa_Initialize();
        if (saved >= 0) {
            ::dup2(saved, 2);
            ::close(saved);
        }
        if (null >= 0) ::close(null);
        if (error_ != paNoError) throw BackendError(fmt::format("PortAudio cannot start: {}", Pa_GetErrorText(error_)));
    }
    ~PortAudioLibrary() {
        if (error_ == paNoError) Pa_Terminate();
    }
    PortAudioLibrary(const PortAudioLibrary&) = delete;
    PortAudioLibrary& operator=(const PortAudioLibrary&) = delete;

private:
    PaError error_ = paNoError;
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// The device `wanted` names (an index, or part of a name), with output channels.
PaDeviceIndex find_output_device(const std::string& wanted) {
    if (wanted.empty()) {
        const PaDeviceIndex d = Pa_GetDefaultOutputDevice();
        if (d == paNoDevice) throw BackendError("PortAudio has no default output device; choose one with --device (see `rtmix devices`)");
        return d;
    }
    int index = -1;
    const auto [end, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), index);
    const int count = Pa_GetDeviceCount();
    if (ec == std::errc() && end == wanted.data() + wanted.size()) {
        if (index < 0 || index >= count)
            throw BackendError(fmt::format("no audio device {} (there are {}; see `rtmix devices`)", index, count));
        if (Pa_GetDeviceInfo(index)->maxOutputChannels < 1)
            throw BackendError(fmt::format("audio device {} ('{}') has no outputs", index, Pa_GetDeviceInfo(index)->name));
        return index;
    }
    std::vector<PaDeviceIndex> matches;
    for (PaDeviceIndex i = 0; i < count; ++i) {
        const PaDeviceInfo* info = Pa_GetDeviceInfo(i);
        if (info->maxOutputChannels < 1) continue;
        if (lower(info->name) == lower(wanted)) return i;  // an exact name wins
        if (lower(info->name).find(lower(wanted)) != std::string::npos) matches.push_back(i);
    }
    if (matches.size() == 1) return matches.front();
    if (matches.empty()) throw BackendError(fmt::format("no audio output device named '{}' (see `rtmix devices`)", wanted));
    std::string names;
    for (PaDeviceIndex i : matches) names += fmt::format("{}{} '{}'", names.empty() ? "" : ", ", i, Pa_GetDeviceInfo(i)->name);
    throw BackendError(fmt::format("'{}' matches several devices: {}; give its index", wanted, names));
}

class PortAudioBackend final : public Backend {
public:
    explicit PortAudioBackend(const BackendOptions& o) : options_(o) {
        device_ = find_output_device(o.device);
        const PaDeviceInfo* info = Pa_GetDeviceInfo(device_);
        rate_ = o.sample_rate > 0 ? o.sample_rate : info->defaultSampleRate;
        frames_ = o.frames > 0 ? o.frames : 256;
        device_name_ = info->name;
        host_api_ = Pa_GetHostApiInfo(info->hostApi)->name;
        output_channels_ = std::min(info->maxOutputChannels, 2);
        if (o.sample_rate > 0 && !supported(rate_, 0)) {
            notes_.push_back(fmt::format("'{}' cannot run at {} Hz; it runs at its default {} Hz (stems are resampled)",
                                         device_name_, rate_, info->defaultSampleRate));
            rate_ = info->defaultSampleRate;
        }
    }

    ~PortAudioBackend() override { stop(); }

    double sample_rate() const override { return rate_; }
    std::uint32_t buffer_frames() const override { return frames_; }
    std::string description() const override {
        return fmt::format("PortAudio device '{}' ({}, {} Hz, {} frames)", device_name_, host_api_, rate_, frames_);
    }

    void start(Player& player) override {
        player_ = &player;
        int needed_inputs = 0;
        for (const LiveChannel& c : player.live_channels()) {
            if (!c.port.empty())
                throw BackendError(fmt::format("track '{}' takes the JACK port '{}' as input; with PortAudio give device "
                                               "input channels instead (input = 1, or [1, 2])", c.track, c.port));
            needed_inputs = std::max(needed_inputs, static_cast<int>(c.device_channel));
        }
        PaStreamParameters out{};
        out.device = device_;
        out.channelCount = output_channels_;
        out.sampleFormat = paFloat32 | paNonInterleaved;
        out.suggestedLatency = Pa_GetDeviceInfo(device_)->defaultLowOutputLatency;
        PaStreamParameters in{};
        PaStreamParameters* in_ptr = nullptr;
        if (needed_inputs > 0) {
            // The inputs come from the output device when it has them, else from the default input.
            PaDeviceIndex input_device = device_;
            if (Pa_GetDeviceInfo(device_)->maxInputChannels < 1) input_device = Pa_GetDefaultInputDevice();
            if (input_device == paNoDevice) throw BackendError("the session has live inputs but there is no input device");
            const int available = Pa_GetDeviceInfo(input_device)->maxInputChannels;
            if (needed_inputs > available)
                notes_.push_back(fmt::format("'{}' has {} input channels; live inputs above channel {} are silent",
                                             Pa_GetDeviceInfo(input_device)->name, available, available));
            in.device = input_device;
            in.channelCount = std::min(needed_inputs, available);
            in.sampleFormat = paFloat32 | paNonInterleaved;
            in.suggestedLatency = Pa_GetDeviceInfo(input_device)->defaultLowInputLatency;
            in_ptr = in.channelCount > 0 ? &in : nullptr;
            input_channels_ = in_ptr != nullptr ? in.channelCount : 0;
        }
        live_buffers_.assign(player.live_channels().size(), nullptr);
        scratch_.assign(2, std::vector<float>(frames_, 0.0f));
        PaError e = Pa_OpenStream(&stream_, in_ptr, &out, rate_, frames_, paClipOff, &PortAudioBackend::on_process, this);
        if (e != paNoError) {
            stream_ = nullptr;
            throw BackendError(fmt::format("cannot open '{}' at {} Hz, {} frames: {}", device_name_, rate_, frames_, Pa_GetErrorText(e)));
        }
        Pa_SetStreamFinishedCallback(stream_, &PortAudioBackend::on_finished);
        if ((e = Pa_StartStream(stream_)) != paNoError)
            throw BackendError(fmt::format("cannot start '{}': {}", device_name_, Pa_GetErrorText(e)));
        running_ = true;
    }

    void stop() override {
        if (stream_ == nullptr) return;
        stopping_.store(true);
        if (running_) Pa_StopStream(stream_);
        Pa_CloseStream(stream_);
        stream_ = nullptr;
        running_ = false;
    }

    BackendStatus status() override {
        BackendStatus s;
        s.sample_rate = rate_;
        s.buffer_frames = frames_;
        s.callbacks = meter_.callbacks.load(std::memory_order_relaxed);
        s.xruns = meter_.xruns.load(std::memory_order_relaxed);
        meter_.take(s.load_average, s.load_peak, s.total_load_average, s.total_load_peak);
        s.running = running_ && !finished_.load();
        if (finished_.load() && !stopping_.load()) s.error = fmt::format("the audio stream of '{}' stopped", device_name_);
        s.notes.swap(notes_);
        return s;
    }

private:
    bool supported(double rate, int inputs) const {
        PaStreamParameters out{};
        out.device = device_;
        out.channelCount = output_channels_;
        out.sampleFormat = paFloat32 | paNonInterleaved;
        (void)inputs;
        return Pa_IsFormatSupported(nullptr, &out, rate) == paFormatIsSupported;
    }

    static int on_process(const void* input, void* output, unsigned long frames, const PaStreamCallbackTimeInfo*,
                          PaStreamCallbackFlags flags, void* self) noexcept {
        auto& b = *static_cast<PortAudioBackend*>(self);
        if (!b.thread_marked_) {
            b.thread_marked_ = true;
            if (b.options_.on_audio_thread_start) b.options_.on_audio_thread_start();
        }
        const std::int64_t start = now_ns();
        if ((flags & (paOutputUnderflow | paInputOverflow | paOutputOverflow | paInputUnderflow)) != 0)
            b.meter_.xruns.fetch_add(1, std::memory_order_relaxed);
        const auto* const* ins = static_cast<const float* const*>(input);
        for (std::size_t i = 0; i < b.live_buffers_.size(); ++i) {
            const int ch = static_cast<int>(b.player_->live_channels()[i].device_channel) - 1;
            b.live_buffers_[i] = ins != nullptr && ch < b.input_channels_ ? ins[ch] : nullptr;
        }
        auto* const* outs = static_cast<float* const*>(output);
        const auto n = static_cast<std::uint32_t>(frames);
        if (b.output_channels_ >= 2) {
            b.player_->process(b.live_buffers_.data(), static_cast<std::uint32_t>(b.live_buffers_.size()), outs, n);
        } else {
            // A mono device gets the mid signal; frames beyond the buffers' room are not
            // expected (PortAudio passes the frames asked for), but are left silent if they come.
            const std::uint32_t m = std::min<std::uint32_t>(n, static_cast<std::uint32_t>(b.scratch_[0].size()));
            float* st[2] = {b.scratch_[0].data(), b.scratch_[1].data()};
            b.player_->process(b.live_buffers_.data(), static_cast<std::uint32_t>(b.live_buffers_.size()), st, m);
            for (std::uint32_t i = 0; i < n; ++i) outs[0][i] = i < m ? 0.5f * (st[0][i] + st[1][i]) : 0.0f;
        }
        b.meter_.record(start, n, b.rate_);
        return paContinue;
    }

    static void on_finished(void* self) { static_cast<PortAudioBackend*>(self)->finished_.store(true); }

    PortAudioLibrary library_;  // first in, last out
    BackendOptions options_;
    PaDeviceIndex device_ = paNoDevice;
    std::string device_name_, host_api_;
    double rate_ = 0;
    std::uint32_t frames_ = 256;
    int output_channels_ = 2, input_channels_ = 0;
    PaStream* stream_ = nullptr;
    Player* player_ = nullptr;
    std::vector<const float*> live_buffers_;
    std::vector<std::vector<float>> scratch_;
    CallbackMeter meter_;
    std::vector<std::string> notes_;
    bool running_ = false;
    bool thread_marked_ = false;
    std::atomic<bool> finished_{false}, stopping_{false};
};

}  // namespace

std::unique_ptr<Backend> open_portaudio(const BackendOptions& options) { return std::make_unique<PortAudioBackend>(options); }

}  // namespace rtmix::live

namespace rtmix {

std::unique_ptr<Backend> open_backend(const BackendOptions& options) {
    return options.kind == BackendKind::jack ? live::open_jack(options) : live::open_portaudio(options);
}

std::vector<AudioDevice> audio_devices() {
    live::PortAudioLibrary library;
    std::vector<AudioDevice> out;
    const PaDeviceIndex default_out = Pa_GetDefaultOutputDevice(), default_in = Pa_GetDefaultInputDevice();
    for (PaDeviceIndex i = 0; i < Pa_GetDeviceCount(); ++i) {
        const PaDeviceInfo* info = Pa_GetDeviceInfo(i);
        AudioDevice d;
        d.index = i;
        d.name = info->name;
        d.host_api = Pa_GetHostApiInfo(info->hostApi)->name;
        d.input_channels = info->maxInputChannels;
        d.output_channels = info->maxOutputChannels;
        d.default_sample_rate = info->defaultSampleRate;
        d.default_output = i == default_out;
        d.default_input = i == default_in;
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace rtmix
