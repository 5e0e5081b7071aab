#pragma once
// lif_curr_alpha: leaky integrate-and-fire neuron with alpha-shaped
// synaptic currents, excitatory and inhibitory with their own time
// constants (current-based; PyNN's IF_curr_alpha, NEST's iaf_psc_alpha).
//
//   tau_m dV/dt = E_L - V + I_e + I_i        (currents in mV: R*I)
//   an input of weight w at t0 adds to I_e (w >= 0) or I_i (w < 0)
//       w (t - t0)/tau_x e^{1 - (t - t0)/tau_x},
//   which rises from 0, peaks at w after tau_x and decays (a weight is the
//   peak current, NEST's and PyNN's normalisation). Per receptor x, two
//   linear equations give it, and are the state:
//       tau_x dy_x/dt = -y_x,   tau_x dI_x/dt = -I_x + y_x,
//       input:  y_x <- y_x + e w.
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref (currents go on)
//
// Closed form over an input-free interval of length s, with
// kappa_x = 1/tau_m - 1/tau_x:
//   y_x(s) = y_x0 e^{-s/tau_x},   I_x(s) = (I_x0 + y_x0 s/tau_x) e^{-s/tau_x},
//   V(s) = E_L + a_m e^{-s/tau_m} + sum_x (b_x + c_x s) e^{-s/tau_x},
//   c_x = y_x0 / (tau_x tau_m kappa_x),
//   b_x = I_x0 / (tau_m kappa_x) - c_x / kappa_x,
//   a_m = V0 - E_L - b_e - b_i.
// A synaptic time constant equal to tau_m would need the limit form
// (s^2 e^{-s/tau_m}); one within 0.1 % of tau_m is rejected, since b_x and
// c_x / kappa_x would cancel (use e.g. 20.1 ms instead of 20 ms).
//
// Finding the next spike. V(s) - V_th holds s e^{-s/tau_x}, not an
// exponential, so it is searched as an alpha_sum (below): intervals of
// [0, horizon] are discarded only when a rigorous upper bound of V - V_th
// on them is negative, so no crossing is missed, however brief, unless it
// lasts less than the 1e-10 ms tolerance. The first crossing is bisected
// to 1e-10 ms once V - V_th is provably increasing around it. Exactness: the
// spike time is the first time the double-precision closed form reaches
// V_th, to 1e-10 ms; the bounds use round-to-nearest arithmetic (no
// directed rounding), so a peak within about 1e-14 mV of V_th may go either
// way (the tests: grazes by 1e-9 mV fire, or not, as a written-out
// reference says). Predictions search [0, horizon] with the horizon 4
// times the longer synaptic time constant, and are provisional beyond it
// unless a bound shows V stays below threshold for ever.
//
// | name          | unit | default | meaning                              |
// |---------------|------|---------|--------------------------------------|
// | tau_m_ms      | ms   | 20      | membrane time constant               |
// | tau_e_ms      | ms   | 0.5     | rise time of an excitatory current   |
// | tau_i_ms      | ms   | 0.5     | rise time of an inhibitory current   |
// | e_l_mv        | mV   | -65     | resting potential (with R*i_offset)  |
// | v_th_mv       | mV   | -50     | threshold                            |
// | v_reset_mv    | mV   | -65     | reset potential                      |
// | t_ref_ms      | ms   | 0.1     | absolute refractory period           |
// | v_init_min_mv | mV   | -65     | initial V drawn uniformly from       |
// | v_init_max_mv | mV   | -65     |   [v_init_min_mv, v_init_max_mv]     |
//
// State: v_mv, i_e_mv, y_e_mv, i_i_mv, y_i_mv, ref_until_ms.
// The name says "curr" because the plugin example examples/models/lif_alpha
// (one time constant) registers "lif_alpha".
// References: Rotter & Diesmann (1999) Biol Cybern 81:381 (exact
// integration of the alpha current); PyNN 0.10 standard cell IF_curr_alpha.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <string_view>

#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::models {

// f(s) = constant + sum_k (a_k + c_k s) e^{-s/tau_k},  s >= 0.
struct alpha_sum {
  static constexpr std::size_t max_terms = 3;
  double constant = 0.0;
  std::array<double, max_terms> a{}, c{}, tau_ms{};
  std::size_t terms = 0;

