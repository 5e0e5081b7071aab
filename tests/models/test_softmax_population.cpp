// softmax_population: one spike per clock tick, drawn from the softmax of the
// potentials (counts against the multinomial), the clock (regular: exact
// tick count; Poisson: its mean), the potentials' closed-form decay,
// apical input ignored, seeding, and its errors.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/network.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/softmax_population.hpp"

namespace {

using apical::synapse;
using apical::time_ms;

struct run_result {
  std::vector<std::size_t> counts;
  std::vector<double> times;
  std::vector<std::uint32_t> cells;
};

// One source spike at 0.2 ms sets cell k's potential to weights[k] (basal);
// optionally a second source hits the apical compartments hard.
run_result drive(const apical::models::softmax_parameters& p, const std::vector<float>& weights,
                 double duration_ms, std::uint64_t seed, bool apical_input = false) {
  apical::network net;
  auto& src = net.add_population<apical::spike_time_source>("in", 2);
  auto raster = std::make_shared<apical::spike_raster>();
  const std::vector<double> at{0.2};
  raster->add_channel(at);
  raster->add_channel(at);
  src.set_params({raster});
  const auto n = static_cast<std::uint32_t>(weights.size());
  auto& out = static_cast<apical::models::softmax_population&>(
      net.add(std::make_unique<apical::models::softmax_population>("out", n, p)));
  std::vector<synapse> basal, apical;
  for (std::uint32_t k = 0; k < n; ++k) {
    basal.push_back({0, k, weights[k], 0.0});
    apical.push_back({1, k, 50.0f, 0.0});
  }
  net.connect(src, out, apical::models::softmax_population::basal, basal);
  if (apical_input) net.connect(src, out, apical::models::softmax_population::apical, apical);
  apical::simulator sim(net, apical::simulation_options{seed});
  apical::spike_recorder rec(sim, {out.id()});
  sim.run_until(time_ms{duration_ms});
  run_result r;
  r.counts.assign(n, 0);
  for (const auto& s : rec.spikes()) {
    ++r.counts[s.neuron];
    r.times.push_back(s.time_ms);
    r.cells.push_back(s.neuron);
  }
  return r;
}

apical::models::softmax_parameters constant_potentials() {
  apical::models::softmax_parameters p;
  p.tau_ms = 1e12;  // no decay over the run
  p.rate_hz = 1000.0;
  p.beta_per_mv = 0.8;
  return p;
}

}  // namespace

TEST_CASE("softmax_population: each tick fires one cell, drawn from softmax(beta u)") {
  const std::vector<float> w{0.0f, 1.0f, 2.5f, -1.0f};
  const auto p = constant_potentials();
  const double duration = 40000.0;  // 40,000 ticks at 1 kHz
  const auto r = drive(p, w, duration, 7);
  // Regular clock: ticks at (n + 1/2) ms, exactly one spike each.
  REQUIRE(r.times.size() == 40000);
  bool on_grid = true;
  for (std::size_t n = 0; n < r.times.size(); ++n)
    on_grid = on_grid && r.times[n] == static_cast<double>(n) + 0.5;
  CHECK(on_grid);
  double z = 0.0;
  for (float u : w) z += std::exp(p.beta_per_mv * u);
  for (std::size_t k = 0; k < w.size(); ++k) {
    const double q = std::exp(p.beta_per_mv * w[k]) / z;
    const double mean = 40000.0 * q, sd = std::sqrt(40000.0 * q * (1.0 - q));
    CAPTURE(k);
    CHECK(std::abs(static_cast<double>(r.counts[k]) - mean) < 4.0 * sd);
  }
}

TEST_CASE("softmax_population: potentials decay in closed form; apical input is ignored") {
  apical::models::softmax_parameters p;
  p.tau_ms = 15.0;
  p.e_l_mv = -65.0;
  const auto a = drive(p, {3.0f, 0.0f, -2.0f}, 300.0, 11);
  const auto b = drive(p, {3.0f, 0.0f, -2.0f}, 300.0, 11, true);
  CHECK(a.times == b.times);
  CHECK(a.cells == b.cells);
  CHECK(a.times.size() == 60);  // 200 Hz over 300 ms
  // Cell 0 wins most ticks while its potential lasts, then the draw is even.
  std::size_t early = 0, late_zero = 0, late = 0;
  for (std::size_t n = 0; n < a.times.size(); ++n) {
    if (a.times[n] < 10.0) early += a.cells[n] == 0;
    if (a.times[n] > 150.0) {
      ++late;
      late_zero += a.cells[n] == 0;
    }
  }
  CHECK(early >= 1);
  CHECK(late_zero < late);
}

