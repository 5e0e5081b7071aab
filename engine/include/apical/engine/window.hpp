#pragma once
// Windowed delivery: what the simulator hands a population for one window.
//
// When every synaptic delay is at least D (> 0), no spike emitted in a
// window [a, b) with b - a <= D can reach any neuron before b. The simulator
// then gathers the window's deliveries (one per spike and delay group, in
// event order), scatters them into one input slice per target neuron, and
// lets each population run its neurons through the window one after the
// other (population::run_window): a neuron applies its inputs in order and
// fires at its threshold crossings between them, with no queue operation
// per synapse. Because every slice holds its neuron's inputs in the event
// order of the sequential loop, and run_window does for each neuron exactly
// what the event loop would do (the same advances, inputs, predictions and
// firings, in the same order), the spikes are bit-identical to the ordered
// loop and do not depend on window boundaries or the number of threads.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "apical/engine/delegate.hpp"
#include "apical/engine/random.hpp"

namespace apical {

// One (spike, delay group) delivery of the window.
struct window_delivery {
  double time_ms;
  int compartment;
  float weight;  // the projection's weight, when it is uniform
};

// A Poisson input (network::add_poisson_input) as the neurons of one
// population see it: an independent Poisson train per neuron, whose next
// spike time and random stream live in these arrays (indexed by neuron).
struct drive_view {
  int compartment = 0;
  float weight = 0.0f;
  double mean_interval_ms = 0.0;
  double stop_ms = 0.0;
  double* next_ms = nullptr;
  rng* generators = nullptr;
  // The target of its wake-up events (event_kind::delivery); see `sparse`.
  std::uint16_t event_target = 0;
  // Sparse drives wake their neurons through queued events at their next
  // spike time; dense ones (about one spike a window or more) make every
  // neuron of the population active in every window instead.
  bool sparse = true;

