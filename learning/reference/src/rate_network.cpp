#include "apical/learning/reference/rate_network.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/rate_data.hpp"
#include "apical/learning/training/optimizer.hpp"
#include "rate_kernels.hpp"

namespace apical::learning {
namespace {

constexpr std::array activation_names{"identity", "relu", "sigmoid", "clipped_relu"};
constexpr std::array loss_names{"mse", "softmax_cross_entropy"};
constexpr std::array init_names{"he_uniform", "glorot_uniform"};

// Rows per evaluation block: fixed, so block sums do not depend on threads.
constexpr std::size_t eval_block_rows = 256;

void apply_activation(activation f, const float* u, float* r, std::size_t n) {
  switch (f) {
    case activation::identity:
      std::copy(u, u + n, r);
      break;
    case activation::relu:
      for (std::size_t j = 0; j < n; ++j) r[j] = u[j] > 0.0f ? u[j] : 0.0f;
      break;
    case activation::sigmoid:
      for (std::size_t j = 0; j < n; ++j) r[j] = 1.0f / (1.0f + std::exp(-u[j]));
      break;
    case activation::clipped_relu:
      for (std::size_t j = 0; j < n; ++j) r[j] = std::min(std::max(u[j], 0.0f), 1.0f);
      break;
  }
}

void softmax(const float* u, float* r, std::size_t n) {
  const float top = *std::max_element(u, u + n);
  double sum = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    r[j] = std::exp(u[j] - top);
    sum += r[j];
  }
  const auto scale = static_cast<float>(1.0 / sum);
  for (std::size_t j = 0; j < n; ++j) r[j] *= scale;
}

}  // namespace

double init_bound(const rate_network_params& params, std::size_t fan_in, std::size_t fan_out) {
  const double n = params.init == weight_init::he_uniform ? static_cast<double>(fan_in)
                                                          : static_cast<double>(fan_in + fan_out);
  return params.init_gain * std::sqrt(6.0 / n);
}

std::string_view to_string(activation a) {
  return activation_names.at(static_cast<std::size_t>(a));
}
std::string_view to_string(loss_kind l) {
  return loss_names.at(static_cast<std::size_t>(l));
}
std::string_view to_string(weight_init i) {
  return init_names.at(static_cast<std::size_t>(i));
}

activation parse_activation(std::string_view name, std::string_view field) {
  return detail::parse_name<activation>(name, field, activation_names);
}
loss_kind parse_loss(std::string_view name, std::string_view field) {
  return detail::parse_name<loss_kind>(name, field, loss_names);
}
weight_init parse_weight_init(std::string_view name, std::string_view field) {
  return detail::parse_name<weight_init>(name, field, init_names);
}

void rate_network_params::validate() const {
  if (layer_sizes.size() < 2) {
    throw parameter_error("layer_sizes: " + std::to_string(layer_sizes.size()) +
                          " entries given, expected at least 2 (input and output size)");
  }
  for (std::size_t i = 0; i < layer_sizes.size(); ++i) {
    if (layer_sizes[i] < 1) {
      throw parameter_error("layer_sizes[" + std::to_string(i) + "]: is 0, expected >= 1");
    }
  }
  const auto check_activation = [](activation a, const char* field) {
    if (static_cast<std::size_t>(a) >= activation_names.size()) {
      throw parameter_error(std::string(field) + ": invalid value " +
                            std::to_string(static_cast<int>(a)));
    }
  };
  check_activation(hidden_activation, "hidden_activation");
  check_activation(output_activation, "output_activation");
  if (static_cast<std::size_t>(loss) >= loss_names.size()) {
    throw parameter_error("loss: invalid value " + std::to_string(static_cast<int>(loss)));
  }
  if (static_cast<std::size_t>(init) >= init_names.size()) {
    throw parameter_error("init: invalid value " + std::to_string(static_cast<int>(init)));
  }
  if (loss == loss_kind::softmax_cross_entropy && layer_sizes.back() < 2) {
    throw parameter_error("layer_sizes: softmax_cross_entropy needs an output size >= 2, got " +
                          std::to_string(layer_sizes.back()));
  }
  if (!(init_gain > 0.0) || !std::isfinite(init_gain)) {
    throw parameter_error("init_gain: is " + std::to_string(init_gain) + ", expected > 0");
  }
  first_layer.validate(layer_sizes.front(), layer_sizes.size() > 2 ? layer_sizes[1] : 0);
  if (!std::isfinite(target_on) || !std::isfinite(target_off)) {
    throw parameter_error("target_on/target_off: expected finite values");
  }
}

rate_network::rate_network(rate_network_params params) : params_(std::move(params)) {
  params_.validate();
  const auto& sizes = params_.layer_sizes;
  const bool local = params_.first_layer.enabled();
  if (local) mask_ = connection_mask(params_.first_layer, sizes[1]);
  for (std::size_t w = 0; w + 1 < sizes.size(); ++w) {
    const std::size_t fan_in = w == 0 && local ? params_.first_layer.fan_in() : sizes[w];
    const std::size_t fan_out = sizes[w + 1];
    const double a = init_bound(params_, fan_in, fan_out);
    rng gen(derive_seed(params_.seed, stream::initial_state, w));
    matrix& weights = weights_.emplace_back(fan_out, sizes[w]);
    for (float& x : weights.values()) x = static_cast<float>(gen.uniform(-a, a));
    if (w == 0 && local) zero_where_masked(mask_.values(), weights.values());
    biases_.emplace_back(fan_out, 0.0f);
  }
}

