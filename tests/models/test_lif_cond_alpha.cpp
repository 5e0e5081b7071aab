#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/lif_cond_alpha.hpp"
#include "single_cell_checks.hpp"

using namespace apical;
using models::lif_cond_alpha;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();

// PyNN's IF_cond_alpha defaults in apical's units (cm 1 nF, tau_syn 0.3 and
// 0.5 ms), E_L = -65 mV, threshold -50 mV.
const lif_cond_alpha::parameters pynn{.tau_m_ms = 20,
                                      .c_m_pf = 1000,
                                      .e_l_mv = -65,
                                      .v_th_mv = -50,
                                      .v_reset_mv = -65,
                                      .t_ref_ms = 2,
                                      .tau_e_ms = 0.3,
                                      .tau_i_ms = 0.5,
                                      .e_e_mv = 0,
                                      .e_i_mv = -70,
                                      .i_offset_pa = 0,
                                      .v_init_min_mv = -65,
                                      .v_init_max_mv = -65};

// The equations, integrated numerically: classical Runge-Kutta in long
// double with a fixed step, threshold ignored, no refractoriness.
struct rk4_cell {
  lif_cond_alpha::parameters p;
  long double v, y_e = 0, g_e = 0, y_i = 0, g_i = 0;

  std::array<long double, 5> rhs(const std::array<long double, 5>& x) const {
    const long double c = p.c_m_pf, tau_m = p.tau_m_ms, tau_e = p.tau_e_ms, tau_i = p.tau_i_ms;
    const auto [vv, ye, ge, yi, gi] = x;
    return {(c / tau_m * (p.e_l_mv - vv) + ge * (p.e_e_mv - vv) + gi * (p.e_i_mv - vv) +
             p.i_offset_pa) /
                c,
            -ye / tau_e, (ye - ge) / tau_e, -yi / tau_i, (yi - gi) / tau_i};
  }
  void step(long double h) {
    const std::array<long double, 5> x{v, y_e, g_e, y_i, g_i};
    const auto shifted = [&](const std::array<long double, 5>& k, long double f) {
      std::array<long double, 5> r;
      for (int j = 0; j < 5; ++j) r[j] = x[j] + f * k[j];
      return r;
    };
    const auto k1 = rhs(x), k2 = rhs(shifted(k1, h / 2)), k3 = rhs(shifted(k2, h / 2)),
               k4 = rhs(shifted(k3, h));
    std::array<long double, 5> n;
    for (int j = 0; j < 5; ++j) n[j] = x[j] + h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    v = n[0], y_e = n[1], g_e = n[2], y_i = n[3], g_i = n[4];
  }
  void receive(double w) { (w >= 0 ? y_e : y_i) += std::numbers::e_v<long double> * std::abs(w); }
};

