#pragma once
// microcircuit_trainer: trains the spiking microcircuit network on labelled
// data, and measures how its updates relate to the rate-level algorithms.
//
// Update schedules (params.schedule):
//   mini_batch (default)  the Hebbian updates of a batch's samples are summed,
//                         with the weights fixed during the batch, then
//                         W += eta_l * sum / B (or eta_l * sign(sum) with
//                         manhattan), bounds and normalisation applied, and
//                         the sign-following feedback re-read from W. With
//                         momentum mu > 0 each synapse keeps a velocity:
//                         v <- mu v + step, W += eta_l v, where step is
//                         sum / B (or sign(sum)); v starts at 0.
//   per_sample            the same with B = 1.
//   online                every apical error spike changes the weights at
//                         once; the feedback routing is re-read after each
//                         sample. Runs on one thread (updates depend on every
//                         earlier event).
//
// Homeostasis (homeostasis_rate_mv > 0). Every hidden P cell i keeps a
// threshold offset d_i (its threshold is v_th + d_i). After each update
// (each batch; each sample online), with n_i its mean spike count per
// sample of that batch and T the window,
//   d_i <- clamp(d_i + eta_h (n_i - target_hz T), floor + e_l - v_th, ceiling):
// a silent cell lowers its threshold until it fires at the target rate; a
// busy one raises it, up to the ceiling (by default 0: the threshold never
// rises above v_th, and the target is a least rate).
// The step reads only the cell's own spikes: it is local to the cell. The
// counts are summed in piece order, like dW, so the offsets too are
// bit-identical for any number of threads.
//
// Parallelism and determinism. A batch is cut into `chunks` consecutive
// pieces whose boundaries depend only on the batch size; each piece is
// simulated by one worker (one network and simulator per thread, weights
// loaded at batch start), its samples in order, into the piece's own dW
// buffer. The buffers are then added in piece order. A sample's simulation
// depends only on the weights, the sample and its seed, so the weights after
// training are bit-identical for any number of threads. Several processes
// (params.processes) share the pieces: process r of R simulates pieces
// [r P / R, (r + 1) P / R) of the P, then every process receives every
// piece's dW, activity counts and outcomes (communicator::all_gather) and
// adds them in piece order as one process does: the weights are
// bit-identical for any number of processes too.
//
// Seeds. Epoch e (counted over every train_epoch call) visits the samples in
// the order of rng(derive_seed(seed, stream::training, e)) and encodes
// sample i with (derive_seed(seed, stream::encoder, e), i); evaluation uses
// the epoch seed ~0.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "apical/learning/microcircuit/params.hpp"
#include "apical/learning/microcircuit/runner.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/reference/rate_data.hpp"
#include "apical/learning/reference/reference_trainer.hpp"
#include "apical/learning/training/optimizer.hpp"

