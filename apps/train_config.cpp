#include "train_config.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <istream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"

namespace apical::app {
namespace {

constexpr std::array<std::pair<std::string_view, train_algo>, 5> algo_names{{
    {"microcircuit", train_algo::microcircuit},
    {"bp", train_algo::bp},
    {"fa", train_algo::fa},
    {"dfa", train_algo::dfa},
    {"scfa", train_algo::scfa},
}};

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

double parse_double(std::string_view key, std::string_view text) {
  const std::string t = trimmed(text);
  double v = 0.0;
  if (t == "inf" || t == "+inf") return std::numeric_limits<double>::infinity();
  if (t == "-inf") return -std::numeric_limits<double>::infinity();
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size())
    throw parameter_error(fmt::format("{}: '{}' is not a number", key, text));
  return v;
}

std::uint64_t parse_count(std::string_view key, std::string_view text) {
  const std::string t = trimmed(text);
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size())
    throw parameter_error(
        fmt::format("{}: '{}' is not a whole number; expected an integer >= 0", key, text));
  return v;
}

bool parse_bool(std::string_view key, std::string_view text) {
  const std::string t = trimmed(text);
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  throw parameter_error(
      fmt::format("{}: '{}' is not a boolean; expected true or false", key, text));
}

// Shortest text that reads back to the same double.
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}
std::string boolean(bool b) {
  return b ? "true" : "false";
}

