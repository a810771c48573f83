// The parameters of a strip's fixed front and back, of its sends and of its inserts, and the
// messages a Strip takes (their order is the order of the parameters, checked in strip_params.cpp).
#pragma once

#include <cstdint>

#include "rtmix/parameters.hpp"

namespace rtmix::engine {

/// What Strip::apply() takes: the strip's parameters (strip_params() order; delay_samples carries
/// the alignment delay in frames; solo and solo_safe are resolved into solo_mute on the control
/// side), its sends' (send_params() order, the send slot in ParamChange::slot), then commands of
/// the engine's own.
enum class StripMessage : std::uint16_t {
    trim_db, invert, delay_ms, delay_samples, gain_db, pan, mute, solo, solo_safe,
    send_level_db, send_pre_fader,
    send_reset,      // slot: a new send fades in from silence to its level
    send_start,      // slot: the send's level jumps to `value` dB (no ramp)
    output_fade_in,  // the strip's main output (not its sends) fades in from silence: a reroute
    solo_mute,       // 1: silenced by the solo logic (something else is soloed); the strip is
                     // heard when neither this nor its own mute is set
};

constexpr std::uint16_t message_of(StripMessage m) noexcept { return static_cast<std::uint16_t>(m); }
/// The StripMessage of send parameter `index`.
constexpr StripMessage send_message(std::uint32_t index) noexcept {
    return static_cast<StripMessage>(static_cast<std::uint32_t>(StripMessage::send_level_db) + index);
}

/// Indices into insert_params().
enum class InsertParam : std::uint16_t { enabled, mix };

/// Longest alignment delay, in milliseconds.
constexpr double max_alignment_delay_ms = 100.0;

}  // namespace rtmix::engine
