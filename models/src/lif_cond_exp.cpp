#include "apical/models/lif_cond_exp.hpp"

#include <algorithm>
#include <cmath>

namespace apical::models {

lif_cond_exp::derived lif_cond_exp::derive(const parameters& p) {
  require_finite<lif_cond_exp>(p);
  require(p.tau_m_ms > 0, name, "tau_m_ms", p.tau_m_ms, "must be > 0");
  require(p.c_m_pf > 0, name, "c_m_pf", p.c_m_pf, "must be > 0");
  require(p.tau_e_ms > 0, name, "tau_e_ms", p.tau_e_ms, "must be > 0");
  require(p.tau_i_ms > 0, name, "tau_i_ms", p.tau_i_ms, "must be > 0");
  require_reset_and_start(name, p);
  derived d{p};
  d.leak_per_ms = 1.0 / p.tau_m_ms;
  d.per_pf = 1.0 / p.c_m_pf;
  d.inv_tau_e = 1.0 / p.tau_e_ms;
  d.inv_tau_i = 1.0 / p.tau_i_ms;
  d.fastest_decay = std::max(d.inv_tau_e, d.inv_tau_i);
  return with_injection(d, 0.0);
}

lif_cond_exp::derived lif_cond_exp::with_injection(const derived& base, double i_inj_pa) {
  derived d = base;
  const auto& p = d.p;
  d.e_rest_mv = p.e_l_mv + (p.i_offset_pa + i_inj_pa) * p.tau_m_ms / p.c_m_pf;
  d.e_e = p.e_e_mv - d.e_rest_mv;
  d.e_i = p.e_i_mv - d.e_rest_mv;
  d.theta = p.v_th_mv - d.e_rest_mv;
  d.reset = p.v_reset_mv - d.e_rest_mv;
  return d;
}

// y' = -y/tau_m + k_e(s) (e_e - y) + k_i(s) (e_i - y) with the series
// y = sum y_k s^k, k_x(s) = sum k_x (-1/tau_x)^j / j! s^j:
//   (k + 1) y_{k+1} = e_e ke_k + e_i ki_k - y_k / tau_m - sum_j (ke_j + ki_j) y_{k-j}.
lif_cond_exp::series lif_cond_exp::taylor(const derived& d, double y0, double k_e, double k_i,
                                          double span_ms) {
  static constexpr auto inverse = [] {
    std::array<double, series::max_order + 1> r{};
    for (int k = 1; k <= series::max_order; ++k) r[k] = 1.0 / k;
    return r;
  }();
  series out;
  std::array<double, series::max_order + 1> g{};  // ke_j + ki_j
  double ke = k_e, ki = k_i;
  out.coef[0] = y0;
  const double tolerance = 0x1p-53 * (std::abs(y0) + std::abs(d.e_e) + std::abs(d.e_i));
  double power = 1.0;
  int small = 0;
  out.order = series::max_order;
  for (int k = 0; k < series::max_order; ++k) {
    g[k] = ke + ki;
    // Four partial sums: the convolution is the cost, and one chain of
    // dependent additions would wait on each.
    std::array<double, 4> sum{ke * d.e_e + ki * d.e_i - d.leak_per_ms * out.coef[k], 0, 0, 0};
    int j = 0;
    for (; j + 3 <= k; j += 4)
      for (int l = 0; l < 4; ++l) sum[l] -= g[j + l] * out.coef[k - j - l];
    for (; j <= k; ++j) sum[0] -= g[j] * out.coef[k - j];
    out.coef[k + 1] = ((sum[0] + sum[1]) + (sum[2] + sum[3])) * inverse[k + 1];
    ke *= -d.inv_tau_e * inverse[k + 1];
    ki *= -d.inv_tau_i * inverse[k + 1];
    power *= span_ms;
    if (std::abs(out.coef[k + 1]) * power <= tolerance) {
      if (++small == 2) {
        out.order = k + 1;
        break;
      }
    } else {
      small = 0;
    }
  }
  return out;
}

// The comparison bound. F(u) = -u/tau_m + max over k_e of k_e (e_e - u)
// + max over k_i of k_i (e_i - u) bounds y' from above on the interval, and
// F is decreasing and linear between the reversal potentials, so y stays
// below w, C w' = F(w), w(a) = y_a: within one piece, w approaches the
// piece's root exponentially. When w passes a reversal potential within the
// duration, the next piece is bounded as if w started at that potential at
// a (it reaches it later), and so on.
double lif_cond_exp::sup_bound(const derived& d, double y_a, double k_e_hi, double k_e_lo,
                               double k_i_hi, double k_i_lo, double duration_ms) {
  for (double u = y_a;;) {
    const double ge = u < d.e_e ? k_e_hi : k_e_lo;
    const double gi = u >= d.e_i ? k_i_lo : k_i_hi;
    const double rate = d.leak_per_ms + ge + gi;
    const double target = (ge * d.e_e + gi * d.e_i) / rate;
    if (target <= u) return u;
    const double end = u + (target - u) * -std::expm1(-rate * duration_ms);
    double edge = inf;  // the next reversal potential above u
    for (const double e : {d.e_e, d.e_i})
      if (e > u) edge = std::min(edge, e);
    if (end <= edge) return end;
    u = edge;
  }
}

void lif_cond_exp::advance(state& s, const derived& d, double from_ms, double to_ms) {
  const auto& p = d.p;
  if (from_ms < s.ref_until_ms) {
    const double until = std::min(to_ms, s.ref_until_ms);
    s.g_e_ns *= std::exp(-(until - from_ms) * d.inv_tau_e);
    s.g_i_ns *= std::exp(-(until - from_ms) * d.inv_tau_i);
    s.v_mv = p.v_reset_mv;
    from_ms = until;
  }
  const double dt = to_ms - from_ms;
  if (dt <= 0) return;
  double y = s.v_mv - d.e_rest_mv;
  if (s.g_e_ns == 0 && s.g_i_ns == 0) {
    s.v_mv = d.e_rest_mv + y * std::exp(-dt * d.leak_per_ms);
    return;
  }
  const double k_e0 = s.g_e_ns * d.per_pf, k_i0 = s.g_i_ns * d.per_pf;
  double k_e = k_e0, k_i = k_i0, done = 0.0;
  while (done < dt) {
    const double h = std::min(dt - done, step_ms(d, k_e, k_i));
    y = taylor(d, y, k_e, k_i, h).at(h);
    done = h == dt - done ? dt : done + h;
    k_e = k_e0 * std::exp(-done * d.inv_tau_e);
    k_i = k_i0 * std::exp(-done * d.inv_tau_i);
  }
  s.v_mv = d.e_rest_mv + y;
  s.g_e_ns *= std::exp(-dt * d.inv_tau_e);
  s.g_i_ns *= std::exp(-dt * d.inv_tau_i);
}

namespace {

// The first s in [0, span] with y(s) >= theta, for one series.
struct crossing_search {
  const lif_cond_exp::derived& d;
  const lif_cond_exp::series& y;
  double k_e0, k_i0;

