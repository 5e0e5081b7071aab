#pragma once
// lif_cond_alpha: leaky integrate-and-fire neuron with alpha-shaped
// excitatory and inhibitory conductances (PyNN's IF_cond_alpha, NEST's
// iaf_cond_alpha).
//
//   C dV/dt = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V) + I_offset
//   an input of weight w (nS) at t0 adds to g_e (w >= 0) or g_i (|w|)
//       |w| (t - t0)/tau_x e^{1 - (t - t0)/tau_x}   (peak |w| after tau_x),
//   as two linear equations per receptor, which are the state:
//       tau_x dy_x/dt = -y_x,   tau_x dg_x/dt = -g_x + y_x,   y_x <- y_x + e |w|.
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref (conductances go on)
//
// The parameters, their units and the treatment of I_offset are
// lif_cond_exp's (its header); only the conductances' shape differs:
//   g_x(s) = (g_x0 + y_x0 s/tau_x) e^{-s/tau_x}.
// As there, y = V - E_rest obeys a linear equation whose coefficients are
// these conductances, with no closed form; it is summed as its Taylor
// series (lif_cond_exp::series), whose coefficients follow by the same
// recurrence from the series of k_x(s) = g_x(s)/C:
//   k_x,j = K_x (-1/tau_x)^j / j! + Z_x (-1/tau_x)^{j-1} / (j-1)!,
//   K_x = g_x0 / C,  Z_x = y_x0 / (tau_x C),
// one series step spanning at most 1 / (1/tau_m + the conductances' peaks
// / C + the fastest decay), summed until two consecutive terms fall below
// 2^-53 of the potentials' scale.
//
// The threshold search is lif_cond_exp's comparison bound
// (lif_cond_exp::sup_bound) with the range each conductance takes on an
// interval: g_x rises to its peak at s* = tau_x (1 - g_x0/y_x0) and then
// falls, so on [a, b] its largest value is at s* clamped into [a, b] and its
// smallest at an end. An interval is discarded only when the bound stays
// below threshold, so no crossing is missed (an interval narrower than
// 1e-10 ms whose bound reaches the threshold counts as a crossing); once V
// provably rises through the threshold on an interval the crossing is
// bisected to 1e-10 ms. Exactness as lif_cond_exp: rigorous for the summed
// series up to its own rounding; the series' truncation is a stopping rule
// (the tests compare with long-double Runge-Kutta solutions to 1e-10 mV and
// spike times to 1e-8 ms, and with scipy's DOP853 in bench/pynn_alpha_cell.py).
//
// State: v_mv, g_e_ns, y_e_ns, g_i_ns, y_i_ns, ref_until_ms.
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <span>
#include <string_view>

#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"
#include "apical/models/lif_cond_exp.hpp"

namespace apical::models {

struct lif_cond_alpha {
  static constexpr std::string_view name = "lif_cond_alpha";
  static constexpr int compartments = 1;
  static constexpr std::array<double, 3> lookahead_factors = lif_cond_exp::lookahead_factors;
  static constexpr double tolerance_ms = lif_cond_exp::tolerance_ms;

  using parameters = lif_cond_exp::parameters;
  struct derived {
    parameters p;
    // E_rest, the reversal potentials and threshold relative to it, the
    // rates: what lif_cond_exp's series and bound read.
    lif_cond_exp::derived base;
  };
  struct state {
    double v_mv = 0.0;
    double g_e_ns = 0.0;
    double y_e_ns = 0.0;
    double g_i_ns = 0.0;
    double y_i_ns = 0.0;
    double ref_until_ms = -inf;
  };

