#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/exp_sum.hpp"
#include "apical/engine/random.hpp"

using namespace apical;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();

// Independent reference: scan on a fine grid (and at `peak`, where the
// caller knows f has a local maximum) for the first sign change, then
// bisect. Only valid when no crossing is narrower than the grid step.
double reference_crossing(const exp_sum& f, double horizon, double step, double peak = -1.0) {
  if (f(0) >= 0) return 0;
  double a = 0;
  for (double b = step; b <= horizon; b += step) {
    if (peak > a && peak < b && f(peak) >= 0) b = peak;
    if (f(b) >= 0) {
      for (int i = 0; i < 200; ++i) {
        const double m = 0.5 * (a + b);
        (f(m) >= 0 ? b : a) = m;
      }
      return b;
    }
    a = b;
  }
  return inf;
}

// p(x) = sum_j c_j x^j written out with pow (not Horner).
double power_sum(const exp_polynomial& f, double x) {
  double v = 0.0;
  for (std::size_t j = 0; j <= f.degree; ++j) v += f.coef[j] * std::pow(x, double(j));
  return v;
}

// Independent reference for the largest x in [x_min, 1] with p(x) >= 0:
// scan down from 1 on a fine grid (and at `extra`), then bisect; 0 if none.
double reference_last_nonnegative(const exp_polynomial& f, double x_min, double step,
                                  double extra = -1.0) {
  if (power_sum(f, 1.0) >= 0) return 1.0;
  double hi = 1.0;  // p(hi) < 0
  for (double x = 1.0 - step;; x -= step) {
    x = std::max(x, x_min);
    if (extra > x && extra < hi && power_sum(f, extra) >= 0) x = extra;
    if (power_sum(f, x) >= 0) {
      double lo = x;
      for (int i = 0; i < 200; ++i) {
        const double m = 0.5 * (lo + hi);
        (power_sum(f, m) >= 0 ? lo : hi) = m;
      }
      return lo;
    }
    if (x == x_min) return 0.0;
    hi = x;
  }
}

// c + a_m e^{-s/20} + a_e e^{-s/5} + a_i e^{-s/10}, random: V - V_th of
// the CUBA benchmark's neuron.
exp_sum random_cuba_sum(rng& r) {
  exp_sum f;
  f.constant = r.uniform(-3, 1);
  for (const double tau : {20.0, 5.0, 10.0}) f.add(r.uniform(-6, 6), tau);
  return f;
}

// c + a1 e^{-s/5} + a2 e^{-s/20} with a local maximum of -delta at s = 7.
exp_sum graze(double delta) {
  const double s = 7.0, a2 = 3.0;
  const double e1 = std::exp(-s / 5), e2 = std::exp(-s / 20);
  const double a1 = -a2 / 4 * e2 / e1;  // f'(7) = 0
  exp_sum f;
  f.constant = -delta - a1 * e1 - a2 * e2;
  f.add(a1, 5);
  f.add(a2, 20);
  return f;
}

// The same function as a polynomial in x = e^{-s/20}.
exp_polynomial as_polynomial(const exp_sum& f) {
  exp_polynomial p;
  p.tau_ms = 20;
  p.add(f.constant, 0);
  for (std::size_t k = 0; k < f.terms; ++k) p.add(f.amplitude[k], integer_ratio(20, f.tau_ms[k]));
  return p;
}
}  // namespace

TEST_CASE("single exponential: closed-form root") {
  // f(s) = -1 + 3 exp(-s/20) ... starts positive; flip: f = 1 - 3 exp(-s/20)
  exp_sum f;
  f.constant = 1.0;
  f.add(-3.0, 20.0);
  const double expected = 20.0 * std::log(3.0);
  CHECK(first_crossing(f) == doctest::Approx(expected).epsilon(1e-12));
  CHECK(std::abs(first_crossing(f) - expected) <= 1e-9);
}

TEST_CASE("already above threshold crosses at 0, never-reaching sums return infinity") {
  exp_sum up;
  up.constant = 0.5;
  CHECK(first_crossing(up) == 0.0);
  exp_sum down;
  down.constant = -1.0;
  down.add(0.5, 10.0);
  CHECK(first_crossing(down) == inf);
}

TEST_CASE("a brief excursion above threshold is not missed") {
  // Rises from -0.1 to a peak just above 0 and decays back: a bracketing
  // search on the end points [0, horizon] would see two negative values.
  // f(s) = -0.1 + a (exp(-s/5) - exp(-s/2)) peaks at s* = ln(5/2)/(1/2-1/5).
  const double tau1 = 5, tau2 = 2;
  const double s_peak = std::log(tau1 / tau2) / (1 / tau2 - 1 / tau1);
  const double peak_shape = std::exp(-s_peak / tau1) - std::exp(-s_peak / tau2);
  const double a = 0.1 / peak_shape * (1 + 1e-6);  // peak 1e-7 above threshold
  exp_sum f;
  f.constant = -0.1;
  f.add(a, tau1);
  f.add(-a, tau2);
  const double t = first_crossing(f);
  REQUIRE(t < inf);
  CHECK(f(t) >= -1e-12);
  CHECK(t < s_peak);
  CHECK(t == doctest::Approx(reference_crossing(f, 50, 1e-3)).epsilon(1e-9));
}

