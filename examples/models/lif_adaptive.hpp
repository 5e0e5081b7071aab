#pragma once
// lif_adaptive: leaky integrate-and-fire neuron with spike-frequency
// adaptation (an example of a user-defined model; docs/custom-models.md).
//
//   tau_m dV/dt = E_L - V + I_e - w         (currents in mV: R*I)
//   tau_w dw/dt = -w
//   input of weight w_in:  V <- V + w_in     (ignored while refractory)
//   V >= V_th:  spike, V <- V_reset, w <- w + b, V clamped for t_ref
//               (w decays on during the refractory period)
//
// Each spike adds b to the adaptation current w, which then decays with
// tau_w and lowers the drive of V: under a constant drive the interspike
// intervals lengthen towards a steady state.
//
// Closed form over an input-free interval of length s, with V_inf = E_L + I_e:
//   w(s) = w0 e^{-s/tau_w}
//   V(s) = V_inf + (V0 - V_inf) e^{-s/tau_m} - w0 k(s),
//   k(s) = tau_w / (tau_w - tau_m) (e^{-s/tau_w} - e^{-s/tau_m}).
// V(s) - V_th is a constant plus two exponentials, which can rise and fall
// back (w decays faster than V when tau_w < tau_m); its first root is found
// by the engine's first_crossing() (apical/engine/exp_sum.hpp), which
// cannot miss a crossing, to 1e-10 ms. tau_w must differ from tau_m (the
// kernel would need its limit form; use e.g. 20.001 ms instead of 20 ms).
//
// | name          | unit | default | meaning                              |
// |---------------|------|---------|--------------------------------------|
// | tau_m_ms      | ms   | 20      | membrane time constant               |
// | tau_w_ms      | ms   | 100     | adaptation time constant             |
// | b_mv          | mV   | 1       | adaptation increment per spike (R*b) |
// | i_e_mv        | mV   | 0       | constant input current (R*I_e)       |
// | e_l_mv        | mV   | -70     | resting potential                    |
// | v_th_mv       | mV   | -55     | threshold                            |
// | v_reset_mv    | mV   | -70     | reset potential                      |
// | t_ref_ms      | ms   | 2       | absolute refractory period           |
// | v_init_min_mv | mV   | -70     | initial V drawn uniformly from       |
// | v_init_max_mv | mV   | -70     |   [v_init_min_mv, v_init_max_mv]     |
//
// State: v_mv, w_mv (adaptation current, R*w), ref_until_ms.
// The parameters of lif_delta are a subset, so a population can switch
// from lif_delta to lif_adaptive without changing its other settings.
// Reference: Benda & Herz (2003) Neural Comput 15:2523 (adaptation
// currents); Brette & Gerstner (2005) J Neurophysiol 94:3637 (the
// spike-triggered increment b).
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "apical/engine/error.hpp"
#include "apical/engine/exp_sum.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/engine/random.hpp"

namespace apical::examples {

struct lif_adaptive {
  static constexpr std::string_view name = "lif_adaptive";
  static constexpr int compartments = 1;
  static constexpr double inf = std::numeric_limits<double>::infinity();

