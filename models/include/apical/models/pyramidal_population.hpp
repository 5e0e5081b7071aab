#pragma once
// pyramidal_population: a population of pyramidal_cell (two_compartment with
// kappa = 0 and E_L below threshold) that applies a basal input with one
// multiply-add, no exponential.
//
// Why. Every input spike of a 784-800-10 microcircuit reaches 800 basal
// compartments; model_population<pyramidal_cell> brings each target to the
// delivery time with its own exp(-dt / tau_s), which was most of a training
// run's time. Between inputs the soma only relaxes towards E_L, so every
// neuron of the population decays with the same factor; storing
//
//   u_i = (V_s,i(t) - E_L) * g(t),   g(t) = exp((t - t0) / tau_s)
//
// makes u_i constant between inputs, whatever t0 is. A delivery group at
// time t computes g(t) once; a basal input of w is then u_i += w g(t), and
// the threshold test V_s >= V_th is u_i >= (V_th - E_L) g(t). A delivery's
// targets are taken in runs of consecutive cells: a run of at least one
// vector block (a dense projection's whole list, a locally connected
// layer's cells of one patch row) is a vector loop over plain arrays, a
// shorter one target by target; both round alike. A spike at t
// sets u_i to (V_reset - E_L) g(t + t_ref): the soma is clamped at V_reset
// while refractory (inputs are dropped) and relaxes from there afterwards.
//
// The reference time t0 is piecewise constant: t0 = k E with the epoch
// k = floor(t / E), E = 200 tau_s, so g stays below e^200. A neuron keeps the
// epoch its u_i refers to and is rebased (one exp) when an event of a later
// epoch reaches it. Nothing is shared between neurons beyond the parameters
// and the largest epoch reached (an atomic, raised only when a neuron moves
// past it), so partitions of a parallel run touch disjoint memory otherwise.
//
// Equations, parameters, initial state (the same random stream, hence the
// same initial potentials as model_population<pyramidal_cell>), inputs and
// reset are pyramidal_cell's; V_s differs from it only by rounding (a few
// ulp), so spike times agree exactly except where a potential lands within
// rounding of the threshold (tests/learning/test_pyramidal_population.cpp).
// The apical compartment is kept as pyramidal_cell keeps it: its potential
// at the time of its last input.
//
// Parameters should be set before a run (after a reset): a change of E_L or
// tau_s reinterprets u_i at its reference time t0 rather than at the
// neuron's last input.
//
// Per-cell thresholds. Cell i fires at V_th + d_i, with an offset d_i (mV,
// 0 by default) that the learning framework's homeostasis sets between
// samples (set_threshold_offsets): cell i is then pyramidal_cell with
// v_th_mv = V_th + d_i. The offsets are parameters, not state: reset()
// keeps them. With all offsets 0 the threshold test computes the same bits
// as before they existed ((V_th - E_L) g).
#include <atomic>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apical/engine/population.hpp"
#include "apical/models/microcircuit_cells.hpp"

namespace apical::models {

class pyramidal_population final : public population {
 public:
  using parameters = pyramidal_cell::parameters;

  // Throws parameter_error for invalid parameters, kappa != 0, or a resting
  // potential at or above threshold (model_population<two_compartment>
  // handles those).
  pyramidal_population(std::string name, std::size_t size, const parameters& p = {});

  std::string_view model_name() const override { return pyramidal_cell::name; }
  int compartments() const override { return pyramidal_cell::compartments; }

  const parameters& params() const { return derived_.p; }
  const pyramidal_cell::derived& constants() const { return derived_; }
  // Keeps the threshold offsets; throws parameter_error (as
  // set_threshold_offsets) when one would put a threshold at or below E_L.
  void set_params(const parameters& p);

  // d_i, one per cell (mV): cell i fires at v_th_mv + d_i. Throws
  // parameter_error naming the cell for a wrong count, a non-finite offset or
  // a threshold at or below e_l_mv (the population needs E_L below threshold),
  // and then changes nothing.
  void set_threshold_offsets(std::span<const double> offsets_mv);
  std::span<const double> threshold_offsets_mv() const { return threshold_offset_mv_; }

  // Neuron i's state at time t_ms (>= its last input), as pyramidal_cell's.
  pyramidal_cell::state state_at(std::uint32_t i, double t_ms) const;
  // Sets neuron i to `s`, valid at time t_ms. No crossing is scheduled: a
  // state at or above threshold fires at the next input (or predict()).
  void set_state(std::uint32_t i, const pyramidal_cell::state& s, double t_ms);

  void reset(std::uint64_t seed) override;
  void predict(std::uint32_t begin, std::uint32_t end, double t_ms, scheduler& s) override;
  void deliver(double t_ms, int compartment, std::span<const std::uint32_t> targets,
               std::span<const float> weights, scheduler& s) override;
  void deliver(double t_ms, int compartment, std::span<const std::uint32_t> targets, float weight,
               scheduler& s) override;
  bool fire_if_current(std::uint32_t i, std::uint32_t version, double t_ms, scheduler& s) override;

  std::vector<std::string_view> state_names() const override;
  double state_value(std::uint32_t i, std::size_t variable, double t_ms) const override;
  std::vector<std::string_view> parameter_names() const override;
  double parameter(std::string_view name) const override;
  void set_parameters(std::span<const std::pair<std::string, double>> values) override;

 private:
  static constexpr double inf = std::numeric_limits<double>::infinity();

  void check_offsets(const parameters& p, std::span<const double> offsets_mv) const;
  void refresh_theta();  // theta_ from the parameters and the offsets
  std::uint32_t epoch_of(double t_ms) const;
  double scale(double t_ms, std::uint32_t epoch) const;  // g(t) with t0 = epoch * E
  void rebase(std::uint32_t i, std::uint32_t epoch);
  void note_epoch(std::uint32_t epoch);
  void schedule_now(std::uint32_t i, double t_ms, scheduler& s);
  // Weights: const float* (one per target) or float (one for all).
  template <class Weights>
  void deliver_basal(double t_ms, std::span<const std::uint32_t> targets, scheduler& s,
                     Weights weights);
  void deliver_apical(double t_ms, std::span<const std::uint32_t> targets, scheduler& s,
                      auto weight_of);

  pyramidal_cell::derived derived_;
  double epoch_ms_ = 0.0;             // E
  std::vector<double> u_;             // (V_s - E_L) g(t) over the neuron's epoch
  std::vector<std::uint32_t> epoch_;  // the epoch u_ refers to
  // The largest epoch_ since the last reset. While it is 0, an input of
  // epoch 0 (every input of a run shorter than E, such as a training
  // sample) needs no rebase check. Atomic because the partitions of a
  // parallel run raise it; a partition always sees its own raises, which
  // are the only ones that concern its neurons.
  std::atomic<std::uint32_t> max_epoch_{0};
  std::vector<double> ref_until_ms_;         // end of the refractory period
  std::vector<double> v_a_mv_, t_a_ms_;      // apical potential at its last input
  std::vector<std::uint8_t> pending_;        // a crossing event is queued
  std::vector<double> threshold_offset_mv_;  // d_i
  std::vector<double> theta_;                // V_th + d_i - E_L
  bool uniform_threshold_ = true;            // every d_i is 0
  std::vector<std::uint32_t> version_;
};

}  // namespace apical::models
