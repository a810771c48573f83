// rtmix::Engine: the control side (model, plan compilation, parameter messages, garbage
// collection) around the audio side (graph/executor.hpp).
#include "rtmix/engine.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "control/param_apply.hpp"
#include "control/param_table.hpp"
#include "control/plan_mailbox.hpp"
#include "graph/compile.hpp"
#include "graph/executor.hpp"
#include "session/model.hpp"

namespace rtmix {

using namespace rtmix::engine;

namespace {

constexpr std::size_t event_queue_capacity = 1024;

Status not_found(std::string_view what, std::string_view path) {
    return {Status::Code::unknown_path, fmt::format("no {} '{}'", what, path)};
}

Status check_name(std::string_view name) {
    bool ok = !name.empty() && name.front() != ' ' && name.back() != ' ';
    for (char c : name) ok = ok && c != '.' && static_cast<unsigned char>(c) >= 0x20;
    if (ok) return {};
    return {Status::Code::invalid_name,
            fmt::format("invalid name '{}': names are non-empty, hold no '.' and no control "
                        "characters, and neither start nor end with a space",
                        name)};
}

}  // namespace

struct Engine::Impl {
    explicit Impl(const EngineOptions& o)
        : options(o),
          params(std::max<std::uint32_t>(o.param_queue_capacity, 16)),
          events(event_queue_capacity),
          executor(o.max_block_frames, std::max<std::uint32_t>(o.param_queue_capacity, 16), params, mailbox, events) {}

    EngineOptions options;
    mutable std::recursive_mutex mutex;  // control side only; the audio thread never sees it
    Model model;
    ParamQueue params;
    EventQueue events;
    PlanMailbox mailbox;
    Executor executor;  // after the queues and mailbox: destroyed first

    std::uint64_t sequence = 0;  // of the last change pushed
    std::uint64_t plans_published = 0;
    std::uint32_t batch_depth = 0;
    bool publish_pending = false;
    std::uint32_t latency = 0;
    std::uint64_t events_lost_reported = 0;

    // Objects removed from the model, freed once no plan holds them and every change sent
    // before their removal has been applied (so no queued message points at freed memory).
    struct Retired {
        std::shared_ptr<void> object;
        std::uint64_t sent_through;
    };
    std::vector<Retired> graveyard;
    std::unordered_map<std::uint32_t, std::string> removed_paths;

    std::shared_ptr<Strip> make_strip(std::uint32_t id, std::uint32_t channels) const {
        return std::make_shared<Strip>(id, channels, options.sample_rate, options.smoothing_ms,
                                       options.max_block_frames);
    }

    void collect() {
        while (mailbox.collect()) {
        }
        const std::uint64_t applied = executor.applied_through();
        std::erase_if(graveyard, [&](const Retired& r) { return r.object.use_count() == 1 && applied >= r.sent_through; });
    }

    void retire(std::shared_ptr<void> object) { graveyard.push_back({std::move(object), sequence}); }

    /// Pushes every change or none; stamps them with sequence numbers.
    Status push(std::vector<ParamChange>& changes, std::uint32_t sample_offset = 0) {
        if (params.write_available() < changes.size())
            return {Status::Code::queue_full,
                    fmt::format("parameter queue full ({} changes waiting for the audio thread); nothing "
                                "was changed, try again after the next block",
                                params.read_available())};
        for (ParamChange& c : changes) {
            c.sequence = ++sequence;
            c.sample_offset = sample_offset;
            params.push(c);
        }
        return {};
    }

    void publish() {
        if (batch_depth > 0) {
            publish_pending = true;
            return;
        }
        std::unique_ptr<RenderPlan> plan = compile_plan(model, options.max_block_frames);
        latency = plan->latency_frames;
        mailbox.publish(std::move(plan));  // a plan the audio thread never took is deleted here
        ++plans_published;
        publish_pending = false;
    }

    /// After a routing change: tell the audio side about mutes the solo logic changed, then
    /// publish the plan. `changes` may already hold messages of the change itself.
    Status commit_topology(std::vector<ParamChange>& changes) {
        std::vector<bool> mutes;
        mute_changes(model, mutes, changes);
        Status s = push(changes);
        if (!s) return s;
        commit_mutes(model, mutes);
        publish();
        return {};
    }

    Status room_for(std::size_t n) {
        if (params.write_available() >= n + model.strips.size()) return {};
        return {Status::Code::queue_full, "parameter queue full; nothing was changed, try again after the next block"};
    }

    std::uint32_t next_input_channel() const {
        std::uint32_t next = 0;
        for (const auto& s : model.strips)
            if (s.kind == StripKind::track) next = std::max(next, s.input_channel + s.channels);
        return next;
    }

