#include "apical/learning/reference/reference_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "rate_kernels.hpp"

namespace apical::learning {
namespace {

// Rows of dW per item of the update phase: 32 rows of a 784-wide layer are
// 100 KiB, which stay in L2 while the batch's presynaptic rates stream past.
constexpr std::size_t update_block_rows = 32;
constexpr std::size_t max_threads = 256;

std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

// "784-800-10"
std::string joined(const std::vector<std::size_t>& sizes) {
  std::string text;
  for (const std::size_t n : sizes) {
    if (!text.empty()) text.push_back('-');
    text.append(std::to_string(n));
  }
  return text;
}

trainer_params validated(trainer_params params) {
  params.validate();
  return params;
}

}  // namespace

void trainer_params::validate() const {
  feedback_settings().validate();
  if (!(learning_rate > 0.0) || !std::isfinite(learning_rate)) {
    throw parameter_error("learning_rate: is " + std::to_string(learning_rate) +
                          ", expected a finite value > 0");
  }
  if (!(momentum >= 0.0 && momentum < 1.0)) {
    throw parameter_error("momentum: is " + std::to_string(momentum) + ", expected in [0, 1)");
  }
  if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay)) {
    throw parameter_error("weight_decay: is " + std::to_string(weight_decay) +
                          ", expected a finite value >= 0");
  }
  if (batch_size < 1) throw parameter_error("batch_size: is 0, expected >= 1");
  if (!(hidden_count_noise >= 0.0) || !std::isfinite(hidden_count_noise)) {
    throw parameter_error("hidden_count_noise: is " + std::to_string(hidden_count_noise) +
                          ", expected a finite value >= 0 (0: exact activity)");
  }
  if (!(count_noise >= 0.0) || !std::isfinite(count_noise)) {
    throw parameter_error("count_noise: is " + std::to_string(count_noise) +
                          ", expected a finite value >= 0 (0: exact inputs)");
  }
  if (threads < 1 || threads > max_threads) {
    throw parameter_error("threads: is " + std::to_string(threads) + ", expected 1.." +
                          std::to_string(max_threads));
  }
}

reference_trainer::reference_trainer(const rate_network& net, trainer_params params)
    : reference_trainer(net, params, feedback(net, validated(params).feedback_settings())) {}

reference_trainer::reference_trainer(const rate_network& net, trainer_params params, feedback paths)
    : params_(validated(params)),
      layer_sizes_(net.layer_sizes()),
      feedback_(std::move(paths)),
      pool_(std::make_unique<detail::worker_pool>(params_.threads)) {
  params_.algo = feedback_.algo();
  feedback_.refresh(net);
  sgd_ = optimizer({.momentum = params_.momentum, .weight_decay = params_.weight_decay});
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    const std::size_t array = sgd_.add(net.weights(w).size());
    if (const matrix* mask = net.mask(w))
      sgd_.set_mask(array, {mask->values().begin(), mask->values().end()});
    // The biases keep a velocity even without momentum (it is then the step).
    sgd_.add(net.has_bias() ? net.biases(w).size() : 0, true);
  }
}

reference_trainer::~reference_trainer() = default;
reference_trainer::reference_trainer(reference_trainer&&) noexcept = default;
reference_trainer& reference_trainer::operator=(reference_trainer&&) noexcept = default;

void reference_trainer::check_network(const rate_network& net) const {
  if (net.layer_sizes() != layer_sizes_) {
    throw parameter_error("network: layer_sizes " + joined(net.layer_sizes()) + ", expected " +
                          joined(layer_sizes_) + " (the network the trainer was made for)");
  }
}

std::uint64_t sample_noise_seed(std::uint64_t seed, std::size_t epoch, std::size_t sample) {
  return derive_seed(derive_seed(seed, stream::neuron_noise, epoch), stream::neuron_noise, sample);
}

void prepare_training_noise(const trainer_params& p, std::size_t epoch,
                            std::span<const std::size_t> samples, matrix& inputs,
                            std::vector<std::uint64_t>& noise_seeds) {
  if (p.count_noise > 0.0) add_count_noise(inputs, samples, p.count_noise, p.seed, epoch);
  noise_seeds.clear();
  if (p.hidden_count_noise > 0.0)
    for (const std::size_t i : samples) noise_seeds.push_back(sample_noise_seed(p.seed, epoch, i));
}

