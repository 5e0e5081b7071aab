#pragma once
// rate_network: a layered, non-spiking network of rate units, the reference
// against which the spiking microcircuit is measured.
//
//   r^0 = input,   u^l = W^l r^(l-1) + b^l,   r^l = f(u^l),   l = 1..L
//
// Hidden layers use f = hidden_activation; the output layer uses
// output_activation with the MSE loss, or with softmax_cross_entropy
// r^L = softmax(u^L) (output_activation is then not used).
//
// Loss per sample (targets t, one row per sample):
//   mse:                   E = 1/2 sum_k (r^L_k - t_k)^2
//                          (the spiking count error 1/2 sum (n_k - n_target_k)^2)
//   softmax_cross_entropy: E = -sum_k t_k log softmax(u^L)_k
// The output "delta" is the descent direction -dE/du^L:
//   mse: (t - r^L) * f'(u^L)       softmax_cross_entropy: t - softmax(u^L)
//
// Indexing in code is 0-based over weight layers: weights(w) is W^(w+1), of
// shape layer_sizes[w+1] x layer_sizes[w] (one row per post-synaptic unit).
//
// Parameters (rate_network_params)
//   name              | default    | meaning
//   layer_sizes       | (none)     | input, hidden..., output size; >= 2 entries, each >= 1
//   hidden_activation | relu       | relu, sigmoid, clipped_relu = min(max(u, 0), 1), identity
//   output_activation | identity   | f of the output layer (mse only)
//   loss              | mse        | mse or softmax_cross_entropy
//   bias              | true       | whether u includes b^l (biases start at 0)
//   init              | he_uniform | W ~ U(-a, a); he_uniform: a = gain sqrt(6 / fan_in),
//                     |            | glorot_uniform: a = gain sqrt(6 / (fan_in + fan_out))
//   init_gain         | 1          | the gain above; > 0
//   target_on         | 1          | mse target of the labelled output unit
//   target_off        | 0          | mse target of the other output units
//   seed              | 1          | W^(w+1) from derive_seed(seed, stream::initial_state, w)
//   first_layer       | (dense)    | local_fields of W^1 (local_fields.hpp): each first-layer
//                     |            | unit sees one image patch; W^1 is 0 outside the patches
//                     |            | and its bound uses the patch's fan-in
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "apical/learning/reference/local_fields.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/reference/rate_data.hpp"

namespace apical::learning {

enum class activation : std::uint8_t { identity, relu, sigmoid, clipped_relu };
enum class loss_kind : std::uint8_t { mse, softmax_cross_entropy };
enum class weight_init : std::uint8_t { he_uniform, glorot_uniform };

std::string_view to_string(activation a);
std::string_view to_string(loss_kind l);
std::string_view to_string(weight_init i);
// Parse a name as written by to_string; unknown names throw parameter_error
// naming `field` and listing the accepted names.
activation parse_activation(std::string_view name, std::string_view field = "activation");
loss_kind parse_loss(std::string_view name, std::string_view field = "loss");
weight_init parse_weight_init(std::string_view name, std::string_view field = "init");

struct rate_network_params {
  std::vector<std::size_t> layer_sizes;
  activation hidden_activation = activation::relu;
  activation output_activation = activation::identity;
  loss_kind loss = loss_kind::mse;
  bool bias = true;
  weight_init init = weight_init::he_uniform;
  double init_gain = 1.0;
  double target_on = 1.0;
  double target_off = 0.0;
  std::uint64_t seed = 1;
  local_fields first_layer;

  // Throws parameter_error naming the first field out of its domain.
  void validate() const;
};

// The per-layer state of a forward pass over a batch: u[w] and r[w] are the
// potentials and rates of layer w+1, one row per sample.
struct activations {
  std::vector<matrix> u;
  std::vector<matrix> r;
};

// Loss and accuracy summed over some samples.
struct batch_stats {
  double loss_sum = 0.0;
  std::size_t correct = 0;
  std::size_t count = 0;
};

class rate_network {
 public:
  // Validates the parameters and draws the initial weights.
  explicit rate_network(rate_network_params params);

  const rate_network_params& params() const { return params_; }
  const std::vector<std::size_t>& layer_sizes() const { return params_.layer_sizes; }
  // Number of weight layers L.
  std::size_t num_layers() const { return weights_.size(); }
  std::size_t input_size() const { return params_.layer_sizes.front(); }
  std::size_t output_size() const { return params_.layer_sizes.back(); }
  bool has_bias() const { return params_.bias; }

  // W^(w+1), layer_sizes[w+1] x layer_sizes[w].
  matrix& weights(std::size_t w) { return weights_.at(w); }
  const matrix& weights(std::size_t w) const { return weights_.at(w); }
  // b^(w+1), layer_sizes[w+1] entries (all 0 and never trained without bias).
  std::vector<float>& biases(std::size_t w) { return biases_.at(w); }
  const std::vector<float>& biases(std::size_t w) const { return biases_.at(w); }

  // The connection mask of W^(w+1) (1: a synapse, 0: none), or null when
  // the layer is fully connected.
  const matrix* mask(std::size_t w) const { return w == 0 && !mask_.empty() ? &mask_ : nullptr; }

  // The activation function of layer w+1.
  activation layer_activation(std::size_t w) const {
    return w + 1 == num_layers() ? params_.output_activation : params_.hidden_activation;
  }

  // Forward pass over a batch (inputs: one sample per row).
  activations forward(const_matrix_view inputs) const;

  // Target rows for labels: one-hot with target_on / target_off for mse,
  // 1 / 0 for softmax_cross_entropy. Labels must be < output_size().
  matrix targets_for(std::span<const std::uint8_t> labels) const;

  // Loss and accuracy of a forward pass's output rows against targets. The
  // predicted class is the argmax of the output (lowest index on ties); the
  // true class is the argmax of the target row.
  batch_stats score(const activations& acts, const_matrix_view targets) const;

 private:
  rate_network_params params_;
  std::vector<matrix> weights_;
  std::vector<std::vector<float>> biases_;
  matrix mask_;  // of W^1 with local fields; else empty
};

// The bound a of the U(-a, a) initialisation of a layer with the given fans
// (see the init parameter).
double init_bound(const rate_network_params& params, std::size_t fan_in, std::size_t fan_out);

// Loss (mean per sample) and accuracy over a labelled data set.
struct evaluation {
  double loss = 0.0;
  double accuracy = 0.0;
  std::size_t count = 0;
};

// Evaluates the network on data; the samples are split into fixed blocks
// spread over `threads` threads, and the block sums are added in order, so
// the result does not depend on `threads`.
evaluation evaluate(const rate_network& net, dataset_view data, std::size_t threads = 1);

}  // namespace apical::learning
