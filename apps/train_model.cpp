#include "train_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <numeric>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/learning/microcircuit/network.hpp"
#include "apical/learning/microcircuit/runner.hpp"
#include "apical/learning/microcircuit/trainer.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/reference/reference_trainer.hpp"

namespace apical::app {
namespace {

using learning::matrix;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void check_shape(const matrix& m, std::size_t rows, std::size_t cols, const std::string& file,
                 const std::string& field) {
  if (m.rows() != rows || m.cols() != cols)
    throw file_error(fmt::format("{}: field '{}': is {}x{}; expected {}x{} for this architecture",
                                 file, field, m.rows(), m.cols(), rows, cols));
}

void check_count(std::size_t have, std::size_t want, const std::string& file,
                 const std::string& field) {
  if (have != want)
    throw file_error(
        fmt::format("{}: field '{}': has {} entries; expected {}", file, field, have, want));
}

int argmax(const float* v, std::size_t n) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < n; ++k)
    if (v[k] > v[best]) best = k;
  return static_cast<int>(best);
}

// The step of epoch e (0-based, counted over resumes): base * decay^e.
struct learning_rate_schedule {
  double base = 0.0;
  double decay = 1.0;
  double at(std::size_t epoch) const { return base * std::pow(decay, static_cast<double>(epoch)); }
};

// ---------------------------------------------------------------------------
// A rate network and a reference trainer.
//
// Plain SGD (momentum 0, no decay) is stateless: each batch goes through
// reference_trainer::train_batch, exactly as reference_trainer::train does.
// With momentum or decay the velocity is state that must reach the
// checkpoint; the trainer keeps its own private, so this model takes the
// trainer's updates (compute_updates) and applies the same SGD arithmetic
// with a velocity it owns (measuring the batch's loss and accuracy before
// the step, as train_batch does).
class rate_model final : public train_model {
 public:
  explicit rate_model(const train_config& c)
      : params_(c.rate_trainer_settings()),
        net_(c.rate_network_settings()),
        trainer_(net_, params_),
        stateful_(params_.momentum != 0.0 || params_.weight_decay != 0.0),
        schedule_{c.learning_rate, c.lr_decay} {
    if (stateful_) {
      for (std::size_t w = 0; w < net_.num_layers(); ++w) {
        velocity_.emplace_back(net_.weights(w).rows(), net_.weights(w).cols());
        bias_velocity_.emplace_back(net_.has_bias() ? net_.biases(w).size() : 0, 0.0f);
      }
    }
  }

  std::size_t epochs_done() const override { return epochs_done_; }

  epoch_record train_epoch(learning::dataset_view data, const progress_callback& progress,
                           std::vector<alignment_point>&) override {
    data.check(net_.input_size(), net_.output_size(), "training set");
    params_.learning_rate = schedule_.at(epochs_done_);
    trainer_.set_learning_rate(params_.learning_rate);
    const auto start = std::chrono::steady_clock::now();
    const std::size_t count = data.count;
    const auto order = learning::epoch_order(count, params_.seed, epochs_done_);
    matrix inputs;
    std::vector<std::uint8_t> labels;
    std::vector<std::uint64_t> noise_seeds;
    double loss_sum = 0.0;
    std::size_t correct = 0;
    for (std::size_t first = 0; first < count; first += params_.batch_size) {
      const std::size_t n = std::min(params_.batch_size, count - first);
      const auto samples = std::span(order).subspan(first, n);
      learning::gather(data, samples, inputs, labels);
      learning::prepare_training_noise(params_, epochs_done_, samples, inputs, noise_seeds);
      const matrix targets = net_.targets_for(labels);
      if (!stateful_) {
        const auto stats = trainer_.train_batch(net_, inputs, targets, noise_seeds);
        loss_sum += stats.loss_sum;
        correct += stats.correct;
      } else {
        const auto before = learning::evaluate(
            net_, learning::dataset_view(inputs.values(), labels, data.input_size),
            params_.threads);
        loss_sum += before.loss * static_cast<double>(n);
        correct += static_cast<std::size_t>(std::llround(before.accuracy * static_cast<double>(n)));
        sgd_step(trainer_.compute_updates(net_, inputs, targets, noise_seeds));
      }
      if (progress) progress(first + n, correct);
    }
    epoch_record r;
    r.wall_s = seconds_since(start);
    r.samples = count;
    r.train_loss = count ? loss_sum / static_cast<double>(count) : 0.0;
    r.train_accuracy = count ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;
    r.samples_per_s = r.wall_s > 0 ? static_cast<double>(count) / r.wall_s : 0.0;
    ++epochs_done_;
    return r;
  }

