// The spiking microcircuit behind the trainer interface.
#include <cmath>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/learning/microcircuit/network.hpp"
#include "apical/learning/microcircuit/runner.hpp"
#include "apical/learning/microcircuit/trainer.hpp"
#include "apical/learning/training/trainer.hpp"
#include "checks.hpp"

namespace apical::learning {
namespace {

using detail::check_count;
using detail::check_shape;

class microcircuit_training final : public trainer {
 public:
  microcircuit_training(const microcircuit_params& params, learning_rate_schedule schedule,
                        bool alignment)
      : params_(params), trainer_(params_), alignment_(alignment), schedule_(schedule) {}

  std::size_t epochs_done() const override { return trainer_.epochs_done(); }

  epoch_record train_epoch(dataset_view data, const progress_callback& progress,
                           std::vector<alignment_point>& alignment) override {
    const std::size_t epoch = trainer_.epochs_done();
    trainer_.set_learning_rate(schedule_.at(epoch));
    const std::size_t batch_size =
        params_.schedule == update_schedule::per_sample ? 1 : params_.batch_size;
    const std::size_t batches = (data.count + batch_size - 1) / batch_size;
    std::size_t done = 0, correct = 0;
    const std::size_t layers = trainer_.num_layers();
    std::vector<double> angle_sum(layers, 0.0);
    std::vector<std::size_t> angle_count(layers, 0);
    microcircuit_trainer::batch_callback on_batch;
    if (progress || alignment_) {
      on_batch = [&](std::size_t batch, const batch_measurement& m) {
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
    r.dead_fraction = m.dead_fraction;
    r.quiet_fraction = m.quiet_fraction;
    r.hidden_rate_hz = m.hidden_rate_hz;
    if (alignment_) {
      for (std::size_t l = 0; l < layers; ++l)
        r.alignment_deg.push_back(
            angle_count[l] ? angle_sum[l] / static_cast<double>(angle_count[l]) : not_measured);
    }
    return r;
  }

  evaluation_result evaluate(dataset_view data, const progress_callback& progress) override {
    return {trainer_.evaluate(data, progress).accuracy, not_measured};
  }

  std::vector<int> predict(dataset_view data, const progress_callback& progress) override {
    return trainer_.evaluate(data, progress).predicted;
  }

  const matrix& first_layer_weights() const override { return trainer_.weights(0); }

  std::vector<raster_group> record(std::span<const float> input, int label,
                                   std::uint64_t sample_index) override {
    microcircuit_runner runner(params_);
    runner.load(trainer_.all_weights(), trainer_.feedback_signed(), trainer_.threshold_offsets());
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
    c.thresholds = trainer_.threshold_offsets();
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
    // A version 1 checkpoint has no thresholds: they were all 0 then.
    std::vector<std::vector<double>> thresholds = c.thresholds;
    if (thresholds.empty())
      for (const auto& t : trainer_.threshold_offsets()) thresholds.emplace_back(t.size(), 0.0);
    try {
      trainer_.set_threshold_offsets(std::move(thresholds));
    } catch (const parameter_error& e) {
      throw file_error(fmt::format("{}: field 'thresholds': {}", file, e.what()));
    }
    try {
      trainer_.set_weights(c.weights);
    } catch (const parameter_error& e) {
      throw file_error(fmt::format("{}: field 'weights': {}", file, e.what()));
    }
    trainer_.set_epochs_done(c.epochs_done);
  }

 private:
  microcircuit_params params_;
  microcircuit_trainer trainer_;
  bool alignment_ = true;
  learning_rate_schedule schedule_;
};

}  // namespace

std::unique_ptr<trainer> make_microcircuit_trainer(const microcircuit_params& params,
                                                   learning_rate_schedule schedule,
                                                   bool alignment) {
  return std::make_unique<microcircuit_training>(params, schedule, alignment);
}

}  // namespace apical::learning
