// Every declared parameter takes both ends of its documented range, through Engine::set and through
// a session file, and the range is printed as it is documented. The declarations are walked, not
// listed: a new parameter or processor type is covered without touching this file.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness.hpp"
#include "rtmix/parameters.hpp"
#include "rtmix/session.hpp"

using namespace rtmix;

namespace {

constexpr double rate = 48000.0;

/// Where a parameter lives in the test mix, and so in the session file.
struct Place {
    enum class In { strip, send, insert, eq_band, compressor, master_limiter } in = In::strip;
    std::string strip;         ///< "track.t", "bus.b" or "master"
    std::size_t index = 0;     ///< inserts: the insert's number; EQ: the band
};

struct Target {
    std::string path;  ///< what Engine::set takes
    Place place;
    const ParamInfo* param = nullptr;
};

/// The mix: a mono track "t" sending to a bus "b", one insert of every insertable type on the
/// track (in processor_types() order), the master with its limiter.
std::vector<const ProcessorInfo*> insert_types() {
    std::vector<const ProcessorInfo*> out;
    for (const ProcessorInfo* t : processor_types())
        if (t->insert) out.push_back(t);
    return out;
}

std::vector<Target> targets() {
    std::vector<Target> out;
    const auto add = [&](std::string path, Place place, const ParamInfo& p) {
        out.push_back(Target{std::move(path), std::move(place), &p});
    };
    for (const ParamInfo& p : strip_params()) {
        if (p.strips & on_tracks) add("track.t." + std::string(p.key), {Place::In::strip, "track.t"}, p);
        if (p.strips & on_buses) add("bus.b." + std::string(p.key), {Place::In::strip, "bus.b"}, p);
        if (p.strips & on_master) add("master." + std::string(p.key), {Place::In::strip, "master"}, p);
    }
    for (const ParamInfo& p : send_params()) add("track.t.send.b." + std::string(p.key), {Place::In::send, "track.t"}, p);
    const std::vector<const ProcessorInfo*> inserts = insert_types();
    for (std::size_t i = 0; i < inserts.size(); ++i) {
        const std::string slot = fmt::format("track.t.insert.{}.", i + 1);
        for (const ParamInfo& p : inserts[i]->params) add(slot + std::string(p.key), {Place::In::insert, "track.t", i + 1}, p);
        for (const ParamInfo& p : insert_params(*inserts[i]))
            add(slot + std::string(p.key), {Place::In::insert, "track.t", i + 1}, p);
    }
    // Built into every strip: the EQ (its first and last band) and the compressor.
    for (const ProcessorInfo* t : processor_types()) {
        if (t->groups > 1)
            for (const std::size_t band : {std::size_t{1}, std::size_t{t->groups}})
                for (const ParamInfo& p : t->params)
                    add(fmt::format("track.t.{}.{}.{}", t->type, band, p.key), {Place::In::eq_band, "track.t", band}, p);
        if (t->type == "compressor")
            for (const ParamInfo& p : t->params)
                add("track.t.compressor." + std::string(p.key), {Place::In::compressor, "track.t"}, p);
        if (t->type == "limiter")
            for (const ParamInfo& p : t->params)
                add("master.limiter." + std::string(p.key), {Place::In::master_limiter, "master"}, p);
    }
    for (const ParamInfo& p : master_limiter_params())
        add("master.limiter." + std::string(p.key), {Place::In::master_limiter, "master"}, p);
    return out;
}

/// The end of the range as documented and typed: the shortest decimal of the end as the audio side
/// holds it (a float), "0.1" for a decay declared as 0.1f (the range in force at `rate` for
/// per-second ones).
double range_end(const ParamInfo& p, bool max) {
    const double v = max ? p.max : p.min;
    if (p.per_second) return std::round(v * rate);
    return std::stod(fmt::format("{}", static_cast<float>(v)));
}

/// The value as a session file writes it.
std::string toml_value(const ParamInfo& p, double v) {
    switch (p.kind) {
        case ValueKind::boolean: return v != 0.0 ? "true" : "false";
        case ValueKind::word: return fmt::format("\"{}\"", p.words[static_cast<std::size_t>(v)]);
        case ValueKind::number: break;
    }
    return fmt::format("{}", v);  // the shortest text that reads back as the same double
}

/// A session file of the test mix with `key = value` at the target's place.
std::string session_text(const Target& t, const std::string& value) {
    const std::string kv = fmt::format("{} = {}", t.param->key, value);
    const auto own = [&](Place::In in, const std::string& strip) { return t.place.in == in && t.place.strip == strip; };
    std::string track = "[[track]]\nname = \"t\"\ninput = 1\n";
    if (own(Place::In::strip, "track.t")) track += kv + "\n";
    track += fmt::format("sends = [ {{ bus = \"b\"{} }} ]\n", own(Place::In::send, "track.t") ? ", " + kv : "");
    if (own(Place::In::compressor, "track.t")) track += "compressor = { " + kv + " }\n";
    if (t.place.in == Place::In::eq_band) {
        track += "eq = [ ";
        for (std::size_t band = 1; band <= t.place.index; ++band) {
            const bool here = band == t.place.index;
            const std::string type = here && t.param->key == "type" ? value : "\"peak\"";
            track += fmt::format("{}{{ type = {}{} }}", band > 1 ? ", " : "", type,
                                 here && t.param->key != "type" ? ", " + kv : "");
        }
        track += " ]\n";
    }
    track += "inserts = [ ";
    const std::vector<const ProcessorInfo*> inserts = insert_types();
    for (std::size_t i = 0; i < inserts.size(); ++i)
        track += fmt::format("{}{{ type = \"{}\"{} }}", i > 0 ? ", " : "", inserts[i]->type,
                             t.place.in == Place::In::insert && t.place.index == i + 1 ? ", " + kv : "");
    track += " ]\n";
    std::string bus = "[[bus]]\nname = \"b\"\n";
    if (own(Place::In::strip, "bus.b")) bus += kv + "\n";
    std::string master = "[master]\n";
    if (own(Place::In::strip, "master")) master += kv + "\n";
    if (t.place.in == Place::In::master_limiter) master += "[master.limiter]\n" + kv + "\n";
    return fmt::format("[session]\nsample_rate = {}\n\n{}\n{}\n{}", rate, bus, track, master);
}

/// The test mix in an engine, built through the API.
void build(Engine& e) {
    RTMIX_REQUIRE_OK(e.add_track("t", 1));
    RTMIX_REQUIRE_OK(e.add_bus("b"));
    RTMIX_REQUIRE_OK(e.add_send("track.t", "bus.b"));
    for (const ProcessorInfo* t : insert_types()) RTMIX_REQUIRE_OK(e.add_insert("track.t", t->type));
}

/// The value get() reads back after a set of `v`: what the audio side takes (a float).
void check_value(const Engine& e, const Target& t, double v) {
    if (t.param->kind == ValueKind::word) {
        std::string word;
        RTMIX_REQUIRE_OK(e.get(t.path, word));
        CHECK(word == t.param->words[static_cast<std::size_t>(v)]);
        return;
    }
    double got = 0;
    RTMIX_REQUIRE_OK(e.get(t.path, got));
    CHECK(got == static_cast<double>(static_cast<float>(v)));
}

}  // namespace