  evaluation_result evaluate(learning::dataset_view data, const progress_callback&) override {
    const auto e = learning::evaluate(net_, data, params_.threads);
    return {e.accuracy, e.loss};
  }

  std::vector<int> predict(learning::dataset_view data, const progress_callback&) override {
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
    for (std::size_t w = 0; w < net_.num_layers(); ++w) {
      c.weights.push_back(net_.weights(w));
      c.biases.push_back(net_.has_bias() ? net_.biases(w) : std::vector<float>{});
    }
    c.velocity = velocity_;
    c.bias_velocity = bias_velocity_;
    c.feedback.clear();
    if (has_fixed_feedback())
      for (std::size_t w = 0; w < trainer_.feedback_paths().num_hidden(); ++w)
        c.feedback.push_back(trainer_.feedback_paths().fixed(w));
  }

  void restore(const checkpoint& c, const std::string& file) override {
    if (c.kind != "rate")
      throw file_error(fmt::format("{}: field 'kind': is '{}'; expected 'rate' for algo {}", file,
                                   c.kind, learning::to_string(params_.algo)));
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
        check_shape(c.velocity[w], velocity_[w].rows(), velocity_[w].cols(), file,
                    fmt::format("velocity[{}]", w));
        check_count(c.bias_velocity[w].size(), bias_velocity_[w].size(), file,
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
    // Everything fits: change the model only now.
    for (std::size_t w = 0; w < layers; ++w) {
      net_.weights(w) = c.weights[w];
      if (net_.has_bias()) net_.biases(w) = c.biases[w];
    }
    if (stateful_) {
      velocity_ = c.velocity;
      bias_velocity_ = c.bias_velocity;
    }
    trainer_ = learning::reference_trainer(
        net_, params_, learning::feedback(net_, params_.algo, std::move(fixed)));
    epochs_done_ = c.epochs_done;
  }

 private:
  bool has_fixed_feedback() const {
    return params_.algo == learning::algorithm::fa || params_.algo == learning::algorithm::dfa ||
           params_.algo == learning::algorithm::scfa;
  }

  // reference_trainer::apply_updates' arithmetic, with this model's velocity.
  void sgd_step(const learning::weight_updates& updates) {
    const auto lr = static_cast<float>(params_.learning_rate);
    const auto mu = static_cast<float>(params_.momentum);
    const auto decay = static_cast<float>(params_.weight_decay);
    for (std::size_t w = 0; w < net_.num_layers(); ++w) {
      matrix& weights = net_.weights(w);
      float* wv = weights.data();
      const float* g = updates.weights[w].data();
      float* v = velocity_[w].data();
      for (std::size_t i = 0; i < weights.size(); ++i) {
        v[i] = mu * v[i] + (g[i] - decay * wv[i]);
        wv[i] += lr * v[i];
      }
      if (!net_.has_bias()) continue;
      std::vector<float>& b = net_.biases(w);
      const std::vector<float>& db = updates.biases[w];
      std::vector<float>& bv = bias_velocity_[w];
      for (std::size_t i = 0; i < b.size(); ++i) {
        bv[i] = mu * bv[i] + db[i];
        b[i] += lr * bv[i];
      }
    }
  }

  learning::trainer_params params_;  // learning_rate: the current epoch's
  learning::rate_network net_;
  learning::reference_trainer trainer_;
  bool stateful_ = false;
  std::vector<matrix> velocity_;
  std::vector<std::vector<float>> bias_velocity_;
  learning_rate_schedule schedule_;
  std::size_t epochs_done_ = 0;
};

// ---------------------------------------------------------------------------
// The spiking microcircuit and its trainer.
class microcircuit_model final : public train_model {
 public:
  explicit microcircuit_model(const train_config& c)
      : params_(c.microcircuit_settings()),
        trainer_(params_),
        alignment_(c.alignment),
        schedule_{c.learning_rate, c.lr_decay} {}

