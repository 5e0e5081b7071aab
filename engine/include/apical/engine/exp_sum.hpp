#pragma once
// First threshold crossing of a sum of decaying exponentials.
//
// Linear neuron models with exponential synaptic currents or passive
// dendrites have, between inputs, a membrane trajectory of the form
//
//   f(s) = c + sum_k a_k exp(-s / tau_k),   s >= 0,
//
// (V(t + s) - threshold). Such a sum has no closed-form root in general, and
// it can rise, peak and fall back, so a plain bracketing search can step over
// a crossing. Two searches here cannot:
//
// - first_crossing(exp_sum), for any time constants: splits [0, horizon]
//   into intervals and discards one only when rigorous bounds prove it holds
//   no crossing: an upper bound of f below zero (positive terms are largest
//   at the interval's start, negative ones at its end), f monotone and
//   negative at both ends, or f concave with a maximum below zero (the
//   maximum found by Newton on f'). A trajectory grazing the threshold is
//   thus settled after a few splits, not subdivided down to the tolerance.
//   Once f is provably increasing (or convex) across a sign change, a
//   safeguarded Newton iteration finds the root to `tolerance_ms`.
//
// - first_crossing(exp_polynomial), when every tau_k is tau / n_k for
//   integers n_k (tau_m = 20, tau_e = 5, tau_i = 10 ms: n = 1, 4, 2): then
//   f(s) = p(x), a polynomial in x = exp(-s / tau) in (0, 1] (x = 1 at
//   s = 0), and the first crossing is the largest root of p in
//   [exp(-horizon / tau), 1]. Its Bernstein coefficients on an interval
//   bound p there (p lies in their hull) and, by Descartes' rule of signs,
//   their sign changes bound its number of roots: none means no root, one
//   means exactly one, which a safeguarded Newton iteration on p finds from
//   the control polygon's zero. Other intervals are halved (de Casteljau).
//   Everything is polynomial arithmetic: no exponential, one logarithm for
//   the crossing time. The bounds converge quadratically with the interval
//   width, so a graze within 1e-9 of zero is settled in about 15 halvings.
//
// Both return Newton's last estimate inside a bracket narrower than the
// tolerance: accurate to rounding, and unbiased (the bracket's end with
// f >= 0 would be up to a tolerance late every time, which adds up along a
// neuron's spike train).
#include <array>
#include <cstddef>
#include <limits>

namespace apical {

struct exp_sum {
  static constexpr std::size_t max_terms = 4;
  double constant = 0.0;
  std::array<double, max_terms> amplitude{};
  std::array<double, max_terms> tau_ms{};
  std::size_t terms = 0;

  void add(double a, double tau) {
    if (a == 0.0) return;
    amplitude[terms] = a;
    tau_ms[terms] = tau;
    ++terms;
  }
  double operator()(double s) const;
  double derivative(double s) const;
};

// f(s) = p(exp(-s / tau_ms)), p(x) = sum_j coef[j] x^j: the sum of
// exponentials sum_j coef[j] exp(-s j / tau_ms).
struct exp_polynomial {
  static constexpr std::size_t max_degree = 8;
  double tau_ms = 1.0;
  std::array<double, max_degree + 1> coef{};
  std::size_t degree = 0;

  // Adds a exp(-s power / tau_ms); power <= max_degree.
  void add(double a, std::size_t power) {
    coef[power] += a;
    if (power > degree) degree = power;
  }
  double at(double x) const {  // p(x)
    double v = coef[degree];
    for (std::size_t j = degree; j-- > 0;) v = v * x + coef[j];
    return v;
  }
  double operator()(double s) const;  // f(s)
};

// n in [1, exp_polynomial::max_degree] with tau_ms * n == base_ms (to a few
// rounding errors), or 0 when there is none: exp(-s / tau_ms) is then
// exp(-s / base_ms)^n.
std::size_t integer_ratio(double base_ms, double tau_ms);

// Bernstein coefficients b_0..b_n of a polynomial of degree n on an
// interval [a, a + h]: p(a + h t) = sum_k b_k C(n, k) t^k (1 - t)^(n - k).
using bernstein_coefficients = std::array<double, exp_polynomial::max_degree + 1>;

// The Bernstein coefficients on one window [x_min, 1] of polynomials of
// one degree, as a precomputed linear map (b_k = sum_j weight[k][j] c_j),
// for a model that bounds its trajectory over the same horizon after every
// input: the largest b_k bounds p on the window (exact at its ends,
// converging quadratically with its width).
struct bernstein_window {
  double x_min = 0.0;
  std::size_t degree = 0;
  std::array<std::array<double, exp_polynomial::max_degree + 1>, exp_polynomial::max_degree + 1>
      weight{};

  bernstein_window(double x_min, std::size_t degree);
};

// The smallest s >= 0 with f(s) >= 0 (found to within tolerance_ms, the
// returned s has f(s) >= 0 up to rounding), or +infinity when f stays
// negative. Tangential touches within rounding of zero are not crossings.
// With a finite max_s, only [0, max_s] is searched (+infinity: none there).
double first_crossing(const exp_sum& f, double tolerance_ms = 1e-10,
                      double max_s = std::numeric_limits<double>::infinity());
double first_crossing(const exp_polynomial& f, double tolerance_ms = 1e-10,
                      double max_s = std::numeric_limits<double>::infinity());

// The same on x for exp_polynomial: the largest x in [x_min, 1] with
// p(x) >= 0 (p(x) >= 0 up to rounding, within relative_tolerance * x of the
// root), or 0 when p < 0 on all of [x_min, 1] (0 <= x_min <= 1). For callers
// that keep x_min = exp(-horizon / tau) precomputed, and may also have p's
// Bernstein coefficients on [x_min, 1] at hand (see bernstein_window).
double last_nonnegative(const exp_polynomial& f, double x_min, double relative_tolerance);
double last_nonnegative(const exp_polynomial& f, double x_min, const bernstein_coefficients& b,
                        double relative_tolerance);

}  // namespace apical
