#pragma once
// The data and the trainer of `apical train` and `apical evaluate`: a
// dataset turned into network inputs (datasets::prepare_inputs), and the
// library's trainer (learning/training/trainer.hpp) made from a
// configuration.
#include <memory>

#include "apical/datasets/loader.hpp"
#include "apical/datasets/preprocess.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/reference/rate_data.hpp"
#include "apical/learning/training/trainer.hpp"
#include "train_config.hpp"

namespace apical::app {

using learning::raster_group;

// A dataset turned into network inputs (datasets::prepare_inputs), with
// views for the trainers.
struct prepared_data : datasets::network_inputs {
  learning::dataset_view train() const { return {train_inputs, train_labels, input_size}; }
  learning::dataset_view test() const { return {test_inputs, test_labels, input_size}; }
};

// The dataset of the configuration (train_samples and test_samples of it),
// checked against the configuration (check_against_data) and not empty.
datasets::loaded_dataset load_training_data(const train_config& c);

// A fresh trainer for the configuration (validate() it first).
std::unique_ptr<learning::trainer> make_model(const train_config& c);

}  // namespace apical::app
