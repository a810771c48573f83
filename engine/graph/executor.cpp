#include "graph/executor.hpp"

#include <algorithm>
#include <cstring>

#include <sched.h>

#include "dsp/eq_lanes.hpp"
#include "graph/compile.hpp"
#include "graph/denormals.hpp"

namespace rtmix::engine {

namespace {

/// The first grid point of the timeline at or after `frame`.
std::int64_t grid_at_or_after(std::int64_t frame) noexcept {
    const std::int64_t g = Executor::automation_grid;
    const std::int64_t r = ((frame % g) + g) % g;
    return r == 0 ? frame : frame + (g - r);
}

}  // namespace

Executor::Executor(std::uint32_t max_block_frames, std::uint32_t pending_capacity, ParamQueue& params,
                   PlanMailbox& mailbox, EventQueue& events, RecordQueue& records, const Threads& threads)
    : max_block_frames_(max_block_frames),
      params_(params),
      mailbox_(mailbox),
      events_(events),
      records_(records),
      rec_(max_recorded),
      waiting_(std::max<std::uint32_t>(pending_capacity, 1)),
      taps_(static_cast<std::size_t>(max_sends) * std::max<std::uint32_t>(threads.count, 1)),
      parallel_min_nodes_(std::max<std::uint32_t>(threads.parallel_min_nodes, 1)) {
    if (threads.count > 1) pool_ = std::make_unique<WorkerPool>(threads.count - 1, threads.priority, threads.on_worker_start);
    if (pool_ && !pool_->scheduling_note().empty()) {
        // Workers that could not get the audio thread's real-time class would make it wait on
        // them: the mix runs on the audio thread alone.
        scheduling_note_ = pool_->scheduling_note();
        pool_.reset();
    }
}

Executor::~Executor() {
    pool_.reset();  // the workers stop before the plan they might point at goes
    delete plan_;
    delete held_;
}

void Executor::process(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                       std::uint32_t frames) noexcept {
    const DenormalsOff guard;
    std::uint32_t done = 0;
    while (done < frames) {
        const std::uint32_t n = std::min(frames - done, max_block_frames_);
        run_chunk(inputs, input_channels, outputs, done, n);
        done += n;
    }
}

void Executor::run_chunk(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                         std::uint32_t offset, std::uint32_t frames) noexcept {
    apply_due(0);  // changes that waited for this frame came before anything in the queue now
    drain_queue();
    hold_newest_plan();
    swap_plan_if_due();
    if (!started_) {
        started_ = true;
        if (plan_ != nullptr) {
            run_lanes(true);  // the lanes' values stand at frame 0 too
            lanes_fresh_ = true;
            settle_plan();
        }
    }

    std::uint32_t pos = 0;
    while (pos < frames) {
        apply_due(pos);
        swap_plan_if_due();
        std::uint32_t next = frames;
        if (waiting_count_ > 0) next = std::min(next, waiting_[0].sample_offset);
        if (plan_ != nullptr && !plan_->lanes.empty()) {
            // Automation: read at every grid point of the timeline while it rolls, so the result
            // does not depend on where blocks begin. Strips take their lanes' values scheduled
            // inside the run; a processor's lane makes the run end at the next grid point.
            const std::int64_t phase = ((timeline_ % automation_grid) + automation_grid) % automation_grid;
            if (lanes_fresh_ || (rolling_ && phase == 0)) run_lanes(false);
            if (rolling_ && plan_->lanes_split_runs)
                next = std::min<std::uint32_t>(next, pos + static_cast<std::uint32_t>(automation_grid - phase));
            if (rolling_) schedule_lanes(next - pos);
        }
        if (plan_ != nullptr)
            run_nodes(inputs, input_channels, outputs, offset, pos, next - pos);
        else if (outputs != nullptr)
            for (int c = 0; c < 2; ++c)
                if (outputs[c] != nullptr) std::memset(outputs[c] + offset + pos, 0, (next - pos) * sizeof(float));
        if (rolling_) timeline_ += next - pos;
        pos = next;
    }
    for (std::uint32_t i = 0; i < waiting_count_; ++i) waiting_[i].sample_offset -= frames;

    if (plan_ != nullptr)
        for (const PlanNode& node : plan_->nodes) node.strip->publish_meter(frames);
    frames_.store(frames_.load(std::memory_order_relaxed) + frames, std::memory_order_relaxed);
    publish_progress();
}

void Executor::drain_queue() noexcept {
    ParamChange change;
    while (waiting_count_ < waiting_.size() && params_.pop(change)) {
        last_popped_ = change.sequence;
        // Changes never overtake each other: one sent after a change that still waits for its
        // frame lands at that frame at the earliest. So the list stays sorted by appending, and
        // the last change sent is the one that stays.
        if (waiting_count_ > 0)
            change.sample_offset = std::max(change.sample_offset, waiting_[waiting_count_ - 1].sample_offset);
        if (change.sample_offset == 0 && waiting_count_ == 0) {
            apply(change);
            continue;
        }
        waiting_[waiting_count_++] = change;
    }
    // A full list leaves the rest in the queue for the next block; say so once.
    const bool full = waiting_count_ == waiting_.size() && params_.read_available() > 0;
    if (full && !reported_full_) report({AudioEvent::Code::changes_delayed, 0});
    reported_full_ = full;
}

void Executor::hold_newest_plan() noexcept {
    RenderPlan* next = mailbox_.take_pending();
    if (next == nullptr) return;
    // A plan replaced before its frame came is never run (take_pending() left room for it).
    if (held_ != nullptr) (void)mailbox_.retire(held_);
    held_ = next;
}

std::uint64_t Executor::applied_now() const noexcept {
    std::uint64_t through = last_popped_;
    if (waiting_count_ > 0) through = std::min(through, waiting_[0].sequence - 1);
    return through;
}

void Executor::swap_plan_if_due() noexcept {
    if (held_ == nullptr || held_->after_sequence > applied_now()) return;
    if (plan_ != nullptr && !mailbox_.can_retire()) return;  // the control side is behind: next block
    // The strips take their outputs' latency compensation (and any larger memory for it) while
    // the plan they leave still stands.
    for (const PlanNode& node : held_->nodes)
        for (std::uint32_t e = 0; e < node.edge_count; ++e) {
            const PlanEdge& edge = held_->edges[node.first_edge + e];
            node.strip->adopt_delay(edge.edge, edge.memory, edge.frames);
        }
    for (const PlanKeyDelay& key : held_->key_delays) key.delay->adopt(key.memory, key.frames);
    // A lane that carries on into the new plan keeps its state (a set() holding it, its cursor);
    // a recorded parameter whose lane the recorder replaced keeps the value last sent (the new
    // lane plays what was written: nothing to send again).
    if (plan_ != nullptr)
        for (PlanLane& lane : held_->lanes)
            for (const PlanLane& old : plan_->lanes)
                if (old.address.target == lane.address.target && old.address.param == lane.address.param &&
                    old.address.slot == lane.address.slot) {
                    if (old.data == lane.data) {
                        lane.cursor = old.cursor;
                        lane.held_until = old.held_until;
                        lane.last = old.last;
                        lane.sent = old.sent;
                    } else if (lane.rec >= 0 && old.rec == lane.rec) {
                        lane.last = old.last;
                        lane.sent = old.sent;
                    }
                    break;
                }
    if (armed_ > 0 || !held_->lanes.empty()) adopt_recording(*held_);
    if (plan_ != nullptr) (void)mailbox_.retire(plan_);
    plan_ = held_;
    held_ = nullptr;
    lanes_fresh_ = true;
}

void Executor::run_lanes(bool snap) noexcept {
    lanes_fresh_ = false;
    if (plan_ == nullptr) return;
    const std::int64_t now = timeline_;
    const std::int64_t phase = ((now % automation_grid) + automation_grid) % automation_grid;
    const bool ahead = rolling_ && !snap;
    // Rolling: the value at the next grid point, reached there. Stopped: the value here, within
    // a grid's time (a locate lands on the lane's value, declicked).
    const std::int64_t at = ahead ? now + (automation_grid - phase) : now;
    const auto ramp = static_cast<std::uint32_t>(ahead ? at - now : automation_grid);
    if (touch_deadline_ <= now && rolling_) expire_touches(now);
    for (PlanLane& lane : plan_->lanes) {
        if (lane.held_until > now) continue;
        const auto value = static_cast<float>(lane_value(lane, at));
        if (lane.sent && value == lane.last) continue;  // a flat stretch costs one comparison
        lane.last = value;
        lane.sent = true;
        if (lane.ramped && !snap)
            lane.address.target->apply_ramped(lane.address.param, lane.address.slot, value, ramp);
        else
            lane.address.target->apply(lane.address.param, lane.address.slot, value);
    }
}

void Executor::schedule_lanes(std::uint32_t frames) noexcept {
    const std::int64_t phase = ((timeline_ % automation_grid) + automation_grid) % automation_grid;
    // Grid points strictly inside the run (the one at its start, if any, was read by run_lanes()).
    for (auto o = static_cast<std::uint32_t>(automation_grid - phase); o < frames;
         o += static_cast<std::uint32_t>(automation_grid)) {
        const std::int64_t here = timeline_ + o;
        if (touch_deadline_ <= here) expire_touches(here);
        for (PlanLane& lane : plan_->lanes) {
            if (lane.strip == nullptr || lane.held_until > here) continue;
            const auto value = static_cast<float>(lane_value(lane, here + automation_grid));
            if (lane.sent && value == lane.last) continue;
            lane.last = value;
            lane.sent = true;
            lane.strip->schedule(o, lane.address.param, lane.address.slot, value,
                                 static_cast<std::uint32_t>(automation_grid));
        }
    }
}

void Executor::hold_lanes_of(const ParamChange& change) noexcept {
    for (PlanLane& lane : plan_->lanes)
        if (lane.address.target == change.target && lane.address.param == change.param &&
            lane.address.slot == change.slot) {
            if (lane.data == nullptr) {  // recorded, without a lane: it stands at the value set
                lane.last = change.value;
                lane.sent = true;
                continue;
            }
            lane.held_until = lane.data->next_point_after(timeline_);
            lane.sent = false;  // when the lane takes over again, it sends its value
        }
}

// --- Recording -----------------------------------------------------------------------------------

double Executor::old_value(PlanLane& lane, const RecState& r, std::int64_t x) noexcept {
    return lane.data != nullptr ? lane.data->value_at(x, lane.cursor) : r.base;
}

double Executor::rec_value(PlanLane& lane, RecState& r, std::int64_t x) noexcept {
    if (x < r.from.frame || x >= r.curve_end) return old_value(lane, r, x);
    if (x < r.to.frame) return segment_value(r.from, r.to, static_cast<double>(x));
    return r.to.value;
}

Executor::RecState* Executor::state_of(const PlanLane& lane) noexcept {
    if (lane.rec < 0) return nullptr;
    RecState& r = rec_[static_cast<std::size_t>(lane.rec)];
    return r.serial == lane.rec_serial ? &r : nullptr;  // else disarmed, ahead of the plan
}

double Executor::lane_value(PlanLane& lane, std::int64_t x) noexcept {
    if (lane.rec >= 0) {
        if (RecState* r = state_of(lane)) return rec_value(lane, *r, x);
        if (lane.data == nullptr) return lane.last;
    }
    return lane.data->value_at(x, lane.cursor);
}

void Executor::record(const RecState& r, std::uint32_t slot, RecordReport::Kind kind, std::int64_t frame,
                      double value, Shape shape) noexcept {
    RecordReport report;
    report.frame = frame;
    report.value = value;
    report.serial = r.serial;
    report.slot = static_cast<std::uint16_t>(slot);
    report.kind = kind;
    report.shape = shape;
    if (!records_.push(report)) records_lost_.store(records_lost_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Executor::write_change(PlanLane& lane, RecState& r, double value, std::int64_t at) noexcept {
    const auto slot = static_cast<std::uint32_t>(lane.rec);
    // From the value the parameter has at `at` (what was sent for it already), to the new one.
    const double from = rec_value(lane, r, at);
    if (!r.writing) record(r, slot, RecordReport::Kind::begin, at, 0.0, Shape::hold);
    r.writing = true;
    r.from = {at, from, lane.stepped ? Shape::hold : Shape::linear};
    r.to = {at + (lane.stepped ? automation_grid : static_cast<std::int64_t>(lane.glide)), value, Shape::hold};
    r.curve_end = INT64_MAX;
    record(r, slot, RecordReport::Kind::cut_point, r.from.frame, r.from.value, r.from.shape);
    record(r, slot, RecordReport::Kind::point, r.to.frame, r.to.value, r.to.shape);
    lane.held_until = INT64_MIN;
    if (r.mode == AutomationMode::touch && lane.touch_timeout > 0) {
        r.touch_end = at + lane.touch_timeout;
        touch_deadline_ = std::min(touch_deadline_, r.touch_end);
    }
}

void Executor::write_constant(PlanLane& lane, RecState& r, double value, std::int64_t at) noexcept {
    const auto slot = static_cast<std::uint32_t>(lane.rec);
    if (!r.writing) record(r, slot, RecordReport::Kind::begin, at, 0.0, Shape::hold);
    r.writing = true;
    r.from = r.to = {at, value, Shape::hold};
    r.curve_end = INT64_MAX;
    record(r, slot, RecordReport::Kind::cut_point, at, value, Shape::hold);
    lane.held_until = INT64_MIN;
    if (r.mode == AutomationMode::touch && lane.touch_timeout > 0) {
        r.touch_end = grid_at_or_after(at) + lane.touch_timeout;
        touch_deadline_ = std::min(touch_deadline_, r.touch_end);
    }
}

void Executor::let_go(PlanLane& lane, RecState& r, std::int64_t frame) noexcept {
    const auto slot = static_cast<std::uint32_t>(lane.rec);
    const std::int64_t at = grid_at_or_after(frame);
    const std::int64_t back = at + (lane.stepped ? automation_grid : static_cast<std::int64_t>(lane.glide));
    const Breakpoint from{at, rec_value(lane, r, at), lane.stepped ? Shape::hold : Shape::linear};
    const double there = old_value(lane, r, back);
    record(r, slot, RecordReport::Kind::cut_point, from.frame, from.value, from.shape);
    record(r, slot, RecordReport::Kind::end, back, there, Shape::hold);
    r.from = from;
    r.to = {back, there, Shape::hold};
    r.curve_end = back;  // the lane from there
    r.writing = false;
    r.touch_end = INT64_MAX;
}

void Executor::end_stretch(PlanLane& lane, RecState& r, std::int64_t frame, bool cut) noexcept {
    const auto slot = static_cast<std::uint32_t>(lane.rec);
    // The last value played was read at the grid point at or after `frame`: the written curve
    // holds to there (and to the end of a glide under way, unless cut), the lane from the next frame.
    const std::int64_t last = grid_at_or_after(frame);
    if (cut && r.to.frame > last) {
        const Breakpoint here{last, rec_value(lane, r, last), Shape::hold};
        record(r, slot, RecordReport::Kind::cut_point, here.frame, here.value, here.shape);
        r.to = here;
        if (r.from.frame > last) r.from = here;
    }
    const std::int64_t back = std::max(last, r.to.frame) + 1;
    const double there = old_value(lane, r, back);
    record(r, slot, RecordReport::Kind::end, back, there, Shape::hold);
    r.curve_end = back;
    r.writing = false;
    r.touch_end = INT64_MAX;
}

PlanLane* Executor::recorded_lane(const ParamChange& change, RecState*& state) noexcept {
    state = nullptr;
    if (plan_ == nullptr) return nullptr;
    for (PlanLane& lane : plan_->lanes)
        if (lane.rec >= 0 && lane.address.target == change.target && lane.address.param == change.param &&
            lane.address.slot == change.slot) {
            state = state_of(lane);
            return state != nullptr ? &lane : nullptr;
        }
    return nullptr;
}

bool Executor::record_change(const ParamChange& change) noexcept {
    RecState* state = nullptr;
    PlanLane* lane = recorded_lane(change, state);
    if (lane == nullptr) return false;
    RecState& r = *state;
    if (!rolling_) {
        r.base = change.value;  // stopped: set as usual; without a lane, its value from now on
        return false;
    }
    write_change(*lane, r, change.value, grid_at_or_after(timeline_));
    return true;
}

bool Executor::release_touch(const ParamChange& change) noexcept {
    RecState* state = nullptr;
    PlanLane* lane = recorded_lane(change, state);
    if (lane == nullptr) return false;
    RecState& r = *state;
    if (!r.writing || r.mode != AutomationMode::touch) return lane->data == nullptr;
    let_go(*lane, r, timeline_);
    return true;
}

void Executor::expire_touches(std::int64_t now) noexcept {
    touch_deadline_ = INT64_MAX;
    for (RecState& r : rec_) {
        if (r.serial == 0 || r.lane == nullptr) continue;
        if (r.writing && r.touch_end <= now) let_go(*r.lane, r, r.touch_end);
        if (r.writing) touch_deadline_ = std::min(touch_deadline_, r.touch_end);
    }
}

void Executor::adopt_recording(RenderPlan& next) noexcept {
    // Disarmed (the new plan does not record the slot's arming): a stretch being written ends
    // here, on the old plan's lane.
    for (std::uint32_t i = 0; i < rec_.size() && armed_ > 0; ++i) {
        RecState& r = rec_[i];
        if (r.serial == 0) continue;
        bool kept = false;
        for (const PlanLane& lane : next.lanes) kept = kept || (lane.rec == static_cast<std::int32_t>(i) && lane.rec_serial == r.serial);
        if (kept) continue;
        if (r.writing && r.lane != nullptr) end_stretch(*r.lane, r, timeline_, true);
        r = RecState{};
        --armed_;
    }
    for (PlanLane& lane : next.lanes) {
        if (lane.rec < 0) continue;
        RecState& r = rec_[static_cast<std::size_t>(lane.rec)];
        if (r.serial != lane.rec_serial) {  // newly armed
            r = RecState{};
            r.serial = lane.rec_serial;
            r.base = lane.base;
            ++armed_;
        }
        const AutomationMode was = r.mode;
        r.mode = lane.rec_mode;
        r.lane = &lane;
        if (r.mode == AutomationMode::write && !r.writing && rolling_) {
            const std::int64_t at = grid_at_or_after(timeline_);
            write_constant(lane, r, rec_value(lane, r, at), at);
        } else if (r.writing && was != r.mode) {
            r.touch_end = r.mode == AutomationMode::touch && lane.touch_timeout > 0
                              ? grid_at_or_after(timeline_) + lane.touch_timeout
                              : INT64_MAX;
            touch_deadline_ = std::min(touch_deadline_, r.touch_end);
        }
    }
}

void Executor::timeline_moves(std::int64_t frame, bool rolling) noexcept {
    if (plan_ == nullptr) return;
    for (RecState& r : rec_) {
        if (r.serial == 0 || r.lane == nullptr) continue;
        PlanLane& lane = *r.lane;
        if (rolling_ && r.writing) {
            // A stop or a jump ends the stretch; rolling on elsewhere, the value written goes on
            // (touch and latch stay written, write writes), stopped, touch and latch let go.
            const double value = r.to.value;
            end_stretch(lane, r, timeline_, false);
            if (rolling) write_constant(lane, r, value, frame);
        } else if (rolling && !rolling_ && r.mode == AutomationMode::write) {
            write_constant(lane, r, rec_value(lane, r, frame), frame);
        }
    }
}

void Executor::settle_plan() noexcept {
    for (const PlanNode& node : plan_->nodes) node.strip->settle();
    for (Insert* insert : plan_->inserts) insert->reset();
    for (const PlanKeyDelay& key : plan_->key_delays) key.delay->settle();
    if (plan_->master_chain != nullptr) plan_->master_chain->settle();
}

void Executor::report(AudioEvent event) noexcept {
    if (!events_.push(event))
        events_lost_.store(events_lost_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Executor::apply_due(std::uint32_t pos) noexcept {
    std::uint32_t due = 0;
    while (due < waiting_count_ && waiting_[due].sample_offset <= pos) apply(waiting_[due++]);
    if (due == 0) return;
    std::copy(waiting_.begin() + due, waiting_.begin() + waiting_count_, waiting_.begin());
    waiting_count_ -= due;
}

void Executor::apply(const ParamChange& change) noexcept {
    if (change.target != nullptr && change.kind == ParamChange::release_lane) {
        // A touch being written lets go; otherwise the lane takes over again from a set().
        if ((armed_ == 0 || !release_touch(change)) && plan_ != nullptr)
            for (PlanLane& lane : plan_->lanes)
                if (lane.address.target == change.target && lane.address.param == change.param &&
                    lane.address.slot == change.slot) {
                    lane.held_until = INT64_MIN;
                    lane.sent = false;
                    lanes_fresh_ = true;  // read it now, not at the next grid point
                }
    } else if (change.target != nullptr) {
        if (armed_ == 0 || !record_change(change)) {
            change.target->apply(change.param, change.slot, change.value);
            if (plan_ != nullptr && !plan_->lanes.empty()) hold_lanes_of(change);
        }
    }
    else if (change.param == disarm_command) {
        RecState& r = rec_[change.slot % rec_.size()];
        if (r.serial != 0) {
            if (r.writing && r.lane != nullptr && rolling_) end_stretch(*r.lane, r, timeline_, true);
            r = RecState{};
            --armed_;
        }
    }
    else if (change.param == reset_meters_command && plan_ != nullptr) {
        for (const PlanNode& node : plan_->nodes) node.strip->reset_meter_holds();
        if (plan_->master_chain != nullptr) plan_->master_chain->reset_meters();
    }
    applied_.store(applied_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Executor::publish_progress() noexcept {
    applied_through_.store(applied_now(), std::memory_order_release);
    blocks_.store(blocks_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Executor::run_nodes(const float* const* inputs, std::uint32_t input_channels, float* const* outputs,
                         std::uint32_t call_offset, std::uint32_t pos, std::uint32_t frames) noexcept {
    RenderPlan& plan = *plan_;
    run_ = Run{this, inputs, input_channels, outputs, call_offset, pos, frames};
    const auto n = static_cast<std::uint32_t>(plan.nodes.size());
    const auto tasks = static_cast<std::uint32_t>(plan.tasks.size());
    ParallelState& par = *plan.parallel;
    if (!pool_ || n < parallel_min_nodes_ || tasks < 2) {
        for (std::uint32_t t = 0; t < tasks; ++t) run_task(run_, t, taps_.data(), par.non_finite.data());
        for (std::uint32_t i = 0; i < n; ++i)
            if (par.non_finite[i] != 0) report({AudioEvent::Code::non_finite_signal, plan.nodes[i].strip->id()});
        return;
    }
    par.ready.clear(tasks);
    for (std::uint32_t t = 0; t < tasks; ++t) par.waiting[t].store(plan.tasks[t].dependencies, std::memory_order_relaxed);
    par.remaining.store(tasks, std::memory_order_relaxed);
    for (std::uint32_t t = 0; t < tasks; ++t)
        if (plan.tasks[t].dependencies == 0) par.ready.push(t);
    pool_->run(&Executor::parallel_job, &run_);  // the release in run() publishes the state above
    for (std::uint32_t i = 0; i < n; ++i)
        if (par.non_finite[i] != 0) report({AudioEvent::Code::non_finite_signal, plan.nodes[i].strip->id()});
}

void Executor::parallel_job(void* context, std::uint32_t participant) noexcept {
    const Run& run = *static_cast<const Run*>(context);
    Executor& self = *run.executor;
    RenderPlan& plan = *self.plan_;
    ParallelState& par = *plan.parallel;
    const DenormalsOff guard;  // the workers' own floating-point mode, like the audio thread's
    StripIo::SendTap* taps = self.taps_.data() + static_cast<std::size_t>(participant) * max_sends;
    Backoff backoff;
    while (par.remaining.load(std::memory_order_acquire) > 0) {
        std::uint32_t t = 0;
        if (!par.ready.pop(t)) {
            backoff.pause();  // nothing runnable until a task in progress finishes
            continue;
        }
        backoff.reset();
        self.run_task(run, t, taps, par.non_finite.data());
        const PlanTask& task = plan.tasks[t];
        for (std::uint32_t d = 0; d < task.dependant_count; ++d) {
            const std::uint32_t j = plan.dependants[task.first_dependant + d];
            if (par.waiting[j].fetch_sub(1, std::memory_order_acq_rel) == 1) par.ready.push(j);
        }
        par.remaining.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void Executor::run_task(const Run& run, std::uint32_t index, StripIo::SendTap* taps,
                        std::uint8_t* non_finite) noexcept {
    const PlanTask& task = plan_->tasks[index];
    if (task.node_count == 1) {
        non_finite[task.first_node] = run_node(run, task.first_node, taps) ? 1 : 0;
        return;
    }
    // A group of tracks: each strip's front part, then the EQs of all in lanes (a strip whose
    // EQ glides or fades runs its own), the compressors of all together, then each strip's back
    // part.
    RenderPlan& plan = *plan_;
    dsp::EqLaneSet lanes;
    for (std::uint32_t m = 0; m < task.node_count; ++m) {
        const std::uint32_t i = task.first_node + m;
        const StripIo io = node_io(run, i, taps);
        Strip& strip = *plan.nodes[i].strip;
        strip.process_front(io, run.frames);
        const std::uint32_t nch = io.mid_channels;
        bool steady = lanes.lanes + nch <= dsp::eq_lane_count;
        for (std::uint32_t c = 0; c < nch && steady; ++c)
            steady = strip.eq().steady_stages(c, lanes.coefficients[lanes.lanes + c], lanes.state[lanes.lanes + c],
                                              lanes.stages[lanes.lanes + c]);
        if (!steady) {
            strip.eq().process(io.output, nch, run.frames);
            continue;
        }
        for (std::uint32_t c = 0; c < nch; ++c) lanes.buffer[lanes.lanes++] = io.output[c];
    }
    dsp::run_eq_lanes(lanes, run.frames);
    dsp::Compressor* compressors[max_track_group];
    float* const* buffers[max_track_group];
    std::uint32_t channels[max_track_group];
    float* outputs[max_track_group][2];
    for (std::uint32_t m = 0; m < task.node_count; ++m) {
        const std::uint32_t i = task.first_node + m;
        Strip& strip = *plan.nodes[i].strip;
        compressors[m] = &strip.compressor();
        outputs[m][0] = plan.channel(plan.nodes[i].out_buffer, 0) + run.pos;
        outputs[m][1] = plan.channel(plan.nodes[i].out_buffer, 1) + run.pos;
        buffers[m] = outputs[m];
        channels[m] = plan.nodes[i].mid_channels;
        // Its detector listens to its own signal (through its sidechain highpass): grouped tracks
        // have no sidechain keys, a key being a dependency.
        strip.compressor_processor().listen(outputs[m], channels[m], nullptr, 0, run.frames);
    }
    dsp::Compressor::process_group(compressors, buffers, channels, task.node_count, run.frames);
    for (std::uint32_t m = 0; m < task.node_count; ++m) {
        const std::uint32_t i = task.first_node + m;
        non_finite[i] = plan.nodes[i].strip->process_back(node_io(run, i, taps), run.frames) ? 1 : 0;
    }
}

StripIo Executor::node_io(const Run& run, std::uint32_t index, StripIo::SendTap* taps) noexcept {
    RenderPlan& plan = *plan_;
    const PlanNode& node = plan.nodes[index];
    const std::uint32_t pos = run.pos;
    StripIo io;
    io.output[0] = plan.channel(node.out_buffer, 0) + pos;
    io.output[1] = plan.channel(node.out_buffer, 1) + pos;
    if (node.kind == PlanNode::Kind::track) {
        for (std::uint32_t c = 0; c < node.input_channels && c < 2; ++c) {
            const std::uint32_t ch = node.input_channel + c;
            const bool present = run.inputs != nullptr && ch < run.input_channels && run.inputs[ch] != nullptr;
            io.input[c] = present ? run.inputs[ch] + run.call_offset + pos : nullptr;
        }
    } else {
        io.input[0] = io.output[0];
        io.input[1] = io.output[1];
    }
    for (std::uint32_t s = 0; s < node.send_count; ++s) {
        const SendTapPlan& t = plan.send_taps[node.first_send + s];
        taps[s] = {t.slot, {plan.channel(t.buffer, 0) + pos, plan.channel(t.buffer, 1) + pos}};
    }
    io.sends = taps;
    io.send_count = node.send_count;
    io.mid_channels = node.mid_channels;
    io.back_channels = node.back_channels;
    if (node.pre_count + node.post_count > 0) {
        io.pre_inserts = plan.inserts.data() + node.first_insert;
        io.pre_count = node.pre_count;
        io.post_inserts = io.pre_inserts + node.pre_count;
        io.post_count = node.post_count;
        io.insert_keys = plan.insert_keys.data() + node.first_insert;
    }
    if (node.keyed) {  // sidechains: it writes a key tap, or listens to one
        io.buffers = {plan.buffer_storage.data(), plan.max_block_frames, pos};
        io.key_tap = node.key_tap;
        io.compressor_key = node.compressor_key;
    }
    return io;
}

bool Executor::run_node(const Run& run, std::uint32_t index, StripIo::SendTap* taps) noexcept {
    RenderPlan& plan = *plan_;
    const PlanNode& node = plan.nodes[index];
    const std::uint32_t pos = run.pos, frames = run.frames;
    const std::size_t bytes = frames * sizeof(float);
    const StripIo io = node_io(run, index, taps);
    float* out[2] = {io.output[0], io.output[1]};
    if (node.kind != PlanNode::Kind::track) {
        // The bus sum, in the plan's fixed order: bit-identical under any schedule.
        std::memset(out[0], 0, bytes);
        std::memset(out[1], 0, bytes);
        for (std::uint32_t k = 0; k < node.input_count; ++k) {
            const std::uint32_t b = plan.bus_inputs[node.first_input + k];
            for (std::uint32_t c = 0; c < 2; ++c) {
                const float* src = plan.channel(b, c) + pos;
                float* dst = out[c];
                for (std::uint32_t i = 0; i < frames; ++i) dst[i] += src[i];
            }
        }
    }
    const bool non_finite = node.strip->process(io, frames);
    if (node.kind == PlanNode::Kind::master) {
        if (plan.master_chain != nullptr) plan.master_chain->process(out[0], out[1], frames);
        if (run.outputs != nullptr)
            for (int c = 0; c < 2; ++c)
                if (run.outputs[c] != nullptr) std::memcpy(run.outputs[c] + run.call_offset + pos, out[c], bytes);
    }
    return non_finite;
}

}  // namespace rtmix::engine
