#pragma once
// microcircuit_runner: one network, one simulator and its listeners; presents
// samples one at a time. A trainer owns one runner per worker thread.
//
// Presentation protocol of one sample (window T = window_ms in training,
// test_window_ms, when set, in evaluation):
//   1. the input values are encoded into spike trains on [0, T) (the
//      params' encoder, or Poisson or regular trains (input_coding) at
//      clamp(x, 0, 1) * input_rate_hz from
//      rng(derive_seed(seed, stream::encoder, sample_index)));
//   2. in training, the teacher fires on the error window [t_e, T) (t_e = 0
//      concurrent, settle_ms after_settle) at teacher_on_hz for the label
//      and teacher_off_hz for the others (evenly spaced, first spike half an
//      interval after t_e, or Poisson), and the error cells accept input
//      from t_e on; in evaluation the error cells stay closed and the
//      teacher silent, so no error spike is made;
//   3. the state is reset (initial states drawn from the sample's seed), or,
//      with between_samples = decay, continues from the previous sample's
//      final state decayed over gap_ms;
//   4. the simulator runs to T; the learning listeners add the sample's
//      Hebbian updates to the given buffers.
// Readout: the output unit with the most spikes in [0, T), ties broken by
// the earliest first spike (then the lowest index); no output spike at all
// is no prediction (-1, counted wrong). The spiking error is
// E = 1/2 sum_k (n_k - n_target_k)^2 over the error window's counts.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "apical/engine/simulator.hpp"
#include "apical/engine/spike_raster.hpp"
#include "apical/learning/microcircuit/network.hpp"
#include "apical/learning/microcircuit/rule.hpp"
#include "apical/learning/reference/matrix.hpp"

namespace apical::learning {

struct sample_outcome {
  int predicted = -1;  // -1: no output spike
  int label = -1;      // -1: none given
  double error = 0.0;  // spiking error over the error window (0 without a label)
  bool correct() const { return label >= 0 && predicted == label; }
};

class microcircuit_runner {
 public:
  explicit microcircuit_runner(const microcircuit_params& p);
  microcircuit_runner(const microcircuit_runner&) = delete;
  microcircuit_runner& operator=(const microcircuit_runner&) = delete;

  const microcircuit_params& params() const { return circuit_.params(); }
  microcircuit_network& circuit() { return circuit_; }
  // eta of the online schedule (validated by the trainer).
  void set_learning_rate(double eta) { circuit_.set_learning_rate(eta); }
  simulator& sim() { return *sim_; }

  // Loads the forward weights (one matrix per layer), the signed feedback
  // (one per hidden layer, see microcircuit_network.hpp) and, when given,
  // the hidden P cells' threshold offsets (one vector per hidden layer).
  void load(std::span<const matrix> weights, std::span<const matrix> signed_feedback,
            std::span<const std::vector<double>> threshold_offsets = {});

  // Presents one sample. `label` < 0 runs the evaluation protocol (no error
  // phase, no learning). With a label, the Hebbian updates are added to
  // dw[w] (n_(w+1) x n_w each, step 1) when dw is non-empty; with dw empty
  // and online = true they are applied to the network's weights with step
  // eta (read them back with circuit().get_forward). `seed` is the epoch's
  // seed and `sample_index` the sample's index (encoding, initial states).
  sample_outcome present(std::span<const float> input, int label, std::uint64_t seed,
                         std::uint64_t sample_index, std::span<matrix> dw = {},
                         bool online = false);

  // Forgets the state carried between samples (between_samples = decay):
  // the next sample starts from the initial state.
  void restart() { carry_ = false; }

  // What the last presentation produced.
  const spike_raster& input_raster() const { return *input_raster_; }
  const spike_raster& teacher_raster() const { return *teacher_raster_; }
  // Spikes of P<w+1> per neuron over [0, T), and over the error window.
  std::span<const std::uint32_t> counts(std::size_t w) const { return pyramidal_[w].counts(); }
  std::span<const std::uint32_t> late_counts(std::size_t w) const {
    return pyramidal_[w].late_counts();
  }
  std::span<const double> first_spike_ms(std::size_t w) const {
    return pyramidal_[w].first_spike_ms();
  }
  // Error cells of layer w+1: counts of E+ (first n) then E- (next n).
  std::span<const std::uint32_t> error_counts(std::size_t w) const { return error_[w].counts(); }
  std::uint64_t pyramidal_spikes(std::size_t w) const { return pyramidal_[w].total(); }
  std::uint64_t error_spikes(std::size_t w) const { return error_[w].total(); }
  // Teacher spikes of output unit k in the last sample.
  std::span<const std::uint32_t> target_counts() const { return target_counts_; }
  const apical_hebbian_rule& rule(std::size_t w) const { return *rules_[w]; }

 private:
  void set_mode(bool training);
  void encode(std::span<const float> input, std::uint64_t seed, std::uint64_t sample_index);
  void make_teacher(int label, std::uint64_t seed, std::uint64_t sample_index);
  void save_state();
  void restore_state();
  void connect_learning(bool on);

  microcircuit_network circuit_;
  std::unique_ptr<simulator> sim_;
  std::vector<std::unique_ptr<apical_hebbian_rule>> rules_;
  std::vector<spike_counter> pyramidal_;
  std::vector<spike_counter> error_;
  std::shared_ptr<spike_raster> input_raster_;
  std::shared_ptr<spike_raster> teacher_raster_;
  std::vector<std::uint32_t> target_counts_;
  std::vector<double> scratch_times_;
  int mode_ = -1;           // -1 unset, 0 evaluation, 1 training
  double window_ms_ = 0.0;  // T of the current presentation
  bool learning_connected_ = false;
  // between_samples = decay: the state at the end of the previous sample.
  bool carry_ = false;
  double saved_end_ms_ = 0.0;  // the previous presentation's T
  std::vector<std::vector<models::pyramidal_cell::state>> saved_pyramidal_;
  std::vector<std::vector<models::error_cell::state>> saved_error_;
};

}  // namespace apical::learning
