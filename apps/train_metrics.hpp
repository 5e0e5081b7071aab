#pragma once
// The two report files of a training run: DIR/metrics.csv (one row per
// epoch) and DIR/metrics.json (the run, a list of epochs and
// final_test_accuracy as a fraction in [0, 1]). Both are rewritten
// atomically after every epoch. The records are the library's
// (apical/learning/training/metrics.hpp).
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "apical/learning/training/metrics.hpp"

namespace apical::app {

using learning::alignment_point;
using learning::comparison_run;
using learning::curve_point;
using learning::curve_recorder;
using learning::epoch_record;
using learning::not_measured;
using learning::training_history;

struct run_summary {
  std::string dataset;
  std::string algo;
  std::string arch;
  std::size_t train_samples = 0;
  std::size_t test_samples = 0;
  std::size_t layers = 0;  // weight layers, for the alignment columns
};

void write_metrics_csv(const std::filesystem::path& file, const run_summary& run,
                       const training_history& h);
void write_metrics_json(const std::filesystem::path& file, const run_summary& run,
                        const training_history& h, const std::vector<comparison_run>& compare);

}  // namespace apical::app
