#include <cmath>
#include <memory>

#include <doctest/doctest.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/two_compartment.hpp"

using namespace apical;
using models::two_compartment;

namespace {
std::shared_ptr<spike_raster> raster(std::vector<double> t) {
  auto r = std::make_shared<spike_raster>();
  r->add_channel(t);
  return r;
}

std::vector<recorded_spike> run(double kappa, bool apical_input) {
  network net;
  auto& basal_src = net.add_population<poisson_source>("B", 20, {.rate_hz = 100});
  auto& apical_src = net.add_population<spike_time_source>("A", 1, {raster({5, 10, 15, 20, 25})});
  auto& p = net.add_population<two_compartment>("P", 1, {.kappa = kappa});
  rng r(1);
  net.connect(basal_src, p, two_compartment::basal,
              all_to_all(20, 1, {.weight = value_spec::constant(3.0)}, r));
  if (apical_input) net.connect(apical_src, p, two_compartment::apical, {{0, 0, 8.0f, 0.0}});
  simulator sim(net, {.seed = 4});
  spike_recorder rec(sim, {2});
  sim.run(time_ms{200});
  return rec.spikes();
}
}  // namespace

TEST_CASE("two_compartment: apical input does not disturb the soma without coupling") {
  const auto without = run(0.0, false);
  REQUIRE(without.size() > 5);
  CHECK(run(0.0, true) == without);
  // With coupling, apical input changes the somatic spike train.
  CHECK(run(0.5, true) != run(0.5, false));
}

TEST_CASE("two_compartment: apical potential decays and drives the soma in closed form") {
  const double tau_s = 20, tau_a = 10, kappa = 0.8, w = 30;
  network net;
  auto& src = net.add_population<spike_time_source>("A", 1, {raster({1.0})});
  auto& p = net.add_population<two_compartment>(
      "P", 1, {.tau_s_ms = tau_s, .tau_a_ms = tau_a, .v_th_mv = -50, .kappa = kappa});
  net.connect(src, p, two_compartment::apical, {{0, 0, static_cast<float>(w), 0.0}});
  simulator sim(net);
  spike_recorder rec(sim, {1});
  sim.run(time_ms{1.0 + 1e-12});
  for (double s : {0.5, 3.0, 12.0}) {
    CHECK(p.state_value(0, 1, 1.0 + s) == doctest::Approx(-70 + w * std::exp(-s / tau_a)));
    const double vs =
        kappa * w * tau_a / (tau_a - tau_s) * (std::exp(-s / tau_a) - std::exp(-s / tau_s));
    CHECK(p.state_value(0, 0, 1.0 + s) == doctest::Approx(-70 + vs).epsilon(1e-12));
  }
  sim.run(time_ms{100});
  // Peak somatic deflection kappa w (tau_a/(tau_s... )) ~ 7.1 mV < 20 mV: no spike.
  CHECK(rec.spikes().empty());
}

TEST_CASE("two_compartment rejects invalid parameters by name") {
  network net;
  auto bad = [&](two_compartment::parameters p) { net.add_population<two_compartment>("P", 1, p); };
  CHECK_THROWS_WITH_AS(bad({.tau_a_ms = 0}), doctest::Contains("tau_a_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.tau_s_ms = 10, .tau_a_ms = 10, .kappa = 0.5}),
                       doctest::Contains("differ"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.v_th_mv = -75}), doctest::Contains("v_reset_mv"), parameter_error);
}
