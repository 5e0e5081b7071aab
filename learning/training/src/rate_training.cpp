// The rate trainers (BP, FA, DFA, SC-FA) behind the trainer interface.
#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/reference/reference_trainer.hpp"
#include "apical/learning/training/trainer.hpp"
#include "checks.hpp"

namespace apical::learning {
namespace {

using detail::check_count;
using detail::check_shape;

int argmax(const float* v, std::size_t n) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < n; ++k)
    if (v[k] > v[best]) best = k;
  return static_cast<int>(best);
}

// A rate network and a reference trainer.
//
// Plain SGD (momentum 0, no decay) is stateless: each batch goes through
// reference_trainer::train_batch, exactly as reference_trainer::train does.
// With momentum or decay the velocity is state that reaches the checkpoint
// (the trainer's optimizer holds it), and the batch's loss and accuracy
// are measured by evaluate() before the step.
class rate_training final : public trainer {
 public:
  rate_training(const rate_network_params& network, const trainer_params& settings,
                learning_rate_schedule schedule)
      : params_(settings),
        net_(network),
        trainer_(net_, params_),
        stateful_(params_.momentum != 0.0 || params_.weight_decay != 0.0),
        schedule_(schedule) {}

  std::size_t epochs_done() const override { return epochs_done_; }

  epoch_record train_epoch(dataset_view data, const progress_callback& progress,
                           std::vector<alignment_point>&) override {
    data.check(net_.input_size(), net_.output_size(), "training set");
    params_.learning_rate = schedule_.at(epochs_done_);
    trainer_.set_learning_rate(params_.learning_rate);
    const auto start = std::chrono::steady_clock::now();
    const std::size_t count = data.count;
    const auto order = epoch_order(count, params_.seed, epochs_done_);
    matrix inputs;
    std::vector<std::uint8_t> labels;
    std::vector<std::uint64_t> noise_seeds;
    double loss_sum = 0.0;
    std::size_t correct = 0;
    for (std::size_t first = 0; first < count; first += params_.batch_size) {
      const std::size_t n = std::min(params_.batch_size, count - first);
      const auto samples = std::span(order).subspan(first, n);
      gather(data, samples, inputs, labels);
      prepare_training_noise(params_, epochs_done_, samples, inputs, noise_seeds);
      const matrix targets = net_.targets_for(labels);
      if (!stateful_) {
        const auto stats = trainer_.train_batch(net_, inputs, targets, noise_seeds);
        loss_sum += stats.loss_sum;
        correct += stats.correct;
      } else {
        const auto before = learning::evaluate(
            net_, dataset_view(inputs.values(), labels, data.input_size), params_.threads);
        loss_sum += before.loss * static_cast<double>(n);
        correct += static_cast<std::size_t>(std::llround(before.accuracy * static_cast<double>(n)));
        trainer_.apply_updates(net_, trainer_.compute_updates(net_, inputs, targets, noise_seeds));
      }
      if (progress) progress(first + n, correct);
    }
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    epoch_record r;
    r.wall_s = wall_s;
    r.samples = count;
    r.train_loss = count ? loss_sum / static_cast<double>(count) : 0.0;
    r.train_accuracy = count ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;
    r.samples_per_s = r.wall_s > 0 ? static_cast<double>(count) / r.wall_s : 0.0;
    ++epochs_done_;
    return r;
  }

  evaluation_result evaluate(dataset_view data, const progress_callback&) override {
    const auto e = learning::evaluate(net_, data, params_.threads);
    return {e.accuracy, e.loss};
  }

  std::vector<int> predict(dataset_view data, const progress_callback&) override {
    data.check(net_.input_size(), net_.output_size(), "evaluation set");
    std::vector<int> out(data.count);
    constexpr std::size_t block = 256;
    for (std::size_t first = 0; first < data.count; first += block) {
      const std::size_t n = std::min(block, data.count - first);
      const auto acts = net_.forward(data.input_rows(first, n));
      const matrix& r = acts.r.back();
      for (std::size_t s = 0; s < n; ++s) out[first + s] = argmax(r.row(s), r.cols());
    }
    return out;
  }

  const matrix& first_layer_weights() const override { return net_.weights(0); }

