#pragma once
// reference_trainer: mini-batch training of a rate_network with BP, FA, DFA
// or SC-FA (one switch, see feedback.hpp) and SGD.
//
// Update. For a batch of B samples the update is the batch mean of the
// per-sample descent directions
//   dW^l = 1/B sum_s delta^l_s r^(l-1)_s^T,   db^l = 1/B sum_s delta^l_s
// and the one SGD (training/optimizer.hpp) applies, with
// g = dW - weight_decay W (no decay on biases):
//   v <- momentum v + g,   W <- W + learning_rate v
// (W <- W + learning_rate dW without momentum and decay).
//
// Parallelism and determinism. A batch runs in two phases. (1) The samples
// are split into row chunks, one per thread, each running the forward pass,
// the output delta and the backward pass for its rows; every row's numbers
// depend only on that row. (2) The weight updates are split by rows of dW
// (blocks of post-synaptic units); each element is summed over the samples
// in sample order. Neither phase's arithmetic depends on the split, so the
// weights are bit-identical for any number of threads.
//
// Parameters (trainer_params)
//   name           | default | meaning
//   algo           | bp      | bp, symmetric, fa, scfa, dfa
//   magnitude      | uniform | scfa magnitudes: uniform (M = 1, uSF) or random (frSF)
//   feedback_scale | 1       | scales random feedback and uSF magnitudes; > 0
//   learning_rate  | 0.01    | > 0
//   momentum       | 0       | in [0, 1)
//   weight_decay   | 0       | >= 0, on weights only
//   batch_size     | 32      | >= 1; the last batch of an epoch may be smaller
//   threads        | 1       | 1..256
//   seed           | 1       | feedback draws and the per-epoch shuffles
//                  |         | (derive_seed(seed, stream::training, epoch))
//   count_noise    | 0       | >= 0; > 0: train() presents each sample as
//                  |         | Poisson spike counts, x -> Poisson(count_noise
//                  |         | x) / count_noise (add_count_noise in
//                  |         | rate_data.hpp), the input noise a spiking
//                  |         | network sees; 0: the exact values
//   hidden_count_noise | 0   | >= 0; > 0: every hidden layer's activity is
//                  |         | resampled as Poisson spike counts, this many
//                  |         | per unit on average (resample_counts), in
//                  |         | training forward passes (the next layer and
//                  |         | its update see the counts, f' the exact
//                  |         | potential); needs relu or clipped_relu hidden
//                  |         | units and a noise seed per sample
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "apical/learning/reference/feedback.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/reference/rate_data.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/training/optimizer.hpp"

namespace apical::learning {

namespace detail {
class worker_pool;
}

struct trainer_params {
  algorithm algo = algorithm::bp;
  sign_magnitude magnitude = sign_magnitude::uniform;
  double feedback_scale = 1.0;
  double learning_rate = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  std::size_t batch_size = 32;
  std::size_t threads = 1;
  std::uint64_t seed = 1;
  double count_noise = 0.0;
  double hidden_count_noise = 0.0;

