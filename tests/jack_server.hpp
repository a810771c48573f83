// A real JACK server for the tests, and a JACK client that plays a known signal and measures
// what comes back.
//
// JackServer starts `jackd --no-realtime -n NAME -d dummy -r 48000 -p FRAMES` (the dummy driver
// needs no sound hardware; no real-time scheduling, so it runs in any container) under a name of
// its own, so tests never meet another server, and stops it when it goes out of scope.
// TestClient joins it with one output port "out" (a sine of known amplitude) and two input ports
// "in_L", "in_R" whose every block's mean square it records.
#pragma once

#include <fcntl.h>
#include <jack/jack.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace rtmix::test {

class JackServer {
public:
    explicit JackServer(unsigned frames = 256) : name_("rtmix-test-" + std::to_string(::getpid())) {
        const std::string period = std::to_string(frames);
        std::vector<std::string> args = {RTMIX_JACKD, "--no-realtime", "-n", name_, "-d", "dummy", "-r", "48000", "-p", period};
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        const int e = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (e != 0) throw std::runtime_error("cannot start jackd");
        // Ready when a client can join.
        for (int i = 0; i < 200; ++i) {
            jack_status_t status;
            if (jack_client_t* c = jack_client_open("rtmix-probe", static_cast<jack_options_t>(JackNoStartServer | JackServerName),
                                                    &status, name_.c_str())) {
                jack_client_close(c);
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        stop();
        throw std::runtime_error("jackd did not come up within 10 s");
    }
    ~JackServer() { stop(); }
    JackServer(const JackServer&) = delete;
    JackServer& operator=(const JackServer&) = delete;

    const std::string& name() const noexcept { return name_; }
    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and reaps it.
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    std::string name_;
    pid_t pid_ = -1;
};

class TestClient {
public:
    static constexpr std::size_t max_blocks = 1 << 16;

    TestClient(const JackServer& server, const char* name = "tester") {
        jack_status_t status;
        client_ = jack_client_open(name, static_cast<jack_options_t>(JackNoStartServer | JackServerName), &status,
                                   server.name().c_str());
        if (client_ == nullptr) throw std::runtime_error("the test client cannot join the JACK server");
        out_ = jack_port_register(client_, "out", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
        in_[0] = jack_port_register(client_, "in_L", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
        in_[1] = jack_port_register(client_, "in_R", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
        mean_square_[0].assign(max_blocks, 0.0);
        mean_square_[1].assign(max_blocks, 0.0);
        rate_ = jack_get_sample_rate(client_);
        jack_set_process_callback(client_, &TestClient::process, this);
        jack_on_shutdown(client_, [](void* self) { static_cast<TestClient*>(self)->gone_.store(true); }, this);
        if (jack_activate(client_) != 0) throw std::runtime_error("the test client cannot activate");
    }
    ~TestClient() {
        if (!gone_.load()) jack_deactivate(client_);
        jack_client_close(client_);
    }
    TestClient(const TestClient&) = delete;
    TestClient& operator=(const TestClient&) = delete;

    jack_client_t* client() noexcept { return client_; }
    /// The sine on "out": amplitude and frequency (1 kHz: 48 samples a period at 48 kHz).
    void set_sine(float amplitude, double hz = 1000.0) {
        amplitude_.store(amplitude);
        step_.store(2.0 * std::numbers::pi * hz / rate_);
    }
    bool connect(const std::string& from, const std::string& to) { return jack_connect(client_, from.c_str(), to.c_str()) == 0; }
    std::string port(const char* short_name) const { return std::string(jack_get_client_name(client_)) + ":" + short_name; }

    /// Blocks recorded so far.
    std::size_t blocks() const noexcept { return count_.load(std::memory_order_acquire); }
    /// RMS in dBFS of channel `c` over blocks [first, last).
    double rms_db(int c, std::size_t first, std::size_t last) const {
        double sum = 0.0;
        std::size_t n = 0;
        for (std::size_t b = first; b < last && b < max_blocks; ++b, ++n) sum += mean_square_[c][b];
        return n > 0 && sum > 0 ? 10.0 * std::log10(sum / static_cast<double>(n)) : -200.0;
    }
    /// RMS in dBFS of one block.
    double block_db(int c, std::size_t b) const {
        return mean_square_[c][b] > 0 ? 10.0 * std::log10(mean_square_[c][b]) : -200.0;
    }
    /// Waits until `n` more blocks have been recorded (at most `timeout_s`).
    bool wait_blocks(std::size_t n, double timeout_s = 20.0) const {
        const std::size_t until = blocks() + n;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        while (blocks() < until) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    }

private:
    static int process(jack_nframes_t frames, void* self) {
        auto& t = *static_cast<TestClient*>(self);
        auto* out = static_cast<float*>(jack_port_get_buffer(t.out_, frames));
        const float a = t.amplitude_.load(std::memory_order_relaxed);
        const double step = t.step_.load(std::memory_order_relaxed);
        for (jack_nframes_t i = 0; i < frames; ++i) {
            out[i] = a * static_cast<float>(std::sin(t.phase_));
            t.phase_ = std::fmod(t.phase_ + step, 2.0 * std::numbers::pi);
        }
        const std::size_t b = t.count_.load(std::memory_order_relaxed);
        if (b < max_blocks) {
            for (int c = 0; c < 2; ++c) {
                const auto* in = static_cast<const float*>(jack_port_get_buffer(t.in_[c], frames));
                double sum = 0.0;
                for (jack_nframes_t i = 0; i < frames; ++i) sum += static_cast<double>(in[i]) * in[i];
                t.mean_square_[c][b] = sum / frames;
            }
            t.count_.store(b + 1, std::memory_order_release);
        }
        return 0;
    }

    jack_client_t* client_ = nullptr;
    jack_port_t* out_ = nullptr;
    jack_port_t* in_[2] = {nullptr, nullptr};
    double rate_ = 48000.0;
    double phase_ = 0.0;
    std::atomic<float> amplitude_{0.0f};
    std::atomic<double> step_{0.0};
    std::vector<double> mean_square_[2];
    std::atomic<std::size_t> count_{0};
    std::atomic<bool> gone_{false};
};

}  // namespace rtmix::test
