#include "apical/engine/exp_sum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace apical {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double epsilon = std::numeric_limits<double>::epsilon();

// Safeguarded Newton for a root of g inside the bracket {neg, pos}, where
// g(neg) < 0 <= g(pos) (either order), from the start x; g_dg(x) returns
// {g(x), g'(x)}. Stops once the bracket is narrower than tolerance(pos),
// and returns the last Newton estimate inside it: accurate to rounding
// (its error is about the square of the last step), where the bracket end
// with g >= 0 would be up to a tolerance late every time, a bias that adds
// up over successive spikes.
template <class GAndSlope, class Tolerance>
double bracketed_newton(GAndSlope g_dg, double neg, double pos, double x, Tolerance tolerance) {
  double estimate = pos;
  for (int i = 0; i < 100; ++i) {
    const auto [gx, slope] = g_dg(x);
    (gx >= 0 ? pos : neg) = x;
    const double lo = std::min(neg, pos), hi = std::max(neg, pos);
    double next = slope != 0 ? x - gx / slope : 0.5 * (lo + hi);
    if (next >= lo && next <= hi) estimate = next;
    const double tol = tolerance(pos);
    if (hi - lo <= tol) break;
    // Newton approaches from one side when g is convex or concave there;
    // once its steps are below the tolerance, probe just past the root so
    // the bracket closes from both sides.
    if (std::abs(next - x) < 0.5 * tol) next += std::copysign(0.5 * tol, (gx >= 0 ? neg : pos) - x);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next == x) break;  // the bracket is down to adjacent doubles
    x = next;
  }
  return std::clamp(estimate, std::min(neg, pos), std::max(neg, pos));
}

// ---- sums of exponentials, any time constants

// exp(-s / tau_k) at both ends of an interval, for the bounds below.
struct interval_exps {
  std::array<double, exp_sum::max_terms> lo{}, hi{};
};

interval_exps exps_at(const exp_sum& f, double lo, double hi) {
  interval_exps e;
  for (std::size_t k = 0; k < f.terms; ++k) {
    e.lo[k] = std::exp(-lo / f.tau_ms[k]);
    e.hi[k] = std::exp(-hi / f.tau_ms[k]);
  }
  return e;
}

// The order-th derivative of term k's amplitude: a_k (-1 / tau_k)^order.
double scaled(const exp_sum& f, std::size_t k, int order) {
  double c = f.amplitude[k];
  for (int i = 0; i < order; ++i) c /= -f.tau_ms[k];
  return c;
}

// Upper (or lower) bound of the order-th derivative of f on an interval:
// each term is monotone, largest at the start when its coefficient is
// positive, at the end when negative.
double bound(const exp_sum& f, const interval_exps& e, int order, bool upper) {
  double b = order == 0 ? f.constant : 0.0;
  for (std::size_t k = 0; k < f.terms; ++k) {
    const double c = scaled(f, k, order);
    b += c * ((c > 0) == upper ? e.lo[k] : e.hi[k]);
  }
  return b;
}
double upper_bound(const exp_sum& f, const interval_exps& e, int order) {
  return bound(f, e, order, true);
}
double lower_bound(const exp_sum& f, const interval_exps& e, int order) {
  return bound(f, e, order, false);
}

// The order-th derivative at one end, from its exponentials.
double value(const exp_sum& f, const std::array<double, exp_sum::max_terms>& e, int order) {
  double v = order == 0 ? f.constant : 0.0;
  for (std::size_t k = 0; k < f.terms; ++k) v += scaled(f, k, order) * e[k];
  return v;
}

// Root of f on [a, b] with f(a) < 0 <= f(b) and one crossing there; returns
// a point with f >= 0 within tolerance of the root.
double refine(const exp_sum& f, double a, double b, double tolerance) {
  return bracketed_newton(
      [&f](double s) {
        return std::pair{f(s), f.derivative(s)};
      },
      a, b, b, [tolerance](double) { return tolerance; });
}

// Where f' = 0 on [a, b] when f' is decreasing with f'(a) > 0 > f'(b).
double maximum_of_concave(const exp_sum& f, double a, double b, double tolerance) {
  const auto d1_d2 = [&f](double s) {
    double d1 = 0.0, d2 = 0.0;
    for (std::size_t k = 0; k < f.terms; ++k) {
      const double e = std::exp(-s / f.tau_ms[k]);
      d1 += scaled(f, k, 1) * e;
      d2 += scaled(f, k, 2) * e;
    }
    return std::pair{d1, d2};
  };
  return bracketed_newton(d1_d2, b, a, 0.5 * (a + b), [tolerance](double) { return tolerance; });
}

// ---- polynomials in x = exp(-s / tau)

constexpr std::size_t max_n = exp_polynomial::max_degree;
using coefficients = bernstein_coefficients;