  // Throws parameter_error naming the first field out of its domain.
  void validate() const;
  feedback_params feedback_settings() const { return {algo, magnitude, feedback_scale, seed}; }
};

// Per-layer updates (descent directions, not yet scaled by the learning
// rate): weights[w] has the shape of W^(w+1); biases[w] is empty when the
// network has no bias.
struct weight_updates {
  std::vector<matrix> weights;
  std::vector<std::vector<float>> biases;
};

struct epoch_metrics {
  std::size_t epoch = 0;        // 0-based, counted over every train() call
  double train_loss = 0.0;      // mean per sample, each measured in its batch before the step
  double train_accuracy = 0.0;  // likewise
  double test_loss = 0.0;       // after the epoch; 0 without a test set
  double test_accuracy = 0.0;
  double seconds = 0.0;  // wall time of the epoch's training (evaluation excluded)
};

// The hidden-count-noise seed of sample `sample` in epoch `epoch`:
// derive_seed(derive_seed(seed, stream::neuron_noise, epoch),
// stream::neuron_noise, sample).
std::uint64_t sample_noise_seed(std::uint64_t seed, std::size_t epoch, std::size_t sample);

// The training noise p asks for, on a gathered batch of `samples` in epoch
// `epoch`: count noise on `inputs` (add_count_noise) when p.count_noise > 0,
// and noise_seeds set to one sample_noise_seed per sample when
// p.hidden_count_noise > 0 (else emptied), ready for train_batch. Every
// training loop calls this after gather, so all draw the same noise.
void prepare_training_noise(const trainer_params& p, std::size_t epoch,
                            std::span<const std::size_t> samples, matrix& inputs,
                            std::vector<std::uint64_t>& noise_seeds);

class reference_trainer {
 public:
  // Draws the feedback for net's architecture (see feedback.hpp).
  reference_trainer(const rate_network& net, trainer_params params);
  // Uses the given feedback; its algorithm replaces params.algo.
  reference_trainer(const rate_network& net, trainer_params params, feedback paths);
  ~reference_trainer();
  reference_trainer(reference_trainer&&) noexcept;
  reference_trainer& operator=(reference_trainer&&) noexcept;

  const trainer_params& params() const { return params_; }
  // Changes the SGD step for the following batches (a learning-rate
  // schedule); throws parameter_error unless finite and > 0.
  void set_learning_rate(double learning_rate);
  const feedback& feedback_paths() const { return feedback_; }

  // The updates one batch would make, without applying them. targets has one
  // row per input row (see rate_network::targets_for). Refreshes the
  // weight-dependent feedback (symmetric, scfa) from net first.
  // noise_seeds: one seed per row, required with hidden_count_noise > 0
  // (sample_noise_seed gives the ones train() uses).
  weight_updates compute_updates(const rate_network& net, const_matrix_view inputs,
                                 const_matrix_view targets,
                                 std::span<const std::uint64_t> noise_seeds = {});
  weight_updates compute_updates(const rate_network& net, const_matrix_view inputs,
                                 std::span<const std::uint8_t> labels);

  // One SGD step with the given updates (the optimizer keeps the momentum
  // state).
  void apply_updates(rate_network& net, const weight_updates& updates);

  // The optimizer and the indices of layer w's arrays in it: its state (the
  // velocities) is what a checkpoint keeps.
  const optimizer& sgd() const { return sgd_; }
  optimizer& sgd() { return sgd_; }
  static std::size_t weight_array(std::size_t w) { return 2 * w; }
  static std::size_t bias_array(std::size_t w) { return 2 * w + 1; }

  // compute_updates + apply_updates; returns the batch's loss and accuracy
  // as measured before the step.
  batch_stats train_batch(rate_network& net, const_matrix_view inputs, const_matrix_view targets,
                          std::span<const std::uint64_t> noise_seeds = {});

  // `epochs` passes over train_set in shuffled mini-batches; test_set may be
  // empty. on_epoch, when set, is called after each epoch.
  std::vector<epoch_metrics> train(rate_network& net, dataset_view train_set, dataset_view test_set,
                                   std::size_t epochs,
                                   const std::function<void(const epoch_metrics&)>& on_epoch = {});

 private:
  void check_network(const rate_network& net) const;
  batch_stats compute_into(const rate_network& net, const_matrix_view inputs,
                           const_matrix_view targets, std::span<const std::uint64_t> noise_seeds,
                           weight_updates& out);

  trainer_params params_;
  std::vector<std::size_t> layer_sizes_;
  feedback feedback_;
  std::size_t epochs_done_ = 0;
  std::unique_ptr<detail::worker_pool> pool_;  // params_.threads - 1 workers
  // Workspace, reused between batches.
  std::vector<matrix> weights_t_;  // W^(w+1)^T, the forward operands
  activations acts_;
  std::vector<matrix> deltas_;
  std::vector<double> sample_loss_;
  std::vector<unsigned char> sample_correct_;
  weight_updates updates_;
  optimizer sgd_;
};

}  // namespace apical::learning