std::vector<double> parse_doubles(std::string_view key, std::string_view text) {
  std::vector<double> out;
  const std::string t = trimmed(text);
  if (t.empty()) return out;
  std::size_t start = 0;
  while (start <= t.size()) {
    const std::size_t comma = t.find(',', start);
    const std::size_t stop = comma == std::string::npos ? t.size() : comma;
    out.push_back(parse_double(key, std::string_view(t).substr(start, stop - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string joined(const std::vector<double>& v) {
  std::string s;
  for (const double x : v) s += (s.empty() ? "" : ",") + number(x);
  return s;
}

input_scaling parse_input(std::string_view key, std::string_view text) {
  const std::string t = trimmed(text);
  if (t == "unit") return input_scaling::unit;
  if (t == "centred" || t == "centered") return input_scaling::centred;
  if (t == "on-off" || t == "on_off") return input_scaling::on_off;
  throw parameter_error(
      fmt::format("{}: unknown value '{}'; expected unit, centred or on-off", key, text));
}

// "bp,fa" or "bp,bp@0.1,scfa@0.01": reference trainers, each with an
// optional step of its own after '@'.
std::vector<comparison_spec> parse_compare(std::string_view key, std::string_view text) {
  std::vector<comparison_spec> out;
  const std::string t = trimmed(text);
  if (t.empty() || t == "none") return out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = t.find(',', start);
    const std::string item = trimmed(std::string_view(t).substr(
        start, comma == std::string::npos ? std::string::npos : comma - start));
    const std::size_t at = item.find('@');
    const std::string name = trimmed(std::string_view(item).substr(0, at));
    comparison_spec spec;
    spec.algo = parse_train_algo(name, key);
    if (!is_rate(spec.algo))
      throw parameter_error(fmt::format(
          "{}: '{}' is not a reference trainer; expected a list of bp, fa, dfa, scfa, each "
          "optionally with its own step (bp@0.1)",
          key, name));
    if (at != std::string::npos) {
      const std::string step = trimmed(std::string_view(item).substr(at + 1));
      const double lr = parse_double(key, step);
      if (!(lr > 0.0) || !std::isfinite(lr))
        throw parameter_error(
            fmt::format("{}: '{}' has the step {}; expected a finite learning rate > 0 after '@'",
                        key, item, step));
      spec.learning_rate = lr;
    }
    out.push_back(spec);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string compare_to_string(const std::vector<comparison_spec>& list) {
  std::string s;
  for (const auto& c : list) s += (s.empty() ? "" : ",") + c.label();
  return s.empty() ? "none" : s;
}

// Key-table builders: a getter and a setter bound to one field.
config_key key(std::string name, std::string help, bool identity,
               std::function<std::string(const train_config&)> get,
               std::function<void(train_config&, std::string_view)> set) {
  return {std::move(name), std::move(help), identity, std::move(get), std::move(set)};
}

template <class Field>
config_key real_key(std::string name, std::string help, Field field) {
  const std::string n = name;
  return key(
      std::move(name), std::move(help), true,
      [field](const train_config& c) { return number(field(c)); },
      [field, n](train_config& c, std::string_view v) { field(c) = parse_double(n, v); });
}

template <class Field>
config_key bool_key(std::string name, std::string help, Field field) {
  const std::string n = name;
  return key(
      std::move(name), std::move(help), true,
      [field](const train_config& c) { return boolean(field(c)); },
      [field, n](train_config& c, std::string_view v) { field(c) = parse_bool(n, v); });
}

std::vector<config_key> make_keys() {
  using lm = learning::microcircuit_params;
  std::vector<config_key> k;
  // Top level: the data.
  k.push_back(key(
      "dataset", "mnist, fashion-mnist or cifar10", true,
      [](const train_config& c) { return c.dataset; },
      [](train_config& c, std::string_view v) {
        c.dataset = std::string(datasets::to_string(datasets::parse_dataset_id(trimmed(v))));
      }));
  k.push_back(key(
      "data-dir", "folder holding the dataset (default: search, see docs/datasets.md)", false,
      [](const train_config& c) { return c.data_dir; },
      [](train_config& c, std::string_view v) { c.data_dir = trimmed(v); }));
  k.push_back(key(
      "train-samples", "train on the first N training samples (0: all)", true,
      [](const train_config& c) { return std::to_string(c.train_samples); },
      [](train_config& c, std::string_view v) {
        c.train_samples = parse_count("train-samples", v);
      }));
  k.push_back(key(
      "test-samples", "test on the first N test samples (0: all)", false,
      [](const train_config& c) { return std::to_string(c.test_samples); },
      [](train_config& c, std::string_view v) {
        c.test_samples = parse_count("test-samples", v);
      }));
  // The model and the algorithm.
  k.push_back(key(
      "arch", "layer sizes, input-hidden...-output, e.g. 784-800-10", true,
      [](const train_config& c) { return arch_to_string(c.arch); },
      [](train_config& c, std::string_view v) { c.arch = parse_arch(v, "arch"); }));
  k.push_back(key(
      "algo", "microcircuit (spiking), or a rate reference trainer: bp, fa, dfa, scfa", true,
      [](const train_config& c) { return std::string(to_string(c.algo)); },
      [](train_config& c, std::string_view v) { c.algo = parse_train_algo(trimmed(v), "algo"); }));
  k.push_back(key(
      "feedback",
      "sign-concordant, random, symmetric or direct (microcircuit; a rate algo implies its own)",
      true, [](const train_config& c) { return std::string(learning::to_string(c.feedback)); },
      [](train_config& c, std::string_view v) {
        c.feedback = learning::parse_feedback_mode(trimmed(v), "feedback");
      }));
  k.push_back(key(
      "magnitude", "sign-concordant feedback magnitudes: uniform (uSF) or random (frSF)", true,
      [](const train_config& c) { return std::string(learning::to_string(c.magnitude)); },
      [](train_config& c, std::string_view v) {
        c.magnitude = learning::parse_sign_magnitude(trimmed(v), "magnitude");
      }));
  k.push_back(key(
      "epochs", "total epochs (a resumed run continues up to this count)", false,
      [](const train_config& c) { return std::to_string(c.epochs); },
      [](train_config& c, std::string_view v) { c.epochs = parse_count("epochs", v); }));
  k.push_back(real_key(
      "learning-rate", "SGD step (rate) or eta in mV (microcircuit)",
      [](auto& c) -> auto& { return c.learning_rate; }));
  k.push_back(key(
      "batch-size", "samples per weight update", true,
      [](const train_config& c) { return std::to_string(c.batch_size); },
      [](train_config& c, std::string_view v) { c.batch_size = parse_count("batch-size", v); }));
  k.push_back(real_key(
      "lr-decay",
      "learning-rate factor per epoch: epoch e (from 0) steps with learning-rate x lr-decay^e",
      [](auto& c) -> auto& { return c.lr_decay; }));
  k.push_back(real_key(
      "momentum", "momentum in [0, 1) (rate SGD; microcircuit mini-batch steps)",
      [](auto& c) -> auto& { return c.momentum; }));
  k.push_back(real_key(
      "weight-decay", "L2 decay on weights (rate trainers)",
      [](auto& c) -> auto& { return c.weight_decay; }));
  k.push_back(key(
      "input",
      "input scaling: unit (x / 255), centred (minus the training means; rate only) or on-off "
      "(centred, as an ON and an OFF input per pixel: the arch starts with 2 x the pixels)",
      true, [](const train_config& c) { return std::string(to_string(c.input)); },
      [](train_config& c, std::string_view v) { c.input = parse_input("input", v); }));
  k.push_back(key(
      "seed", "master seed: initial weights, feedback, shuffles, spike encoding", true,
      [](const train_config& c) { return std::to_string(c.seed); },
      [](train_config& c, std::string_view v) { c.seed = parse_count("seed", v); }));
  // The run.
  k.push_back(key(
      "threads", "worker threads; results are identical for any number", false,
      [](const train_config& c) { return std::to_string(c.threads); },
      [](train_config& c, std::string_view v) { c.threads = parse_count("threads", v); }));
  k.push_back(key(
      "output", "output folder (metrics, checkpoint, pictures)", false,
      [](const train_config& c) { return c.output; },
      [](train_config& c, std::string_view v) { c.output = trimmed(v); }));
  k.push_back(key(
      "compare",
      "also train these reference trainers on the same data, e.g. bp,fa,dfa,scfa; bp@0.1 gives "
      "one its own learning rate",
      false, [](const train_config& c) { return compare_to_string(c.compare); },
      [](train_config& c, std::string_view v) { c.compare = parse_compare("compare", v); }));
  k.push_back(key(
      "raster-sample", "test sample shown in raster.svg (microcircuit)", false,
      [](const train_config& c) { return std::to_string(c.raster_sample); },
      [](train_config& c, std::string_view v) {
        c.raster_sample = parse_count("raster-sample", v);
      }));
  k.push_back(key(
      "weight-images", "hidden units shown in weights.svg (0: none)", false,
      [](const train_config& c) { return std::to_string(c.weight_images); },
      [](train_config& c, std::string_view v) {
        c.weight_images = parse_count("weight-images", v);
      }));

  // [rate]
  k.push_back(key(
      "rate.hidden_activation", "relu, sigmoid, clipped_relu or identity", true,
      [](const train_config& c) {
        return std::string(learning::to_string(c.rate_net.hidden_activation));
      },
      [](train_config& c, std::string_view v) {
        c.rate_net.hidden_activation =
            learning::parse_activation(trimmed(v), "rate.hidden_activation");
      }));
  k.push_back(key(
      "rate.output_activation", "output f with the mse loss", true,
      [](const train_config& c) {
        return std::string(learning::to_string(c.rate_net.output_activation));
      },
      [](train_config& c, std::string_view v) {
        c.rate_net.output_activation =
            learning::parse_activation(trimmed(v), "rate.output_activation");
      }));
  k.push_back(key(
      "rate.loss", "mse or softmax_cross_entropy", true,
      [](const train_config& c) { return std::string(learning::to_string(c.rate_net.loss)); },
      [](train_config& c, std::string_view v) {
        c.rate_net.loss = learning::parse_loss(trimmed(v), "rate.loss");
      }));
  k.push_back(key(
      "rate.init", "he_uniform or glorot_uniform", true,
      [](const train_config& c) { return std::string(learning::to_string(c.rate_net.init)); },
      [](train_config& c, std::string_view v) {
        c.rate_net.init = learning::parse_weight_init(trimmed(v), "rate.init");
      }));
  k.push_back(real_key(
      "rate.init_gain", "scale of the initial weights",
      [](auto& c) -> auto& { return c.rate_net.init_gain; }));
  k.push_back(bool_key(
      "rate.bias", "whether units have biases", [](auto& c) -> auto& { return c.rate_net.bias; }));
  k.push_back(real_key(
      "rate.feedback_scale", "scale of random feedback (fa, dfa, scfa)",
      [](auto& c) -> auto& { return c.rate.feedback_scale; }));
  k.push_back(real_key(
      "rate.count_noise",
      "train on Poisson spike counts: x becomes Poisson(N x) / N for N > 0 (0: exact inputs)",
      [](auto& c) -> auto& { return c.rate.count_noise; }));
  k.push_back(real_key(
      "rate.hidden_count_noise",
      "train with hidden activity drawn as Poisson spike counts, N per unit on average (0: "
      "exact)",
      [](auto& c) -> auto& { return c.rate.hidden_count_noise; }));

  // [microcircuit]
  const auto mc = [&k](std::string name, std::string help, auto member) {
    k.push_back(real_key(
        "microcircuit." + name,
        std::move(help), [member](auto& c) -> auto& { return c.circuit.*member; }));
  };
  const auto mcb = [&k](std::string name, std::string help, auto member) {
    k.push_back(bool_key(
        "microcircuit." + name,
        std::move(help), [member](auto& c) -> auto& { return c.circuit.*member; }));
  };
  mc("window_ms", "presentation window T of one sample (ms)", &lm::window_ms);
  // Evaluation only: it changes test accuracy, never the trained weights.
  k.push_back(key(
      "microcircuit.test_window_ms",
      "presentation window of a test sample (ms; 0: window_ms); longer averages out input noise",
      false, [](const train_config& c) { return number(c.circuit.test_window_ms); },
      [](train_config& c, std::string_view v) {
        c.circuit.test_window_ms = parse_double("microcircuit.test_window_ms", v);
      }));
  mc("input_rate_hz", "spike rate of an input of value 1 (Hz)", &lm::input_rate_hz);
  k.push_back(key(
      "microcircuit.input_coding",
      "poisson (Poisson trains) or regular (evenly spaced, random phase per input)", true,
      [](const train_config& c) { return std::string(learning::to_string(c.circuit.coding)); },
      [](train_config& c, std::string_view v) {
        c.circuit.coding = learning::parse_input_coding(trimmed(v), "microcircuit.input_coding");
      }));
  mc("teacher_on_hz", "teacher rate of the label's output unit (Hz)", &lm::teacher_on_hz);
  mc("teacher_off_hz", "teacher rate of the other output units (Hz)", &lm::teacher_off_hz);
  mcb("teacher_regular", "teacher spikes evenly spaced (else Poisson)", &lm::teacher_regular);
  mc("init_gain", "initial weights U(-a, a), a = gain 15 mV sqrt(3 / fan_in)", &lm::init_gain);
  mc("feedback_weight_mv", "mean feedback magnitude (mV)", &lm::feedback_weight_mv);
  mc("symmetric_gain", "symmetric feedback B = gain W^T", &lm::symmetric_gain);
  mcb("feedback_inhibition", "feedback also inhibits the partner error cell",
      &lm::feedback_inhibition);
  mcb("pair_coupling", "E+ and E- excite each other", &lm::pair_coupling);
  mcb("gate_error_cells", "hidden error cells gated by their pyramidal cell",
      &lm::gate_error_cells);
  mcb("output_gate", "also gate the output error cells", &lm::output_gate);
  k.push_back(key(
      "microcircuit.output_cells",
      "pyramidal (threshold cells, squared error) or softmax (softmax draws, cross-entropy)", true,
      [](const train_config& c) { return std::string(learning::to_string(c.circuit.output)); },
      [](train_config& c, std::string_view v) {
        c.circuit.output = learning::parse_output_cells(trimmed(v), "microcircuit.output_cells");
      }));
  mc("softmax_beta_per_mv", "softmax output cells: inverse temperature (1/mV)",
     &lm::softmax_beta_per_mv);
  mc("error_theta_mv", "error-cell threshold (mV)", &lm::error_theta_mv);
  mc("error_tau_m_ms", "error-cell leak (ms; inf: a perfect counter)", &lm::error_tau_m_ms);
  mcb("error_dither", "error cells start at a random potential", &lm::error_dither);
  mc("feedforward_delay_ms", "basal delay between layers (ms)", &lm::feedforward_delay_ms);
  mc("error_delay_ms", "feedback, teacher and comparison delay (ms)", &lm::error_delay_ms);
  mc("local_delay_ms", "delay inside a microcircuit (ms)", &lm::local_delay_ms);
  mc("output_error_weight_mv", "teacher and comparison weight (mV)", &lm::output_error_weight_mv);
  k.push_back(key(
      "microcircuit.error_phase", "concurrent or after-settle", true,
      [](const train_config& c) { return std::string(learning::to_string(c.circuit.phase)); },
      [](train_config& c, std::string_view v) {
        c.circuit.phase = learning::parse_error_phase(trimmed(v), "microcircuit.error_phase");
      }));
  mc("settle_ms", "start of the error window with after-settle (ms)", &lm::settle_ms);
  k.push_back(key(
      "microcircuit.between_samples", "reset or decay", true,
      [](const train_config& c) {
        return std::string(learning::to_string(c.circuit.between_samples));
      },
      [](train_config& c, std::string_view v) {
        c.circuit.between_samples =
            learning::parse_sample_transition(trimmed(v), "microcircuit.between_samples");
      }));
  mc("gap_ms", "time between samples with decay (ms)", &lm::gap_ms);
  k.push_back(key(
      "microcircuit.layer_rate_scale", "per-layer multipliers of the learning rate, e.g. 1,0.5",
      true, [](const train_config& c) { return joined(c.circuit.layer_rate_scale); },
      [](train_config& c, std::string_view v) {
        c.circuit.layer_rate_scale = parse_doubles("microcircuit.layer_rate_scale", v);
      }));
  mc("tau_x_ms", "presynaptic basal trace decay (ms)", &lm::tau_x_ms);
  k.push_back(key(
      "microcircuit.gate", "somatic gate: window or trace", true,
      [](const train_config& c) { return std::string(learning::to_string(c.circuit.gate)); },
      [](train_config& c, std::string_view v) {
        c.circuit.gate = learning::parse_somatic_gate(trimmed(v), "microcircuit.gate");
      }));
  mc("tau_g_ms", "somatic gate time (ms)", &lm::tau_g_ms);
  k.push_back(key(
      "microcircuit.schedule", "online, per-sample or mini-batch", true,
      [](const train_config& c) { return std::string(learning::to_string(c.circuit.schedule)); },
      [](train_config& c, std::string_view v) {
        c.circuit.schedule = learning::parse_update_schedule(trimmed(v), "microcircuit.schedule");
      }));
  mcb("manhattan", "sign steps instead of mean steps", &lm::manhattan);
  mc("w_min_mv", "lower weight bound (mV)", &lm::w_min_mv);
  mc("w_max_mv", "upper weight bound (mV)", &lm::w_max_mv);
  mcb("normalise", "keep each layer's weight norm at its initial value", &lm::normalise);
  k.push_back(key(
      "microcircuit.chunks", "fixed accumulation pieces per batch (determinism)", true,
      [](const train_config& c) { return std::to_string(c.circuit.chunks); },
      [](train_config& c, std::string_view v) {
        c.circuit.chunks = parse_count("microcircuit.chunks", v);
      }));
  k.push_back(key(
      "microcircuit.v_init_min_mv", "lower bound of the pyramidal cells' initial potential (mV)",
      true, [](const train_config& c) { return number(c.circuit.pyramidal.v_init_min_mv); },
      [](train_config& c, std::string_view v) {
        c.circuit.pyramidal.v_init_min_mv = parse_double("microcircuit.v_init_min_mv", v);
      }));
  k.push_back(key(
      "microcircuit.v_init_max_mv", "upper bound of the pyramidal cells' initial potential (mV)",
      true, [](const train_config& c) { return number(c.circuit.pyramidal.v_init_max_mv); },
      [](train_config& c, std::string_view v) {
        c.circuit.pyramidal.v_init_max_mv = parse_double("microcircuit.v_init_max_mv", v);
      }));
  k.push_back(key(
      "microcircuit.alignment", "measure the angle to BP's update on every batch", false,
      [](const train_config& c) { return boolean(c.alignment); },
      [](train_config& c, std::string_view v) {
        c.alignment = parse_bool("microcircuit.alignment", v);
      }));
  return k;
}

std::size_t input_size_of(std::string_view dataset) {
  return dataset == "cifar10" ? 3072 : 784;
}

}  // namespace

std::string_view to_string(train_algo a) {
  for (const auto& [n, v] : algo_names)
    if (v == a) return n;
  return "?";
}

std::string comparison_spec::label() const {
  if (learning_rate == 0.0) return std::string(to_string(algo));
  return fmt::format("{}@{}", to_string(algo), learning_rate);
}

train_algo parse_train_algo(std::string_view name, std::string_view field) {
  for (const auto& [n, v] : algo_names)
    if (n == name) return v;
  throw parameter_error(fmt::format(
      "{}: unknown algorithm '{}'; expected microcircuit, bp, fa, dfa or scfa", field, name));
}

bool is_rate(train_algo a) {
  return a != train_algo::microcircuit;
}

learning::algorithm rate_algorithm(train_algo a) {
  switch (a) {
    case train_algo::fa:
      return learning::algorithm::fa;
    case train_algo::dfa:
      return learning::algorithm::dfa;
    case train_algo::scfa:
      return learning::algorithm::scfa;
    default:
      return learning::algorithm::bp;
  }
}

learning::feedback_mode implied_feedback(train_algo a) {
  switch (a) {
    case train_algo::fa:
      return learning::feedback_mode::random;
    case train_algo::dfa:
      return learning::feedback_mode::direct;
    case train_algo::scfa:
      return learning::feedback_mode::sign_concordant;
    case train_algo::bp:
      return learning::feedback_mode::symmetric;
    default:
      return learning::feedback_mode::sign_concordant;
  }
}

std::string_view to_string(input_scaling s) {
  switch (s) {
    case input_scaling::unit:
      return "unit";
    case input_scaling::centred:
      return "centred";
    case input_scaling::on_off:
      return "on-off";
  }
  return "?";
}

std::size_t inputs_per_value(input_scaling s) {
  return s == input_scaling::on_off ? 2 : 1;
}

std::string arch_to_string(const std::vector<std::size_t>& sizes) {
  std::string s;
  for (const auto n : sizes) s += (s.empty() ? "" : "-") + std::to_string(n);
  return s;
}

std::vector<std::size_t> parse_arch(std::string_view text, std::string_view field) {
  const std::string t = trimmed(text);
  std::vector<std::size_t> sizes;
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = t.find_first_of("-x,", start);
    const std::string part = trimmed(std::string_view(t).substr(
        start, dash == std::string::npos ? std::string::npos : dash - start));
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || n == 0)
      throw parameter_error(fmt::format(
          "{}: '{}' is not a list of layer sizes; expected positive integers joined by '-', "
          "e.g. 784-800-10",
          field, text));
    sizes.push_back(n);
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  if (sizes.size() < 2)
    throw parameter_error(fmt::format(
        "{}: '{}' has {} layer; expected at least an input and an output size, e.g. 784-800-10",
        field, text, sizes.size()));
  return sizes;
}

// Defaults, measured (docs/training.md, "How the defaults were chosen"). Rate
// trainers on MNIST: plain SGD, 32-sample batches, softmax output; lr 0.1 is
// the best common step of the grid 0.02..0.2 (BP would take 0.2, where SC-FA
// with unit-magnitude feedback starts to overshoot). CIFAR-10 needs centred
// inputs and a smaller step (0.03 of 0.005..0.1). The microcircuit: 784-100-10 (a full MNIST
// epoch in well under a minute on two cores), a 200 Hz teacher, and the step
// eta 0.05 mV (the best tried on 10,000 samples) given as momentum 0.9 with
// eta 0.005, the same long-run step (93.32 % against 92.44 % after 3
// epochs). On CIFAR-10: on-off inputs (unit inputs hardly learn: 13.8 %
// against 21.8 % after 2,000 samples), 1000 hidden units, init gain 3 and
// eta 0.01 without momentum (39.55 % with it against 39.82 % after an epoch).
train_config default_config(std::string_view dataset, train_algo algo) {
  train_config c;
  c.dataset = std::string(datasets::to_string(datasets::parse_dataset_id(dataset)));
  c.algo = algo;
  const std::size_t n_in = input_size_of(c.dataset);
  c.feedback = implied_feedback(algo);
  c.magnitude = algo == train_algo::microcircuit ? learning::sign_magnitude::random
                                                 : learning::sign_magnitude::uniform;
  c.rate_net.hidden_activation = learning::activation::relu;
  c.rate_net.loss = learning::loss_kind::softmax_cross_entropy;
  if (is_rate(algo)) {
    c.arch = {n_in, 800, 10};
    c.epochs = 5;
    c.batch_size = 32;
    c.momentum = 0.0;
    if (c.dataset == "cifar10") {
      c.learning_rate = 0.03;
      c.input = input_scaling::centred;
    } else {
      c.learning_rate = 0.1;
      c.input = input_scaling::unit;
    }
  } else {
    c.arch = {n_in, 100, 10};
    c.epochs = 1;
    c.batch_size = 16;
    c.learning_rate = 0.005;
    c.momentum = 0.9;
    c.input = input_scaling::unit;
    c.circuit.window_ms = 50.0;
    c.circuit.input_rate_hz = 200.0;
    c.circuit.teacher_on_hz = 200.0;
    c.circuit.init_gain = 1.5;
    c.circuit.feedback_weight_mv = 0.5;
    c.circuit.pyramidal.v_init_min_mv = -70.0;
    c.circuit.pyramidal.v_init_max_mv = -60.0;
    if (c.dataset == "cifar10") {
      // Centred contrast as ON/OFF rates, more drive per input, a smaller step.
      c.input = input_scaling::on_off;
      c.arch = {2 * n_in, 1000, 10};
      c.learning_rate = 0.01;
      c.momentum = 0.0;
      c.circuit.init_gain = 3.0;
    }
  }
  return c;
}

learning::rate_network_params train_config::rate_network_settings() const {
  auto p = rate_net;
  p.layer_sizes = arch;
  p.seed = seed;
  return p;
}

learning::trainer_params train_config::rate_trainer_settings() const {
  auto p = rate;
  p.algo = rate_algorithm(algo);
  p.magnitude = magnitude;
  p.learning_rate = learning_rate;
  p.momentum = momentum;
  p.weight_decay = weight_decay;
  p.batch_size = batch_size;
  p.threads = threads;
  p.seed = seed;
  return p;
}

learning::microcircuit_params train_config::microcircuit_settings() const {
  auto p = circuit;
  p.layer_sizes = arch;
  p.feedback = feedback;
  p.magnitude = magnitude;
  p.learning_rate = learning_rate;
  p.batch_size = batch_size;
  p.momentum = momentum;
  p.threads = threads;
  p.seed = seed;
  return p;
}

const std::vector<config_key>& config_keys() {
  static const std::vector<config_key> keys = make_keys();
  return keys;
}

void validate(const train_config& c) {
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
  if (is_rate(c.algo)) {
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
  } else {
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

std::string to_ini(const train_config& c) {
  std::string top, rate, circuit;
  const auto width = [](const std::string& s) { return s.size() < 22 ? 22 - s.size() : 1; };
  for (const auto& k : config_keys()) {
    const auto dot = k.name.find('.');
    const std::string name = dot == std::string::npos ? k.name : k.name.substr(dot + 1);
    const std::string line =
        fmt::format("{}{}= {}\n", name, std::string(width(name), ' '), k.get(c));
    if (dot == std::string::npos)
      top += line;
    else if (k.name.rfind("rate.", 0) == 0)
      rate += line;
    else
      circuit += line;
  }
  return "# apical train: the resolved configuration (apical train --config FILE reads it)\n" +
         top + "\n[rate]\n" + rate + "\n[microcircuit]\n" + circuit;
}

std::vector<std::pair<std::string, std::string>> identity_entries(const train_config& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : config_keys())
    if (k.identity) out.emplace_back(k.name, k.get(c));
  return out;
}

key_values read_ini_values(std::istream& in, const std::string& source) {
  namespace po = boost::program_options;
  po::options_description keys;
  for (const auto& k : config_keys()) keys.add_options()(k.name.c_str(), po::value<std::string>());
  po::variables_map vm;
  try {
    po::store(po::parse_config_file(in, keys, false), vm);
  } catch (const po::unknown_option& e) {
    throw parameter_error(fmt::format("{}: unknown key '{}' (apical train --help lists the keys)",
                                      source, e.get_option_name()));
  } catch (const po::error& e) {
    throw parameter_error(fmt::format("{}: {}", source, e.what()));
  }
  key_values out;
  for (const auto& k : config_keys())
    if (vm.count(k.name)) out.emplace(k.name, vm[k.name].as<std::string>());
  return out;
}

train_config resolve_config(const key_values& given) {
  const auto dataset = given.find("dataset");
  const auto algo = given.find("algo");
  train_config c = default_config(
      dataset == given.end() ? "mnist" : trimmed(dataset->second),
      algo == given.end() ? default_algo : parse_train_algo(trimmed(algo->second), "algo"));
  for (const auto& k : config_keys()) {
    const auto v = given.find(k.name);
    if (v != given.end()) k.set(c, v->second);
  }
  return c;
}

std::uint64_t identity_hash(const train_config& c) {
  // Entries at the value a default-constructed train_config holds are left
  // out, so a key added later (at that value) leaves the hashes of existing
  // configurations, and so their checkpoints, valid.
  static const auto neutral = identity_entries(train_config{});
  const auto entries = identity_entries(c);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& [k, v] = entries[i];
    if (v == neutral[i].second) continue;
    for (const char ch : k + "=" + v + "\n") {
      h ^= static_cast<unsigned char>(ch);
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

}  // namespace apical::app