TEST_CASE("softmax_population: state and probabilities at a time") {
  apical::models::softmax_parameters p;
  p.tau_ms = 15.0;
  p.e_l_mv = -65.0;
  p.beta_per_mv = 2.0;
  apical::network net;
  auto& src = net.add_population<apical::spike_time_source>("in", 1);
  auto raster = std::make_shared<apical::spike_raster>();
  const std::vector<double> at{1.0};
  raster->add_channel(at);
  src.set_params({raster});
  auto& out = static_cast<apical::models::softmax_population&>(
      net.add(std::make_unique<apical::models::softmax_population>("out", 2, p)));
  net.connect(src, out, apical::models::softmax_population::basal,
              std::vector<synapse>{{0, 0, 4.0f, 0.0}, {0, 1, 1.0f, 0.0}});
  apical::simulator sim(net, apical::simulation_options{3});
  sim.run_until(time_ms{2.0});
  const auto v = out.state_index("v_mv");
  const double f = std::exp(-9.0 / 15.0);  // from 1 ms to 10 ms
  CHECK(out.state_value(0, v, 10.0) == doctest::Approx(-65.0 + 4.0 * f).epsilon(1e-12));
  CHECK(out.state_value(1, v, 10.0) == doctest::Approx(-65.0 + 1.0 * f).epsilon(1e-12));
  const auto q = out.probabilities(10.0);
  const double q0 = 1.0 / (1.0 + std::exp(-2.0 * 3.0 * f));
  CHECK(q[0] == doctest::Approx(q0).epsilon(1e-12));
  CHECK(q[0] + q[1] == doctest::Approx(1.0));
}

TEST_CASE("softmax_population: a Poisson clock, seeded") {
  auto p = constant_potentials();
  p.regular = 0.0;
  const auto a = drive(p, {0.0f, 0.0f}, 10000.0, 5);
  const auto b = drive(p, {0.0f, 0.0f}, 10000.0, 5);
  const auto c = drive(p, {0.0f, 0.0f}, 10000.0, 6);
  CHECK(a.times == b.times);
  CHECK(a.cells == b.cells);
  CHECK(a.times != c.times);
  // 10,000 expected ticks, sd 100.
  CHECK(std::abs(static_cast<double>(a.times.size()) - 10000.0) < 500.0);
  for (std::size_t n = 1; n < a.times.size(); ++n) REQUIRE(a.times[n] > a.times[n - 1]);
}

TEST_CASE("softmax_population rejects invalid parameters, naming them") {
  apical::models::softmax_parameters p;
  p.rate_hz = 0.0;
  CHECK_THROWS_WITH_AS(apical::models::softmax_population("out", 2, p),
                       doctest::Contains("'rate_hz' is 0"), apical::parameter_error);
  p = {};
  p.tau_ms = -1.0;
  CHECK_THROWS_WITH_AS(apical::models::softmax_population("out", 2, p),
                       doctest::Contains("'tau_ms'"), apical::parameter_error);
  p = {};
  p.regular = 0.5;
  CHECK_THROWS_WITH_AS(apical::models::softmax_population("out", 2, p),
                       doctest::Contains("'regular'"), apical::parameter_error);
  CHECK_THROWS_AS(apical::models::softmax_population("out", 0, {}), apical::parameter_error);
  apical::models::softmax_population pop("out", 2, {});
  CHECK_THROWS_WITH_AS(pop.set_parameter("beta", 1.0), doctest::Contains("beta_per_mv"),
                       apical::parameter_error);
  pop.set_parameter("beta_per_mv", 3.0);
  CHECK(pop.parameter("beta_per_mv") == 3.0);
}
