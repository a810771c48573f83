// EQs run side by side in SIMD lanes (dsp/eq_lanes.hpp) and compressors run as a group
// (Compressor::process_group) give the same bits as each strip's own EQ and compressor, whose
// responses and curves the other tests check against analytic formulas. Every instruction set the
// machine supports is checked.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "dsp/compressor.hpp"
#include "dsp/eq.hpp"
#include "dsp/eq_lanes.hpp"

using namespace rtmix;

namespace {

constexpr double rate = 48000.0;

/// An EQ with `bands` random bands (type, frequency, gain, Q, slope), settled (no glide).
std::unique_ptr<dsp::Equalizer> random_eq(std::mt19937& rng, std::uint32_t bands) {
    auto eq = std::make_unique<dsp::Equalizer>();
    eq->prepare(rate, 20.0f);
    std::uniform_int_distribution<int> type(1, 6);
    std::uniform_real_distribution<float> octave(0.0f, 9.5f), gain(-15.0f, 15.0f), q(0.3f, 8.0f);
    std::uniform_int_distribution<int> band_index(0, static_cast<int>(dsp::max_eq_bands) - 1);
    for (std::uint32_t b = 0; b < bands; ++b) {
        dsp::EqBandSettings s;
        s.type = static_cast<dsp::EqType>(type(rng));
        s.freq_hz = 20.0f * std::exp2(octave(rng));
        s.gain_db = gain(rng);
        s.q = q(rng);
        s.slope_db_oct = rng() % 2 == 0 ? 12 : 24;
        eq->band(static_cast<std::uint32_t>(band_index(rng))).set(s);
    }
    // Let every glide and type fade finish on silence.
    std::vector<float> l(48000, 0.0f), r(48000, 0.0f);
    float* bufs[2] = {l.data(), r.data()};
    eq->process(bufs, 2, 48000);
    return eq;
}

std::vector<float> noise(std::mt19937& rng, std::size_t n, float level) {
    std::uniform_real_distribution<float> d(-level, level);
    std::vector<float> x(n);
    for (auto& v : x) v = d(rng);
    return x;
}

std::vector<dsp::SimdIsa> supported_isas() {
    std::vector<dsp::SimdIsa> isas;
    for (auto isa : {dsp::SimdIsa::portable, dsp::SimdIsa::avx2, dsp::SimdIsa::avx512})
        if (dsp::simd_isa_supported(isa)) isas.push_back(isa);
    return isas;
}

}  // namespace

TEST_CASE("EQ lanes give the same bits as each strip's own EQ", "[eq][lanes]") {
    for (const dsp::SimdIsa isa : supported_isas()) {
        for (const std::uint32_t frames : {64u, 61u, 200u, 3u}) {
            std::mt19937 rng(1234 + frames);
            // Strips of 1 or 2 channels with 0 to 8 bands, up to 16 lanes.
            std::vector<std::unique_ptr<dsp::Equalizer>> mine, theirs;
            std::vector<std::uint32_t> channels;
            std::uint32_t lanes = 0;
            while (true) {
                const std::uint32_t nch = 1 + rng() % 2;
                if (lanes + nch > dsp::eq_lane_count) break;
                const std::uint32_t bands = rng() % (dsp::max_eq_bands + 1);
                const std::uint32_t seed = rng();
                std::mt19937 a(seed), b(seed);
                mine.push_back(random_eq(a, bands));
                theirs.push_back(random_eq(b, bands));
                channels.push_back(nch);
                lanes += nch;
            }
            INFO(dsp::simd_isa_name(isa) << ", " << frames << " frames, " << mine.size() << " strips, " << lanes
                                         << " lanes");
            std::vector<std::vector<float>> in_lanes, alone;
            for (std::uint32_t l = 0; l < lanes; ++l) in_lanes.push_back(noise(rng, frames * 5, 0.5f));
            alone = in_lanes;
            // Five runs in a row, so the states carry over between runs.
            for (int run = 0; run < 5; ++run) {
                dsp::EqLaneSet set;
                std::uint32_t l = 0;
                for (std::size_t s = 0; s < mine.size(); ++s) {
                    float* bufs[2] = {nullptr, nullptr};
                    for (std::uint32_t c = 0; c < channels[s]; ++c) {
                        const std::uint32_t lane = l + c;
                        bufs[c] = alone[lane].data() + run * frames;
                        REQUIRE(mine[s]->steady_stages(c, set.coefficients[lane], set.state[lane], set.stages[lane]));
                        set.buffer[lane] = in_lanes[lane].data() + run * frames;
                    }
                    theirs[s]->process(bufs, channels[s], frames);
                    l += channels[s];
                }
                set.lanes = l;
                dsp::run_eq_lanes(set, frames, isa);
            }
            for (std::uint32_t l = 0; l < lanes; ++l) {
                std::size_t first = 0;
                while (first < in_lanes[l].size() && in_lanes[l][first] == alone[l][first]) ++first;
                INFO("lane " << l << " first difference at " << first);
                CHECK(std::memcmp(in_lanes[l].data(), alone[l].data(), in_lanes[l].size() * sizeof(float)) == 0);
            }
        }
    }
}

