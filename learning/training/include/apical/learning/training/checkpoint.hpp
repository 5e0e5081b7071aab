#pragma once
// The checkpoint of a training run: everything needed to continue it to
// exactly the result of an uninterrupted run. One format for every
// trainer (trainer.hpp's save / restore fill it).
//
// Layout (integers and floats little-endian; a string or array is a u64
// count followed by its items; a matrix is u64 rows, u64 cols, then
// rows x cols f32 row by row):
//   magic            8 bytes "APTRAIN\0"
//   version          u32     2 (1: without thresholds and dead_fraction,
//                            still read)
//   payload_bytes    u64     bytes from here up to the checksum
//   kind             string  "rate" or "microcircuit"
//   dataset, algo, arch      strings (also in the config; kept apart for messages)
//   config_hash      u64     the identity hash of the configuration
//   config           string  the resolved configuration (INI)
//   seed             u64
//   epochs_done      u64     the next epoch's shuffle and encoding seeds are
//                            derive_seed(seed, stream, epochs_done): the
//                            whole random state
//   input_means      f32 array (empty unless input = centred)
//   weights          u64 count, matrices W^(w+1)
//   biases           u64 count, f32 arrays (rate; empty without bias)
//   velocity         u64 count, matrices (momentum velocities, rate or
//                            microcircuit; empty when stateless)
//   bias_velocity    u64 count, f32 arrays
//   feedback         u64 count, matrices: the fixed feedback parts
//   thresholds       u64 count, f64 arrays: the microcircuit's homeostatic
//                            threshold offsets per hidden layer (version 2)
//   history          initial_test_accuracy f64, epoch records (version 2:
//                    each with its dead_fraction, quiet_fraction and
//                    hidden_rate_hz f64 arrays), alignment
//                    points, train-curve points
//   checksum         u64     FNV-1a (checksum.hpp) over every byte after the magic
// A reader checks the magic, the version, the length (truncation), the
// checksum (corruption), then every field, and throws apical::file_error
// naming the file and the field. A later version that changes the layout
// keeps reading the earlier ones or refuses them naming both versions.
#include <cstdint>
#include <string>
#include <vector>

#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/training/metrics.hpp"

namespace apical::learning {

struct checkpoint {
  std::string kind;  // "rate" or "microcircuit"
  std::string dataset;
  std::string algo;
  std::string arch;
  std::uint64_t config_hash = 0;
  std::string config_ini;
  std::uint64_t seed = 0;
  std::uint64_t epochs_done = 0;
  std::vector<float> input_means;
  std::vector<matrix> weights;
  std::vector<std::vector<float>> biases;
  std::vector<matrix> velocity;
  std::vector<std::vector<float>> bias_velocity;
  std::vector<matrix> feedback;
  std::vector<std::vector<double>> thresholds;
  training_history history;
};

inline constexpr std::uint32_t checkpoint_version = 2;

std::string encode_checkpoint(const checkpoint& c);
// `file` names the source in error messages.
checkpoint decode_checkpoint(const std::string& bytes, const std::string& file);

}  // namespace apical::learning