  void save(checkpoint& c) const override {
    c.kind = "rate";
    c.epochs_done = epochs_done_;
    c.weights.clear();
    c.biases.clear();
    c.velocity.clear();
    c.bias_velocity.clear();
    const optimizer& sgd = trainer_.sgd();
    for (std::size_t w = 0; w < net_.num_layers(); ++w) {
      const matrix& weights = net_.weights(w);
      c.weights.push_back(weights);
      c.biases.push_back(net_.has_bias() ? net_.biases(w) : std::vector<float>{});
      if (!stateful_) continue;
      const auto v = sgd.velocity(reference_trainer::weight_array(w));
      c.velocity.emplace_back(weights.rows(), weights.cols(),
                              std::vector<float>(v.begin(), v.end()));
      const auto bv = sgd.velocity(reference_trainer::bias_array(w));
      c.bias_velocity.emplace_back(bv.begin(), bv.end());
    }
    c.feedback.clear();
    if (has_fixed_feedback())
      for (std::size_t w = 0; w < trainer_.feedback_paths().num_hidden(); ++w)
        c.feedback.push_back(trainer_.feedback_paths().fixed(w));
  }

  void restore(const checkpoint& c, const std::string& file) override {
    if (c.kind != "rate")
      throw file_error(fmt::format("{}: field 'kind': is '{}'; expected 'rate' for algo {}", file,
                                   c.kind, to_string(params_.algo)));
    const std::size_t layers = net_.num_layers();
    check_count(c.weights.size(), layers, file, "weights");
    check_count(c.biases.size(), layers, file, "biases");
    for (std::size_t w = 0; w < layers; ++w) {
      const matrix& cur = net_.weights(w);
      check_shape(c.weights[w], cur.rows(), cur.cols(), file, fmt::format("weights[{}]", w));
      check_count(c.biases[w].size(), net_.has_bias() ? cur.rows() : 0, file,
                  fmt::format("biases[{}]", w));
      for (const float x : c.weights[w].values())
        if (!std::isfinite(x))
          throw file_error(
              fmt::format("{}: field 'weights[{}]': holds {}; expected finite values", file, w, x));
    }
    if (stateful_) {
      check_count(c.velocity.size(), layers, file, "velocity");
      check_count(c.bias_velocity.size(), layers, file, "bias_velocity");
      for (std::size_t w = 0; w < layers; ++w) {
        const matrix& cur = net_.weights(w);
        check_shape(c.velocity[w], cur.rows(), cur.cols(), file, fmt::format("velocity[{}]", w));
        check_count(c.bias_velocity[w].size(), net_.has_bias() ? cur.rows() : 0, file,
                    fmt::format("bias_velocity[{}]", w));
      }
    } else {
      check_count(c.velocity.size(), 0, file, "velocity");
    }
    std::vector<matrix> fixed;
    if (has_fixed_feedback()) {
      const std::size_t hidden = trainer_.feedback_paths().num_hidden();
      check_count(c.feedback.size(), hidden, file, "feedback");
      for (std::size_t w = 0; w < hidden; ++w) {
        const matrix& cur = trainer_.feedback_paths().fixed(w);
        check_shape(c.feedback[w], cur.rows(), cur.cols(), file, fmt::format("feedback[{}]", w));
      }
      fixed = c.feedback;
    }
    // Everything fits: change the trainer only now.
    for (std::size_t w = 0; w < layers; ++w) {
      net_.weights(w) = c.weights[w];
      if (net_.has_bias()) net_.biases(w) = c.biases[w];
    }
    trainer_ = reference_trainer(net_, params_, feedback(net_, params_.algo, std::move(fixed)));
    if (stateful_) {
      optimizer& sgd = trainer_.sgd();
      for (std::size_t w = 0; w < layers; ++w) {
        sgd.set_velocity(reference_trainer::weight_array(w), c.velocity[w].values());
        sgd.set_velocity(reference_trainer::bias_array(w), c.bias_velocity[w]);
      }
    }
    epochs_done_ = c.epochs_done;
  }

 private:
  bool has_fixed_feedback() const {
    return params_.algo == algorithm::fa || params_.algo == algorithm::dfa ||
           params_.algo == algorithm::scfa;
  }

  trainer_params params_;  // learning_rate: the current epoch's
  rate_network net_;
  reference_trainer trainer_;
  bool stateful_ = false;
  learning_rate_schedule schedule_;
  std::size_t epochs_done_ = 0;
};

}  // namespace

std::unique_ptr<trainer> make_rate_trainer(const rate_network_params& network,
                                           const trainer_params& settings,
                                           learning_rate_schedule schedule) {
  return std::make_unique<rate_training>(network, settings, schedule);
}

}  // namespace apical::learning
