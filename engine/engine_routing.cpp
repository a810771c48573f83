// rtmix::Engine, the routing calls: adding and removing strips, sends and effects, and
// rerouting outputs. Each one checks the request, edits the model, refuses a cycle, and publishes
// a new render plan (control side).
#include "engine_impl.hpp"

namespace rtmix {

namespace {

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

const char* effect_name(Effect effect) { return effect == Effect::reverb ? "reverb" : "delay"; }

ParamChange strip_message(Strip* strip, StripMessage message, std::uint32_t slot, float value) {
    ParamChange c;
    c.target = strip;
    c.param = message_of(message);
    c.slot = static_cast<std::uint8_t>(slot);
    c.value = value;
    return c;
}

/// The lowest send slot of `s` not in use (max_sends if all are).
std::uint32_t free_send_slot(const StripModel& s) {
    std::uint32_t slot = 0;
    while (slot < max_sends &&
           std::any_of(s.sends.begin(), s.sends.end(), [&](const SendModel& m) { return m.slot == slot; }))
        ++slot;
    return slot;
}

}  // namespace

Status Engine::add_track(std::string_view name, std::uint32_t channels, std::int32_t first_input_channel) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    if (Status s = check_name(name); !s) return s;
    if (channels != 1 && channels != 2)
        return {Status::Code::invalid_value, fmt::format("track '{}': channels must be 1 or 2, not {}", name, channels)};
    if (impl_->model.find(StripKind::track, name)) return {Status::Code::duplicate_name, fmt::format("a track '{}' exists already", name)};
    if (Status s = impl_->room_for(0); !s) return s;
    StripModel t = impl_->new_strip(StripKind::track, name, channels);
    t.input_channel = first_input_channel >= 0 ? static_cast<std::uint32_t>(first_input_channel) : impl_->next_input_channel();
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
    impl_->model.strips.push_back(impl_->new_strip(StripKind::bus, name, 2));
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
    if (Status st = impl_->room_for(1); !st) return st;
    const std::uint32_t id = s->id;
    impl_->removed_paths[id] = s->path();
    // The strip leaves names and paths now; it stays in the render plan, muted, until the mute's
    // ramp has played (Impl::finish_fades), so a track removed while it sounds does not click.
    StripModel gone = std::move(*s);
    model.strips.erase(model.strips.begin() + (s - model.strips.data()));
    for (auto* list : {&model.strips, &model.fading})
        for (StripModel& other : *list) {
            if (other.output == StripModel::Output::bus && other.output_bus == id) other.output = StripModel::Output::master;
            std::erase_if(other.sends, [&](const SendModel& send) { return send.bus_id == id; });
            // Sidechains that listened to it listen to their own strips again.
            if (other.compressor.sidechain == id) other.compressor.sidechain = SlotModel::no_source;
            for (InsertModel& i : other.inserts)
                if (i.slot.sidechain == id) i.slot.sidechain = SlotModel::no_source;
        }
    std::vector<ParamChange> changes(1);
    changes[0] = strip_message(gone.strip.get(), StripMessage::mute, 0, 1.0f);
    gone.fade.sequence = impl_->sequence + 1;  // the mute is the first message pushed below
    model.fading.push_back(std::move(gone));
    return impl_->commit_topology(changes);
}

