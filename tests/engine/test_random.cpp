#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/random.hpp"

using namespace apical;

TEST_CASE("streams are reproducible and distinct") {
  rng a(derive_seed(1, stream::connectivity, 0)), b(derive_seed(1, stream::connectivity, 0));
  rng c(derive_seed(1, stream::connectivity, 1)), d(derive_seed(2, stream::connectivity, 0));
  for (int i = 0; i < 100; ++i) CHECK(a() == b());
  std::set<std::uint64_t> firsts{rng(derive_seed(1, stream::connectivity, 0))(), c(), d(),
                                 rng(derive_seed(1, stream::initial_state, 0))()};
  CHECK(firsts.size() == 4);
}

TEST_CASE("distributions have the right moments") {
  rng r(3);
  const int n = 200000;
  double su = 0, se = 0, sn = 0, sn2 = 0;
  std::uint64_t below_hits[10] = {};
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    CHECK((u >= 0 && u < 1));
    su += u;
    se += r.exponential(2.0);
    const double z = r.normal();
    sn += z;
    sn2 += z * z;
    ++below_hits[r.below(10)];
  }
  CHECK(su / n == doctest::Approx(0.5).epsilon(0.01));
  CHECK(se / n == doctest::Approx(2.0).epsilon(0.02));
  CHECK(std::abs(sn / n) < 0.01);
  CHECK(sn2 / n == doctest::Approx(1.0).epsilon(0.02));
  for (auto h : below_hits)
    CHECK(static_cast<double>(h) == doctest::Approx(n / 10.0).epsilon(0.03));
}

TEST_CASE("Gamma draws have the law's mean, variance and P(X < median)") {
  // Gamma(k, scale s): mean k s, variance k s^2; shapes below 1 take the
  // boosted path. The medians (scale 1) are reference values of the law.
  struct row {
    double shape, median;
  };
  for (const row c : {row{0.3, 0.07313114}, row{1.0, 0.6931472}, row{3.7, 3.372538}, row{50.0, 49.66706}}) {
    CAPTURE(c.shape);
    rng r(11);
    const int n = 200000;
    const double scale = 1.5;
    double s = 0, s2 = 0;
    int below = 0;
    for (int i = 0; i < n; ++i) {
      const double x = r.gamma(c.shape, scale);
      REQUIRE(x >= 0.0);
      s += x;
      s2 += x * x;
      below += x < c.median * scale;
    }
    const double mean = s / n;
    CHECK(mean == doctest::Approx(c.shape * scale).epsilon(0.015));
    CHECK(s2 / n - mean * mean == doctest::Approx(c.shape * scale * scale).epsilon(0.04));
    CHECK(static_cast<double>(below) / n == doctest::Approx(0.5).epsilon(0.01));
  }
}

TEST_CASE("Poisson counts have mean and variance equal to the mean") {
  rng r(5);
  for (const double mean : {0.3, 3.5, 40.0}) {
    CAPTURE(mean);
    const int n = 50000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const auto k = static_cast<double>(r.poisson(mean));
      s += k;
      s2 += k * k;
    }
    const double m = s / n;
    // Standard errors: sqrt(mean / n) for the mean, about
    // mean sqrt(2 / n) for the variance.
    CHECK(m == doctest::Approx(mean).epsilon(0.02));
    CHECK(s2 / n - m * m == doctest::Approx(mean).epsilon(0.04));
  }
  CHECK(r.poisson(0.0) == 0);
}

TEST_CASE("the ziggurat exponential follows the exponential law, tail included") {
  // Kolmogorov-Smirnov against 1 - exp(-x / mean): the 1 % critical value
  // of D for n draws is 1.63 / sqrt(n).
  rng r(derive_seed(4, stream::poisson_input, 1));
  const double mean = 2.5;
  const std::size_t n = 200000;
  std::vector<double> x(n);
  double sum = 0.0;
  std::size_t tail = 0;
  for (auto& v : x) {
    v = r.exponential_ziggurat(mean);
    REQUIRE(v > 0.0);
    REQUIRE(std::isfinite(v));
    sum += v;
    tail += v > 7.69711747013104972 * mean;  // beyond the base layer's edge
  }
  std::sort(x.begin(), x.end());
  double d = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    const double f = 1.0 - std::exp(-x[k] / mean);
    d = std::max({d, std::abs(f - static_cast<double>(k) / n),
                  std::abs(f - static_cast<double>(k + 1) / n)});
  }
  CHECK(d < 1.63 / std::sqrt(static_cast<double>(n)));
  CHECK(sum / n == doctest::Approx(mean).epsilon(4.0 / std::sqrt(static_cast<double>(n))));
  // P(X > 7.697 mean) = 4.5e-4: about 91 of 200,000, sd 9.5.
  CHECK(std::abs(static_cast<double>(tail) - 90.8) < 5 * 9.5);
}