  struct parameters {
    double tau_m_ms = 20.0;
    double tau_w_ms = 100.0;
    double b_mv = 1.0;
    double i_e_mv = 0.0;
    double e_l_mv = -70.0;
    double v_th_mv = -55.0;
    double v_reset_mv = -70.0;
    double t_ref_ms = 2.0;
    double v_init_min_mv = -70.0;
    double v_init_max_mv = -70.0;
  };
  struct derived {
    parameters p;
    double v_inf_mv;  // E_L + I_e: where V relaxes to without adaptation
  };
  struct state {
    double v_mv = 0.0;
    double w_mv = 0.0;
    double ref_until_ms = -inf;
  };

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"tau_m_ms", &parameters::tau_m_ms, "ms", "membrane time constant"},
        {"tau_w_ms", &parameters::tau_w_ms, "ms", "adaptation time constant"},
        {"b_mv", &parameters::b_mv, "mV", "adaptation increment per spike"},
        {"i_e_mv", &parameters::i_e_mv, "mV", "constant input current (R*I_e)"},
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
        {"w_mv", &state::w_mv, "mV", "adaptation current (R*w)"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static void require(bool ok, std::string_view field, double value, std::string_view expected) {
    if (!ok)
      throw parameter_error(std::string(name) + ": parameter '" + std::string(field) + "' " +
                            std::string(expected) + ", got " + std::to_string(value));
  }

  static derived derive(const parameters& p) {
    for (const auto& f : parameter_fields())
      require(std::isfinite(p.*f.member), f.name, p.*f.member, "must be finite");
    require(p.tau_m_ms > 0, "tau_m_ms", p.tau_m_ms, "must be > 0");
    require(p.tau_w_ms > 0, "tau_w_ms", p.tau_w_ms, "must be > 0");
    require(p.tau_w_ms != p.tau_m_ms, "tau_w_ms", p.tau_w_ms, "must differ from tau_m_ms");
    require(p.t_ref_ms >= 0, "t_ref_ms", p.t_ref_ms, "must be >= 0");
    require(p.v_reset_mv < p.v_th_mv, "v_reset_mv", p.v_reset_mv,
            "must be below v_th_mv (" + std::to_string(p.v_th_mv) + ")");
    require(p.v_init_min_mv <= p.v_init_max_mv, "v_init_min_mv", p.v_init_min_mv,
            "must be <= v_init_max_mv");
    return {p, p.e_l_mv + p.i_e_mv};
  }

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_mv = d.p.v_init_min_mv == d.p.v_init_max_mv
                 ? d.p.v_init_min_mv
                 : r.uniform(d.p.v_init_min_mv, d.p.v_init_max_mv);
  }

  // The coefficient of e^{-s/tau_w} in V(s) contributed by w0 (the kernel
  // k(s) above, split into its two exponentials).
  static double w_amplitude(double w0_mv, const parameters& p) {
    return -w0_mv * p.tau_w_ms / (p.tau_w_ms - p.tau_m_ms);
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    const auto& p = d.p;
    if (from_ms < s.ref_until_ms) {
      const double until = std::min(to_ms, s.ref_until_ms);
      s.w_mv *= std::exp(-(until - from_ms) / p.tau_w_ms);
      s.v_mv = p.v_reset_mv;
      from_ms = until;
    }
    const double dt = to_ms - from_ms;
    if (dt <= 0) return;
    const double e_m = std::exp(-dt / p.tau_m_ms);
    const double e_w = std::exp(-dt / p.tau_w_ms);
    // expm1 keeps k(s) accurate when tau_w is close to tau_m.
    const double k = p.tau_w_ms / (p.tau_w_ms - p.tau_m_ms) * e_m *
                     std::expm1(dt / p.tau_m_ms - dt / p.tau_w_ms);
    s.v_mv = d.v_inf_mv + (s.v_mv - d.v_inf_mv) * e_m - s.w_mv * k;
    s.w_mv *= e_w;
  }

  static void receive(state& s, const derived&, int, double weight, double t_ms) {
    if (t_ms < s.ref_until_ms) return;
    s.v_mv += weight;
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    const auto& p = d.p;
    state start = s;
    double t0 = t_ms;
    if (t_ms < s.ref_until_ms) {
      advance(start, d, t_ms, s.ref_until_ms);
      t0 = s.ref_until_ms;
    }
    // V(t0 + s) - V_th = c + a_m e^{-s/tau_m} + a_w e^{-s/tau_w}
    const double a_w = w_amplitude(start.w_mv, p);
    exp_sum f;
    f.constant = d.v_inf_mv - p.v_th_mv;
    f.add(start.v_mv - d.v_inf_mv - a_w, p.tau_m_ms);
    f.add(a_w, p.tau_w_ms);
    return t0 + first_crossing(f);
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.w_mv += d.p.b_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

static_assert(neuron_model<lif_adaptive>);

}  // namespace apical::examples
