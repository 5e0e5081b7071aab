#pragma once
// Short-term synaptic plasticity (Tsodyks, Uziel & Markram 2000): a
// synapse's efficacy depends on the recent spikes that crossed it.
//
// Each synapse holds a fraction of resources in three states, x (recovered),
// y (active) and z = 1 - x - y (inactive), and a utilisation u. Between
// presynaptic spikes (arrivals at the synapse), exactly:
//
//   dy/dt = -y / tau_psc
//   dz/dt =  y / tau_psc - z / tau_rec
//   du/dt = -u / tau_facil                 (u = U at every spike if tau_facil = 0)
//
// and at an arrival, first u += U (1 - u), then the input delivered is
// weight * u * x, and u * x moves from x to y. tau_psc is the time constant
// of the postsynaptic current the resources feed (PyNN takes the target
// cell's synaptic time constant); tau_psc = 0 moves them at once to z, the
// two-state model in which x recovers from its own depletion.
//
// | name         | unit | default | meaning                                   |
// |--------------|------|---------|-------------------------------------------|
// | U            | 1    | 0.5     | utilisation increment, in (0, 1]          |
// | tau_rec_ms   | ms   | 100     | recovery time constant, > 0               |
// | tau_facil_ms | ms   | 0       | facilitation time constant (0: none)      |
// | tau_psc_ms   | ms   | 0       | active-to-inactive time constant (0: at once) |
// | u0           | 1    | 0       | u at time 0, in [0, 1]                    |
//
// All synapses of one delay group of a presynaptic neuron see the same
// arrival times, so they share one state: the engine keeps one state per
// delay group (simulator.hpp), updated at each arrival, and scales the
// group's weights by u * x. At time 0: x = 1, y = 0, u = u0.
#include <string>
#include <string_view>

namespace apical {

struct short_term_parameters {
  double U = 0.5;
  double tau_rec_ms = 100.0;
  double tau_facil_ms = 0.0;
  double tau_psc_ms = 0.0;
  double u0 = 0.0;

  // Throws parameter_error naming `where`, the field and the allowed range.
  void validate(std::string_view where) const;
  // "U=0.5, tau_rec_ms=100, ..." with every digit (checkpoint descriptions).
  std::string describe() const;
  // Sets a field by its name in the table above; throws parameter_error
  // naming `where` and the known names for another name.
  void set(std::string_view name, double value, std::string_view where);
  friend bool operator==(const short_term_parameters&, const short_term_parameters&) = default;
};

struct short_term_state {
  double x = 1.0;  // recovered
  double y = 0.0;  // active
  double u = 0.0;  // utilisation
  double t_ms = 0.0;  // of the latest arrival (0 before the first)
};

// The state at time 0.
inline short_term_state initial_short_term(const short_term_parameters& p) {
  return {1.0, 0.0, p.u0, 0.0};
}

// An arrival at t_ms >= s.t_ms: advances `s` in closed form to t_ms, applies
// the spike and returns the efficacy u * x that scales the synapse's weight.
double short_term_arrival(const short_term_parameters& p, short_term_state& s, double t_ms);

}  // namespace apical
