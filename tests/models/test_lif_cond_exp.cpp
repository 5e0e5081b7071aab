#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/lif_cond_exp.hpp"
#include "spike_fixtures.hpp"

using namespace apical;
using models::lif_cond_exp;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
using real = long double;

// The COBA benchmark's neuron (Brette et al. 2007, benchmark 1).
const lif_cond_exp::parameters coba{};

// The reference, independent of the model's series: the exact solution in
// integral form,
//   y(t) = y0 e^{-A(t)} + int_0^t b(s) e^{-(A(t) - A(s))} ds,
//   A(s) = s / tau_m + k_e tau_e (1 - e^{-s/tau_e}) + k_i tau_i (1 - e^{-s/tau_i}),
//   b(s) = k_e(s) (E_e - E_rest) + k_i(s) (E_i - E_rest),
// with y = V - E_rest, integrated by Romberg's method in long double until
// two estimates agree to 1e-17 of the scale.
struct reference {
  lif_cond_exp::parameters p;
  real y0, k_e, k_i;  // at s = 0, conductances over C (1/ms)

  reference(const lif_cond_exp::parameters& params, real v0, real g_e_ns, real g_i_ns)
      : p(params), y0(v0 - rest()), k_e(g_e_ns / p.c_m_pf), k_i(g_i_ns / p.c_m_pf) {}

  real rest() const {
    return static_cast<real>(p.e_l_mv) +
           static_cast<real>(p.i_offset_pa) * p.tau_m_ms / static_cast<real>(p.c_m_pf);
  }
  real big_a(real s) const {
    return s / p.tau_m_ms + k_e * p.tau_e_ms * -std::expm1(-s / p.tau_e_ms) +
           k_i * p.tau_i_ms * -std::expm1(-s / p.tau_i_ms);
  }
  real drive(real s) const {
    return k_e * std::exp(-s / p.tau_e_ms) * (p.e_e_mv - rest()) +
           k_i * std::exp(-s / p.tau_i_ms) * (p.e_i_mv - rest());
  }
  // V(t) in mV.
  real v(real t) const {
    if (t == 0) return y0 + rest();
    const real a_t = big_a(t);
    auto f = [&](real s) { return drive(s) * std::exp(big_a(s) - a_t); };
    std::vector<real> row{0.5L * t * (f(0) + f(t))};
    const real scale = 1 + std::abs(y0) + std::abs(rest());
    for (int level = 1; level < 22; ++level) {
      const long n = 1L << level;
      const real h = t / n;
      real sum = 0;
      for (long k = 1; k < n; k += 2) sum += f(k * h);
      std::vector<real> next{0.5L * row[0] + h * sum};
      real factor = 4;
      for (std::size_t j = 1; j <= row.size(); ++j, factor *= 4)
        next.push_back(next[j - 1] + (next[j - 1] - row[j - 1]) / (factor - 1));
      const bool done = std::abs(next.back() - row.back()) < 1e-17L * scale && level > 3;
      row = std::move(next);
      if (done) break;
    }
    return rest() + y0 * std::exp(-a_t) + row.back();
  }
  // The reference moved on by dt: V(dt), the conductances decayed.
  reference at(real dt) const {
    reference r = *this;
    r.y0 = v(dt) - rest();
    r.k_e *= std::exp(-dt / p.tau_e_ms);
    r.k_i *= std::exp(-dt / p.tau_i_ms);
    return r;
  }
  // The first t in (0, t_max] with V(t) >= V_th: scanned every `step` ms,
  // then bisected (sees every crossing wider than the step); -1 if none.
  real first_crossing(real t_max, real step) const {
    reference here = *this;
    real t0 = 0;
    for (int k = 1; t0 < t_max; ++k) {
      const real t1 = std::min(t_max, k * step);
      const reference next = here.at(t1 - t0);
      if (next.y0 + rest() >= p.v_th_mv) {
        real a = 0, b = t1 - t0;
        for (int j = 0; j < 80; ++j) {
          const real m = 0.5L * (a + b);
          (here.v(m) >= p.v_th_mv ? b : a) = m;
        }
        return t0 + b;
      }
      here = next;
      t0 = t1;
    }
    return -1;
  }
};

lif_cond_exp::state free_state(double v, double g_e, double g_i) {
  return {.v_mv = v, .g_e_ns = g_e, .g_i_ns = g_i, .ref_until_ms = -inf};
}

double advanced_v(const lif_cond_exp::parameters& p, lif_cond_exp::state s, double dt) {
  lif_cond_exp::advance(s, lif_cond_exp::derive(p), 0.0, dt);
  return s.v_mv;
}
}  // namespace

TEST_CASE("lif_cond_exp: without conductances V relaxes exponentially and never fires") {
  const auto d = lif_cond_exp::derive(coba);
  for (double v0 : {-75.0, -55.0, -50.5}) {
    for (double t : {0.3, 4.0, 50.0}) {
      lif_cond_exp::state s = free_state(v0, 0, 0);
      lif_cond_exp::advance(s, d, 1.0, 1.0 + t);
      CHECK(s.v_mv == doctest::Approx(-60 + (v0 + 60) * std::exp(-t / 20)).epsilon(1e-14));
    }
    CHECK(lif_cond_exp::next_spike(free_state(v0, 0, 0), d, 0.0) == inf);
  }
}

