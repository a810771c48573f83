// The messages that travel between the control side and the audio thread.
//
// A ParamChange is a plain value: the object it targets (resolved from a path on the control
// side), which of its parameters (the index its processor kind declares; see
// processors/processor.hpp), and the new value. Targets stay alive until the audio thread has
// applied every change sent before their removal (see docs/architecture.md, "Lifetimes").
#pragma once

#include <cstdint>

#include "rtmix/automation.hpp"

namespace rtmix::engine {

/// Something that can receive parameter changes on the audio thread: a processor, an insert, a
/// strip, the master chain.
class RtObject {
public:
    virtual ~RtObject() = default;
    /// Applies one change: parameter `param` (the receiver's own numbering), of its sub-object
    /// `slot` where it has several (a strip's sends), to `value`. Audio thread, wait-free.
    virtual void apply(std::uint16_t param, std::uint8_t slot, float value) noexcept = 0;
    /// As apply(), for a value an automation lane sets: where the parameter ramps, the ramp takes
    /// `frames` frames (it reaches the value when the lane's next value comes). By default the
    /// parameter's own smoothing. Audio thread, wait-free.
    virtual void apply_ramped(std::uint16_t param, std::uint8_t slot, float value, std::uint32_t frames) noexcept {
        (void)frames;
        apply(param, slot, value);
    }
};

struct ParamChange {
    RtObject* target = nullptr;  // null: a command of the executor itself (below)
    std::uint64_t sequence = 0;  // 1, 2, 3... in the order the control side sent them
    float value = 0.0f;
    std::uint32_t sample_offset = 0;
    std::uint16_t param = 0;
    std::uint8_t slot = 0;
    /// With a target: 0 sets the value; release_lane gives the parameter back to its automation
    /// lane (after a set() took over from it), and carries no value.
    std::uint8_t kind = 0;
    static constexpr std::uint8_t release_lane = 1;
};

/// ParamChange::param of a change without a target: clear every strip's peak hold and maximum
/// gain reduction, and the master's loudness measurement.
constexpr std::uint16_t reset_meters_command = 0;
/// ParamChange::param of a change without a target: recorder slot ParamChange::slot stops
/// recording (a written stretch ends there); the control side frees the slot once it is applied.
constexpr std::uint16_t disarm_command = 1;

/// What the audio thread reports of a recorded parameter (Engine::record()): a written stretch
/// begins at a frame, its breakpoints follow (a cut_point first drops the stretch's points at or
/// after its frame: a later set() takes over from there), and it ends at a frame where the lane it
/// had takes over again with the value given (the junction). Points carry the very values the audio
/// thread played, so the lane the control side builds plays them back.
struct RecordReport {
    enum class Kind : std::uint8_t { begin, point, cut_point, end };
    std::int64_t frame = 0;
    double value = 0.0;
    std::uint32_t serial = 0;  // the arming the report belongs to
    std::uint16_t slot = 0;    // the recorder's slot
    Kind kind = Kind::point;
    Shape shape = Shape::linear;
};

/// Parameters that may be recorded at once (Engine::record()).
constexpr std::uint32_t max_recorded = 256;

/// What the audio thread reports back; formatted on the control side.
struct AudioEvent {
    enum class Code : std::uint8_t { non_finite_signal, changes_delayed };
    Code code = Code::non_finite_signal;
    std::uint32_t strip_id = 0;
};

}  // namespace rtmix::engine