  double k_e(double s) const { return k_e0 * std::exp(-s * d.inv_tau_e); }
  double k_i(double s) const { return k_i0 * std::exp(-s * d.inv_tau_i); }

  // Precondition: y(a) = y_a < theta.
  double find(double a, double b, double y_a) const {
    const double ke_a = k_e(a), ke_b = k_e(b), ki_a = k_i(a), ki_b = k_i(b);
    const double top = lif_cond_exp::sup_bound(d, y_a, ke_a, ke_b, ki_a, ki_b, b - a);
    if (top < d.theta) return inf;
    const double y_b = y.at(b);
    if (b - a <= lif_cond_exp::tolerance_ms) return b;
    if (y_b >= d.theta && top <= d.e_e) {
      // y' >= -top/tau_m + k_e(b) (e_e - top) + min over k_i of k_i (e_i - top):
      // positive means y rises through [a, b], so the crossing is unique.
      const double least_slope = -d.leak_per_ms * top + ke_b * (d.e_e - top) +
                                 std::min(ki_a * (d.e_i - top), ki_b * (d.e_i - top));
      if (least_slope > 0) return newton(a, b);
    }
    const double m = 0.5 * (a + b);
    const double left = find(a, m, y_a);
    if (left < inf) return left;
    const double y_m = y.at(m);
    if (y_m >= d.theta) return m;  // a crossing within rounding of the left half's bound
    return find(m, b, y_m);
  }

  // y rises through theta once in [lo, hi]: safeguarded Newton, returning
  // its last estimate once the bracket or the step is below the tolerance.
  double newton(double lo, double hi) const {
    double s = hi;
    for (int k = 0; k < 100; ++k) {
      const double f = y.at(s) - d.theta;
      if (f == 0) return s;
      (f > 0 ? hi : lo) = s;
      double next = s - f / y.slope(s);
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (hi - lo <= lif_cond_exp::tolerance_ms ||
          std::abs(next - s) <= 1e-3 * lif_cond_exp::tolerance_ms)
        return next;
      s = next;
    }
    return s;
  }
};

}  // namespace

spike_prediction lif_cond_exp::predict(const state& s, const derived& d, double t_ms) {
  if (t_ms < s.ref_until_ms) {
    state start = s;
    advance(start, d, t_ms, s.ref_until_ms);
    return predict(start, d, s.ref_until_ms);
  }
  const double y0 = s.v_mv - d.e_rest_mv;
  if (y0 >= d.theta) return {t_ms, true};
  const double k_e = s.g_e_ns * d.per_pf, k_i = s.g_i_ns * d.per_pf;
  // Over [0, inf) k_e lies in [0, k_e] and k_i in [0, k_i]; the bound is
  // approached, never reached, so reaching it exactly is no crossing.
  if (sup_bound(d, y0, k_e, 0.0, k_i, 0.0, inf) <= d.theta) return {inf, true};
  // Look-aheads, longest first, bounded without the series: most states
  // stay below threshold over the longest (look again at its end).
  const double span = step_ms(d, k_e, k_i);
  for (const double factor : lookahead_factors) {
    const double h = factor * span;
    const double top = sup_bound(d, y0, k_e, k_e * std::exp(-h * d.inv_tau_e), k_i,
                                 k_i * std::exp(-h * d.inv_tau_i), h);
    if (top < d.theta) return {t_ms + h, false};
  }
  const series y = taylor(d, y0, k_e, k_i, span);
  const double x = crossing_search{d, y, k_e, k_i}.find(0.0, span, y0);
  return x < inf ? spike_prediction{t_ms + x, true} : spike_prediction{t_ms + span, false};
}

double lif_cond_exp::next_spike(const state& s, const derived& d, double t_ms) {
  state c = s;
  double now = t_ms;
  for (int k = 0; k < 1'000'000; ++k) {
    const spike_prediction next = predict(c, d, now);
    if (next.certain) return next.time_ms;
    advance(c, d, now, next.time_ms);
    now = next.time_ms;
  }
  return inf;
}

}  // namespace apical::models
