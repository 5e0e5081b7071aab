#pragma once
// Internal building blocks shared by rate_network and reference_trainer:
// row-range kernels of the forward and backward passes. Everything here works on rows [first, first
// + n) of batch matrices, and a row's numbers never depend on the other rows.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/worker_pool.hpp"

namespace apical::learning::detail {

// The enumerator whose name (names[i] for enumerator i) is `name`; throws
// parameter_error naming `field` and listing the accepted names otherwise.
template <class Enum, std::size_t N>
Enum parse_name(std::string_view name, std::string_view field,
                const std::array<const char*, N>& names) {
  std::string accepted;
  for (std::size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<Enum>(i);
    accepted += (i == 0 ? "" : ", ");
    accepted += names[i];
  }
  throw parameter_error(std::string(field) + ": unknown value '" + std::string(name) +
                        "' (expected one of " + accepted + ")");
}

// W^(w+1)^T for every layer: the forward operands of matmul.
void transpose_weights(const rate_network& net, std::vector<matrix>& weights_t, worker_pool& pool);

// Shapes acts (and deltas, when given) for a batch of `rows` samples.
void shape_batch(const rate_network& net, std::size_t rows, activations& acts,
                 std::vector<matrix>* deltas);

// Forward pass of rows [first, first + inputs.rows) of acts; `inputs` holds
// just those rows.
// With hidden_count_noise > 0, every hidden layer's activity of row s is
// resampled as spike counts (resample_counts) from
// derive_seed(noise_seeds[first + s], stream::neuron_noise, layer) before
// the next layer reads it; u keeps the exact potentials (f'(u) is exact).
void forward_rows(const rate_network& net, const std::vector<matrix>& weights_t,
                  const_matrix_view inputs, activations& acts, std::size_t first,
                  double hidden_count_noise = 0.0, std::span<const std::uint64_t> noise_seeds = {});

// Loss of row s and whether its argmax matches the target's.
double row_loss(const rate_network& net, const float* output, const float* potential,
                const float* target);
bool row_correct(const float* output, const float* target, std::size_t n);

// delta[L-1] rows = -dE/du^L for rows [first, first + n).
void output_delta_rows(const rate_network& net, const activations& acts, const_matrix_view targets,
                       std::vector<matrix>& deltas, std::size_t first, std::size_t n);

// delta *= f'(u) elementwise for one layer's rows (r = f(u) is given too).
void multiply_derivative(activation f, const float* u, const float* r, float* delta, std::size_t n);

}  // namespace apical::learning::detail