TEST_CASE("every parameter takes both ends of its documented range, set directly and from a session file",
          "[params][session]") {
    const std::vector<Target> all = targets();
    REQUIRE(all.size() > 50);
    Engine e;
    build(e);
    std::size_t covered = 0;
    for (const Target& t : all) {
        for (const bool max : {false, true}) {
            const double v = range_end(*t.param, max);
            INFO(t.path << " = " << fmt::format("{}", v) << (max ? " (max)" : " (min)"));
            // Through Engine::set, as a number and, for words, as the word.
            if (t.param->kind == ValueKind::word) RTMIX_REQUIRE_OK(e.set(t.path, t.param->words[static_cast<std::size_t>(v)]));
            else RTMIX_REQUIRE_OK(e.set(t.path, v));
            check_value(e, t, v);
            // Through a session file: parsed (which checks it on a scratch engine), then applied.
            const std::string text = session_text(t, toml_value(*t.param, v));
            INFO(text);
            try {
                const Session s = Session::parse(text, "ranges.toml");
                Engine applied(s.engine_options());
                s.apply(applied);
                check_value(applied, t, v);
            } catch (const SessionError& err) {
                FAIL(err.what());
            }
            ++covered;
        }
    }
    CHECK(covered == 2 * all.size());
}

TEST_CASE("a range is printed as documented: the decimals it was declared with", "[params]") {
    Engine e;
    RTMIX_REQUIRE_OK(e.add_bus("b"));
    RTMIX_REQUIRE_OK(e.add_effect("bus.b", Effect::reverb));
    RTMIX_REQUIRE_OK(e.add_effect("bus.b", Effect::delay));
    Status s = e.set("bus.b.reverb.decay_s", 0.09);
    CHECK(s.message() == "bus.b.reverb.decay_s = 0.09: out of range [0.1, 30]");
    s = e.set("bus.b.delay.feedback", 0.951);
    CHECK(s.message() == "bus.b.delay.feedback = 0.951: out of range [0, 0.95]");
    ParameterInfo info;
    RTMIX_REQUIRE_OK(e.parameter_info("bus.b.reverb.decay_s", info));
    CHECK(info.min == 0.1);
    RTMIX_REQUIRE_OK(e.parameter_info("bus.b.delay.feedback", info));
    CHECK(info.max == 0.95);
    CHECK(info.def == 0.35);
    // Every declared value prints as a short decimal (at most 8 significant digits), never as a
    // float's binary expansion such as 0.10000000149011612 (17).
    const auto short_decimal = [](double v) {
        const std::string text = fmt::format("{}", v);
        std::size_t digits = 0;
        for (const char c : text.substr(0, text.find('e')))
            if ((c >= '1' && c <= '9') || (c == '0' && digits > 0)) ++digits;
        return digits <= 8;
    };
    for (const Target& t : targets()) {
        INFO(t.path);
        CHECK(short_decimal(t.param->min));
        CHECK(short_decimal(t.param->max));
        CHECK(short_decimal(t.param->def));
    }
}
