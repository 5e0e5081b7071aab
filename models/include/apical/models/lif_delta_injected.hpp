#pragma once
// lif_delta_injected: lif_delta (leaky integrate-and-fire neuron with delta
// synapses) with an injected current, for PyNN's current sources into
// IF_curr_delta cells.
//
//   tau_m dV/dt = E_L + I_inj - V + S(t)       (currents in mV: R*I)
//   input of weight w into compartment 0:  V <- V + w  (ignored while
//                                          refractory)
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref
//
// I_inj is constant between inputs into compartments 1-3, which set it
// (lif_common.hpp), from i_inj_init_mv at time 0; S is the sinusoid of
// lif_exp_injected (lif_exp.hpp), switched by inputs into compartment 4
// (1: on, 0: off) from ac_on_init at time 0.
//
// Without the sinusoid V relaxes to E = E_L + I_inj, and from V0 < V_th
// it crosses at tau_m ln((E - V0) / (E - V_th)) when E > V_th (never
// otherwise; an input can still make it fire at once). With it,
//   V(t0 + s) = E + (V0 - E - V_p(t0)) e^{-s/tau_m} + V_p(t0 + s)
// (sine_drive.hpp), whose first crossing is searched by sine_drive's
// first_crossing over one horizon at a time.
//
// lif_delta itself keeps its trajectory in a form built for the engine's
// windowed delivery; this model runs on the generic event path (advance,
// receive, predict, fire), with V in the state.
//
// | name            | unit | default | meaning                              |
// |-----------------|------|---------|--------------------------------------|
// | tau_m_ms        | ms   | 20      | membrane time constant               |
// | e_l_mv          | mV   | -70     | resting (leak reversal) potential    |
// | v_th_mv         | mV   | -55     | threshold                            |
// | v_reset_mv      | mV   | -70     | reset potential                      |
// | t_ref_ms        | ms   | 2       | absolute refractory period           |
// | v_init_min_mv   | mV   | -70     | initial V drawn uniformly from       |
// | v_init_max_mv   | mV   | -70     |   [v_init_min_mv, v_init_max_mv]     |
// | i_inj_init_mv   | mV   | 0       | I_inj at time 0                      |
// | ac_amplitude_mv | mV   | 0       | sinusoid's amplitude (R*I)           |
// | ac_frequency_hz | Hz   | 0       | its frequency                        |
// | ac_phase_deg    | deg  | 0       | its phase at ac_start_ms             |
// | ac_start_ms     | ms   | 0       | its phase origin                     |
// | ac_on_init      | 1    | 0       | sinusoid on at time 0 (0 or 1)       |
//
// State: v_mv, ref_until_ms, inj_hi_mv, inj_mid_mv, inj_lo_mv (I_inj's
// parts), ac_on.
#include <algorithm>
#include <cmath>
#include <span>
#include <string_view>

#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"
#include "apical/models/lif_delta.hpp"
#include "apical/models/sine_drive.hpp"

namespace apical::models {

struct lif_delta_injected {
  static constexpr std::string_view name = "lif_delta_injected";
  static constexpr int compartments = 1 + injection_parts + 1;
  static constexpr int ac_switch_compartment = 1 + injection_parts;
  // The sinusoid's crossing search spans horizon_factor tau_m (at most one
  // period) at a time.
  static constexpr double horizon_factor = 0.5;

  struct parameters : lif_delta::parameters, injected_parameters {};
  struct derived {
    parameters p;
    sine_drive sine;
    double horizon_ms = 0.0;
  };
  struct free_state {
    double v_mv = 0.0;
    double ref_until_ms = -inf;
  };
  struct state : free_state, injected_state {};

  static std::span<const field<parameters>> parameter_fields() {
    static const auto f = injected_parameter_fields<parameters>(lif_delta::parameter_fields());
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<free_state> base[] = {
        {"v_mv", &free_state::v_mv, "mV", "membrane potential"},
        {"ref_until_ms", &free_state::ref_until_ms, "ms", "end of the refractory period"}};
    static const auto f = injected_state_fields<state>(std::span<const field<free_state>>(base));
    return f;
  }

  static derived derive(const parameters& p) {
    require_finite<lif_delta_injected>(p);
    require(p.tau_m_ms > 0, name, "tau_m_ms", p.tau_m_ms, "must be > 0");
    require_reset_and_start(name, p);
    derived d{p, checked_sine(name, p),
              sine_horizon(horizon_factor * p.tau_m_ms, p.ac_frequency_hz)};
    return d;
  }

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_mv = initial_v(d.p, r);
    s.inj_hi_mv = d.p.i_inj_init_mv;
    s.ac_on = d.p.ac_on_init;
  }

  // The potential V relaxes to without the sinusoid: E_L + I_inj.
  static double rest_mv(const state& s, const derived& d) {
    return d.p.e_l_mv + injected(s.inj_hi_mv, s.inj_mid_mv, s.inj_lo_mv);
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    if (from_ms < s.ref_until_ms) {
      s.v_mv = d.p.v_reset_mv;
      from_ms = std::min(to_ms, s.ref_until_ms);
    }
    const double dt = to_ms - from_ms;
    if (dt <= 0) return;
    const double rest = rest_mv(s, d);
    s.v_mv = rest + (s.v_mv - rest) * std::exp(-dt / d.p.tau_m_ms);
    if (s.ac_on != 0) s.v_mv += d.sine.added(from_ms, to_ms, d.p.tau_m_ms);
  }

  static void receive(state& s, const derived&, int compartment, double weight, double t_ms) {
    if (compartment == ac_switch_compartment) {
      s.ac_on = weight;
    } else if (compartment != 0) {
      set_injection_part(compartment, weight, s.inj_hi_mv, s.inj_mid_mv, s.inj_lo_mv);
    } else if (!(t_ms < s.ref_until_ms)) {
      s.v_mv += weight;
    }
  }

  static state end_of_refractoriness(const state& s, const derived& d, double t_ms) {
    state start = s;
    advance(start, d, t_ms, s.ref_until_ms);
    return start;
  }

  // Exact without the sinusoid (certain); with it, exact within the
  // horizon and provisional beyond (sine_drive.hpp).
  static spike_prediction predict(const state& s, const derived& d, double t_ms) {
    if (t_ms < s.ref_until_ms) return predict(end_of_refractoriness(s, d, t_ms), d, s.ref_until_ms);
    const double rest = rest_mv(s, d);
    if (s.ac_on != 0) {
      exp_sum g;
      g.constant = rest - d.p.v_th_mv;
      g.add(s.v_mv - rest - d.sine.at(t_ms), d.p.tau_m_ms);
      return predict_with_sine(g, d.sine.from(t_ms), t_ms, d.horizon_ms);
    }
    if (s.v_mv >= d.p.v_th_mv) return {t_ms, true};
    if (rest <= d.p.v_th_mv) return {inf, true};
    return {t_ms + d.p.tau_m_ms * std::log((rest - s.v_mv) / (rest - d.p.v_th_mv)), true};
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    return chained_next_spike<lif_delta_injected>(s, d, t_ms);
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

}  // namespace apical::models
