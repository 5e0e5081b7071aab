#include <algorithm>
#include <cmath>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/analysis.hpp"
#include "apical/engine/random.hpp"

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

TEST_CASE("activity_accumulator fed spike by spike equals activity() bit for bit") {
  std::vector<recorded_spike> s;
  rng r(3);
  for (int k = 0; k < 2000; ++k)
    s.push_back({r.uniform(0.0, 1000.0), 0, static_cast<std::uint32_t>(r.below(20))});
  std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.time_ms < b.time_ms; });
  activity_accumulator acc(20);
  for (const auto& sp : s) acc.add(sp.neuron, sp.time_ms);
  const auto a = acc.result(0.0, 1000.0);
  const auto b = activity(s, 0, 20, 0.0, 1000.0);
  CHECK(a.spikes == 2000);
  CHECK(a.spikes == b.spikes);
  CHECK(a.rate_hz == b.rate_hz);
  CHECK(a.cv_isi == b.cv_isi);  // the same sums in the same order
  CHECK(a.neurons_with_cv == 20);
  // A Poisson-like train: CV near 1.
  CHECK(a.cv_isi == doctest::Approx(1.0).epsilon(0.15));
}
