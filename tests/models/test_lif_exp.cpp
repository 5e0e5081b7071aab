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
#include "apical/models/lif_exp.hpp"

using namespace apical;
using models::lif_exp;

namespace {
std::shared_ptr<spike_raster> raster(std::vector<double> t) {
  auto r = std::make_shared<spike_raster>();
  r->add_channel(t);
  return r;
}
// V(s) - E_L after one input w at s = 0 from rest (written out here, not
// taken from the model).
double psp(double w, double tau_s, double tau_m, double s) {
  return w * tau_s / (tau_s - tau_m) * (std::exp(-s / tau_s) - std::exp(-s / tau_m));
}

constexpr double inf = std::numeric_limits<double>::infinity();

// The CUBA benchmark's neuron (Brette et al. 2007): E_L above threshold.
const lif_exp::parameters cuba{.tau_m_ms = 20,
                               .tau_e_ms = 5,
                               .tau_i_ms = 10,
                               .e_l_mv = -49,
                               .v_th_mv = -50,
                               .v_reset_mv = -60,
                               .t_ref_ms = 5,
                               .v_init_min_mv = -55,
                               .v_init_max_mv = -55};

// A deliberately naive lif_exp, written out from the equations: the
// closed form sampled every `step` ms between inputs, a threshold crossing
// bisected. It sees every crossing wider than the step.
struct naive_lif_exp {
  explicit naive_lif_exp(const lif_exp::parameters& params) : p(params), v(p.v_init_min_mv) {}
  lif_exp::parameters p;
  double step = 1e-3;
  double t = 0.0, v, i_e = 0.0, i_i = 0.0, ref_until = -inf;
  std::vector<double> spikes;

  // V at u >= t without input in between, the threshold ignored.
  double v_at(double u) const {
    if (u <= ref_until) return p.v_reset_mv;
    const double t0 = std::max(t, ref_until);
    const double v0 = t < ref_until ? p.v_reset_mv : v;
    const double e0 = i_e * std::exp(-(t0 - t) / p.tau_e_ms);
    const double i0 = i_i * std::exp(-(t0 - t) / p.tau_i_ms);
    const double s = u - t0;
    return p.e_l_mv + (v0 - p.e_l_mv) * std::exp(-s / p.tau_m_ms) +
           psp(e0, p.tau_e_ms, p.tau_m_ms, s) + psp(i0, p.tau_i_ms, p.tau_m_ms, s);
  }
  void move_to(double u) {
    v = v_at(u);
    i_e *= std::exp(-(u - t) / p.tau_e_ms);
    i_i *= std::exp(-(u - t) / p.tau_i_ms);
    t = u;
  }
  // Fires every crossing in (t, until], then moves there.
  void run_to(double until) {
    double a = std::max(t, ref_until);
    while (a < until) {
      const double b = std::min(a + step, until);
      if (v_at(b) < p.v_th_mv) {
        a = b;
        continue;
      }
      double lo = a, hi = b;
      for (int k = 0; k < 200; ++k) {
        const double m = 0.5 * (lo + hi);
        (v_at(m) >= p.v_th_mv ? hi : lo) = m;
      }
      move_to(hi);
      spikes.push_back(hi);
      v = p.v_reset_mv;
      ref_until = hi + p.t_ref_ms;
      a = std::max(t, ref_until);
    }
    move_to(until);
  }
  void receive(double weight) { (weight >= 0 ? i_e : i_i) += weight; }
};

// A state below the CUBA threshold (-50 mV) at t = 0, refractory for up to
// 5 ms if asked.
lif_exp::state random_state(rng& r, double v_min_mv, double i_e_max_mv, double i_i_min_mv,
                            bool refractory) {
  return {.v_mv = r.uniform(v_min_mv, -50.0001),
          .i_e_mv = r.uniform(0, i_e_max_mv),
          .i_i_mv = r.uniform(i_i_min_mv, 0),
          .ref_until_ms = refractory ? r.uniform(0, 5) : -inf};
}

// Excitatory and inhibitory Poisson inputs, and the spike times of one
// lif_exp under them: simulated, and from the naive reference.
struct drive {
  double rate_e_hz, rate_i_hz;
  float w_e, w_i;
};
std::pair<std::vector<double>, std::vector<double>> driven(const lif_exp::parameters& p,
                                                           const drive& in, double t_end_ms) {
  const float w_e = in.w_e, w_i = in.w_i;
  rng r(2026);
  std::vector<std::pair<double, float>> inputs;  // time, weight
  for (const auto& [rate_hz, w] : {std::pair{in.rate_e_hz, w_e}, std::pair{in.rate_i_hz, w_i}})
    for (double t = r.exponential(1000 / rate_hz); t < t_end_ms; t += r.exponential(1000 / rate_hz))
      inputs.push_back({t, w});
  std::sort(inputs.begin(), inputs.end());
  std::vector<double> e_times, i_times;
  for (const auto& [t, w] : inputs) (w > 0 ? e_times : i_times).push_back(t);

  network net;
  auto times = std::make_shared<spike_raster>();
  times->add_channel(e_times);
  times->add_channel(i_times);
  auto& src = net.add_population<spike_time_source>("S", 2, {times});
  auto& n = net.add_population<lif_exp>("N", 1, p);
  net.connect(src, n, 0, {{0, 0, w_e, 0.0}, {1, 0, w_i, 0.0}});
  simulator sim(net);
  spike_recorder rec(sim, {1});
  sim.run(time_ms{t_end_ms});
  std::vector<double> simulated;
  for (const auto& s : rec.spikes()) simulated.push_back(s.time_ms);

  naive_lif_exp ref(p);
  for (const auto& [t, w] : inputs) {
    ref.run_to(t);
    ref.receive(static_cast<double>(w));
  }
  ref.run_to(t_end_ms);
  return {simulated, ref.spikes};
}
}  // namespace

