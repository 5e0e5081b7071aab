#pragma once
// Recorders: spike listeners that keep what they observe, and CSV writers.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apical/engine/simulator.hpp"

namespace apical {

struct recorded_spike {
  double time_ms;
  std::uint16_t population;
  std::uint32_t neuron;
  friend bool operator==(const recorded_spike&, const recorded_spike&) = default;
};

// Records the spikes of chosen populations (all by default). spikes() lists
// them by time, then population, then neuron, which does not depend on the
// number of threads (one buffer per partition, merged and sorted on
// reading; the result is cached until the next call).
class spike_recorder {
 public:
  // Connects to every population of the simulator's network.
  explicit spike_recorder(simulator& sim);
  spike_recorder(simulator& sim, std::vector<std::size_t> population_ids);
  ~spike_recorder();
  spike_recorder(const spike_recorder&) = delete;
  spike_recorder& operator=(const spike_recorder&) = delete;

  const std::vector<recorded_spike>& spikes() const;
  void clear();
  // Adds spikes recorded before (a run continued from a checkpoint).
  void add(std::span<const recorded_spike> earlier);
  // Spike counts per neuron of one population.
  std::vector<std::uint32_t> counts(std::size_t population_id) const;
  // An order-sensitive 64-bit checksum of the spike train (times bit-exact).
  std::uint64_t checksum() const;

 private:
  struct population_hook {
    spike_recorder* owner;
    std::uint16_t population;
    void on_spike(time_ms t, std::uint32_t neuron) {
      owner->buffers_[simulator::current_partition()].push_back({t.count(), population, neuron});
    }
  };
  simulator* sim_;
  std::vector<std::unique_ptr<population_hook>> hooks_;
  std::vector<std::vector<recorded_spike>> buffers_;  // per partition
  mutable std::vector<recorded_spike> merged_;
};

// time_ms,population,neuron (population by name). Times with 17 significant
// digits, so the file round-trips the exact doubles.
void write_spikes_csv(const std::filesystem::path& file, const network& net,
                      const std::vector<recorded_spike>& spikes);
// The header line of write_spikes_csv, and its rows for `spikes` appended
// to `out` (for a file written as the run goes).
inline constexpr std::string_view spikes_csv_header = "time_ms,population,neuron\n";
void append_spikes_csv_rows(std::string& out, const network& net,
                            std::span<const recorded_spike> spikes);
// time_ms,population,neuron,variable,value
void write_state_csv(const std::filesystem::path& file, const network& net,
                     const simulator::state_samples& samples);

}  // namespace apical