  std::size_t epochs_done() const override { return trainer_.epochs_done(); }

  epoch_record train_epoch(learning::dataset_view data, const progress_callback& progress,
                           std::vector<alignment_point>& alignment) override {
    const std::size_t epoch = trainer_.epochs_done();
    trainer_.set_learning_rate(schedule_.at(epoch));
    const std::size_t batch_size =
        params_.schedule == learning::update_schedule::per_sample ? 1 : params_.batch_size;
    const std::size_t batches = (data.count + batch_size - 1) / batch_size;
    std::size_t done = 0, correct = 0;
    const std::size_t layers = trainer_.num_layers();
    std::vector<double> angle_sum(layers, 0.0);
    std::vector<std::size_t> angle_count(layers, 0);
    learning::microcircuit_trainer::batch_callback on_batch;
    if (progress || alignment_) {
      on_batch = [&](std::size_t batch, const learning::batch_measurement& m) {
        done += m.outcomes.size();
        for (const auto& o : m.outcomes) correct += o.correct() ? 1 : 0;
        if (alignment_) {
          alignment_point p;
          p.position = static_cast<double>(epoch) +
                       static_cast<double>(batch + 1) / static_cast<double>(batches);
          p.angles_deg = trainer_.alignment_with_bp(m);
          for (std::size_t l = 0; l < layers && l < p.angles_deg.size(); ++l) {
            if (!std::isfinite(p.angles_deg[l])) continue;
            angle_sum[l] += p.angles_deg[l];
            ++angle_count[l];
          }
          alignment.push_back(std::move(p));
        }
        if (progress) progress(done, correct);
      };
    }
    const auto m = trainer_.train_epoch(data, on_batch);
    if (progress) {
      progress(m.samples, static_cast<std::size_t>(
                              std::llround(m.train_accuracy * static_cast<double>(m.samples))));
    }
    epoch_record r;
    r.samples = m.samples;
    r.train_accuracy = m.train_accuracy;
    r.train_loss = m.train_error;
    r.spikes_per_sample = m.hidden_spikes + m.output_spikes + m.error_spikes;
    r.input_spikes_per_sample = m.input_spikes;
    r.wall_s = m.seconds;
    r.samples_per_s = m.samples_per_second;
    if (alignment_) {
      for (std::size_t l = 0; l < layers; ++l)
        r.alignment_deg.push_back(
            angle_count[l] ? angle_sum[l] / static_cast<double>(angle_count[l]) : not_measured);
    }
    return r;
  }

  evaluation_result evaluate(learning::dataset_view data,
                             const progress_callback& progress) override {
    return {trainer_.evaluate(data, progress).accuracy, not_measured};
  }

  std::vector<int> predict(learning::dataset_view data,
                           const progress_callback& progress) override {
    return trainer_.evaluate(data, progress).predicted;
  }

  const matrix& first_layer_weights() const override { return trainer_.weights(0); }

  std::vector<raster_group> record(std::span<const float> input, int label,
                                   std::uint64_t sample_index) override {
    learning::microcircuit_runner runner(params_);
    runner.load(trainer_.all_weights(), trainer_.feedback_signed());
    const auto& lay = runner.circuit().layout();
    std::vector<std::size_t> pops{lay.input};
    for (std::size_t w = 0; w < trainer_.num_layers(); ++w) {
      pops.push_back(lay.pyramidal[w]);
      pops.push_back(lay.error[w]);
    }
    pops.push_back(lay.teacher);
    spike_recorder recorder(runner.sim(), pops);
    runner.present(input, label, derive_seed(params_.seed, stream::encoder, ~std::uint64_t{0}),
                   sample_index);
    std::vector<raster_group> groups;
    const network& net = runner.circuit().net();
    for (const auto p : pops) {
      raster_group g;
      g.name = std::string(net.pop(p).name());
      g.neurons = net.pop(p).size();
      for (const auto& s : recorder.spikes())
        if (s.population == p) g.spikes.emplace_back(s.time_ms, s.neuron);
      groups.push_back(std::move(g));
    }
    return groups;
  }

