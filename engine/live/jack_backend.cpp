// The JACK backend: a JACK client with master outputs and one input port per live-input channel.
//
// The process callback only fetches port buffers and calls Player::process(). Everything else
// JACK reports (xruns, buffer-size and sample-rate changes, latency questions, the server going
// away) is turned into counters and flags that status() reads on the control side. A buffer
// size larger than the player's block is processed in pieces by the player, so a buffer-size
// change needs no reallocation; a sample-rate change asks the host to rebuild the player.
#include <jack/jack.h>
#include <jack/thread.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "live/backend_common.hpp"
#include "live/backends.hpp"
#include "rtmix/live.hpp"

namespace rtmix::live {

namespace {

// libjack prints its own diagnostics (socket errors when the server dies, ...) on stderr; rtmix
// reports what they mean through BackendStatus instead.
void quiet(const char*) {}

class JackBackend final : public Backend {
public:
    explicit JackBackend(const BackendOptions& o) : options_(o) {
        jack_set_error_function(&quiet);
        jack_set_info_function(&quiet);
        jack_status_t status{};
        const auto flags = static_cast<jack_options_t>(JackNoStartServer | (o.server.empty() ? 0 : JackServerName));
        client_ = o.server.empty() ? jack_client_open(o.client_name.c_str(), flags, &status)
                                   : jack_client_open(o.client_name.c_str(), flags, &status, o.server.c_str());
        if (client_ == nullptr)
            throw BackendError(fmt::format("cannot join the JACK server{}: {} (start one with `jackd -d alsa` or "
                                           "`jackd -d dummy`, or choose --backend portaudio)",
                                           o.server.empty() ? "" : fmt::format(" '{}'", o.server),
                                           (status & JackServerFailed) != 0 ? "no server is running" : "it refused the client"));
        name_ = jack_get_client_name(client_);
        rate_.store(jack_get_sample_rate(client_));
        frames_.store(jack_get_buffer_size(client_));
        server_ = o.server.empty() ? "default" : o.server;
    }

    ~JackBackend() override {
        stop();
        jack_client_close(client_);
    }

    double sample_rate() const override { return rate_.load(); }
    std::uint32_t buffer_frames() const override { return frames_.load(); }

    std::string description() const override {
        return fmt::format("JACK client '{}' (server '{}', {} Hz, {} frames)", name_, server_, rate_.load(), frames_.load());
    }

    int worker_priority() const override {
        return jack_is_realtime(client_) != 0 ? std::max(jack_client_real_time_priority(client_), 0) : 0;
    }

    void start(Player& player) override {
        player_ = &player;
        started_rate_ = rate_.load();
        outputs_[0] = register_port("master_L", JackPortIsOutput);
        outputs_[1] = register_port("master_R", JackPortIsOutput);
        for (const LiveChannel& c : player.live_channels()) {
            const std::uint32_t channels = channel_count(player, c.track);
            inputs_.push_back(register_port(channels == 1 ? c.track : fmt::format("{}_{}", c.track, c.channel == 0 ? "L" : "R"),
                                            JackPortIsInput));
        }
        input_buffers_.assign(inputs_.size(), nullptr);
        latency_ = player.engine().latency_frames();

        jack_set_process_callback(client_, &JackBackend::on_process, this);
        jack_set_thread_init_callback(client_, &JackBackend::on_thread_init, this);
        jack_set_xrun_callback(client_, &JackBackend::on_xrun, this);
        jack_set_buffer_size_callback(client_, &JackBackend::on_buffer_size, this);
        jack_set_sample_rate_callback(client_, &JackBackend::on_sample_rate, this);
        jack_set_latency_callback(client_, &JackBackend::on_latency, this);
        jack_on_info_shutdown(client_, &JackBackend::on_shutdown, this);
        if (jack_activate(client_) != 0) throw BackendError("the JACK server would not activate the client");
        active_ = true;

        // Live inputs: named ports, or the N-th physical capture port for a device channel.
        const char** physical_in = jack_get_ports(client_, nullptr, JACK_DEFAULT_AUDIO_TYPE, JackPortIsPhysical | JackPortIsOutput);
        for (std::size_t i = 0; i < inputs_.size(); ++i) {
            const LiveChannel& c = player.live_channels()[i];
            std::string source = c.port;
            if (source.empty()) {
                std::size_t n = 0;
                while (physical_in != nullptr && physical_in[n] != nullptr) ++n;
                if (c.device_channel > n) {
                    notes_.push_back(fmt::format("track '{}': the server has {} physical capture port{}, not {}; its input "
                                                 "is left unconnected", c.track, n, n == 1 ? "" : "s", c.device_channel));
                    continue;
                }
                source = physical_in[c.device_channel - 1];
            }
            if (const int e = jack_connect(client_, source.c_str(), jack_port_name(inputs_[i])); e != 0 && e != EEXIST)
                notes_.push_back(fmt::format("track '{}': cannot connect '{}' to its input (no such port?); connect it "
                                             "by hand", c.track, source));
        }
        if (physical_in != nullptr) jack_free(physical_in);
        if (options_.connect) {
            const char** playback = jack_get_ports(client_, nullptr, JACK_DEFAULT_AUDIO_TYPE, JackPortIsPhysical | JackPortIsInput);
            for (int i = 0; i < 2 && playback != nullptr && playback[i] != nullptr; ++i)
                if (jack_connect(client_, jack_port_name(outputs_[i]), playback[i]) != 0)
                    notes_.push_back(fmt::format("cannot connect {} to '{}'", jack_port_name(outputs_[i]), playback[i]));
            if (playback == nullptr || playback[0] == nullptr) notes_.push_back("--connect: the server has no physical playback ports");
            if (playback != nullptr) jack_free(playback);
        }
    }