batch_stats reference_trainer::compute_into(const rate_network& net, const_matrix_view inputs,
                                            const_matrix_view targets,
                                            std::span<const std::uint64_t> noise_seeds,
                                            weight_updates& out) {
  check_network(net);
  const std::size_t batch = inputs.rows;
  if (batch == 0) throw parameter_error("inputs: 0 rows, expected a batch of >= 1 samples");
  if (inputs.cols != net.input_size()) {
    throw parameter_error("inputs: shape " + shape(inputs.rows, inputs.cols) + ", expected " +
                          shape(batch, net.input_size()));
  }
  if (targets.rows != batch || targets.cols != net.output_size()) {
    throw parameter_error("targets: shape " + shape(targets.rows, targets.cols) + ", expected " +
                          shape(batch, net.output_size()));
  }
  const double noise = params_.hidden_count_noise;
  if (noise > 0.0) {
    if (noise_seeds.size() != batch)
      throw parameter_error("noise_seeds: " + std::to_string(noise_seeds.size()) +
                            " given, expected one per input row (" + std::to_string(batch) +
                            ") with hidden_count_noise > 0");
    for (std::size_t w = 0; w + 1 < net.num_layers(); ++w) {
      const activation f = net.layer_activation(w);
      if (f != activation::relu && f != activation::clipped_relu)
        throw parameter_error(
            "hidden_count_noise: needs relu or clipped_relu hidden units (f' from the exact "
            "potential); hidden layer " +
            std::to_string(w + 1) + " is " + std::string(to_string(f)));
    }
  }
  const std::size_t layers = net.num_layers();
  const std::size_t last = layers - 1;
  feedback_.refresh(net);
  detail::transpose_weights(net, weights_t_, *pool_);
  detail::shape_batch(net, batch, acts_, &deltas_);
  sample_loss_.resize(batch);
  sample_correct_.resize(batch);

  // Phase 1: forward and backward passes, split by samples.
  const std::size_t chunks = std::min(batch, params_.threads);
  const std::size_t chunk_rows = (batch + chunks - 1) / chunks;
  pool_->run(chunks, [&](std::size_t c, std::size_t) {
    const std::size_t first = c * chunk_rows;
    if (first >= batch) return;
    const std::size_t n = std::min(chunk_rows, batch - first);
    detail::forward_rows(net, weights_t_, inputs.row_block(first, n), acts_, first, noise,
                         noise_seeds);
    detail::output_delta_rows(net, acts_, targets, deltas_, first, n);
    for (std::size_t s = first; s < first + n; ++s) {
      sample_loss_[s] =
          detail::row_loss(net, acts_.r[last].row(s), acts_.u[last].row(s), targets.row(s));
      sample_correct_[s] =
          detail::row_correct(acts_.r[last].row(s), targets.row(s), net.output_size());
    }
    for (std::size_t w = last; w-- > 0;) {
      const matrix& source = feedback_.direct() ? deltas_[last] : deltas_[w + 1];
      const matrix_view delta = deltas_[w].view().row_block(first, n);
      matmul(source.view().row_block(first, n), feedback_.path(net, w), delta);
      for (std::size_t s = 0; s < n; ++s) {
        detail::multiply_derivative(net.layer_activation(w), acts_.u[w].row(first + s),
                                    acts_.r[w].row(first + s), delta.row(s), delta.cols);
      }
    }
  });

  // Phase 2: dW^l = 1/B delta^l^T r^(l-1), split by rows of dW; every
  // element sums the samples in order.
  out.weights.resize(layers);
  out.biases.resize(layers);
  std::vector<std::pair<std::size_t, std::size_t>> items;
  for (std::size_t w = 0; w < layers; ++w) {
    const matrix& weights = net.weights(w);
    out.weights[w].resize(weights.rows(), weights.cols());
    out.biases[w].resize(net.has_bias() ? weights.rows() : 0);
    for (std::size_t i = 0; i < weights.rows(); i += update_block_rows) items.emplace_back(w, i);
  }
  const float inv_batch = 1.0f / static_cast<float>(batch);
  pool_->run(items.size(), [&](std::size_t t, std::size_t) {
    const auto [w, row_begin] = items[t];
    matrix& dw = out.weights[w];
    const std::size_t row_end = std::min(row_begin + update_block_rows, dw.rows());
    const const_matrix_view previous = w == 0 ? inputs : acts_.r[w - 1].view();
    matmul_rows(deltas_[w], true, previous, dw, row_begin, row_end, false);
    for (float* x = dw.row(row_begin); x != dw.row(row_end); ++x) *x *= inv_batch;
    if (net.has_bias()) {
      for (std::size_t i = row_begin; i < row_end; ++i) {
        double sum = 0.0;
        for (std::size_t s = 0; s < batch; ++s) sum += deltas_[w](s, i);
        out.biases[w][i] = static_cast<float>(sum / static_cast<double>(batch));
      }
    }
  });

  batch_stats stats;
  stats.count = batch;
  for (std::size_t s = 0; s < batch; ++s) {
    stats.loss_sum += sample_loss_[s];
    stats.correct += sample_correct_[s];
  }
  return stats;
}

