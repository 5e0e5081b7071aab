#pragma once
// What a training run measures, epoch by epoch: the records a training run
// keeps (training_history), saves in its checkpoint and hands to the report
// writers.
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace apical::learning {

inline constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();

struct epoch_record {
  std::size_t epoch = 0;                    // 1-based: epochs trained when this was measured
  std::size_t samples = 0;                  // trained on in this epoch
  double train_accuracy = 0.0;              // fraction, measured during training (before each step)
  double train_loss = 0.0;                  // rate: the loss; microcircuit: the spiking error
  double test_accuracy = not_measured;      // after the epoch
  double test_loss = not_measured;          // rate only
  double spikes_per_sample = not_measured;  // microcircuit: P and E spikes, all layers
  double input_spikes_per_sample = not_measured;
  double wall_s = 0.0;  // training, evaluation excluded
  double samples_per_s = 0.0;
  std::vector<double> alignment_deg;  // microcircuit: mean angle to BP per layer
  // microcircuit, per hidden layer: the fraction of units that fired in no
  // training sample of the epoch, in fewer than 1 % of them, and the mean
  // rate (Hz) in the training windows
  std::vector<double> dead_fraction;
  std::vector<double> quiet_fraction;
  std::vector<double> hidden_rate_hz;
};

// One measurement of the angle between the microcircuit's update and BP's,
// per weight layer, at a fractional epoch position (epoch - 1 + batch / batches).
struct alignment_point {
  double position = 0.0;
  std::vector<double> angles_deg;
};

// The train accuracy of the samples of one stretch of an epoch (about 1/50
// of it), ending at a fractional epoch position.
struct curve_point {
  double position = 0.0;
  double accuracy = 0.0;
};

struct training_history {
  double initial_test_accuracy = not_measured;  // before any training
  std::vector<epoch_record> epochs;
  std::vector<alignment_point> alignment;
  std::vector<curve_point> train_curve;
};

// Collects curve_points from the (done, correct) progress of an epoch.
class curve_recorder {
 public:
  curve_recorder(std::vector<curve_point>& out, std::size_t epoch_index, std::size_t samples)
      : out_(out),
        epoch_(epoch_index),
        samples_(samples),
        stride_(samples / 50 > 0 ? samples / 50 : 1) {}
  void operator()(std::size_t done, std::size_t correct) {
    if (done <= done_ || (done - done_ < stride_ && done < samples_)) return;
    out_.push_back(
        {static_cast<double>(epoch_) + static_cast<double>(done) / static_cast<double>(samples_),
         static_cast<double>(correct - correct_) / static_cast<double>(done - done_)});
    done_ = done;
    correct_ = correct;
  }

 private:
  std::vector<curve_point>& out_;
  std::size_t epoch_, samples_, stride_;
  std::size_t done_ = 0, correct_ = 0;
};

// A reference trainer trained on the same data as a main run, for comparison.
struct comparison_run {
  std::string algo;
  std::string label;                    // algo, or algo@step when the step was given
  double learning_rate = not_measured;  // the step it trained with
  double initial_test_accuracy = not_measured;
  std::vector<epoch_record> epochs;
  std::vector<curve_point> train_curve;
};

}  // namespace apical::learning