Status Engine::set_output(std::string_view path, std::string_view destination) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    Model& model = impl_->model;
    StripModel* s = model.find_path(path);
    if (s == nullptr) return not_found("strip", path);
    if (s->kind == StripKind::master) return {Status::Code::invalid_value, "the master's output is the host's output"};
    if (Status st = impl_->room_for(4); !st) return st;
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
    if (auto cycle = impl_->refuse_cycle(
            [&] {
                s->output = old_output;
                s->output_bus = old_bus;
            },
            s->id)) {
        return {Status::Code::cycle, fmt::format("routing {} to {} would make a cycle: {}", path, destination, *cycle)};
    }
    if (s->output == old_output && (old_output != StripModel::Output::bus || s->output_bus == old_bus)) return {};
    // A crossfade: the old route plays on as a post-fader send at unity that fades out (removed
    // like any send once faded), while the output fades in at its new destination.
    std::vector<ParamChange> changes;
    Strip* strip = s->strip.get();
    const std::uint32_t slot = free_send_slot(*s);
    if (old_output != StripModel::Output::none && slot < max_sends) {
        const std::uint32_t old_id = old_output == StripModel::Output::master ? model.strips.front().id : old_bus;
        changes.push_back(strip_message(strip, StripMessage::send_pre_fader, slot, 0.0f));
        changes.push_back(strip_message(strip, StripMessage::send_start, slot, 0.0f));
        changes.push_back(strip_message(strip, StripMessage::send_level_db, slot, -120.0f));
        SendModel old_route{old_id, slot, {-120.0, 0.0}, {}, {}};
        old_route.fade.sequence = impl_->sequence + changes.size();
        s->sends.push_back(old_route);
    }
    if (s->output != StripModel::Output::none) changes.push_back(strip_message(strip, StripMessage::output_fade_in, 0, 0.0f));
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
        if (send.bus_id == bus->id && !send.fade.active())
            return {Status::Code::duplicate_name, fmt::format("{} already sends to {}", path, bus_path)};
    if (s->sends.size() >= max_sends)
        return {Status::Code::limit_reached, fmt::format("{} has {} sends, the most a strip can have", path, max_sends)};
    if (std::isinf(level_db) && level_db < 0) level_db = -120.0;
    if (!(level_db >= -120.0 && level_db <= 12.0))
        return {Status::Code::out_of_range, fmt::format("send level {} dB: out of range [-120, 12]", level_db)};
    if (Status st = impl_->room_for(3); !st) return st;
    const std::uint32_t slot = free_send_slot(*s);
    s->sends.push_back({bus->id, slot, {static_cast<float>(level_db), pre_fader ? 1.0 : 0.0}, {}, {}});
    if (auto cycle = impl_->refuse_cycle([&] { s->sends.pop_back(); }, s->id)) {
        return {Status::Code::cycle, fmt::format("a send from {} to {} would make a cycle: {}", path, bus_path, *cycle)};
    }
    Strip* strip = s->strip.get();
    std::vector<ParamChange> changes(3);
    changes[0] = strip_message(strip, StripMessage::send_level_db, slot, static_cast<float>(level_db));
    changes[1] = strip_message(strip, StripMessage::send_pre_fader, slot, pre_fader ? 1.0f : 0.0f);
    changes[2] = strip_message(strip, StripMessage::send_reset, slot, 0.0f);
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
    auto it = std::find_if(s->sends.begin(), s->sends.end(),
                           [&](const SendModel& m) { return m.bus_id == bus->id && !m.fade.active(); });
    if (it == s->sends.end()) return {Status::Code::unknown_path, fmt::format("{} has no send to {}", path, bus_path)};
    if (Status st = impl_->room_for(1); !st) return st;
    // The send's level fades to silence; the plan drops the send once that has played.
    std::vector<ParamChange> changes(1);
    changes[0] = strip_message(s->strip.get(), StripMessage::send_level_db, it->slot, -120.0f);
    it->fade.sequence = impl_->sequence + 1;
    return impl_->commit_topology(changes);
}

Status Engine::add_effect(std::string_view path, Effect effect) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    StripModel* s = impl_->model.find_path(path);
    if (s == nullptr) return not_found("bus", path);
    if (s->kind == StripKind::track)
        return {Status::Code::invalid_value,
                fmt::format("{}: the named effects go on buses and the master; on a track, add an insert", path)};
    const std::string name = effect_name(effect);
    if (s->find_insert(name) != nullptr) return {Status::Code::duplicate_name, fmt::format("{} has a {} already", path, name)};
    if (Status st = impl_->room_for(0); !st) return st;
    s->inserts.push_back(impl_->new_insert(*find_kind(name), name, true));
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::remove_effect(std::string_view path, Effect effect) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    StripModel* s = impl_->model.find_path(path);
    if (s == nullptr) return not_found("bus", path);
    InsertModel* insert = s->find_insert(effect_name(effect));
    if (insert == nullptr) return {Status::Code::unknown_path, fmt::format("{} has no {}", path, effect_name(effect))};
    return impl_->remove_insert(*insert);
}

namespace {

/// With an insert of `kind` added at the end of the pre or post inserts of `s`: the kind of the
/// first insert that needs a mono signal (ProcessorInfo::mono) and would get a stereo one, or null.
const ProcessorKind* stereo_at_mono_insert(const StripModel& s, const ProcessorKind& kind, bool kind_pre) {
    std::uint32_t channels = s.kind == StripKind::track ? s.channels : 2;
    for (const bool pre : {true, false}) {
        for (const InsertModel& i : s.inserts)
            if (i.pre == pre) {
                if (i.slot.kind->info.mono && channels != 1) return i.slot.kind;
                channels = channels_after(i.slot.kind->info, channels);
            }
        if (kind_pre == pre) {
            if (kind.info.mono && channels != 1) return &kind;
            channels = channels_after(kind.info, channels);
        }
    }
    return nullptr;
}

}  // namespace

Status Engine::add_insert(std::string_view path, std::string_view type, InsertPosition position, std::string* out) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    StripModel* s = impl_->model.find_path(path);
    if (s == nullptr) return not_found("strip", path);
    const ProcessorKind* kind = find_kind(type);
    if (kind == nullptr || !kind->info.insert) {
        std::vector<std::string> types;
        for (const ProcessorKind* k : kinds())
            if (k->info.insert) types.emplace_back(k->info.type);
        std::string list;
        for (const std::string& t : types) list += (list.empty() ? "" : ", ") + t;
        const std::string best = closest_match(type, types);
        return {Status::Code::invalid_value,
                fmt::format("unknown insert type '{}'{} (expected one of: {})", type,
                            best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best), list)};
    }
    if (const ProcessorKind* refused = stereo_at_mono_insert(*s, *kind, position == InsertPosition::pre))
        return {Status::Code::invalid_value,
                fmt::format("{}: a {} insert follows one voice and needs a mono signal, but the signal is stereo there "
                            "({}); put it on a mono track, before any stereo insert",
                            path, refused->info.type,
                            s->kind != StripKind::track ? "buses and the master are stereo"
                            : s->channels == 2          ? "a stereo track"
                                                        : "after a stereo insert")};
    if (Status st = impl_->room_for(0); !st) return st;
    s->inserts.push_back(impl_->new_insert(*kind, {}, position == InsertPosition::pre));
    if (out != nullptr) *out = s->path() + "." + s->insert_prefix(s->inserts.back());
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

