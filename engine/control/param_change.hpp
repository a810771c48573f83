// The messages that travel between the control side and the audio thread.
//
// A ParamChange is a plain value: the object it targets (resolved from a path on the control
// side), which of its parameters, and the new value. Targets stay alive until the audio thread
// has applied every change sent before their removal (see docs/architecture.md, "Lifetimes").
#pragma once

#include <cstdint>

namespace rtmix::engine {

/// Which parameter of an RtObject a change sets. Strip parameters carry raw user values; the
/// strip derives gains and coefficients itself when the change is applied.
enum class ParamId : std::uint8_t {
    trim_db,
    invert,
    delay_frames,
    eq_type,  // index = band
    eq_freq_hz,
    eq_gain_db,
    eq_q,
    eq_slope,
    comp_enabled,
    comp_threshold_db,
    comp_ratio,
    comp_knee_db,
    comp_attack_ms,
    comp_release_ms,
    comp_makeup_db,
    comp_detector,
    gain_db,
    pan,
    mute,            // the effective mute: explicit mute or silenced by someone else's solo
    send_level_db,   // index = send slot
    send_pre_fader,  // index = send slot
    send_reset,      // index = send slot: a new send fades in from silence to its level
    send_start,      // index = send slot: the send's level jumps to `value` dB (no ramp)
    output_fade_in,  // the strip's main output (not its sends) fades in from silence: a reroute
    effect,          // index = the effect's own parameter number
    reset_meters,    // target is null: every strip of the current plan
};

/// Something that can receive parameter changes on the audio thread.
class RtObject {
public:
    virtual ~RtObject() = default;
    /// Applies one change. Audio thread, wait-free.
    virtual void apply(ParamId id, std::uint8_t index, float value) noexcept = 0;
};

struct ParamChange {
    RtObject* target = nullptr;
    std::uint64_t sequence = 0;  // 1, 2, 3... in the order the control side sent them
    float value = 0.0f;
    std::uint32_t sample_offset = 0;
    ParamId id = ParamId::gain_db;
    std::uint8_t index = 0;
};

/// What the audio thread reports back; formatted on the control side.
struct AudioEvent {
    enum class Code : std::uint8_t { non_finite_signal, changes_delayed };
    Code code = Code::non_finite_signal;
    std::uint32_t strip_id = 0;
};

}  // namespace rtmix::engine
