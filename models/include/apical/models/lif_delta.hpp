#pragma once
// lif_delta: leaky integrate-and-fire neuron with delta synapses.
//
//   tau_m dV/dt = E_L - V
//   input of weight w at time t:  V <- V + w      (ignored while refractory)
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref
//
// Between inputs V relaxes exponentially to E_L, so the next threshold
// crossing is known in closed form: if E_L > V_th (a suprathreshold resting
// potential, as in Brette et al. 2007, benchmark 4), the neuron crosses at
//   t* = tau_m ln((E_L - V0) / (E_L - V_th));
// otherwise only an input can make it fire.
//
// | name          | unit | default | meaning                              |
// |---------------|------|---------|--------------------------------------|
// | tau_m_ms      | ms   | 20      | membrane time constant               |
// | e_l_mv        | mV   | -70     | resting (leak reversal) potential    |
// | v_th_mv       | mV   | -55     | threshold                            |
// | v_reset_mv    | mV   | -70     | reset potential                      |
// | t_ref_ms      | ms   | 2       | absolute refractory period           |
// | v_init_min_mv | mV   | -70     | initial V drawn uniformly from       |
// | v_init_max_mv | mV   | -70     |   [v_init_min_mv, v_init_max_mv]     |
//
// State: v_mv (membrane potential), ref_until_ms (end of refractoriness).
// References: Brette et al. (2007) J Comput Neurosci 23:349; Brunel (2000)
// J Comput Neurosci 8:183.
#include <algorithm>
#include <cmath>
#include <span>
#include <string_view>

#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::models {

struct lif_delta {
  static constexpr std::string_view name = "lif_delta";
  static constexpr int compartments = 1;

  struct parameters {
    double tau_m_ms = 20.0;
    double e_l_mv = -70.0;
    double v_th_mv = -55.0;
    double v_reset_mv = -70.0;
    double t_ref_ms = 2.0;
    double v_init_min_mv = -70.0;
    double v_init_max_mv = -70.0;
  };
  struct derived {
    parameters p;
    // Crossings further away than this are reported provisionally: most are
    // moved by later input before they happen (see predict()).
    double horizon_ms = 0.0;
    double decay_h = 0.0;  // exp(-horizon_ms / tau_m_ms)
  };
  struct state {
    double v_mv = 0.0;
    double ref_until_ms = -inf;
  };

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"tau_m_ms", &parameters::tau_m_ms, "ms", "membrane time constant"},
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
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static derived derive(const parameters& p) {
    for (const auto& f : parameter_fields())
      require(std::isfinite(p.*f.member), name, f.name, p.*f.member, "must be finite");
    require(p.tau_m_ms > 0, name, "tau_m_ms", p.tau_m_ms, "must be > 0");
    require(p.t_ref_ms >= 0, name, "t_ref_ms", p.t_ref_ms, "must be >= 0");
    require(p.v_reset_mv < p.v_th_mv, name, "v_reset_mv", p.v_reset_mv,
            "must be below v_th_mv (" + std::to_string(p.v_th_mv) + ")");
    require(p.v_init_min_mv <= p.v_init_max_mv, name, "v_init_min_mv", p.v_init_min_mv,
            "must be <= v_init_max_mv");
    return {p, p.tau_m_ms, std::exp(-1.0)};
  }

  static void init(state& s, const derived& d, rng& r) {
    s.v_mv = d.p.v_init_min_mv == d.p.v_init_max_mv
                 ? d.p.v_init_min_mv
                 : r.uniform(d.p.v_init_min_mv, d.p.v_init_max_mv);
    s.ref_until_ms = -inf;
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    if (to_ms <= s.ref_until_ms) {
      s.v_mv = d.p.v_reset_mv;
      return;
    }
    if (from_ms < s.ref_until_ms) {
      s.v_mv = d.p.v_reset_mv;
      from_ms = s.ref_until_ms;
    }
    s.v_mv = d.p.e_l_mv + (s.v_mv - d.p.e_l_mv) * std::exp(-(to_ms - from_ms) / d.p.tau_m_ms);
  }

  static void receive(state& s, const derived&, int, double weight, double t_ms) {
    if (t_ms < s.ref_until_ms) return;
    s.v_mv += weight;
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    double start = t_ms, v0 = s.v_mv;
    if (t_ms < s.ref_until_ms) start = s.ref_until_ms, v0 = d.p.v_reset_mv;
    if (v0 >= d.p.v_th_mv) return start;
    if (d.p.e_l_mv <= d.p.v_th_mv) return inf;
    return start + d.p.tau_m_ms * std::log((d.p.e_l_mv - v0) / (d.p.e_l_mv - d.p.v_th_mv));
  }

  // Exact within the horizon, provisional beyond it; V at the end of the
  // horizon tells which, so the logarithm is only taken when needed.
  static spike_prediction predict(const state& s, const derived& d, double t_ms) {
    double start = t_ms, v0 = s.v_mv;
    if (t_ms < s.ref_until_ms) start = s.ref_until_ms, v0 = d.p.v_reset_mv;
    if (v0 >= d.p.v_th_mv) return {start, true};
    if (d.p.e_l_mv <= d.p.v_th_mv) return {inf, true};
    if (d.p.e_l_mv + (v0 - d.p.e_l_mv) * d.decay_h < d.p.v_th_mv)
      return {start + d.horizon_ms, false};
    return {start + d.p.tau_m_ms * std::log((d.p.e_l_mv - v0) / (d.p.e_l_mv - d.p.v_th_mv)), true};
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

}  // namespace apical::models
