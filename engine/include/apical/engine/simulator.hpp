#pragma once
// The simulator: one event loop over a network.
//
// The duty cycle, written once per delivery path and named here:
//
//   1. pop       take the smallest event by (time, kind, target, index,
//                payload) from the queue (event.hpp)
//      arrival   arrival listeners of the projection see a delivery's
//                synapses before steps 2-3 read their weights (ordered
//                path only)
//   2. advance   bring the target neuron(s) to the event time in closed form
//   3. deliver   apply the synaptic inputs of one delay group (their weights
//                scaled by the group's short-term efficacy where the
//                projection has short-term plasticity, short_term.hpp), and
//                predict each target's next threshold crossing (scheduled
//                lazily)
//   4. notify    delivery listeners of the projection see each synapse
//   5. threshold a crossing event whose prediction is still current fires
//                the neuron (reset, refractoriness)
//   6. emit      spike listeners see the spike; one delivery event per
//                (outgoing projection, delay group) is scheduled
//
// Listeners are allocation-free delegates (delegate.hpp); the engine knows
// nothing of what they do (recording, plasticity, learning).
//
// Two delivery paths run this cycle, with bit-identical spikes:
//
// - ordered: every event goes through the queue, one at a time (steps 1-6
//   as written). Needed when delivery listeners watch each synapse in
//   global time order (step 4: learning, third factors) or a projection has
//   no delay. Plasticity runs on both: on the windowed path a plastic
//   projection follows its inputs window by window (window_listener).
// - windowed (window.hpp): when every delay is at least D > 0, time is cut
//   into windows of at most D. A window's deliveries are popped together,
//   scattered into one input slice per target neuron (in event order), and
//   each active neuron runs through the window on its own (steps 2-3 and 5
//   inside population::run_window), then step 6 for its spikes. Queue
//   traffic is one event per (spike, delay group) and per prediction that
//   lies beyond the window, never one per synapse or per Poisson-input
//   spike.
// simulation_options::delivery chooses; `automatic` takes the windowed path
// where it applies and pays (threads, windows of 1 ms or more, or a dense
// Poisson input; see path()), checked at every run_until.
//
// Parallel runs (threads > 1) use conservative windows of the minimum delay
// D: every population is split into `threads` contiguous index ranges, one
// partition per thread, each with its own queue. A distributed run
// (simulation_options::comm, communicator.hpp) first gives each process its
// block of every population, then splits the block among its threads. Within a window [t, t + D)
// partitions are independent (no spike emitted in the window can arrive
// before its end); at the window's end each partition imports the window's
// spikes (exchange) and schedules the deliveries to its own neurons. The same
// structure distributes across processes: at a window's end the processes
// exchange the window's spikes (communicator::all_gather). Because events are ordered by what
// they are, not by when they were scheduled (event.hpp), every neuron sees
// its events in the same order for any number of threads: the spikes are
// bit-identical.
//
// Threads and listeners: with threads > 1, listeners run on the thread that
// owns the neuron concerned (the spiking neuron for spike listeners, the
// target for delivery listeners), concurrently for neurons of different
// partitions. A listener that writes shared state keeps one buffer per
// partition (current_partition(), partitions()); spike_recorder does. On the
// windowed path, spike listeners see each neuron's spikes in time order, but
// the spikes of one window neuron by neuron (population by population, then
// by index), not interleaved in time across neurons.
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "apical/engine/checkpoint.hpp"
#include "apical/engine/communicator.hpp"
#include "apical/engine/delegate.hpp"
#include "apical/engine/event_queue.hpp"
#include "apical/engine/network.hpp"
#include "apical/engine/scheduler.hpp"
#include "apical/engine/time.hpp"
#include "apical/engine/window.hpp"

