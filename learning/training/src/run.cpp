#include "apical/learning/training/run.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::learning {

std::string divergence(const trainer& t, double train_loss) {
  if (std::isnan(train_loss)) return "the training loss is not a number";
  if (std::isinf(train_loss)) return fmt::format("the training loss is {}", train_loss);
  checkpoint c;
  t.save(c);
  const auto first_bad = [](std::span<const float> v) {
    return std::find_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); }) != v.end();
  };
  for (std::size_t w = 0; w < c.weights.size(); ++w)
    if (first_bad(c.weights[w].values()))
      return fmt::format("weights of layer {} are not finite", w + 1);
  for (std::size_t w = 0; w < c.biases.size(); ++w)
    if (first_bad(c.biases[w])) return fmt::format("biases of layer {} are not finite", w + 1);
  for (std::size_t w = 0; w < c.velocity.size(); ++w)
    if (first_bad(c.velocity[w].values()))
      return fmt::format("the momentum velocity of layer {} is not finite", w + 1);
  return {};
}

void training_run::test_initial(const run_observer& observer) {
  if (test_.empty()) return;
  history_.initial_test_accuracy =
      trainer_
          .evaluate(test_, observer.testing ? observer.testing(test_.count) : progress_callback{})
          .accuracy;
}

void training_run::train_until(std::size_t epochs, const divergence_report& report,
                               const run_observer& observer) {
  while (trainer_.epochs_done() < epochs) {
    if (observer.begin_epoch) observer.begin_epoch(trainer_.epochs_done() + 1);
    curve_recorder curve(history_.train_curve, trainer_.epochs_done(), train_.count);
    epoch_record r = trainer_.train_epoch(
        train_,
        [&](std::size_t done, std::size_t correct) {
          curve(done, correct);
          if (observer.training) observer.training(done, correct);
        },
        history_.alignment);
    r.epoch = trainer_.epochs_done();
    if (const std::string what = divergence(trainer_, r.train_loss); !what.empty())
      throw parameter_error(fmt::format(
          "{}: training diverged in epoch {} ({}); {}; expected a smaller learning-rate (is {})",
          report.who, r.epoch, what, report.kept ? report.kept(r.epoch) : std::string(),
          report.learning_rate));
    if (!test_.empty()) {
      const auto e = trainer_.evaluate(
          test_, observer.testing ? observer.testing(test_.count) : progress_callback{});
      r.test_accuracy = e.accuracy;
      r.test_loss = e.loss;
    }
    history_.epochs.push_back(r);
    if (observer.end_epoch) observer.end_epoch(history_.epochs.back());
  }
}

}  // namespace apical::learning
