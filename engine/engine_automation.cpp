// Engine: automation lanes (control side) and the timeline they follow (audio thread).
#include <algorithm>
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

/// Calls `f` on every lane of the model's strips (their own, their sends', their processors').
template <class F>
void for_each_lane(Model& model, F&& f) {
    for (StripModel& s : model.strips) {
        for (LaneModel& l : s.lanes) f(l);
        for (SendModel& send : s.sends)
            for (LaneModel& l : send.lanes) f(l);
        for (SlotModel* slot : {&s.eq, &s.compressor, &s.limiter})
            for (LaneModel& l : slot->lanes) f(l);
        for (InsertModel& i : s.inserts)
            for (LaneModel& l : i.slot.lanes) f(l);
    }
}

/// A lane model for `p` without breakpoints: the address of its messages, as a set() sends them.
Status new_lane(const ResolvedParam& p, std::string_view path, LaneModel& l) {
    std::vector<ParamChange> address;
    param_changes(p, address);
    if (address.size() != 1) return lane_error(Status::Code::invalid_value, fmt::format("{} cannot be automated", path));
    l.index = p.index;
    l.address = address.front();
    l.ramped = follows_ramps(p);
    return {};
}

/// Words, switches and numbers that take only some values: written as steps.
bool stepped(const ParamInfo& info) { return info.kind != ValueKind::number || !info.choices.empty(); }

/// "1.234 s" for messages.
std::string seconds(std::int64_t frame, double rate) { return fmt::format("{:.3f} s", static_cast<double>(frame) / rate); }

}  // namespace

void Engine::Impl::take_records() {
    // Every report of a change applied by now is in the queue (pushed before the audio thread
    // published its progress).
    const std::uint64_t applied = executor.applied_through();
    RecordReport rep;
    while (records.pop(rep)) {
        Recorder& r = recorders[rep.slot % recorders.size()];
        if (r.serial == 0 || r.serial != rep.serial) continue;  // of an arming that is gone
        switch (rep.kind) {
            case RecordReport::Kind::begin:
                r.open = true;
                r.lost = false;
                r.begin = rep.frame;
                r.points.clear();
                break;
            case RecordReport::Kind::cut_point:
                if (!r.open) break;
                std::erase_if(r.points, [&](const Breakpoint& b) { return b.frame >= rep.frame; });
                r.points.push_back({rep.frame, rep.value, rep.shape});
                break;
            case RecordReport::Kind::point:
                if (r.open) r.points.push_back({rep.frame, rep.value, rep.shape});
                break;
            case RecordReport::Kind::end:
                if (!r.open) break;
                r.open = false;
                merge_stretch(r, rep.frame, rep.value);
                break;
        }
    }
    for (Recorder& r : recorders)
        if (r.serial != 0 && !r.armed && applied >= r.freed_after) r = Recorder{};
    // Reports the queue could not take: the stretches open now are incomplete.
    if (const std::uint64_t lost = executor.records_lost(); lost > records_lost_seen) {
        records_lost_seen = lost;
        for (Recorder& r : recorders)
            if (r.open) r.lost = true;
    }
}

