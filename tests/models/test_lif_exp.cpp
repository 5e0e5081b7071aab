#include <cmath>
#include <memory>

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
