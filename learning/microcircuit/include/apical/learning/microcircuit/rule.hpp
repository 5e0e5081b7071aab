#pragma once
// The compartment-local Hebbian rule of the microcircuit, and the spike
// counters the protocol reads. All of them are simulator listeners
// (delegate.hpp): the engine loop knows nothing of them.
//
// apical_hebbian_rule, one per weight layer W^l (n_post x n_pre):
//   presynaptic basal trace  x_j(t) = sum over arrivals t_a <= t of spikes of
//                            pre neuron j at the basal synapses of P^l of
//                            exp(-(t - t_a) / tau_x); an arrival is the
//                            spike time plus the projection's delay
//   somatic gate             g_i(t) = 1 if P_i fired in [t - tau_g, t], else 0
//                            (window), or sum over P_i spikes of
//                            exp(-(t - t_s) / tau_g) (trace); g = 1 when the
//                            layer is ungated (the output without output_gate)
//   at an error spike from E+_i (E-_i) reaching the apical compartment of P_i
//                            dW_ij += (-) eta g_i(t) x_j(t)  for all j
// The trace belongs to the presynaptic neuron and is shared by all its
// basal synapses onto the layer (one delay, so they see the same arrivals);
// the gate belongs to the postsynaptic soma; the update is triggered in the
// apical compartment of the same cell. Nothing non-local is read.
//
// One hook call per presynaptic spike, not per synapse. The spike is seen
// when it is emitted (step 6) and queued with its arrival time; arrivals
// enter the trace when a later event reads it (queued spikes are the ones
// still travelling along the axon, at most one delay's worth). A listener
// on the basal deliveries would see the same arrivals, but 800 times per
// input spike in a 784-800-10 network.
//
// Lazy decay with a shared reference time. Every trace decays with the same
// tau_x, so instead of x_j the rule stores y_j = x_j(t) exp((t - t_ref) / tau_x),
// which does not change between arrivals: an arrival adds
// exp((t_a - t_ref) / tau_x) to y_j, and an error spike reads all traces at
// once as exp(-(t - t_ref) / tau_x) * y. One exp per event instead of one per
// presynaptic neuron, and the update of a row is one contiguous axpy. t_ref
// moves forward (rescaling y) before the exponent exceeds rebase_exponent,
// so nothing overflows however long a run is.
//
// Targets. In accumulate mode (per sample, mini-batch) the rule adds eta = 1
// steps into a dense n_post x n_pre row-major buffer owned by the caller (the
// weight update is scaled when applied); in online mode it adds eta-scaled
// steps straight into the forward projection's weights. (The rule allocates
// only when a burst overfills its arrival queue, which then stays larger.)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "apical/engine/projection.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/learning/microcircuit/params.hpp"
#include "apical/learning/reference/local_fields.hpp"

namespace apical::learning {

class apical_hebbian_rule {
 public:
  static constexpr double rebase_exponent = 30.0;

  // `basal` is the layer's forward projection; its synapses must share one
  // delay (parameter_error otherwise). `gated`: whether the somatic gate
  // applies.
  apical_hebbian_rule(const projection& basal, double tau_x_ms, somatic_gate gate, double tau_g_ms,
                      bool gated);

  std::size_t pre_size() const { return n_pre_; }
  std::size_t post_size() const { return n_post_; }

  // Updates only the synapses in each cell's receptive field (the first
  // layer of a locally connected network; the others are absent, kept at 0
  // by the optimizer's mask): an update of cell i adds to the runs of its
  // field instead of its whole row. The values added are the same.
  void restrict_to(const local_fields& fields);

  // Starts a sample: traces and gates at 0. Updates go to `dw` (n_post x
  // n_pre, row-major) with step 1, or, when dw is empty, online into
  // `weights` (the forward projection's, pre-major) with step eta.
  void begin_sample(std::span<float> dw, std::span<float> weights = {}, double eta = 0.0);
  // The same without clearing the traces and gates (between_samples = decay):
  // the sample's clock starts at 0 again, shift_ms after the previous one's
  // 0, and every stored time moves back by shift_ms.
  void continue_sample(std::span<float> dw, std::span<float> weights, double eta, double shift_ms);

  // Hooks, named after their trigger; each says when it runs in the duty
  // cycle. Step 6 (emit) of a spike of the presynaptic population: its
  // arrival at the basal synapses is queued for the trace.
  void on_pre_spike(time_ms t, std::uint32_t pre);
  // Step 6 (emit) of a spike of the layer's pyramidal cells.
  void on_somatic_spike(time_ms t, std::uint32_t neuron);
  // Step 4 (notify) of a delivery to the apical compartment from the error
  // cells (E+_i is pre i, E-_i pre n_post + i).
  void on_apical_arrival(const delivery& d);

  // x_j(t) and g_i(t) as the rule sees them (for tests); t_ms must not be
  // earlier than the last event the rule saw.
  double trace(std::uint32_t pre, double t_ms);
  double gate(std::uint32_t post, double t_ms) const;
  // Error spikes that reached the apical compartments, and those that
  // changed weights (g > 0), since construction.
  std::uint64_t apical_events() const { return apical_events_; }
  std::uint64_t updates() const { return updates_; }

 private:
  void rebase(double t_ms);
  // Adds the queued arrivals with t_a <= t_ms to the traces.
  void take_arrivals(double t_ms);

  struct arrival {
    double t_ms;
    std::uint32_t pre;
  };

  std::size_t n_pre_;
  std::size_t n_post_;
  // The synapses an update of cell i adds to: runs_per_cell_ runs of
  // run_length_ inputs, starting at run_start_[i * cell_stride_ + r]. Without
  // restrict_to one run, the whole row, shared by every cell (stride 0).
  std::vector<std::uint32_t> run_start_{0};
  std::size_t runs_per_cell_ = 1;
  std::size_t run_length_;
  std::size_t cell_stride_ = 0;
  double inv_tau_x_;
  somatic_gate gate_kind_;
  double tau_g_ms_;
  double inv_tau_g_;
  bool gated_;

  double delay_ms_;
  std::vector<float> y_;  // traces scaled to t_ref
  // Spikes on their way to the basal synapses: a ring buffer in arrival
  // order (capacity a power of two; grows only when a burst overfills it).
  std::vector<arrival> queue_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  double t_ref_ms_ = 0.0;
  std::vector<double> last_spike_ms_;  // window gate
  std::vector<double> gate_value_;     // trace gate, at gate_time_ms_
  std::vector<double> gate_time_ms_;
  // Where updates go.
  std::span<float> dw_;
  std::span<float> weights_;
  double eta_ = 0.0;
  std::uint64_t apical_events_ = 0;
  std::uint64_t updates_ = 0;
};

// Per-neuron spike counts of one population within a sample: over the whole
// window, and from `late_from_ms` on (the error window), plus the first
// spike time (the readout's tie breaker).
class spike_counter {
 public:
  explicit spike_counter(std::size_t size);
  void begin_sample(double late_from_ms);
  // Step 6 (emit) of a spike of the counted population.
  void on_spike(time_ms t, std::uint32_t neuron);

  std::span<const std::uint32_t> counts() const { return counts_; }
  std::span<const std::uint32_t> late_counts() const { return late_counts_; }
  std::span<const double> first_spike_ms() const { return first_ms_; }
  std::uint64_t total() const { return total_; }

 private:
  double late_from_ms_ = 0.0;
  std::vector<std::uint32_t> counts_;
  std::vector<std::uint32_t> late_counts_;
  std::vector<double> first_ms_;
  std::uint64_t total_ = 0;
};

}  // namespace apical::learning