TEST_CASE("random sums agree with a fine-grid reference to 1e-9 ms") {
  rng r(42);
  int crossings = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const exp_sum f = random_cuba_sum(r);
    if (f(0) >= 0) continue;
    const double got = first_crossing(f);
    const double want = reference_crossing(f, 400, 0.01);
    if (want == inf) {
      // The grid may miss a sub-step excursion; the exact search must then
      // return a point where f is non-negative, or infinity.
      if (got < inf) CHECK(f(got) >= -1e-12);
      continue;
    }
    ++crossings;
    REQUIRE(got < inf);
    // Either the grid's crossing, or a genuine earlier one the grid stepped over.
    CHECK((std::abs(got - want) <= 1e-9 || (got < want && f(got) >= -1e-12)));
  }
  CHECK(crossings > 50);
}

TEST_CASE("a graze of the threshold is settled either way, as polynomial or not") {
  for (double delta : {1e-3, 1e-6, 1e-9, 1e-12}) {
    CAPTURE(delta);
    // Peak below threshold: no crossing.
    const exp_sum below = graze(delta);
    REQUIRE(below(7.0) < 0);
    CHECK(first_crossing(below) == inf);
    CHECK(first_crossing(below, 1e-10, 20) == inf);
    CHECK(first_crossing(as_polynomial(below)) == inf);
    CHECK(first_crossing(as_polynomial(below), 1e-10, 20) == inf);
    // Peak above: two crossings about 2 sqrt(delta / 0.006) ms apart; the
    // first, before the peak.
    const exp_sum above = graze(-delta);
    REQUIRE(above(7.0) > 0);
    const double want = reference_crossing(above, 20, 1e-3, 7.0);
    REQUIRE(want < 7.0);
    // Near the peak the slope is 2 sqrt(0.006 delta): rounding of f (a few
    // 1e-16) moves the root by up to that over the slope.
    const double tolerance = std::max(1e-9, 1e-14 / std::sqrt(delta));
    for (const double got :
         {first_crossing(above), first_crossing(above, 1e-10, 20),
          first_crossing(as_polynomial(above)), first_crossing(as_polynomial(above), 1e-10, 20)}) {
      REQUIRE(got < inf);
      CHECK(std::abs(got - want) <= tolerance);
      CHECK(above(got) >= -1e-15);
      CHECK(got <= 7.0);
    }
  }
}

TEST_CASE("integer_ratio: time constants that divide the base") {
  CHECK(integer_ratio(20, 20) == 1);
  CHECK(integer_ratio(20, 10) == 2);
  CHECK(integer_ratio(20, 5) == 4);
  CHECK(integer_ratio(0.3, 0.1) == 3);  // 3 * 0.1 != 0.3 in doubles, within rounding
  CHECK(integer_ratio(20, 4.5) == 0);
  CHECK(integer_ratio(20, 2) == 0);  // 10 > max_degree
  CHECK(integer_ratio(20, 30) == 0);
  CHECK(integer_ratio(20, 5 * (1 + 1e-12)) == 0);
}

TEST_CASE("polynomial crossings: random polynomials agree with a fine-grid reference") {
  rng r(7);
  int crossings = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    exp_polynomial f;
    f.tau_ms = 20;
    const auto degree = static_cast<std::size_t>(1 + trial % exp_polynomial::max_degree);
    for (std::size_t j = 0; j <= degree; ++j) f.add(r.uniform(-3, 3), j);
    const double x_min = trial % 3 == 0 ? 0.0 : r.uniform(0, 0.95);
    const double got = last_nonnegative(f, x_min, 1e-12);
    const double want = reference_last_nonnegative(f, x_min, 1e-4);
    CAPTURE(trial);
    if (want == 0.0) {
      // The grid may miss a sub-step excursion: then got must be a point
      // where p >= 0 (up to rounding).
      if (got != 0.0) CHECK(power_sum(f, got) >= -1e-12);
      continue;
    }
    ++crossings;
    REQUIRE(got >= x_min);
    // The grid's crossing, or a genuine later one (larger x) it stepped over.
    CHECK((std::abs(got - want) <= 1e-9 * want || (got > want && power_sum(f, got) >= -1e-12)));
  }
  CHECK(crossings > 500);
}