TEST_CASE("lif_exp: a single EPSP has the closed-form peak time and amplitude") {
  const double tau_m = 20, tau_e = 5, w = 2.0;
  network net;
  auto& src = net.add_population<spike_time_source>("S", 1, {raster({1.0})});
  auto& n = net.add_population<lif_exp>("N", 1, {.tau_m_ms = tau_m, .tau_e_ms = tau_e});
  net.connect(src, n, 0, {{0, 0, static_cast<float>(w), 0.0}});
  simulator sim(net);
  sim.run(time_ms{1.0 + 1e-12});
  const double s_peak = tau_m * tau_e / (tau_m - tau_e) * std::log(tau_m / tau_e);
  const double amp = psp(w, tau_e, tau_m, s_peak);
  const auto v = [&](double s) { return net.pop(1).state_value(0, 0, 1.0 + s) + 70.0; };
  CHECK(v(s_peak) == doctest::Approx(amp).epsilon(1e-12));
  CHECK(v(s_peak) > v(s_peak - 1e-3));
  CHECK(v(s_peak) > v(s_peak + 1e-3));
  CHECK(s_peak == doctest::Approx(9.242).epsilon(1e-3));
  // The excitatory current decays with tau_e.
  CHECK(net.pop(1).state_value(0, 1, 1.0 + 5.0) == doctest::Approx(w * std::exp(-5.0 / 5.0)));
}

TEST_CASE("lif_exp: exact threshold crossing agrees with a bisection reference to 1e-9 ms") {
  // Several input strengths near rheobase: the trajectory grazes threshold.
  const double tau_m = 20, tau_e = 5, v_th_rel = 10.0;  // threshold 10 mV above rest
  for (double w : {12.0, 15.0, 20.0, 40.0}) {
    network net;
    auto& src = net.add_population<spike_time_source>("S", 1, {raster({2.0})});
    auto& n = net.add_population<lif_exp>(
        "N", 1, {.tau_m_ms = tau_m, .tau_e_ms = tau_e, .e_l_mv = -70, .v_th_mv = -60});
    net.connect(src, n, 0, {{0, 0, static_cast<float>(w), 0.0}});
    simulator sim(net);
    spike_recorder rec(sim, {1});
    sim.run(time_ms{100});
    // Reference: scan the written-out PSP, then bisect.
    double t_ref = -1;
    for (double s = 0; s < 60; s += 1e-3)
      if (psp(w, tau_e, tau_m, s) >= v_th_rel) {
        double a = s - 1e-3, b = s;
        for (int i = 0; i < 100; ++i) {
          const double m = 0.5 * (a + b);
          (psp(w, tau_e, tau_m, m) >= v_th_rel ? b : a) = m;
        }
        t_ref = 2.0 + b;
        break;
      }
    const double peak = psp(w, tau_e, tau_m, 9.242);
    if (t_ref < 0) {
      CHECK(peak < v_th_rel);
      CHECK(rec.spikes().empty());
    } else {
      REQUIRE(!rec.spikes().empty());
      CHECK(std::abs(rec.spikes()[0].time_ms - t_ref) <= 1e-9);
    }
  }
}