void Engine::Impl::merge_stretch(Recorder& r, std::int64_t end, double junction) {
    const double rate = options.sample_rate;
    if (r.lost) {
        recorder_events.push_back({Event::Code::automation_lost, r.path,
                                   fmt::format("{}: the recorder's queue was full: the pass from {} to {} was not "
                                               "written",
                                               r.path, seconds(r.begin, rate), seconds(end, rate))});
        r.points.clear();
        return;
    }
    LaneModel* lane = nullptr;
    for_each_lane(model, [&](LaneModel& l) {
        if (l.rec >= 0 && l.rec_serial == r.serial) lane = &l;
    });
    if (lane == nullptr || r.points.empty()) {  // its parameter went (a strip or insert removed)
        r.points.clear();
        return;
    }
    const std::vector<Breakpoint> none;
    const std::vector<Breakpoint>& old = lane->data ? lane->data->points : none;
    // The junction: where the lane the parameter had takes over again, with the value the audio
    // thread went back to, along that lane's segment there.
    Shape shape = lane->stepped ? Shape::hold : Shape::linear;
    for (const Breakpoint& b : old)
        if (b.frame <= end) shape = b.shape;
    std::vector<Breakpoint> written = std::move(r.points);
    r.points.clear();
    // Points at one frame with one value say the same thing once.
    std::vector<Breakpoint> stretch;
    for (const Breakpoint& b : written) {
        if (!stretch.empty() && stretch.back().frame == b.frame && stretch.back().value == b.value) {
            stretch.back().shape = b.shape;
            continue;
        }
        stretch.push_back(b);
    }
    stretch.push_back({end, junction, shape});
    stretch = thin_points(stretch, r.tolerance, r.logarithmic);
    // The old lane on both sides stays; a segment the stretch cuts keeps its line (linear, hold
    // and exponential segments cut short are the same curve), but an S-curve cut short would be
    // another curve: the part that stays becomes straight lines through its values on the grid,
    // thinned like the stretch.
    const auto grid = Executor::automation_grid;
    const auto resampled = [&](const Breakpoint& a, const Breakpoint& b, std::int64_t from, std::int64_t to) {
        std::vector<Breakpoint> out{{from, segment_value(a, b, static_cast<double>(from)), Shape::linear}};
        for (std::int64_t x = (from / grid + 1) * grid; x < to; x += grid)
            out.push_back({x, segment_value(a, b, static_cast<double>(x)), Shape::linear});
        out.push_back({to, to == b.frame ? b.value : segment_value(a, b, static_cast<double>(to)), Shape::linear});
        return thin_points(out, r.tolerance, r.logarithmic);
    };
    std::vector<Breakpoint> points;
    for (std::size_t i = 0; i < old.size() && old[i].frame < r.begin; ++i) {
        const bool cut = old[i].shape == Shape::smooth && i + 1 < old.size() && old[i + 1].frame > r.begin;
        if (!cut) {
            points.push_back(old[i]);
            continue;
        }
        std::vector<Breakpoint> head = resampled(old[i], old[i + 1], old[i].frame, r.begin);
        head.pop_back();  // the stretch's first point stands there
        points.insert(points.end(), head.begin(), head.end());
    }
    points.insert(points.end(), stretch.begin(), stretch.end());
    for (std::size_t i = 0; i < old.size(); ++i) {
        if (old[i].frame >= end) {
            points.push_back(old[i]);
        } else if (old[i].shape == Shape::smooth && i + 1 < old.size() && old[i + 1].frame > end) {
            std::vector<Breakpoint> tail = resampled(old[i], old[i + 1], end, old[i + 1].frame);
            points.back().shape = Shape::linear;  // the junction: into the first of them
            tail.erase(tail.begin());
            tail.pop_back();  // the old point itself follows
            points.insert(points.end(), tail.begin(), tail.end());
        }
    }
    auto data = std::make_shared<LaneData>();
    data->points = std::move(points);
    lane->data = std::move(data);
    publish();
    recorder_events.push_back(
        {Event::Code::automation_written, r.path,
         fmt::format("{}: automation written from {} to {} ({} breakpoints)", r.path, seconds(r.begin, rate),
                     seconds(end, rate), stretch.size())});
}

Status Engine::automate(std::string_view path, const Lane& lane) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    std::vector<Breakpoint> points = lane.points;
    if (Status s = check_lane(p, path, points); !s) return s;
    std::vector<LaneModel>& lanes = owner_lanes(p);
    // A recorded parameter keeps its recording (and its place) with or without a lane.
    auto it = std::find_if(lanes.begin(), lanes.end(), [&](const LaneModel& l) { return l.index == p.index; });
    if (it != lanes.end() && it->rec >= 0) {
        if (points.empty()) {
            it->data.reset();
        } else {
            it->data = std::make_shared<LaneData>();
            it->data->points = std::move(points);
        }
        impl_->publish();
        return {};
    }
    if (it != lanes.end()) lanes.erase(it);
    if (!points.empty()) {
        LaneModel l;
        if (Status s = new_lane(p, path, l); !s) return s;
        l.data = std::make_shared<LaneData>();
        l.data->points = std::move(points);
        lanes.push_back(std::move(l));
    }
    impl_->publish();
    return {};
}