namespace apical {


// What a delivery listener sees: one synapse's input, after it was applied
// (`weight` is the weight applied: the projection's, times the short-term
// efficacy where the projection has short-term plasticity).
struct delivery {
  time_ms time;
  std::uint32_t pre;
  std::uint32_t post;
  std::uint64_t synapse;  // index into the projection's arrays
  float weight;
};

// What an arrival listener sees: the synapses of one delay group that a
// spike is about to reach, before their weights are read (step 3).
struct arrival {
  time_ms time;
  std::uint32_t pre;
  std::uint32_t group;
  std::uint64_t first_synapse;             // index of the first of `targets`
  std::span<const std::uint32_t> targets;  // (this partition's)
};

// The delivery path (see above).
enum class delivery_path : std::uint8_t { automatic, ordered, windowed };

// "auto", "ordered" or "windowed"; throws parameter_error naming the choices.
delivery_path parse_delivery_path(std::string_view name);

struct simulation_options {
  std::uint64_t seed = 1;
  queue_kind queue = queue_kind::radix;
  // Worker threads (partitions). More than one needs a minimum delay > 0.
  unsigned threads = 1;
  // `windowed` throws parameter_error (saying why) where it does not apply.
  delivery_path delivery = delivery_path::automatic;
  // The processes of a distributed run (communicator.hpp); null: this
  // process alone. The network of each process then needs only the
  // synapses onto its own neurons (rank_block); every process must build
  // the same network description and make the same calls (run_until,
  // reset, record_state, state_recording), which are collective.
  communicator* comm = nullptr;
};

struct simulation_counters {
  std::uint64_t events = 0;             // events popped
  std::uint64_t stale_predictions = 0;  // crossing events dropped as stale
  std::uint64_t spikes = 0;             // spikes emitted
  std::uint64_t synaptic_events = 0;    // synapse deliveries (inputs applied)
  std::uint64_t drive_inputs = 0;       // Poisson-input spikes applied
  std::uint64_t windows = 0;            // windows of the windowed path
  // Neuron windows that a model's own loop settled from a bound, without
  // the exact merge of its inputs (lif_delta; see run_window there).
  std::uint64_t settled = 0;
  // Of the others, those it settled up to some cell before the merge.
  std::uint64_t settled_in_part = 0;
};

class simulator {
 public:
  using spike_signal = signal<time_ms, std::uint32_t>;
  using delivery_signal = signal<const delivery&>;
  using arrival_signal = signal<const arrival&>;

  // Throws parameter_error for threads == 0, or threads > 1 with a zero
  // minimum delay.
  explicit simulator(network& net, simulation_options options = {});
  ~simulator();
  simulator(const simulator&) = delete;
  simulator& operator=(const simulator&) = delete;

  // Processes every event with time < t_end, then sets now() to t_end.
  // Throws parameter_error when t_end is before now().
  void run_until(time_ms t_end);
  void run(time_ms duration) { run_until(now_ + duration); }
  time_ms now() const { return now_; }

  // Back to time 0: initial states (redrawn from the seed), empty queue,
  // first predictions scheduled, state recorders restarted. Counters and
  // listeners are kept.
  void reset();
  void reset(std::uint64_t seed) {
    options_.seed = seed;
    reset();
  }

  // Checkpoints (checkpoint.hpp), between run_until calls: the whole future
  // of the run (every neuron's state and prediction bookkeeping, every
  // pending event: spikes in flight, crossings, Poisson wake-ups, sampling
  // instants; the Poisson inputs' next spikes and random streams, the state
  // samples so far, the counters, now()), the `parts` that listeners keep
  // (plastic weights and traces), and `extra`, bytes the caller keeps with
  // it (the command line's spike file position). Throws parameter_error,
  // before writing anything, for a population that cannot be checkpointed
  // or a projection with delivery listeners that no part accounts for.
  void save(std::ostream& out, std::string_view extra = {},
            std::span<checkpoint_part* const> parts = {});
  // The same, written atomically to `file` (checkpoint.hpp).
  void save(const std::filesystem::path& file, std::string_view extra = {},
            std::span<checkpoint_part* const> parts = {});
  // The same bytes into `image` (its room reused), for a caller that
  // writes them itself, for example on another thread while the run goes
  // on (the image holds everything; the simulator may run at once).
  void save(checkpoint_image& image, std::string_view extra = {},
            std::span<checkpoint_part* const> parts = {});
  // Continues a saved run, on a simulator of the same network (the same
  // description: populations, parameters, synapses, inputs, state
  // recorders, recorded with record_state before this call, and the same
  // parts, in the same order) with any number of threads: running on gives
  // the spikes the saved run would have given. Returns the saved `extra`.
  // Throws file_error naming `source` and what is wrong (format, size,
  // checksum, or the first line of the network description that differs);
  // the simulator is then to be reset().
  std::string restore(std::istream& in, std::string_view source,
                      std::span<checkpoint_part* const> parts = {});
  std::string restore(const std::filesystem::path& file,
                      std::span<checkpoint_part* const> parts = {});
  // The network description a checkpoint is bound to, one item per line.
  std::string checkpoint_description(std::span<checkpoint_part* const> parts = {}) const;

