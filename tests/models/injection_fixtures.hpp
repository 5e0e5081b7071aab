#pragma once
// Injected currents as pyNN.apical builds them (compartments 1-3 set by a
// spike_time_source, lif_common.hpp), the closed form of a leaky membrane
// under a piecewise-constant drive, and V recorded against a reference.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::test {

// A current that is x[k] from t[k] on: source neuron k fires at t[k] -
// delay and sets the three parts of each target's current through one
// projection per part (what pyNN.apical builds for a current source).
struct schedule {
  std::vector<double> t, x;
};

inline void inject(network& net, population& target, const schedule& s, double delay_ms) {
  auto raster = std::make_shared<spike_raster>();
  for (const double t : s.t) raster->add_channel(std::vector<double>{t - delay_ms});
  auto& src = net.add_population<spike_time_source>("I", s.t.size(), {raster});
  for (int part = 0; part < models::injection_parts; ++part) {
    std::vector<synapse> syn;
    for (std::uint32_t k = 0; k < s.t.size(); ++k)
      for (std::uint32_t i = 0; i < target.size(); ++i)
        syn.push_back({k, i, models::injection_weights(s.x[k])[part], delay_ms});
    net.connect(src, target, models::injection_first_compartment + part, syn);
  }
}

// V at time u of a leaky membrane relaxing to rest(t) = e_l + x(t) from
// v0 at 0, the current piecewise constant (no threshold).
inline double relaxed(double e_l, double tau_m, double v0, const schedule& s, double u) {
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

// A cell at rest at -65 mV with tau_m 20 ms, V_th -50, V_reset -70 mV and
// t_ref 2 ms (Parameters: lif_exp_injected's, lif_delta_injected's), with
// the other parameters at their defaults.
template <class Parameters>
Parameters cell_at_rest() {
  Parameters p;
  p.tau_m_ms = 20;
  p.e_l_mv = -65;
  p.v_th_mv = -50;
  p.v_reset_mv = -70;
  p.t_ref_ms = 2;
  p.v_init_min_mv = p.v_init_max_mv = -65;
  return p;
}

// From rest, a current x from t_on moves the rest to E = E_L + x (mV) above
// V_th: the first spike comes after tau_m ln(x / (E - V_th)), the next ones
// every t_ref + tau_m ln((E - V_reset) / (E - V_th)); none after the
// current stops at t_off (V starts below threshold and falls). Checks
// Model's spikes against these first-passage times.
template <class Model>
void check_first_passages(const typename Model::parameters& p, double x) {
  const double t_on = 10.0, t_off = 150.0, e = p.e_l_mv + x;
  network net;
  auto& n = net.add_population<Model>("N", 1, p);
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

}  // namespace apical::test
