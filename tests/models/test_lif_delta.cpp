#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/random.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/lif_delta.hpp"

using namespace apical;
using models::lif_delta;

namespace {
std::shared_ptr<spike_raster> raster(std::initializer_list<double> times) {
  auto r = std::make_shared<spike_raster>();
  std::vector<double> t(times);
  r->add_channel(t);
  return r;
}
}  // namespace

TEST_CASE("lif_delta: free membrane decay follows the exponential") {
  network net;
  net.add_population<lif_delta>(
      "N", 1, {.e_l_mv = -70, .v_th_mv = -50, .v_init_min_mv = -55, .v_init_max_mv = -55});
  simulator sim(net);
  for (double t : {0.0, 1.0, 7.5, 20.0, 100.0})
    CHECK(net.pop(0).state_value(0, 0, t) ==
          doctest::Approx(-70.0 + 15.0 * std::exp(-t / 20.0)).epsilon(1e-14));
}

TEST_CASE("lif_delta: f-I curve equals the closed-form rate") {
  // A suprathreshold resting potential E_L acts as a constant drive; the
  // interspike interval is t_ref + tau ln((E_L - V_reset) / (E_L - V_th)).
  for (double e_l : {-49.0, -45.0, -30.0, 0.0}) {
    network net;
    net.add_population<lif_delta>("N", 1,
                                  {.tau_m_ms = 20,
                                   .e_l_mv = e_l,
                                   .v_th_mv = -50,
                                   .v_reset_mv = -60,
                                   .t_ref_ms = 5,
                                   .v_init_min_mv = -60,
                                   .v_init_max_mv = -60});
    simulator sim(net);
    spike_recorder rec(sim);
    sim.run(time_ms{2000});
    const double isi = 5.0 + 20.0 * std::log((e_l + 60.0) / (e_l + 50.0));
    const double first = 20.0 * std::log((e_l + 60.0) / (e_l + 50.0));
    REQUIRE(rec.spikes().size() >= 2);
    // Exact times, not just the rate.
    for (std::size_t k = 0; k < rec.spikes().size(); ++k)
      CHECK(std::abs(rec.spikes()[k].time_ms - (first + static_cast<double>(k) * isi)) < 1e-9);
    CHECK(static_cast<double>(rec.spikes().size()) == std::floor((2000.0 - first) / isi) + 1);
  }
}

TEST_CASE("lif_delta: refractory period is honoured and inputs during it are ignored") {
  network net;
  auto& src = net.add_population<spike_time_source>("S", 1, {raster({1.0, 2.0, 3.5, 6.5})});
  auto& n = net.add_population<lif_delta>(
      "N", 1, {.e_l_mv = -70, .v_th_mv = -55, .v_reset_mv = -70, .t_ref_ms = 2.0});
  net.connect(src, n, 0, {{0, 0, 20.0f, 0.0}});
  simulator sim(net);
  spike_recorder rec(sim, {1});
  sim.run(time_ms{10});
  // 1.0 fires; 2.0 falls in [1, 3) and is ignored; 3.5 fires; 6.5 fires.
  REQUIRE(rec.spikes().size() == 3);
  CHECK(rec.spikes()[0].time_ms == 1.0);
  CHECK(rec.spikes()[1].time_ms == 3.5);
  CHECK(rec.spikes()[2].time_ms == 6.5);
}

TEST_CASE("lif_delta: threshold crossing after an input matches the analytic time") {
  // From V0 below threshold with E_L above it, an input of w at t_in moves
  // the crossing to t_in + tau ln((E_L - V(t_in) - w) / (E_L - V_th)).
  network net;
  auto& src = net.add_population<spike_time_source>("S", 1, {raster({3.0})});
  auto& n = net.add_population<lif_delta>("N", 1,
                                          {.tau_m_ms = 10,
                                           .e_l_mv = -40,
                                           .v_th_mv = -50,
                                           .v_reset_mv = -60,
                                           .t_ref_ms = 1,
                                           .v_init_min_mv = -65,
                                           .v_init_max_mv = -65});
  net.connect(src, n, 0, {{0, 0, 4.0f, 0.5}});
  simulator sim(net);
  spike_recorder rec(sim, {1});
  sim.run(time_ms{50});
  const double v_in = -40.0 - 25.0 * std::exp(-3.5 / 10.0) + 4.0;
  const double t_expected = 3.5 + 10.0 * std::log((-40.0 - v_in) / 10.0);
  REQUIRE(!rec.spikes().empty());
  CHECK(std::abs(rec.spikes()[0].time_ms - t_expected) <= 1e-9);
}

TEST_CASE("lif_delta: the inputs of one anchor cell give the same bits in any order") {
  // The windowed path settles a neuron from per-cell sums of its inputs;
  // that equals the event loop's input-by-input result only because w and
  // every increment lie on quantize()'s grid, where sums are exact.
  const auto d = lif_delta::derive({.e_l_mv = 0, .v_th_mv = 20, .v_reset_mv = 10});
  rng r(5);
  const double cell_start = 7 * d.grid_ms;
  std::vector<std::pair<double, double>> inputs;  // time, weight
  for (int k = 0; k < 300; ++k)
    inputs.emplace_back(cell_start + r.uniform(0.0, 0.999 * d.grid_ms), r.uniform(-1.3, 0.9));
  const auto apply = [&](const std::vector<std::pair<double, double>>& seq) {
    lif_delta::state s;
    s.w_mv = lif_delta::quantize(3.7);
    lif_delta::rebase(s, d, cell_start);
    for (const auto& [t, w] : seq) lif_delta::receive(s, d, 0, w, t);
    return s.w_mv;
  };
  auto sorted = inputs;
  std::sort(sorted.begin(), sorted.end());
  auto reversed = sorted;
  std::reverse(reversed.begin(), reversed.end());
  const double w = apply(sorted);
  CHECK(std::bit_cast<std::uint64_t>(apply(reversed)) == std::bit_cast<std::uint64_t>(w));
  CHECK(std::bit_cast<std::uint64_t>(apply(inputs)) == std::bit_cast<std::uint64_t>(w));
  // And it is the trajectory's amplitude to within the grid's rounding.
  double exact = 3.7 * std::exp(-7.0 / 64.0);
  for (const auto& [t, wt] : inputs) exact += wt * std::exp((t - cell_start) / 20.0);
  CHECK(std::abs(w - exact) < 1e-10);
  CHECK(lif_delta::quantize(w) == w);
}

TEST_CASE("lif_delta rejects each invalid parameter by name") {
  network net;
  auto bad = [&](lif_delta::parameters p) { net.add_population<lif_delta>("N", 1, p); };
  CHECK_THROWS_WITH_AS(bad({.tau_m_ms = 0}), doctest::Contains("tau_m_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.tau_m_ms = -5}), doctest::Contains("tau_m_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.v_th_mv = -80}), doctest::Contains("v_reset_mv"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.t_ref_ms = -1}), doctest::Contains("t_ref_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.e_l_mv = std::nan("")}), doctest::Contains("e_l_mv"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.v_init_min_mv = -60, .v_init_max_mv = -65}),
                       doctest::Contains("v_init_min_mv"), parameter_error);
}
