// The checks of a resolved `apical train` configuration, naming the key at
// fault.
#include <cmath>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "train_config.hpp"

namespace apical::app {

namespace {

// The keys every algorithm uses.
void validate_common(const train_config& c) {
  if (c.epochs == 0) throw parameter_error("epochs: is 0; expected >= 1");
  if (c.threads == 0 || c.threads > 256)
    throw parameter_error(fmt::format("threads: is {}; expected 1..256", c.threads));
  if (c.batch_size == 0) throw parameter_error("batch-size: is 0; expected >= 1");
  if (!(c.learning_rate > 0.0) || !std::isfinite(c.learning_rate))
    throw parameter_error(
        fmt::format("learning-rate: is {}; expected a finite value > 0", c.learning_rate));
  if (!(c.lr_decay > 0.0 && c.lr_decay <= 1.0))
    throw parameter_error(fmt::format("lr-decay: is {}; expected a value in (0, 1]", c.lr_decay));
  if (!(c.momentum >= 0.0 && c.momentum < 1.0))
    throw parameter_error(fmt::format("momentum: is {}; expected a value in [0, 1)", c.momentum));
  if (!(c.weight_decay >= 0.0) || !std::isfinite(c.weight_decay))
    throw parameter_error(
        fmt::format("weight-decay: is {}; expected a finite value >= 0", c.weight_decay));
  if (c.output.empty()) throw parameter_error("output: is empty; expected a folder");
  if (c.arch.size() < 2)
    throw parameter_error("arch: expected at least an input and an output size");
  if (!(c.rate.count_noise >= 0.0) || !std::isfinite(c.rate.count_noise))
    throw parameter_error(
        fmt::format("rate.count_noise: is {}; expected a finite value >= 0 (0: exact inputs)",
                    c.rate.count_noise));
  if (!(c.rate.hidden_count_noise >= 0.0) || !std::isfinite(c.rate.hidden_count_noise))
    throw parameter_error(fmt::format(
        "rate.hidden_count_noise: is {}; expected a finite value >= 0 (0: exact activity)",
        c.rate.hidden_count_noise));
  if (c.rate.hidden_count_noise > 0.0 &&
      c.rate_net.hidden_activation != learning::activation::relu &&
      c.rate_net.hidden_activation != learning::activation::clipped_relu)
    throw parameter_error(fmt::format(
        "rate.hidden_count_noise: needs rate.hidden_activation relu or clipped_relu; it is {}",
        learning::to_string(c.rate_net.hidden_activation)));
  if (c.rate.count_noise > 0.0 && c.input == input_scaling::centred)
    throw parameter_error(
        "rate.count_noise: needs inputs >= 0 (spike rates), but input 'centred' has negative "
        "values; expected input unit or on-off");
}

void validate_rate(const train_config& c) {
  if (c.feedback != implied_feedback(c.algo))
    throw parameter_error(fmt::format(
        "feedback: '{}' does not fit algo '{}', which uses {} feedback (--feedback selects "
        "the microcircuit's pathway; pick the rate algorithm instead: bp symmetric, fa random, "
        "dfa direct, scfa sign-concordant)",
        learning::to_string(c.feedback), to_string(c.algo),
        learning::to_string(implied_feedback(c.algo))));
  if (!(c.rate.feedback_scale > 0.0) || !std::isfinite(c.rate.feedback_scale))
    throw parameter_error(fmt::format("rate.feedback_scale: is {}; expected a finite value > 0",
                                      c.rate.feedback_scale));
  try {
    c.rate_network_settings().validate();
    c.rate_trainer_settings().validate();
  } catch (const parameter_error& e) {
    throw parameter_error(fmt::format("rate.{}", e.what()));
  }
}

void validate_microcircuit(const train_config& c) {
  if (c.input == input_scaling::centred)
    throw parameter_error(
        "input: 'centred' does not fit the microcircuit, whose inputs are firing rates in "
        "[0, 1] of input_rate_hz; expected unit or on-off (centred contrast as two rates)");
  if (c.weight_decay != 0.0)
    throw parameter_error(
        "weight-decay: applies to the rate trainers only; expected 0 with algo microcircuit");
  // microcircuit_params::validate names the field; prefix the section.
  try {
    c.microcircuit_settings().validate();
  } catch (const parameter_error& e) {
    const std::string what = e.what();
    throw parameter_error(what.rfind("microcircuit", 0) == 0 ? what : "microcircuit." + what);
  }
}

}  // namespace

void validate(const train_config& c) {
  validate_common(c);
  if (c.local_field != 0)
    c.first_layer_fields().validate(c.arch.front(), c.arch.size() > 2 ? c.arch[1] : 0);
  else if (c.local_stride != 0)
    throw parameter_error(fmt::format(
        "local-stride: is {}; it applies to local fields only (expected 0, or a local-field)",
        c.local_stride));
  if (is_rate(c.algo))
    validate_rate(c);
  else
    validate_microcircuit(c);
}

void check_against_data(const train_config& c, std::size_t input_size, std::size_t classes) {
  const std::size_t inputs = input_size * inputs_per_value(c.input);
  if (c.arch.front() != inputs || c.arch.back() != classes)
    throw parameter_error(fmt::format(
        "arch: {} does not fit {} ({} inputs{}, {} classes); expected {}-...-{}",
        arch_to_string(c.arch), c.dataset, inputs,
        c.input == input_scaling::on_off ? fmt::format(" with on-off input: 2 x {}", input_size)
                                         : std::string(),
        classes, inputs, classes));
}

}  // namespace apical::app