// The spike times of one cell under excitatory and inhibitory inputs:
// simulated, and from rk4_cell stepped by `step` ms (a crossing found by
// bisecting one Runge-Kutta step from the step's start).
std::pair<std::vector<double>, std::vector<double>> driven(const lif_cond_alpha::parameters& p,
                                                           double t_end_ms) {
  rng r(31);
  std::vector<double> e_times, i_times;
  for (double t = r.exponential(1000 / 1500.0); t < t_end_ms; t += r.exponential(1000 / 1500.0))
    e_times.push_back(t);
  for (double t = r.exponential(1000 / 400.0); t < t_end_ms; t += r.exponential(1000 / 400.0))
    i_times.push_back(t);
  const float w_e = 14.0f, w_i = -20.0f;  // nS
  std::vector<std::pair<double, float>> inputs;
  for (double t : e_times) inputs.push_back({t, w_e});
  for (double t : i_times) inputs.push_back({t, w_i});
  std::sort(inputs.begin(), inputs.end());

  const auto simulated =
      test::simulated_spikes<lif_cond_alpha>(p, e_times, i_times, w_e, w_i, t_end_ms);

  rk4_cell ref{p, p.v_init_min_mv};
  std::vector<double> spikes;
  const double step = 1e-3;
  double t = 0, ref_until = -inf;
  std::size_t next = 0;
  while (t < t_end_ms) {
    const double t_in = next < inputs.size() ? inputs[next].first : t_end_ms;
    const double h = std::min(step, t_in - t);
    if (h > 0) {
      if (t < ref_until) {  // clamped: only the conductances move
        const double until = std::min(t + h, ref_until);
        const long double v = ref.v;
        ref.step(until - t);
        ref.v = v;
        t = until;
        continue;
      }
      const rk4_cell before = ref;
      ref.step(h);
      if (ref.v >= p.v_th_mv) {
        double lo = 0, hi = h;
        for (int k = 0; k < 100; ++k) {
          rk4_cell x = before;
          const double m = 0.5 * (lo + hi);
          x.step(m);
          (x.v >= p.v_th_mv ? hi : lo) = m;
        }
        ref = before;
        ref.step(hi);
        spikes.push_back(t + hi);
        ref.v = p.v_reset_mv;
        ref_until = t + hi + p.t_ref_ms;
        t += hi;
        continue;
      }
      t += h;
    }
    if (next < inputs.size() && t >= inputs[next].first) ref.receive(inputs[next++].second);
  }
  return {simulated, spikes};
}
}  // namespace

TEST_CASE("lif_cond_alpha: the trajectory agrees with a long-double Runge-Kutta solution") {
  for (const double i_offset : {0.0, 300.0}) {
    CAPTURE(i_offset);
    lif_cond_alpha::parameters p = pynn;
    p.i_offset_pa = i_offset;
    p.v_th_mv = 0;  // no spike: the trajectory only
    const auto d = lif_cond_alpha::derive(p);
    lif_cond_alpha::state s{.v_mv = -60};
    rk4_cell ref{p, -60};
    lif_cond_alpha::receive(s, d, 0, 40.0, 0.0);
    lif_cond_alpha::receive(s, d, 0, -60.0, 0.0);
    ref.receive(40.0);
    ref.receive(-60.0);
    double t = 0;
    for (const double until : {0.1, 0.4, 1.0, 3.0, 10.0, 30.0}) {
      CAPTURE(until);
      lif_cond_alpha::advance(s, d, t, until);
      while (t < until - 1e-9) {
        ref.step(1e-4);
        t += 1e-4;
      }
      t = until;
      CHECK(std::abs(s.v_mv - static_cast<double>(ref.v)) <= 1e-10);
      CHECK(std::abs(s.g_e_ns - static_cast<double>(ref.g_e)) <= 1e-10);
      CHECK(std::abs(s.g_i_ns - static_cast<double>(ref.g_i)) <= 1e-10);
    }
  }
}

TEST_CASE("lif_cond_alpha: a conductance peaks at the weight after tau, also while refractory") {
  const auto d = lif_cond_alpha::derive(pynn);
  lif_cond_alpha::state s{.v_mv = -60};
  lif_cond_alpha::receive(s, d, 0, 5.0, 0.0);
  lif_cond_alpha::receive(s, d, 0, -7.0, 0.0);
  lif_cond_alpha::fire(s, d, 0.0);
  for (const double t : {0.3, 0.5}) {
    lif_cond_alpha::state x = s;
    lif_cond_alpha::advance(x, d, 0.0, t);
    CHECK(x.v_mv == pynn.v_reset_mv);
    CHECK(std::abs(x.g_e_ns - 5.0 * t / 0.3 * std::exp(1 - t / 0.3)) <= 1e-13);
    CHECK(std::abs(x.g_i_ns - 7.0 * t / 0.5 * std::exp(1 - t / 0.5)) <= 1e-13);
  }
}

