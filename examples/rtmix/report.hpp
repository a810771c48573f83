// What the rtmix program prints: the progress bar, render summaries and the routing tree, as
// text for people and as JSON for scripts.
#pragma once

#include <rtmix/render.hpp>
#include <rtmix/session.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace rtmix::cli {

/// A one-line progress bar on stderr, redrawn at most ten times a second.
class ProgressBar {
public:
    explicit ProgressBar(double sample_rate) : rate_(sample_rate) {}
    void update(const RenderProgress& p);
    void clear();

private:
    double rate_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_{};
    bool drawn_ = false;
};

/// A JSON string literal of `s`, quoted and escaped.
std::string json_string(std::string_view s);
/// A number for JSON: two decimals, null for what JSON cannot hold (infinities, NaN), never "-0.00".
std::string json_number(double v);

std::string summary_text(const RenderSummary& s, const std::string& format);
std::string summary_json(const RenderSummary& s, const std::string& format, const std::string& bits);
std::string check_text(const Session& session, std::uint32_t latency_frames);
std::string check_json(const Session& session, std::uint32_t latency_frames);

}  // namespace rtmix::cli
