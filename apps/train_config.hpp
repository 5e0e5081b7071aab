#pragma once
// The settings of `apical train`: one typed struct, the table of keys that
// sets it from the command line, an INI file (--config) or a checkpoint's
// stored copy, and the per-dataset defaults.
//
// Every key has one name, used both as `--name VALUE` and as `name = VALUE`
// in an INI file. Keys of the [rate] and [microcircuit] sections are written
// `--rate.KEY` / `--microcircuit.KEY` on the command line; their names are
// the fields of learning::rate_network_params / trainer_params and of
// learning::microcircuit_params (see those headers for units and meaning).
//
// Precedence, highest first: the command line, the --config file, the
// checkpoint's stored configuration (with --resume), the defaults of the
// dataset and algorithm (docs/training.md). The resolved configuration,
// every key with its value, is written to DIR/config.ini and stored in the
// checkpoint.
//
// Keys are either "identity" keys, which decide the trained weights and
// must match a checkpoint being resumed (dataset, arch, algo, rates, seed,
// ...), or "run" keys, which may change between an interrupted run and its
// continuation (epochs, threads, output, data-dir, test-samples, compare,
// pictures).
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apical/config/key_table.hpp"
#include "apical/datasets/preprocess.hpp"
#include "apical/learning/microcircuit/params.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/reference/reference_trainer.hpp"

namespace apical::app {

// The training algorithms: the spiking microcircuit, or a rate network
// trained by a reference trainer.
enum class train_algo : std::uint8_t { microcircuit, bp, fa, dfa, scfa };

std::string_view to_string(train_algo a);
// Throws parameter_error naming `field` and the accepted names.
train_algo parse_train_algo(std::string_view name, std::string_view field = "algo");
bool is_rate(train_algo a);
// The reference trainer's algorithm for a rate algo (bp, fa, dfa, scfa).
learning::algorithm rate_algorithm(train_algo a);
// The feedback pathway a rate algo implies (bp: symmetric, fa: random,
// dfa: direct, scfa: sign-concordant).
learning::feedback_mode implied_feedback(train_algo a);

// How image bytes become network inputs (datasets/preprocess.hpp):
//   unit:    x / 255, in [0, 1]
//   centred: x / 255 minus the training set's mean of each input (rate
//            trainers only: the microcircuit's Poisson inputs fire at
//            clamp(value, 0, 1) * input_rate_hz, so they need values >= 0)
//   on-off:  centred contrast as an ON and an OFF input per pixel (2 x the
//            pixels), as retinal ON and OFF cells carry it.
using datasets::input_scaling;
using datasets::inputs_per_value;

// One reference trainer of `compare`: its algorithm and its own step
// (learning_rate 0: the step the main run gives it, see compare_run in
// train_command.cpp). Written "bp" or "bp@0.1".
struct comparison_spec {
  train_algo algo = train_algo::bp;
  double learning_rate = 0.0;
  // "bp", or "bp@0.1" with its own step.
  std::string label() const;
  bool operator==(const comparison_spec&) const = default;
};

struct train_config {
  // Run keys.
  std::string data_dir;  // empty: the usual search (docs/datasets.md)
  std::size_t epochs = 1;
  std::size_t threads = 1;
  std::string output = "out/train";
  std::size_t test_samples = 0;  // 0: all
  std::vector<comparison_spec> compare;
  std::size_t raster_sample = 0;   // test sample shown in raster.svg
  std::size_t weight_images = 64;  // hidden units shown in weights.svg

  // Identity keys.
  std::string dataset = "mnist";
  std::vector<std::size_t> arch;
  train_algo algo = train_algo::bp;
  learning::feedback_mode feedback = learning::feedback_mode::symmetric;
  learning::sign_magnitude magnitude = learning::sign_magnitude::uniform;
  std::uint64_t seed = 1;
  std::size_t train_samples = 0;  // 0: all
  double learning_rate = 0.01;
  double lr_decay = 1.0;  // epoch e steps with learning_rate * lr_decay^e
  std::size_t batch_size = 32;
  double momentum = 0.0;
  double weight_decay = 0.0;
  input_scaling input = input_scaling::unit;
  // Local receptive fields of the first hidden layer: patch side and stride
  // in pixels (0: fully connected; stride 0: the patch side).
  std::size_t local_field = 0;
  std::size_t local_stride = 0;
  // The rate network and trainer (their layer_sizes, algo, learning rate,
  // batch size, momentum, decay, threads and seed come from the keys above).
  learning::rate_network_params rate_net;
  learning::trainer_params rate;
  // The microcircuit (layer_sizes, feedback, magnitude, learning rate,
  // batch size, threads and seed come from the keys above).
  learning::microcircuit_params circuit;
  bool alignment = true;  // measure the angle to BP on every batch (microcircuit)

  // The library parameter structs with the shared keys filled in.
  learning::rate_network_params rate_network_settings() const;
  learning::trainer_params rate_trainer_settings() const;
  learning::microcircuit_params microcircuit_settings() const;
  // The first layer's local fields on the dataset's standard image shape
  // (disabled when local_field is 0).
  learning::local_fields first_layer_fields() const;
};

// The algorithm when none is given.
inline constexpr train_algo default_algo = train_algo::bp;

// "784-800-10" <-> {784, 800, 10}; parse throws parameter_error naming `field`.
std::string arch_to_string(const std::vector<std::size_t>& sizes);
std::vector<std::size_t> parse_arch(std::string_view text, std::string_view field = "arch");

// The defaults for a dataset and algorithm (before any key is applied):
// arch, epochs, learning rate, batch size, momentum, activation, loss, input
// scaling and the microcircuit's presentation settings. Unknown dataset
// names throw parameter_error.
train_config default_config(std::string_view dataset, train_algo algo);

// One configuration key: its name ("learning-rate", "rate.loss",
// "microcircuit.window_ms"), help text, whether it must match on --resume
// (identity), and how it reads and writes a train_config. set() throws
// parameter_error naming the key and what was expected.
using config_key = config::key<train_config>;

// Every key, in the order config.ini lists them.
const std::vector<config_key>& config_keys();

// Checks the values together (arch against the dataset's input size and
// classes is checked once the data is loaded: check_against_data). Throws
// parameter_error naming the key at fault.
void validate(const train_config& c);
void check_against_data(const train_config& c, std::size_t input_size, std::size_t classes);

// The resolved configuration as INI text: top-level keys, then [rate] and
// [microcircuit]. Keys of the algorithm family not in use are still
// written, so the file can be edited to switch.
std::string to_ini(const train_config& c);

// (key, value) of every identity key, in config_keys() order.
std::vector<std::pair<std::string, std::string>> identity_entries(const train_config& c);
// Values given for keys, by key name ("rate.loss" for `loss` in [rate]).
using key_values = std::map<std::string, std::string>;

// Reads INI text; throws parameter_error naming `source` and the key on an
// unknown key or a malformed line.
key_values read_ini_values(std::istream& in, const std::string& source);

// The configuration these values give: the defaults of their dataset and
// algo (default_config), then every given key. Throws parameter_error
// naming the key.
train_config resolve_config(const key_values& given);

// FNV-1a 64 of the identity entries whose value differs from a
// default-constructed train_config's: equal configurations give equal
// hashes, and a new identity key whose neutral value (the one in
// train_config{}) is the old behaviour keeps older checkpoints loadable.
// Neutral values must therefore never change.
std::uint64_t identity_hash(const train_config& c);

}  // namespace apical::app