activations rate_network::forward(const_matrix_view inputs) const {
  if (inputs.cols != input_size()) {
    throw parameter_error("inputs: " + std::to_string(inputs.cols) + " columns, expected " +
                          std::to_string(input_size()) + " (the input size)");
  }
  std::vector<matrix> weights_t;
  detail::worker_pool serial(1);
  detail::transpose_weights(*this, weights_t, serial);
  activations acts;
  detail::shape_batch(*this, inputs.rows, acts, nullptr);
  detail::forward_rows(*this, weights_t, inputs, acts, 0);
  return acts;
}

matrix rate_network::targets_for(std::span<const std::uint8_t> labels) const {
  const bool mse = params_.loss == loss_kind::mse;
  const auto on = static_cast<float>(mse ? params_.target_on : 1.0);
  const auto off = static_cast<float>(mse ? params_.target_off : 0.0);
  matrix targets(labels.size(), output_size(), off);
  for (std::size_t s = 0; s < labels.size(); ++s) {
    if (labels[s] >= output_size()) {
      throw parameter_error("labels[" + std::to_string(s) + "]: is " + std::to_string(labels[s]) +
                            ", expected < " + std::to_string(output_size()) + " (the output size)");
    }
    targets(s, labels[s]) = on;
  }
  return targets;
}

batch_stats rate_network::score(const activations& acts, const_matrix_view targets) const {
  const matrix& out = acts.r.back();
  if (targets.rows != out.rows() || targets.cols != out.cols()) {
    throw parameter_error("targets: shape " + std::to_string(targets.rows) + "x" +
                          std::to_string(targets.cols) + ", expected " +
                          std::to_string(out.rows()) + "x" + std::to_string(out.cols()));
  }
  batch_stats stats;
  for (std::size_t s = 0; s < out.rows(); ++s) {
    stats.loss_sum += detail::row_loss(*this, out.row(s), acts.u.back().row(s), targets.row(s));
    stats.correct += detail::row_correct(out.row(s), targets.row(s), out.cols()) ? 1 : 0;
  }
  stats.count = out.rows();
  return stats;
}

evaluation evaluate(const rate_network& net, dataset_view data, std::size_t threads) {
  if (threads < 1) throw parameter_error("threads: is 0, expected >= 1");
  data.check(net.input_size(), net.output_size(), "evaluation data");
  evaluation result;
  result.count = data.count;
  if (data.count == 0) return result;
  const std::size_t blocks = (data.count + eval_block_rows - 1) / eval_block_rows;
  detail::worker_pool pool(std::min(threads, blocks));
  std::vector<matrix> weights_t;
  detail::transpose_weights(net, weights_t, pool);
  std::vector<batch_stats> block_stats(blocks);
  std::vector<activations> workspace(pool.threads());
  pool.run(blocks, [&](std::size_t b, std::size_t worker) {
    const std::size_t first = b * eval_block_rows;
    const std::size_t n = std::min(eval_block_rows, data.count - first);
    activations& acts = workspace[worker];
    detail::shape_batch(net, n, acts, nullptr);
    detail::forward_rows(net, weights_t, data.input_rows(first, n), acts, 0);
    const matrix targets = net.targets_for({data.labels + first, n});
    block_stats[b] = net.score(acts, targets);
  });
  double loss = 0.0;
  std::size_t correct = 0;
  for (const batch_stats& s : block_stats) {
    loss += s.loss_sum;
    correct += s.correct;
  }
  result.loss = loss / static_cast<double>(data.count);
  result.accuracy = static_cast<double>(correct) / static_cast<double>(data.count);
  return result;
}

namespace detail {

void transpose_weights(const rate_network& net, std::vector<matrix>& weights_t, worker_pool& pool) {
  constexpr std::size_t rows_per_item = 64;
  weights_t.resize(net.num_layers());
  std::vector<std::pair<std::size_t, std::size_t>> items;
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    // weights() and biases() hand out references; catch a reshaped one here,
    // before any kernel relies on the shapes.
    const matrix& weights = net.weights(w);
    const std::size_t rows = net.layer_sizes()[w + 1];
    const std::size_t cols = net.layer_sizes()[w];
    if (weights.rows() != rows || weights.cols() != cols) {
      throw parameter_error("weights(" + std::to_string(w) + "): shape " +
                            std::to_string(weights.rows()) + "x" + std::to_string(weights.cols()) +
                            ", expected " + std::to_string(rows) + "x" + std::to_string(cols));
    }
    if (net.biases(w).size() != rows) {
      throw parameter_error("biases(" + std::to_string(w) +
                            "): " + std::to_string(net.biases(w).size()) + " entries, expected " +
                            std::to_string(rows));
    }
    weights_t[w].resize(weights.cols(), weights.rows());
    for (std::size_t i = 0; i < weights.rows(); i += rows_per_item) items.emplace_back(w, i);
  }
  pool.run(items.size(), [&](std::size_t t, std::size_t) {
    const auto [w, first] = items[t];
    const matrix& weights = net.weights(w);
    transpose_rows(weights, weights_t[w], first, std::min(weights.rows(), first + rows_per_item));
  });
}

