// The injected current of lif_exp_injected and lif_cond_exp_injected
// (compartments 1-3, see lif_common.hpp): a piecewise-constant current against the closed form of
// a leaky membrane with a constant drive, written out here.
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/random.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/lif_cond_exp.hpp"
#include "apical/models/lif_exp.hpp"
#include "spike_fixtures.hpp"

using namespace apical;
using models::injected;
using models::injection_weights;
using models::lif_cond_exp_injected;
using models::lif_exp_injected;

namespace {

// A current that is x[k] from t[k] on: source neuron k fires at t[k] -
// delay and sets the three parts of each target's current through one
// projection per part (what pyNN.apical builds for a current source).
struct schedule {
  std::vector<double> t, x;
};

void inject(network& net, population& target, const schedule& s, double delay_ms) {
  auto raster = std::make_shared<spike_raster>();
  for (const double t : s.t) raster->add_channel(std::vector<double>{t - delay_ms});
  auto& src = net.add_population<spike_time_source>("I", s.t.size(), {raster});
  for (int part = 0; part < models::injection_parts; ++part) {
    std::vector<synapse> syn;
    for (std::uint32_t k = 0; k < s.t.size(); ++k)
      for (std::uint32_t i = 0; i < target.size(); ++i)
        syn.push_back({k, i, injection_weights(s.x[k])[part], delay_ms});
    net.connect(src, target, models::injection_first_compartment + part, syn);
  }
}

// V at time u of a leaky membrane relaxing to rest(t) = e_l + x(t) from
// v0 at 0, the current piecewise constant (no threshold).
double relaxed(double e_l, double tau_m, double v0, const schedule& s, double u) {
  double v = v0, t = 0.0, rest = e_l;
  for (std::size_t k = 0; k <= s.t.size(); ++k) {
    const double until = k < s.t.size() ? std::min(u, s.t[k]) : u;
    v = rest + (v - rest) * std::exp(-(until - t) / tau_m);
    t = until;
    if (k == s.t.size() || u < s.t[k]) break;
    rest = e_l + s.x[k];
  }
  return v;
}

// The largest difference between V sampled every 0.05 ms up to until_ms (all
// neurons of population 0) and v_of(t).
template <class F>
double largest_error(network& net, double until_ms, F v_of) {
  simulator sim(net);
  std::vector<std::uint32_t> all(net.pop(0).size());
  for (std::uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  const auto rec = sim.record_state(0, "v_mv", all, time_ms{0.05});
  sim.run(time_ms{until_ms});
  const auto& got = sim.state_recording(rec);
  REQUIRE(got.times_ms.size() >= static_cast<std::size_t>(until_ms / 0.05));
  double most = 0.0;
  for (std::size_t k = 0; k < got.times_ms.size(); ++k)
    for (std::size_t i = 0; i < all.size(); ++i)
      most = std::max(most, std::abs(got.values[k * all.size() + i] - v_of(got.times_ms[k])));
  return most;
}

}  // namespace

// The models without the current keep a neuron's state and the engine's
// bookkeeping of it in one cache line.
static_assert(sizeof(models::lif_exp::state) == 32);
static_assert(sizeof(models::lif_cond_exp::state) == 32);

TEST_CASE("injection_weights: three floats that sum back to the double exactly") {
  rng r(7);
  for (int k = 0; k < 100000; ++k) {
    const double x = r.uniform(-1.0, 1.0) * std::pow(10.0, r.uniform(-20.0, 20.0));
    const auto w = injection_weights(x);
    REQUIRE(injected(w[0], w[1], w[2]) == x);
  }
  // And in any order of arrival: each input sets its own part.
  lif_exp_injected::state s;
  const auto w = injection_weights(0.1);
  lif_exp_injected::receive(s, {}, 3, w[2], 0.0);
  lif_exp_injected::receive(s, {}, 1, w[0], 0.0);
  lif_exp_injected::receive(s, {}, 2, w[1], 0.0);
  CHECK(injected(s.inj_hi_mv, s.inj_mid_mv, s.inj_lo_mv) == 0.1);
}

// The parameters of the injected models, from those of lif_exp and
// lif_cond_exp.
template <class Model, class Base>
typename Model::parameters with_current(const Base& base, double i_inj_init) {
  typename Model::parameters p;
  static_cast<Base&>(p) = base;
  if constexpr (requires { p.i_inj_init_mv; })
    p.i_inj_init_mv = i_inj_init;
  else
    p.i_inj_init_pa = i_inj_init;
  return p;
}

TEST_CASE("lif_exp_injected: a step current moves V along the closed form, at exact times") {
  const auto p = with_current<lif_exp_injected>(
      models::lif_exp_parameters{.e_l_mv = -70, .v_th_mv = 0, .v_reset_mv = -80}, 0.0);
  // Many changes (a noisy current): the applied current stays exact, with
  // no drift from accumulated differences.
  schedule s{{5.0, 12.5, 30.0}, {3.7, -2.25, 11.0}};
  rng r(3);
  for (int k = 0; k < 400; ++k) {
    s.t.push_back(40.0 + 0.1 * k);
    s.x.push_back(5.0 + 3.0 * r.normal());
  }
  network net;
  auto& n = net.add_population<lif_exp_injected>("N", 2, p);
  inject(net, n, s, 0.5);
  CHECK(largest_error(net, 95.0, [&](double u) { return relaxed(-70, 20, -70, s, u); }) < 1e-12);
  CHECK(injected(n.state_value(0, 4, 95.0), n.state_value(0, 5, 95.0), n.state_value(0, 6, 95.0)) ==
        s.x.back());
}

TEST_CASE("lif_exp_injected: a DC step above threshold fires at the first-passage times") {
  // From rest, a current x from t_on moves the rest to E = E_L + x above
  // V_th: the first spike comes after tau_m ln(x / (E - V_th)), the next
  // ones every t_ref + tau_m ln((E - V_reset) / (E - V_th)); none after the
  // current stops at t_off (V starts below threshold and falls).
  const auto p = with_current<lif_exp_injected>(models::lif_exp_parameters{.tau_m_ms = 20,
                                                                           .e_l_mv = -65,
                                                                           .v_th_mv = -50,
                                                                           .v_reset_mv = -70,
                                                                           .t_ref_ms = 2,
                                                                           .v_init_min_mv = -65,
                                                                           .v_init_max_mv = -65},
                                                0.0);
  const double x = 40.0, t_on = 10.0, t_off = 150.0, e = p.e_l_mv + x;
  network net;
  auto& n = net.add_population<lif_exp_injected>("N", 1, p);
  inject(net, n, {{t_on, t_off}, {x, 0.0}}, 0.25);
  simulator sim(net);
  spike_recorder rec(sim, {0});
  sim.run(time_ms{300});
  const double first = t_on + p.tau_m_ms * std::log(x / (e - p.v_th_mv));
  const double period = p.t_ref_ms + p.tau_m_ms * std::log((e - p.v_reset_mv) / (e - p.v_th_mv));
  const auto expected = static_cast<std::size_t>(std::floor((t_off - first) / period)) + 1;
  REQUIRE(rec.spikes().size() == expected);
  for (std::size_t k = 0; k < expected; ++k)
    CHECK(rec.spikes()[k].time_ms ==
          doctest::Approx(first + static_cast<double>(k) * period).epsilon(1e-13));
}

TEST_CASE("lif_exp_injected: i_inj_init_mv is the current from time 0") {
  const auto p =
      with_current<lif_exp_injected>(models::lif_exp_parameters{.e_l_mv = -70, .v_th_mv = 0}, 6.5);
  network net;
  auto& n = net.add_population<lif_exp_injected>("N", 1, p);
  inject(net, n, {{20.0}, {0.0}}, 0.1);
  const schedule s{{0.0, 20.0}, {6.5, 0.0}};
  CHECK(largest_error(net, 40.0, [&](double u) { return relaxed(-70, 20, -70, s, u); }) < 1e-12);
}

TEST_CASE("lif_cond_exp_injected: the current adds to i_offset, exact first passages") {
  // Without conductances V relaxes to E_L + (I_offset + I_inj) tau_m / C.
  const auto p =
      with_current<lif_cond_exp_injected>(models::lif_cond_exp::parameters{.tau_m_ms = 20,
                                                                           .c_m_pf = 250,
                                                                           .e_l_mv = -65,
                                                                           .v_th_mv = -50,
                                                                           .v_reset_mv = -70,
                                                                           .t_ref_ms = 2,
                                                                           .i_offset_pa = 100,
                                                                           .v_init_min_mv = -65,
                                                                           .v_init_max_mv = -65},
                                          -50.0);
  const double r_mohm = p.tau_m_ms / p.c_m_pf;  // mV per pA
  const schedule pa{{30.0, 60.0, 200.0}, {-100.0, 300.0, 0.0}};
  const double e_l = p.e_l_mv + p.i_offset_pa * r_mohm;                 // without injection
  const schedule until_60{{0.0, 30.0}, {-50 * r_mohm, -100 * r_mohm}};  // in mV
  {
    network net;
    auto& n = net.add_population<lif_cond_exp_injected>("N", 1, p);
    inject(net, n, pa, 0.1);
    CHECK(largest_error(net, 60.0, [&](double u) {
            return relaxed(e_l, p.tau_m_ms, -65, until_60, u);
          }) < 1e-12);
  }
  // From 60 ms the rest is E_L + 400 pA R = -33 mV, above threshold.
  network net;
  auto& n = net.add_population<lif_cond_exp_injected>("N", 1, p);
  inject(net, n, pa, 0.1);
  simulator sim(net);
  spike_recorder rec(sim, {0});
  sim.run(time_ms{300});
  const double v60 = relaxed(e_l, p.tau_m_ms, -65, until_60, 60.0);
  const double e = e_l + 300 * r_mohm;
  const double first = 60.0 + p.tau_m_ms * std::log((e - v60) / (e - p.v_th_mv));
  const double period = p.t_ref_ms + p.tau_m_ms * std::log((e - p.v_reset_mv) / (e - p.v_th_mv));
  const auto expected = static_cast<std::size_t>(std::floor((200.0 - first) / period)) + 1;
  REQUIRE(rec.spikes().size() == expected);
  // (lif_cond_exp's crossing search stops within 1e-10 ms.)
  for (std::size_t k = 0; k < expected; ++k)
    CHECK(rec.spikes()[k].time_ms ==
          doctest::Approx(first + static_cast<double>(k) * period).epsilon(1e-12));
}

namespace {
// The spikes of `Model` driven by Poisson inputs of both signs (weights
// drawn in [-3, 6] times `scale`) and, if `current`, a current from 100 to
// 200 ms; the same inputs for every model.
template <class Model>
std::vector<recorded_spike> driven_spikes(const typename Model::parameters& p, double scale,
                                          double current) {
  network net;
  auto& n = net.add_population<Model>("N", 20, p);
  auto& src =
      net.add_population<spike_time_source>("S", 20, {test::poisson_raster(20, 400, 500, 9)});
  std::vector<synapse> syn;
  rng r(4);
  for (std::uint32_t i = 0; i < 20; ++i)
    for (std::uint32_t j = 0; j < 20; ++j)
      if (r.uniform() < 0.5)
        syn.push_back({i, j, static_cast<float>(r.uniform(-3, 6) * scale), 0.5});
  net.connect(src, n, 0, syn);
  if (current != 0) inject(net, n, {{100.0, 200.0}, {current, 0.0}}, 0.5);
  simulator sim(net);
  spike_recorder rec(sim, {0});
  sim.run(time_ms{500});
  return rec.spikes();
}

std::vector<recorded_spike> before(std::vector<recorded_spike> s, double t_ms) {
  std::erase_if(s, [t_ms](const recorded_spike& x) { return x.time_ms >= t_ms; });
  return s;
}

// Without a current, the injected model fires as its base bit for bit; a
// current from 100 ms changes nothing before it and adds spikes after.
template <class Injected, class Base>
void check_against_base(const typename Base::parameters& base, double scale, double current) {
  const auto plain = driven_spikes<Base>(base, scale, 0.0);
  REQUIRE(plain.size() > 50);
  const auto p = with_current<Injected>(base, 0.0);
  CHECK(driven_spikes<Injected>(p, scale, 0.0) == plain);
  const auto with = driven_spikes<Injected>(p, scale, current);
  CHECK(with.size() > plain.size());
  CHECK(before(with, 100.0) == before(plain, 100.0));
}
}  // namespace

TEST_CASE("the injected models without a current fire as lif_exp and lif_cond_exp") {
  check_against_base<lif_exp_injected, models::lif_exp>(
      {.e_l_mv = -65, .v_th_mv = -50, .v_init_min_mv = -65, .v_init_max_mv = -52}, 1.0, 8.0);
  check_against_base<lif_cond_exp_injected, models::lif_cond_exp>(
      {.v_init_min_mv = -65, .v_init_max_mv = -52}, 1.0, 150.0);
}