  // Step 5's listeners of population `population_id`: called after the
  // neuron was reset, with the spike time and the neuron index.
  spike_signal& on_spike(std::size_t population_id) { return spike_signals_[population_id]; }
  // Step 4's listeners of projection `projection_id`.
  delivery_signal& on_delivery(std::size_t projection_id) {
    return delivery_signals_[projection_id];
  }
  // Listeners of projection `projection_id` called before step 3 reads the
  // weights of a delivery (a listener that brings them up to date). A
  // projection with such listeners runs on the ordered path only.
  arrival_signal& on_arrival(std::size_t projection_id) { return arrival_signals_[projection_id]; }
  // A listener that follows projection `projection_id` on the windowed path
  // in place of its one delivery listener (window.hpp; null: none). It must
  // outlive the simulator's runs or be removed first.
  void set_window_listener(std::size_t projection_id, window_listener* listener);

  // Samples state variable `variable` of the given neurons every
  // `interval` (first sample at time 0). Returns the recorder's index.
  std::size_t record_state(std::size_t population_id, std::string_view variable,
                           std::vector<std::uint32_t> neurons, time_ms interval);
  struct state_samples {
    std::size_t population;
    std::size_t variable;
    std::string variable_name;
    std::vector<std::uint32_t> neurons;
    time_ms interval;
    std::vector<double> times_ms;
    std::vector<double> values;  // row per time, column per neuron
  };
  // The samples so far (gathered from the partitions, and in a
  // distributed run from every process: collective there).
  const state_samples& state_recording(std::size_t recorder) const;

  // Summed over this process's partitions.
  simulation_counters counters() const;
  // The partitions (threads) of this process.
  std::size_t partitions() const { return parts_.size(); }
  // The partition whose thread is calling (0 outside parallel runs).
  static std::size_t current_partition();
  // The partition of this process owning neuron i of population
  // `population_id`; partitions() when another process owns it.
  std::size_t owner(std::size_t population_id, std::uint32_t i) const {
    const neuron_block& b = blocks_[population_id];
    return b.contains(i) ? (i - b.begin) / chunk_[population_id] : parts_.size();
  }
  // The neurons [begin, end) of population `population_id` that partition
  // p of this process owns.
  std::pair<std::uint32_t, std::uint32_t> owned(std::size_t population_id, std::size_t p) const {
    return range(population_id, p);
  }
  // The processes of the run (1 and 0 without a communicator), and the
  // block of population `population_id` this one holds.
  unsigned ranks() const { return comm_ ? comm_->size() : 1; }
  unsigned rank() const { return comm_ ? comm_->rank() : 0; }
  neuron_block block(std::size_t population_id) const { return blocks_[population_id]; }
  // Bytes of spike records exchanged between processes so far (the
  // gathered volume each process received), and the exchanges.
  std::uint64_t exchanged_bytes() const { return exchanged_bytes_; }
  std::uint64_t exchanges() const { return exchanges_; }
  // The window length of parallel and windowed runs (the minimum delay
  // between partitions, or of every projection on the windowed path), in
  // ms; infinite when there is no such projection.
  double window_ms() const { return window_ms_; }
  // Chooses the delivery path of the next runs (the spikes do not change).
  // Throws parameter_error for `windowed` where it does not apply.
  void set_delivery(delivery_path path);
  // Why the windowed path cannot run now (empty when it can).
  std::string windowed_obstacle() const;
  // The path the latest (or, before any, the next) run_until takes.
  delivery_path path() const;
  const simulation_options& options() const { return options_; }
  network& net() { return *net_; }
  const network& net() const { return *net_; }