TEST_CASE("lif_cond_exp: the conductances decay exponentially, also while refractory") {
  const auto d = lif_cond_exp::derive(coba);
  lif_cond_exp::state s = free_state(-55, 30, 100);
  lif_cond_exp::fire(s, d, 0.0);
  lif_cond_exp::advance(s, d, 0.0, 7.0);
  CHECK(s.g_e_ns == doctest::Approx(30 * std::exp(-7.0 / 5)).epsilon(1e-14));
  CHECK(s.g_i_ns == doctest::Approx(100 * std::exp(-7.0 / 10)).epsilon(1e-14));
  lif_cond_exp::state r = free_state(-60, 30 * std::exp(-1.0), 100 * std::exp(-0.5));
  lif_cond_exp::advance(r, d, 5.0, 7.0);
  CHECK(s.v_mv == doctest::Approx(r.v_mv).epsilon(1e-14));  // clamped at V_reset until 5 ms
}

TEST_CASE("lif_cond_exp: i_offset drives regular firing with the analytic period") {
  // E_rest = E_L + I tau_m / C above threshold: from V_reset the membrane
  // reaches V_th after tau_m ln((E_rest - V_reset) / (E_rest - V_th)).
  for (double i_pa : {120.0, 250.0, 1000.0}) {
    auto p = coba;
    p.i_offset_pa = i_pa;
    p.v_init_min_mv = p.v_init_max_mv = p.v_reset_mv;
    const double rest = p.e_l_mv + i_pa * p.tau_m_ms / p.c_m_pf;
    const double period =
        p.t_ref_ms + p.tau_m_ms * std::log((rest - p.v_reset_mv) / (rest - p.v_th_mv));
    network net;
    net.add_population<lif_cond_exp>("N", 1, p);
    simulator sim(net);
    spike_recorder rec(sim, {0});
    sim.run(time_ms{1000});
    const auto& spikes = rec.spikes();
    REQUIRE(spikes.size() >= 10);
    for (std::size_t k = 0; k < spikes.size(); ++k)
      CHECK(spikes[k].time_ms ==
            doctest::Approx(period - p.t_ref_ms + static_cast<double>(k) * period).epsilon(1e-13));
  }
}

TEST_CASE("lif_cond_exp: the trajectory agrees with a long-double reference to 1e-12 mV") {
  struct start {
    double v, g_e, g_i;
  };
  // Quiet, excited, inhibited, high-conductance, below E_i.
  for (const auto& [v, g_e, g_i] : {start{-60, 6, 0}, start{-65, 40, 5}, start{-52, 12, 200},
                                    start{-58, 300, 900}, start{-85, 20, 10}}) {
    for (auto p :
         {coba, lif_cond_exp::parameters{.tau_e_ms = 3, .tau_i_ms = 7, .i_offset_pa = 150}}) {
      const reference ref(p, v, g_e, g_i);
      for (double t : {0.05, 0.7, 3.0, 12.0, 40.0}) {
        CAPTURE(v);
        CAPTURE(g_e);
        CAPTURE(g_i);
        CAPTURE(t);
        CHECK(std::abs(advanced_v(p, free_state(v, g_e, g_i), t) - static_cast<double>(ref.v(t))) <
              1e-12);
      }
    }
  }
}

TEST_CASE("lif_cond_exp: upper bounds hold and tighten quadratically") {
  const auto d = lif_cond_exp::derive(coba);
  const lif_cond_exp::state s = free_state(-58, 50, 40);
  const double k_e = 50 / coba.c_m_pf, k_i = 40 / coba.c_m_pf;
  double previous_gap = inf;
  for (double h : {2.0, 1.0, 0.5, 0.25}) {
    const double top = lif_cond_exp::sup_bound(d, s.v_mv - d.e_rest_mv, k_e, k_e * std::exp(-h / 5),
                                               k_i, k_i * std::exp(-h / 10), h);
    double highest = -inf;
    for (int k = 0; k <= 400; ++k) highest = std::max(highest, advanced_v(coba, s, h * k / 400));
    const double gap = top + d.e_rest_mv - highest;
    CHECK(gap >= 0);
    CHECK(gap < previous_gap / 3);  // about / 4 per halving
    previous_gap = gap;
  }
}

TEST_CASE("lif_cond_exp: crossings agree with the reference to 1e-9 ms") {
  const auto d = lif_cond_exp::derive(coba);
  struct start {
    double v, g_e, g_i;
  };
  for (const auto& [v, g_e, g_i] : {start{-55, 20, 0}, start{-60, 40, 10}, start{-51, 8, 30},
                                    start{-70, 120, 20}, start{-59, 15, 2}}) {
    const reference ref(coba, v, g_e, g_i);
    const real expected = ref.first_crossing(40, 1e-3);
    const double t = lif_cond_exp::next_spike(free_state(v, g_e, g_i), d, 0.0);
    CAPTURE(v);
    CAPTURE(g_e);
    if (expected < 0) {
      CHECK(t == inf);
    } else {
      CHECK(std::abs(t - static_cast<double>(expected)) < 1e-9);
    }
  }
}

