#include "apical/engine/exp_sum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace apical {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// Upper bound of f on [lo, hi].
double upper_bound(const exp_sum& f, double lo, double hi) {
  double b = f.constant;
  for (std::size_t k = 0; k < f.terms; ++k)
    b += f.amplitude[k] * std::exp(-(f.amplitude[k] > 0 ? lo : hi) / f.tau_ms[k]);
  return b;
}

// Lower bound of f' on [lo, hi]; f' = sum -a_k/tau_k exp(-s/tau_k).
double derivative_lower_bound(const exp_sum& f, double lo, double hi) {
  double b = 0.0;
  for (std::size_t k = 0; k < f.terms; ++k) {
    const double c = -f.amplitude[k] / f.tau_ms[k];
    b += c * std::exp(-(c > 0 ? hi : lo) / f.tau_ms[k]);
  }
  return b;
}

// Root of an increasing f on [a, b] with f(a) < 0 <= f(b); returns a point
// with f >= 0 within tolerance of the root.
double refine(const exp_sum& f, double a, double b, double tolerance) {
  double x = b;
  for (int i = 0; i < 200 && b - a > tolerance; ++i) {
    const double fx = f(x);
    if (fx >= 0)
      b = x;
    else
      a = x;
    const double slope = f.derivative(x);
    double next = slope > 0 ? x - fx / slope : 0.5 * (a + b);
    if (!(next > a && next < b)) next = 0.5 * (a + b);
    // Newton converges from the side where f >= 0 when f is concave there;
    // nudge past the root so the bracket closes from both sides.
    if (std::abs(next - x) < 0.25 * tolerance) next = fx >= 0 ? next - tolerance : next + tolerance;
    x = std::clamp(next, a, b);
  }
  return b;
}

}  // namespace

double exp_sum::operator()(double s) const {
  double v = constant;
  for (std::size_t k = 0; k < terms; ++k) v += amplitude[k] * std::exp(-s / tau_ms[k]);
  return v;
}

double exp_sum::derivative(double s) const {
  double v = 0.0;
  for (std::size_t k = 0; k < terms; ++k) v -= amplitude[k] / tau_ms[k] * std::exp(-s / tau_ms[k]);
  return v;
}

double first_crossing(const exp_sum& f, double tolerance_ms, double max_s) {
  if (f(0.0) >= 0) return 0.0;
  if (upper_bound(f, 0.0, inf) < 0) return inf;  // quick rejection: the common case

  // Horizon: beyond it, the sign of f is that of the constant.
  double max_tau = 0.0, pos_sum = 0.0, neg_sum = 0.0;
  std::size_t pos_terms = 0, neg_terms = 0;
  for (std::size_t k = 0; k < f.terms; ++k) {
    max_tau = std::max(max_tau, f.tau_ms[k]);
    if (f.amplitude[k] > 0)
      pos_sum += f.amplitude[k], ++pos_terms;
    else
      neg_sum -= f.amplitude[k], ++neg_terms;
  }
  double horizon = 0.0;
  if (f.constant < 0) {
    // sum of positive terms <= |c| once every positive term <= |c| / pos_terms.
    for (std::size_t k = 0; k < f.terms; ++k)
      if (f.amplitude[k] > 0)
        horizon = std::max(
            horizon, f.tau_ms[k] * std::log(f.amplitude[k] * double(pos_terms) / -f.constant));
  } else if (f.constant > 0) {
    // f > 0 once the negative terms are below c.
    for (std::size_t k = 0; k < f.terms; ++k)
      if (f.amplitude[k] < 0)
        horizon = std::max(
            horizon,
            f.tau_ms[k] * std::log(-f.amplitude[k] * double(neg_terms) / f.constant) + f.tau_ms[k]);
  } else {
    horizon = 50.0 * max_tau;  // c == 0: approaches threshold asymptotically
  }
  horizon = std::min(std::max(horizon, tolerance_ms), max_s);

  // Depth-first over intervals, leftmost first; each entry has f(lo) < 0.
  struct interval {
    double lo, hi;
  };
  std::array<interval, 256> stack;
  std::size_t top = 0;
  stack[top++] = {0.0, horizon};
  while (top > 0) {
    const interval iv = stack[--top];
    if (upper_bound(f, iv.lo, iv.hi) < 0) continue;
    const double f_hi = f(iv.hi);
    if (f_hi >= 0 && derivative_lower_bound(f, iv.lo, iv.hi) > 0)
      return refine(f, iv.lo, iv.hi, tolerance_ms);
    if (iv.hi - iv.lo <= tolerance_ms) {
      if (f_hi >= 0) return iv.hi;
      continue;  // a touch within rounding
    }
    const double mid = 0.5 * (iv.lo + iv.hi);
    if (f(mid) >= 0) {
      // A crossing lies in (lo, mid]: the right half cannot hold the first.
      stack[top++] = {iv.lo, mid};
      continue;
    }
    // Depth <= log2(horizon / tolerance) < 128, two entries a level.
    stack[top++] = {mid, iv.hi};  // right half processed after the left
    stack[top++] = {iv.lo, mid};
  }
  return inf;
}

}  // namespace apical
