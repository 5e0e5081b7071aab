#pragma once
// Spike-train statistics used by the reports: rates and irregularity.
#include <cstdint>
#include <vector>

#include "apical/engine/recorders.hpp"

namespace apical {

struct population_activity {
  std::uint64_t spikes = 0;
  double rate_hz = 0.0;  // spikes / (neurons * duration)
  // Mean over neurons with at least 3 spikes of std(ISI)/mean(ISI); NaN if
  // no neuron has 3 spikes.
  double cv_isi = 0.0;
  std::size_t neurons_with_cv = 0;
};

// Activity of population `population_id` (of `size` neurons) in
// [t_start_ms, t_end_ms).
population_activity activity(const std::vector<recorded_spike>& spikes, std::size_t population_id,
                             std::size_t size, double t_start_ms, double t_end_ms);

// Peak resident set size of this process in bytes (0 if unknown).
std::uint64_t peak_rss_bytes();

}  // namespace apical
