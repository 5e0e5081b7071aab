#pragma once
// Parameters of the cortical-microcircuit learning framework
// (Yang & Li 2022, as reconstructed in the project's specification; see
// learning/README.md for every choice made where it is silent).
//
// Layers l = 1..L of sizes layer_sizes[1..L] above an input of layer_sizes[0]
// spike channels. Every unit of a layer is one microcircuit: a pyramidal cell
// P (two_compartment, kappa = 0) and two error cells E+ / E- (error_cell).
// Indices in code are 0-based over weight layers: w = l - 1.
//
// The defaults are tuned for MNIST-sized inputs (784 pixels, 50 ms windows,
// 100 Hz for a white pixel; bench/microcircuit/README.md); learning_rate and
// init_gain depend on the input rates and the window.
//
// clang-format off
// name                   | unit | default          | meaning
// -----------------------|------|------------------|---------------------------------------------
// layer_sizes            | 1    | (none)           | input, hidden..., output; >= 2 entries, >= 1
// pyramidal              |      | tau_s 20 ms ...  | two_compartment parameters of every P cell
//                        |      |                  | (kappa must be 0, e_l below v_th)
// error_theta_mv         | mV   | 1                | error-cell threshold (one count = theta)
// error_tau_m_ms         | ms   | inf              | error-cell leak (inf: a perfect counter)
// error_dither           | -    | true             | error cells start at V ~ U[0, theta):
//                        |      |                  | unbiased counts (a pair complementary)
// init_gain              | 1    | 2                | W ~ U(-a, a), a = init_gain (v_th - e_l)
//                        |      |                  | sqrt(3 / fan_in)
// first_layer            | -    | (dense)          | local_fields of W^1: each first hidden P
//                        |      |                  | cell sees one image patch (fan_in: the
//                        |      |                  | patch's); W^1 is 0 and stays 0 outside
// feedforward_delay_ms   | ms   | 1                | P^(l-1) -> P^l basal delay
// feedback               | -    | sign_concordant  | sign_concordant, random (FA), symmetric
//                        |      |                  | (BP) or direct (DFA)
// magnitude              | -    | random           | sign_concordant magnitudes: random (frSF)
//                        |      |                  | or uniform (uSF)
// feedback_weight_mv     | mV   | 1                | mean feedback magnitude |B| (random:
//                        |      |                  | U[0, 2 f); uniform: f; random/direct:
//                        |      |                  | U[0, 2 f) with random signs)
// symmetric_gain         | 1    | 1                | symmetric: B = symmetric_gain W^T
// feedback_inhibition    | -    | true             | each feedback synapse also inhibits the
//                        |      |                  | partner cell
// pair_coupling          | -    | true             | E+ and E- excite each other by theta (a
//                        |      |                  | signed counter; needs feedback_inhibition)
// gate_error_cells       | -    | true             | hidden error cells gated by their P cell
// output_gate            | -    | false            | also gate the output error cells and rule
// output_cells           | -    | pyramidal        | pyramidal (threshold cells: the error is
//                        |      |                  | that of a squared error on counts) or
//                        |      |                  | softmax (softmax_population: one spike per
//                        |      |                  | tick of a clock at teacher_on_hz, drawn
//                        |      |                  | from softmax(beta u): cross-entropy)
// softmax_beta_per_mv    | 1/mV | 1                | softmax output: inverse temperature
// error_delay_ms         | ms   | 0.5              | feedback, teacher, comparison delay
// local_delay_ms         | ms   | 0.1              | E -> apical P, P -> E gate, E+ <-> E-
// output_error_weight_mv | mV   | 1                | T_k and P_k -> E+-_k weight magnitude
// window_ms              | ms   | 50               | presentation window T of a training sample
// test_window_ms         | ms   | 0                | window of an evaluation (no teacher)
//                        |      |                  | presentation; 0: window_ms
// error_phase            | -    | concurrent       | concurrent: error window [0, T);
//                        |      |                  | after_settle: [settle_ms, T)
// settle_ms              | ms   | 0                | error window start with after_settle
// input_rate_hz          | Hz   | 100              | built-in encoder: rate =
//                        |      |                  | clamp(x, 0, 1) input_rate_hz
// input_coding           | -    | poisson          | built-in encoder: poisson (Poisson
//                        |      |                  | trains) or regular (evenly spaced at the
//                        |      |                  | rate, random phase per channel: counts
//                        |      |                  | floor(rate T + U), variance <= 1/4)
// teacher_on_hz          | Hz   | 200              | teacher rate of the label's output unit
// teacher_off_hz         | Hz   | 0                | teacher rate of the other output units
// teacher_regular        | -    | true             | teacher spikes evenly spaced (else Poisson)
// between_samples        | -    | reset            | reset: every sample starts from the initial
//                        |      |                  | state; decay: from the previous sample's
//                        |      |                  | state (same chunk), decayed over gap_ms
// gap_ms                 | ms   | 50               | decay: time between two samples
// learning_rate          | mV   | 0.1              | eta: per apical error event,
//                        |      |                  | dW = +-eta g x
// layer_rate_scale       | 1    | (all 1)          | per weight layer multiplier of eta (empty
//                        |      |                  | or L entries)
// tau_x_ms               | ms   | 10               | presynaptic basal trace decay
// gate                   | -    | window           | somatic gate g: window (1 if fired within
//                        |      |                  | tau_g) or trace
// tau_g_ms               | ms   | 20               | somatic gate time (and error-cell gate_ms)
// schedule               | -    | mini_batch       | online, per_sample or mini_batch
// batch_size             | 1    | 16               | mini_batch: samples per update (mean)
// manhattan              | -    | false            | W += eta sign(sum dW), not eta mean dW
// momentum               | 1    | 0                | mu: v <- mu v + step, W += eta v (per
//                        |      |                  | synapse; not with schedule online)
// homeostasis_rate_mv    | mV   | 0                | eta_h: after each update, every hidden P
//                        |      |                  | cell moves its threshold by eta_h (n_i -
//                        |      |                  | target T) (n_i: its mean count per sample
//                        |      |                  | of the batch); 0: fixed thresholds
// homeostasis_target_hz  | Hz   | 10               | target rate of a hidden P cell
// homeostasis_floor_mv   | mV   | 1                | lowest threshold above E_L it may reach
// homeostasis_ceiling_mv | mV   | 0                | highest offset above v_th it may reach (0:
//                        |      |                  | the target is a least rate; inf: two-sided)
// w_min_mv, w_max_mv     | mV   | -inf, inf        | weight bounds applied after each update
// normalise              | -    | false            | keep each layer's Frobenius norm
// threads                | 1    | 1                | workers (one network and simulator each)
// chunks                 | 1    | 4                | fixed accumulation chunks per batch
//                        |      |                  | (determinism)
// seed                   | 1    | 1                | weights, feedback, encoding, shuffles,
//                        |      |                  | initial states
// clang-format on
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "apical/engine/communicator.hpp"
#include "apical/engine/spike_raster.hpp"
#include "apical/learning/reference/feedback.hpp"
#include "apical/learning/reference/local_fields.hpp"
#include "apical/models/two_compartment.hpp"