  void add(double a_k, double c_k, double tau) {
    a[terms] = a_k;
    c[terms] = c_k;
    tau_ms[terms] = tau;
    ++terms;
  }
  double operator()(double s) const {
    double f = constant;
    for (std::size_t k = 0; k < terms; ++k) f += (a[k] + c[k] * s) * std::exp(-s / tau_ms[k]);
    return f;
  }
  // f'(s) has the same form: (c - a/tau - c s/tau) e^{-s/tau}.
  alpha_sum derivative() const {
    alpha_sum d;
    for (std::size_t k = 0; k < terms; ++k)
      d.add(c[k] - a[k] / tau_ms[k], -c[k] / tau_ms[k], tau_ms[k]);
    return d;
  }
  // A rigorous upper bound of f on [lo, hi] (hi may be +infinity): each
  // part at its largest there. e^{-s/tau} is decreasing; s e^{-s/tau} rises
  // to its peak at s = tau and then falls, so its largest value on the
  // interval is at tau clamped into it, its smallest at an end.
  double upper_bound(double lo, double hi) const {
    double f = constant;
    for (std::size_t k = 0; k < terms; ++k) {
      const double tau = tau_ms[k];
      const auto ramp = [tau](double s) { return s < inf ? s * std::exp(-s / tau) : 0.0; };
      f += a[k] * std::exp(-(a[k] > 0 ? lo : hi) / tau);
      if (c[k] > 0) f += c[k] * ramp(std::clamp(tau, lo, hi));
      if (c[k] < 0) f += c[k] * std::min(ramp(lo), ramp(hi));
    }
    return f;
  }
  double lower_bound(double lo, double hi) const {
    alpha_sum negated = *this;
    negated.constant = -constant;
    for (std::size_t k = 0; k < terms; ++k) {
      negated.a[k] = -a[k];
      negated.c[k] = -c[k];
    }
    return -negated.upper_bound(lo, hi);
  }
};

// The smallest s in [0, max_s] with f(s) >= 0, to within tolerance_ms (f
// is >= 0 at the returned s), or +infinity when there is none. Depth first,
// leftmost interval first; an interval is dropped only when its upper bound
// is negative (or it is narrower than the tolerance and f < 0 at its end).
// A point found with f >= 0 is kept as the answer should rounding make the
// bound of the interval left of it negative after all.
inline double first_crossing_within(const alpha_sum& f, double max_s, double tolerance_ms = 1e-10) {
  if (f(0.0) >= 0) return 0.0;
  struct interval {
    double lo, hi;  // f(lo) < 0
  };
  // The width halves a level, so the depth is below log2(max_s /
  // tolerance) + 1 < 128 for any horizon used here; two entries a level.
  std::array<interval, 256> stack;
  std::size_t top = 0;
  stack[top++] = {0.0, max_s};
  const alpha_sum slope = f.derivative();
  double seen = inf;  // the earliest s found with f(s) >= 0
  while (top > 0) {
    const interval iv = stack[--top];
    if (f.upper_bound(iv.lo, iv.hi) < 0) continue;
    const double f_hi = f(iv.hi);
    if (f_hi >= 0) seen = std::min(seen, iv.hi);
    if (f_hi >= 0 && slope.lower_bound(iv.lo, iv.hi) > 0) {
      // Increasing, f(lo) < 0 <= f(hi): the only root here; bisect it.
      double lo = iv.lo, hi = iv.hi;
      while (hi - lo > tolerance_ms) {
        const double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi) break;
        (f(mid) >= 0 ? hi : lo) = mid;
      }
      return hi;
    }
    if (iv.hi - iv.lo <= tolerance_ms || top + 2 > stack.size()) {
      if (f_hi >= 0) return iv.hi;
      continue;
    }
    const double mid = 0.5 * (iv.lo + iv.hi);
    if (f(mid) >= 0) {
      seen = std::min(seen, mid);
      stack[top++] = {iv.lo, mid};  // the first crossing lies in (lo, mid]
      continue;
    }
    stack[top++] = {mid, iv.hi};  // looked at after the left half
    stack[top++] = {iv.lo, mid};
  }
  return seen;
}

struct lif_curr_alpha {
  static constexpr std::string_view name = "lif_curr_alpha";
  static constexpr int compartments = 1;
  // The search horizon in units of the longer synaptic time constant.
  static constexpr double horizon_factor = 4.0;
  // Synaptic time constants this close to tau_m (relative) are rejected.
  static constexpr double min_relative_gap = 1e-3;

