// Parameter paths of a session taken apart, from the public parameter declarations
// (rtmix/parameters.hpp) and the session's own strips and inserts: what the parser, the writer
// and Session::with_values_of() share. Internal to rtmix::session.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtmix/parameters.hpp"
#include "rtmix/session.hpp"

namespace rtmix::session_paths {

/// `lane` with its frames moved from `from_rate` to `to_rate` (rounded to the nearest frame): a
/// session's lanes are in frames at its own rate, an engine's at the rate it runs at.
inline Lane lane_at_rate(Lane lane, double from_rate, double to_rate) {
    if (from_rate == to_rate || !(from_rate > 0.0) || !(to_rate > 0.0)) return lane;
    for (Breakpoint& b : lane.points)
        b.frame = static_cast<std::int64_t>(std::llround(static_cast<double>(b.frame) * to_rate / from_rate));
    return lane;
}

/// What owns a parameter below a strip.
struct Owner {
    enum class Kind : std::uint8_t { strip, send, eq, compressor, limiter, insert };
    Kind kind = Kind::strip;
    std::string prefix;                   ///< "eq", "compressor", "limiter", "insert.2", "reverb"; sends: "send.BUS"
    const ProcessorInfo* type = nullptr;  ///< the processor of eq, compressor, limiter and inserts
    std::span<const ParamInfo> extras;    ///< an insert's or the master limiter's own parameters
    std::string bus;                      ///< sends
    const SessionInsert* insert = nullptr;
    /// Every parameter declaration the owner has (the processor's, then the extras).
    std::vector<const ParamInfo*> params() const;
};

/// A parameter path of a session: "track.kick.eq.2.freq_hz" is the strip "track.kick", the EQ,
/// group 2, parameter freq_hz.
struct ParamRef {
    std::string strip;  ///< "track.NAME", "bus.NAME" or "master"
    std::string rest;   ///< the path below the strip
    Owner owner;
    std::uint32_t group = 0;  ///< EQ bands: 1 ... 8
    const ParamInfo* param = nullptr;
};

/// The owners of the strip's parameters: the strip, its sends, the EQ, the compressor, its
/// inserts, the master's limiter.
std::vector<Owner> owners(const SessionStrip& s);

/// Takes `path` apart against `strips`; nothing when it names no parameter of them.
std::optional<ParamRef> locate(const std::vector<SessionStrip>& strips, std::string_view path);

/// The declaration of `key` among `params`, or null.
const ParamInfo* find_param(std::span<const ParamInfo> params, std::string_view key);

/// Whether a strip of `kind` has the strip parameter `p`.
bool strip_has(SessionStrip::Kind kind, const ParamInfo& p);

/// "a, b, c": the words of a word parameter.
std::string word_list(std::span<const std::string_view> words);

}  // namespace rtmix::session_paths
