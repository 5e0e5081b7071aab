// The injected current of lif_exp_injected and lif_cond_exp_injected
// (compartments 1-3, see lif_common.hpp): a piecewise-constant current against the closed form of
// a leaky membrane with a constant drive, written out here.
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/random.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/lif_cond_exp.hpp"
#include "apical/models/lif_exp.hpp"
#include "injection_fixtures.hpp"
#include "sine_reference.hpp"
#include "spike_fixtures.hpp"

using namespace apical;
using models::injected;
using models::injection_weights;
using models::lif_cond_exp_injected;
using models::lif_exp_injected;
using test::inject;
using test::largest_error;
using test::relaxed;
using test::schedule;

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
  test::check_first_passages<lif_exp_injected>(test::cell_at_rest<lif_exp_injected::parameters>(),
                                               40.0);
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

// The same neurons at the same times, to within tolerance_ms.
void check_same(const std::vector<recorded_spike>& a, const std::vector<recorded_spike>& b,
                double tolerance_ms) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    CAPTURE(k);
    CHECK(a[k].population == b[k].population);
    CHECK(a[k].neuron == b[k].neuron);
    CHECK(std::abs(a[k].time_ms - b[k].time_ms) <= tolerance_ms);
  }
}

// Without a current, the injected model fires as its base (to within
// tolerance_ms: lif_exp keeps its state in another form than
// lif_exp_injected, see lif_exp.hpp; 0: bit for bit); a current from 100 ms
// changes nothing before it and adds spikes after.
template <class Injected, class Base>
void check_against_base(const typename Base::parameters& base, double scale, double current,
                        double tolerance_ms) {
  const auto plain = driven_spikes<Base>(base, scale, 0.0);
  REQUIRE(plain.size() > 50);
  const auto p = with_current<Injected>(base, 0.0);
  check_same(driven_spikes<Injected>(p, scale, 0.0), plain, tolerance_ms);
  const auto with = driven_spikes<Injected>(p, scale, current);
  CHECK(with.size() > plain.size());
  check_same(before(with, 100.0), before(plain, 100.0), tolerance_ms);
}
}  // namespace

TEST_CASE("the injected models without a current fire as lif_exp and lif_cond_exp") {
  check_against_base<lif_exp_injected, models::lif_exp>(
      {.e_l_mv = -65, .v_th_mv = -50, .v_init_min_mv = -65, .v_init_max_mv = -52}, 1.0, 8.0, 1e-9);
  check_against_base<lif_cond_exp_injected, models::lif_cond_exp>(
      {.v_init_min_mv = -65, .v_init_max_mv = -52}, 1.0, 150.0, 0.0);
}

// --- the sinusoidal current (sine_drive.hpp) ---------------------------------

namespace {
lif_exp_injected::parameters ac_parameters() {
  auto p = test::cell_at_rest<lif_exp_injected::parameters>();
  p.i_inj_init_mv = 10.0;
  p.ac_amplitude_mv = 12.0;
  p.ac_frequency_hz = 10.0;
  p.ac_phase_deg = 30.0;
  p.ac_start_ms = 0.0;
  p.ac_on_init = 1.0;
  return p;
}

test::sine_membrane ac_reference(const lif_exp_injected::parameters& p) {
  auto ref = test::reference_of(p);
  ref.tau_e = p.tau_e_ms;
  ref.tau_i = p.tau_i_ms;
  return ref;
}

const auto exp_input = [](test::sine_membrane& ref, double w) {
  (w >= 0 ? ref.i_e : ref.i_i) += w;
};
}  // namespace

TEST_CASE("lif_exp_injected: a sinusoid with inputs and steps follows a long-double RK4") {
  auto p = ac_parameters();
  p.v_th_mv = 100;  // no spike: the trajectory alone
  p.ac_frequency_hz = 40.0;
  p.ac_start_ms = 5.0;
  p.ac_on_init = 0.0;
  const auto w = injection_weights(-2.0);
  const int sw = lif_exp_injected::ac_switch_compartment;
  const std::vector<test::scripted_input> inputs = {
      {2.0, 0, 4.0},   {5.0, sw, 1.0},  {11.3, 0, -3.0}, {14.0, 0, 2.5},  {20.0, 1, w[0]},
      {20.0, 2, w[1]}, {20.0, 3, w[2]}, {47.7, sw, 0.0}, {52.0, sw, 1.0}, {55.5, 0, 6.0}};
  CHECK(test::largest_trajectory_error<lif_exp_injected>(p, ac_reference(p), inputs, 80.0, 0.37,
                                                         exp_input) < 1e-10);
}