Status Engine::remove_insert(std::string_view path) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    const std::size_t dot = path.starts_with("master.") ? 6 : path.find('.', path.find('.') + 1);
    StripModel* s = dot == std::string_view::npos ? nullptr : impl_->model.find_path(path.substr(0, dot));
    InsertModel* insert = s == nullptr ? nullptr : s->find_insert(path.substr(dot + 1));
    if (insert == nullptr) return not_found("insert", path);
    return impl_->remove_insert(*insert);
}

namespace {

/// The strip and the processor slot of "STRIP.compressor" or "STRIP.insert.N" (or a named effect).
SlotModel* find_processor(Model& model, std::string_view path, StripModel*& strip) {
    const std::size_t dot = path.starts_with("master.") ? 6 : path.find('.', path.find('.') + 1);
    strip = dot == std::string_view::npos ? nullptr : model.find_path(path.substr(0, dot));
    if (strip == nullptr) return nullptr;
    const std::string_view rest = path.substr(dot + 1);
    if (rest == "compressor") return &strip->compressor;
    InsertModel* insert = strip->find_insert(rest);
    return insert != nullptr ? &insert->slot : nullptr;
}

}  // namespace

Status Engine::set_sidechain(std::string_view path, std::string_view source) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    Model& model = impl_->model;
    StripModel* strip = nullptr;
    SlotModel* slot = find_processor(model, path, strip);
    if (slot == nullptr)
        return {Status::Code::unknown_path,
                fmt::format("no processor '{}' (expected STRIP.compressor or STRIP.insert.N)", path)};
    if (!slot->kind->info.sidechain)
        return {Status::Code::invalid_value,
                fmt::format("{}: a {} has no sidechain (the dynamics processors have one)", path, slot->kind->info.type)};
    std::uint32_t id = SlotModel::no_source;
    if (!source.empty()) {
        const StripModel* key = model.find_path(source);
        if (key == nullptr || key->kind == StripKind::master)
            return {Status::Code::unknown_path, fmt::format("no strip '{}' to listen to (expected track.NAME or bus.NAME)", source)};
        if (key->id == strip->id)
            return {Status::Code::invalid_value,
                    fmt::format("{} cannot be its own sidechain: without one it listens to its own signal", source)};
        id = key->id;
    }
    if (id == slot->sidechain) return {};
    if (Status st = impl_->room_for(0); !st) return st;
    const std::uint32_t old = slot->sidechain;
    slot->sidechain = id;
    if (auto cycle = impl_->refuse_cycle([&] { slot->sidechain = old; }, id)) {
        return {Status::Code::cycle, fmt::format("{} listening to {} would make a cycle: {}", path, source, *cycle)};
    }
    std::vector<ParamChange> changes;
    return impl_->commit_topology(changes);
}

std::string Engine::sidechain(std::string_view path) const {
    std::lock_guard lock(impl_->mutex);
    StripModel* strip = nullptr;
    const SlotModel* slot = find_processor(impl_->model, path, strip);
    if (slot == nullptr || slot->sidechain == SlotModel::no_source) return {};
    const StripModel* key = impl_->model.find(slot->sidechain);
    return key != nullptr ? key->path() : std::string();
}

std::vector<InsertInfo> Engine::inserts(std::string_view path) const {
    std::lock_guard lock(impl_->mutex);
    std::vector<InsertInfo> out;
    StripModel* s = impl_->model.find_path(path);
    if (s == nullptr) return out;
    for (const InsertModel& i : s->inserts)
        if (!i.fade.active()) {
            const StripModel* key = i.slot.sidechain != SlotModel::no_source ? impl_->model.find(i.slot.sidechain) : nullptr;
            out.push_back({s->path() + "." + s->insert_prefix(i), std::string(i.slot.kind->info.type),
                           i.pre ? InsertPosition::pre : InsertPosition::post, i.latency,
                           key != nullptr ? key->path() : std::string()});
        }
    return out;
}

Status Engine::batch(const std::function<Status()>& edits) {
    std::lock_guard lock(impl_->mutex);
    ++impl_->batch_depth;
    Status result = edits();
    --impl_->batch_depth;
    if (impl_->batch_depth == 0 && impl_->publish_pending) impl_->publish();
    return result;
}

}  // namespace rtmix
