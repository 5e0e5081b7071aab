#pragma once
// lif_exp: leaky integrate-and-fire neuron with exponential synaptic
// currents, excitatory and inhibitory with their own time constants
// (current-based; the CUBA network of Brette et al. 2007, benchmark 2).
//
//   tau_m dV/dt = E_L - V + I_e + I_i        (currents in mV: R*I)
//   dI_e/dt = -I_e / tau_e,  dI_i/dt = -I_i / tau_i
//   input of weight w:  I_e += w if w > 0, I_i += w if w < 0
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref (currents go on)
//
// Closed form over an input-free interval of length s:
//   V(s) = E_L + (V0 - E_L) e^{-s/tau_m} + sum_x I_x0 k_x(s),
//   k_x(s) = tau_x / (tau_x - tau_m) (e^{-s/tau_x} - e^{-s/tau_m}).
// V(s) - V_th is a sum of three exponentials and a constant, which has no
// closed-form root; the next crossing is found by first_crossing()
// (engine/exp_sum.hpp), which cannot miss one, to 1e-10 ms.
// The synaptic time constants must differ from tau_m (the kernel above
// would need its limit form; use e.g. 4.999 ms instead of 5 ms).
//
// | name          | unit | default | meaning                              |
// |---------------|------|---------|--------------------------------------|
// | tau_m_ms      | ms   | 20      | membrane time constant               |
// | tau_e_ms      | ms   | 5       | excitatory current time constant     |
// | tau_i_ms      | ms   | 10      | inhibitory current time constant     |
// | e_l_mv        | mV   | -70     | resting potential                    |
// | v_th_mv       | mV   | -55     | threshold                            |
// | v_reset_mv    | mV   | -70     | reset potential                      |
// | t_ref_ms      | ms   | 2       | absolute refractory period           |
// | v_init_min_mv | mV   | -70     | initial V drawn uniformly from       |
// | v_init_max_mv | mV   | -70     |   [v_init_min_mv, v_init_max_mv]     |
//
// State: v_mv, i_e_mv, i_i_mv, ref_until_ms.
#include <algorithm>
#include <cmath>
#include <span>
#include <string_view>

#include "apical/engine/exp_sum.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::models {

struct lif_exp {
  static constexpr std::string_view name = "lif_exp";
  static constexpr int compartments = 1;

