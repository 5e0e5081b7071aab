#pragma once
// Network files of a rate_network: its architecture, settings and weights
// (no optimizer state or history: training runs save the training room's
// checkpoint, apical/learning/training/checkpoint.hpp).
//
// Layout, all integers and floats little-endian:
//   magic       8 bytes  "APRATENW"
//   version     u32      1
//   num_sizes   u32      L + 1
//   sizes       u64 x (L + 1)
//   hidden_activation, output_activation, loss, bias, init   u8 x 5
//   init_gain, target_on, target_off                         f64 x 3
//   seed        u64
//   for each layer: W (row-major f32), then b (f32, when bias)
//   checksum    u64      FNV-1a over every byte after the magic
// Readers check the magic, the version, the sizes (against the network when
// loading into one) and the checksum, and throw apical::file_error naming the
// field and the expected value.
#include <iosfwd>

#include "apical/learning/reference/rate_network.hpp"

namespace apical::learning {

void save_network(const rate_network& net, std::ostream& out);

// Reads a whole network (architecture, settings and weights).
rate_network load_network(std::istream& in);

// Reads weights into an existing network whose layer sizes and bias setting
// must match the stream's; the network is unchanged when this throws.
void load_weights(rate_network& net, std::istream& in);

}  // namespace apical::learning
