// Engine::Impl: the control side of the engine (model, queues, plan publication, garbage
// collection). Private; shared by engine.cpp (parameters, meters, events) and
// engine_routing.cpp (topology calls). Every member runs on the control side, under `mutex`.
#pragma once

#include <algorithm>
#include <cmath>
#include <sched.h>

#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "control/params.hpp"
#include "control/plan_mailbox.hpp"
#include "graph/compile.hpp"
#include "graph/executor.hpp"
#include "processors/master_chain.hpp"
#include "processors/limiter.hpp"
#include "rtmix/engine.hpp"
#include "model/model.hpp"

namespace rtmix {

using namespace rtmix::engine;

inline constexpr std::size_t event_queue_capacity = 1024;

struct Engine::Impl {
    explicit Impl(const EngineOptions& o)
        : options(o),
          queue_capacity(std::max<std::uint32_t>(o.param_queue_capacity, 16)),
          params(queue_capacity),
          events(event_queue_capacity),
          records(std::max<std::size_t>(queue_capacity, 1024)),
          executor(o.max_block_frames, std::max<std::uint32_t>(o.param_queue_capacity, 16), params, mailbox, events,
                   records, executor_threads(o)),
          recorders(max_recorded) {}

    static Executor::Threads executor_threads(const EngineOptions& o) {
        Executor::Threads t;
        // Automatic: workers only where they can share the audio thread's real-time class.
        t.count = o.threads != 0 ? o.threads : o.worker_priority > 0 ? usable_cores() : 1;
        t.parallel_min_nodes = o.parallel_min_nodes;
        t.priority = o.worker_priority;
        t.on_worker_start = o.on_worker_start;
        return t;
    }

    EngineOptions options;
    std::uint32_t queue_capacity;
    mutable std::recursive_mutex mutex;  // control side only; the audio thread never sees it
    Model model;
    ParamQueue params;
    EventQueue events;
    RecordQueue records;
    PlanMailbox mailbox;
    Executor executor;  // after the queues and mailbox: destroyed first

    /// The control side of a recorded parameter (Engine::record()): the stretch being written,
    /// as the audio thread reports it, until it ends and is merged into the lane.
    struct Recorder {
        std::uint32_t serial = 0;  // the arming; 0: free
        bool armed = false;        // false: disarmed, freed once the audio thread has applied it
        std::uint64_t freed_after = 0;  // the sequence of the disarm command
        std::string path;          // for messages
        double tolerance = 0.0;    // thinning (logarithmic: of the natural logarithm)
        bool logarithmic = false;
        bool open = false;
        bool lost = false;         // reports were lost while it was open
        std::int64_t begin = 0;
        std::vector<Breakpoint> points;
    };
    std::vector<Recorder> recorders;  // by slot
    std::uint32_t next_serial = 1;
    std::uint32_t next_slot = 0;      // slots are handed out in turn (a freed one is reused last)
    std::uint64_t records_lost_seen = 0;
    std::vector<Event> recorder_events;  // for poll_events()

    /// Takes the recorder's reports; merges each ended stretch into its lane (engine_automation.cpp).
    void take_records();
    void merge_stretch(Recorder& r, std::int64_t end, double junction);

    std::uint64_t sequence = 0;  // of the last change pushed
    std::uint64_t plans_published = 0;
    std::uint32_t batch_depth = 0;
    bool publish_pending = false;
    std::uint32_t latency = 0;
    std::uint64_t events_lost_reported = 0;
    bool scheduling_reported = false;

    // Objects removed from the model, freed once no plan holds them and every change sent
    // before their removal has been applied (so no queued message points at freed memory).
    struct Retired {
        std::shared_ptr<void> object;
        std::uint64_t sent_through;
    };
    std::vector<Retired> graveyard;
    std::unordered_map<std::uint32_t, std::string> removed_paths;

    ProcessorSetup setup() const { return {options.sample_rate, options.smoothing_ms, options.max_block_frames}; }

    /// A new strip with the next stable id and its audio-side state (allocated here, on the
    /// control side), every value at its default; the caller adds it to the model.
    StripModel new_strip(StripKind kind, std::string_view name, std::uint32_t channels) {
        StripModel m;
        m.id = kind == StripKind::master ? 0 : model.next_id++;
        m.kind = kind;
        m.name = std::string(name);
        m.channels = channels;
        for (const ParamInfo& p : strip_params()) m.values.push_back(p.def);
        m.strip = std::make_shared<Strip>(m.id, channels, options.sample_rate, options.smoothing_ms,
                                          options.max_block_frames);
        m.eq = SlotModel::make(eq_kind, {}, &m.strip->eq_processor());
        m.compressor = SlotModel::make(compressor_kind, {}, &m.strip->compressor_processor());
        if (kind == StripKind::master) {
            m.chain = std::make_shared<MasterChain>(options.sample_rate, options.smoothing_ms, options.loudness_meter);
            m.limiter = SlotModel::make(limiter_kind, master_limiter_params(), m.chain.get());
        }
        return m;
    }

