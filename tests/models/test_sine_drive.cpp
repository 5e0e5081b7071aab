// The crossing search for a sum of exponentials and a sinusoid
// (sine_drive.hpp): exact extremes of the sinusoid, first crossings
// against a dense-sampling search, and sinusoids grazing the threshold.
#include <cmath>
#include <limits>
#include <numbers>

#include <doctest/doctest.h>

#include "apical/engine/random.hpp"
#include "apical/models/sine_drive.hpp"

using namespace apical;
using models::first_crossing;
using models::sine_term;
constexpr double inf = std::numeric_limits<double>::infinity();

namespace {

double f_of(const exp_sum& g, const sine_term& sine, double s) {
  return g(s) + sine(s);
}

// The first s on a grid of step h over [0, max_s] with f >= 0, bisected
// to 1e-13 ms from the sample before it; +infinity when no sample is.
double sampled_crossing(const exp_sum& g, const sine_term& sine, double max_s, double h) {
  if (f_of(g, sine, 0.0) >= 0) return 0.0;
  const auto n = static_cast<long>(std::ceil(max_s / h));
  for (long k = 1; k <= n; ++k) {
    const double s = std::min(max_s, static_cast<double>(k) * h);
    if (f_of(g, sine, s) < 0) continue;
    double lo = std::min(max_s, static_cast<double>(k - 1) * h), hi = s;
    while (hi - lo > 1e-13) {
      const double mid = 0.5 * (lo + hi);
      (f_of(g, sine, mid) >= 0 ? hi : lo) = mid;
    }
    return hi;
  }
  return inf;
}

}  // namespace

TEST_CASE("max_sin and min_sin bound sin on an interval, exactly") {
  rng r(11);
  for (int k = 0; k < 2000; ++k) {
    const double x1 = r.uniform(-50.0, 50.0);
    const double x2 = x1 + r.uniform(0.0, 1.0) * (k % 3 == 0 ? 10.0 : 1.0);
    double hi = -2.0, lo = 2.0;
    for (int j = 0; j <= 20000; ++j) {
      const double v = std::sin(x1 + (x2 - x1) * j / 20000.0);
      hi = std::max(hi, v);
      lo = std::min(lo, v);
    }
    // Above every sample, and as close to the samples as their spacing
    // allows (the peak's flatness: 1e-8 for steps below 5e-4 rad).
    CHECK(models::max_sin(x1, x2) >= hi - 1e-15);
    CHECK(models::max_sin(x1, x2) - hi < 1e-7);
    CHECK(models::min_sin(x1, x2) <= lo + 1e-15);
    CHECK(lo - models::min_sin(x1, x2) < 1e-7);
  }
}

TEST_CASE("first_crossing with a sinusoid agrees with a dense-sampling search") {
  rng r(5);
  int crossings = 0, misses = 0;
  for (int k = 0; k < 300; ++k) {
    exp_sum g;
    g.constant = r.uniform(-12.0, 1.0);
    const double taus[] = {20.0, 5.0, 10.0};
    const auto terms = static_cast<int>(r.uniform(0.0, 3.999));
    for (int j = 0; j < terms; ++j) g.add(r.uniform(-15.0, 15.0), taus[j]);
    const sine_term sine{r.uniform(0.0, 8.0), 2 * std::numbers::pi * r.uniform(0.005, 0.3),
                         r.uniform(0.0, 2 * std::numbers::pi)};
    const double max_s = 10.0;
    const double got = first_crossing(g, sine, max_s);
    const double want = sampled_crossing(g, sine, max_s, 2e-4);
    if (want < inf) {
      ++crossings;
      // The sampled search may step over a brief excursion above
      // threshold; the exact one may then find it first.
      REQUIRE(got <= want + 1e-9);
      if (got < want - 1e-9) CHECK(f_of(g, sine, got) >= -1e-12);
    } else if (got < inf) {
      CHECK(f_of(g, sine, got) >= -1e-12);
    } else {
      ++misses;
    }
    if (want < inf && got >= want - 1e-9) CHECK(std::abs(got - want) < 1e-9);
  }
  // Both kinds of cases occur.
  CHECK(crossings > 50);
  CHECK(misses > 50);
}