namespace apical::learning {

namespace detail {
class worker_pool;
}

struct microcircuit_epoch_metrics {
  std::size_t epoch = 0;            // 0-based, over every train_epoch call
  std::size_t samples = 0;          // trained on
  double train_error = 0.0;         // mean spiking error per sample (before each update)
  double train_accuracy = 0.0;      // readout during the training presentations
  double test_accuracy = 0.0;       // after the epoch (train() with a test set; else 0)
  double seconds = 0.0;             // wall time of the training (evaluation excluded)
  double samples_per_second = 0.0;  // samples / seconds
  double hidden_spikes = 0.0;       // P spikes per sample, all hidden layers
  double output_spikes = 0.0;       // P spikes per sample, output layer
  double error_spikes = 0.0;        // E+ and E- spikes per sample, all layers
  double input_spikes = 0.0;        // input spikes per sample
  double apical_updates = 0.0;      // error spikes that changed weights, per sample
  // Per hidden layer: the fraction of P cells that fired in no training
  // sample of the epoch (dead units: their gate never opens, so they never
  // learn), and in fewer than 1 % of them (quiet units: they learn at less
  // than a hundredth of the pace of a cell active in every sample).
  std::vector<double> dead_fraction;
  std::vector<double> quiet_fraction;
  // Per hidden layer: the mean rate of its P cells in the training windows.
  std::vector<double> hidden_rate_hz;
  // Per hidden layer: the mean homeostatic threshold offset (mV) at the end
  // of the epoch.
  std::vector<double> mean_threshold_offset_mv;
};

struct microcircuit_evaluation {
  double accuracy = 0.0;
  std::size_t correct = 0;
  std::size_t count = 0;
  std::size_t silent = 0;  // samples without any output spike
  double seconds = 0.0;
  std::vector<int> predicted;  // per sample: the readout's class, -1 when silent
};

// Spike counts of a batch, one row per sample, as measured.
struct batch_activity {
  // counts[0]: input spikes per channel over [0, T); counts[l]: spikes of
  // P<l> over [0, T), l = 1..L.
  std::vector<matrix> counts;
  // n_target - n over the error window, per output unit.
  matrix output_error;
  // Net error spikes (E+ minus E-) of layer l = w + 1.
  std::vector<matrix> net_error;
  double window_ms = 0.0;  // T, to turn counts into rates
};

// What one batch did, without changing the weights.
struct batch_measurement {
  weight_updates microcircuit;  // sum over the batch of the Hebbian dW (step 1)
  batch_activity activity;
  std::vector<sample_outcome> outcomes;
};

// The rate-level update (sum over the batch's samples, not scaled) at the
// measured activity:
//   delta^L     = e                                   (times f'(n^L) with output_gate)
//   delta^(w+1) = (delta^(w+2) paths[w]) * f'(n^(w+1))   (direct: delta^L paths[w])
//   dW^(w+1)    = delta^(w+1)^T r^w,   r = the counts
// paths[w] is in the orientation of feedback.hpp's path(): W^(w+2) itself
// gives BP, the microcircuit's signed feedback S its own target.
// f'(n) is the step 1[n > 0] of a rectifying rate unit when gate_ms is
// infinite (the default), or the probability that a somatic gate of
// duration gate_ms is open for a Poisson cell of rate n / T,
// 1 - exp(-(n / T) gate_ms): what the microcircuit's gated error cells
// compute (the step again for gate_ms >> 1 / rate).
weight_updates rate_updates_at(const batch_activity& activity, std::span<const matrix> paths,
                               bool direct, bool output_gate,
                               double gate_ms = std::numeric_limits<double>::infinity());

class microcircuit_trainer {
 public:
  // Validates the parameters, draws the initial weights and feedback, and
  // builds one runner per thread.
  explicit microcircuit_trainer(microcircuit_params params);
  ~microcircuit_trainer();
  microcircuit_trainer(const microcircuit_trainer&) = delete;
  microcircuit_trainer& operator=(const microcircuit_trainer&) = delete;

  const microcircuit_params& params() const { return params_; }
  // Changes eta for the following updates (a learning-rate schedule);
  // throws parameter_error for a negative or non-finite value.
  void set_learning_rate(double eta);
  std::size_t num_layers() const { return weights_.size(); }
  std::size_t epochs_done() const { return epochs_done_; }

  // W^(w+1), n_(w+1) x n_w (the orientation of rate_network::weights).
  const matrix& weights(std::size_t w) const { return weights_.at(w); }
  const std::vector<matrix>& all_weights() const { return weights_; }
  // Replaces the weights; throws parameter_error naming the layer on a shape
  // mismatch or a non-finite entry (and then changes nothing).
  void set_weights(std::vector<matrix> weights);
  // The momentum velocities, one per weight layer in the weights' shapes
  // (empty when params().momentum is 0): state a checkpoint must keep.
  std::vector<matrix> velocity() const;
  // Replaces the velocities; throws parameter_error (changing nothing) on a
  // count or shape mismatch or a non-finite entry. Empty is accepted only
  // with momentum 0.
  void set_velocity(std::vector<matrix> velocity);
  // The fixed feedback parts (see microcircuit_network.hpp) and the signed
  // feedback S in use now.
  const std::vector<matrix>& feedback_fixed() const { return feedback_fixed_; }
  const std::vector<matrix>& feedback_signed() const { return feedback_signed_; }
  // The homeostatic threshold offsets d_i (mV), one vector per hidden layer
  // (all 0 until homeostasis moves them).
  const std::vector<std::vector<double>>& threshold_offsets() const { return thresholds_; }
  // Replaces them (a checkpoint); throws parameter_error naming the layer
  // (and changes nothing) on a count or size mismatch, a non-finite value or
  // a threshold below the floor.
  void set_threshold_offsets(std::vector<std::vector<double>> offsets);

