#include "graph/compile.hpp"

#include "graph/latency.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <unordered_map>

namespace rtmix::engine {

namespace {

PlanNode::Kind node_kind(StripKind k) {
    switch (k) {
        case StripKind::track: return PlanNode::Kind::track;
        case StripKind::bus: return PlanNode::Kind::bus;
        case StripKind::master: return PlanNode::Kind::master;
    }
    return PlanNode::Kind::track;
}

}  // namespace

std::unique_ptr<RenderPlan> compile_plan(Model& model, std::uint32_t max_block_frames, double sample_rate,
                                         std::uint32_t track_group) {
    // Every strip the plan runs: the model's, then the removed ones still fading out.
    std::vector<StripModel*> all;
    all.reserve(model.strips.size() + model.fading.size());
    for (StripModel& s : model.strips) all.push_back(&s);
    for (StripModel& s : model.fading) all.push_back(&s);
    const std::size_t n = all.size();
    std::unordered_map<std::uint32_t, std::size_t> index_of;
    index_of.reserve(n);
    for (std::size_t i = 0; i < n; ++i) index_of.emplace(all[i]->id, i);

    // Who feeds whom (outputs and sends; `consumers`) and who listens to whom (sidechains): both
    // order the plan. A destination that does not exist (cannot happen in a consistent model) is
    // ignored.
    const std::vector<KeyedSlot> keyed = keyed_slots(all, index_of, sample_rate);
    std::vector<std::vector<std::size_t>> consumers(n);
    std::vector<std::vector<std::size_t>> listeners(n), successors(n);
    for (const KeyedSlot& k : keyed) listeners[k.source].push_back(k.listener);
    std::vector<std::uint32_t> waiting(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::size_t>& l = listeners[i];
        std::sort(l.begin(), l.end());
        l.erase(std::unique(l.begin(), l.end()), l.end());
        std::vector<std::uint32_t> dests = model.destinations(*all[i]);
        if (all[i]->kind != StripKind::master && all[i]->output == StripModel::Output::master)
            dests.push_back(model.strips.front().id);
        std::sort(dests.begin(), dests.end());
        dests.erase(std::unique(dests.begin(), dests.end()), dests.end());
        for (std::uint32_t d : dests) {
            auto it = index_of.find(d);
            if (it == index_of.end()) continue;
            consumers[i].push_back(it->second);
        }
        // Every strip that feeds or keys j, counted once.
        std::vector<std::size_t> next = consumers[i];
        next.insert(next.end(), l.begin(), l.end());
        std::sort(next.begin(), next.end());
        next.erase(std::unique(next.begin(), next.end()), next.end());
        for (const std::size_t j : next) ++waiting[j];
        successors[i] = std::move(next);
    }
    const std::vector<std::uint32_t> dependency_count = waiting;

    // Kahn's algorithm, seeded in model order so the schedule is the same every time.
    std::vector<std::size_t> order;
    order.reserve(n);
    std::deque<std::size_t> ready;
    for (std::size_t i = 0; i < n; ++i)
        if (waiting[i] == 0) ready.push_back(i);
    while (!ready.empty()) {
        const std::size_t i = ready.front();
        ready.pop_front();
        order.push_back(i);
        for (std::size_t j : successors[i])
            if (--waiting[j] == 0) ready.push_back(j);
    }

    // Tracks first (they read nothing the plan makes), so that groups of them are consecutive
    // nodes; the rest keeps Kahn's order.
    std::stable_partition(order.begin(), order.end(), [&](std::size_t i) {
        return all[i]->kind == StripKind::track && dependency_count[i] == 0;
    });

    // Latency (graph/latency.hpp).
    const Latencies latency = compute_latencies(all, order, consumers, keyed, sample_rate);
    const std::vector<std::uint32_t>& in_latency = latency.in;
    const std::vector<std::uint32_t>& out_latency = latency.out;
    const std::size_t master = index_of.at(model.strips.front().id);
    /// The delay of an output of strip `i` into the strip with id `dest`.
    auto edge_frames = [&](std::size_t i, std::uint32_t dest) -> std::uint32_t {
        auto it = index_of.find(dest);
        return it == index_of.end() ? 0 : in_latency[it->second] - out_latency[i];
    };

    auto plan = std::make_unique<RenderPlan>();
    plan->max_block_frames = max_block_frames;
    plan->latency_frames = out_latency[master];
    std::vector<std::uint32_t> position(n, 0);  // model index -> plan node index
    for (std::size_t k = 0; k < order.size(); ++k) position[order[k]] = static_cast<std::uint32_t>(k);

    std::uint32_t buffers = 0;
    plan->nodes.resize(order.size());
    // Output buffers first (buffer id = node index), then a key tap for every strip something
    // listens to, then one per send.
    for (std::size_t k = 0; k < order.size(); ++k) plan->nodes[k].out_buffer = buffers++;
    std::vector<std::uint32_t> key_tap(n, no_buffer);
    for (std::size_t k = 0; k < order.size(); ++k)
        if (!listeners[order[k]].empty()) {
            plan->nodes[k].key_tap = key_tap[order[k]] = buffers++;
            plan->nodes[k].keyed = true;
        }

    // Send buffers, keyed by (source model index, send index).
    std::vector<std::vector<std::uint32_t>> send_buffer(n);
    for (std::size_t k = 0; k < order.size(); ++k) {
        StripModel& s = *all[order[k]];
        PlanNode& node = plan->nodes[k];
        node.kind = node_kind(s.kind);
        node.strip = s.strip.get();
        plan->keep_alive.push_back(s.strip);
        if (s.kind == StripKind::track) {
            node.input_channel = s.input_channel;
            node.input_channels = s.channels;
        }
        node.first_send = static_cast<std::uint32_t>(plan->send_taps.size());
        for (const SendModel& send : s.sends) {
            const std::uint32_t b = buffers++;
            send_buffer[order[k]].push_back(b);
            plan->send_taps.push_back({send.slot, b});
        }
        node.send_count = static_cast<std::uint32_t>(s.sends.size());
        // Inserts: the pre ones, then the post ones, each in the model's order; the channels
        // they leave.
        node.first_insert = static_cast<std::uint32_t>(plan->inserts.size());
        std::uint32_t channels = s.kind == StripKind::track ? s.channels : 2;
        for (const bool pre : {true, false}) {
            for (const InsertModel& i : s.inserts)
                if (i.pre == pre) {
                    plan->inserts.push_back(i.unit.get());
                    plan->insert_keys.push_back(no_buffer);
                    plan->keep_alive.push_back(i.unit);
                    channels = channels_after(i.slot.kind->info, channels);
                    ++(pre ? node.pre_count : node.post_count);
                }
            (pre ? node.mid_channels : node.back_channels) = channels;
        }
        node.latency_frames = out_latency[order[k]];
        // Latency compensation of the outputs: every one that has memory or needs it is listed
        // (an output no longer connected with 0 frames), so that the strip follows the plan and
        // the plan keeps alive every memory the strip may still point at.
        std::array<std::uint32_t, edge_count> frames{};
        if (s.kind != StripKind::master && s.output != StripModel::Output::none)
            frames[output_edge] = edge_frames(order[k], s.output == StripModel::Output::bus ? s.output_bus
                                                                                            : model.strips.front().id);
        for (const SendModel& send : s.sends) frames[send_edge(send.slot)] = edge_frames(order[k], send.bus_id);
        if (s.kind == StripKind::track) frames[input_edge] = in_latency[order[k]];  // waits for a later key
        node.first_edge = static_cast<std::uint32_t>(plan->edges.size());
        for (std::uint32_t e = 0; e < edge_count; ++e) {
            std::shared_ptr<DelayMemory>& memory = s.compensation[e];
            const std::uint32_t needed = delay_memory_frames(frames[e], max_block_frames);
            if (frames[e] > 0 && (!memory || memory->capacity < needed)) memory = std::make_shared<DelayMemory>(needed);
            if (!memory) continue;
            plan->edges.push_back({e, frames[e], memory.get()});
            plan->keep_alive.push_back(memory);
        }
        node.edge_count = static_cast<std::uint32_t>(plan->edges.size()) - node.first_edge;
    }

    // Sidechains: which key tap each listening processor reads, and the delay that aligns it.
    // Every slot with key memory is listed (0 frames when it no longer listens) so that its
    // delay follows the plan and the plan keeps the memory alive.
    auto key_delay = [&](SlotModel& slot, CompensationDelay& delay, std::uint32_t frames) {
        const std::uint32_t needed = delay_memory_frames(frames, max_block_frames);
        if (frames > 0 && (!slot.key_memory || slot.key_memory->capacity < needed))
            slot.key_memory = std::make_shared<DelayMemory>(needed);
        if (!slot.key_memory) return;
        plan->key_delays.push_back({&delay, slot.key_memory.get(), frames});
        plan->keep_alive.push_back(slot.key_memory);
    };
    for (const KeyedSlot& k : keyed) {
        PlanNode& node = plan->nodes[position[k.listener]];
        node.keyed = true;
        const std::uint32_t tap = key_tap[k.source];
        if (k.insert == UINT32_MAX) node.compressor_key = tap;
        else plan->insert_keys[node.first_insert + k.insert] = tap;
        key_delay(*k.slot, *k.delay, in_latency[k.listener] + k.offset - out_latency[k.source]);
    }
    for (StripModel* s : all) {
        if (s->compressor.key_memory && s->compressor.sidechain == SlotModel::no_source)
            key_delay(s->compressor, s->strip->compressor_key_delay(), 0);
        for (InsertModel& i : s->inserts)
            if (i.slot.key_memory && i.slot.sidechain == SlotModel::no_source) key_delay(i.slot, i.unit->key_delay(), 0);
    }

    // Automation: the lanes of every strip, send and processor that is not fading out (those play
    // out as they stand).
    const auto add_lanes = [&](const std::vector<LaneModel>& lanes, Strip* strip) {
        for (const LaneModel& l : lanes) {
            PlanLane lane;
            lane.address = l.address;
            lane.ramped = l.ramped;
            lane.strip = l.ramped ? strip : nullptr;
            lane.data = l.data.get();
            lane.rec = l.rec;
            lane.rec_serial = l.rec_serial;
            lane.rec_mode = l.rec_mode;
            lane.stepped = l.stepped;
            lane.glide = l.glide;
            lane.touch_timeout = l.touch_timeout;
            lane.base = l.base;
            plan->lanes_split_runs = plan->lanes_split_runs || !l.ramped;
            plan->lanes.push_back(lane);
            if (l.data) plan->keep_alive.push_back(l.data);
        }
    };
    for (const StripModel& s : model.strips) {
        Strip* strip = s.strip.get();
        add_lanes(s.lanes, strip);
        for (const SendModel& send : s.sends)
            if (!send.fade.active()) add_lanes(send.lanes, strip);
        add_lanes(s.eq.lanes, nullptr);
        add_lanes(s.compressor.lanes, nullptr);
        add_lanes(s.limiter.lanes, nullptr);
        for (const InsertModel& i : s.inserts)
            if (!i.fade.active()) add_lanes(i.slot.lanes, nullptr);
    }

    // Tasks: up to `track_group` consecutive tracks together, every other node alone.
    const std::uint32_t group = std::clamp<std::uint32_t>(track_group, 1, max_track_group);
    std::vector<std::uint32_t> task_of(order.size(), 0);
    for (std::size_t k = 0; k < order.size();) {
        PlanTask task;
        task.first_node = static_cast<std::uint32_t>(k);
        task.node_count = 1;
        const auto groupable = [&](std::size_t m) {
            return all[order[m]]->kind == StripKind::track && dependency_count[order[m]] == 0;
        };
        if (groupable(k))
            while (task.node_count < group && k + task.node_count < order.size() && groupable(k + task.node_count))
                ++task.node_count;
        for (std::uint32_t m = 0; m < task.node_count; ++m) task_of[k + m] = static_cast<std::uint32_t>(plan->tasks.size());
        plan->tasks.push_back(task);
        k += task.node_count;
    }
    // Task dependencies: the distinct tasks that feed a task, and those it feeds.
    std::vector<std::vector<std::uint32_t>> task_consumers(plan->tasks.size());
    for (std::size_t k = 0; k < order.size(); ++k)
        for (std::size_t j : successors[order[k]]) task_consumers[task_of[k]].push_back(task_of[position[j]]);
    for (std::size_t t = 0; t < plan->tasks.size(); ++t) {
        auto& c = task_consumers[t];
        std::sort(c.begin(), c.end());
        c.erase(std::unique(c.begin(), c.end()), c.end());
        PlanTask& task = plan->tasks[t];
        task.first_dependant = static_cast<std::uint32_t>(plan->dependants.size());
        task.dependant_count = static_cast<std::uint32_t>(c.size());
        for (std::uint32_t d : c) {
            plan->dependants.push_back(d);
            ++plan->tasks[d].dependencies;
        }
    }

    // The inputs of every bus, in model order of their sources: outputs before sends.
    for (std::size_t k = 0; k < order.size(); ++k) {
        const StripModel& dest = *all[order[k]];
        if (dest.kind == StripKind::track) continue;
        PlanNode& node = plan->nodes[k];
        node.first_input = static_cast<std::uint32_t>(plan->bus_inputs.size());
        for (std::size_t i = 0; i < n; ++i) {
            const StripModel& src = *all[i];
            if (src.kind == StripKind::master) continue;
            const bool to_master = dest.kind == StripKind::master && src.output == StripModel::Output::master;
            const bool to_bus = src.output == StripModel::Output::bus && src.output_bus == dest.id;
            if (to_master || to_bus) plan->bus_inputs.push_back(plan->nodes[position[i]].out_buffer);
            for (std::size_t si = 0; si < src.sends.size(); ++si)
                if (src.sends[si].bus_id == dest.id) plan->bus_inputs.push_back(send_buffer[i][si]);
        }
        node.input_count = static_cast<std::uint32_t>(plan->bus_inputs.size()) - node.first_input;
    }

    plan->parallel = std::make_unique<ParallelState>(plan->tasks.size(), plan->nodes.size());
    plan->buffer_count = buffers;
    plan->buffer_storage.assign(static_cast<std::size_t>(buffers) * 2 * max_block_frames, 0.0f);
    if (!model.strips.empty() && model.strips.front().chain) {
        plan->master_chain = model.strips.front().chain.get();
        plan->keep_alive.push_back(model.strips.front().chain);
    }
    return plan;
}

}  // namespace rtmix::engine
