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

std::string_view to_string(AutomationMode mode) noexcept {
    switch (mode) {
        case AutomationMode::read: return "read";
        case AutomationMode::touch: return "touch";
        case AutomationMode::latch: return "latch";
        case AutomationMode::write: return "write";
    }
    return "read";
}

std::optional<AutomationMode> automation_mode_from_string(std::string_view name) noexcept {
    for (const AutomationMode m : {AutomationMode::read, AutomationMode::touch, AutomationMode::latch, AutomationMode::write})
        if (to_string(m) == name) return m;
    return std::nullopt;
}

Lane thin(const Lane& lane, double tolerance, bool logarithmic) {
    return Lane{engine::thin_points(lane.points, tolerance, logarithmic)};
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

std::vector<Breakpoint> thin_points(const std::vector<Breakpoint>& points, double tolerance, bool logarithmic) {
    const std::size_t n = points.size();
    if (n < 3) return points;
    const auto measure = [&](double v) { return logarithmic ? std::log(v) : v; };
    // The segment from point k is a straight line: linear, or between equal values (a step
    // between different values, a curve or a jump is not).
    const auto straight = [&](std::size_t k) {
        const Breakpoint& a = points[k];
        const Breakpoint& b = points[k + 1];
        return b.frame > a.frame && (a.shape == Shape::linear || a.value == b.value);
    };
    std::vector<bool> keep(n, false);
    keep.front() = keep.back() = true;
    for (std::size_t k = 0; k + 1 < n; ++k)
        if (!straight(k)) keep[k] = keep[k + 1] = true;
    // Douglas-Peucker over each run of straight segments between kept points.
    std::vector<std::pair<std::size_t, std::size_t>> todo;
    for (std::size_t i = 0; i + 1 < n;) {
        std::size_t j = i + 1;
        while (!keep[j]) ++j;
        if (j > i + 1) todo.emplace_back(i, j);
        i = j;
    }
    while (!todo.empty()) {
        const auto [i, j] = todo.back();
        todo.pop_back();
        const Breakpoint& a = points[i];
        const Breakpoint& b = points[j];
        double worst = -1.0;
        std::size_t at = i;
        for (std::size_t k = i + 1; k < j; ++k) {
            const double u = static_cast<double>(points[k].frame - a.frame) / static_cast<double>(b.frame - a.frame);
            const double chord = a.value + u * (b.value - a.value);
            const double d = std::fabs(measure(points[k].value) - measure(chord));
            if (d > worst) {
                worst = d;
                at = k;
            }
        }
        if (worst <= tolerance) continue;
        keep[at] = true;
        if (at > i + 1) todo.emplace_back(i, at);
        if (j > at + 1) todo.emplace_back(at, j);
    }
    std::vector<Breakpoint> out;
    for (std::size_t k = 0; k < n; ++k) {
        if (!keep[k]) continue;
        out.push_back(points[k]);
        // A kept point whose next one was dropped starts a chord: a straight line, unless it
        // joins equal values (a step stays a step).
        if (k + 1 < n && !keep[k + 1]) {
            std::size_t next = k + 1;
            while (!keep[next]) ++next;
            if (points[next].value != points[k].value) out.back().shape = Shape::linear;
        }
    }
    return out;
}

std::int64_t LaneData::next_point_after(std::int64_t frame) const noexcept {
    const auto it = std::upper_bound(points.begin(), points.end(), frame,
                                     [](std::int64_t f, const Breakpoint& p) { return f < p.frame; });
    return it == points.end() ? INT64_MAX : it->frame;
}

}  // namespace engine
}  // namespace rtmix