  struct parameters {
    double tau_m_ms = 20.0;
    double tau_e_ms = 0.5;
    double tau_i_ms = 0.5;
    double e_l_mv = -65.0;
    double v_th_mv = -50.0;
    double v_reset_mv = -65.0;
    double t_ref_ms = 0.1;
    double v_init_min_mv = -65.0;
    double v_init_max_mv = -65.0;
  };
  // What one time constant contributes to the bounds over the horizon H:
  // e^{-H/tau}, and the largest s e^{-s/tau} on [0, H] and on [H, inf).
  struct decay_bounds {
    double decay = 0.0, ramp_within = 0.0, ramp_after = 0.0;
  };
  struct derived {
    parameters p;
    double horizon_ms = 0.0;
    // 1 / (tau_m kappa_x) and 1 / (tau_x tau_m kappa_x): the trajectory's
    // coefficients per unit I_x0 and y_x0; 1 / kappa_x.
    double gain_e = 0.0, gain_i = 0.0, ramp_gain_e = 0.0, ramp_gain_i = 0.0;
    double inv_kappa_e = 0.0, inv_kappa_i = 0.0;
    bool same_tau = false;  // tau_e == tau_i: one synaptic term
    decay_bounds m{}, e{}, i{};
  };
  struct state {
    double v_mv = 0.0;
    double i_e_mv = 0.0;
    double y_e_mv = 0.0;
    double i_i_mv = 0.0;
    double y_i_mv = 0.0;
    double ref_until_ms = -inf;
  };

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"tau_m_ms", &parameters::tau_m_ms, "ms", "membrane time constant"},
        {"tau_e_ms", &parameters::tau_e_ms, "ms", "rise time of an excitatory current"},
        {"tau_i_ms", &parameters::tau_i_ms, "ms", "rise time of an inhibitory current"},
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
        {"y_e_mv", &state::y_e_mv, "mV", "rising-phase variable of the excitatory current"},
        {"i_i_mv", &state::i_i_mv, "mV", "inhibitory current (R*I)"},
        {"y_i_mv", &state::y_i_mv, "mV", "rising-phase variable of the inhibitory current"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static decay_bounds bounds_over(double tau_ms, double horizon_ms) {
    const auto ramp = [tau_ms](double s) { return s * std::exp(-s / tau_ms); };
    return {std::exp(-horizon_ms / tau_ms), ramp(std::min(tau_ms, horizon_ms)),
            ramp(std::max(tau_ms, horizon_ms))};
  }

  static derived derive(const parameters& p) {
    require_finite<lif_curr_alpha>(p);
    require(p.tau_m_ms > 0, name, "tau_m_ms", p.tau_m_ms, "must be > 0");
    require(p.tau_e_ms > 0, name, "tau_e_ms", p.tau_e_ms, "must be > 0");
    require(p.tau_i_ms > 0, name, "tau_i_ms", p.tau_i_ms, "must be > 0");
    const double gap = min_relative_gap * p.tau_m_ms;
    require(std::abs(p.tau_e_ms - p.tau_m_ms) >= gap, name, "tau_e_ms", p.tau_e_ms,
            "must differ from tau_m_ms by 0.1 % or more");
    require(std::abs(p.tau_i_ms - p.tau_m_ms) >= gap, name, "tau_i_ms", p.tau_i_ms,
            "must differ from tau_m_ms by 0.1 % or more");
    require_reset_and_start(name, p);
    derived d{p};
    d.horizon_ms = horizon_factor * std::max(p.tau_e_ms, p.tau_i_ms);
    const double kappa_e = 1.0 / p.tau_m_ms - 1.0 / p.tau_e_ms;
    const double kappa_i = 1.0 / p.tau_m_ms - 1.0 / p.tau_i_ms;
    d.inv_kappa_e = 1.0 / kappa_e;
    d.inv_kappa_i = 1.0 / kappa_i;
    d.gain_e = 1.0 / (p.tau_m_ms * kappa_e);
    d.gain_i = 1.0 / (p.tau_m_ms * kappa_i);
    d.ramp_gain_e = d.gain_e / p.tau_e_ms;
    d.ramp_gain_i = d.gain_i / p.tau_i_ms;
    d.same_tau = p.tau_e_ms == p.tau_i_ms;
    d.m = bounds_over(p.tau_m_ms, d.horizon_ms);
    d.e = bounds_over(p.tau_e_ms, d.horizon_ms);
    d.i = bounds_over(p.tau_i_ms, d.horizon_ms);
    return d;
  }

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_mv = initial_v(d.p, r);
  }

  // The trajectory's coefficients for a free state: V(s) = E_L + a_m
  // e^{-s/tau_m} + sum_x (b_x + c_x s) e^{-s/tau_x}.
  struct coefficients {
    double a_m, b_e, c_e, b_i, c_i;
  };
  static coefficients coefficients_of(const state& s, const derived& d) {
    coefficients k{};
    k.c_e = s.y_e_mv * d.ramp_gain_e;
    k.b_e = s.i_e_mv * d.gain_e - k.c_e * d.inv_kappa_e;
    k.c_i = s.y_i_mv * d.ramp_gain_i;
    k.b_i = s.i_i_mv * d.gain_i - k.c_i * d.inv_kappa_i;
    k.a_m = s.v_mv - d.p.e_l_mv - k.b_e - k.b_i;
    return k;
  }

  // The currents over dt (y_x decays; I_x follows it).
  static void decay_currents(state& s, const derived& d, double dt, double e_e, double e_i) {
    s.i_e_mv = (s.i_e_mv + s.y_e_mv * (dt / d.p.tau_e_ms)) * e_e;
    s.y_e_mv *= e_e;
    s.i_i_mv = (s.i_i_mv + s.y_i_mv * (dt / d.p.tau_i_ms)) * e_i;
    s.y_i_mv *= e_i;
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    const auto& p = d.p;
    if (from_ms < s.ref_until_ms) {
      // Clamped until the end of refractoriness (or to_ms); currents go on.
      const double until = std::min(to_ms, s.ref_until_ms);
      const double dt = until - from_ms;
      const double e_e = std::exp(-dt / p.tau_e_ms);
      decay_currents(s, d, dt, e_e, d.same_tau ? e_e : std::exp(-dt / p.tau_i_ms));
      s.v_mv = p.v_reset_mv;
      from_ms = until;
    }
    const double dt = to_ms - from_ms;
    if (dt <= 0) return;
    const coefficients k = coefficients_of(s, d);
    const double e_m = std::exp(-dt / p.tau_m_ms);
    const double e_e = std::exp(-dt / p.tau_e_ms);
    const double e_i = d.same_tau ? e_e : std::exp(-dt / p.tau_i_ms);
    s.v_mv = p.e_l_mv + k.a_m * e_m + (k.b_e + k.c_e * dt) * e_e + (k.b_i + k.c_i * dt) * e_i;
    decay_currents(s, d, dt, e_e, e_i);
  }

  static void receive(state& s, const derived&, int, double weight, double) {
    (weight >= 0 ? s.y_e_mv : s.y_i_mv) += std::numbers::e * weight;
  }

  // V(s) - V_th from a free state.
  static alpha_sum trajectory(const state& s, const derived& d) {
    const coefficients k = coefficients_of(s, d);
    alpha_sum f;
    f.constant = d.p.e_l_mv - d.p.v_th_mv;
    f.add(k.a_m, 0.0, d.p.tau_m_ms);
    if (d.same_tau) {
      f.add(k.b_e + k.b_i, k.c_e + k.c_i, d.p.tau_e_ms);
    } else {
      f.add(k.b_e, k.c_e, d.p.tau_e_ms);
      f.add(k.b_i, k.c_i, d.p.tau_i_ms);
    }
    return f;
  }

  // Upper bounds of f = trajectory() on [0, H] and on [H, inf), from the
  // precomputed decay_bounds (term k of f has the time constant of
  // bounds[k]): without an exponential.
  struct horizon_bounds {
    double within, after;
  };
  static horizon_bounds bounds_of(const alpha_sum& f, const derived& d) {
    const std::array<const decay_bounds*, 3> b = {&d.m, &d.e, d.same_tau ? &d.e : &d.i};
    horizon_bounds h{f.constant, f.constant};
    for (std::size_t k = 0; k < f.terms; ++k) {
      const double a = f.a[k], c = f.c[k];
      h.within += a > 0 ? a : a * b[k]->decay;
      h.after += a > 0 ? a * b[k]->decay : 0.0;
      if (c > 0) {
        h.within += c * b[k]->ramp_within;
        h.after += c * b[k]->ramp_after;
      }
    }
    return h;
  }

  // Exact within the horizon; beyond it, never (certain) when the bound
  // after the horizon is negative (or zero with E_L = V_th: the threshold
  // is then reached only in the limit), else provisional.
  static spike_prediction predict(const state& s, const derived& d, double t_ms) {
    if (t_ms < s.ref_until_ms) {
      state start = s;
      advance(start, d, t_ms, s.ref_until_ms);
      return predict(start, d, s.ref_until_ms);
    }
    const alpha_sum f = trajectory(s, d);
    const horizon_bounds h = bounds_of(f, d);
    const bool never_after = h.after < 0 || (h.after == 0 && f.constant == 0);
    if (h.within >= 0) {
      const double x = first_crossing_within(f, d.horizon_ms);
      if (x < inf) return {t_ms + x, true};
    }
    return never_after ? spike_prediction{inf, true} : spike_prediction{t_ms + d.horizon_ms, false};
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    return chained_next_spike<lif_curr_alpha>(s, d, t_ms);
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

}  // namespace apical::models
