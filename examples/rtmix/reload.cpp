#include "reload.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace rtmix::cli {

namespace {

constexpr auto look_interval = std::chrono::milliseconds(100);

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

SessionReloader::SessionReloader(std::filesystem::path file, std::vector<std::string> overrides, bool watch)
    : file_(std::move(file)), overrides_(std::move(overrides)), watch_(watch) {
    loaded_ = seen_ = look();
    text_ = read_text(file_);
}

SessionReloader::Stamp SessionReloader::look() const {
    Stamp s;
    std::error_code ec;
    s.mtime = std::filesystem::last_write_time(file_, ec);
    if (ec) return s;
    s.size = std::filesystem::file_size(file_, ec);
    s.exists = !ec;
    return s;
}

std::string SessionReloader::reload(Player& player) {
    loaded_ = seen_ = look();
    text_ = read_text(file_);
    std::vector<std::string> changes;
    try {
        Session next = Session::load(file_);
        for (const std::string& o : overrides_) next.set_override(o);
        changes = player.reload(next);
    } catch (const SessionError& e) {
        return fmt::format("error: {}\nreload: not applied; the mix plays on as it was\n", e.what());
    } catch (const std::exception& e) {
        return fmt::format("error: {}: {}\nreload: not applied; the mix plays on as it was\n", file_.string(), e.what());
    }
    if (changes.empty()) return fmt::format("reload: {}: nothing changed\n", file_.string());
    std::string out = fmt::format("reload: {}: {} change{}\n", file_.string(), changes.size(), changes.size() == 1 ? "" : "s");
    for (const std::string& c : changes) out += fmt::format("  {}\n", c);
    return out;
}

std::string SessionReloader::poll(Player& player, std::chrono::steady_clock::time_point now) {
    if (!watch_ || now < next_look_) return {};
    next_look_ = now + look_interval;
    const Stamp s = look();
    const bool settled = s == seen_;  // unchanged since the last look: a save has finished
    seen_ = s;
    if (!s.exists || s == loaded_ || !settled) return {};
    if (read_text(file_) == text_) {  // touched, not changed
        loaded_ = s;
        return {};
    }
    return reload(player);
}

}  // namespace rtmix::cli
