#pragma once
// What a training run measured, epoch by epoch, and its two report files:
// DIR/metrics.csv (one row per epoch) and DIR/metrics.json (the run, a list
// of epochs and final_test_accuracy as a fraction in [0, 1]). Both are
// rewritten atomically after every epoch.
#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace apical::app {

inline constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();

struct epoch_record {
  std::size_t epoch = 0;             // 1-based: epochs trained when this was measured
  std::size_t samples = 0;           // trained on in this epoch
  double train_accuracy = 0.0;       // fraction, measured during training (before each step)
  double train_loss = 0.0;           // rate: the loss; microcircuit: the spiking error
  double test_accuracy = not_measured;  // after the epoch
  double test_loss = not_measured;      // rate only
  double spikes_per_sample = not_measured;  // microcircuit: P and E spikes, all layers
  double input_spikes_per_sample = not_measured;
  double wall_s = 0.0;          // training, evaluation excluded
  double samples_per_s = 0.0;
  std::vector<double> alignment_deg;  // microcircuit: mean angle to BP per layer
};

// One measurement of the angle between the microcircuit's update and BP's,
// per weight layer, at a fractional epoch position (epoch - 1 + batch / batches).
struct alignment_point {
  double position = 0.0;
  std::vector<double> angles_deg;
};

struct training_history {
  double initial_test_accuracy = not_measured;  // before any training
  std::vector<epoch_record> epochs;
  std::vector<alignment_point> alignment;
};

// Test accuracy of a reference trainer trained on the same data (--compare).
struct comparison_run {
  std::string algo;
  double initial_test_accuracy = not_measured;
  std::vector<epoch_record> epochs;
};

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