  void save(checkpoint& c) const override {
    c.kind = "microcircuit";
    c.epochs_done = trainer_.epochs_done();
    c.weights = trainer_.all_weights();
    c.biases.clear();
    c.velocity = trainer_.velocity();
    c.bias_velocity.clear();
    c.feedback = trainer_.feedback_fixed();
  }

  void restore(const checkpoint& c, const std::string& file) override {
    if (c.kind != "microcircuit")
      throw file_error(
          fmt::format("{}: field 'kind': is '{}'; expected 'microcircuit'", file, c.kind));
    const std::size_t layers = trainer_.num_layers();
    check_count(c.weights.size(), layers, file, "weights");
    for (std::size_t w = 0; w < layers; ++w)
      check_shape(c.weights[w], trainer_.weights(w).rows(), trainer_.weights(w).cols(), file,
                  fmt::format("weights[{}]", w));
    // The fixed feedback is drawn from the seed; a checkpoint whose feedback
    // differs was made by a build that draws differently, and continuing it
    // here would not continue that run.
    const auto& fixed = trainer_.feedback_fixed();
    check_count(c.feedback.size(), fixed.size(), file, "feedback");
    for (std::size_t w = 0; w < fixed.size(); ++w)
      if (!(c.feedback[w] == fixed[w]))
        throw file_error(fmt::format(
            "{}: field 'feedback[{}]': differs from the feedback this build draws from seed {}; "
            "the checkpoint was written by an incompatible version",
            file, w, params_.seed));
    // set_velocity checks count, shapes and values (and then changes
    // nothing), so a bad velocity leaves the weights alone too.
    try {
      trainer_.set_velocity(c.velocity);
    } catch (const parameter_error& e) {
      throw file_error(fmt::format("{}: field 'velocity': {}", file, e.what()));
    }
    try {
      trainer_.set_weights(c.weights);
    } catch (const parameter_error& e) {
      throw file_error(fmt::format("{}: field 'weights': {}", file, e.what()));
    }
    trainer_.set_epochs_done(c.epochs_done);
  }

 private:
  learning::microcircuit_params params_;
  learning::microcircuit_trainer trainer_;
  bool alignment_ = true;
  learning_rate_schedule schedule_;
};

}  // namespace

prepared_data prepare_data(const datasets::loaded_dataset& data, input_scaling scaling,
                           const std::vector<float>& means) {
  prepared_data p;
  p.shape = data.train.empty() ? data.test.shape() : data.train.shape();
  p.input_size = p.shape.size();
  p.class_names = data.test.empty() ? data.train.class_names() : data.test.class_names();
  p.train_inputs = learning::to_unit_floats(data.train.pixels());
  p.test_inputs = learning::to_unit_floats(data.test.pixels());
  p.train_labels.assign(data.train.labels().begin(), data.train.labels().end());
  p.test_labels.assign(data.test.labels().begin(), data.test.labels().end());
  if (scaling == input_scaling::centred || scaling == input_scaling::on_off) {
    p.input_means = means.empty() ? learning::feature_means(p.train_inputs, p.input_size) : means;
    if (p.input_means.size() != p.input_size)
      throw parameter_error(fmt::format("input_means: {} values; expected {} (one per input)",
                                        p.input_means.size(), p.input_size));
    learning::subtract_feature_means(p.train_inputs, p.input_means);
    learning::subtract_feature_means(p.test_inputs, p.input_means);
  }
  if (scaling == input_scaling::on_off) {
    // Per sample: the n ON values, then the n OFF values.
    const auto split = [n = p.input_size](const std::vector<float>& centred) {
      std::vector<float> out(2 * centred.size());
      for (std::size_t s = 0; s < centred.size() / n; ++s)
        for (std::size_t j = 0; j < n; ++j) {
          const float d = centred[s * n + j];
          out[2 * n * s + j] = std::max(d, 0.0f);
          out[2 * n * s + n + j] = std::max(-d, 0.0f);
        }
      return out;
    };
    p.train_inputs = split(p.train_inputs);
    p.test_inputs = split(p.test_inputs);
    p.input_size *= 2;
  }
  return p;
}

std::unique_ptr<train_model> make_model(const train_config& c) {
  if (is_rate(c.algo)) return std::make_unique<rate_model>(c);
  return std::make_unique<microcircuit_model>(c);
}

}  // namespace apical::app
