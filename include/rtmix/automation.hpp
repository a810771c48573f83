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
//
// Lanes can also be recorded while the timeline rolls: Engine::record() and AutomationMode below,
// docs/automation.md.
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

/// How a parameter takes the values set() gives it while the timeline rolls (Engine::record()),
/// with the meanings Ardour and Tracktion give the modes. Nothing is written while the timeline
/// stands; docs/automation.md has the details.
enum class AutomationMode : std::uint8_t {
    read,   ///< plays its lane; records nothing (a set() takes over until the next breakpoint)
    touch,  ///< plays its lane until a set(), writes from then until the touch ends (release(), a
            ///< time without a set(), or a stop), then glides back to the lane
    latch,  ///< as touch, but after the first set() it writes the last value until the timeline
            ///< stops or the mode changes
    write,  ///< writes the value it has (and every set()) over all the timeline rolls over
};

/// "read", "touch", "latch", "write".
std::string_view to_string(AutomationMode mode) noexcept;
/// The mode of that name, if it is one.
std::optional<AutomationMode> automation_mode_from_string(std::string_view name) noexcept;

/// `lane` with only the breakpoints needed to stay within `tolerance` of it at every frame (the
/// unit of its values; with `logarithmic`, of their natural logarithm, all values > 0). Runs of
/// straight segments (linear, or between equal values) become as few straight segments as keep
/// every frame within the tolerance (Douglas-Peucker: exact, because the largest difference
/// between two straight-line pieces is at a breakpoint); the first and last breakpoints, jumps
/// (two points at one frame) and the points of other shapes stay. The recorder thins what it
/// writes with this, at 0.1 dB for gains and 0.5 % of the range for other parameters.
Lane thin(const Lane& lane, double tolerance, bool logarithmic = false);

}  // namespace rtmix