    Status set_value(std::string_view path, double value, std::uint32_t sample_offset) {
        ResolvedParam p;
        if (Status s = resolve_param(model, path, options.sample_rate, p); !s) return s;
        if (std::isinf(value) && value < 0 && (p.spec->field == Field::gain_db || p.spec->field == Field::send_level_db))
            value = p.min;  // -inf dB: silence
        if (Status s = validate_number(p, path, value); !s) return s;
        const double old = read_param(p, options.sample_rate);
        write_param(p, value, options.sample_rate);
        std::vector<ParamChange> changes;
        param_changes(p, changes);
        std::vector<bool> mutes;
        const Field f = p.spec->field;
        if (f == Field::mute || f == Field::solo || f == Field::solo_safe) mute_changes(model, mutes, changes);
        if (Status s = push(changes, sample_offset); !s) {
            write_param(p, old, options.sample_rate);
            return s;
        }
        if (!mutes.empty()) commit_mutes(model, mutes);
        return {};
    }
};

Engine::Engine(const EngineOptions& options) : impl_(std::make_unique<Impl>(options)) {
    StripModel master;
    master.id = 0;
    master.kind = StripKind::master;
    master.name = "master";
    master.channels = 2;
    master.strip = impl_->make_strip(0, 2);
    impl_->model.strips.push_back(std::move(master));
    impl_->publish();
}

Engine::~Engine() = default;

Status Engine::add_track(std::string_view name, std::uint32_t channels, std::int32_t first_input_channel) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    if (Status s = check_name(name); !s) return s;
    if (channels != 1 && channels != 2)
        return {Status::Code::invalid_value, fmt::format("track '{}': channels must be 1 or 2, not {}", name, channels)};
    if (impl_->model.find(StripKind::track, name)) return {Status::Code::duplicate_name, fmt::format("a track '{}' exists already", name)};
    if (Status s = impl_->room_for(0); !s) return s;
    StripModel t;
    t.id = impl_->model.next_id++;
    t.kind = StripKind::track;
    t.name = std::string(name);
    t.channels = channels;
    t.input_channel = first_input_channel >= 0 ? static_cast<std::uint32_t>(first_input_channel) : impl_->next_input_channel();
    t.strip = impl_->make_strip(t.id, channels);
    impl_->model.strips.push_back(std::move(t));
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::add_bus(std::string_view name) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    if (Status s = check_name(name); !s) return s;
    if (impl_->model.find(StripKind::bus, name)) return {Status::Code::duplicate_name, fmt::format("a bus '{}' exists already", name)};
    if (Status s = impl_->room_for(0); !s) return s;
    StripModel b;
    b.id = impl_->model.next_id++;
    b.kind = StripKind::bus;
    b.name = std::string(name);
    b.channels = 2;
    b.strip = impl_->make_strip(b.id, 2);
    impl_->model.strips.push_back(std::move(b));
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::remove(std::string_view path) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    Model& model = impl_->model;
    StripModel* s = model.find_path(path);
    if (s == nullptr || s->kind == StripKind::master)
        return path == "master" ? Status{Status::Code::invalid_value, "the master cannot be removed"} : not_found("strip", path);
    if (Status st = impl_->room_for(0); !st) return st;
    const std::uint32_t id = s->id;
    impl_->removed_paths[id] = s->path();
    impl_->retire(s->strip);
    for (auto& e : s->effects) impl_->retire(e.unit);
    model.strips.erase(model.strips.begin() + (s - model.strips.data()));
    for (auto& other : model.strips) {
        if (other.output == StripModel::Output::bus && other.output_bus == id) other.output = StripModel::Output::master;
        std::erase_if(other.sends, [&](const SendModel& send) { return send.bus_id == id; });
    }
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::set_output(std::string_view path, std::string_view destination) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    Model& model = impl_->model;
    StripModel* s = model.find_path(path);
    if (s == nullptr) return not_found("strip", path);
    if (s->kind == StripKind::master) return {Status::Code::invalid_value, "the master's output is the host's output"};
    if (Status st = impl_->room_for(0); !st) return st;
    const auto old_output = s->output;
    const auto old_bus = s->output_bus;
    if (destination == "master") {
        s->output = StripModel::Output::master;
    } else if (destination.empty()) {
        s->output = StripModel::Output::none;
    } else {
        const StripModel* bus = destination.starts_with("bus.") ? model.find_path(destination) : nullptr;
        if (bus == nullptr)
            return {Status::Code::unknown_path,
                    fmt::format("no bus '{}' (a destination is \"master\", \"bus.NAME\" or \"\")", destination)};
        s->output = StripModel::Output::bus;
        s->output_bus = bus->id;
    }
    if (auto cycle = model.find_cycle()) {
        s->output = old_output;
        s->output_bus = old_bus;
        return {Status::Code::cycle, fmt::format("routing {} to {} would make a cycle: {}", path, destination, *cycle)};
    }
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::add_send(std::string_view path, std::string_view bus_path, double level_db, bool pre_fader) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    Model& model = impl_->model;
    StripModel* s = model.find_path(path);
    if (s == nullptr) return not_found("strip", path);
    if (s->kind == StripKind::master) return {Status::Code::invalid_value, "the master has no sends"};
    const StripModel* bus = bus_path.starts_with("bus.") ? model.find_path(bus_path) : nullptr;
    if (bus == nullptr) return {Status::Code::unknown_path, fmt::format("no bus '{}' to send to", bus_path)};
    for (const auto& send : s->sends)
        if (send.bus_id == bus->id)
            return {Status::Code::duplicate_name, fmt::format("{} already sends to {}", path, bus_path)};
    if (s->sends.size() >= max_sends)
        return {Status::Code::limit_reached, fmt::format("{} has {} sends, the most a strip can have", path, max_sends)};
    if (std::isinf(level_db) && level_db < 0) level_db = -120.0;
    if (!(level_db >= -120.0 && level_db <= 12.0))
        return {Status::Code::out_of_range, fmt::format("send level {} dB: out of range [-120, 12]", level_db)};
    if (Status st = impl_->room_for(3); !st) return st;
    std::uint32_t slot = 0;
    while (std::any_of(s->sends.begin(), s->sends.end(), [&](const SendModel& m) { return m.slot == slot; })) ++slot;
    s->sends.push_back({bus->id, slot, static_cast<float>(level_db), pre_fader});
    if (auto cycle = model.find_cycle()) {
        s->sends.pop_back();
        return {Status::Code::cycle, fmt::format("a send from {} to {} would make a cycle: {}", path, bus_path, *cycle)};
    }
    Strip* strip = s->strip.get();
    std::vector<ParamChange> changes(3);
    changes[0] = {strip, 0, static_cast<float>(level_db), 0, ParamId::send_level_db, static_cast<std::uint8_t>(slot)};
    changes[1] = {strip, 0, pre_fader ? 1.0f : 0.0f, 0, ParamId::send_pre_fader, static_cast<std::uint8_t>(slot)};
    changes[2] = {strip, 0, 0.0f, 0, ParamId::send_reset, static_cast<std::uint8_t>(slot)};
    return impl_->commit_topology(changes);
}