TEST_CASE("lif_cond_exp: grazing trajectories fire exactly when the reference crosses") {
  // From rest, one excitatory conductance g: V peaks once and falls back.
  // g_star makes the peak touch threshold; g_star (1 +- eps) must fire and
  // stay silent, and the crossing must be the reference's.
  auto p = coba;
  p.v_th_mv = -55;
  auto peak = [&](double g) {
    const reference ref(p, p.e_l_mv, g, 0);
    real lo = 0, hi = 20;  // golden-section search for the single maximum
    for (int k = 0; k < 60; ++k) {
      const real a = lo + (hi - lo) * 0.381966L, b = hi - (hi - lo) * 0.381966L;
      if (ref.v(a) < ref.v(b))
        lo = a;
      else
        hi = b;
    }
    return ref.v(0.5L * (lo + hi));
  };
  double lo = 1, hi = 200;
  for (int k = 0; k < 60; ++k) {
    const double m = 0.5 * (lo + hi);
    (peak(m) >= p.v_th_mv ? hi : lo) = m;
  }
  const double g_star = hi;
  const auto d = lif_cond_exp::derive(p);
  for (double eps : {1e-3, 1e-6, 1e-9}) {
    CAPTURE(eps);
    const double above = g_star * (1 + eps), below = g_star * (1 - eps);
    REQUIRE(peak(above) > p.v_th_mv);
    REQUIRE(peak(below) < p.v_th_mv);
    const double t_above = lif_cond_exp::next_spike(free_state(p.e_l_mv, above, 0), d, 0.0);
    CHECK(lif_cond_exp::next_spike(free_state(p.e_l_mv, below, 0), d, 0.0) == inf);
    REQUIRE(t_above < inf);
    // A crossing (up to the trajectory's rounding), and none before it.
    const reference ref(p, p.e_l_mv, above, 0);
    CHECK(ref.v(t_above) >= p.v_th_mv - 1e-12L);
    const real before = ref.first_crossing(t_above - 1e-4, 1e-2);
    CHECK(before < 0);
  }
}

TEST_CASE("lif_cond_exp: a driven neuron fires as the reference, input by input") {
  // Poisson excitation and inhibition through the event loop; the
  // reference restarts its integral at every input and every spike.
  auto p = coba;
  p.v_init_min_mv = p.v_init_max_mv = -60;
  const auto excitation = test::poisson_raster(1, 3000, 300, 7);
  const auto inhibition = test::poisson_raster(1, 400, 300, 8);
  std::vector<std::pair<double, double>> inputs;  // time, weight (nS, < 0 inhibitory)
  for (double t : excitation->channel(0)) inputs.push_back({t, 6.0});
  for (double t : inhibition->channel(0)) inputs.push_back({t, -30.0});
  std::sort(inputs.begin(), inputs.end());

  network net;
  auto& e = net.add_population<spike_time_source>("E", 1, {excitation});
  auto& i = net.add_population<spike_time_source>("I", 1, {inhibition});
  auto& n = net.add_population<lif_cond_exp>("N", 1, p);
  net.connect(e, n, 0, {{0, 0, 6.0f, 0.0}});
  net.connect(i, n, 0, {{0, 0, -30.0f, 0.0}});
  simulator sim(net);
  spike_recorder rec(sim, {2});
  sim.run(time_ms{300});

  std::vector<double> expected;
  real t = 0, v = -60, g_e = 0, g_i = 0, ref_until = -1;
  auto run_to = [&](real until) {
    while (t < until) {
      if (t < ref_until) {
        const real u = std::min(until, ref_until);
        g_e *= std::exp(-(u - t) / p.tau_e_ms);
        g_i *= std::exp(-(u - t) / p.tau_i_ms);
        v = p.v_reset_mv;
        t = u;
        continue;
      }
      const reference ref(p, static_cast<double>(v), g_e, g_i);
      const real x = ref.first_crossing(until - t, std::min<real>(0.01L, until - t));
      const real end = x < 0 ? until - t : x;
      v = x < 0 ? ref.v(end) : static_cast<real>(p.v_reset_mv);
      g_e *= std::exp(-end / p.tau_e_ms);
      g_i *= std::exp(-end / p.tau_i_ms);
      t += end;
      if (x >= 0) {
        expected.push_back(static_cast<double>(t));
        ref_until = t + p.t_ref_ms;
      }
    }
  };
  for (const auto& [ti, w] : inputs) {
    run_to(ti);
    (w > 0 ? g_e : g_i) += std::abs(w);
  }
  run_to(300);
  REQUIRE(expected.size() >= 5);
  REQUIRE(rec.spikes().size() == expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k)
    CHECK(std::abs(rec.spikes()[k].time_ms - expected[k]) < 1e-8);
}
