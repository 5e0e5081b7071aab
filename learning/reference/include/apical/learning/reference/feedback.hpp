#pragma once
// Feedback pathways: how the output error reaches the hidden layers.
//
//   bp:        delta^l = (W^(l+1)^T delta^(l+1)) * f'(u^l)
//   symmetric: the same with an explicit copy B^(l+1) = W^(l+1)^T, taken from
//              the current weights at every step (the microcircuit's BP limit;
//              gives exactly the numbers of bp)
//   fa:        W^T replaced by a fixed random B^(l+1)               (Lillicrap et al. 2016)
//   scfa:      B^(l+1) = M^(l+1) * sign(W^(l+1))^T from the CURRENT signs of W,
//              with magnitudes M >= 0 either uniform (M = 1, "uSF") or fixed
//              random ("frSF")                                     (Liao, Leibo & Poggio 2016)
//   dfa:       delta^l = (D^l delta^L) * f'(u^l), D^l fixed random (Nokland 2016);
//              delta^L is the output delta (the error e^L times f'(u^L))
//
// Storage. Every matrix is kept transposed with respect to the text above,
// in the orientation of the forward weights: path(w) is (B^(w+2))^T, of the
// shape of W^(w+2), so that entry (k, i) pairs with W_ki (the sign concordance
// is element by element) and a batch of deltas (one sample per row) goes back
// as delta^(w+1)_rows = delta^(w+2)_rows * path(w). For dfa, path(w) is
// (D^(w+1))^T, of shape n_L x n_(w+1). w runs over the hidden layers 0..L-2.
//
// Random draws, from rng(derive_seed(seed, stream::connectivity, w)), with
// a = feedback_scale * init_bound(fan_in = n_(w+1), fan_out = rows of path(w)):
// the bound the forward weights W^(w+2) are initialised with (see
// rate_network.hpp), so random feedback starts on the scale of the weights it
// stands in for.
//   fa, dfa:      entries uniform in (-a, a)
//   scfa random:  M entries uniform in [0, a)
//   scfa uniform: M = feedback_scale (default 1: M = 1 as in uSF)
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "apical/learning/reference/matrix.hpp"

namespace apical::learning {

class rate_network;

enum class algorithm : std::uint8_t { bp, symmetric, fa, scfa, dfa };
enum class sign_magnitude : std::uint8_t { uniform, random };

std::string_view to_string(algorithm a);
std::string_view to_string(sign_magnitude m);
// Unknown names throw parameter_error naming `field` and the accepted names.
algorithm parse_algorithm(std::string_view name, std::string_view field = "algorithm");
sign_magnitude parse_sign_magnitude(std::string_view name,
                                    std::string_view field = "scfa_magnitude");

struct feedback_params {
  algorithm algo = algorithm::bp;
  sign_magnitude magnitude = sign_magnitude::uniform;  // scfa only
  double feedback_scale = 1.0;                         // > 0
  std::uint64_t seed = 1;

  void validate() const;
};

class feedback {
 public:
  // Draws the fixed random parts for net's architecture and takes the
  // weight-dependent parts (symmetric, scfa) from net's current weights.
  feedback(const rate_network& net, const feedback_params& params);

  // Uses the given fixed parts instead of random draws, one per hidden layer
  // w = 0..L-2 in the storage orientation above: fa the B^T, scfa the
  // magnitudes M (>= 0) of the shape of W^(w+2), dfa the D^T. Ignored (may be
  // empty) for bp and symmetric. Throws parameter_error on a shape mismatch.
  feedback(const rate_network& net, algorithm algo, std::vector<matrix> fixed);

  algorithm algo() const { return algo_; }
  // Whether every hidden layer reads the output delta (dfa).
  bool direct() const { return algo_ == algorithm::dfa; }
  std::size_t num_hidden() const { return num_hidden_; }

  // Re-reads the weight-dependent matrices (symmetric, scfa) from the
  // network; a no-op for the others. Called before every batch.
  void refresh(const rate_network& net);

  // The matrix that carries deltas back to hidden layer w (see Storage).
  // For bp this is the network's own W^(w+2).
  const matrix& path(const rate_network& net, std::size_t w) const;

  // B^(w+2) (or D^(w+1) for dfa) in the orientation of the text above:
  // n_(w+1) x n_(w+2) (dfa: n_(w+1) x n_L). For bp, W^(w+2)^T.
  matrix b_matrix(const rate_network& net, std::size_t w) const;

  // The fixed part of hidden layer w: B^T (fa), M (scfa), D^T (dfa); empty
  // for bp and symmetric.
  const matrix& fixed(std::size_t w) const { return fixed_.at(w); }

 private:
  void check_shapes(const rate_network& net) const;

  algorithm algo_ = algorithm::bp;
  std::size_t num_hidden_ = 0;
  std::vector<matrix> fixed_;    // per hidden layer, see fixed()
  std::vector<matrix> current_;  // symmetric: W copies; scfa: M * sign(W)
};

}  // namespace apical::learning
