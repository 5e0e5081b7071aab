// The settings of `apical train`: algorithm names, architectures, and the
// library parameter structs a train_config fills in. The keys are in
// train_keys.cpp, the defaults in train_defaults.cpp, the checks in
// train_validate.cpp, INI text and hashing in train_config_io.cpp.
#include "train_config.hpp"

#include <array>
#include <charconv>

#include <fmt/format.h>

#include "apical/config/values.hpp"
#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"

namespace apical::app {
namespace {

// Each algorithm: its name, the reference trainer's algorithm (rate algos)
// and the feedback pathway it implies.
struct algo_row {
  std::string_view name;
  train_algo algo;
  learning::algorithm rate;
  learning::feedback_mode feedback;
};

constexpr std::array<algo_row, 5> algos{{
    {"microcircuit", train_algo::microcircuit, learning::algorithm::bp,
     learning::feedback_mode::sign_concordant},
    {"bp", train_algo::bp, learning::algorithm::bp, learning::feedback_mode::symmetric},
    {"fa", train_algo::fa, learning::algorithm::fa, learning::feedback_mode::random},
    {"dfa", train_algo::dfa, learning::algorithm::dfa, learning::feedback_mode::direct},
    {"scfa", train_algo::scfa, learning::algorithm::scfa, learning::feedback_mode::sign_concordant},
}};

const algo_row& row_of(train_algo a) {
  for (const auto& r : algos)
    if (r.algo == a) return r;
  return algos.front();
}

}  // namespace

std::string_view to_string(train_algo a) {
  return row_of(a).name;
}

std::string comparison_spec::label() const {
  if (learning_rate == 0.0) return std::string(to_string(algo));
  return fmt::format("{}@{}", to_string(algo), learning_rate);
}

train_algo parse_train_algo(std::string_view name, std::string_view field) {
  for (const auto& r : algos)
    if (r.name == name) return r.algo;
  throw parameter_error(fmt::format(
      "{}: unknown algorithm '{}'; expected microcircuit, bp, fa, dfa or scfa", field, name));
}

bool is_rate(train_algo a) {
  return a != train_algo::microcircuit;
}

learning::algorithm rate_algorithm(train_algo a) {
  return row_of(a).rate;
}

learning::feedback_mode implied_feedback(train_algo a) {
  return row_of(a).feedback;
}

std::string arch_to_string(const std::vector<std::size_t>& sizes) {
  std::string s;
  for (const auto n : sizes) s += (s.empty() ? "" : "-") + std::to_string(n);
  return s;
}

std::vector<std::size_t> parse_arch(std::string_view text, std::string_view field) {
  const std::string t = config::trim(text);
  std::vector<std::size_t> sizes;
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = t.find_first_of("-x,", start);
    const std::string part = config::trim(std::string_view(t).substr(
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

learning::local_fields train_config::first_layer_fields() const {
  learning::local_fields f;
  if (local_field == 0) return f;
  const auto shape = datasets::standard_shape(datasets::parse_dataset_id(dataset));
  f.size = local_field;
  f.stride = local_stride;
  f.channels = shape.channels;
  f.height = shape.height;
  f.width = shape.width;
  f.planes = inputs_per_value(input);
  return f;
}

learning::rate_network_params train_config::rate_network_settings() const {
  auto p = rate_net;
  p.layer_sizes = arch;
  p.seed = seed;
  p.first_layer = first_layer_fields();
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
  p.first_layer = first_layer_fields();
  return p;
}

}  // namespace apical::app