namespace apical::learning {

enum class feedback_mode : std::uint8_t { sign_concordant, random, symmetric, direct };
enum class error_phase : std::uint8_t { concurrent, after_settle };
enum class somatic_gate : std::uint8_t { window, trace };
enum class update_schedule : std::uint8_t { online, per_sample, mini_batch };
enum class sample_transition : std::uint8_t { reset, decay };
enum class input_coding : std::uint8_t { poisson, regular };
enum class output_cells : std::uint8_t { pyramidal, softmax };

std::string_view to_string(feedback_mode m);
std::string_view to_string(error_phase p);
std::string_view to_string(somatic_gate g);
std::string_view to_string(update_schedule s);
std::string_view to_string(sample_transition t);
std::string_view to_string(input_coding c);
std::string_view to_string(output_cells c);
// Names as written by to_string ("sign-concordant" and "sign_concordant" both
// parse); unknown names throw parameter_error naming `field` and listing the
// accepted names.
feedback_mode parse_feedback_mode(std::string_view name, std::string_view field = "feedback");
error_phase parse_error_phase(std::string_view name, std::string_view field = "error_phase");
somatic_gate parse_somatic_gate(std::string_view name, std::string_view field = "gate");
update_schedule parse_update_schedule(std::string_view name, std::string_view field = "schedule");
sample_transition parse_sample_transition(std::string_view name,
                                          std::string_view field = "between_samples");
input_coding parse_input_coding(std::string_view name, std::string_view field = "input_coding");
output_cells parse_output_cells(std::string_view name, std::string_view field = "output_cells");

// Turns one sample's input values into spike trains on [0, window): writes
// `out` (one channel per value). Must be thread-safe and depend only on its
// arguments. `seed` is the epoch's seed, `sample_index` the sample's index in
// its data set.
using input_encoder = std::function<void(std::span<const float> values, std::uint64_t seed,
                                         std::uint64_t sample_index, spike_raster& out)>;

struct microcircuit_params {
  std::vector<std::size_t> layer_sizes;

