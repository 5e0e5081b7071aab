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
// a crossing. first_crossing() cannot: it splits [0, horizon] into intervals
// and discards an interval only when a rigorous upper bound of f on it is
// negative (positive terms are largest at the interval's start, negative ones
// at its end). The leftmost interval that cannot be discarded is refined;
// once f is provably increasing on it, a safeguarded Newton iteration finds
// the root to `tolerance_ms`.
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

// The smallest s >= 0 with f(s) >= 0 (found to within tolerance_ms, the
// returned s has f(s) >= 0 up to rounding), or +infinity when f stays
// negative. Tangential touches within rounding of zero are not crossings.
// With a finite max_s, only [0, max_s] is searched (+infinity: none there).
double first_crossing(const exp_sum& f, double tolerance_ms = 1e-10,
                      double max_s = std::numeric_limits<double>::infinity());

}  // namespace apical
