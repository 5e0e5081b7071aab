#pragma once
// What a run of `apical simulate` asks of the machine, settled before the
// network is built: the memory it will need (estimated from the
// configuration, so that a network too large is refused instead of dying in
// an allocation), and the number of threads (at most one per neuron of the
// largest population).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "apical/engine/model_registry.hpp"
#include "apical/engine/network.hpp"
#include "network_config.hpp"

namespace apical::app {

// What the run adds to the network, as the command line asks for it.
struct run_extras {
  bool plasticity = true;  // attach the [plasticity.NAME] sections
  unsigned threads = 1;
  std::vector<std::string> record_state;  // POPULATION.VARIABLE, as --record-state
  std::size_t record_neurons = 10;
  double record_interval_ms = 0.1;
  std::optional<double> record_weights_ms;  // --record-weights INTERVAL
  std::uint64_t weight_synapses = 1000;     // 0: all
};

struct memory_item {
  std::string what;    // "projection EE", "population E", "plasticity EE", ...
  std::string detail;  // "6.25e9 synapses", "400000 neurons", ...
  std::uint64_t bytes = 0;
};

struct memory_estimate {
  std::vector<memory_item> network;  // populations and projections, as built
  std::vector<memory_item> run;      // added for the run: queues, plasticity, recordings
  // Held only while one projection is frozen (the largest such need).
  std::uint64_t build_bytes = 0;
  // The larger of the build (network + build_bytes) and the run (network +
  // run).
  std::uint64_t peak_bytes() const;
};

// The memory the network of `spec` and the run's extras will need, from the
// configuration alone (nothing is allocated): each projection's arrays
// (projection.hpp's memory_bytes of connectivity's expected_shape), the
// neuron state (8 bytes per state variable and 29 of scheduling state per
// neuron), event queues (48 bytes per neuron), plastic projections (24 bytes
// per synapse, 28 where the weight was stored once, and the traces), and
// state and weight recordings. Spike recordings, which grow with activity,
// are not included. Errors name the section, as build_network's do.
memory_estimate estimate_memory(const network_spec& spec, const model_registry& models,
                                const run_extras& extras);

struct available_memory {
  std::uint64_t bytes = 0;
  std::string source;  // what sets the figure, e.g. "MemAvailable in /proc/meminfo"
};
// The smaller of /proc/meminfo's MemAvailable and the room left under this
// process's cgroup memory limit (v2 memory.max, v1 memory.limit_in_bytes;
// reclaimable page cache counts as room). nullopt when neither is readable.
std::optional<available_memory> query_available_memory();
// MemAvailable of /proc/meminfo text, in bytes.
std::optional<std::uint64_t> meminfo_available_bytes(std::string_view meminfo);

class insufficient_memory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Throws insufficient_memory, naming the estimate, its largest contributors
// and the memory available, when the estimate exceeds it.
void check_memory(const memory_estimate& estimate, const available_memory& available);

// "1.2 TiB", "12.3 GiB", "45.6 MiB", "789 KiB", "12 bytes".
std::string bytes_text(std::uint64_t bytes);

// More threads than neurons in the largest population leave partitions
// empty, and each costs a thread, a queue and a share of every window.
inline constexpr unsigned max_threads = 4096;
struct thread_choice {
  unsigned threads = 1;
  std::string notice;  // empty when the request stands
};
// `requested` (>= 1), or the CPUs this process may run on, or the neurons
// of the largest population of `spec`, or max_threads, whichever is
// smallest; with a one-line notice naming the bound when it is not the
// request. Threads beyond the CPUs would only take turns on them: every
// window ends at a barrier that waits for the thread whose turn has not
// come. (The spikes do not depend on the number of threads.)
thread_choice clamp_threads(unsigned requested, const network_spec& spec, unsigned cpus);
thread_choice clamp_threads(unsigned requested, const network_spec& spec);
// The CPUs this process may run on (its affinity mask; at least 1).
unsigned available_cpus();

// Threads share a run window by window (windows of the minimum delay), and
// every window ends at a barrier: a window needs enough work for each
// thread to outweigh that. The synaptic events of a window are estimated
// from the synapses at `assumed_rate_hz` and the Poisson inputs at their
// rates; `threads` is reduced to at most one per `events_per_thread` of
// them (at least 1), with a notice. (The spikes do not depend on the number
// of threads.)
inline constexpr double assumed_rate_hz = 10.0;
inline constexpr double events_per_thread = 10000.0;
double estimated_window_events(const network& net);
thread_choice share_threads(unsigned threads, const network& net);

}  // namespace apical::app