weight_updates reference_trainer::compute_updates(const rate_network& net, const_matrix_view inputs,
                                                  const_matrix_view targets,
                                                  std::span<const std::uint64_t> noise_seeds) {
  weight_updates updates;
  compute_into(net, inputs, targets, noise_seeds, updates);
  return updates;
}

weight_updates reference_trainer::compute_updates(const rate_network& net, const_matrix_view inputs,
                                                  std::span<const std::uint8_t> labels) {
  if (labels.size() != inputs.rows) {
    throw parameter_error("labels: " + std::to_string(labels.size()) + " given, expected " +
                          std::to_string(inputs.rows) + " (one per input row)");
  }
  const matrix targets = net.targets_for(labels);
  return compute_updates(net, inputs, targets);
}

void reference_trainer::set_learning_rate(double learning_rate) {
  if (!(learning_rate > 0.0) || !std::isfinite(learning_rate))
    throw parameter_error("reference_trainer: learning rate " + std::to_string(learning_rate) +
                          "; expected a finite value > 0");
  params_.learning_rate = learning_rate;
}

void reference_trainer::apply_updates(rate_network& net, const weight_updates& updates) {
  check_network(net);
  if (updates.weights.size() != net.num_layers() || updates.biases.size() != net.num_layers()) {
    throw parameter_error("updates: " + std::to_string(updates.weights.size()) +
                          " layers, expected " + std::to_string(net.num_layers()));
  }
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    matrix& weights = net.weights(w);
    const matrix& dw = updates.weights[w];
    if (dw.rows() != weights.rows() || dw.cols() != weights.cols()) {
      throw parameter_error("updates.weights[" + std::to_string(w) + "]: shape " +
                            shape(dw.rows(), dw.cols()) + ", expected " +
                            shape(weights.rows(), weights.cols()));
    }
    sgd_.step(weight_array(w), weights.values(), dw.values(), params_.learning_rate, 1, true);
    if (!net.has_bias()) continue;
    std::vector<float>& b = net.biases(w);
    const std::vector<float>& db = updates.biases[w];
    if (db.size() != b.size()) {
      throw parameter_error("updates.biases[" + std::to_string(w) +
                            "]: " + std::to_string(db.size()) + " entries, expected " +
                            std::to_string(b.size()));
    }
    sgd_.step(bias_array(w), b, db, params_.learning_rate);
  }
}

batch_stats reference_trainer::train_batch(rate_network& net, const_matrix_view inputs,
                                           const_matrix_view targets,
                                           std::span<const std::uint64_t> noise_seeds) {
  const batch_stats stats = compute_into(net, inputs, targets, noise_seeds, updates_);
  apply_updates(net, updates_);
  return stats;
}

std::vector<epoch_metrics> reference_trainer::train(
    rate_network& net, dataset_view train_set, dataset_view test_set, std::size_t epochs,
    const std::function<void(const epoch_metrics&)>& on_epoch) {
  check_network(net);
  if (train_set.count == 0) {
    throw parameter_error("train_set: is empty, expected at least one sample");
  }
  train_set.check(net.input_size(), net.output_size(), "train_set");
  test_set.check(net.input_size(), net.output_size(), "test_set");
  const std::size_t count = train_set.count;
  matrix batch_inputs;
  std::vector<std::uint8_t> batch_labels;
  std::vector<std::uint64_t> noise_seeds;
  std::vector<epoch_metrics> history;
  for (std::size_t e = 0; e < epochs; ++e) {
    epoch_metrics metrics;
    metrics.epoch = epochs_done_;
    const auto order = epoch_order(count, params_.seed, metrics.epoch);

    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0.0;
    std::size_t correct = 0;
    for (std::size_t first = 0; first < count; first += params_.batch_size) {
      const std::size_t n = std::min(params_.batch_size, count - first);
      const auto samples = std::span(order).subspan(first, n);
      gather(train_set, samples, batch_inputs, batch_labels);
      prepare_training_noise(params_, metrics.epoch, samples, batch_inputs, noise_seeds);
      const matrix targets = net.targets_for(batch_labels);
      const batch_stats stats = train_batch(net, batch_inputs, targets, noise_seeds);
      loss_sum += stats.loss_sum;
      correct += stats.correct;
    }
    metrics.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics.train_loss = loss_sum / static_cast<double>(count);
    metrics.train_accuracy = static_cast<double>(correct) / static_cast<double>(count);
    if (!test_set.empty()) {
      const evaluation test = evaluate(net, test_set, params_.threads);
      metrics.test_loss = test.loss;
      metrics.test_accuracy = test.accuracy;
    }
    ++epochs_done_;
    history.push_back(metrics);
    if (on_epoch) on_epoch(metrics);
  }
  return history;
}

}  // namespace apical::learning