TEST_CASE("lif_exp: currents keep decaying through the refractory period") {
  network net;
  auto& src = net.add_population<spike_time_source>("S", 1, {raster({1.0})});
  auto& n = net.add_population<lif_exp>("N", 1, {.t_ref_ms = 5.0});
  net.connect(src, n, 0, {{0, 0, 1000.0f, 0.0}});
  simulator sim(net);
  spike_recorder rec(sim, {1});
  sim.run(time_ms{1.5});
  REQUIRE(rec.spikes().size() == 1);
  const double t_spike = rec.spikes()[0].time_ms;
  // Clamped at reset while refractory; the current decays regardless.
  CHECK(net.pop(1).state_value(0, 0, t_spike + 4.0) == -70.0);
  CHECK(net.pop(1).state_value(0, 1, t_spike + 4.0) ==
        doctest::Approx(1000.0 * std::exp(-(t_spike + 3.0) / 5.0)).epsilon(1e-12));
  sim.run(time_ms{40});
  // The remaining current drives further spikes, never closer than t_ref.
  REQUIRE(rec.spikes().size() >= 2);
  for (std::size_t k = 1; k < rec.spikes().size(); ++k)
    CHECK(rec.spikes()[k].time_ms - rec.spikes()[k - 1].time_ms >= 5.0);
}

TEST_CASE("lif_exp rejects each invalid parameter by name") {
  network net;
  auto bad = [&](lif_exp::parameters p) { net.add_population<lif_exp>("N", 1, p); };
  CHECK_THROWS_WITH_AS(bad({.tau_e_ms = 0}), doctest::Contains("tau_e_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.tau_i_ms = -1}), doctest::Contains("tau_i_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.tau_e_ms = 20}), doctest::Contains("differ"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.v_reset_mv = -50}), doctest::Contains("v_reset_mv"), parameter_error);
  CHECK_THROWS_WITH_AS(bad({.tau_m_ms = std::nan("")}), doctest::Contains("tau_m_ms"),
                       parameter_error);
}

TEST_CASE("lif_exp: spike times under random input equal a naive reference") {
  // Polynomial search (tau ratios 4 and 2), and first_crossing (tau_e = 4.5).
  lif_exp::parameters odd = cuba;
  odd.tau_e_ms = 4.5;
  // CUBA's weights and about its input rates; a sparse drive, where
  // predictions must stand for longer.
  const drive dense{450, 90, 1.62f, -9.0f}, sparse{60, 15, 4.0f, -9.0f};
  for (const auto& p : {cuba, odd}) {
    for (const auto& in : {dense, sparse}) {
      CAPTURE(p.tau_e_ms);
      CAPTURE(in.rate_e_hz);
      REQUIRE(lif_exp::derive(p).polynomial == (p.tau_e_ms == 5));
      const auto [simulated, reference] = driven(p, in, 4000);
      REQUIRE(reference.size() > 20);
      REQUIRE(simulated.size() == reference.size());
      for (std::size_t k = 0; k < reference.size(); ++k)
        CHECK(std::abs(simulated[k] - reference[k]) <= 1e-9);
    }
  }
}

TEST_CASE("lif_exp: the polynomial search finds the crossings first_crossing finds") {
  // Random states, some refractory: next_spike (polynomial in e^{-s/20})
  // against first_crossing on the same trajectory as a sum of exponentials.
  lif_exp::parameters rest_below = cuba;  // E_L below threshold: some never fire
  rest_below.e_l_mv = -56;
  for (const auto& p : {cuba, rest_below}) {
    const auto d = lif_exp::derive(p);
    REQUIRE(d.polynomial);
    rng r(5);
    int crossings = 0, never = 0;
    for (int trial = 0; trial < 4000; ++trial) {
      const lif_exp::state s = random_state(r, -65, 60, -40, trial % 4 == 0);
      const double t = 0.0;
      const lif_exp::state start = t < s.ref_until_ms ? lif_exp::end_of_refractoriness(s, d, t) : s;
      const double want =
          std::max(t, s.ref_until_ms) + first_crossing(lif_exp::trajectory(start, d));
      const double got = lif_exp::next_spike(lif_exp::from_real(s, d, t), d, t);
      CAPTURE(trial);
      if (want == inf) {
        ++never;
        CHECK(got == inf);
        continue;
      }
      ++crossings;
      CHECK(std::abs(got - want) <= 1e-9);
    }
    CHECK(crossings > 250);
    if (p.e_l_mv < p.v_th_mv) CHECK(never > 1000);
  }
}