TEST_CASE("lif_exp_injected: spikes under a sinusoid are those of a dense-sampling search") {
  // Rest -51 mV, the sinusoid's membrane amplitude A / sqrt(1 + (2 pi f
  // tau_m)^2) 7.5 or 8.9 mV: spikes around its peaks, one or several.
  for (const double f_hz : {10.0, 35.0}) {
    auto p = ac_parameters();
    p.ac_frequency_hz = f_hz;
    p.ac_amplitude_mv = f_hz > 20 ? 40.0 : 12.0;  // B 7.5 and 8.9 mV
    p.i_inj_init_mv = 14.0;
    const auto got = test::engine_spikes<lif_exp_injected>(p, 600.0);
    const auto want = ac_reference(p).spikes(0, 600, 1e-3L, p.v_th_mv, p.v_reset_mv, p.t_ref_ms);
    REQUIRE(want.size() > 8);
    REQUIRE(got.size() == want.size());
    for (std::size_t k = 0; k < got.size(); ++k) CHECK(std::abs(got[k] - want[k]) < 1e-9);
  }
}

namespace {
// The first spike of lif_exp_injected from state s at 0 within until_ms
// (predictions chained; +infinity if none).
double first_spike_within(const lif_exp_injected::state& s, const lif_exp_injected::derived& d,
                          double until_ms) {
  auto c = s;
  double t = 0.0;
  while (t < until_ms) {
    const auto next = lif_exp_injected::predict(c, d, t);
    if (next.certain) return next.time_ms < until_ms ? next.time_ms : models::inf;
    lif_exp_injected::advance(c, d, t, next.time_ms);
    t = next.time_ms;
  }
  return models::inf;
}
}  // namespace

TEST_CASE("lif_exp_injected: a sinusoid's peak 1e-9 mV below threshold never fires, above fires") {
  // From V = E + V_p(0) the trajectory is the sinusoid alone: its peak
  // E + B is known exactly. With threshold 1e-9 mV above it, no spike in
  // ten periods; 1e-9 mV below, a spike sqrt(2e-9 / (B w^2)) before the
  // first peak.
  auto p = ac_parameters();
  p.ac_phase_deg = 0.0;
  const models::sine_drive sine(p.ac_amplitude_mv, p.ac_frequency_hz, 0.0, 0.0, p.tau_m_ms);
  const double e = p.e_l_mv + p.i_inj_init_mv, b = sine.amplitude_mv;
  const double w = 2 * std::numbers::pi * p.ac_frequency_hz / 1000;
  // The first peak: phase pi / 2 (sine.phase is in (-pi / 2, 0]).
  const double peak_ms = (std::numbers::pi / 2 - sine.phase) / w;
  for (const double gap : {1e-9, -1e-9}) {
    p.v_th_mv = e + b + gap;
    const auto d = lif_exp_injected::derive(p);
    lif_exp_injected::state s;
    rng r(1);
    lif_exp_injected::init(s, d, r);
    s.v_mv = e + sine.at(0.0);
    const double t = first_spike_within(s, d, 1000.0);
    if (gap > 0) {
      CHECK(t == models::inf);
    } else {
      const double shift = std::sqrt(-2 * gap / (b * w * w));
      CHECK(std::abs(t - (peak_ms - shift)) < 0.01 * shift);
    }
  }
}

TEST_CASE("lif_exp_injected rejects an invalid sinusoid by name") {
  auto p = ac_parameters();
  p.ac_frequency_hz = -1.0;
  CHECK_THROWS_WITH_AS(lif_exp_injected::derive(p), doctest::Contains("ac_frequency_hz"),
                       parameter_error);
  p = ac_parameters();
  p.ac_on_init = 0.5;
  CHECK_THROWS_WITH_AS(lif_exp_injected::derive(p), doctest::Contains("ac_on_init"),
                       parameter_error);
}
