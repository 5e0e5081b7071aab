#pragma once
// A training run: the epoch loop every `apical train` run and comparison
// goes through, whatever the trainer. Per epoch:
//   1. train one epoch (progress and the train-accuracy curve recorded),
//   2. check for divergence (a non-finite loss or saved quantity stops the
//      run with a message instead of training on NaN),
//   3. evaluate on the test set,
//   4. append the epoch's record to the history and tell the observer
//      (which saves the checkpoint, writes the metrics, prints a line).
// The run writes nothing itself: files, pictures and the terminal are the
// caller's.
#include <cstddef>
#include <functional>
#include <string>

#include "apical/learning/reference/rate_data.hpp"
#include "apical/learning/training/metrics.hpp"
#include "apical/learning/training/trainer.hpp"

namespace apical::learning {

// Empty while `train_loss` and every quantity `t` saves (weights, biases,
// velocities) are finite; else what is not.
std::string divergence(const trainer& t, double train_loss);

// What a run reports to, each member optional.
struct run_observer {
  // Before epoch `epoch` (1-based) is trained.
  std::function<void(std::size_t epoch)> begin_epoch;
  // (samples done, correct) during training.
  progress_callback training;
  // A progress for the evaluation of `samples` test samples.
  std::function<progress_callback(std::size_t samples)> testing;
  // After the epoch's record joined the history.
  std::function<void(const epoch_record&)> end_epoch;
};

// Why a diverged run stops: `who` names the run in the message, `kept`
// says what of it survives after epoch `epoch` (1-based) diverged, and
// learning_rate is the step it was given.
struct divergence_report {
  std::string who;
  std::function<std::string(std::size_t epoch)> kept;
  double learning_rate = 0.0;
};

class training_run {
 public:
  // `t` trains on `train` and is tested on `test` (which may be empty);
  // the records go to `history`.
  training_run(trainer& t, dataset_view train, dataset_view test, training_history& history)
      : trainer_(t), train_(train), test_(test), history_(history) {}

  // The test accuracy before any training, into the history.
  void test_initial(const run_observer& observer = {});
  // Trains until `epochs` epochs are done (none when they are); throws
  // parameter_error, built from `report`, when an epoch diverges.
  void train_until(std::size_t epochs, const divergence_report& report,
                   const run_observer& observer = {});

 private:
  trainer& trainer_;
  dataset_view train_, test_;
  training_history& history_;
};

}  // namespace apical::learning