    /// A new insert of `kind`, on and at its defaults, not yet visible to the audio thread.
    InsertModel new_insert(const ProcessorKind& kind, std::string name, bool pre) {
        const std::span<const ParamInfo> own = kind.info.params;
        const auto own_enabled = static_cast<std::uint32_t>(
            std::find_if(own.begin(), own.end(), [](const ParamInfo& p) { return p.key == "enabled"; }) - own.begin());
        const std::span<const ParamInfo> extras = insert_params(kind.info);
        const auto first = static_cast<std::uint16_t>(extras.empty() ? 0 : extras.data() - insert_params().data());
        const auto count = static_cast<std::uint16_t>(extras.size());
        InsertModel m;
        m.name = std::move(name);
        m.pre = pre;
        const std::uint32_t max_latency = kind.max_latency_frames ? kind.max_latency_frames(options.sample_rate) : 0;
        const auto own_count = static_cast<std::uint16_t>(own.size() * kind.info.groups);
        m.unit = std::make_shared<Insert>(kind.create(setup()), setup(), own_count, first, count, kind.info.stereo,
                                          kind.info.sidechain, max_latency);
        m.slot = SlotModel::make(kind, extras, m.unit.get());
        if (own_enabled < own.size()) {  // an insert is on when added
            m.slot.values[own_enabled] = 1.0;
            m.unit->apply(static_cast<std::uint16_t>(own_enabled), 0, 1.0f);
        }
        m.latency = m.slot.latency_frames(options.sample_rate);
        m.unit->apply(Insert::set_latency, 0, static_cast<float>(m.latency));
        return m;
    }

    void collect() {
        while (mailbox.collect()) {
        }
        take_records();
        const std::uint64_t applied = executor.applied_through();
        std::erase_if(graveyard, [&](const Retired& r) { return r.object.use_count() == 1 && applied >= r.sent_through; });
        finish_fades(false);
    }

    /// How long a removed item keeps playing while it fades: the smoothing ramp (at least 20 ms,
    /// the reverb's and the delay's own mix ramp) and one block of margin, in frames.
    std::uint64_t fade_frames() const {
        const double ms = std::max(20.0, static_cast<double>(options.smoothing_ms));
        return static_cast<std::uint64_t>(std::ceil(ms * 1e-3 * options.sample_rate)) + options.max_block_frames;
    }

    /// Takes removed sends, effects and strips out of the render plan once their fade has played
    /// (all of them at once if `now`), and publishes the smaller plan.
    void finish_fades(bool now) {
        const std::uint64_t applied = executor.applied_through();  // acquire: orders frames() after
        const std::uint64_t frames = executor.frames();
        const std::uint64_t needed = fade_frames();
        auto done = [&](Fade& f) {
            if (now) return true;
            if (f.started_at_frame == UINT64_MAX && applied >= f.sequence) f.started_at_frame = frames;
            return f.started_at_frame != UINT64_MAX && frames >= f.started_at_frame + needed;
        };
        bool changed = false;
        auto sweep = [&](StripModel& s) {
            changed |= std::erase_if(s.sends, [&](SendModel& send) { return send.fade.active() && done(send.fade); }) > 0;
            changed |= std::erase_if(s.inserts, [&](InsertModel& i) {
                           if (!i.fade.active() || !done(i.fade)) return false;
                           retire(i.unit);
                           return true;
                       }) > 0;
        };
        for (StripModel& s : model.strips) sweep(s);
        for (StripModel& s : model.fading) sweep(s);
        changed |= std::erase_if(model.fading, [&](StripModel& s) {
                       if (!done(s.fade)) return false;
                       retire(s.strip);
                       for (InsertModel& i : s.inserts) retire(i.unit);
                       return true;
                   }) > 0;
        if (changed) publish();
    }

    /// After a routing edit that added edges from strip `from` only: the cycle it made, if any.
    /// Only what `from` reaches is searched (a large mix is not searched whole at every edit); a
    /// cycle found is named by the full search. A removed send still fading out may be what
    /// closes it: the fades end at once, and if a cycle remains, `undo` takes the edit back
    /// (before any plan of the cyclic model could be compiled).
    std::optional<std::string> refuse_cycle(const std::function<void()>& undo, std::uint32_t from) {
        if (!model.reaches_itself(from)) return std::nullopt;
        auto cycle = model.find_cycle();
        if (!cycle) return cycle;
        ++batch_depth;  // no plan of the cyclic model: publish once the edit is undone
        finish_fades(true);
        --batch_depth;
        cycle = model.find_cycle();
        if (cycle) undo();
        if (publish_pending && batch_depth == 0) publish();
        return cycle;
    }