// C(k, j) / C(n, j): the weight of t^j's coefficient in the k-th Bernstein
// coefficient of degree n.
constexpr auto bernstein_weight = [] {
  std::array<std::array<double, max_n + 1>, max_n + 1> c{};
  for (std::size_t n = 0; n <= max_n; ++n) {
    c[n][0] = 1.0;
    for (std::size_t k = 1; k <= n; ++k) c[n][k] = c[n - 1][k - 1] + (k < n ? c[n - 1][k] : 0.0);
  }
  std::array<std::array<std::array<double, max_n + 1>, max_n + 1>, max_n + 1> w{};
  for (std::size_t n = 0; n <= max_n; ++n)
    for (std::size_t k = 0; k <= n; ++k)
      for (std::size_t j = 0; j <= k; ++j) w[n][k][j] = c[k][j] / c[n][j];
  return w;
}();

// Bernstein coefficients of p on [a, a + h]: p(a + h t) = sum_k b_k
// C(n, k) t^k (1 - t)^(n - k). b_0 = p(a), b_n = p(a + h), and p lies
// between the smallest and the largest b_k on the interval.
coefficients bernstein(const exp_polynomial& f, double a, double h) {
  const std::size_t n = f.degree;
  coefficients q = f.coef;
  for (std::size_t i = 0; i < n; ++i)  // Taylor shift: q(t) = p(a + t)
    for (std::size_t j = n; j-- > i;) q[j] += a * q[j + 1];
  double hj = h;
  for (std::size_t j = 1; j <= n; ++j, hj *= h) q[j] *= hj;  // q(t) = p(a + h t)
  coefficients b{};
  const auto& w = bernstein_weight[n];
  for (std::size_t k = 0; k <= n; ++k)
    for (std::size_t j = 0; j <= k; ++j) b[k] += w[k][j] * q[j];
  return b;
}

// de Casteljau at t = 1/2: the coefficients of both halves.
void halve(const coefficients& b, std::size_t n, coefficients& left, coefficients& right) {
  coefficients t = b;
  left[0] = t[0];
  right[n] = t[n];
  for (std::size_t r = 1; r <= n; ++r) {
    for (std::size_t k = 0; k + r <= n; ++k) t[k] = 0.5 * (t[k] + t[k + 1]);
    left[r] = t[0];
    right[n - r] = t[n - r];
  }
}

std::size_t sign_changes(const coefficients& b, std::size_t n) {
  std::size_t changes = 0;
  int last = 0;
  for (std::size_t k = 0; k <= n; ++k) {
    const int sign = (b[k] > 0) - (b[k] < 0);
    if (sign == 0) continue;
    if (last != 0 && sign != last) ++changes;
    last = sign;
  }
  return changes;
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
  if (upper_bound(f, exps_at(f, 0.0, inf), 0) < 0) return inf;  // quick rejection

  // Horizon: beyond it, the sign of f is that of the constant.
  double max_tau = 0.0;
  std::size_t pos_terms = 0, neg_terms = 0;
  for (std::size_t k = 0; k < f.terms; ++k) {
    max_tau = std::max(max_tau, f.tau_ms[k]);
    ++(f.amplitude[k] > 0 ? pos_terms : neg_terms);
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
    const auto [lo, hi] = stack[--top];
    const interval_exps e = exps_at(f, lo, hi);
    if (upper_bound(f, e, 0) < 0) continue;
    const double f_hi = value(f, e.hi, 0);
    if (upper_bound(f, e, 1) < 0) continue;  // decreasing: f <= f(lo) < 0
    if (lower_bound(f, e, 1) > 0 || lower_bound(f, e, 2) > 0) {
      // Increasing, or convex (f below its chord): f(lo) < 0, so a crossing
      // needs f(hi) >= 0, and then it is the only one.
      if (f_hi >= 0) return refine(f, lo, hi, tolerance_ms);
      continue;
    }
    if (upper_bound(f, e, 2) < 0) {
      // Concave: f' decreases, f has one maximum; a graze of the threshold
      // is settled here, at any distance from it.
      const double d_lo = value(f, e.lo, 1), d_hi = value(f, e.hi, 1);
      if (d_lo <= 0) continue;  // maximum at lo
      if (d_hi >= 0) {          // maximum at hi
        if (f_hi >= 0) return refine(f, lo, hi, tolerance_ms);
        continue;
      }
      const double peak = maximum_of_concave(f, lo, hi, tolerance_ms);
      if (f(peak) >= 0) return refine(f, lo, peak, tolerance_ms);
      continue;
    }
    if (hi - lo <= tolerance_ms) {
      if (f_hi >= 0) return hi;
      continue;  // a touch within rounding
    }
    const double mid = 0.5 * (lo + hi);
    if (f(mid) >= 0) {
      // A crossing lies in (lo, mid]: the right half cannot hold the first.
      stack[top++] = {lo, mid};
      continue;
    }
    // Depth <= log2(horizon / tolerance) < 128, two entries a level.
    stack[top++] = {mid, hi};  // right half processed after the left
    stack[top++] = {lo, mid};
  }
  return inf;
}

