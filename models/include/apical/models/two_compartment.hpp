#pragma once
// two_compartment: a pyramidal-like cell with a somatic/basal compartment
// (0) that spikes and an apical compartment (1) that integrates its own
// input, both with delta synapses.
//
//   tau_s dV_s/dt = E_L - V_s + kappa (V_a - E_a)
//   tau_a dV_a/dt = E_a - V_a
//   input w into compartment 0:  V_s <- V_s + w   (ignored while refractory)
//   input w into compartment 1:  V_a <- V_a + w
//   V_s >= V_th:  spike, V_s <- V_reset, clamped for t_ref (V_a goes on)
//
// The apical compartment drives the soma only through the coupling kappa
// (dimensionless); with kappa = 0 (the default) apical input never disturbs
// the somatic spike train, which is what the learning microcircuit needs:
// apical events trigger plasticity, the forward pass stays intact.
// The apical deflection acts on the soma like a decaying current, so V_s
// has the closed form of lif_exp with one current, and the threshold
// crossing is found by first_crossing() (engine/exp_sum.hpp).
//
// | name          | unit | default | meaning                                  |
// |---------------|------|---------|------------------------------------------|
// | tau_s_ms      | ms   | 20      | somatic membrane time constant           |
// | tau_a_ms      | ms   | 10      | apical time constant (!= tau_s_ms if     |
// |               |      |         | kappa != 0)                              |
// | e_l_mv        | mV   | -70     | somatic resting potential                |
// | e_a_mv        | mV   | -70     | apical resting potential                 |
// | v_th_mv       | mV   | -55     | somatic threshold                        |
// | v_reset_mv    | mV   | -70     | somatic reset                            |
// | t_ref_ms      | ms   | 2       | refractory period                        |
// | kappa         | 1    | 0       | apical-to-soma coupling                  |
// | v_init_min_mv | mV   | -70     | initial V_s drawn uniformly from         |
// | v_init_max_mv | mV   | -70     |   [v_init_min_mv, v_init_max_mv]         |
//
// State: v_s_mv, v_a_mv, ref_until_ms.
#include <algorithm>
#include <cmath>
#include <span>
#include <string_view>

#include "apical/engine/exp_sum.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::models {

struct two_compartment {
  static constexpr std::string_view name = "two_compartment";
  static constexpr int compartments = 2;
  static constexpr int basal = 0;
  static constexpr int apical = 1;

