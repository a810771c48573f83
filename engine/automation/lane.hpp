// A lane as the engine keeps it: the breakpoints of rtmix::Lane, checked, immutable once
// published, with an evaluation that walks forward from where the last one stopped (the audio
// thread reads its lanes in order of time, so each read is constant time). lane_value() (public)
// and LaneData::value_at() compute with the same function.
#pragma once

#include <cstdint>
#include <vector>

#include "rtmix/automation.hpp"

namespace rtmix::engine {

/// The points of a lane thinned to those needed within `tolerance` (rtmix::thin()).
std::vector<Breakpoint> thin_points(const std::vector<Breakpoint>& points, double tolerance, bool logarithmic);

/// The value between breakpoints `a` and `b` (a.frame <= frame < b.frame) along a's shape.
double segment_value(const Breakpoint& a, const Breakpoint& b, double frame) noexcept;

struct LaneData {
    std::vector<Breakpoint> points;  // at least one, in order of frame

    /// The value at `frame`. `cursor` remembers the segment of the last read (start it at 0).
    /// Wait-free and allocation-free: audio thread.
    double value_at(std::int64_t frame, std::uint32_t& cursor) const noexcept;
    /// The first breakpoint after `frame`, or INT64_MAX when there is none.
    std::int64_t next_point_after(std::int64_t frame) const noexcept;
};

}  // namespace rtmix::engine
