#include "automation/lane.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

namespace rtmix {

namespace {

/// The index of the last point at or before `frame` (points[0] when all are later).
template <class Frame>
std::uint32_t segment_of(const std::vector<Breakpoint>& points, Frame frame) noexcept {
    const auto it = std::upper_bound(points.begin(), points.end(), frame,
                                     [](Frame f, const Breakpoint& p) { return f < static_cast<Frame>(p.frame); });
    return it == points.begin() ? 0u : static_cast<std::uint32_t>(it - points.begin() - 1);
}

template <class Frame>
double evaluate(const std::vector<Breakpoint>& points, std::uint32_t i, Frame frame) noexcept {
    if (frame < static_cast<Frame>(points[i].frame) || i + 1 >= points.size()) return points[i].value;
    return engine::segment_value(points[i], points[i + 1], static_cast<double>(frame));
}

}  // namespace

double lane_value(const Lane& lane, double frame) noexcept {
    if (lane.points.empty()) return 0.0;
    return evaluate(lane.points, segment_of(lane.points, frame), frame);
}

std::string_view to_string(Shape shape) noexcept {
    switch (shape) {
        case Shape::linear: return "linear";
        case Shape::hold: return "hold";
        case Shape::exponential: return "exponential";
        case Shape::smooth: return "smooth";
    }
    return "linear";
}

std::optional<Shape> shape_from_string(std::string_view name) noexcept {
    for (const Shape s : {Shape::linear, Shape::hold, Shape::exponential, Shape::smooth})
        if (to_string(s) == name) return s;
    return std::nullopt;
}

namespace engine {

double segment_value(const Breakpoint& a, const Breakpoint& b, double frame) noexcept {
    const double u = (frame - static_cast<double>(a.frame)) / static_cast<double>(b.frame - a.frame);
    switch (a.shape) {
        case Shape::hold: return a.value;
        case Shape::linear: return a.value + u * (b.value - a.value);
        case Shape::smooth: return a.value + u * u * (3.0 - 2.0 * u) * (b.value - a.value);
        case Shape::exponential:
            // Both ends are > 0 (checked when the lane is set): a straight line in the logarithm.
            return a.value * std::pow(b.value / a.value, u);
    }
    return a.value;
}

double LaneData::value_at(std::int64_t frame, std::uint32_t& cursor) const noexcept {
    const auto n = static_cast<std::uint32_t>(points.size());
    if (cursor >= n || points[cursor].frame > frame) {
        cursor = segment_of(points, frame);  // went back (a locate, a loop): search
    } else {
        while (cursor + 1 < n && points[cursor + 1].frame <= frame) ++cursor;
    }
    return evaluate(points, cursor, frame);
}

std::int64_t LaneData::next_point_after(std::int64_t frame) const noexcept {
    const auto it = std::upper_bound(points.begin(), points.end(), frame,
                                     [](std::int64_t f, const Breakpoint& p) { return f < p.frame; });
    return it == points.end() ? INT64_MAX : it->frame;
}

}  // namespace engine
}  // namespace rtmix
