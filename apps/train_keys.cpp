// The keys of `apical train` as a table: every key's name, help, whether it
// is an identity key, and the train_config field it reads and writes. The
// order is the order of config.ini and of --help.
#include <cmath>

#include <fmt/format.h>

#include "apical/config/key_table.hpp"
#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"
#include "train_config.hpp"

namespace apical::app {
namespace {

using key = config_key;
using lm = learning::microcircuit_params;
constexpr bool run_key = false;  // may change when a run resumes

template <class At, class Write, class Read>
key row(std::string name, std::string help, At at, config::format<Write, Read> f,
        bool identity = true) {
  return config::field<train_config>(std::move(name), std::move(help), at, f, identity);
}

// An enumeration written by its to_string and read by `Parse(text, key)`.
template <auto Parse>
constexpr auto choice() {
  return config::named([](auto v) { return std::string(to_string(v)); },
                       [](std::string_view t, std::string_view k) { return Parse(t, k); });
}

input_scaling parse_input(std::string_view text, std::string_view key_name) {
  if (text == "unit") return input_scaling::unit;
  if (text == "centred" || text == "centered") return input_scaling::centred;
  if (text == "on-off" || text == "on_off") return input_scaling::on_off;
  throw parameter_error(
      fmt::format("{}: unknown value '{}'; expected unit, centred or on-off", key_name, text));
}

// One item of a compare list: "bp", or "bp@0.1" with its own step.
comparison_spec parse_comparison(std::string_view item, std::string_view key_name) {
  const std::size_t at = item.find('@');
  const std::string name = config::trim(item.substr(0, at));
  comparison_spec spec;
  spec.algo = parse_train_algo(name, key_name);
  if (!is_rate(spec.algo))
    throw parameter_error(fmt::format(
        "{}: '{}' is not a reference trainer; expected a list of bp, fa, dfa, scfa, each "
        "optionally with its own step (bp@0.1)",
        key_name, name));
  if (at != std::string_view::npos) {
    const std::string step = config::trim(item.substr(at + 1));
    const double lr = config::parse_real(step, key_name);
    if (!(lr > 0.0) || !std::isfinite(lr))
      throw parameter_error(
          fmt::format("{}: '{}' has the step {}; expected a finite learning rate > 0 after '@'",
                      key_name, item, step));
    spec.learning_rate = lr;
  }
  return spec;
}

// "bp,fa" or "bp,bp@0.1,scfa@0.01"; "none" or nothing: no comparison.
std::vector<comparison_spec> parse_compare(std::string_view text, std::string_view key_name) {
  std::vector<comparison_spec> out;
  if (text.empty() || text == "none") return out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string item = config::trim(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    out.push_back(parse_comparison(item, key_name));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string compare_to_string(const std::vector<comparison_spec>& list) {
  std::string s;
  for (const auto& c : list) s += (s.empty() ? "" : ",") + c.label();
  return s.empty() ? "none" : s;
}

constexpr auto as_dataset =
    config::named([](const std::string& v) { return v; },
                  [](std::string_view t, std::string_view) {
                    return std::string(datasets::to_string(datasets::parse_dataset_id(t)));
                  });
constexpr auto as_arch =
    config::named([](const std::vector<std::size_t>& v) { return arch_to_string(v); },
                  [](std::string_view t, std::string_view k) { return parse_arch(t, k); });
constexpr auto as_compare = config::named(compare_to_string, parse_compare);

// Top level: the data, the model and the algorithm, the run.
std::vector<key> top_keys() {
  using c = train_config;
  return {
      row("dataset", "mnist, fashion-mnist or cifar10", &c::dataset, as_dataset),
      row("data-dir", "folder holding the dataset (default: search, see docs/datasets.md)",
          &c::data_dir, config::as_text, run_key),
      row("train-samples", "train on the first N training samples (0: all)", &c::train_samples,
          config::as_count),
      row("test-samples", "test on the first N test samples (0: all)", &c::test_samples,
          config::as_count, run_key),
      row("arch", "layer sizes, input-hidden...-output, e.g. 784-800-10", &c::arch, as_arch),
      row("algo", "microcircuit (spiking), or a rate reference trainer: bp, fa, dfa, scfa",
          &c::algo, choice<parse_train_algo>()),
      row("feedback",
          "sign-concordant, random, symmetric or direct (microcircuit; a rate algo implies its "
          "own)",
          &c::feedback, choice<learning::parse_feedback_mode>()),
      row("magnitude", "sign-concordant feedback magnitudes: uniform (uSF) or random (frSF)",
          &c::magnitude, choice<learning::parse_sign_magnitude>()),
      row("epochs", "total epochs (a resumed run continues up to this count)", &c::epochs,
          config::as_count, run_key),
      row("learning-rate", "SGD step (rate) or eta in mV (microcircuit)", &c::learning_rate,
          config::as_real),
      row("batch-size", "samples per weight update", &c::batch_size, config::as_count),
      row("lr-decay",
          "learning-rate factor per epoch: epoch e (from 0) steps with learning-rate x "
          "lr-decay^e",
          &c::lr_decay, config::as_real),
      row("momentum", "momentum in [0, 1) (rate SGD; microcircuit mini-batch steps)", &c::momentum,
          config::as_real),
      row("weight-decay", "L2 decay on weights (rate trainers)", &c::weight_decay, config::as_real),
      row("input",
          "input scaling: unit (x / 255), centred (minus the training means; rate only) or "
          "on-off (centred, as an ON and an OFF input per pixel: the arch starts with 2 x the "
          "pixels)",
          &c::input, choice<parse_input>()),
      row("local-field",
          "local receptive fields: each first-hidden-layer cell sees one square image patch of "
          "this side in pixels, all channels (0: fully connected)",
          &c::local_field, config::as_count),
      row("local-stride", "pixels between patch starts (0: the patch side, no overlap)",
          &c::local_stride, config::as_count),
      row("seed", "master seed: initial weights, feedback, shuffles, spike encoding", &c::seed,
          config::as_count),
      row("threads", "worker threads; results are identical for any number", &c::threads,
          config::as_count, run_key),
      row("output", "output folder (metrics, checkpoint, pictures)", &c::output, config::as_text,
          run_key),
      row("compare",
          "also train these reference trainers on the same data, e.g. bp,fa,dfa,scfa; bp@0.1 "
          "gives one its own learning rate",
          &c::compare, as_compare, run_key),
      row("raster-sample", "test sample shown in raster.svg (microcircuit)", &c::raster_sample,
          config::as_count, run_key),
      row("weight-images", "hidden units shown in weights.svg (0: none)", &c::weight_images,
          config::as_count, run_key),
  };
}

// [rate]: the rate network and its trainer.
std::vector<key> rate_keys() {
  const auto net = [](auto member) {
    return [member](auto& c) -> auto& {
      return c.rate_net.*member;
    };
  };
  const auto trainer = [](auto member) {
    return [member](auto& c) -> auto& {
      return c.rate.*member;
    };
  };
  using n = learning::rate_network_params;
  using t = learning::trainer_params;
  return {
      row("rate.hidden_activation", "relu, sigmoid, clipped_relu or identity",
          net(&n::hidden_activation), choice<learning::parse_activation>()),
      row("rate.output_activation", "output f with the mse loss", net(&n::output_activation),
          choice<learning::parse_activation>()),
      row("rate.loss", "mse or softmax_cross_entropy", net(&n::loss),
          choice<learning::parse_loss>()),
      row("rate.init", "he_uniform or glorot_uniform", net(&n::init),
          choice<learning::parse_weight_init>()),
      row("rate.init_gain", "scale of the initial weights", net(&n::init_gain), config::as_real),
      row("rate.bias", "whether units have biases", net(&n::bias), config::as_flag),
      row("rate.feedback_scale", "scale of random feedback (fa, dfa, scfa)",
          trainer(&t::feedback_scale), config::as_real),
      row("rate.count_noise",
          "train on Poisson spike counts: x becomes Poisson(N x) / N for N > 0 (0: exact inputs)",
          trainer(&t::count_noise), config::as_real),
      row("rate.hidden_count_noise",
          "train with hidden activity drawn as Poisson spike counts, N per unit on average (0: "
          "exact)",
          trainer(&t::hidden_count_noise), config::as_real),
  };
}

auto circuit(auto member) {
  return [member](auto& c) -> auto& {
    return c.circuit.*member;
  };
}

// [microcircuit]: presentation, inputs and teacher, the cells and pathways.
std::vector<key> circuit_cell_keys() {
  constexpr auto real = config::as_real;
  constexpr auto flag = config::as_flag;
  return {
      row("microcircuit.window_ms", "presentation window T of one sample (ms)",
          circuit(&lm::window_ms), real),
      // Evaluation only: it changes test accuracy, never the trained weights.
      row("microcircuit.test_window_ms",
          "presentation window of a test sample (ms; 0: window_ms); longer averages out input "
          "noise",
          circuit(&lm::test_window_ms), real, run_key),
      row("microcircuit.input_rate_hz", "spike rate of an input of value 1 (Hz)",
          circuit(&lm::input_rate_hz), real),
      row("microcircuit.input_coding",
          "poisson (Poisson trains) or regular (evenly spaced, random phase per input)",
          circuit(&lm::coding), choice<learning::parse_input_coding>()),
      row("microcircuit.teacher_on_hz", "teacher rate of the label's output unit (Hz)",
          circuit(&lm::teacher_on_hz), real),
      row("microcircuit.teacher_off_hz", "teacher rate of the other output units (Hz)",
          circuit(&lm::teacher_off_hz), real),
      row("microcircuit.teacher_regular", "teacher spikes evenly spaced (else Poisson)",
          circuit(&lm::teacher_regular), flag),
      row("microcircuit.init_gain", "initial weights U(-a, a), a = gain 15 mV sqrt(3 / fan_in)",
          circuit(&lm::init_gain), real),
      row("microcircuit.feedback_weight_mv", "mean feedback magnitude (mV)",
          circuit(&lm::feedback_weight_mv), real),
      row("microcircuit.symmetric_gain", "symmetric feedback B = gain W^T",
          circuit(&lm::symmetric_gain), real),
      row("microcircuit.feedback_inhibition", "feedback also inhibits the partner error cell",
          circuit(&lm::feedback_inhibition), flag),
      row("microcircuit.pair_coupling", "E+ and E- excite each other", circuit(&lm::pair_coupling),
          flag),
      row("microcircuit.gate_error_cells", "hidden error cells gated by their pyramidal cell",
          circuit(&lm::gate_error_cells), flag),
      row("microcircuit.output_gate", "also gate the output error cells", circuit(&lm::output_gate),
          flag),
      row("microcircuit.output_cells",
          "pyramidal (threshold cells, squared error) or softmax (softmax draws, cross-entropy)",
          circuit(&lm::output), choice<learning::parse_output_cells>()),
      row("microcircuit.softmax_beta_per_mv", "softmax output cells: inverse temperature (1/mV)",
          circuit(&lm::softmax_beta_per_mv), real),
      row("microcircuit.error_theta_mv", "error-cell threshold (mV)", circuit(&lm::error_theta_mv),
          real),
      row("microcircuit.error_tau_m_ms", "error-cell leak (ms; inf: a perfect counter)",
          circuit(&lm::error_tau_m_ms), real),
      row("microcircuit.error_dither", "error cells start at a random potential",
          circuit(&lm::error_dither), flag),
      row("microcircuit.feedforward_delay_ms", "basal delay between layers (ms)",
          circuit(&lm::feedforward_delay_ms), real),
      row("microcircuit.error_delay_ms", "feedback, teacher and comparison delay (ms)",
          circuit(&lm::error_delay_ms), real),
      row("microcircuit.local_delay_ms", "delay inside a microcircuit (ms)",
          circuit(&lm::local_delay_ms), real),
      row("microcircuit.output_error_weight_mv", "teacher and comparison weight (mV)",
          circuit(&lm::output_error_weight_mv), real),
  };
}

// [microcircuit]: the error window, sample transitions and the learning rule.
std::vector<key> circuit_rule_keys() {
  constexpr auto real = config::as_real;
  constexpr auto flag = config::as_flag;
  const auto pyramidal = [](auto member) {
    return [member](auto& c) -> auto& {
      return c.circuit.pyramidal.*member;
    };
  };
  using cell = models::two_compartment::parameters;
  return {
      row("microcircuit.error_phase", "concurrent or after-settle", circuit(&lm::phase),
          choice<learning::parse_error_phase>()),
      row("microcircuit.settle_ms", "start of the error window with after-settle (ms)",
          circuit(&lm::settle_ms), real),
      row("microcircuit.between_samples", "reset or decay", circuit(&lm::between_samples),
          choice<learning::parse_sample_transition>()),
      row("microcircuit.gap_ms", "time between samples with decay (ms)", circuit(&lm::gap_ms),
          real),
      row("microcircuit.layer_rate_scale", "per-layer multipliers of the learning rate, e.g. 1,0.5",
          circuit(&lm::layer_rate_scale), config::as_reals),
      row("microcircuit.tau_x_ms", "presynaptic basal trace decay (ms)", circuit(&lm::tau_x_ms),
          real),
      row("microcircuit.gate", "somatic gate: window or trace", circuit(&lm::gate),
          choice<learning::parse_somatic_gate>()),
      row("microcircuit.tau_g_ms", "somatic gate time (ms)", circuit(&lm::tau_g_ms), real),
      row("microcircuit.schedule", "online, per-sample or mini-batch", circuit(&lm::schedule),
          choice<learning::parse_update_schedule>()),
      row("microcircuit.manhattan", "sign steps instead of mean steps", circuit(&lm::manhattan),
          flag),
      row("microcircuit.homeostasis_rate_mv",
          "hidden thresholds move by rate (count - target) per update (mV; 0: fixed)",
          circuit(&lm::homeostasis_rate_mv), real),
      row("microcircuit.homeostasis_target_hz", "target rate of a hidden pyramidal cell (Hz)",
          circuit(&lm::homeostasis_target_hz), real),
      row("microcircuit.homeostasis_floor_mv",
          "lowest homeostatic threshold, above the resting potential (mV)",
          circuit(&lm::homeostasis_floor_mv), real),
      row("microcircuit.homeostasis_ceiling_mv",
          "highest homeostatic threshold offset above v_th (mV; 0: the target is a least rate, "
          "inf: two-sided)",
          circuit(&lm::homeostasis_ceiling_mv), real),
      row("microcircuit.w_min_mv", "lower weight bound (mV)", circuit(&lm::w_min_mv), real),
      row("microcircuit.w_max_mv", "upper weight bound (mV)", circuit(&lm::w_max_mv), real),
      row("microcircuit.normalise", "keep each layer's weight norm at its initial value",
          circuit(&lm::normalise), flag),
      row("microcircuit.chunks", "fixed accumulation pieces per batch (determinism)",
          circuit(&lm::chunks), config::as_count),
      row("microcircuit.v_init_min_mv",
          "lower bound of the pyramidal cells' initial potential (mV)",
          pyramidal(&cell::v_init_min_mv), real),
      row("microcircuit.v_init_max_mv",
          "upper bound of the pyramidal cells' initial potential (mV)",
          pyramidal(&cell::v_init_max_mv), real),
      row("microcircuit.alignment", "measure the angle to BP's update on every batch",
          &train_config::alignment, flag, run_key),
  };
}

std::vector<key> make_keys() {
  std::vector<key> keys;
  for (auto part : {top_keys(), rate_keys(), circuit_cell_keys(), circuit_rule_keys()})
    for (auto& k : part) keys.push_back(std::move(k));
  return keys;
}

}  // namespace

const std::vector<config_key>& config_keys() {
  static const std::vector<config_key> keys = make_keys();
  return keys;
}

}  // namespace apical::app
