#include "graph/latency.hpp"

#include <algorithm>

namespace rtmix::engine {

std::vector<KeyedSlot> keyed_slots(const std::vector<StripModel*>& all,
                                   const std::unordered_map<std::uint32_t, std::size_t>& index_of, double sample_rate) {
    std::vector<KeyedSlot> out;
    for (std::size_t i = 0; i < all.size(); ++i) {
        StripModel& s = *all[i];
        auto add = [&](SlotModel& slot, CompensationDelay& delay, std::uint32_t offset, std::uint32_t insert) {
            if (slot.sidechain == SlotModel::no_source) return;
            const auto it = index_of.find(slot.sidechain);
            if (it != index_of.end()) out.push_back({i, it->second, &slot, &delay, offset, insert});
        };
        // In the order the strip runs them: pre-inserts, (EQ), compressor, post-inserts.
        std::uint32_t offset = 0, place = 0;
        for (InsertModel& insert : s.inserts)
            if (insert.pre) {
                add(insert.slot, insert.unit->key_delay(), offset, place++);
                offset += insert.latency;
            }
        add(s.compressor, s.strip->compressor_key_delay(), offset, UINT32_MAX);
        offset += s.compressor.latency_frames(sample_rate);
        for (InsertModel& insert : s.inserts)
            if (!insert.pre) {
                add(insert.slot, insert.unit->key_delay(), offset, place++);
                offset += insert.latency;
            }
    }
    return out;
}

Latencies compute_latencies(const std::vector<StripModel*>& all, const std::vector<std::size_t>& order,
                            const std::vector<std::vector<std::size_t>>& consumers, const std::vector<KeyedSlot>& keyed,
                            double sample_rate) {
    Latencies l{std::vector<std::uint32_t>(all.size(), 0), std::vector<std::uint32_t>(all.size(), 0)};
    for (const std::size_t i : order) {
        l.out[i] = l.in[i] + all[i]->chain_latency(sample_rate);
        for (const std::size_t j : consumers[i]) l.in[j] = std::max(l.in[j], l.out[i]);
        // A key may not arrive after the signal it meets: its listener's input waits for it.
        for (const KeyedSlot& k : keyed)
            if (k.source == i && l.out[i] > k.offset) l.in[k.listener] = std::max(l.in[k.listener], l.out[i] - k.offset);
    }
    return l;
}

}  // namespace rtmix::engine