  models::two_compartment::parameters pyramidal{};
  double error_theta_mv = 1.0;
  double error_tau_m_ms = std::numeric_limits<double>::infinity();
  bool error_dither = true;

  double init_gain = 2.0;
  local_fields first_layer;
  double feedforward_delay_ms = 1.0;

  feedback_mode feedback = feedback_mode::sign_concordant;
  sign_magnitude magnitude = sign_magnitude::random;
  double feedback_weight_mv = 1.0;
  double symmetric_gain = 1.0;
  bool feedback_inhibition = true;
  bool pair_coupling = true;
  bool gate_error_cells = true;
  bool output_gate = false;
  output_cells output = output_cells::pyramidal;
  double softmax_beta_per_mv = 1.0;
  double error_delay_ms = 0.5;
  double local_delay_ms = 0.1;
  double output_error_weight_mv = 1.0;

  double window_ms = 50.0;
  double test_window_ms = 0.0;
  error_phase phase = error_phase::concurrent;
  double settle_ms = 0.0;
  double input_rate_hz = 100.0;
  input_coding coding = input_coding::poisson;
  double teacher_on_hz = 200.0;
  double teacher_off_hz = 0.0;
  bool teacher_regular = true;
  sample_transition between_samples = sample_transition::reset;
  double gap_ms = 50.0;

  double learning_rate = 0.1;
  std::vector<double> layer_rate_scale;
  double tau_x_ms = 10.0;
  somatic_gate gate = somatic_gate::window;
  double tau_g_ms = 20.0;
  update_schedule schedule = update_schedule::mini_batch;
  std::size_t batch_size = 16;
  bool manhattan = false;
  double momentum = 0.0;
  // Homeostatic thresholds of the hidden P cells (learning/README.md).
  double homeostasis_rate_mv = 0.0;
  double homeostasis_target_hz = 10.0;
  double homeostasis_floor_mv = 1.0;
  double homeostasis_ceiling_mv = 0.0;
  double w_min_mv = -std::numeric_limits<double>::infinity();
  double w_max_mv = std::numeric_limits<double>::infinity();
  bool normalise = false;

  std::size_t threads = 1;
  std::size_t chunks = 4;
  std::uint64_t seed = 1;

  // Empty: the built-in encoder (input_rate_hz, coding).
  input_encoder encoder;

  // Not a setting but where the work runs: the processes that share each
  // batch's pieces (communicator.hpp; null: this process alone). Every
  // process makes the same calls; the weights do not depend on it.
  communicator* processes = nullptr;

  // Throws parameter_error naming the first field out of its domain and what
  // was expected.
  void validate() const;

  std::size_t num_layers() const { return layer_sizes.size() - 1; }
  // The presentation window of a training (teacher present) or an
  // evaluation sample.
  double presentation_ms(bool training) const {
    return training || test_window_ms == 0.0 ? window_ms : test_window_ms;
  }
  // Start of the error window.
  double error_start_ms() const { return phase == error_phase::after_settle ? settle_ms : 0.0; }
  // Whether weight layer w (0-based) has its error cells gated.
  bool layer_gated(std::size_t w) const {
    return w + 1 == num_layers() ? output_gate : gate_error_cells;
  }
  double layer_rate(std::size_t w) const {
    return learning_rate * (layer_rate_scale.empty() ? 1.0 : layer_rate_scale[w]);
  }
};

}  // namespace apical::learning