double exp_polynomial::operator()(double s) const {
  return at(std::exp(-s / tau_ms));
}

std::size_t integer_ratio(double base_ms, double tau_ms) {
  const double n = std::round(base_ms / tau_ms);
  if (!(n >= 1 && n <= double(exp_polynomial::max_degree))) return 0;
  return std::abs(tau_ms * n - base_ms) <= 4 * epsilon * base_ms ? std::size_t(n) : 0;
}

bernstein_window::bernstein_window(double x_min_, std::size_t degree_)
    : x_min(x_min_), degree(degree_) {
  exp_polynomial unit;
  unit.degree = degree;
  for (std::size_t j = 0; j <= degree; ++j) {
    unit.coef = {};
    unit.coef[j] = 1.0;
    const coefficients b = bernstein(unit, x_min, 1.0 - x_min);
    for (std::size_t k = 0; k <= degree; ++k) weight[k][j] = b[k];
  }
}

double last_nonnegative(const exp_polynomial& f, double x_min, double relative_tolerance) {
  if (f.at(1.0) >= 0) return 1.0;
  if (f.degree == 0 || x_min >= 1.0) return 0.0;
  return last_nonnegative(f, x_min, bernstein(f, x_min, 1.0 - x_min), relative_tolerance);
}

double last_nonnegative(const exp_polynomial& f, double x_min, const bernstein_coefficients& b0,
                        double relative_tolerance) {
  const std::size_t n = f.degree;
  if (b0[n] >= 0) return 1.0;
  if (n == 0 || x_min >= 1.0) return 0.0;
  const double h0 = 1.0 - x_min;
  // Halving stops at 2^-52 of the window: the stack below never overflows.
  const auto tolerance = [&](double x) {
    return std::max(std::max(relative_tolerance, 4 * epsilon) * x, 0x1p-52 * h0);
  };
  // Newton from where the control polygon crosses zero, for a piece with
  // exactly one root and p(a) >= 0 > p(a + h).
  const auto root = [&](const coefficients& b, double a, double h) {
    std::size_t k = 0;
    while (b[k + 1] >= 0) ++k;
    const double t = (double(k) + b[k] / (b[k] - b[k + 1])) / double(n);
    const auto p_dp = [&f, n](double x) {
      double v = f.coef[n], d = 0.0;
      for (std::size_t j = n; j-- > 0;) {
        d = d * x + v;
        v = v * x + f.coef[j];
      }
      return std::pair{v, d};
    };
    return bracketed_newton(p_dp, a + h, a, a + h * t, tolerance);
  };
  // The common case: one sign change over the whole window.
  if (sign_changes(b0, n) == 1) return root(b0, x_min, h0);

  // Depth-first over pieces [a, a + h] with their Bernstein coefficients,
  // rightmost (earliest in time) first; pieces to the right of the one at
  // hand hold no root, so its b_n = p(a + h) < 0.
  struct piece {
    coefficients b;
    double a, h;
  };
  std::array<piece, 64> stack;
  std::size_t top = 0;
  stack[top++] = {b0, x_min, h0};
  while (top > 0) {
    const piece pc = stack[--top];
    const auto& b = pc.b;
    if (*std::max_element(b.begin(), b.begin() + n + 1) < 0) continue;  // p < 0 here
    const std::size_t changes = sign_changes(b, n);
    if (changes == 0) {  // b_k <= 0: p < 0 inside, p(a) = b_0
      if (b[0] >= 0) return pc.a;
      continue;
    }
    if (changes == 1) return root(b, pc.a, pc.h);  // exactly one root
    if (pc.h <= tolerance(pc.a + pc.h)) {
      // Several sign changes on an interval narrower than the tolerance:
      // p is within rounding of zero here. A point with p >= 0 is a
      // crossing; otherwise it is a touch.
      if (b[0] >= 0) return pc.a;
      if (f.at(pc.a + 0.5 * pc.h) >= 0) return pc.a + 0.5 * pc.h;
      continue;
    }
    piece left{{}, pc.a, 0.5 * pc.h}, right{{}, pc.a + 0.5 * pc.h, 0.5 * pc.h};
    halve(b, n, left.b, right.b);
    stack[top++] = left;
    stack[top++] = right;  // processed first
  }
  return 0.0;
}

double first_crossing(const exp_polynomial& f, double tolerance_ms, double max_s) {
  const double x_min = max_s == inf ? 0.0 : std::exp(-max_s / f.tau_ms);
  const double x = last_nonnegative(f, x_min, tolerance_ms / f.tau_ms);
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return inf;
  return std::min(-f.tau_ms * std::log(x), max_s);
}

}  // namespace apical
