#include <cmath>
#include <memory>

#include <doctest/doctest.h>

#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"

using namespace apical;

TEST_CASE("poisson_source: rate and exponential intervals") {
  network net;
  auto& src = net.add_population<poisson_source>("P", 200, {.rate_hz = 50.0});
  simulator sim(net, {.seed = 3});
  spike_recorder rec(sim);
  sim.run(time_ms{10000});
  const double rate = static_cast<double>(rec.spikes().size()) / (200 * 10.0);
  CHECK(rate == doctest::Approx(50.0).epsilon(0.02));
  // CV of the intervals of an exponential distribution is 1.
  std::vector<std::vector<double>> trains(src.size());
  for (const auto& s : rec.spikes()) trains[s.neuron].push_back(s.time_ms);
  double sum = 0, sum2 = 0;
  std::size_t n = 0;
  for (const auto& t : trains)
    for (std::size_t k = 1; k < t.size(); ++k) {
      const double isi = t[k] - t[k - 1];
      sum += isi;
      sum2 += isi * isi;
      ++n;
    }
  const double mean = sum / static_cast<double>(n);
  CHECK(mean == doctest::Approx(20.0).epsilon(0.02));
  CHECK(std::sqrt(sum2 / static_cast<double>(n) - mean * mean) / mean ==
        doctest::Approx(1.0).epsilon(0.03));
}

TEST_CASE("poisson_source respects start and stop") {
  network net;
  net.add_population<poisson_source>("P", 50,
                                     {.rate_hz = 200.0, .start_ms = 10.0, .stop_ms = 30.0});
  simulator sim(net);
  spike_recorder rec(sim);
  sim.run(time_ms{100});
  REQUIRE(!rec.spikes().empty());
  for (const auto& s : rec.spikes()) CHECK((s.time_ms >= 10.0 && s.time_ms < 30.0));
}

TEST_CASE("regular_source: evenly spaced, exact times") {
  network net;
  net.add_population<regular_source>("R", 1, {.rate_hz = 40.0, .start_ms = 5.0, .phase_ms = 0.5});
  simulator sim(net);
  spike_recorder rec(sim);
  sim.run(time_ms{100});
  REQUIRE(rec.spikes().size() == 4);  // 5.5, 30.5, 55.5, 80.5
  for (std::size_t k = 0; k < 4; ++k)
    CHECK(rec.spikes()[k].time_ms == 5.5 + 25.0 * static_cast<double>(k));
}

TEST_CASE("spike_time_source replays a raster exactly, reset replays it again") {
  auto raster = std::make_shared<spike_raster>();
  const double c0[] = {0.125, 3.3333333333333335, 7.0};
  const double c1[] = {2.0};
  raster->add_channel(c0);
  raster->add_channel(c1);
  network net;
  net.add_population<spike_time_source>("S", 3, {raster});
  simulator sim(net);
  spike_recorder rec(sim);
  sim.run(time_ms{10});
  REQUIRE(rec.spikes().size() == 4);
  CHECK(rec.spikes()[0].time_ms == 0.125);
  CHECK(rec.spikes()[1].time_ms == 2.0);
  CHECK(rec.spikes()[1].neuron == 1);
  CHECK(rec.spikes()[2].time_ms == 3.3333333333333335);
  rec.clear();
  sim.reset();
  sim.run(time_ms{5});
  CHECK(rec.spikes().size() == 3);
}

TEST_CASE("sources reject bad parameters") {
  network net;
  CHECK_THROWS_WITH_AS(net.add_population<poisson_source>("P", 1, {.rate_hz = -1.0}),
                       doctest::Contains("rate_hz"), parameter_error);
  CHECK_THROWS_WITH_AS(net.add_population<poisson_source>("Q", 1, {.rate_hz = std::nan("")}),
                       doctest::Contains("rate_hz"), parameter_error);
  CHECK_THROWS_WITH_AS(
      net.add_population<regular_source>("R", 1, {.rate_hz = 1.0, .start_ms = 5.0, .stop_ms = 1.0}),
      doctest::Contains("stop_ms"), parameter_error);
  auto bad = std::make_shared<spike_raster>();
  const double unsorted[] = {2.0, 1.0};
  bad->add_channel(unsorted);
  CHECK_THROWS_WITH_AS(net.add_population<spike_time_source>("S", 1, {bad}),
                       doctest::Contains("sorted"), parameter_error);
}
