// The session file parser, shared by session_parse.cpp (the file, its strips, sends, inputs,
// loudness and metadata) and session_parse_processors.cpp (the tables of processors: EQ bands,
// compressor, limiter, inserts, named effects, sidechains). Internal to rtmix::session.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "rtmix/session.hpp"

namespace rtmix::session_parse {

using Kind = SessionStrip::Kind;

/// "a string", "an integer", ...: a TOML value's type, for messages.
std::string type_name(const toml::node& n);

/// Reads one session file; builds the Session's strips and settings.
class Parser {
public:
    Parser(std::string file_label, std::vector<SessionStrip>& strips, std::vector<SessionSetting>& settings,
           std::vector<SessionLane>& automation, Metadata& metadata, std::optional<LoudnessTarget>& loudness,
           const std::filesystem::path& folder)
        : file_(std::move(file_label)),
          strips_(strips),
          settings_(settings),
          automation_(automation),
          metadata_(metadata),
          loudness_(loudness),
          folder_(folder) {}

    void run(std::string_view text, double& sample_rate, std::uint32_t& block_frames);

private:
    SourceLocation at(const toml::source_region& r) const { return {file_, r.begin.line, r.begin.column}; }
    [[noreturn]] void fail(const toml::source_region& r, const std::string& message) const {
        throw SessionError(at(r), message);
    }
    [[noreturn]] void unknown_key(const toml::key& key, const std::string& where,
                                  const std::vector<std::string>& known) const {
        std::string message = fmt::format("unknown key '{}' {}", key.str(), where);
        const std::string best = closest_match(key.str(), known);
        if (!best.empty()) {
            message += fmt::format(" (did you mean '{}'?)", best);
        } else {
            std::string list;
            for (const std::string& k : known) list.append(list.empty() ? "" : ", ").append(k);
            message += fmt::format(" (expected one of: {})", list);
        }
        fail(key.source(), message);
    }

    void read_session(const toml::table& t, double& sample_rate, std::uint32_t& block_frames);
    void read_strip(const toml::table& t, Kind kind, const toml::source_region& header);
    void read_param(SessionStrip& s, const std::string& where, const std::string& path_suffix, const ParamInfo& spec,
                    const toml::key& key, const toml::node& value);
    /// The parameters of a processor's table (`compressor = { ... }`, an insert, [master.limiter])
    /// below `prefix`; `skip` names the keys the caller reads itself.
    void read_processor(SessionStrip& s, const std::string& where, const std::string& prefix, const ProcessorInfo& type,
                        std::span<const ParamInfo> extras, const toml::table& t,
                        const std::vector<std::string>& skip = {});
    /// `sidechain = "kick"` in the table of processor `prefix` ("compressor.", "insert.2.").
    void read_sidechain(SessionStrip& s, const std::string& where, const std::string& prefix, const toml::node& value);
    /// A table that switches its processor on unless it says enabled = false.
    void read_switched(SessionStrip& s, const std::string& owner, const std::string& prefix, const ProcessorInfo& type,
                       std::span<const ParamInfo> extras, const toml::key& key, const toml::node& node);
    void read_named_effect(SessionStrip& s, const std::string& owner, const toml::key& key, const toml::node& node);
    void read_inserts(SessionStrip& s, const std::string& owner, const toml::node& node);
    /// A pitch insert's `notes` written as note names; the range check of its min_hz and max_hz.
    void read_note_set(SessionStrip& s, const std::string& where, const std::string& path, const toml::node& node);
    void check_pitch_range(const std::string& where, const ProcessorInfo& type, const toml::table& t) const;
    void read_eq(SessionStrip& s, const std::string& owner, const toml::key& key, const toml::node& node);
    void read_sends(SessionStrip& s, const std::string& owner, const toml::key& key, const toml::node& node);
    void read_loudness(const toml::node& node);
    void read_metadata(const toml::node& node);
    void read_input(SessionStrip& s, const std::string& owner, const toml::node& node);
    std::string string_value(const toml::node& n, const std::string& what) const;
    /// `automation = { KEY = [ [time, value, shape], ... ], ... }` in the table of `prefix` (""
    /// for the strip itself: any path below it; "insert.2.": that processor's keys).
    void read_automation(SessionStrip& s, const std::string& where, const std::string& prefix, const toml::node& node);
    /// A breakpoint's time: seconds, "m:ss.sss", "h:mm:ss.sss" or "N samples", in frames.
    std::int64_t read_time(const toml::node& n, const std::string& what) const;
    /// After every strip is read: each lane's words as their index, and its default shapes
    /// (hold for words and switches, linear for numbers).
    void finish_automation();

    /// A lane as read, before its parameter is known.
    struct PendingLane {
        std::size_t index;                   // into automation_
        std::vector<std::string> words;      // per point: the word written, or empty
        std::vector<bool> shaped;            // per point: a shape was written
        std::vector<toml::source_region> value_at;
    };
    std::vector<PendingLane> pending_lanes_;
    double sample_rate_ = 48000.0;

    std::string file_;
    std::vector<SessionStrip>& strips_;
    std::vector<SessionSetting>& settings_;
    std::vector<SessionLane>& automation_;
    Metadata& metadata_;
    std::optional<LoudnessTarget>& loudness_;
    std::filesystem::path folder_;
};

}  // namespace rtmix::session_parse