void shape_batch(const rate_network& net, std::size_t rows, activations& acts,
                 std::vector<matrix>* deltas) {
  const std::size_t layers = net.num_layers();
  acts.u.resize(layers);
  acts.r.resize(layers);
  if (deltas) deltas->resize(layers);
  for (std::size_t w = 0; w < layers; ++w) {
    const std::size_t n = net.layer_sizes()[w + 1];
    acts.u[w].resize(rows, n);
    acts.r[w].resize(rows, n);
    if (deltas) (*deltas)[w].resize(rows, n);
  }
}

void forward_rows(const rate_network& net, const std::vector<matrix>& weights_t,
                  const_matrix_view inputs, activations& acts, std::size_t first,
                  double hidden_count_noise, std::span<const std::uint64_t> noise_seeds) {
  const std::size_t rows = inputs.rows;
  const bool softmax_output = net.params().loss == loss_kind::softmax_cross_entropy;
  const_matrix_view previous = inputs;
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    const matrix_view u = acts.u[w].view().row_block(first, rows);
    const matrix_view r = acts.r[w].view().row_block(first, rows);
    if (net.has_bias()) {
      const std::vector<float>& b = net.biases(w);
      for (std::size_t s = 0; s < rows; ++s) std::copy(b.begin(), b.end(), u.row(s));
    }
    matmul(previous, weights_t[w], u, net.has_bias());
    const bool last = w + 1 == net.num_layers();
    for (std::size_t s = 0; s < rows; ++s) {
      if (last && softmax_output) {
        softmax(u.row(s), r.row(s), u.cols);
      } else {
        apply_activation(net.layer_activation(w), u.row(s), r.row(s), u.cols);
      }
      if (!last && hidden_count_noise > 0.0)
        resample_counts({r.row(s), r.cols}, hidden_count_noise,
                        derive_seed(noise_seeds[first + s], stream::neuron_noise, w));
    }
    previous = r;
  }
}

double row_loss(const rate_network& net, const float* output, const float* potential,
                const float* target) {
  const std::size_t n = net.output_size();
  double loss = 0.0;
  if (net.params().loss == loss_kind::mse) {
    for (std::size_t k = 0; k < n; ++k) {
      const double e = static_cast<double>(output[k]) - target[k];
      loss += 0.5 * e * e;
    }
  } else {
    // -sum_k t_k log softmax(u)_k, with log softmax from the potentials
    // (log-sum-exp), which stays finite when a probability underflows.
    const double top = *std::max_element(potential, potential + n);
    double sum = 0.0;
    for (std::size_t k = 0; k < n; ++k) sum += std::exp(potential[k] - top);
    const double log_sum = top + std::log(sum);
    for (std::size_t k = 0; k < n; ++k) {
      if (target[k] != 0.0f) loss -= target[k] * (potential[k] - log_sum);
    }
  }
  return loss;
}

bool row_correct(const float* output, const float* target, std::size_t n) {
  return std::max_element(output, output + n) - output ==
         std::max_element(target, target + n) - target;
}

void output_delta_rows(const rate_network& net, const activations& acts, const_matrix_view targets,
                       std::vector<matrix>& deltas, std::size_t first, std::size_t n) {
  const std::size_t last = net.num_layers() - 1;
  const std::size_t cols = net.output_size();
  const bool mse = net.params().loss == loss_kind::mse;
  for (std::size_t s = first; s < first + n; ++s) {
    const float* r = acts.r[last].row(s);
    const float* t = targets.row(s);
    float* d = deltas[last].row(s);
    for (std::size_t k = 0; k < cols; ++k) d[k] = t[k] - r[k];
    if (mse) multiply_derivative(net.layer_activation(last), acts.u[last].row(s), r, d, cols);
  }
}

void multiply_derivative(activation f, const float* u, const float* r, float* delta,
                         std::size_t n) {
  switch (f) {
    case activation::identity:
      break;
    case activation::relu:
      for (std::size_t j = 0; j < n; ++j) delta[j] = u[j] > 0.0f ? delta[j] : 0.0f;
      break;
    case activation::sigmoid:
      for (std::size_t j = 0; j < n; ++j) delta[j] *= r[j] * (1.0f - r[j]);
      break;
    case activation::clipped_relu:
      for (std::size_t j = 0; j < n; ++j) {
        delta[j] = (u[j] > 0.0f && u[j] < 1.0f) ? delta[j] : 0.0f;
      }
      break;
  }
}

}  // namespace detail
}  // namespace apical::learning
