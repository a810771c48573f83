// The processor kinds the engine knows: adding one is one line here (and its own files).
#include <algorithm>
#include <array>
#include <limits>
#include <vector>

#include "processors/compressor.hpp"
#include "processors/deesser.hpp"
#include "processors/delay.hpp"
#include "processors/eq.hpp"
#include "processors/gate.hpp"
#include "processors/limiter.hpp"
#include "processors/pitch.hpp"
#include "processors/reverb.hpp"
#include "processors/width.hpp"

namespace rtmix {

namespace engine {

namespace {

// In documentation order.
const std::array<const ProcessorKind*, 9> all_kinds = {&eq_kind,    &compressor_kind, &gate_kind,
                                                       &deesser_kind, &pitch_kind,    &reverb_kind,
                                                       &delay_kind,   &width_kind,    &limiter_kind};

const std::array<const ProcessorInfo*, all_kinds.size()>& all_infos() {
    static const std::array<const ProcessorInfo*, all_kinds.size()> infos = [] {
        std::array<const ProcessorInfo*, all_kinds.size()> out{};
        for (std::size_t i = 0; i < all_kinds.size(); ++i) out[i] = &all_kinds[i]->info;
        return out;
    }();
    return infos;
}

}  // namespace

const ProcessorKind* find_kind(std::string_view type) noexcept {
    for (const ProcessorKind* k : all_kinds)
        if (k->info.type == type) return k;
    return nullptr;
}

std::span<const ProcessorKind* const> kinds() noexcept { return all_kinds; }

}  // namespace engine

std::span<const ProcessorInfo* const> processor_types() noexcept { return engine::all_infos(); }

const ProcessorInfo* find_processor_type(std::string_view type) noexcept {
    const engine::ProcessorKind* k = engine::find_kind(type);
    return k != nullptr ? &k->info : nullptr;
}

std::string_view to_string(ValueKind kind) noexcept {
    switch (kind) {
        case ValueKind::number: return "number";
        case ValueKind::boolean: return "boolean";
        case ValueKind::word: return "word";
    }
    return "number";
}

std::string_view to_string(Smoothing smoothing) noexcept {
    switch (smoothing) {
        case Smoothing::ramp: return "ramp";
        case Smoothing::glide: return "glide";
        case Smoothing::crossfade: return "crossfade";
        case Smoothing::immediate: return "immediate";
    }
    return "ramp";
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string closest_match(std::string_view word, std::span<const std::string> candidates) {
    std::string best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const std::string& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    // Suggest only what looks like a typo, not an unrelated name.
    const std::size_t allowed = std::max<std::size_t>(2, word.size() / 3);
    return best_distance <= allowed ? best : std::string{};
}

}  // namespace rtmix
