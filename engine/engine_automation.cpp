// Engine: automation lanes (control side) and the timeline they follow (audio thread).
#include <cmath>

#include "engine_impl.hpp"
#include "processors/strip_params.hpp"

namespace rtmix {

namespace {

Status lane_error(Status::Code code, std::string message) { return {code, std::move(message)}; }

/// The lanes of the owner of `p`.
std::vector<LaneModel>& owner_lanes(const ResolvedParam& p) {
    switch (p.owner) {
        case ResolvedParam::Owner::strip: return p.strip->lanes;
        case ResolvedParam::Owner::send: return p.strip->sends[p.send].lanes;
        case ResolvedParam::Owner::slot: break;
    }
    return p.slot->lanes;
}

/// Strip parameters whose smoothers take a ramp length: trim, fader, pan; and send levels.
bool follows_ramps(const ResolvedParam& p) {
    if (p.owner == ResolvedParam::Owner::send) return p.index == 0;  // level_db
    if (p.owner != ResolvedParam::Owner::strip) return false;
    const auto m = static_cast<StripMessage>(p.index);
    return m == StripMessage::trim_db || m == StripMessage::gain_db || m == StripMessage::pan;
}

/// Checks a lane against the parameter (order, values, shapes) and stores "-inf" as the range's
/// end; the message names the path and the breakpoint (from 1).
Status check_lane(const ResolvedParam& p, std::string_view path, std::vector<Breakpoint>& points) {
    const ParamInfo& info = *p.param;
    if (affects_mutes(p))
        return lane_error(Status::Code::invalid_value,
                          fmt::format("{} cannot be automated: solo and solo_safe decide which strips the solos "
                                      "silence (set them; a strip's own mute can be automated)",
                                      path));
    if (info.latency)
        return lane_error(Status::Code::invalid_value,
                          fmt::format("{} cannot be automated: it changes the mix's latency", path));
    if (p.owner == ResolvedParam::Owner::strip) {
        const auto m = static_cast<StripMessage>(p.index);
        if (m == StripMessage::delay_ms || m == StripMessage::delay_samples)
            return lane_error(Status::Code::invalid_value,
                              fmt::format("{} cannot be automated: the alignment delay is set, not moved", path));
    }
    const bool stepped = info.kind != ValueKind::number;
    for (std::size_t i = 0; i < points.size(); ++i) {
        Breakpoint& b = points[i];
        if (i > 0 && b.frame < points[i - 1].frame)
            return lane_error(Status::Code::invalid_value,
                              fmt::format("{}: breakpoint {} at frame {} comes before breakpoint {} at frame {}: "
                                          "breakpoints go in order of time",
                                          path, i + 1, b.frame, i, points[i - 1].frame));
        if (std::isinf(b.value) && b.value < 0 && info.minus_inf) b.value = p.min;  // -inf dB: silence
        if (info.kind == ValueKind::word) {
            // A word is its index in the declaration's list.
            if (!(b.value >= 0.0 && b.value < static_cast<double>(info.words.size())) || b.value != std::floor(b.value))
                return lane_error(Status::Code::out_of_range,
                                  fmt::format("{}: breakpoint {} = {}: expected the index of a word, 0 to {}", path,
                                              i + 1, b.value, info.words.size() - 1));
        } else if (Status s = validate_number(p, path, b.value); !s) {
            return lane_error(s.code(), fmt::format("breakpoint {}: {}", i + 1, s.message()));
        }
        const bool last = i + 1 == points.size();
        if (stepped && b.shape != Shape::hold && !last)
            return lane_error(Status::Code::invalid_value,
                              fmt::format("{}: breakpoint {} has shape '{}', but a {} parameter only steps: use "
                                          "'hold'",
                                          path, i + 1, to_string(b.shape),
                                          info.kind == ValueKind::word ? "word" : "boolean"));
        if (b.shape == Shape::exponential && !last && (b.value <= 0.0 || points[i + 1].value <= 0.0))
            return lane_error(Status::Code::invalid_value,
                              fmt::format("{}: breakpoint {} is exponential between {} and {}: both values must be "
                                          "above 0 (use 'linear' or 'smooth')",
                                          path, i + 1, b.value, points[i + 1].value));
    }
    return {};
}

}  // namespace

Status Engine::automate(std::string_view path, const Lane& lane) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    std::vector<Breakpoint> points = lane.points;
    if (Status s = check_lane(p, path, points); !s) return s;
    std::vector<LaneModel>& lanes = owner_lanes(p);
    std::erase_if(lanes, [&](const LaneModel& l) { return l.index == p.index; });
    if (!points.empty()) {
        // The address of the parameter's messages, as a set() would send them.
        std::vector<ParamChange> address;
        param_changes(p, address);
        if (address.size() != 1)
            return lane_error(Status::Code::invalid_value, fmt::format("{} cannot be automated", path));
        LaneModel l;
        l.index = p.index;
        l.address = address.front();
        l.ramped = follows_ramps(p);
        l.data = std::make_shared<LaneData>();
        l.data->points = std::move(points);
        lanes.push_back(std::move(l));
    }
    impl_->publish();
    return {};
}

Status Engine::release(std::string_view path, std::uint32_t sample_offset) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    const LaneModel* lane = find_lane(owner_lanes(p), p.index);
    if (lane == nullptr)
        return lane_error(Status::Code::invalid_value, fmt::format("{} has no automation lane to go back to", path));
    std::vector<ParamChange> changes{lane->address};
    changes.front().kind = ParamChange::release_lane;
    return impl_->push(changes, sample_offset);
}

std::vector<std::pair<std::string, Lane>> Engine::automation() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<std::pair<std::string, Lane>> out;
    for (std::string& path : all_param_paths(impl_->model)) {
        ResolvedParam p;
        if (!resolve_param(impl_->model, path, impl_->options.sample_rate, p).ok()) continue;
        if (const LaneModel* l = find_lane(owner_lanes(p), p.index)) out.emplace_back(std::move(path), Lane{l->data->points});
    }
    return out;
}

void Engine::set_timeline(std::int64_t frame, bool rolling) noexcept { impl_->executor.set_timeline(frame, rolling); }

}  // namespace rtmix
