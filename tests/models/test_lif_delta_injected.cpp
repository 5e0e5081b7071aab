// lif_delta_injected: lif_delta with PyNN's current sources (a
// piecewise-constant current and a sinusoid) on the engine's event path.
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/random.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/lif_delta_injected.hpp"
#include "injection_fixtures.hpp"
#include "sine_reference.hpp"

using namespace apical;
using models::lif_delta_injected;

namespace {
lif_delta_injected::parameters parameters_with(double i_inj_init_mv) {
  auto p = test::cell_at_rest<lif_delta_injected::parameters>();
  p.i_inj_init_mv = i_inj_init_mv;
  return p;
}
const auto jump = [](test::sine_membrane& ref, double w) { ref.v += w; };
}  // namespace

TEST_CASE("lif_delta_injected: a step current moves V along the closed form") {
  auto p = parameters_with(3.0);
  p.v_th_mv = 100;
  const test::schedule s{{7.5, 30.25, 41.0}, {-4.0, 11.0, 0.0}};
  network net;
  auto& n = net.add_population<lif_delta_injected>("N", 3, p);
  test::inject(net, n, s, 0.5);
  const test::schedule from_0{{0.0, 7.5, 30.25, 41.0}, {3.0, -4.0, 11.0, 0.0}};
  CHECK(test::largest_error(
            net, 60.0, [&](double u) { return test::relaxed(-65, 20, -65, from_0, u); }) < 1e-12);
}

TEST_CASE("lif_delta_injected: a DC step above threshold fires at the first-passage times") {
  test::check_first_passages<lif_delta_injected>(parameters_with(0.0), 40.0);
}

TEST_CASE("lif_delta_injected: inputs jump V, fire at once above threshold, not while refractory") {
  // Rest -65 mV: an input of 20 mV at 10 ms fires at 10 ms; one at 11 ms
  // (refractory until 12 ms) is ignored; one of 5 mV at 20 ms lands on
  // V_reset relaxed for 8 ms.
  const auto p = parameters_with(0.0);
  network net;
  auto& n = net.add_population<lif_delta_injected>("N", 1, p);
  auto raster = std::make_shared<spike_raster>();
  raster->add_channel(std::vector<double>{9.0});
  raster->add_channel(std::vector<double>{10.0});
  raster->add_channel(std::vector<double>{19.0});
  auto& src = net.add_population<spike_time_source>("S", 3, {raster});
  net.connect(src, n, 0, {{0, 0, 20.0f, 1.0}, {1, 0, 20.0f, 1.0}, {2, 0, 5.0f, 1.0}});
  simulator sim(net);
  spike_recorder rec(sim, {0});
  const auto v = sim.record_state(0, "v_mv", {0}, time_ms{0.5});
  sim.run(time_ms{30});
  REQUIRE(rec.spikes().size() == 1);
  CHECK(rec.spikes()[0].time_ms == 10.0);
  const auto& got = sim.state_recording(v);
  for (std::size_t k = 0; k < got.times_ms.size(); ++k) {
    const double t = got.times_ms[k];
    if (t <= 10.0 || t == 20.0 || t >= 30.0) continue;  // (before or after the input)
    double want = t < 12.0 ? -70.0 : -65.0 - 5.0 * std::exp(-(t - 12.0) / 20.0);
    if (t >= 20.0) want += 5.0 * std::exp(-(t - 20.0) / 20.0);
    CHECK(got.values[k] == doctest::Approx(want).epsilon(1e-13));
  }
}

TEST_CASE("lif_delta_injected: a sinusoid with jumps and steps follows a long-double RK4") {
  auto p = parameters_with(2.0);
  p.v_th_mv = 100;
  p.ac_amplitude_mv = 9.0;
  p.ac_frequency_hz = 25.0;
  p.ac_phase_deg = -60.0;
  p.ac_start_ms = 3.0;
  const auto w = models::injection_weights(5.5);
  const int sw = lif_delta_injected::ac_switch_compartment;
  const std::vector<test::scripted_input> inputs = {
      {3.0, sw, 1.0},  {8.2, 0, 3.0},   {15.0, 1, w[0]}, {15.0, 2, w[1]},
      {15.0, 3, w[2]}, {33.3, 0, -2.0}, {40.0, sw, 0.0}, {44.0, sw, 1.0}};
  CHECK(test::largest_trajectory_error<lif_delta_injected>(p, test::reference_of(p), inputs, 70.0,
                                                           0.29, jump) < 1e-10);
}

TEST_CASE("lif_delta_injected: spikes under a sinusoid are those of a dense-sampling search") {
  // Rest -51 mV, the sinusoid's membrane amplitude 9.8 mV: bursts of
  // spikes around its peaks.
  auto p = parameters_with(14.0);
  p.ac_amplitude_mv = 14.0;
  p.ac_frequency_hz = 8.0;
  p.ac_phase_deg = 90.0;
  p.ac_on_init = 1.0;
  const auto got = test::engine_spikes<lif_delta_injected>(p, 1000.0);
  const auto want =
      test::reference_of(p).spikes(0, 1000, 1e-3L, p.v_th_mv, p.v_reset_mv, p.t_ref_ms);
  REQUIRE(want.size() > 8);
  REQUIRE(got.size() == want.size());
  for (std::size_t k = 0; k < got.size(); ++k) CHECK(std::abs(got[k] - want[k]) < 1e-9);
}

TEST_CASE("lif_delta_injected checks its parameters by name") {
  auto p = parameters_with(0.0);
  p.ac_on_init = 2.0;
  CHECK_THROWS_WITH_AS(lif_delta_injected::derive(p), doctest::Contains("ac_on_init"),
                       parameter_error);
  p = parameters_with(0.0);
  p.tau_m_ms = 0.0;
  CHECK_THROWS_WITH_AS(lif_delta_injected::derive(p), doctest::Contains("tau_m_ms"),
                       parameter_error);
}
