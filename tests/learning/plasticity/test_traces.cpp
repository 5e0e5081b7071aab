// Traces: the lazily decayed closed form equals the sum over the spike
// history, for both kinds, and reading never changes a trace.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "apical/learning/plasticity/traces.hpp"

using namespace apical::learning;

TEST_CASE("an all-to-all trace is the sum of exponentials of its spikes") {
  trace_table<2> t(3, {{{20.0, trace_kind::all_to_all}, {101.0, trace_kind::all_to_all}}});
  const std::vector<double> spikes = {0.5, 1.25, 7.0, 7.0, 30.125, 31.0};
  for (const double s : spikes) t.spike(1, s);
  for (const double at : {31.0, 31.5, 45.0, 200.0}) {
    double x20 = 0, x101 = 0;
    for (const double s : spikes) {
      x20 += std::exp(-(at - s) / 20.0);
      x101 += std::exp(-(at - s) / 101.0);
    }
    const auto v = t.at(1, at);
    CHECK(v[0] == doctest::Approx(x20).epsilon(1e-13));
    CHECK(v[1] == doctest::Approx(x101).epsilon(1e-13));
  }
  // Other owners are untouched; reading is pure.
  CHECK(t.at(0, 50.0)[0] == 0.0);
  CHECK(t.at(2, 50.0)[1] == 0.0);
  CHECK(t.at(1, 45.0) == t.at(1, 45.0));
}

TEST_CASE("a nearest trace only remembers the latest spike") {
  trace_table<1> t(1, {{{10.0, trace_kind::nearest}}});
  CHECK(t.at(0, 5.0)[0] == 0.0);
  t.spike(0, 1.0);
  t.spike(0, 2.5);
  CHECK(t.at(0, 2.5)[0] == 1.0);
  CHECK(t.at(0, 12.5)[0] == doctest::Approx(std::exp(-1.0)).epsilon(1e-15));
}

TEST_CASE("clear forgets every spike") {
  trace_table<1> t(2, {{{10.0, trace_kind::all_to_all}}});
  t.spike(0, 3.0);
  t.spike(1, 4.0);
  t.clear();
  CHECK(t.at(0, 0.0)[0] == 0.0);
  CHECK(t.at(1, 1.0)[0] == 0.0);
  CHECK(t.size() == 2);
}
