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

TEST_CASE("a read in two factors: a moment shared by owners, an entry lifted to its anchor") {
  trace_table<2> t(4, {{{20.0, trace_kind::all_to_all}, {7.0, trace_kind::nearest}}});
  // The period: a power of two, at most 4 tau_min (28 ms here: 16).
  CHECK(t.period_ms() == 16.0);
  CHECK(t.anchor(47.9) == 32.0);
  CHECK(t.anchor(48.0) == 48.0);
  CHECK(t.anchor(-0.5) == -16.0);
  t.spike(0, 1.0);
  t.spike(0, 3.5);
  t.spike(1, 30.25);
  t.spike(2, 47.0);
  for (const double at : {31.0, 47.5, 48.0, 63.99, 64.0, 500.0}) {
    CAPTURE(at);
    const auto m = t.moment_of(at);
    CHECK(m.anchor_ms == t.anchor(at));
    for (std::uint32_t owner = 0; owner < 4; ++owner) {
      CAPTURE(owner);
      const auto& e = t.raw(owner);
      if (e.t_ms > at) continue;
      const auto direct = t.at(owner, at);
      // The same bits through the moment, and through a lifted entry.
      CHECK(t.at(owner, m) == direct);
      if (e.t_ms < at) CHECK(trace_table<2>::decayed(t.lift(e, m.anchor_ms), m.decay) == direct);
      // The value itself, to rounding.
      for (std::size_t j = 0; j < 2; ++j) {
        const double tau = j == 0 ? 20.0 : 7.0;
        CHECK(direct[j] ==
              doctest::Approx(e.value[j] * std::exp((e.t_ms - at) / tau)).epsilon(1e-14));
      }
    }
  }
  // At the owner's own spike the stored value itself (1 for a nearest
  // trace, exactly).
  CHECK(t.at(2, 47.0) == t.raw(2).value);
  CHECK(t.at(2, 47.0)[1] == 1.0);
}
