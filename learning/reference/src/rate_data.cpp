#include "apical/learning/reference/rate_data.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"

namespace apical::learning {

std::vector<std::size_t> epoch_order(std::size_t count, std::uint64_t seed, std::size_t epoch) {
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  rng gen(derive_seed(seed, stream::training, epoch));
  for (std::size_t i = count; i-- > 1;) std::swap(order[i], order[gen.below(i + 1)]);
  return order;
}

void gather(dataset_view data, std::span<const std::size_t> samples, matrix& inputs,
            std::vector<std::uint8_t>& labels) {
  const std::size_t width = data.input_size;
  inputs.resize(samples.size(), width);
  labels.resize(samples.size());
  for (std::size_t s = 0; s < samples.size(); ++s) {
    std::copy(data.input(samples[s]), data.input(samples[s]) + width, inputs.row(s));
    labels[s] = data.labels[samples[s]];
  }
}

void add_count_noise(matrix& inputs, std::span<const std::size_t> samples, double counts,
                     std::uint64_t seed, std::size_t epoch) {
  if (!(counts > 0.0) || !std::isfinite(counts))
    throw parameter_error("count noise: counts is " + std::to_string(counts) +
                          "; expected a finite value > 0");
  if (samples.size() != inputs.rows())
    throw parameter_error("count noise: " + std::to_string(samples.size()) + " samples for " +
                          std::to_string(inputs.rows()) + " input rows; expected one per row");
  const std::uint64_t epoch_seed = derive_seed(seed, stream::encoder, epoch);
  for (std::size_t s = 0; s < samples.size(); ++s) {
    rng gen(derive_seed(epoch_seed, stream::encoder, samples[s]));
    float* row = inputs.row(s);
    for (std::size_t j = 0; j < inputs.cols(); ++j) {
      const double rate = counts * static_cast<double>(row[j]);
      if (!(rate >= 0.0) || !std::isfinite(rate))
        throw parameter_error("count noise: sample " + std::to_string(samples[s]) + ", input " +
                              std::to_string(j) + " is " + std::to_string(row[j]) +
                              "; expected a finite value >= 0 (a firing rate)");
      row[j] = static_cast<float>(static_cast<double>(gen.poisson(rate)) / counts);
    }
  }
}

void resample_counts(std::span<float> values, double mean_count, std::uint64_t seed) {
  if (!(mean_count > 0.0) || !std::isfinite(mean_count))
    throw parameter_error("count resampling: mean_count is " + std::to_string(mean_count) +
                          "; expected a finite value > 0");
  double sum = 0.0;
  for (const float v : values) {
    if (!(v >= 0.0f) || !std::isfinite(v))
      throw parameter_error("count resampling: a value is " + std::to_string(v) +
                            "; expected finite values >= 0 (firing rates)");
    sum += v;
  }
  if (sum == 0.0) return;  // a silent layer emits no spikes
  const double scale = mean_count * static_cast<double>(values.size()) / sum;
  rng gen(seed);
  for (float& v : values)
    v = static_cast<float>(static_cast<double>(gen.poisson(scale * v)) / scale);
}

dataset_view::dataset_view(std::span<const float> input_values,
                           std::span<const std::uint8_t> label_values, std::size_t sample_size)
    : inputs(input_values.data()),
      labels(label_values.data()),
      count(label_values.size()),
      input_size(sample_size) {
  if (sample_size == 0) throw parameter_error("dataset: input_size is 0, expected >= 1");
  if (input_values.size() != label_values.size() * sample_size) {
    throw parameter_error("dataset: " + std::to_string(input_values.size()) + " input values for " +
                          std::to_string(label_values.size()) + " labels, expected " +
                          std::to_string(label_values.size() * sample_size) + " (labels x " +
                          std::to_string(sample_size) + ")");
  }
}

void dataset_view::check(std::size_t expected_input_size, std::size_t num_classes,
                         std::string_view name) const {
  if (count == 0) return;
  if (input_size != expected_input_size) {
    throw parameter_error(std::string(name) + ": input_size is " + std::to_string(input_size) +
                          ", expected " + std::to_string(expected_input_size) +
                          " (the network's input size)");
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (labels[i] >= num_classes) {
      throw parameter_error(std::string(name) + ": label of sample " + std::to_string(i) + " is " +
                            std::to_string(labels[i]) + ", expected < " +
                            std::to_string(num_classes) + " (the network's output size)");
    }
  }
}

}  // namespace apical::learning
