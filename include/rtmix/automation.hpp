// Automation: a parameter that moves over time, as a lane of breakpoints on the session's
// timeline.
//
//   rtmix::Lane fade;
//   fade.points = {{0, -120.0, rtmix::Shape::smooth}, {96000, 0.0}};   // frames, dB
//   engine.automate("track.vox.gain_db", fade);
//
// A lane's value at any position is a pure function of the lane and the position (lane_value()):
// before the first breakpoint it is the first value, after the last the last value, and between
// two it follows the shape of the segment that starts at the earlier one. The engine evaluates
// its lanes on the audio thread at every 32nd frame of the timeline and moves the parameter in a
// straight line between those points (a fader, trim, pan or send level exactly so; a processor's
// parameter with its own glide), so the result does not depend on the block size.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace rtmix {

/// The shape of the segment that starts at a breakpoint.
enum class Shape : std::uint8_t {
    linear,       ///< a straight line in the parameter's unit (in dB for gains)
    hold,         ///< the value stays until the next breakpoint (a step; words and switches)
    exponential,  ///< a straight line in the logarithm (frequencies, times); both values > 0
    smooth,       ///< an S-curve: 3u^2 - 2u^3 of the way at fraction u, flat at both ends
};

struct Breakpoint {
    std::int64_t frame = 0;  ///< position on the timeline, in frames from the session's start
    double value = 0.0;      ///< in the parameter's unit (words: their index; switches: 0 or 1)
    Shape shape = Shape::linear;
};

struct Lane {
    /// In order of frame; two points may share a frame (a jump at that frame: the later one
    /// holds from it on).
    std::vector<Breakpoint> points;
};

/// The lane's value at `frame` (which may fall between frames). An empty lane has no value: 0.
double lane_value(const Lane& lane, double frame) noexcept;

/// "linear", "hold", "exponential", "smooth".
std::string_view to_string(Shape shape) noexcept;
/// The shape of that name, if it is one.
std::optional<Shape> shape_from_string(std::string_view name) noexcept;

}  // namespace rtmix
