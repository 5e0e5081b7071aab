// The microcircuit's cells: pyramidal_cell is two_compartment (kappa = 0)
// spike for spike; error_cell counts its net drive (sigma-delta), is gated,
// opens at open_from_ms, and an E+/E- pair coupled by theta is a signed
// counter.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/network.hpp"
#include "apical/engine/random.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/microcircuit_cells.hpp"
#include "apical/models/two_compartment.hpp"
#include "spike_fixtures.hpp"

namespace {

using apical::spike_raster;
using apical::synapse;
using apical::time_ms;

using apical::test::poisson_raster;
using apical::test::spike;

struct spike_log {
  std::vector<spike> spikes;
  void on_spike(time_ms t, std::uint32_t i) { spikes.push_back({t.count(), i}); }
};

// Spikes of `cells` neurons of model M driven by the same basal and apical
// inputs.
template <class M>
std::vector<spike> pyramidal_spikes(const typename M::parameters& p, std::uint64_t seed) {
  apical::network net;
  auto& basal_src = net.add_population<apical::spike_time_source>("basal", 30);
  auto& apical_src = net.add_population<apical::spike_time_source>("apical", 30);
  basal_src.set_params({poisson_raster(30, 40.0, 500.0, seed)});
  apical_src.set_params({poisson_raster(30, 30.0, 500.0, seed + 1)});
  auto& cells = net.add_population<M>("cells", 8, p);
  apical::rng r(seed + 2);
  std::vector<synapse> basal, apical;
  for (std::uint32_t j = 0; j < 30; ++j)
    for (std::uint32_t i = 0; i < 8; ++i) {
      basal.push_back({j, i, static_cast<float>(r.uniform(-1.0, 4.0)), 1.0 + r.uniform()});
      apical.push_back({j, i, static_cast<float>(r.uniform(-3.0, 3.0)), 0.5 + r.uniform()});
    }
  net.connect(basal_src, cells, M::basal, basal);
  net.connect(apical_src, cells, M::apical, apical);
  apical::simulator sim(net, {seed});
  spike_log log;
  sim.on_spike(cells.id())
      .connect(apical::simulator::spike_signal::slot::bind<&spike_log::on_spike>(log));
  sim.run_until(time_ms{500.0});
  return log.spikes;
}

// One error cell (or pair) driven by a fixed list of timed inputs.
struct error_bench {
  apical::network net;
  apical::model_population<apical::models::error_cell>* cells = nullptr;
  std::unique_ptr<apical::simulator> sim;
  spike_log log;

