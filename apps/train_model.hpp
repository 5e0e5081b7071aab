#pragma once
// The data and the trainer of `apical train` and `apical evaluate`: a
// dataset turned into network inputs, and the library's trainer
// (learning/training/trainer.hpp) made from a configuration.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "apical/datasets/loader.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/reference/rate_data.hpp"
#include "apical/learning/training/trainer.hpp"
#include "train_config.hpp"

namespace apical::app {

using learning::raster_group;

// A dataset turned into network inputs: floats (input_scaling) and labels.
struct prepared_data {
  std::vector<float> train_inputs, test_inputs;
  std::vector<std::uint8_t> train_labels, test_labels;
  std::size_t input_size = 0;
  datasets::image_shape shape;
  std::vector<std::string> class_names;
  std::vector<float> input_means;  // subtracted from every sample (centred); else empty

  learning::dataset_view train() const { return {train_inputs, train_labels, input_size}; }
  learning::dataset_view test() const { return {test_inputs, test_labels, input_size}; }
};

// `means`, when non-empty, replaces the training-set means of centred inputs
// (a checkpoint's, so evaluation needs no training data).
prepared_data prepare_data(const datasets::loaded_dataset& data, input_scaling scaling,
                           const std::vector<float>& means = {});

// A fresh trainer for the configuration (validate() it first).
std::unique_ptr<learning::trainer> make_model(const train_config& c);

}  // namespace apical::app
