#include <cmath>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"

using namespace apical;

namespace {
// Every neuron's inter-spike intervals, pooled.
std::vector<double> intervals(const spike_recorder& rec, std::size_t neurons) {
  std::vector<std::vector<double>> trains(neurons);
  for (const auto& s : rec.spikes()) trains[s.neuron].push_back(s.time_ms);
  std::vector<double> isi;
  for (const auto& t : trains)
    for (std::size_t k = 1; k < t.size(); ++k) isi.push_back(t[k] - t[k - 1]);
  return isi;
}
}  // namespace

TEST_CASE("poisson_source: rate and exponential intervals") {
  network net;
  auto& src = net.add_population<poisson_source>("P", 200, {.rate_hz = 50.0});
  simulator sim(net, {.seed = 3});
  spike_recorder rec(sim);
  sim.run(time_ms{10000});
  const double rate = static_cast<double>(rec.spikes().size()) / (200 * 10.0);
  CHECK(rate == doctest::Approx(50.0).epsilon(0.02));
  // CV of the intervals of an exponential distribution is 1.
  double sum = 0, sum2 = 0;
  const std::vector<double> isi = intervals(rec, src.size());
  for (const double x : isi) {
    sum += x;
    sum2 += x * x;
  }
  const double n = static_cast<double>(isi.size());
  const double mean = sum / n;
  CHECK(mean == doctest::Approx(20.0).epsilon(0.02));
  CHECK(std::sqrt(sum2 / n - mean * mean) / mean ==
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

TEST_CASE("gamma_source: rate, and intervals with the Gamma law's CV and skewness") {
  // Gamma(shape k): CV 1/sqrt(k), skewness 2/sqrt(k).
  for (const double shape : {0.5, 2.0, 5.0}) {
    CAPTURE(shape);
    network net;
    auto& src = net.add_population<gamma_source>("G", 200, {.rate_hz = 50.0, .shape = shape});
    simulator sim(net, {.seed = 5});
    spike_recorder rec(sim);
    sim.run(time_ms{10000});
    const double rate = static_cast<double>(rec.spikes().size()) / (200 * 10.0);
    CHECK(rate == doctest::Approx(50.0).epsilon(0.02));
    const std::vector<double> isi = intervals(rec, src.size());
    double mean = 0;
    for (const double x : isi) mean += x;
    mean /= static_cast<double>(isi.size());
    double m2 = 0, m3 = 0;
    for (const double x : isi) {
      m2 += (x - mean) * (x - mean);
      m3 += (x - mean) * (x - mean) * (x - mean);
    }
    m2 /= static_cast<double>(isi.size());
    m3 /= static_cast<double>(isi.size());
    CHECK(mean == doctest::Approx(20.0).epsilon(0.02));
    CHECK(std::sqrt(m2) / mean == doctest::Approx(1.0 / std::sqrt(shape)).epsilon(0.03));
    CHECK(m3 / std::pow(m2, 1.5) == doctest::Approx(2.0 / std::sqrt(shape)).epsilon(0.1));
  }
}

TEST_CASE("gamma_source respects start and stop, and its first spike is one interval after start") {
  network net;
  net.add_population<gamma_source>("G", 400,
                                   {.rate_hz = 100.0, .shape = 4.0, .start_ms = 10.0, .stop_ms = 30.0});
  simulator sim(net);
  spike_recorder rec(sim);
  sim.run(time_ms{100});
  REQUIRE(!rec.spikes().empty());
  std::vector<double> first(400, -1.0);
  for (const auto& s : rec.spikes()) {
    CHECK((s.time_ms >= 10.0 && s.time_ms < 30.0));
    if (first[s.neuron] < 0) first[s.neuron] = s.time_ms;
  }
  // A whole Gamma(4) interval of mean 10 ms after start: few first spikes
  // come within 2 ms (P = 0.009: about 4 of 400), where an exponential first
  // interval would put about 72.
  int early = 0;
  for (const double t : first) early += t >= 0 && t < 12.0;
  CHECK(early < 15);
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
  CHECK_THROWS_WITH_AS(net.add_population<gamma_source>("G", 1, {.shape = 0.0}),
                       doctest::Contains("shape"), parameter_error);
  CHECK_THROWS_WITH_AS(net.add_population<gamma_source>("H", 1, {.shape = std::nan("")}),
                       doctest::Contains("shape"), parameter_error);
  CHECK_THROWS_WITH_AS(
      net.add_population<regular_source>("R", 1, {.rate_hz = 1.0, .start_ms = 5.0, .stop_ms = 1.0}),
      doctest::Contains("stop_ms"), parameter_error);
  auto bad = std::make_shared<spike_raster>();
  const double unsorted[] = {2.0, 1.0};
  bad->add_channel(unsorted);
  CHECK_THROWS_WITH_AS(net.add_population<spike_time_source>("S", 1, {bad}),
                       doctest::Contains("sorted"), parameter_error);
}