  // inputs: (time, target cell, compartment, weight); each input gets its
  // own source neuron so the times are exact.
  struct input {
    double t;
    std::uint32_t cell;
    int compartment;
    float weight;
  };
  error_bench(std::size_t size, const apical::models::error_cell::parameters& p,
              const std::vector<input>& inputs, bool couple = false, std::uint64_t seed = 1) {
    auto raster = std::make_shared<spike_raster>();
    for (const auto& in : inputs) raster->add_channel(std::vector<double>{in.t});
    auto& src = net.add_population<apical::spike_time_source>("src", inputs.size());
    src.set_params({raster});
    cells = &net.add_population<apical::models::error_cell>("E", size, p);
    std::vector<synapse> s[3];
    for (std::uint32_t k = 0; k < inputs.size(); ++k)
      s[inputs[k].compartment].push_back({k, inputs[k].cell, inputs[k].weight, 0.0});
    for (int c = 0; c < 3; ++c)
      if (!s[c].empty()) net.connect(src, *cells, c, s[c]);
    if (couple) {
      const auto th = static_cast<float>(p.theta_mv);
      net.connect(*cells, *cells, apical::models::error_cell::ungated,
                  {{0, 1, th, 0.0}, {1, 0, th, 0.0}});
    }
    sim = std::make_unique<apical::simulator>(net, apical::simulation_options{seed});
    sim->on_spike(cells->id())
        .connect(apical::simulator::spike_signal::slot::bind<&spike_log::on_spike>(log));
  }
  std::size_t count(std::uint32_t cell) {
    std::size_t n = 0;
    for (const auto& s : log.spikes) n += s.i == cell ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST_CASE("pyramidal_cell fires exactly when two_compartment with kappa = 0 does") {
  apical::models::two_compartment::parameters p;
  p.v_init_min_mv = -70.0;
  p.v_init_max_mv = -56.0;
  p.t_ref_ms = 3.0;
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto reference = pyramidal_spikes<apical::models::two_compartment>(p, seed);
    const auto fast = pyramidal_spikes<apical::models::pyramidal_cell>(p, seed);
    CHECK(reference.size() > 50);
    CHECK(fast == reference);  // bit-identical spike times
  }
  SUBCASE("a suprathreshold resting potential uses two_compartment's root search") {
    // Same spikes; the times agree to the search's rounding (the crossing
    // is refined from a different state when inputs interrupt it).
    p.e_l_mv = -50.0;
    const auto a = pyramidal_spikes<apical::models::pyramidal_cell>(p, 4);
    const auto b = pyramidal_spikes<apical::models::two_compartment>(p, 4);
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      CHECK(a[k].i == b[k].i);
      CHECK(std::abs(a[k].t - b[k].t) < 1e-9);
    }
  }
}

TEST_CASE("pyramidal_cell keeps the apical potential of its last apical input") {
  apical::models::pyramidal_cell::parameters p;
  const auto d = apical::models::pyramidal_cell::derive(p);
  apical::models::pyramidal_cell::state s;
  apical::rng r(1);
  apical::models::pyramidal_cell::init(s, d, r);
  apical::models::pyramidal_cell::receive(s, d, apical::models::pyramidal_cell::apical, 2.0, 5.0);
  apical::models::pyramidal_cell::receive(s, d, apical::models::pyramidal_cell::apical, 1.0, 15.0);
  // 2 mV decayed over 10 ms with tau_a = 10 ms, plus 1 mV.
  CHECK(s.v_a_mv - p.e_a_mv == doctest::Approx(2.0 * std::exp(-1.0) + 1.0).epsilon(1e-12));
  CHECK(s.t_a_ms == 15.0);
  CHECK(s.v_s_mv == p.v_init_min_mv);  // the soma never sees it
  p.kappa = 0.5;
  CHECK_THROWS_WITH_AS(apical::models::pyramidal_cell::derive(p),
                       doctest::Contains("'kappa' must be 0"), apical::parameter_error);
}

TEST_CASE("error_cell counts its net drive in units of theta") {
  apical::models::error_cell::parameters p;
  p.theta_mv = 1.0;
  std::vector<error_bench::input> in;
  // Binary fractions, so the sums are exact.
  for (int k = 0; k < 10; ++k)
    in.push_back({1.0 + k, 0, apical::models::error_cell::drive, 0.375f});
  in.push_back({20.0, 0, apical::models::error_cell::drive, 2.25f});  // three spikes at once
  error_bench b(1, p, in);
  b.sim->run_until(time_ms{50.0});
  // 10 x 0.375 = 3.75 -> 3 spikes (residual 0.75), + 2.25 = 3.0 -> 3 more at t = 20.
  CHECK(b.count(0) == 6);
  CHECK(b.log.spikes[3].t == 20.0);
  CHECK(b.log.spikes[5].t == 20.0);
  CHECK(b.cells->state_value(0, 0, 50.0) == doctest::Approx(0.0).epsilon(1e-9));
}

TEST_CASE("error_cell drops drive while its gate is closed and before open_from_ms") {
  apical::models::error_cell::parameters p;
  p.gated = 1.0;
  p.gate_ms = 5.0;
  p.open_from_ms = 10.0;
  using apical::models::error_cell;
  const std::vector<error_bench::input> in = {
      {1.0, 0, error_cell::gate, 1.0f},     // opens until 6, but before open_from
      {2.0, 0, error_cell::drive, 1.0f},    // dropped: before open_from
      {12.0, 0, error_cell::drive, 1.0f},   // dropped: gate closed
      {13.0, 0, error_cell::gate, 0.0f},    // opens until 18
      {14.0, 0, error_cell::drive, 1.0f},   // counted
      {17.9, 0, error_cell::drive, 1.0f},   // counted
      {18.0, 0, error_cell::drive, 1.0f},   // dropped: closed at 18
      {19.0, 0, error_cell::ungated, 1.0f}  // counted: the ungated compartment
  };
  error_bench b(1, p, in);
  b.sim->run_until(time_ms{30.0});
  REQUIRE(b.count(0) == 3);
  CHECK(b.log.spikes[0].t == 14.0);
  CHECK(b.log.spikes[1].t == 17.9);
  CHECK(b.log.spikes[2].t == 19.0);
}

TEST_CASE("a dithered error cell's mean count is drive / theta") {
  // S = 2.3 theta: an undithered cell always gives 2 spikes; with V0 drawn
  // from [0, theta) the count is 2 or 3 with mean 2.3 exactly.
  apical::models::error_cell::parameters p;
  p.dither = 1.0;
  std::vector<error_bench::input> in;
  for (int k = 0; k < 23; ++k)
    in.push_back({1.0 + 0.5 * k, 0, apical::models::error_cell::drive, 0.1f});
  const int trials = 1000;
  double sum = 0.0;
  for (int t = 0; t < trials; ++t) {
    error_bench b(1, p, in, false, 100 + t);
    b.sim->run_until(time_ms{20.0});
    const auto n = b.count(0);
    CHECK((n == 2 || n == 3));
    sum += static_cast<double>(n);
  }
  // Bernoulli(0.3) standard error over 1000 trials: sqrt(0.21 / 1000) =
  // 0.0145; 4 sigma.
  CHECK(std::abs(sum / trials - 2.3) < 0.058);
}

TEST_CASE("an E+/E- pair coupled by theta counts the net drive, not its excursions") {
  // Drive up by 4 theta, down by 4 theta, up by 1 theta: net +1.
  apical::models::error_cell::parameters p;
  std::vector<error_bench::input> in;
  double t = 1.0;
  const auto push = [&](float w, int n) {
    for (int k = 0; k < n; ++k, t += 0.5) {
      in.push_back({t, 0, apical::models::error_cell::drive, w});
      in.push_back({t, 1, apical::models::error_cell::drive, -w});
    }
  };
  push(0.5f, 8);
  push(-0.5f, 8);
  push(0.5f, 2);
  error_bench coupled(2, p, in, true);
  coupled.sim->run_until(time_ms{t + 1.0});
  CHECK(static_cast<int>(coupled.count(0)) - static_cast<int>(coupled.count(1)) == 1);
  CHECK(coupled.count(0) == 5);  // up 4, back down 4 (E-), up 1
  CHECK(coupled.count(1) == 4);
  // Uncoupled, each cell counts the excursion of its own running sum past
  // its last spike: E+ 4 (the final +1 only recovers part of the -4), E- 0
  // (its -4 then +4 never passes theta): net 4, not 1.
  error_bench alone(2, p, in, false);
  alone.sim->run_until(time_ms{t + 1.0});
  CHECK(alone.count(0) == 4);
  CHECK(alone.count(1) == 0);
}

TEST_CASE("a dithered coupled pair stays a stable, unbiased signed counter") {
  // Complementary dither keeps V+ + V- below theta: no runaway however the
  // drive moves, marginals uniform (the mean net count is S / theta for a
  // drive of S = +-2.3 theta), and the net count always within one of S.
  apical::models::error_cell::parameters p;
  p.dither = 1.0;
  p.pair_size = 1.0;
  for (const float sign : {1.0f, -1.0f}) {
    double sum = 0.0;
    const int trials = 500;
    for (int t = 0; t < trials; ++t) {
      std::vector<error_bench::input> in;
      apical::rng g(1000 + t);
      double s = 0.0, time = 1.0;
      // A random walk of steps theta / 2, then the drift to S = 2.3 theta.
      for (int k = 0; k < 40; ++k, time += 0.5) {
        const float w = g.below(2) == 0 ? 0.5f : -0.5f;
        s += w;
        in.push_back({time, 0, apical::models::error_cell::drive, w});
        in.push_back({time, 1, apical::models::error_cell::drive, -w});
      }
      const auto last = static_cast<float>(sign * 2.3 - s);
      in.push_back({time, 0, apical::models::error_cell::drive, last});
      in.push_back({time, 1, apical::models::error_cell::drive, -last});
      error_bench b(2, p, in, true, 50 + t);
      b.sim->run_until(time_ms{time + 1.0});
      const double net = static_cast<double>(b.count(0)) - static_cast<double>(b.count(1));
      CHECK(b.log.spikes.size() < 60);  // bounded: one spike per level crossing
      CHECK(std::abs(net - sign * 2.3) < 1.0);
      sum += net;
    }
    // Bernoulli(0.3) standard error over 500 trials: 0.02; 4 sigma.
    CHECK(std::abs(sum / 500 - sign * 2.3) < 0.082);
  }
}

TEST_CASE("error_cell rejects parameters out of their domain, naming them") {
  apical::models::error_cell::parameters p;
  p.theta_mv = 0.0;
  CHECK_THROWS_WITH_AS(apical::models::error_cell::derive(p), doctest::Contains("'theta_mv'"),
                       apical::parameter_error);
  p = {};
  p.gated = 0.5;
  CHECK_THROWS_WITH_AS(apical::models::error_cell::derive(p),
                       doctest::Contains("'gated' must be 0 or 1"), apical::parameter_error);
  p = {};
  p.pair_size = 2.5;
  CHECK_THROWS_WITH_AS(apical::models::error_cell::derive(p), doctest::Contains("'pair_size'"),
                       apical::parameter_error);
}
