#pragma once
// trainer: every training algorithm behind one interface: a rate network
// trained by a reference trainer (BP, FA, DFA, SC-FA) or the spiking
// microcircuit. Each trains one epoch at a time, evaluates, predicts, and
// moves its whole state in and out of a checkpoint; a training run
// (run.hpp) drives any of them.
//
// Determinism. Epoch e (0-based, counted over the run and its resumptions)
// visits the training samples in the order of
// rng(derive_seed(seed, stream::training, e)), the order of
// reference_trainer::train and microcircuit_trainer::train_epoch; the
// microcircuit also encodes with (seed, e). Everything else a run depends on
// is in the checkpoint, so epochs 0..n-1, a checkpoint, and epochs n..m-1
// give the weights of epochs 0..m-1 in one go, bit for bit.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "apical/learning/microcircuit/params.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/reference/rate_data.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/reference/reference_trainer.hpp"
#include "apical/learning/training/checkpoint.hpp"
#include "apical/learning/training/metrics.hpp"
#include "apical/learning/training/optimizer.hpp"

namespace apical::learning {

struct evaluation_result {
  double accuracy = 0.0;
  double loss = not_measured;
};

// Called during an epoch with the samples trained so far and how many of
// them the network classified correctly.
using progress_callback = std::function<void(std::size_t done, std::size_t correct)>;

// The spikes of one presentation, population by population (microcircuit).
struct raster_group {
  std::string name;
  std::size_t neurons = 0;
  std::vector<std::pair<double, std::uint32_t>> spikes;  // (time ms, neuron)
};

class trainer {
 public:
  virtual ~trainer() = default;

  virtual std::size_t epochs_done() const = 0;
  // One epoch over `data`; appends alignment measurements when the trainer
  // makes them. The record's test fields are left unmeasured.
  virtual epoch_record train_epoch(dataset_view data, const progress_callback& progress,
                                   std::vector<alignment_point>& alignment) = 0;
  // progress, when set, hears (samples done, correct so far) while a
  // microcircuit evaluates, possibly from its worker threads (one call at a
  // time); the rate trainers take seconds and do not call it.
  virtual evaluation_result evaluate(dataset_view data, const progress_callback& progress) = 0;
  // The predicted class of every sample; -1 where the network gave none
  // (a silent microcircuit output).
  virtual std::vector<int> predict(dataset_view data, const progress_callback& progress) = 0;

  virtual const matrix& first_layer_weights() const = 0;
  // The spikes of one sample presented with its label (microcircuit; an
  // empty list for rate trainers).
  virtual std::vector<raster_group> record(std::span<const float> input, int label,
                                           std::uint64_t sample_index) {
    (void)input, (void)label, (void)sample_index;
    return {};
  }

  // Weights, optimiser state, feedback, epoch count into / out of c.
  virtual void save(checkpoint& c) const = 0;
  // Throws file_error naming `file` and the field that does not fit.
  virtual void restore(const checkpoint& c, const std::string& file) = 0;
};

// A rate network and its reference trainer; the step of each epoch follows
// `schedule` (trainer settings' learning_rate is replaced by it).
std::unique_ptr<trainer> make_rate_trainer(const rate_network_params& network,
                                           const trainer_params& settings,
                                           learning_rate_schedule schedule);

// The spiking microcircuit; `alignment`: measure the angle to BP on every
// batch.
std::unique_ptr<trainer> make_microcircuit_trainer(const microcircuit_params& params,
                                                   learning_rate_schedule schedule, bool alignment);

}  // namespace apical::learning
