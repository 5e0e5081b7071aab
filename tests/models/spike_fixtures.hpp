#pragma once
// Inputs and spike lists shared by the tests of the microcircuit's cells.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "apical/engine/random.hpp"
#include "apical/engine/spike_raster.hpp"

namespace apical::test {

// Poisson spike trains on `channels` channels over [0, duration_ms).
inline std::shared_ptr<spike_raster> poisson_raster(std::size_t channels, double rate_hz,
                                                    double duration_ms, std::uint64_t seed) {
  auto r = std::make_shared<spike_raster>();
  rng gen(seed);
  for (std::size_t c = 0; c < channels; ++c) {
    std::vector<double> times;
    for (double t = gen.exponential(1000.0 / rate_hz); t < duration_ms;
         t += gen.exponential(1000.0 / rate_hz))
      times.push_back(t);
    r->add_channel(times);
  }
  return r;
}

// One spike of neuron i at time t (ms).
struct spike {
  double t;
  std::uint32_t i;
  friend bool operator==(const spike&, const spike&) = default;
};

}  // namespace apical::test