 private:
  struct sample_value {
    double time_ms;
    std::size_t column;
    double value;
  };
  using outgoing_spike = std::pair<double, std::pair<std::uint16_t, std::uint32_t>>;
  // The windowed path's per-population scratch of one partition.
  struct window_population {
    std::vector<std::uint64_t> active_bits;  // one bit per owned neuron
    std::vector<std::uint32_t> count;        // inputs per owned neuron, then write cursor
    std::vector<std::uint32_t> active;       // active neurons (population indices)
    std::vector<std::uint32_t> begin;        // slice offsets of `active`
    std::vector<drive_view> drives;          // Poisson inputs onto the population
    std::uint32_t lo = 0, hi = 0;            // the owned neurons [lo, hi)
    // Some input of the window has a per-synapse weight (or a followed
    // projection's): its loop reads every input's weight per entry.
    bool weighted = false;
    // Until then a dense drive makes every owned neuron active.
    double dense_until_ms = -std::numeric_limits<double>::infinity();
  };
  struct window_target {  // one delivery's targets in this partition
    const std::uint32_t* targets;
    const float* weights;  // null: uniform `weight`
    float weight;
    std::uint32_t count;
    std::uint16_t population;
    std::uint16_t projection;
    std::uint32_t group;
    std::uint64_t first_synapse;
  };
  struct partition {
    std::unique_ptr<event_queue> queue;
    scheduler sched;
    simulation_counters counters;
    std::vector<outgoing_spike> outbox[2];  // the windowed path alternates them
    std::vector<std::vector<sample_value>> samples;  // per recorder
    // windowed path scratch
    std::vector<window_population> pops;
    std::vector<window_delivery> deliveries;
    std::vector<double> delivery_scratch;
    std::vector<double> neuron_scratch;
    std::vector<window_target> spans;
    // Each entry's delivery: 16-bit indices when the window has at most
    // 65,536 deliveries, else 32-bit ones (window_inputs::delivery16).
    std::vector<std::uint16_t> entry_delivery16;
    std::vector<std::uint32_t> entry_delivery32;
    std::uint32_t entry_delivery(std::uint32_t e) const {
      return narrow ? entry_delivery16[e] : entry_delivery32[e];
    }
    bool narrow = true;
    std::vector<float> entry_weight;
    std::vector<event> due_samples;
    std::vector<fired_spike> fired;
    // Per projection with a window listener: its deliveries of the window.
    std::vector<std::vector<window_arrival>> arrivals;
    std::vector<double> revise_spikes;  // the spikes of the neuron being revised
    std::vector<std::uint8_t> repeated;   // per population: a group arrived twice
    // Per projection with short-term plasticity: the state of each delay
    // group (short_term.hpp), kept by every partition that owns one of the
    // group's targets; and the scaled weights of the group being delivered.
    std::vector<std::vector<short_term_state>> short_term;
    std::vector<float> scaled_weights;
    explicit partition(queue_kind q) : queue(make_event_queue(q)), sched(*queue) {}
  };
  // The state of one Poisson input (network::poisson_inputs()).
  struct drive_state {
    std::vector<double> next_ms;
    std::vector<rng> generators;
  };