TEST_CASE("the lanes choose an instruction set the CPU has", "[eq][lanes]") {
    CHECK(dsp::simd_isa_supported(dsp::eq_lanes_isa()));
    CHECK(dsp::simd_isa_supported(dsp::SimdIsa::portable));
}

TEST_CASE("compressors run as a group give the same bits as alone", "[compressor][lanes]") {
    std::mt19937 rng(99);
    constexpr std::uint32_t count = 11;
    dsp::Compressor grouped[count], alone[count];
    std::vector<std::vector<float>> sig_g, sig_a;
    std::uint32_t channels[count];
    for (std::uint32_t k = 0; k < count; ++k) {
        dsp::CompressorSettings s;
        s.enabled = k % 5 != 4;  // some disabled
        s.threshold_db = -30.0f + static_cast<float>(rng() % 25);
        s.ratio = 1.5f + static_cast<float>(rng() % 10);
        s.knee_db = static_cast<float>(rng() % 12);
        s.attack_ms = 0.5f + static_cast<float>(rng() % 50);
        s.release_ms = k % 3 == 0 ? 1.0f : 20.0f + static_cast<float>(rng() % 300);  // attack > release too
        s.makeup_db = static_cast<float>(rng() % 6);
        s.detector = k % 2 == 0 ? dsp::Detector::peak : dsp::Detector::rms;
        for (auto* c : {&grouped[k], &alone[k]}) {
            c->prepare(rate, 20.0f);
            c->set(s);
        }
        channels[k] = 1 + k % 2;
        for (std::uint32_t c = 0; c < 2; ++c) {
            // Bursts: loud, quiet, silent, so that compressors attack, release and come to rest.
            std::vector<float> x = noise(rng, 9600, 1.0f);
            for (std::size_t i = 0; i < x.size(); ++i) x[i] *= (i / 1200) % 3 == 0 ? 1.0f : (i / 1200) % 3 == 1 ? 0.05f : 0.0f;
            sig_g.push_back(x);
            sig_a.push_back(x);
        }
    }
    // One compressor starts at another chunk phase: it runs alone inside the group call.
    {
        std::vector<float> z(10, 0.0f);
        float* b[2] = {z.data(), z.data()};
        grouped[7].process(b, 1, 10);
        alone[7].process(b, 1, 10);
    }
    std::uint32_t pos = 0;
    float deepest = 0.0f;  // the compressors must have worked
    for (const std::uint32_t frames : {64u, 100u, 7u, 64u, 1000u, 33u, 4000u, 64u}) {
        float* bufs_g[count][2];
        float* const* group_buffers[count];
        dsp::Compressor* comps[count];
        for (std::uint32_t k = 0; k < count; ++k) {
            bufs_g[k][0] = sig_g[2 * k].data() + pos;
            bufs_g[k][1] = sig_g[2 * k + 1].data() + pos;
            group_buffers[k] = bufs_g[k];
            comps[k] = &grouped[k];
            float* bufs_a[2] = {sig_a[2 * k].data() + pos, sig_a[2 * k + 1].data() + pos};
            alone[k].process(bufs_a, channels[k], frames);
        }
        dsp::Compressor::process_group(comps, group_buffers, channels, count, frames);
        for (std::uint32_t k = 0; k < count; ++k) {
            INFO("compressor " << k << " after " << pos + frames << " frames");
            CHECK(grouped[k].gain_reduction_db() == alone[k].gain_reduction_db());
            CHECK(grouped[k].block_max_reduction_db() == alone[k].block_max_reduction_db());
            deepest = std::min(deepest, alone[k].block_max_reduction_db());
        }
        pos += frames;
    }
    CHECK(deepest < -6.0f);
    for (std::uint32_t k = 0; k < count; ++k) {
        INFO("compressor " << k);
        CHECK(std::memcmp(sig_g[2 * k].data(), sig_a[2 * k].data(), pos * sizeof(float)) == 0);
        CHECK(std::memcmp(sig_g[2 * k + 1].data(), sig_a[2 * k + 1].data(), pos * sizeof(float)) == 0);
    }
}
