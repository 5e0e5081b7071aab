#pragma once
// The microcircuit network: populations and projections of a layered
// spiking network that carries its own error (see microcircuit_params.hpp).
//
// Populations, in the order they are added (their ids):
//   input         spike_time_source, n_0 channels (one sample's encoding)
//   P<l>, E<l>    for l = 1..L: pyramidal cells (pyramidal_population:
//                 the two_compartment model with kappa = 0, n_l) and
//                 error cells (error_cell, 2 n_l: E+_i is cell i, E-_i is
//                 cell n_l + i)
//   teacher       spike_time_source, n_L (T_k fires at the target rate)
//
// Projections. Inter-layer:
//   forward<l>    P<l-1> (or input) -> P<l> basal, dense, the plastic W^l;
//                 synapse (j, i) has index j * n_l + i
//   feedback<l>   E<l+1> -> E<l> drive (direct: E<L> -> E<l>), dense
//                 2 n_src x 2 n_l; synapse (a, b) has index a * 2 n_l + b and
//                 weight sigma_a tau_b S_ki, where sigma, tau = +1 for an E+
//                 and -1 for an E- cell, k = a mod n_src, i = b mod n_l, and
//                 S the signed feedback matrix of the mode (below). So E+_k
//                 excites E+_i when S_ki > 0 and E-_i when S_ki < 0 (crossed
//                 routing), and likewise for E-_k; with feedback_inhibition
//                 the same synapses inhibit the other cell of the pair (the
//                 negative entries), else they are 0.
// Local (one to one):
//   apical<l>     E+_i -> P_i apical (+1), E-_i -> P_i apical (-1)
//   gate<l>       P_i -> E+_i and E-_i gate compartment (hidden layers with
//                 gate_error_cells; the output with output_gate)
//   coupling<l>   E+_i <-> E-_i, +theta, ungated compartment (pair_coupling)
// Output:
//   teach         T_k -> E+_k +w, T_k -> E-_k -w
//   compare       P_k -> E+_k -w, P_k -> E-_k +w   (w = output_error_weight_mv)
//
// Signed feedback S of hidden layer w (0-based), in the orientation of the
// forward weights it mirrors (n_src x n_(w+1), entry (k, i) pairs with
// W^(w+2)_ki), from the fixed part F drawn once (draw_feedback):
//   sign_concordant  S = F * sign(W^(w+2))   (F = M >= 0; the CURRENT signs)
//   random           S = F                   (fixed random signs, FA)
//   symmetric        S = symmetric_gain * W^(w+2)   (F empty; B = W^T)
//   direct           S = F, n_L x n_(w+1)    (fixed random, DFA)
// F is stored exactly as feedback.hpp's fixed parts (scfa: M, fa: B^T,
// dfa: D^T), so a rate-level feedback object can be built from it.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "apical/engine/network.hpp"
#include "apical/engine/sources.hpp"
#include "apical/learning/microcircuit/params.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "apical/models/microcircuit_cells.hpp"
#include "apical/models/pyramidal_population.hpp"

namespace apical::learning {

// Population and projection ids of a microcircuit network, per weight layer
// w = 0..L-1 where the entry is per layer.
struct microcircuit_layout {
  static constexpr std::uint16_t none = std::numeric_limits<std::uint16_t>::max();
  std::uint16_t input = none;
  std::uint16_t teacher = none;
  std::vector<std::uint16_t> pyramidal;
  std::vector<std::uint16_t> error;
  std::vector<std::uint16_t> forward;
  std::vector<std::uint16_t> apical;
  std::vector<std::uint16_t> gate;      // none where the layer is not gated
  std::vector<std::uint16_t> coupling;  // none without pair_coupling
  std::vector<std::uint16_t> feedback;  // hidden layers only (L - 1 entries)
  std::uint16_t teach = none;
  std::uint16_t compare = none;
};

// Initial forward weights W^(w+1) (n_(w+1) x n_w, one row per post unit),
// drawn from rng(derive_seed(seed, stream::initial_state, w)).
std::vector<matrix> initial_weights(const microcircuit_params& p);
// The initialisation bound a of weight layer w.
double init_bound_mv(const microcircuit_params& p, std::size_t w);

// The fixed feedback parts F, one per hidden layer (see above), drawn from
// rng(derive_seed(seed, stream::connectivity, w)); empty matrices for
// symmetric.
std::vector<matrix> draw_feedback(const microcircuit_params& p);

// S for hidden layer w from the fixed part and the current forward weights.
void signed_feedback(const microcircuit_params& p, const matrix& fixed, const matrix& w_above,
                     matrix& out);

class microcircuit_network {
 public:
  // Builds every population and projection (validates p first). Forward and
  // feedback weights start at 0: load them with set_forward / set_feedback.
  explicit microcircuit_network(const microcircuit_params& p);

  network& net() { return net_; }
  const network& net() const { return net_; }
  const microcircuit_layout& layout() const { return layout_; }
  const microcircuit_params& params() const { return params_; }
  // The only parameter that may change after construction (a schedule).
  void set_learning_rate(double eta) { params_.learning_rate = eta; }

  model_population<spike_time_source>& input() { return *input_; }
  model_population<spike_time_source>& teacher() { return *teacher_; }
  // The P cells of layer w; throws for softmax output cells (not pyramidal).
  models::pyramidal_population& pyramidal(std::size_t w) {
    if (pyramidal_[w] == nullptr)
      throw parameter_error(
          "microcircuit: the output layer has softmax cells, not pyramidal cells");
    return *pyramidal_[w];
  }
  model_population<models::error_cell>& error(std::size_t w) { return *error_[w]; }

  // W^(w+1) (n_(w+1) x n_w) into the forward projection.
  void set_forward(std::size_t w, const_matrix_view weights);
  // W^(w+1) read back from the forward projection.
  void get_forward(std::size_t w, matrix& out) const;
  // S of hidden layer w (n_src x n_(w+1)) into the feedback projection.
  void set_feedback(std::size_t w, const_matrix_view signed_paths);

 private:
  microcircuit_params params_;
  network net_;
  microcircuit_layout layout_;
  model_population<spike_time_source>* input_ = nullptr;
  model_population<spike_time_source>* teacher_ = nullptr;
  std::vector<models::pyramidal_population*> pyramidal_;
  std::vector<model_population<models::error_cell>*> error_;
};

}  // namespace apical::learning
