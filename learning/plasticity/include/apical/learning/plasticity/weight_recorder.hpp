#pragma once
// Records the weights of a plastic projection, at regular times or at every
// change, and writes them as CSV.
//
// Sampling needs no events of its own: weights change only inside the
// plastic projection's hooks, so a synapse's sample due at time s is taken
// at its first change at or after s (before that change is written), or by
// flush(t) once the simulation has reached t. A sample at time s holds the
// weight after every event before s, exactly as if the simulation had
// stopped at s. (With dendritic delays a postsynaptic spike changes a
// synapse when it reaches it, which the projection may apply later: each
// synapse's changes come in time order, the synapses' among each other
// need not, so samples are taken synapse by synapse.)
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "apical/engine/time.hpp"
#include "apical/learning/plasticity/plasticity.hpp"

namespace apical::learning {

struct weight_sample {
  double time_ms;
  std::uint64_t synapse;
  double weight;  // as the rule holds it (double)
  friend bool operator==(const weight_sample&, const weight_sample&) = default;
};

class weight_recorder {
 public:
  // interval > 0: samples at now, now + interval, now + 2 interval, ...
  // interval == 0: every change, after one sample of every weight at now.
  // `synapses` selects synapse indices of the projection (all when empty).
  // Throws parameter_error for a negative or non-finite interval, or a
  // synapse out of range or selected twice. Must not outlive `plastic`.
  weight_recorder(plastic_projection_base& plastic, time_ms interval,
                  std::vector<std::uint64_t> synapses = {});
  ~weight_recorder();
  weight_recorder(const weight_recorder&) = delete;
  weight_recorder& operator=(const weight_recorder&) = delete;

  // Takes the samples due at times <= t; call after simulator::run_until(t)
  // (or run()) and before reading samples() in interval mode.
  void flush(time_ms t);

  // Ordered by time, then by position in synapses(); changes of one synapse
  // at one time in the order they happened. The same for any number of
  // threads. Between runs: it first brings the projection's weights up to
  // date (plastic_projection_base::sync()).
  const std::vector<weight_sample>& samples() const;
  std::span<const std::uint64_t> synapses() const { return synapses_; }
  const plastic_projection_base& plastic() const { return *plastic_; }

 private:
  // Each partition records the synapses it owns (their changes happen on
  // its thread), so recording needs no lock; samples() merges.
  struct alignas(64) partition_buffer {
    std::vector<weight_sample> samples;
    std::vector<std::uint64_t> mine;  // selected synapses owned
  };
  void on_change(const weight_change& c);
  // Synapse k's samples due at times <= t_ms, holding `weight`.
  void take_due(partition_buffer& b, std::uint64_t k, double weight, double t_ms);

  plastic_projection_base* plastic_;
  double interval_ms_;
  double start_ms_;
  std::vector<std::uint64_t> synapses_;
  std::vector<std::uint32_t> position_;  // per synapse: 1 + position in synapses_, 0 if not
  // Per selected synapse (by position): index n of its next sample, at
  // start + n interval (written by the synapse's owner only).
  std::vector<std::uint64_t> next_sample_;
  std::vector<partition_buffer> parts_;
  mutable std::vector<weight_sample> merged_;
};

// time_ms,projection,synapse,pre,post,weight (projection by name; times and
// weights with 17 significant digits, so they round-trip).
void write_weights_csv(const std::filesystem::path& file, const weight_recorder& recorder);

}  // namespace apical::learning
