// rtmix::Engine: construction, parameters, audio, meters, events and facts. The routing calls
// are in engine_routing.cpp; the control-side state they share is Engine::Impl (engine_impl.hpp).
#include "dsp/eq_lanes.hpp"
#include "engine_impl.hpp"

namespace rtmix {

const char* simd_instruction_set() noexcept { return dsp::simd_isa_name(dsp::eq_lanes_isa()); }

std::uint32_t usable_cores() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<std::uint32_t>(std::max(1, CPU_COUNT(&set)));
    return std::max(1u, std::thread::hardware_concurrency());
}

Engine::Engine(const EngineOptions& options) : impl_(std::make_unique<Impl>(options)) {
    impl_->model.strips.push_back(impl_->new_strip(StripKind::master, "master", 2));
    impl_->publish();
}

Engine::~Engine() = default;

Status Engine::set(std::string_view path, double value, std::uint32_t sample_offset) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    return impl_->set_number(path, value, sample_offset);
}

Status Engine::set(std::string_view path, std::string_view word, std::uint32_t sample_offset) {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    double value = 0.0;
    if (Status s = parse_word(p, path, word, value); !s) return s;
    // A word names a valid choice already; numbers and booleans given as text are checked as such.
    if (p.param->kind == ValueKind::word) return impl_->set_resolved(p, value, sample_offset);
    return impl_->set_number(path, value, sample_offset);
}

Status Engine::get(std::string_view path, double& value) const {
    std::lock_guard lock(impl_->mutex);
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    value = read_param(p);
    return {};
}

Status Engine::get(std::string_view path, std::string& word) const {
    std::lock_guard lock(impl_->mutex);
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    if (p.param->kind != ValueKind::word)
        return {Status::Code::invalid_value,
                fmt::format("{} is a {}, not a word: read it as a number", path,
                            p.param->kind == ValueKind::boolean ? "boolean (0 or 1)" : "number")};
    const auto index = static_cast<std::size_t>(read_param(p));
    word = std::string(p.param->words[std::min(index, p.param->words.size() - 1)]);
    return {};
}

std::vector<std::string> Engine::parameter_paths() const {
    std::lock_guard lock(impl_->mutex);
    return all_param_paths(impl_->model);
}

Status Engine::parameter_info(std::string_view path, ParameterInfo& out) const {
    std::lock_guard lock(impl_->mutex);
    ResolvedParam p;
    if (Status s = resolve_param(impl_->model, path, impl_->options.sample_rate, p); !s) return s;
    out = describe(p, std::string(path));
    return {};
}

std::vector<ParameterInfo> Engine::parameters() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<ParameterInfo> out;
    for (std::string& path : all_param_paths(impl_->model)) {
        ResolvedParam p;
        if (resolve_param(impl_->model, path, impl_->options.sample_rate, p).ok()) out.push_back(describe(p, std::move(path)));
    }
    return out;
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

bool Engine::master_loudness(MasterLoudness& out) const {
    std::lock_guard lock(impl_->mutex);
    const MasterChain& chain = *impl_->model.strips.front().chain;
    out = chain.read();
    return chain.has_loudness_meter();
}

Status Engine::reset_meters() {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    std::vector<ParamChange> changes(1);
    changes[0].target = nullptr;
    changes[0].param = reset_meters_command;
    return impl_->push(changes);
}

std::vector<Event> Engine::poll_events() {
    std::lock_guard lock(impl_->mutex);
    impl_->collect();
    std::vector<Event> out = std::move(impl_->recorder_events);
    impl_->recorder_events.clear();
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
    if (!impl_->scheduling_reported) {
        impl_->scheduling_reported = true;
        if (std::string note = impl_->executor.scheduling_note(); !note.empty())
            out.push_back({Event::Code::scheduling, {}, std::move(note)});
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
std::uint32_t Engine::threads() const noexcept { return impl_->executor.threads(); }
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
