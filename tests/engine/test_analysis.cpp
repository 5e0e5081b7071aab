#include <cmath>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/analysis.hpp"

using namespace apical;

TEST_CASE("rates and CV of ISIs from recorded spikes") {
  std::vector<recorded_spike> s;
  // Neuron 0: regular every 10 ms (CV 0); neuron 1: intervals 10, 30 (CV 0.5).
  for (int k = 0; k < 10; ++k) s.push_back({10.0 * k, 0, 0});
  s.push_back({0.0, 0, 1});
  s.push_back({10.0, 0, 1});
  s.push_back({40.0, 0, 1});
  s.push_back({5.0, 1, 0});  // another population
  const auto a = activity(s, 0, 4, 0.0, 100.0);
  CHECK(a.spikes == 13);
  CHECK(a.rate_hz == doctest::Approx(13.0 / (4 * 0.1)));
  CHECK(a.neurons_with_cv == 2);
  CHECK(a.cv_isi == doctest::Approx(0.25));
  CHECK(std::isnan(activity(s, 1, 1, 0.0, 100.0).cv_isi));
  CHECK(peak_rss_bytes() > 0);
}
