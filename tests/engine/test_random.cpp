#include <cmath>
#include <set>

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