Status Engine::remove_send(std::string_view path, std::string_view bus_path) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    Model& model = impl_->model;
    StripModel* s = model.find_path(path);
    const StripModel* bus = model.find_path(bus_path);
    if (s == nullptr) return not_found("strip", path);
    if (bus == nullptr) return not_found("bus", bus_path);
    if (Status st = impl_->room_for(0); !st) return st;
    const auto removed = std::erase_if(s->sends, [&](const SendModel& m) { return m.bus_id == bus->id; });
    if (removed == 0) return {Status::Code::unknown_path, fmt::format("{} has no send to {}", path, bus_path)};
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::add_effect(std::string_view path, Effect effect) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    StripModel* s = impl_->model.find_path(path);
    if (s == nullptr) return not_found("bus", path);
    if (s->kind == StripKind::track)
        return {Status::Code::invalid_value, fmt::format("{}: effects go on buses and the master, not on tracks", path)};
    const char* name = effect == Effect::reverb ? "reverb" : "delay";
    for (const auto& e : s->effects)
        if (e.kind == effect) return {Status::Code::duplicate_name, fmt::format("{} has a {} already", path, name)};
    if (Status st = impl_->room_for(0); !st) return st;
    EffectModel e;
    e.kind = effect;
    const double rate = impl_->options.sample_rate;
    // Not yet visible to the audio thread: set the defaults directly.
    if (effect == Effect::reverb) {
        e.unit = std::make_shared<ReverbUnit>(rate);
        for (std::uint8_t p = 0; p <= static_cast<std::uint8_t>(dsp::ReverbParam::mix); ++p) {
            e.values[p] = dsp::reverb_range(static_cast<dsp::ReverbParam>(p)).def;
            e.unit->apply(ParamId::effect, p, e.values[p]);
        }
    } else {
        e.unit = std::make_shared<DelayUnit>(rate);
        for (std::uint8_t p = 0; p <= static_cast<std::uint8_t>(dsp::DelayParam::mix); ++p) {
            e.values[p] = dsp::delay_range(static_cast<dsp::DelayParam>(p)).def;
            e.unit->apply(ParamId::effect, p, e.values[p]);
        }
    }
    s->effects.push_back(std::move(e));
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::remove_effect(std::string_view path, Effect effect) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    StripModel* s = impl_->model.find_path(path);
    if (s == nullptr) return not_found("bus", path);
    if (Status st = impl_->room_for(0); !st) return st;
    auto it = std::find_if(s->effects.begin(), s->effects.end(), [&](const EffectModel& e) { return e.kind == effect; });
    if (it == s->effects.end())
        return {Status::Code::unknown_path, fmt::format("{} has no {}", path, effect == Effect::reverb ? "reverb" : "delay")};
    impl_->retire(it->unit);
    s->effects.erase(it);
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::batch(const std::function<Status()>& edits) {
    std::lock_guard lock(impl_->mutex);
    ++impl_->batch_depth;
    Status result = edits();
    --impl_->batch_depth;
    if (impl_->batch_depth == 0 && impl_->publish_pending) impl_->publish();
    return result;
}