  static std::span<const field<parameters>> parameter_fields() {
    return lif_cond_exp::parameter_fields();
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {
        {"v_mv", &state::v_mv, "mV", "membrane potential"},
        {"g_e_ns", &state::g_e_ns, "nS", "excitatory conductance"},
        {"y_e_ns", &state::y_e_ns, "nS", "rising-phase variable of the excitatory conductance"},
        {"g_i_ns", &state::g_i_ns, "nS", "inhibitory conductance"},
        {"y_i_ns", &state::y_i_ns, "nS", "rising-phase variable of the inhibitory conductance"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static derived derive(const parameters& p) {
    require_finite<lif_cond_alpha>(p);
    for (const auto& [value, field] : {std::pair{p.tau_m_ms, "tau_m_ms"},
                                       {p.c_m_pf, "c_m_pf"},
                                       {p.tau_e_ms, "tau_e_ms"},
                                       {p.tau_i_ms, "tau_i_ms"}})
      require(value > 0, name, field, value, "must be > 0");
    require_reset_and_start(name, p);
    return {p, lif_cond_exp::derive(p)};
  }

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_mv = initial_v(d.p, r);
  }

  // One conductance over C from a state: k(s) = (K + Z s) e^{-s/tau} (1/ms).
  struct kernel {
    double k0, slope, tau;  // K, Z (1/ms^2), tau_x
    double at(double s) const { return (k0 + slope * s) * std::exp(-s / tau); }
    // The time of the peak (clamped to >= 0).
    double peak_time() const { return slope > 0 ? std::max(0.0, tau - k0 / slope) : 0.0; }
    double most(double a, double b) const { return at(std::clamp(peak_time(), a, b)); }
    double least(double a, double b) const { return std::min(at(a), b < inf ? at(b) : 0.0); }
  };
  static kernel excitatory(const state& s, const derived& d) {
    return {s.g_e_ns * d.base.per_pf, s.y_e_ns * d.base.per_pf * d.base.inv_tau_e, d.p.tau_e_ms};
  }
  static kernel inhibitory(const state& s, const derived& d) {
    return {s.g_i_ns * d.base.per_pf, s.y_i_ns * d.base.per_pf * d.base.inv_tau_i, d.p.tau_i_ms};
  }

  // The Taylor series of y(s) = V(t + s) - E_rest from a free state,
  // summed to rounding for s in [0, span] (span <= step_ms(...)).
  static lif_cond_exp::series taylor(const derived& d, double y0, const kernel& e, const kernel& i,
                                     double span_ms) {
    using series = lif_cond_exp::series;
    series out;
    out.coef[0] = y0;
    std::array<double, series::max_order + 1> g{};  // k_e,j + k_i,j
    // c_j = (-1/tau)^j / j! and c_{j-1} for each receptor.
    double ce = 1.0, ce_before = 0.0, ci = 1.0, ci_before = 0.0;
    const auto& b = d.base;
    const double tolerance = 0x1p-53 * (std::abs(y0) + std::abs(b.e_e) + std::abs(b.e_i));
    double power = 1.0;
    bool small_before = false;
    out.order = series::max_order;
    for (int k = 0; k < series::max_order; ++k) {
      const double ke = e.k0 * ce + e.slope * ce_before, ki = i.k0 * ci + i.slope * ci_before;
      g[k] = ke + ki;
      double sum = ke * b.e_e + ki * b.e_i - b.leak_per_ms * out.coef[k];
      for (int j = 0; j <= k; ++j) sum -= g[j] * out.coef[k - j];
      out.coef[k + 1] = sum / (k + 1);
      ce_before = ce;
      ce *= -b.inv_tau_e / (k + 1);
      ci_before = ci;
      ci *= -b.inv_tau_i / (k + 1);
      power *= span_ms;
      const bool small = std::abs(out.coef[k + 1]) * power <= tolerance;
      if (small && small_before) {
        out.order = k + 1;
        break;
      }
      small_before = small;
    }
    return out;
  }

  static double step_ms(const derived& d, const kernel& e, const kernel& i) {
    return lif_cond_exp::step_ms(d.base, e.most(0.0, inf), i.most(0.0, inf));
  }

  // The conductances over dt, in closed form.
  static void decay_conductances(state& s, const derived& d, double dt) {
    const double e_e = std::exp(-dt * d.base.inv_tau_e), e_i = std::exp(-dt * d.base.inv_tau_i);
    s.g_e_ns = (s.g_e_ns + s.y_e_ns * dt * d.base.inv_tau_e) * e_e;
    s.y_e_ns *= e_e;
    s.g_i_ns = (s.g_i_ns + s.y_i_ns * dt * d.base.inv_tau_i) * e_i;
    s.y_i_ns *= e_i;
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    if (from_ms < s.ref_until_ms) {
      const double until = std::min(to_ms, s.ref_until_ms);
      decay_conductances(s, d, until - from_ms);
      s.v_mv = d.p.v_reset_mv;
      from_ms = until;
    }
    double left = to_ms - from_ms;
    while (left > 0) {
      const kernel e = excitatory(s, d), i = inhibitory(s, d);
      const double h = std::min(left, step_ms(d, e, i));
      s.v_mv = d.base.e_rest_mv + taylor(d, s.v_mv - d.base.e_rest_mv, e, i, h).at(h);
      decay_conductances(s, d, h);
      left = h == left ? 0.0 : left - h;
    }
  }

  static void receive(state& s, const derived&, int, double weight, double) {
    (weight >= 0 ? s.y_e_ns : s.y_i_ns) += std::numbers::e * std::abs(weight);
  }

  // sup_bound over [a, b] from y(a) = y_a, with the conductances' ranges
  // there.
  static double bound(const derived& d, const kernel& e, const kernel& i, double y_a, double a,
                      double b) {
    return lif_cond_exp::sup_bound(d.base, y_a, e.most(a, b), e.least(a, b), i.most(a, b),
                                   i.least(a, b), b - a);
  }

  // The first s in [0, span] where the series y reaches theta: depth
  // first, leftmost first, an interval dropped only when its bound stays
  // below threshold; +infinity when there is none.
  static double first_crossing(const derived& d, const lif_cond_exp::series& y, const kernel& e,
                               const kernel& i, double span_ms) {
    const double theta = d.base.theta;
    struct interval {
      double a, b, y_a;  // y_a = y(a) < theta
    };
    std::array<interval, 256> stack;
    std::size_t top = 0;
    stack[top++] = {0.0, span_ms, y.coef[0]};
    double seen = inf;  // the earliest s found with y(s) >= theta
    while (top > 0) {
      const interval iv = stack[--top];
      const double most = bound(d, e, i, iv.y_a, iv.a, iv.b);
      if (most < theta) continue;
      if (iv.b - iv.a <= tolerance_ms || top + 2 > stack.size()) return iv.b;
      const double y_b = y.at(iv.b);
      if (y_b >= theta) seen = std::min(seen, iv.b);
      // y' >= -most/tau_m + k_e,least (e_e - most) + k_i,most (e_i - most)
      // while y <= most <= e_e: positive means one crossing here.
      if (y_b >= theta && most <= d.base.e_e &&
          -d.base.leak_per_ms * most + e.least(iv.a, iv.b) * (d.base.e_e - most) +
                  std::min(0.0, i.most(iv.a, iv.b) * (d.base.e_i - most)) >
              0) {
        double lo = iv.a, hi = iv.b;
        while (hi - lo > tolerance_ms) {
          const double mid = 0.5 * (lo + hi);
          if (mid <= lo || mid >= hi) break;
          (y.at(mid) >= theta ? hi : lo) = mid;
        }
        return hi;
      }
      const double mid = 0.5 * (iv.a + iv.b), y_mid = y.at(mid);
      if (y_mid >= theta) {
        seen = std::min(seen, mid);
        stack[top++] = {iv.a, mid, iv.y_a};
        continue;
      }
      stack[top++] = {mid, iv.b, y_mid};
      stack[top++] = {iv.a, mid, iv.y_a};
    }
    return seen;
  }

  // Exact within one series step, provisional beyond it; certain never when
  // even the conductances' peaks held for ever keep V below threshold.
  static spike_prediction predict(const state& s, const derived& d, double t_ms) {
    if (t_ms < s.ref_until_ms) {
      state start = s;
      advance(start, d, t_ms, s.ref_until_ms);
      return predict(start, d, s.ref_until_ms);
    }
    const double y0 = s.v_mv - d.base.e_rest_mv;
    if (y0 >= d.base.theta) return {t_ms, true};
    const kernel e = excitatory(s, d), i = inhibitory(s, d);
    // The bound over [0, inf) is approached, never reached.
    if (lif_cond_exp::sup_bound(d.base, y0, e.most(0, inf), 0.0, i.most(0, inf), 0.0, inf) <=
        d.base.theta)
      return {inf, true};
    const double span = step_ms(d, e, i);
    for (const double factor : lookahead_factors)
      if (bound(d, e, i, y0, 0.0, factor * span) < d.base.theta)
        return {t_ms + factor * span, false};
    const double x = first_crossing(d, taylor(d, y0, e, i, span), e, i, span);
    return x < inf ? spike_prediction{t_ms + x, true} : spike_prediction{t_ms + span, false};
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    return chained_next_spike<lif_cond_alpha>(s, d, t_ms);
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

}  // namespace apical::models
