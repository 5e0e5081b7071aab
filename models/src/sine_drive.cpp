#include "apical/models/sine_drive.hpp"

#include <array>
#include <numbers>

namespace apical::models {
namespace {

// f = g + sine and its bounds on one interval [a, b].
struct sum_on_interval {
  const exp_sum& g;
  const sine_term& sine;
  double a, b;
  std::array<double, exp_sum::max_terms> e_a{}, e_b{};  // e^{-a/tau_k}, e^{-b/tau_k}

  sum_on_interval(const exp_sum& g_in, const sine_term& sine_in, double a_ms, double b_ms)
      : g(g_in), sine(sine_in), a(a_ms), b(b_ms) {
    for (std::size_t k = 0; k < g.terms; ++k) {
      e_a[k] = std::exp(-a / g.tau_ms[k]);
      e_b[k] = std::exp(-b / g.tau_ms[k]);
    }
  }
  // Upper (sign +1) or lower (sign -1) bound of the n-th derivative of f.
  double bound(int n, double sign) const {
    double v = n == 0 ? g.constant : 0.0;
    for (std::size_t k = 0; k < g.terms; ++k) {
      const double c = g.amplitude[k] * std::pow(-1.0 / g.tau_ms[k], n);
      // c e^{-s/tau} is largest at a when c > 0, at b when c < 0.
      v += c * ((c > 0) == (sign > 0) ? e_a[k] : e_b[k]);
    }
    const double shift = n * 0.5 * std::numbers::pi;
    const double x1 = sine.omega_per_ms * a + sine.phase + shift;
    const double x2 = sine.omega_per_ms * b + sine.phase + shift;
    const double scale = sine.amplitude * std::pow(sine.omega_per_ms, n);
    return v + scale * (sign > 0 ? max_sin(x1, x2) : min_sin(x1, x2));
  }
};

double value(const exp_sum& g, const sine_term& sine, double s) {
  return g(s) + sine(s);
}
double slope(const exp_sum& g, const sine_term& sine, double s) {
  return g.derivative(s) + sine.derivative(s);
}

// The crossing in [lo, hi] (f(lo) < 0 <= f(hi), exactly one there):
// Newton, kept inside the bracket (bisection where a step leaves it or
// shrinks it too little). Returns Newton's estimate from the last point
// once the bracket, or the step, is below the tolerance: accurate to
// rounding (the step's error is quadratic in it), and unbiased.
double refine(const exp_sum& g, const sine_term& sine, double lo, double hi, double tolerance_ms) {
  double x = 0.5 * (lo + hi);
  for (int k = 0; k < 200; ++k) {
    const double fx = value(g, sine, x);
    (fx >= 0 ? hi : lo) = x;
    double next = x - fx / slope(g, sine, x);
    const bool inside = next >= lo && next <= hi;
    if (hi - lo <= tolerance_ms || (inside && std::abs(next - x) <= 0.5 * tolerance_ms))
      return inside ? next : x;
    if (!inside || std::abs(next - x) > 0.5 * (hi - lo)) next = 0.5 * (lo + hi);
    x = next;
  }
  return hi;
}

}  // namespace

double first_crossing(const exp_sum& g, const sine_term& sine, double max_s, double tolerance_ms) {
  constexpr double never = std::numeric_limits<double>::infinity();
  if (value(g, sine, 0.0) >= 0) return 0.0;
  struct interval {
    double lo, hi;
  };
  // Depth-first, leftmost first; every entry has f(lo) < 0. An entry is
  // replaced by at most two halves, so the stack holds at most one more
  // entry than the depth (below 128 for any horizon and tolerance).
  std::array<interval, 256> stack;
  std::size_t top = 0;
  stack[top++] = {0.0, max_s};
  while (top > 0) {
    const auto [lo, hi] = stack[--top];
    const sum_on_interval f(g, sine, lo, hi);
    if (f.bound(0, +1) < 0) continue;
    if (f.bound(1, +1) < 0) continue;  // decreasing: f <= f(lo) < 0
    const double f_hi = value(g, sine, hi);
    if (f.bound(1, -1) > 0 || f.bound(2, -1) > 0) {
      // Increasing, or convex (below its chord): one crossing iff f(hi) >= 0.
      if (f_hi >= 0) return refine(g, sine, lo, hi, tolerance_ms);
      continue;
    }
    if (f.bound(2, +1) < 0) {
      // Concave: below both tangents, which meet at the bound's maximum.
      const double f_lo = value(g, sine, lo);
      const double d_lo = slope(g, sine, lo), d_hi = slope(g, sine, hi);
      if (d_lo <= 0) continue;  // maximum at lo
      if (f_hi >= 0) return refine(g, sine, lo, hi, tolerance_ms);
      if (d_hi >= 0) continue;  // maximum at hi
      const double meet = (f_hi - f_lo + d_lo * lo - d_hi * hi) / (d_lo - d_hi);
      if (f_lo + d_lo * (meet - lo) < 0) continue;
    }
    if (hi - lo <= tolerance_ms) {
      if (f_hi >= 0) return hi;
      continue;  // a touch within rounding
    }
    const double mid = 0.5 * (lo + hi);
    if (value(g, sine, mid) >= 0) {
      stack[top++] = {lo, mid};  // the first crossing lies in (lo, mid]
      continue;
    }
    stack[top++] = {mid, hi};
    stack[top++] = {lo, mid};
  }
  return never;
}

}  // namespace apical::models