TEST_CASE("lif_exp: a prediction is exact, or provisional before any crossing") {
  lif_exp::parameters rest_below = cuba, odd = cuba;
  rest_below.e_l_mv = -56;
  odd.tau_e_ms = 4.5;  // first_crossing over the horizon
  for (const auto& p : {cuba, rest_below, odd}) {
    const auto d = lif_exp::derive(p);
    rng r(9);
    int certain = 0, provisional = 0;
    for (int trial = 0; trial < 4000; ++trial) {
      // Close to threshold and strongly driven: many crossings within the
      // look-aheads, some a graze.
      const lif_exp::state s = random_state(r, -56, 30, -20, trial % 5 == 0);
      const lif_exp::state anchored = lif_exp::from_real(s, d, 0.0);
      const spike_prediction pr = lif_exp::predict(anchored, d, 0.0);
      const double next = lif_exp::next_spike(anchored, d, 0.0);
      CAPTURE(trial);
      if (pr.certain) {
        ++certain;
        CHECK((pr.time_ms == next || std::abs(pr.time_ms - next) <= 1e-9));
      } else {
        ++provisional;
        CHECK(pr.time_ms > 0.0);
        CHECK(next >= pr.time_ms);  // never a crossing before a provisional time
      }
    }
    CHECK(certain > 200);
    CHECK(provisional > 200);
  }
}

TEST_CASE("lif_exp: the anchored state follows the real form across epochs and resets") {
  // The same inputs, spikes and looks at irregular times over 2 s (25
  // epochs of 80 ms): the anchored state (advance, receive) shown in real
  // form against the real form advanced step by step; with a refractory
  // period and without. After each input, predict_at() gives predict().
  for (const double t_ref : {5.0, 0.0}) {
    lif_exp::parameters p = cuba;
    p.t_ref_ms = t_ref;
    CAPTURE(t_ref);
    const auto d = lif_exp::derive(p);
    REQUIRE(d.anchored);
    REQUIRE(d.epoch_ms == 80.0);
    rng r(21);
    lif_exp::state real{.v_mv = -52, .i_e_mv = 0, .i_i_mv = 0, .ref_until_ms = -inf};
    lif_exp::state anchored = lif_exp::from_real(real, d, 0.0);
    double t = 0;
    int resets = 0, epochs_crossed = 0;
    while (t < 2000) {
      const double next = t + r.uniform(0, 12);
      if (lif_exp::anchor_of(d, next) != lif_exp::anchor_of(d, t)) ++epochs_crossed;
      lif_exp::advance(anchored, d, t, next);
      lif_exp::advance_real(real, d, t, next);
      t = next;
      const lif_exp::state shown = lif_exp::to_real(anchored, d, t);
      CAPTURE(t);
      CHECK(std::abs(shown.v_mv - real.v_mv) <= 1e-10);
      CHECK(std::abs(shown.i_e_mv - real.i_e_mv) <= 1e-10);
      CHECK(std::abs(shown.i_i_mv - real.i_i_mv) <= 1e-10);
      if (r.uniform() < 0.15 && t >= real.ref_until_ms) {  // a spike: both reset
        lif_exp::fire(anchored, d, t);
        real.v_mv = p.v_reset_mv;  // (the reset, in real form)
        real.ref_until_ms = t + p.t_ref_ms;
        ++resets;
      } else {
        const double w = r.uniform(-6, 4);
        lif_exp::receive(anchored, d, 0, w, t);
        lif_exp::receive_real(real, d, 0, w, t);
        // The prediction after the input, from the delivery's factors
        // (predict_at) and from the time alone (predict): bit for bit.
        const spike_prediction by_time = lif_exp::predict(anchored, d, t);
        const spike_prediction at_input = lif_exp::predict_at(anchored, d, lif_exp::at_time(d, t));
        CHECK(at_input.time_ms == by_time.time_ms);
        CHECK(at_input.certain == by_time.certain);
        CHECK(at_input.margin == by_time.margin);
      }
    }
    CHECK(resets > 30);
    CHECK(epochs_crossed >= 24);
  }
}

TEST_CASE("lif_exp: raise_bound is the EPSP's peak") {
  for (const double tau_e : {5.0, 2.0, 4.5, 19.99, 40.0}) {
    lif_exp::parameters p = cuba;
    p.tau_e_ms = tau_e;
    const auto d = lif_exp::derive(p);
    double peak = 0;  // sampled every microsecond over 10 time constants
    for (double s_ms = 0; s_ms < 10 * std::max(tau_e, 20.0); s_ms += 1e-3)
      peak = std::max(peak, psp(2.0, tau_e, 20.0, s_ms));
    CAPTURE(tau_e);
    CHECK(lif_exp::raise_bound(d, 0, 2.0) >= peak);
    // (Within 1e-6 of it; within 1e-3 where tau_e is close to tau_m.)
    CHECK(lif_exp::raise_bound(d, 0, 2.0) <= peak * (d.close_e ? 1 + 1e-3 : 1 + 1e-6));
    CHECK(lif_exp::raise_bound(d, 0, -3.0) == 0.0);
  }
}

