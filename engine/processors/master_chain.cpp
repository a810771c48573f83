#include "processors/master_chain.hpp"

#include <algorithm>
#include <limits>

#include "processors/limiter.hpp"

namespace rtmix::engine {

namespace {

constexpr float minus_inf = -std::numeric_limits<float>::infinity();
constexpr double pi = 3.14159265358979323846;

float to_db(float linear) { return linear > 0.0f ? 20.0f * std::log10(linear) : minus_inf; }

/// Loudness of a K-weighted mean square (BS.1770-4, both channels weighted 1).
double loudness(double mean_square) {
    return mean_square > 0.0 ? -0.691 + 10.0 * std::log10(mean_square) : -std::numeric_limits<double>::infinity();
}

float as_float(double v) { return std::isfinite(v) ? static_cast<float>(v) : minus_inf; }

}  // namespace

void MasterChain::Histogram::add(double mean_square) noexcept {
    const double l = loudness(mean_square);
    if (!(l >= floor_lufs)) return;  // the absolute gate
    const std::size_t b = bin_of(l);
    ++count[b];
    energy[b] += mean_square;
}

std::size_t MasterChain::Histogram::bin_of(double lufs) const noexcept {
    const double i = std::floor((lufs - floor_lufs) / step_lu);
    return static_cast<std::size_t>(std::clamp(i, 0.0, static_cast<double>(bins - 1)));
}

bool MasterChain::Histogram::relative_gate(double gate_lu, std::size_t& bin) const noexcept {
    std::uint64_t n = 0;
    double e = 0.0;
    for (std::size_t b = 0; b < bins; ++b) {
        n += count[b];
        e += energy[b];
    }
    if (n == 0) return false;
    bin = bin_of(loudness(e / static_cast<double>(n)) - gate_lu);
    return true;
}

void MasterChain::Histogram::clear() noexcept {
    std::fill(count.begin(), count.end(), 0u);
    std::fill(energy.begin(), energy.end(), 0.0);
}

MasterChain::MasterChain(double sample_rate, float smoothing_ms, bool loudness_meter)
    : limiter_(sample_rate, smoothing_ms),
      loudness_(loudness_meter),
      sub_block_(static_cast<std::uint32_t>(std::lround(sample_rate * 0.1))),
      detector_{dsp::TruePeakDetector(sample_rate), dsp::TruePeakDetector(sample_rate)},
      slot_({minus_inf, minus_inf, minus_inf, 0.0f, minus_inf, minus_inf, 0.0f, 0.0f}) {
    // K-weighting stage 1, a high shelf: f0 = 1681.97 Hz, +4.0 dB, Q = 0.7072; stage 2, a
    // second-order highpass: f0 = 38.135 Hz, Q = 0.5003. Bilinear transform prewarped at f0; at
    // 48 kHz these give the coefficients BS.1770-4 publishes.
    {
        const double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
        const double k = std::tan(pi * f0 / sample_rate);
        const double vh = std::pow(10.0, gain_db / 20.0), vb = std::pow(vh, 0.4996667741545416);
        const double a0 = 1.0 + k / q + k * k;
        shelf_ = {(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
                  2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0};
    }
    {
        const double f0 = 38.13547087602444, q = 0.5003270373238773;
        const double k = std::tan(pi * f0 / sample_rate);
        const double a0 = 1.0 + k / q + k * k;
        highpass_ = {1.0, -2.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0};
    }
}

void MasterChain::apply(std::uint16_t param, std::uint8_t, float value) noexcept {
    const auto own = static_cast<std::uint16_t>(limiter_kind.info.params.size());
    limiter_.set(param < own ? limiter_param(param) : dsp::LimiterParam::enabled, value);
}

void MasterChain::process(float* left, float* right, std::uint32_t frames) noexcept {
    limiter_.process(left, right, frames);
    std::uint32_t done = 0;
    while (done < frames) {
        const std::uint32_t n = std::min(frames - done, sub_block_ - in_sub_block_);
        if (loudness_) measure(left + done, right + done, n);
        done += n;
        in_sub_block_ += n;
        if (in_sub_block_ == sub_block_) {
            in_sub_block_ = 0;
            if (loudness_) end_sub_block();
            publish();
        }
    }
}

void MasterChain::measure(const float* left, const float* right, std::uint32_t frames) noexcept {
    const Biquad s = shelf_, h = highpass_;
    const float* in[2] = {left, right};
    double energy = 0.0;
    for (int c = 0; c < 2; ++c) {
        double* z = state_[c];
        float tp = true_peak_, sp = sample_peak_;
        // The detector in blocks: several outputs share each of its vector steps. After a
        // reset its first latency() estimates are for audio from before it, and are skipped.
        float peaks[64];
        for (std::uint32_t i = 0; i < frames; i += 64) {
            const std::uint32_t n = std::min(frames - i, 64u);
            detector_[c].process(in[c] + i, peaks, n);
            for (std::uint32_t k = i < tp_skip_ ? tp_skip_ - i : 0; k < n; ++k) tp = std::max(tp, peaks[k]);
        }
        for (std::uint32_t i = 0; i < frames; ++i) {
            const float x = in[c][i];
            sp = std::max(sp, std::fabs(x));
            // Transposed direct form II, twice.
            const double y1 = s.b0 * x + z[0];
            z[0] = s.b1 * x - s.a1 * y1 + z[1];
            z[1] = s.b2 * x - s.a2 * y1;
            const double y2 = h.b0 * y1 + z[2];
            z[2] = h.b1 * y1 - h.a1 * y2 + z[3];
            z[3] = h.b2 * y1 - h.a2 * y2;
            energy += y2 * y2;
        }
        true_peak_ = tp;
        sample_peak_ = sp;
    }
    tp_skip_ -= std::min(tp_skip_, frames);
    energy_ += energy;
}

void MasterChain::end_sub_block() noexcept {
    newest_ = (newest_ + 1) % short_term_blocks;
    blocks_[newest_] = energy_;
    energy_ = 0.0;
    ++sub_blocks_seen_;
    double sum = 0.0, momentary = 0.0;
    for (std::size_t i = 0; i < short_term_blocks; ++i) {
        sum += blocks_[(newest_ + short_term_blocks - i) % short_term_blocks];
        if (i == 3) momentary = sum / (4.0 * sub_block_);
    }
    const double short_term = sum / (static_cast<double>(short_term_blocks) * sub_block_);
    momentary_ = as_float(loudness(momentary));
    short_term_ = as_float(loudness(short_term));
    if (sub_blocks_seen_ >= 4) gating_.add(momentary);  // a complete 400 ms gating block
    if (sub_blocks_seen_ >= short_term_blocks) short_terms_.add(short_term);
}

float MasterChain::integrated() const noexcept {
    std::size_t first = 0;
    if (!gating_.relative_gate(10.0, first)) return minus_inf;
    std::uint64_t n = 0;
    double e = 0.0;
    for (std::size_t b = first; b < Histogram::bins; ++b) {
        n += gating_.count[b];
        e += gating_.energy[b];
    }
    return n == 0 ? minus_inf : as_float(loudness(e / static_cast<double>(n)));
}

float MasterChain::range() const noexcept {
    std::size_t first = 0;
    if (!short_terms_.relative_gate(20.0, first)) return 0.0f;
    std::uint64_t kept = 0;
    for (std::size_t b = first; b < Histogram::bins; ++b) kept += short_terms_.count[b];
    if (kept == 0) return 0.0f;
    // The 10th and 95th percentiles of the values above the gate, at bin centres.
    const auto percentile = [&](double p) {
        const auto rank = static_cast<std::uint64_t>(p * static_cast<double>(kept - 1));
        std::uint64_t seen = 0;
        for (std::size_t b = first; b < Histogram::bins; ++b) {
            seen += short_terms_.count[b];
            if (seen > rank) return short_terms_.centre(b);
        }
        return short_terms_.centre(Histogram::bins - 1);
    };
    return static_cast<float>(percentile(0.95) - percentile(0.10));
}

void MasterChain::reset_meters() noexcept {
    limiter_.reset_max();
    clear();
    publish();
}

void MasterChain::clear() noexcept {
    for (auto& z : state_)
        for (double& v : z) v = 0.0;
    energy_ = 0.0;
    blocks_.fill(0.0);
    newest_ = 0;
    sub_blocks_seen_ = 0;
    in_sub_block_ = 0;
    momentary_ = short_term_ = minus_inf;
    gating_.clear();
    short_terms_.clear();
    // The detectors keep their history (the audio before the reset is real: clearing it would
    // read the signal as starting from silence, a step whose ringing is not in the audio).
    tp_skip_ = detector_[0].latency();
    true_peak_ = sample_peak_ = 0.0f;
}

void MasterChain::publish() noexcept {
    std::array<float, 8> v{minus_inf, minus_inf, minus_inf, 0.0f, minus_inf, minus_inf,
                           limiter_.gain_reduction_db(), limiter_.max_gain_reduction_db()};
    if (loudness_) {
        v[0] = momentary_;
        v[1] = short_term_;
        v[2] = integrated();
        v[3] = range();
        v[4] = to_db(true_peak_);
        v[5] = to_db(sample_peak_);
    }
    slot_.publish(v);
}

MasterLoudness MasterChain::read() const noexcept {
    const std::array<float, 8> v = slot_.read();
    return MasterLoudness{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
}

}  // namespace rtmix::engine