  struct parameters {
    double tau_m_ms = 20.0;
    double tau_e_ms = 5.0;
    double tau_i_ms = 10.0;
    double e_l_mv = -70.0;
    double v_th_mv = -55.0;
    double v_reset_mv = -70.0;
    double t_ref_ms = 2.0;
    double v_init_min_mv = -70.0;
    double v_init_max_mv = -70.0;
  };
  struct derived {
    parameters p;
    // Predictions search [0, horizon] only (then re-examine): the decay of
    // each time constant over the horizon bounds the trajectory cheaply.
    double horizon_ms = 0.0;
    double decay_m = 0.0, decay_e = 0.0, decay_i = 0.0;
    // Synaptic time constants within 0.1 % of tau_m: their kernel needs the
    // cancellation-free form (see drive_kernel).
    bool close_e = false, close_i = false;
  };
  struct state {
    double v_mv = 0.0;
    double i_e_mv = 0.0;
    double i_i_mv = 0.0;
    double ref_until_ms = -inf;
  };

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"tau_m_ms", &parameters::tau_m_ms, "ms", "membrane time constant"},
        {"tau_e_ms", &parameters::tau_e_ms, "ms", "excitatory current time constant"},
        {"tau_i_ms", &parameters::tau_i_ms, "ms", "inhibitory current time constant"},
        {"e_l_mv", &parameters::e_l_mv, "mV", "resting potential"},
        {"v_th_mv", &parameters::v_th_mv, "mV", "threshold"},
        {"v_reset_mv", &parameters::v_reset_mv, "mV", "reset potential"},
        {"t_ref_ms", &parameters::t_ref_ms, "ms", "refractory period"},
        {"v_init_min_mv", &parameters::v_init_min_mv, "mV", "lower bound of the initial V"},
        {"v_init_max_mv", &parameters::v_init_max_mv, "mV", "upper bound of the initial V"}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {
        {"v_mv", &state::v_mv, "mV", "membrane potential"},
        {"i_e_mv", &state::i_e_mv, "mV", "excitatory current (R*I)"},
        {"i_i_mv", &state::i_i_mv, "mV", "inhibitory current (R*I)"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static derived derive(const parameters& p) {
    for (const auto& f : parameter_fields())
      require(std::isfinite(p.*f.member), name, f.name, p.*f.member, "must be finite");
    require(p.tau_m_ms > 0, name, "tau_m_ms", p.tau_m_ms, "must be > 0");
    require(p.tau_e_ms > 0, name, "tau_e_ms", p.tau_e_ms, "must be > 0");
    require(p.tau_i_ms > 0, name, "tau_i_ms", p.tau_i_ms, "must be > 0");
    require(p.tau_e_ms != p.tau_m_ms, name, "tau_e_ms", p.tau_e_ms, "must differ from tau_m_ms");
    require(p.tau_i_ms != p.tau_m_ms, name, "tau_i_ms", p.tau_i_ms, "must differ from tau_m_ms");
    require(p.t_ref_ms >= 0, name, "t_ref_ms", p.t_ref_ms, "must be >= 0");
    require(p.v_reset_mv < p.v_th_mv, name, "v_reset_mv", p.v_reset_mv,
            "must be below v_th_mv (" + std::to_string(p.v_th_mv) + ")");
    require(p.v_init_min_mv <= p.v_init_max_mv, name, "v_init_min_mv", p.v_init_min_mv,
            "must be <= v_init_max_mv");
    derived d{p};
    d.horizon_ms = 0.5 * std::min({p.tau_m_ms, p.tau_e_ms, p.tau_i_ms});
    d.decay_m = std::exp(-d.horizon_ms / p.tau_m_ms);
    d.decay_e = std::exp(-d.horizon_ms / p.tau_e_ms);
    d.decay_i = std::exp(-d.horizon_ms / p.tau_i_ms);
    d.close_e = std::abs(p.tau_e_ms - p.tau_m_ms) < 1e-3 * p.tau_m_ms;
    d.close_i = std::abs(p.tau_i_ms - p.tau_m_ms) < 1e-3 * p.tau_m_ms;
    return d;
  }

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_mv = d.p.v_init_min_mv == d.p.v_init_max_mv
                 ? d.p.v_init_min_mv
                 : r.uniform(d.p.v_init_min_mv, d.p.v_init_max_mv);
  }

  // Free (non-refractory) evolution of V over dt; currents at their start values.
  // Free (non-refractory) evolution over dt, from three exponentials.
  static void free_evolution(state& s, const derived& d, double dt) {
    const auto& p = d.p;
    const double e_m = std::exp(-dt / p.tau_m_ms);
    const double e_e = std::exp(-dt / p.tau_e_ms);
    const double e_i = std::exp(-dt / p.tau_i_ms);
    s.v_mv = p.e_l_mv + (s.v_mv - p.e_l_mv) * e_m +
             s.i_e_mv * drive_kernel(e_e, e_m, d.close_e, p.tau_e_ms, p.tau_m_ms, dt) +
             s.i_i_mv * drive_kernel(e_i, e_m, d.close_i, p.tau_i_ms, p.tau_m_ms, dt);
    s.i_e_mv *= e_e;
    s.i_i_mv *= e_i;
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    const auto& p = d.p;
    if (from_ms < s.ref_until_ms) {
      // Clamped until the end of refractoriness (or to_ms); currents decay.
      const double until = std::min(to_ms, s.ref_until_ms);
      s.i_e_mv *= std::exp(-(until - from_ms) / p.tau_e_ms);
      s.i_i_mv *= std::exp(-(until - from_ms) / p.tau_i_ms);
      s.v_mv = p.v_reset_mv;
      from_ms = until;
    }
    const double dt = to_ms - from_ms;
    if (dt <= 0) return;
    free_evolution(s, d, dt);
  }

  static void receive(state& s, const derived&, int, double weight, double) {
    (weight >= 0 ? s.i_e_mv : s.i_i_mv) += weight;
  }

  // V(t0 + s) - V_th as a sum of exponentials, from the end of any
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
    const double a_e = drive_amplitude(start.i_e_mv, p.tau_e_ms, p.tau_m_ms);
    const double a_i = drive_amplitude(start.i_i_mv, p.tau_i_ms, p.tau_m_ms);
    f.constant = p.e_l_mv - p.v_th_mv;
    f.add(start.v_mv - p.e_l_mv - a_e - a_i, p.tau_m_ms);
    f.add(a_e, p.tau_e_ms);
    f.add(a_i, p.tau_i_ms);
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
    return predict_within(f, t0, d.horizon_ms, [&d](double tau) {
      return tau == d.p.tau_m_ms ? d.decay_m : tau == d.p.tau_e_ms ? d.decay_e : d.decay_i;
    });
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

}  // namespace apical::models