  // One pass over `data` in mini-batches (a shuffled order; see Seeds).
  // on_batch, when set, is called for every batch after it was simulated and
  // before its update is applied, with the batch's index and what it did
  // (the measured activity is recorded only then); alignment_with_bp() may
  // be called from it. Not called with the online schedule.
  using batch_callback = std::function<void(std::size_t batch, const batch_measurement&)>;
  microcircuit_epoch_metrics train_epoch(dataset_view data, const batch_callback& on_batch = {});
  // Readout accuracy on `data` (no learning; samples spread over the
  // workers). on_progress, when set, is called as pieces of samples finish
  // with how many are done so far and how many of those were classified
  // correctly; it runs on the worker threads, one call at a time. The
  // result does not depend on it.
  using progress_callback = std::function<void(std::size_t done, std::size_t correct)>;
  microcircuit_evaluation evaluate(dataset_view data, const progress_callback& on_progress = {});
  // `epochs` train_epoch calls, each followed by evaluate(test) when test is
  // non-empty; on_epoch is called after each.
  std::vector<microcircuit_epoch_metrics> train(
      dataset_view train_set, dataset_view test_set, std::size_t epochs,
      const std::function<void(const microcircuit_epoch_metrics&)>& on_epoch = {});

  // Simulates the samples `indices` of `data` with learning on and returns
  // the summed dW and the measured activity; the weights do not change.
  // `seed` is the epoch seed for the encoding.
  batch_measurement measure_batch(dataset_view data, std::span<const std::size_t> indices,
                                  std::uint64_t seed);
  // Per weight layer, the angle (degrees) between the microcircuit's summed
  // dW of the measured batch and BP's update at the same activity.
  std::vector<double> alignment_with_bp(const batch_measurement& m) const;

  // Sets the per-epoch seed order explicitly (e.g. after loading a
  // checkpoint): the next train_epoch is epoch `epoch`.
  void set_epochs_done(std::size_t epoch) { epochs_done_ = epoch; }

 private:
  struct batch_result;
  void refresh_feedback();
  void run_batch(dataset_view data, std::span<const std::size_t> indices, std::uint64_t seed,
                 bool learn, batch_result& out, const progress_callback& on_progress = {});
  void apply_update(std::size_t batch_samples);
  // After an update of `samples` samples whose hidden activity is in
  // batch_tally_: adds it to the epoch's, and the homeostatic step.
  void note_activity(std::size_t samples);
  // The lowest threshold offset homeostasis allows: homeostasis_floor_mv
  // above the resting potential.
  double lowest_threshold_offset() const;
  // The optimizer's stabilisers (bounds, normalisation), then the feedback
  // re-read from the weights.
  void stabilise();
  void train_online(dataset_view data, std::span<const std::size_t> order, std::uint64_t seed,
                    microcircuit_epoch_metrics& m);
  // The pieces [first, last) of `pieces` that this process simulates.
  std::pair<std::size_t, std::size_t> my_pieces(std::size_t pieces) const;
  // After a batch's pieces ran on several processes: every process's
  // pieces into this one's buffers (their dW and tallies when `learn`, the
  // samples' outcomes, statistics and activity).
  void share_pieces(std::size_t pieces, bool learn, batch_result& out);

  microcircuit_params params_;
  std::vector<matrix> weights_;
  std::vector<matrix> feedback_fixed_;
  std::vector<matrix> feedback_signed_;
  std::vector<std::unique_ptr<microcircuit_runner>> runners_;
  std::vector<std::uint64_t> runner_version_;
  std::uint64_t weights_version_ = 1;
  std::vector<std::vector<matrix>> chunk_dw_;  // [chunk][layer]
  std::vector<matrix> sum_dw_;
  // The activity of one hidden layer's cells over some samples: spikes, and
  // samples in which the cell fired.
  struct hidden_tally {
    std::vector<std::uint64_t> spikes, samples_fired;
    explicit hidden_tally(std::size_t cells) : spikes(cells, 0), samples_fired(cells, 0) {}
    void clear();
    void add(std::span<const std::uint32_t> counts);  // one sample
    void add(const hidden_tally& other);
  };
  // [chunk][hidden layer] for a piece's samples, summed in piece order into
  // the batch's [hidden layer], and then into the epoch's.
  std::vector<std::vector<hidden_tally>> chunk_tally_;
  std::vector<hidden_tally> batch_tally_, epoch_tally_;
  std::vector<std::vector<double>> thresholds_;  // d_i per hidden layer
  optimizer sgd_;  // one array per weight layer; velocities with momentum > 0
  std::size_t epochs_done_ = 0;
  std::unique_ptr<detail::worker_pool> pool_;
};

}  // namespace apical::learning