  // Processes partition p's events with time < t_end.
  void process(std::size_t p, time_ms t_end);
  void deliver(partition& part, std::size_t p, const event& e);
  void fire(partition& part, std::size_t p, const event& e);
  void sample(partition& part, std::size_t p, const event& e);
  void schedule_deliveries(partition& part, std::size_t p, time_ms t, std::uint16_t pop,
                           std::uint32_t neuron);
  // The [begin, end) of neuron indices of `population_id` owned by p.
  std::pair<std::uint32_t, std::uint32_t> range(std::size_t population_id, std::size_t p) const;
  // Partition p's targets of delay group g of projection k: positions
  // [first, second) of the group's targets (sorted, so a sub-range).
  std::pair<std::uint32_t, std::uint32_t> own_targets(std::size_t k, std::uint32_t g,
                                                      std::size_t p) const {
    if (!split_) return {0, static_cast<std::uint32_t>(net_->proj(k).group_targets(g).size())};
    if (cuts_[k].empty()) return search_own_targets(k, g, p);
    const std::uint32_t* c = cuts_[k].data() + std::size_t{g} * (parts_.size() + 1) + p;
    return {c[0], c[1]};
  }
  std::pair<std::uint32_t, std::uint32_t> search_own_targets(std::size_t k, std::uint32_t g,
                                                             std::size_t p) const;
  // Whether partition p owns one of the targets of delay group g of
  // projection k (then it receives the group's deliveries).
  bool owns_target(std::size_t k, std::uint32_t g, std::size_t p) const {
    const auto [b, e] = own_targets(k, g, p);
    return b < e;
  }
  void setup_cuts();
  void run_parallel(time_ms t_end);
  // The windowed path.
  void run_windowed(time_ms t_end);
  // One window of partition p from t_begin to at most t_end; returns where
  // it ended (just after a sampling instant, if one came first).
  time_ms window(std::size_t p, time_ms t_begin, time_ms t_end, std::vector<outgoing_spike>& out);
  void import_spikes(std::size_t p, const std::vector<outgoing_spike>& spikes);
  // Between the barriers of a window's end, on one thread of a distributed
  // run: sends the spikes of this process's outboxes `box` and this
  // process's error (empty: none), receives every process's into
  // exchanged_; returns the first failed process's error, or an empty
  // string.
  std::string exchange(int box, const std::string& error);
  // Imports the spikes of a window's end into partition p: the outboxes
  // `box` of this process's partitions, or exchanged_ in a distributed run.
  void import_window(std::size_t p, int box);
  // The partition of the whole run (over every process) owning neuron i.
  std::size_t global_owner(std::size_t population_id, std::uint32_t i) const;
  void drive_input(partition& part, const event& e);
  void switch_path(delivery_path to);
  // Written into `buffer` (its room reused).
  std::string checkpoint_payload(std::string_view description, std::string_view extra,
                                 std::span<checkpoint_part* const> parts, std::string buffer);
  void setup_windowed();
  // window_end of the listeners of followed projections onto `population`.
  void end_followed(std::size_t p, std::size_t population, std::span<const fired_spike> fired);
  // Rewrites the weights of the followed inputs of slice `slice` of
  // population `population` that arrive at or after `from`
  // (window_listener, window_inputs::revise).
  void revise_slice(partition& part, std::size_t p, std::size_t population, std::size_t slice,
                    std::span<const double> spikes, double from);

  network* net_;
  simulation_options options_;
  std::vector<partition> parts_;
  std::vector<std::uint32_t> chunk_;  // per population: neurons per partition
  communicator* comm_ = nullptr;
  std::vector<neuron_block> blocks_;  // per population: this process's neurons
  bool split_ = false;                // more than one partition in the whole run
  std::vector<outgoing_spike> exchanged_;  // a window's spikes of every process
  std::vector<std::byte> send_, received_;
  std::vector<std::size_t> offsets_;
  std::uint64_t exchanged_bytes_ = 0, exchanges_ = 0;
  std::vector<std::uint8_t> inline_;  // per projection: delivered at the spike
  // With partitions, per projection and delay group the positions in the
  // group's targets where each partition's targets begin (P + 1 per group,
  // P the partitions): every partition finds its share of a delivery
  // without a search of the targets. Empty for a projection with fewer
  // than 8 (P + 1) synapses per group (many partitions, few synapses), so
  // that the table never adds more than half a byte per synapse; there the
  // targets are searched.
  std::vector<std::vector<std::uint32_t>> cuts_;
  double window_ms_ = 0.0;
  std::vector<drive_state> drives_;  // per Poisson input
  // Per Poisson input: its position among the drives of its population
  // (window_population::drives).
  std::vector<std::size_t> drive_slot_;
  std::uint16_t first_drive_target_ = 0;
  delivery_path path_ = delivery_path::ordered;  // of the latest run
  time_ms now_;
  std::vector<spike_signal> spike_signals_;
  std::vector<delivery_signal> delivery_signals_;
  std::vector<arrival_signal> arrival_signals_;
  std::vector<window_listener*> window_listeners_;  // per projection
  std::vector<std::uint8_t> followed_;  // per population: a listener follows its inputs
  checkpoint_image save_image_;  // the latest checkpoint's bytes (their room)
  // Per projection: a hash of its synapses' targets, delays and groups.
  mutable std::vector<std::uint64_t> structure_hashes_;
  std::vector<state_samples> samplers_;
  mutable std::vector<state_samples> gathered_;
};

}  // namespace apical