Status Engine::record(std::string_view path, AutomationMode mode, const AutomationRecordOptions& options) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    std::vector<Breakpoint> no_points;
    if (Status s = check_lane(p, path, no_points); !s) {
        std::string m = s.message();
        if (const std::size_t at = m.find("cannot be automated"); at != std::string::npos)
            m.replace(at, 19, "cannot be recorded");
        return lane_error(s.code(), std::move(m));
    }
    if (!(options.touch_timeout_s >= 0.0) || !std::isfinite(options.touch_timeout_s))
        return lane_error(Status::Code::out_of_range,
                          fmt::format("{}: a touch timeout must be 0 s or more, not {}", path, options.touch_timeout_s));
    Impl& m = *impl_;
    std::vector<LaneModel>& lanes = owner_lanes(p);
    auto it = std::find_if(lanes.begin(), lanes.end(), [&](const LaneModel& l) { return l.index == p.index; });
    const auto grid = Executor::automation_grid;
    const auto to_grid = [&](double frames) {
        return static_cast<std::int64_t>(std::ceil(frames / static_cast<double>(grid))) * grid;
    };
    if (mode == AutomationMode::read) {
        if (it == lanes.end() || it->rec < 0) return {};
        // The audio thread ends a stretch being written at the command's frame; the slot is free
        // once it has applied it (and what it reported before has been taken).
        std::vector<ParamChange> changes(1);
        changes[0].target = nullptr;
        changes[0].param = disarm_command;
        changes[0].slot = static_cast<std::uint8_t>(it->rec);
        if (Status s = m.push(changes); !s) return s;
        Impl::Recorder& r = m.recorders[static_cast<std::size_t>(it->rec)];
        r.armed = false;
        r.freed_after = m.sequence;
        it->rec = -1;
        it->rec_serial = 0;
        if (!it->data) lanes.erase(it);
        m.publish();
        return {};
    }
    if (it == lanes.end()) {
        LaneModel l;
        if (Status s = new_lane(p, path, l); !s) return s;
        lanes.push_back(std::move(l));
        it = lanes.end() - 1;
    }
    LaneModel& l = *it;
    if (l.rec < 0) {
        // A free slot, in turn: a slot just freed is the last to be reused (the audio thread may
        // still be ending its stretch).
        std::uint32_t slot = max_recorded;
        for (std::uint32_t k = 0; k < max_recorded && slot == max_recorded; ++k) {
            const std::uint32_t i = (m.next_slot + k) % max_recorded;
            if (m.recorders[i].serial == 0) slot = i;
        }
        if (slot == max_recorded) {
            if (!l.data) lanes.erase(it);
            return lane_error(Status::Code::limit_reached,
                              fmt::format("{}: {} parameters are being recorded already, the most there can be", path,
                                          max_recorded));
        }
        m.next_slot = (slot + 1) % max_recorded;
        Impl::Recorder& r = m.recorders[slot];
        r = Impl::Recorder{};
        r.serial = m.next_serial++;
        r.armed = true;
        r.path = std::string(path);
        const ParamInfo& info = *p.param;
        if (info.unit == "dB") {
            r.tolerance = 0.1;
        } else if (info.unit == "Hz" && p.min > 0.0) {
            r.tolerance = 0.005 * std::log(p.max / p.min);
            r.logarithmic = true;
        } else {
            r.tolerance = 0.005 * (p.max - p.min);
        }
        if (stepped(info)) r.tolerance = 0.0;  // steps: only repeats go
        l.rec = static_cast<std::int32_t>(slot);
        l.rec_serial = r.serial;
        l.stepped = stepped(info);
        l.base = read_param(p);
    }
    l.rec_mode = mode;
    const double rate = m.options.sample_rate;
    l.glide = static_cast<std::uint32_t>(
        std::max<std::int64_t>(grid, to_grid(static_cast<double>(m.options.smoothing_ms) * 1e-3 * rate)));
    l.touch_timeout = options.touch_timeout_s > 0.0 ? std::max<std::int64_t>(grid, to_grid(options.touch_timeout_s * rate)) : 0;
    m.publish();
    return {};
}

std::vector<std::pair<std::string, AutomationMode>> Engine::recording() const {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    std::vector<std::pair<std::string, AutomationMode>> out;
    for (std::string& path : all_param_paths(impl_->model)) {
        ResolvedParam p;
        if (!resolve_param(impl_->model, path, impl_->options.sample_rate, p).ok()) continue;
        if (const LaneModel* l = find_lane(owner_lanes(p), p.index); l != nullptr && l->rec >= 0)
            out.emplace_back(std::move(path), l->rec_mode);
    }
    return out;
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
    impl_->collect();  // stretches recorded since the last call
    std::vector<std::pair<std::string, Lane>> out;
    for (std::string& path : all_param_paths(impl_->model)) {
        ResolvedParam p;
        if (!resolve_param(impl_->model, path, impl_->options.sample_rate, p).ok()) continue;
        if (const LaneModel* l = find_lane(owner_lanes(p), p.index); l != nullptr && l->data)
            out.emplace_back(std::move(path), Lane{l->data->points});
    }
    return out;
}

void Engine::set_timeline(std::int64_t frame, bool rolling) noexcept { impl_->executor.set_timeline(frame, rolling); }

}  // namespace rtmix