TEST_CASE("a sinusoid grazing the threshold by 1e-9 mV crosses, or not, exactly") {
  // f(s) = c + a e^{-s/tau} + B sin(omega s + psi): its maximum found by
  // sampling and golden sections, then c moved so that the peak is 1e-9 mV
  // below, or above, zero.
  const sine_term sine{3.0, 2 * std::numbers::pi * 0.05, 0.3};  // 50 Hz, peak near s = 4 ms
  exp_sum g;
  g.constant = 0.0;
  g.add(-2.0, 20.0);
  double best = 0.0;
  for (int j = 0; j <= 10000; ++j)
    if (f_of(g, sine, j * 1e-3) > f_of(g, sine, best)) best = j * 1e-3;
  long double lo = best - 2e-3, hi = best + 2e-3;
  const auto fl = [&](long double s) {
    return -2.0L * std::exp(-s / 20.0L) + 3.0L * std::sin(sine.omega_per_ms * s + sine.phase);
  };
  for (int j = 0; j < 200; ++j) {
    const long double m1 = lo + (hi - lo) * 0.382L, m2 = lo + (hi - lo) * 0.618L;
    (fl(m1) < fl(m2) ? lo : hi) = fl(m1) < fl(m2) ? m1 : m2;
  }
  const long double peak = fl((lo + hi) / 2);
  g.constant = static_cast<double>(-peak - 1e-9L);
  CHECK(first_crossing(g, sine, 10.0) == inf);
  g.constant = static_cast<double>(-peak + 1e-9L);
  const double s = first_crossing(g, sine, 10.0);
  REQUIRE(s < inf);
  // Near the peak p, f ~ 1e-9 + f''(p) (s - p)^2 / 2: the crossing is
  // sqrt(2e-9 / |f''(p)|) (about 8e-5 ms) before it.
  const double p = static_cast<double>((lo + hi) / 2);
  const double curvature =
      3.0 * sine.omega_per_ms * sine.omega_per_ms * std::sin(sine.omega_per_ms * p + sine.phase) +
      2.0 / 400.0 * std::exp(-p / 20.0);
  const double shift = std::sqrt(2e-9 / curvature);
  CHECK(std::abs(s - (p - shift)) < 0.01 * shift);
  CHECK(f_of(g, sine, s) >= -1e-12);
}

TEST_CASE("sine_drive: the particular solution solves tau_m V' + V = A sin(...)") {
  const double tau = 20.0, a = 4.0, f_hz = 30.0, phase_deg = 40.0, origin = 2.5;
  const models::sine_drive d(a, f_hz, phase_deg, origin, tau);
  const double w = 2 * std::numbers::pi * f_hz / 1000.0;
  for (const double t : {0.0, 3.0, 17.25, 1234.5, 1e6 + 0.125}) {
    // V_p' by the five-point stencil (truncation ~1e-12; the rounding of
    // the phase at t = 1e6 ms, ~1e-11 rad, adds ~1e-8).
    const double h = 1e-2;
    const double dv =
        (d.at(t - 2 * h) - 8 * d.at(t - h) + 8 * d.at(t + h) - d.at(t + 2 * h)) / (12 * h);
    const double drive = a * std::sin(w * (t - origin) + phase_deg * std::numbers::pi / 180);
    CHECK(std::abs(tau * dv + d.at(t) - drive) < 1e-6);
  }
  // A negative amplitude is the same sinusoid shifted by half a period.
  const models::sine_drive n(-a, f_hz, phase_deg, origin, tau);
  CHECK(n.at(7.0) == doctest::Approx(-d.at(7.0)).epsilon(1e-12));
}