TEST_CASE("polynomial crossings: roots a hair apart, and a double root missed by a hair") {
  for (double r : {0.3, 0.6, 0.95}) {
    for (double d : {1e-2, 1e-4, 1e-6}) {
      CAPTURE(r);
      CAPTURE(d);
      // -((x - r)^2 - d^2) (1 + x^2): >= 0 exactly on [r - d, r + d]. Its
      // slope there is about 2 d, so rounding of p (1e-15) moves the roots
      // by up to 1e-15 / d.
      const double tolerance = 1e-12 + 2e-15 / d;
      exp_polynomial two;
      two.tau_ms = 20;
      const double c0 = r * r - d * d, c1 = -2 * r;  // (x - r)^2 - d^2 = x^2 + c1 x + c0
      two.add(-c0, 0);
      two.add(-c1, 1);
      two.add(-1 - c0, 2);
      two.add(-c1, 3);
      two.add(-1, 4);
      const double got = last_nonnegative(two, 0.0, 1e-12);
      CHECK(std::abs(got - (r + d)) <= tolerance);
      CHECK(std::abs(got - reference_last_nonnegative(two, 0.0, 1e-3, r)) <= 2 * tolerance);
      // -((x - r)^2 + d^2) (1 + x^2) <= -d^2 everywhere: no root.
      exp_polynomial none = two;
      none.coef[0] -= 2 * d * d;
      none.coef[2] -= 2 * d * d;
      CHECK(last_nonnegative(none, 0.0, 1e-12) == 0.0);
    }
  }
}

TEST_CASE("polynomials of cuba's shape: the same crossings as the sum of exponentials") {
  // V - V_th = c + a_m e^{-s/20} + a_e e^{-s/5} + a_i e^{-s/10} = p(e^{-s/20}).
  rng r(11);
  int crossings = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const exp_sum f = random_cuba_sum(r);
    const exp_polynomial p = as_polynomial(f);
    for (double max_s : {2.5, 20.0, inf}) {
      const double want = first_crossing(f, 1e-10, max_s);
      const double got = first_crossing(p, 1e-10, max_s);
      CAPTURE(trial);
      CAPTURE(max_s);
      if (want == inf) {
        CHECK(got == inf);
        continue;
      }
      ++crossings;
      CHECK(std::abs(got - want) <= 1e-9);
      CHECK(f(got) >= -1e-12);
    }
  }
  CHECK(crossings > 1000);
}

TEST_CASE("bernstein_window: exact at the ends, an upper bound between, tight as it narrows") {
  rng r(3);
  for (int trial = 0; trial < 200; ++trial) {
    exp_polynomial f;
    f.tau_ms = 20;
    for (std::size_t j = 0; j <= 4; ++j) f.add(r.uniform(-3, 3), j);
    const double x_min = r.uniform(0, 0.9);
    const bernstein_window w(x_min, 4);
    bernstein_coefficients b{};
    for (std::size_t k = 0; k <= 4; ++k)
      for (std::size_t j = 0; j <= 4; ++j) b[k] += w.weight[k][j] * f.coef[j];
    CHECK(b[0] == doctest::Approx(power_sum(f, x_min)).epsilon(1e-12));
    CHECK(b[4] == doctest::Approx(power_sum(f, 1.0)).epsilon(1e-12));
    const double most = *std::max_element(b.begin(), b.begin() + 5);
    for (int i = 0; i <= 100; ++i)
      CHECK(power_sum(f, x_min + (1 - x_min) * i / 100.0) <= most + 1e-12);
  }
  // The bound's excess over the true maximum shrinks like the width squared.
  exp_polynomial f;
  f.tau_ms = 20;
  f.add(-1, 0);
  f.add(3, 1);
  f.add(-2, 2);  // -1 + 3x - 2x^2: largest 0.125 at x = 0.75
  const auto excess = [&f](double half_width) {
    // g(x) = f(x - shift) peaks at the centre of the window [1 - 2 h, 1].
    const double shift = 0.25 - half_width;
    exp_polynomial g;
    g.add(f.coef[0] - f.coef[1] * shift + f.coef[2] * shift * shift, 0);
    g.add(f.coef[1] - 2 * f.coef[2] * shift, 1);
    g.add(f.coef[2], 2);
    const bernstein_window w(1.0 - 2 * half_width, 2);
    double most = -inf;
    for (std::size_t k = 0; k <= 2; ++k) {
      double bk = 0.0;
      for (std::size_t j = 0; j <= 2; ++j) bk += w.weight[k][j] * g.coef[j];
      most = std::max(most, bk);
    }
    return most - 0.125;
  };
  CHECK(excess(0.1) > 0);
  CHECK(excess(0.1) / excess(0.05) == doctest::Approx(4.0).epsilon(0.01));
}