  struct parameters {
    double tau_s_ms = 20.0;
    double tau_a_ms = 10.0;
    double e_l_mv = -70.0;
    double e_a_mv = -70.0;
    double v_th_mv = -55.0;
    double v_reset_mv = -70.0;
    double t_ref_ms = 2.0;
    double kappa = 0.0;
    double v_init_min_mv = -70.0;
    double v_init_max_mv = -70.0;
  };
  struct derived {
    parameters p;
    double horizon_ms = 0.0;  // predictions search [0, horizon] (see lif_exp)
    double decay_s = 0.0, decay_a = 0.0;
  };
  struct state {
    double v_s_mv = 0.0;
    double v_a_mv = 0.0;
    double ref_until_ms = -inf;
  };

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"tau_s_ms", &parameters::tau_s_ms, "ms", "somatic membrane time constant"},
        {"tau_a_ms", &parameters::tau_a_ms, "ms", "apical time constant"},
        {"e_l_mv", &parameters::e_l_mv, "mV", "somatic resting potential"},
        {"e_a_mv", &parameters::e_a_mv, "mV", "apical resting potential"},
        {"v_th_mv", &parameters::v_th_mv, "mV", "threshold"},
        {"v_reset_mv", &parameters::v_reset_mv, "mV", "reset potential"},
        {"t_ref_ms", &parameters::t_ref_ms, "ms", "refractory period"},
        {"kappa", &parameters::kappa, "1", "apical-to-soma coupling"},
        {"v_init_min_mv", &parameters::v_init_min_mv, "mV", "lower bound of the initial V_s"},
        {"v_init_max_mv", &parameters::v_init_max_mv, "mV", "upper bound of the initial V_s"}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {
        {"v_s_mv", &state::v_s_mv, "mV", "somatic potential"},
        {"v_a_mv", &state::v_a_mv, "mV", "apical potential"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static derived derive(const parameters& p) {
    require_finite<two_compartment>(p);
    require(p.tau_s_ms > 0, name, "tau_s_ms", p.tau_s_ms, "must be > 0");
    require(p.tau_a_ms > 0, name, "tau_a_ms", p.tau_a_ms, "must be > 0");
    require(p.kappa == 0 || p.tau_a_ms != p.tau_s_ms, name, "tau_a_ms", p.tau_a_ms,
            "must differ from tau_s_ms when kappa != 0");
    require_reset_and_start(name, p);
    derived d{p};
    d.horizon_ms = 0.5 * std::min(p.tau_s_ms, p.tau_a_ms);
    d.decay_s = std::exp(-d.horizon_ms / p.tau_s_ms);
    d.decay_a = std::exp(-d.horizon_ms / p.tau_a_ms);
    return d;
  }

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_a_mv = d.p.e_a_mv;
    s.v_s_mv = d.p.v_init_min_mv == d.p.v_init_max_mv
                   ? d.p.v_init_min_mv
                   : r.uniform(d.p.v_init_min_mv, d.p.v_init_max_mv);
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    const auto& p = d.p;
    if (from_ms < s.ref_until_ms) {
      const double until = std::min(to_ms, s.ref_until_ms);
      s.v_a_mv = p.e_a_mv + (s.v_a_mv - p.e_a_mv) * std::exp(-(until - from_ms) / p.tau_a_ms);
      s.v_s_mv = p.v_reset_mv;
      from_ms = until;
    }
    const double dt = to_ms - from_ms;
    if (dt <= 0) return;
    const double x0 = s.v_a_mv - p.e_a_mv;
    s.v_s_mv = p.e_l_mv + (s.v_s_mv - p.e_l_mv) * std::exp(-dt / p.tau_s_ms);
    if (p.kappa != 0) s.v_s_mv += p.kappa * x0 * drive_kernel(p.tau_a_ms, p.tau_s_ms, dt);
    s.v_a_mv = p.e_a_mv + x0 * std::exp(-dt / p.tau_a_ms);
  }

  static void receive(state& s, const derived&, int compartment, double weight, double t_ms) {
    if (compartment == apical) {
      s.v_a_mv += weight;
    } else if (t_ms >= s.ref_until_ms) {
      s.v_s_mv += weight;
    }
  }

  // V_s(t0 + s) - V_th as a sum of exponentials, from the end of any
  // refractoriness (t0).
  static exp_sum trajectory(const state& s, const derived& d, double t_ms, double& t0) {
    const auto& p = d.p;
    state start = s;
    t0 = t_ms;
    if (t_ms < s.ref_until_ms) {
      advance(start, d, t_ms, s.ref_until_ms);
      t0 = s.ref_until_ms;
    }
    exp_sum f;
    const double a =
        p.kappa == 0 ? 0.0
                     : drive_amplitude(p.kappa * (start.v_a_mv - p.e_a_mv), p.tau_a_ms, p.tau_s_ms);
    f.constant = p.e_l_mv - p.v_th_mv;
    f.add(start.v_s_mv - p.e_l_mv - a, p.tau_s_ms);
    f.add(a, p.tau_a_ms);
    return f;
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    double t0;
    const exp_sum f = trajectory(s, d, t_ms, t0);
    return t0 + first_crossing(f);
  }

  // Exact within the horizon, provisional beyond it.
  static spike_prediction predict(const state& s, const derived& d, double t_ms) {
    double t0;
    const exp_sum f = trajectory(s, d, t_ms, t0);
    return predict_within(f, t0, d.horizon_ms,
                          [&d](double tau) { return tau == d.p.tau_s_ms ? d.decay_s : d.decay_a; });
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_s_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

}  // namespace apical::models