TEST_CASE("lif_exp: a prediction stands against inputs within its margin") {
  // Random states near threshold; after a provisional prediction (or a
  // never) with margin m, excitatory inputs whose bounds add up to at most
  // m, and inhibitory ones of any weight, at random times before it: no
  // crossing in between (exact next_spike after each input). With
  // integer ratios (anchored, Bernstein margins) and without (odd:
  // first_crossing's bounds give the margin).
  lif_exp::parameters rest_below = cuba, odd = cuba;
  rest_below.e_l_mv = -56;
  odd.tau_e_ms = 4.5;
  for (const auto& p : {cuba, rest_below, odd}) {
    const auto d = lif_exp::derive(p);
    CAPTURE(p.tau_e_ms);
    rng r(13);
    int tried = 0, spent = 0;
    for (int trial = 0; trial < 3000; ++trial) {
      lif_exp::state s = lif_exp::from_real(random_state(r, -60, 20, -20, trial % 5 == 0), d, 0.0);
      const spike_prediction pr = lif_exp::predict(s, d, 0.0);
      if (pr.certain && pr.time_ms < inf) continue;
      const double margin = std::max(pr.margin, 0.0);  // (none known: 0, as the engine takes it)
      ++tried;
      const double until = std::min(pr.time_ms, 200.0);
      std::vector<double> times(8);
      for (auto& t : times) t = r.uniform(0, until);
      std::sort(times.begin(), times.end());
      double left = margin, t_last = 0.0;
      for (std::size_t j = 0; j < times.size(); ++j) {
        double w = r.uniform(-3, 3);
        if (lif_exp::raise_bound(d, 0, w) > left) w = left / d.peak_e * (1 - 1e-12);
        left -= lif_exp::raise_bound(d, 0, w);
        lif_exp::advance(s, d, t_last, times[j]);
        t_last = times[j];
        lif_exp::receive(s, d, 0, w, t_last);
        const double next_input = j + 1 < times.size() ? times[j + 1] : until;
        CAPTURE(trial);
        CAPTURE(j);
        CHECK(lif_exp::next_spike(s, d, t_last) >= next_input);
      }
      if (margin > 0 && left < 1e-3 * margin) ++spent;
    }
    CHECK(tried > 500);
    CHECK(spent > 100);  // inputs that used up the whole margin
  }
}

TEST_CASE("lif_exp: an EPSP grazing the threshold by 1e-9 mV crosses, or not, exactly") {
  const double tau_m = 20, tau_e = 5, w = 2.0;
  const double s_peak = tau_m * tau_e / (tau_m - tau_e) * std::log(tau_m / tau_e);
  const double peak = psp(w, tau_e, tau_m, s_peak);
  for (double delta : {1e-6, 1e-9}) {
    for (double side : {-1.0, 1.0}) {  // threshold below (crossing) or above the peak
      CAPTURE(delta);
      CAPTURE(side);
      const double v_th = -70.0 + peak + side * delta;
      network net;
      auto& src = net.add_population<spike_time_source>("S", 1, {raster({1.0})});
      auto& n = net.add_population<lif_exp>(
          "N", 1, {.tau_m_ms = tau_m, .tau_e_ms = tau_e, .e_l_mv = -70, .v_th_mv = v_th});
      net.connect(src, n, 0, {{0, 0, static_cast<float>(w), 0.0}});
      simulator sim(net);
      spike_recorder rec(sim, {1});
      sim.run(time_ms{60});
      if (side > 0) {
        CHECK(rec.spikes().empty());
        continue;
      }
      REQUIRE(rec.spikes().size() == 1);
      // Reference: bisect the written-out PSP on its rising flank.
      double a = 0, b = s_peak;
      for (int i = 0; i < 200; ++i) {
        const double m = 0.5 * (a + b);
        (-70.0 + psp(w, tau_e, tau_m, m) >= v_th ? b : a) = m;
      }
      // The slope at the crossing is 2 sqrt(0.0015 delta) mV/ms: rounding
      // of V (1e-14 mV) moves it by up to 1e-14 mV over that.
      const double tolerance = std::max(1e-9, 1e-14 / (2 * std::sqrt(0.0015 * delta)));
      CHECK(std::abs(rec.spikes()[0].time_ms - (1.0 + b)) <= tolerance);
    }
  }
}