Status Engine::set(std::string_view path, double value, std::uint32_t sample_offset) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    return impl_->set_value(path, value, sample_offset);
}

Status Engine::set(std::string_view path, std::string_view word, std::uint32_t sample_offset) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    double value = 0.0;
    if (Status s = parse_word(p, path, word, value); !s) return s;
    if (p.spec->kind == ValueKind::word) {
        // Words are validated by parse_word; route them past the numeric check.
        const double old = read_param(p, impl_->options.sample_rate);
        write_param(p, value, impl_->options.sample_rate);
        std::vector<ParamChange> changes;
        param_changes(p, changes);
        if (Status s = impl_->push(changes, sample_offset); !s) {
            write_param(p, old, impl_->options.sample_rate);
            return s;
        }
        return {};
    }
    return impl_->set_value(path, value, sample_offset);
}

Status Engine::get(std::string_view path, double& value) const {
    std::lock_guard lock(impl_->mutex);
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    value = read_param(p, impl_->options.sample_rate);
    return {};
}

std::vector<std::string> Engine::parameter_paths() const {
    std::lock_guard lock(impl_->mutex);
    return all_param_paths(impl_->model);
}

void Engine::process(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                     std::uint32_t frames) noexcept {
    impl_->executor.process(inputs, input_channels, outputs, frames);
}

bool Engine::meter(std::string_view path, StripMeter& out) const {
    std::lock_guard lock(impl_->mutex);
    const StripModel* s = impl_->model.find_path(path);
    if (s == nullptr) return false;
    out = s->strip->meter().read();
    return true;
}

Status Engine::reset_meters() {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    std::vector<ParamChange> changes(1);
    changes[0].target = nullptr;
    changes[0].id = ParamId::reset_meters;
    return impl_->push(changes);
}

std::vector<Event> Engine::poll_events() {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    std::vector<Event> out;
    AudioEvent e;
    while (impl_->events.pop(e)) {
        if (e.code == AudioEvent::Code::changes_delayed) {
            out.push_back({Event::Code::changes_delayed, {},
                           "the audio thread's list of pending changes was full; some changes waited "
                           "for the next block"});
            continue;
        }
        std::string path;
        if (const StripModel* s = impl_->model.find(e.strip_id))
            path = s->path();
        else if (auto it = impl_->removed_paths.find(e.strip_id); it != impl_->removed_paths.end())
            path = it->second;
        out.push_back({Event::Code::non_finite_signal, path,
                       fmt::format("{}: non-finite sample (NaN or Inf); the strip was silenced and its "
                                   "filters cleared",
                                   path)});
    }
    const std::uint64_t lost = impl_->executor.events_lost();
    if (lost > impl_->events_lost_reported) {
        out.push_back({Event::Code::events_lost, {},
                       fmt::format("{} audio events were lost (event queue full)", lost - impl_->events_lost_reported)});
        impl_->events_lost_reported = lost;
    }
    return out;
}

std::uint32_t Engine::input_channels() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->next_input_channel();
}

std::uint32_t Engine::latency_frames() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->latency;
}

double Engine::sample_rate() const noexcept { return impl_->options.sample_rate; }
std::uint32_t Engine::max_block_frames() const noexcept { return impl_->options.max_block_frames; }

EngineStats Engine::stats() const {
    std::lock_guard lock(impl_->mutex);
    EngineStats s;
    s.params_sent = impl_->sequence;
    s.params_applied = impl_->executor.params_applied();
    s.plans_published = impl_->plans_published;
    s.blocks_processed = impl_->executor.blocks();
    return s;
}

}  // namespace rtmix