    void stop() override {
        if (active_ && !gone_.load()) jack_deactivate(client_);
        active_ = false;
    }

    BackendStatus status() override {
        BackendStatus s;
        s.sample_rate = rate_.load();
        s.buffer_frames = frames_.load();
        s.callbacks = meter_.callbacks.load(std::memory_order_relaxed);
        s.xruns = meter_.xruns.load(std::memory_order_relaxed);
        meter_.take(s.load_average, s.load_peak, s.total_load_average, s.total_load_peak);
        s.running = active_ && !gone_.load();
        if (gone_.load()) s.error = fmt::format("the JACK server went away: {}", shutdown_reason_);
        if (player_ != nullptr && s.sample_rate != started_rate_) s.rate_changed_to = s.sample_rate;
        s.notes.swap(notes_);
        // The mix's latency changes with a latent insert, a lookahead or the master limiter: tell the server.
        if (player_ != nullptr && s.running) {
            const std::uint32_t latency = player_->engine().latency_frames();
            if (latency != latency_.exchange(latency)) jack_recompute_total_latencies(client_);
        }
        return s;
    }

private:
    jack_port_t* register_port(const std::string& name, unsigned long flags) {
        jack_port_t* p = jack_port_register(client_, name.c_str(), JACK_DEFAULT_AUDIO_TYPE, flags, 0);
        if (p == nullptr) throw BackendError(fmt::format("JACK refused the port '{}:{}'", name_, name));
        return p;
    }

    static std::uint32_t channel_count(const Player& player, const std::string& track) {
        std::uint32_t n = 0;
        for (const LiveChannel& c : player.live_channels()) n += c.track == track ? 1 : 0;
        return n;
    }

    static int on_process(jack_nframes_t frames, void* self) noexcept {
        auto& b = *static_cast<JackBackend*>(self);
        const std::int64_t start = now_ns();
        for (std::size_t i = 0; i < b.inputs_.size(); ++i)
            b.input_buffers_[i] = static_cast<const float*>(jack_port_get_buffer(b.inputs_[i], frames));
        float* out[2] = {static_cast<float*>(jack_port_get_buffer(b.outputs_[0], frames)),
                         static_cast<float*>(jack_port_get_buffer(b.outputs_[1], frames))};
        b.player_->process(b.input_buffers_.data(), static_cast<std::uint32_t>(b.input_buffers_.size()), out, frames);
        b.meter_.record(start, frames, static_cast<double>(b.rate_.load(std::memory_order_relaxed)));
        return 0;
    }

    static void on_thread_init(void* self) {
        auto& b = *static_cast<JackBackend*>(self);
        if (b.options_.on_audio_thread_start) b.options_.on_audio_thread_start();
    }

    static int on_xrun(void* self) {
        static_cast<JackBackend*>(self)->meter_.xruns.fetch_add(1, std::memory_order_relaxed);
        return 0;
    }

    static int on_buffer_size(jack_nframes_t frames, void* self) {
        static_cast<JackBackend*>(self)->frames_.store(frames);
        return 0;
    }

    static int on_sample_rate(jack_nframes_t rate, void* self) {
        static_cast<JackBackend*>(self)->rate_.store(rate);
        return 0;
    }

    // Each path through rtmix adds the mix's latency (Engine::latency_frames()).
    static void on_latency(jack_latency_callback_mode_t mode, void* self) {
        auto& b = *static_cast<JackBackend*>(self);
        const std::uint32_t own = b.latency_.load();
        if (mode == JackCaptureLatency) {
            jack_latency_range_t in{0, 0};
            for (jack_port_t* p : b.inputs_) {
                jack_latency_range_t r;
                jack_port_get_latency_range(p, mode, &r);
                in.min = std::max(in.min, r.min);
                in.max = std::max(in.max, r.max);
            }
            jack_latency_range_t out{in.min + own, in.max + own};
            for (jack_port_t* p : b.outputs_) jack_port_set_latency_range(p, mode, &out);
        } else {
            jack_latency_range_t down{0, 0};
            for (jack_port_t* p : b.outputs_) {
                jack_latency_range_t r;
                jack_port_get_latency_range(p, mode, &r);
                down.min = std::max(down.min, r.min);
                down.max = std::max(down.max, r.max);
            }
            jack_latency_range_t up{down.min + own, down.max + own};
            for (jack_port_t* p : b.inputs_) jack_port_set_latency_range(p, mode, &up);
        }
    }

    // May run on the audio thread: no allocation, only a fixed buffer and a flag.
    static void on_shutdown(jack_status_t, const char* reason, void* self) {
        auto& b = *static_cast<JackBackend*>(self);
        std::strncpy(b.shutdown_reason_, reason != nullptr && reason[0] != '\0' ? reason : "no reason given",
                     sizeof(b.shutdown_reason_) - 1);
        b.gone_.store(true);
    }

    BackendOptions options_;
    jack_client_t* client_ = nullptr;
    std::string name_, server_;
    std::atomic<jack_nframes_t> rate_{0}, frames_{0};
    double started_rate_ = 0;
    Player* player_ = nullptr;
    jack_port_t* outputs_[2] = {nullptr, nullptr};
    std::vector<jack_port_t*> inputs_;
    std::vector<const float*> input_buffers_;
    std::atomic<std::uint32_t> latency_{0};
    CallbackMeter meter_;
    std::vector<std::string> notes_;
    bool active_ = false;
    std::atomic<bool> gone_{false};
    char shutdown_reason_[256] = {};
};

}  // namespace

std::unique_ptr<Backend> open_jack(const BackendOptions& options) { return std::make_unique<JackBackend>(options); }

}  // namespace rtmix::live