  // The next spike after one at t_ms (infinity at or after stop_ms).
  [[gnu::always_inline]] double draw_after(std::uint32_t neuron, double t_ms) const {
    return draw_after(generators[neuron], t_ms);
  }
  // The same from `stream`, the neuron's generator or a copy of it (a loop
  // over many spikes keeps the copy in registers and writes it back).
  [[gnu::always_inline]] double draw_after(rng& stream, double t_ms) const {
    const double t = t_ms + stream.exponential_ziggurat(mean_interval_ms);
    return t < stop_ms ? t : std::numeric_limits<double>::infinity();
  }
};

// The inputs of the active neurons of one population in one window, which
// ends (exclusive) at t_end. Neuron active[k] receives the inputs
// [begin[k], begin[k + 1]) of `delivery` / `weight`, in event order.
struct window_inputs {
  std::span<const window_delivery> deliveries;
  std::span<const std::uint32_t> active;  // ascending population indices
  const std::uint32_t* begin = nullptr;   // active.size() + 1 offsets
  // Each entry's delivery (an index into `deliveries`): 16 bits wide when
  // the window has at most 65,536 deliveries (nearly always; it halves the
  // scatter's memory traffic), else 32 (delivery16 null).
  const std::uint16_t* delivery16 = nullptr;
  const std::uint32_t* delivery32 = nullptr;
  std::uint32_t delivery_of(std::uint32_t entry) const {
    return delivery16 ? delivery16[entry] : delivery32[entry];
  }
  // Per entry; null when every delivery of the window has a uniform weight
  // (window_delivery::weight).
  const float* weight = nullptr;
  std::span<const drive_view> drives;
  double t_begin = 0.0;  // every input of the window is at or after it
  double t_end = 0.0;
  float weight_of(std::uint32_t entry) const {
    return weight ? weight[entry] : deliveries[delivery_of(entry)].weight;
  }
  // delivery_scratch_per_delivery * deliveries.size() doubles a model's
  // own loop may fill in window_prepare() (what it needs of each delivery,
  // computed once for all its targets).
  static constexpr std::size_t delivery_scratch_per_delivery = 4;
  double* delivery_scratch = nullptr;
  // Room a model's own loop may use for one neuron at a time (it grows it
  // as needed; the simulator keeps one per partition).
  std::vector<double>* neuron_scratch = nullptr;
  // Set when some inputs are plastic (a window_listener follows their
  // projection): a spike of neuron active[k] at t changes the weights of
  // that neuron's inputs after t. A model calls revise(k, t, from) right
  // after each spike it records, before it reads the weight of any later
  // input of the neuron (weight_of(), `weight`), which the call rewrites
  // for the inputs after t that arrive at or after `from` (>= t): a model
  // that ignores the inputs of its refractory period passes its end, and
  // the weights it will never read are left as they were.
  delegate<void(std::size_t, double, double)> revise;
};

// One delivery of a followed projection in one window and partition.
struct window_arrival {
  double time_ms;
  std::uint32_t group;           // the projection's delay group
  std::uint32_t count;           // targets in this partition
  std::uint64_t first_synapse;   // the synapse index of targets[0]
  const std::uint32_t* targets;  // ascending
};

// One neuron's bookkeeping as a model's own window loop sees it (see
// neuron_model.hpp, run_window): the same arrays the event loop keeps.
template <class State>
struct window_neuron {
  std::uint32_t index;
  State& state;
  double& t_last;     // the state is valid at t_last
  double& predicted;  // the latest prediction
  double& queued;     // the live crossing event's time (inf: none)
  float& slack;       // < 0: the latest prediction is an exact crossing
                      // (model_population's slot)
  std::uint32_t& version;
};

struct fired_spike {
  double time_ms;
  std::uint32_t neuron;
};

// A listener that follows a projection's inputs on the windowed path, in
// place of its per-synapse delivery listeners (which see each input in
// global time order on the ordered path): plasticity whose weights change
// at arrivals and at postsynaptic spikes. Per window and partition p, on
// p's thread:
//   1. window_begin: the projection's deliveries of the window, in event
//      order, before any neuron runs (the span stays valid until
//      window_end returns);
//   2. revised_weight: while the postsynaptic neurons run, the weight an
//      input has given the spikes its target fired before it in the window
//      (asked for every later input after each spike, see
//      window_inputs::revise);
//   3. window_end: after the postsynaptic population ran, its spikes of the
//      window (p's neurons; neuron by neuron in ascending order, each
//      neuron's in time order).
// The simulator takes the windowed path with it only when it is the
// projection's one delivery listener and windowed_obstacle() is empty.
class window_listener {
 public:
  virtual ~window_listener() = default;
  // Why it cannot follow windows now (empty when it can).
  virtual std::string windowed_obstacle() const { return {}; }
  // Returns true when inputs of the window need revised weights before any
  // spike (a group arriving twice): the simulator then asks for every
  // input of the projection with no spikes before it.
  virtual bool window_begin(std::size_t p, double t_begin, double t_end,
                            std::span<const window_arrival> arrivals) = 0;
  // The weight of the input of `synapse` (delay group `group`) arriving at
  // t_ms at postsynaptic neuron `post`, which fired at `spikes` (in time
  // order, all before t_ms) in this window.
  virtual float revised_weight(std::size_t p, std::uint32_t post, std::span<const double> spikes,
                               std::uint64_t synapse, std::uint32_t group, double t_ms) = 0;
  virtual void window_end(std::size_t p, std::span<const fired_spike> fired) = 0;
};

// What a population did in one window.
struct window_counts {
  std::uint64_t drive_inputs = 0;  // Poisson-input spikes applied
  std::uint64_t reexamined = 0;    // early or provisional predictions looked at again
  std::uint64_t settled = 0;       // neurons a bound let through without the exact merge
  std::uint64_t settled_in_part = 0;  // neurons a bound let through part of the way
};

}  // namespace apical
