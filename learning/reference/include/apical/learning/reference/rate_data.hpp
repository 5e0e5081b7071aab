#pragma once
// Labelled data for the rate trainers: contiguous float inputs (one sample
// per row) and one uint8 label per sample. Images become such inputs in
// datasets/ (apical/datasets/preprocess.hpp).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "apical/learning/reference/matrix.hpp"

namespace apical::learning {

// A non-owning view of count samples of input_size floats each.
struct dataset_view {
  const float* inputs = nullptr;
  const std::uint8_t* labels = nullptr;
  std::size_t count = 0;
  std::size_t input_size = 0;

  dataset_view() = default;
  dataset_view(std::span<const float> input_values, std::span<const std::uint8_t> label_values,
               std::size_t sample_size);

  const float* input(std::size_t i) const { return inputs + i * input_size; }
  const_matrix_view input_rows(std::size_t first, std::size_t n) const {
    return {inputs + first * input_size, n, input_size};
  }
  bool empty() const { return count == 0; }
  // Throws parameter_error unless input_size matches and every label is
  // below num_classes; `name` says which data set in the message.
  void check(std::size_t expected_input_size, std::size_t num_classes, std::string_view name) const;
};

// The order in which epoch `epoch` visits `count` samples: a Fisher-Yates
// shuffle drawn from derive_seed(seed, stream::training, epoch), the same
// for every trainer.
std::vector<std::size_t> epoch_order(std::size_t count, std::uint64_t seed, std::size_t epoch);

// Copies the samples `samples` of `data` into the rows of `inputs` and
// their labels into `labels` (both resized to samples.size()).
void gather(dataset_view data, std::span<const std::size_t> samples, matrix& inputs,
            std::vector<std::uint8_t>& labels);

// Replaces each value x of `inputs` (row s holding sample samples[s]) by
// n / counts, n the number of events of a Poisson process of rate
// counts * x in unit time: the spike count a Poisson input of that rate
// would emit in a window where an input of value 1 emits `counts` spikes on
// average. Each sample draws from its own stream, derive_seed(derive_seed(
// seed, stream::encoder, epoch), stream::encoder, sample), so the noise
// does not depend on batching or threads. counts must be finite and > 0;
// throws parameter_error naming the sample on a negative or non-finite
// value (spike rates are >= 0).
void add_count_noise(matrix& inputs, std::span<const std::size_t> samples, double counts,
                     std::uint64_t seed, std::size_t epoch);

// Treats `values` (>= 0, one layer's activity for one sample) as firing
// rates and replaces them by spike counts: with s = mean_count * size / sum
// (so that the layer emits mean_count spikes per unit on average), each v
// becomes Poisson(s v) / s, drawn from rng(seed). Unchanged when all are 0.
// Throws parameter_error on a negative or non-finite value or mean_count.
void resample_counts(std::span<float> values, double mean_count, std::uint64_t seed);

}  // namespace apical::learning
