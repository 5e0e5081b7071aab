#pragma once
// Spike encoders: turn an image into exact spike times, one channel per
// input value, for a spike-time source population to replay.
//
// Input values are intensities in [0, 1], one per pixel and colour plane, in
// the image's C x H x W order (intensities() maps uint8 pixels to x / 255).
// With on_off = true the values are signed, in [-1, 1] (e.g. mean-subtracted,
// see centred_intensities()), and each gets two channels: channel i is ON
// and fires for a positive value, channel n + i is OFF and fires for a
// negative one, both with the magnitude |v|. So the raster has n channels,
// or 2n with on_off (ON plane first, then OFF plane).
//
// Encoder             spikes of a channel with magnitude x (window [0, T))
// poisson_encoder     Poisson process of rate x * max_rate_hz: exponential
//                     intervals, not a time grid
// regular_encoder     evenly spaced at the interval 1000 / (x * max_rate_hz)
//                     ms, the first at phase * interval
// latency_encoder     one spike, the brighter the earlier, none for
//                     x <= threshold:
//                       linear:      t = T (1 - x) / (1 - threshold)
//                       logarithmic: t = tau_ms ln(x / (x - threshold)),
//                                    dropped if t >= T (the time an RC
//                                    membrane driven by x takes to reach
//                                    threshold)
//
// The rate of a channel is computed as r = x * (max_rate_hz / 1000) spikes
// per ms; a Poisson channel draws its intervals with mean 1 / r, a regular
// one places spike k at (phase + k) * (1 / r) (spacing::interval) or
// (phase + k) / r (spacing::rate, rounded once; the microcircuit's input
// coding). The two spacings differ only in the last bit of some times.
//
// Parameters (all encoders share duration_ms and on_off):
// name          | unit | default | meaning
// duration_ms   | ms   | 100     | window T; spikes lie in [0, T)
// max_rate_hz   | Hz   | 100     | rate for x = 1 (poisson, regular)
// phase         | 1    | 0       | regular: first spike at phase x interval, in [0, 1)
// random_phase  | -    | false   | regular: draw each channel's phase uniformly
// times         | -    | interval| regular: spacing::interval or spacing::rate
// scale         | -    | linear  | latency: linear or logarithmic
// threshold     | 1    | 0       | latency: no spike for x <= threshold, in [0, 1)
// tau_ms        | ms   | 20      | latency, logarithmic: membrane time constant
// on_off        | -    | false   | two channels per signed input
//
// Randomness: sample `sample_index` draws from
// rng(derive_seed(seed, stream::encoder, sample_index)) and from nothing else,
// so a sample gets the same spikes whatever order or thread encodes it.
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "apical/datasets/dataset.hpp"
#include "apical/datasets/preprocess.hpp"
#include "apical/engine/spike_raster.hpp"

namespace apical::datasets {

struct poisson_encoder {
  double duration_ms = 100.0;
  double max_rate_hz = 100.0;
  bool on_off = false;

  // Throws parameter_error naming the field out of its domain.
  void validate() const;
  // Replaces the contents of `out` (reusing its memory).
  void encode(std::span<const float> values, std::uint64_t seed, std::uint64_t sample_index,
              spike_raster& out) const;
};

enum class spacing : std::uint8_t { interval, rate };

struct regular_encoder {
  double duration_ms = 100.0;
  double max_rate_hz = 100.0;
  double phase = 0.0;
  bool random_phase = false;
  bool on_off = false;
  spacing times = spacing::interval;

  void validate() const;
  void encode(std::span<const float> values, std::uint64_t seed, std::uint64_t sample_index,
              spike_raster& out) const;
};

enum class latency_scale { linear, logarithmic };

struct latency_encoder {
  double duration_ms = 100.0;
  latency_scale scale = latency_scale::linear;
  double threshold = 0.0;
  double tau_ms = 20.0;
  bool on_off = false;

  void validate() const;
  void encode(std::span<const float> values, std::uint64_t seed, std::uint64_t sample_index,
              spike_raster& out) const;
};

using encoder = std::variant<poisson_encoder, regular_encoder, latency_encoder>;

// Encodes with whichever encoder `e` holds. Throws parameter_error for a
// parameter or a value out of its domain (naming it, e.g. "values[12]").
spike_raster encode(const encoder& e, std::span<const float> values, std::uint64_t seed,
                    std::uint64_t sample_index);
void validate(const encoder& e);
bool uses_on_off(const encoder& e);
double duration_ms(const encoder& e);
// Channels of the raster for `inputs` values.
std::size_t channel_count(const encoder& e, std::size_t inputs);

// Encodes image `index` of `data` with sample_index = index: intensities(),
// or, for an on_off encoder, centred_intensities() with `channel_means`
// (e.g. the training set's dataset::channel_means()).
spike_raster encode_image(const encoder& e, const dataset& data, std::size_t index,
                          std::uint64_t seed, std::span<const double> channel_means = {});

}  // namespace apical::datasets
