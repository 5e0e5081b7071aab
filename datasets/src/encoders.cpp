#include "apical/datasets/encoders.hpp"

#include <cmath>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"

namespace apical::datasets {
namespace {

// Guards against a rate given in the wrong unit filling memory.
constexpr double max_expected_spikes_per_channel = 1e6;

void check_duration(double duration_ms, std::string_view encoder) {
  if (!(duration_ms > 0.0) || !std::isfinite(duration_ms)) {
    throw parameter_error(fmt::format("{}.duration_ms is {}; expected a finite duration > 0 ms",
                                      encoder, duration_ms));
  }
}

void check_rate(double max_rate_hz, double duration_ms, std::string_view encoder) {
  if (!(max_rate_hz >= 0.0) || !std::isfinite(max_rate_hz)) {
    throw parameter_error(
        fmt::format("{}.max_rate_hz is {}; expected a finite rate >= 0 Hz", encoder, max_rate_hz));
  }
  if (max_rate_hz * duration_ms / 1000.0 > max_expected_spikes_per_channel) {
    throw parameter_error(fmt::format(
        "{}.max_rate_hz is {} Hz over duration_ms {} ms: {} spikes per channel; expected at most "
        "{} (is the rate in Hz and the duration in ms?)",
        encoder, max_rate_hz, duration_ms, max_rate_hz * duration_ms / 1000.0,
        max_expected_spikes_per_channel));
  }
}

// Checks every value, then calls fire(channel, magnitude) once per channel
// in channel order (ON plane, then OFF plane).
template <class Fire>
void for_each_channel(std::span<const float> values, bool on_off, std::string_view encoder,
                      spike_raster& out, Fire&& fire) {
  const float low = on_off ? -1.0f : 0.0f;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (!(v >= low && v <= 1.0f)) {
      throw parameter_error(fmt::format(
          "{}: values[{}] is {}; expected {} to 1{}", encoder, i, v, low,
          on_off ? " (signed intensities)"
                 : " (intensities; set on_off for signed, e.g. mean-subtracted, inputs)"));
    }
  }
  out.clear();
  out.offsets.reserve(values.size() * (on_off ? 2 : 1) + 1);
  const auto emit = [&](double magnitude) {
    fire(magnitude);
    out.offsets.push_back(out.times_ms.size());
  };
  if (!on_off) {
    for (const float v : values) emit(v);
    return;
  }
  for (const float v : values) emit(v > 0.0f ? v : 0.0);
  for (const float v : values) emit(v < 0.0f ? -v : 0.0);
}

}  // namespace

void poisson_encoder::validate() const {
  check_duration(duration_ms, "poisson_encoder");
  check_rate(max_rate_hz, duration_ms, "poisson_encoder");
}

void poisson_encoder::encode(std::span<const float> values, std::uint64_t seed,
                             std::uint64_t sample_index, spike_raster& out) const {
  validate();
  rng r(derive_seed(seed, stream::encoder, sample_index));
  const double max_rate_per_ms = max_rate_hz / 1000.0;
  for_each_channel(values, on_off, "poisson_encoder", out, [&](double x) {
    const double rate_per_ms = x * max_rate_per_ms;
    if (rate_per_ms <= 0.0) return;
    const double mean_interval_ms = 1.0 / rate_per_ms;
    for (double t = r.exponential(mean_interval_ms); t < duration_ms;
         t += r.exponential(mean_interval_ms)) {
      out.times_ms.push_back(t);
    }
  });
}

void regular_encoder::validate() const {
  check_duration(duration_ms, "regular_encoder");
  check_rate(max_rate_hz, duration_ms, "regular_encoder");
  if (!(phase >= 0.0 && phase < 1.0)) {
    throw parameter_error(fmt::format(
        "regular_encoder.phase is {}; expected a fraction of the interval in [0, 1)", phase));
  }
}

void regular_encoder::encode(std::span<const float> values, std::uint64_t seed,
                             std::uint64_t sample_index, spike_raster& out) const {
  validate();
  rng r(derive_seed(seed, stream::encoder, sample_index));
  const double max_rate_per_ms = max_rate_hz / 1000.0;
  for_each_channel(values, on_off, "regular_encoder", out, [&](double x) {
    // Drawn for every channel, firing or not, so a channel's phase does not
    // depend on the values of the channels before it.
    const double channel_phase = random_phase ? r.uniform() : phase;
    const double rate_per_ms = x * max_rate_per_ms;
    if (rate_per_ms <= 0.0) return;
    const double interval_ms = 1.0 / rate_per_ms;
    // Multiplied or divided, not accumulated, so the spacing carries no
    // rounding drift.
    for (std::uint64_t k = 0;; ++k) {
      const double n = channel_phase + static_cast<double>(k);
      const double t = times == spacing::interval ? n * interval_ms : n / rate_per_ms;
      if (t >= duration_ms) break;
      out.times_ms.push_back(t);
    }
  });
}

void latency_encoder::validate() const {
  check_duration(duration_ms, "latency_encoder");
  if (scale == latency_scale::linear && !(threshold >= 0.0 && threshold < 1.0)) {
    throw parameter_error(
        fmt::format("latency_encoder.threshold is {}; expected an intensity in [0, 1)", threshold));
  }
  if (scale == latency_scale::logarithmic) {
    if (!(threshold > 0.0 && threshold < 1.0)) {
      throw parameter_error(fmt::format(
          "latency_encoder.threshold is {}; the logarithmic scale expects an intensity in (0, 1) "
          "(the membrane threshold)",
          threshold));
    }
    if (!(tau_ms > 0.0) || !std::isfinite(tau_ms)) {
      throw parameter_error(fmt::format(
          "latency_encoder.tau_ms is {}; expected a finite time constant > 0 ms", tau_ms));
    }
  }
}

void latency_encoder::encode(std::span<const float> values, std::uint64_t /*seed*/,
                             std::uint64_t /*sample_index*/, spike_raster& out) const {
  validate();
  for_each_channel(values, on_off, "latency_encoder", out, [&](double x) {
    if (x <= threshold) return;
    const double t = scale == latency_scale::linear ? duration_ms * (1.0 - x) / (1.0 - threshold)
                                                    : tau_ms * std::log(x / (x - threshold));
    if (t < duration_ms) out.times_ms.push_back(t);
  });
}

spike_raster encode(const encoder& e, std::span<const float> values, std::uint64_t seed,
                    std::uint64_t sample_index) {
  spike_raster out;
  std::visit([&](const auto& enc) { enc.encode(values, seed, sample_index, out); }, e);
  return out;
}

void validate(const encoder& e) {
  std::visit([](const auto& enc) { enc.validate(); }, e);
}

bool uses_on_off(const encoder& e) {
  return std::visit([](const auto& enc) { return enc.on_off; }, e);
}

double duration_ms(const encoder& e) {
  return std::visit([](const auto& enc) { return enc.duration_ms; }, e);
}

std::size_t channel_count(const encoder& e, std::size_t inputs) {
  return uses_on_off(e) ? 2 * inputs : inputs;
}

spike_raster encode_image(const encoder& e, const dataset& data, std::size_t index,
                          std::uint64_t seed, std::span<const double> channel_means) {
  if (index >= data.size()) {
    throw parameter_error(fmt::format("encode_image: index {} is out of range; '{}' has {} images",
                                      index, data.name(), data.size()));
  }
  const auto values = uses_on_off(e)
                          ? centred_intensities(data.image(index), data.shape(), channel_means)
                          : intensities(data.image(index));
  return encode(e, values, seed, index);
}

}  // namespace apical::datasets