    /// Frames the master limiter delays the mix by: its lookahead while enabled.
    std::uint32_t master_latency() const {
        const SlotModel& limiter = model.strips.front().limiter;
        if (limiter.values[limiter.own_count()] == 0.0) return 0;  // master_limiter_params(): enabled
        return limiter.latency_frames(options.sample_rate);
    }

    /// Takes an insert out: it crossfades to its dry input, and the plan drops it once that has
    /// played (finish_fades). Its path is free at once.
    Status remove_insert(InsertModel& insert) {
        if (Status st = room_for(1); !st) return st;
        std::vector<ParamChange> changes(1);
        changes[0].target = insert.unit.get();
        changes[0].param = Insert::fade_out;
        insert.fade.sequence = sequence + 1;
        return commit_topology(changes);
    }

    void retire(std::shared_ptr<void> object) { graveyard.push_back({std::move(object), sequence}); }

    /// Pushes every change or none; stamps them with sequence numbers.
    Status push(std::vector<ParamChange>& changes, std::uint32_t sample_offset = 0) {
        if (Status s = room_for_messages(changes.size()); !s) return s;
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
        std::unique_ptr<RenderPlan> plan =
            compile_plan(model, options.max_block_frames, options.sample_rate, options.track_group);
        latency = plan->latency_frames + master_latency();
        plan->after_sequence = sequence;
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

    /// Checked before a routing call edits the model, so that its messages (`n` of its own plus
    /// the mute updates it may cause) are certain to fit afterwards: the control side is the only
    /// producer, and the audio thread only makes room.
    Status room_for(std::size_t n) {
        // Without a solo, a routing change leaves every effective mute as it was; with one, it
        // may change the mute of any strip (and of one more, a strip being added).
        bool any_solo = false;
        for (const auto& s : model.strips) any_solo = any_solo || s.flag(StripMessage::solo);
        const std::size_t mutes = any_solo ? model.strips.size() + 1 : 0;
        return room_for_messages(n + mutes);
    }

    Status room_for_messages(std::size_t n) {
        if (n > queue_capacity)
            return {Status::Code::limit_reached,
                    fmt::format("this change needs {} messages to the audio thread but the parameter queue "
                                "holds {}; nothing was changed (raise EngineOptions::param_queue_capacity)",
                                n, queue_capacity)};
        if (params.write_available() < n)
            return {Status::Code::queue_full,
                    "parameter queue full: the audio thread has not taken the earlier changes yet; nothing "
                    "was changed, try again after the next block"};
        return {};
    }

    std::uint32_t next_input_channel() const {
        std::uint32_t next = 0;
        for (const auto& s : model.strips)
            if (s.kind == StripKind::track) next = std::max(next, s.input_channel + s.channels);
        return next;
    }

    /// Sets a resolved parameter to a valid value: model first, then the messages; all or nothing.
    Status set_resolved(const ResolvedParam& p, double value, std::uint32_t sample_offset) {
        const double old = read_param(p);
        write_param(p, value, options.sample_rate);
        std::vector<ParamChange> changes;
        param_changes(p, changes);
        std::vector<bool> mutes;
        if (affects_mutes(p)) mute_changes(model, mutes, changes);
        // An insert whose latency this changes: its dry path follows.
        std::uint32_t insert_latency = 0;
        if (p.insert != nullptr && p.param->latency) {
            insert_latency = p.insert->slot.latency_frames(options.sample_rate);
            ParamChange c;
            c.target = p.insert->unit.get();
            c.param = Insert::set_latency;
            c.value = static_cast<float>(insert_latency);
            changes.push_back(c);
        }
        if (Status s = push(changes, sample_offset); !s) {
            write_param(p, old, options.sample_rate);
            return s;
        }
        if (!mutes.empty()) commit_mutes(model, mutes);
        if (p.param->latency) {
            if (p.insert != nullptr) p.insert->latency = insert_latency;
            publish();  // the graph's compensation follows (the master chain's latency comes on top)
        }
        return {};
    }

    Status set_number(std::string_view path, double value, std::uint32_t sample_offset) {
        ResolvedParam p;
        if (Status s = resolve_param(model, path, options.sample_rate, p); !s) return s;
        if (std::isinf(value) && value < 0 && p.param->minus_inf) value = p.min;  // -inf dB: silence
        if (Status s = validate_number(p, path, value); !s) return s;
        return set_resolved(p, value, sample_offset);
    }
};


}  // namespace rtmix
