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

// The figures of activity() for one population, gathered spike by spike
// (each neuron's spikes in time order), without keeping the spikes: a
// count, the last spike and the sums of the intervals and of their squares
// per neuron. Fed the same spikes, result() equals activity() bit for bit.
class activity_accumulator {
 public:
  struct neuron_sums {
    std::uint64_t spikes = 0;
    double last_ms = 0.0, sum = 0.0, sum2 = 0.0;
  };
  explicit activity_accumulator(std::size_t size) : neurons_(size) {}
  void add(std::uint32_t neuron, double t_ms) {
    neuron_sums& n = neurons_[neuron];
    if (n.spikes > 0) {
      const double isi = t_ms - n.last_ms;
      n.sum += isi;
      n.sum2 += isi * isi;
    }
    n.last_ms = t_ms;
    ++n.spikes;
  }
  // The activity over [t_start_ms, t_end_ms) (which is to hold every spike added).
  population_activity result(double t_start_ms, double t_end_ms) const;
  // The sums themselves (checkpoints).
  std::vector<neuron_sums>& neurons() { return neurons_; }
  const std::vector<neuron_sums>& neurons() const { return neurons_; }

 private:
  std::vector<neuron_sums> neurons_;
};

// Peak resident set size of this process in bytes (0 if unknown).
std::uint64_t peak_rss_bytes();

}  // namespace apical
