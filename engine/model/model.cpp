#include "model/model.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include <fmt/format.h>

namespace rtmix::engine {

SlotModel SlotModel::make(const ProcessorKind& kind, std::span<const ParamInfo> extras, RtObject* target) {
    SlotModel s;
    s.kind = &kind;
    s.extras = extras;
    s.target = target;
    s.values.resize(s.own_count() + extras.size());
    for (std::uint32_t i = 0; i < s.values.size(); ++i) s.values[i] = s.param(i).def;
    return s;
}

std::uint32_t SlotModel::latency_frames(double sample_rate) const {
    if (kind == nullptr || kind->latency_frames == nullptr) return 0;
    return kind->latency_frames(std::span<const double>(values.data(), own_count()), sample_rate);
}

std::string StripModel::insert_prefix(const InsertModel& insert) const {
    if (insert.fade.active()) return {};
    if (!insert.name.empty()) return insert.name;
    std::uint32_t number = 0;
    for (const InsertModel& i : inserts) {
        if (!i.name.empty() || i.fade.active()) continue;
        ++number;
        if (&i == &insert) break;
    }
    return fmt::format("insert.{}", number);
}

std::uint32_t StripModel::chain_latency(double sample_rate) const {
    std::uint32_t total = compressor.latency_frames(sample_rate);
    for (const InsertModel& i : inserts) total += i.latency;
    return total;
}

InsertModel* StripModel::find_insert(std::string_view prefix) {
    for (InsertModel& i : inserts)
        if (!i.fade.active() && insert_prefix(i) == prefix) return &i;
    return nullptr;
}

std::string StripModel::path() const {
    switch (kind) {
        case StripKind::track: return "track." + name;
        case StripKind::bus: return "bus." + name;
        case StripKind::master: return "master";
    }
    return {};
}

StripModel* Model::find(std::uint32_t id) {
    for (auto& s : strips)
        if (s.id == id) return &s;
    return nullptr;
}

const StripModel* Model::find(std::uint32_t id) const { return const_cast<Model*>(this)->find(id); }

StripModel* Model::find(StripKind kind, std::string_view name) {
    for (auto& s : strips)
        if (s.kind == kind && s.name == name) return &s;
    return nullptr;
}

StripModel* Model::find_path(std::string_view path) {
    if (path == "master") return &strips.front();
    if (path.starts_with("track.")) return find(StripKind::track, path.substr(6));
    if (path.starts_with("bus.")) return find(StripKind::bus, path.substr(4));
    return nullptr;
}

const StripModel* Model::find_path(std::string_view path) const {
    return const_cast<Model*>(this)->find_path(path);
}

std::vector<std::uint32_t> Model::destinations(const StripModel& s, bool include_fading) const {
    std::vector<std::uint32_t> out;
    if (s.output == StripModel::Output::bus) out.push_back(s.output_bus);
    for (const auto& send : s.sends)
        if (include_fading || !send.fade.active()) out.push_back(send.bus_id);
    return out;
}

std::vector<bool> Model::solo_mutes() const {
    const std::size_t n = strips.size();
    std::vector<bool> muted(n, false);
    bool any_solo = false;
    for (const auto& s : strips) any_solo = any_solo || s.flag(StripMessage::solo);
    if (!any_solo) return muted;
    // Edges by index: feeds[i] lists the strips i feeds (output and sends).
    std::vector<std::vector<std::size_t>> feeds(n), fed_by(n);
    auto index_of = [&](std::uint32_t id) {
        for (std::size_t i = 0; i < n; ++i)
            if (strips[i].id == id) return i;
        return n;
    };
    for (std::size_t i = 0; i < n; ++i)
        for (std::uint32_t d : destinations(strips[i], false)) {
            const std::size_t j = index_of(d);
            if (j == n) continue;
            feeds[i].push_back(j);
            fed_by[j].push_back(i);
        }
    // Audible: soloed strips, everything downstream of them (the buses they feed, the returns
    // they send to) and upstream of them (the sources of a soloed bus), solo-safe buses and the
    // master.
    std::vector<bool> audible(n, false);
    std::function<void(std::size_t, const std::vector<std::vector<std::size_t>>&)> mark =
        [&](std::size_t i, const std::vector<std::vector<std::size_t>>& edges) {
            for (std::size_t j : edges[i])
                if (!audible[j]) {
                    audible[j] = true;
                    mark(j, edges);
                }
        };
    for (std::size_t i = 0; i < n; ++i)
        if (strips[i].flag(StripMessage::solo)) {
            audible[i] = true;
            mark(i, feeds);
            mark(i, fed_by);
        }
    for (std::size_t i = 0; i < n; ++i) {
        const auto& s = strips[i];
        const bool keep =
            audible[i] || s.kind == StripKind::master || (s.kind == StripKind::bus && s.flag(StripMessage::solo_safe));
        muted[i] = !keep;
    }
    return muted;
}

std::vector<std::uint32_t> Model::key_listeners(const StripModel& source) const {
    std::vector<std::uint32_t> out;
    auto listens = [&](const SlotModel& slot) { return slot.sidechain == source.id; };
    for (const auto* list : {&strips, &fading})
        for (const StripModel& s : *list) {
            bool any = listens(s.compressor);
            for (const InsertModel& i : s.inserts) any = any || listens(i.slot);
            if (any) out.push_back(s.id);
        }
    return out;
}

bool Model::reaches_itself(std::uint32_t id) const {
    auto index_of = [&](std::uint32_t x) {
        for (std::size_t i = 0; i < strips.size(); ++i)
            if (strips[i].id == x) return i;
        return strips.size();
    };
    const std::size_t start = index_of(id);
    if (start == strips.size()) return false;
    std::vector<bool> seen(strips.size(), false);
    std::vector<std::size_t> todo = {start};
    while (!todo.empty()) {
        const std::size_t i = todo.back();
        todo.pop_back();
        std::vector<std::uint32_t> next = destinations(strips[i]);
        const std::vector<std::uint32_t> keys = key_listeners(strips[i]);
        next.insert(next.end(), keys.begin(), keys.end());
        for (const std::uint32_t d : next) {
            const std::size_t j = index_of(d);
            if (j == strips.size()) continue;
            if (j == start) return true;
            if (!seen[j]) {
                seen[j] = true;
                todo.push_back(j);
            }
        }
    }
    return false;
}

std::optional<std::string> Model::find_cycle() const {
    // Depth-first search over the graph (outputs, sends, sidechains); a grey node reached again
    // closes a cycle.
    enum class Mark : std::uint8_t { white, grey, black };
    std::vector<Mark> mark(strips.size(), Mark::white);
    std::vector<std::size_t> stack;
    std::vector<bool> keyed;  // keyed[k]: the edge from stack[k] to the next one is a sidechain
    // Indices by id, and the sidechain edges (source -> the strips that listen to it, in the
    // order key_listeners() gives them), built once: the search is then linear in the graph.
    std::unordered_map<std::uint32_t, std::size_t> index;
    index.reserve(strips.size());
    for (std::size_t i = 0; i < strips.size(); ++i) index.emplace(strips[i].id, i);
    auto index_of = [&](std::uint32_t id) {
        const auto it = index.find(id);
        return it == index.end() ? strips.size() : it->second;
    };
    std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> listeners;
    for (const auto* list : {&strips, &fading})
        for (const StripModel& s : *list) {
            std::vector<std::uint32_t> sources;
            auto add = [&](const SlotModel& slot) {
                if (slot.sidechain != SlotModel::no_source &&
                    std::find(sources.begin(), sources.end(), slot.sidechain) == sources.end())
                    sources.push_back(slot.sidechain);
            };
            add(s.compressor);
            for (const InsertModel& i : s.inserts) add(i.slot);
            for (const std::uint32_t source : sources) listeners[source].push_back(s.id);
        }
    auto name = [&](std::size_t i) {
        const StripModel& s = strips[i];
        return (s.kind == StripKind::track ? "track '" : s.kind == StripKind::bus ? "bus '" : "'") + s.name + "'";
    };
    std::optional<std::string> found;
    std::function<bool(std::size_t)> visit = [&](std::size_t i) {
        mark[i] = Mark::grey;
        stack.push_back(i);
        keyed.push_back(false);
        std::vector<std::pair<std::uint32_t, bool>> next;
        for (std::uint32_t d : destinations(strips[i])) next.emplace_back(d, false);
        if (const auto it = listeners.find(strips[i].id); it != listeners.end())
            for (std::uint32_t d : it->second) next.emplace_back(d, true);
        for (const auto& [d, key] : next) {
            const std::size_t j = index_of(d);
            if (j == strips.size()) continue;
            keyed.back() = key;
            if (mark[j] == Mark::grey) {
                std::string text;
                const auto from = static_cast<std::size_t>(std::find(stack.begin(), stack.end(), j) - stack.begin());
                for (std::size_t k = from; k < stack.size(); ++k) text += name(stack[k]) + (keyed[k] ? " -sidechain-> " : " -> ");
                found = text + name(j);
                return true;
            }
            if (mark[j] == Mark::white && visit(j)) return true;
        }
        stack.pop_back();
        keyed.pop_back();
        mark[i] = Mark::black;
        return false;
    };
    for (std::size_t i = 0; i < strips.size(); ++i)
        if (mark[i] == Mark::white && visit(i)) return found;
    return std::nullopt;
}

}  // namespace rtmix::engine