TEST_CASE("lif_cond_alpha: i_offset drives regular firing with the analytic period") {
  lif_cond_alpha::parameters p = pynn;
  p.i_offset_pa = 1000;  // E_rest = -65 + 1000 * 20 / 1000 = -45 mV
  network net;
  net.add_population<lif_cond_alpha>("N", 1, p);
  simulator sim(net);
  spike_recorder rec(sim);
  sim.run(time_ms{200});
  const double rise = 20 * std::log(20.0 / 5.0);
  REQUIRE(rec.spikes().size() == 6);
  for (std::size_t k = 0; k < rec.spikes().size(); ++k)
    CHECK(std::abs(rec.spikes()[k].time_ms - (rise + static_cast<double>(k) * (rise + 2))) <= 1e-9);
}

TEST_CASE("lif_cond_alpha rejects each invalid parameter by its name") {
  const auto bad = [](lif_cond_alpha::parameters p) { return lif_cond_alpha::derive(p); };
  CHECK_THROWS_WITH_AS(bad({.c_m_pf = 0}), doctest::Contains("lif_cond_alpha: parameter 'c_m_pf'"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(bad({.tau_e_ms = -1}), doctest::Contains("tau_e_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.tau_i_ms = 0}), doctest::Contains("tau_i_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.v_reset_mv = -50}), doctest::Contains("lif_cond_alpha"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(bad({.e_e_mv = std::nan("")}), doctest::Contains("e_e_mv"), parameter_error);
}

TEST_CASE("lif_cond_alpha: spike times under random input equal a Runge-Kutta reference") {
  lif_cond_alpha::parameters p = pynn;
  p.e_l_mv = -60;
  const auto [simulated, reference] = driven(p, 1000);
  REQUIRE(reference.size() > 20);
  REQUIRE(simulated.size() == reference.size());
  for (std::size_t k = 0; k < reference.size(); ++k)
    CHECK(std::abs(simulated[k] - reference[k]) <= 1e-8);
}

TEST_CASE("lif_cond_alpha: next_spike finds the first crossing of sampled trajectories") {
  // Random states, some refractory: next_spike against the trajectory
  // advanced in steps of 2e-3 ms over 20 ms (by then the conductances are
  // gone and V relaxes below threshold).
  const auto d = lif_cond_alpha::derive(pynn);
  rng r(8);
  int fired = 0, silent = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const lif_cond_alpha::state s{.v_mv = r.uniform(-60, -50.001),
                                  .g_e_ns = r.uniform(0, 400),
                                  .y_e_ns = r.uniform(0, 800),
                                  .g_i_ns = r.uniform(0, 200),
                                  .y_i_ns = r.uniform(0, 400),
                                  .ref_until_ms = trial % 3 == 0 ? r.uniform(0, 2) : -inf};
    (test::check_next_spike_against_samples<lif_cond_alpha>(s, d, pynn.v_th_mv, 2e-3, 10000, 1e-9)
             .sample_crossed
         ? fired
         : silent)++;
  }
  CHECK(fired > 50);
  CHECK(silent > 50);
}

namespace {
std::vector<recorded_spike> small_cond_alpha_network(unsigned threads, delivery_path path) {
  lif_cond_alpha::parameters p = pynn;
  p.v_init_min_mv = -65;
  p.v_init_max_mv = -50;
  return test::small_ei_network<lif_cond_alpha>(p, 30.0, 10.0, -40.0, 99, threads, path);
}
}  // namespace

TEST_CASE("lif_cond_alpha: ordered, windowed and threaded runs give the same spikes") {
  const auto spikes = small_cond_alpha_network(1, delivery_path::ordered);
  REQUIRE(spikes.size() > 300);
  CHECK(small_cond_alpha_network(1, delivery_path::windowed) == spikes);
  CHECK(small_cond_alpha_network(2, delivery_path::ordered) == spikes);
  CHECK(small_cond_alpha_network(3, delivery_path::windowed) == spikes);
}
