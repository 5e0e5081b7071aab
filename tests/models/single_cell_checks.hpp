#pragma once
// Checks shared by the tests of single-compartment models with excitatory
// and inhibitory inputs (lif_curr_alpha, lif_cond_alpha).
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"

namespace apical::test {

// The spike times of one Model neuron whose inputs come at e_times (weight
// w_e) and i_times (w_i), simulated to t_end_ms.
template <class Model>
std::vector<double> simulated_spikes(const typename Model::parameters& p,
                                     const std::vector<double>& e_times,
                                     const std::vector<double>& i_times, float w_e, float w_i,
                                     double t_end_ms) {
  network net;
  auto times = std::make_shared<spike_raster>();
  times->add_channel(e_times);
  times->add_channel(i_times);
  auto& src = net.add_population<spike_time_source>("S", 2, {times});
  auto& n = net.add_population<Model>("N", 1, p);
  net.connect(src, n, 0, {{0, 0, w_e, 0.0}, {1, 0, w_i, 0.0}});
  simulator sim(net);
  spike_recorder rec(sim, {1});
  sim.run(time_ms{t_end_ms});
  std::vector<double> out;
  for (const auto& s : rec.spikes()) out.push_back(s.time_ms);
  return out;
}

// Model::next_spike from state s at 0 against the trajectory advanced on a
// grid of `step` ms for `steps` steps: no later than the first sample at
// threshold and within one step of it, or, when only next_spike finds a
// crossing (briefer than the step), V does reach v_th_mv there (to
// slack_mv). Returns next_spike's time and whether a sample reached the
// threshold.
struct sampled_check {
  double next_ms;
  bool sample_crossed;
};
template <class Model>
sampled_check check_next_spike_against_samples(const typename Model::state& s,
                                               const typename Model::derived& d, double v_th_mv,
                                               double step, int steps, double slack_mv) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  typename Model::state x = s;
  double t = 0, first = inf;
  for (int k = 1; k <= steps && first == inf; ++k) {
    Model::advance(x, d, t, k * step);
    t = k * step;
    if (x.v_mv >= v_th_mv) first = t;
  }
  const double next = Model::next_spike(s, d, 0.0);
  if (first < inf) {
    CHECK(next <= first);
    CHECK(first - next <= step);
  } else if (next < inf) {
    typename Model::state at = s;
    Model::advance(at, d, 0.0, next);
    CHECK(at.v_mv >= v_th_mv - slack_mv);
  }
  return {next, first < inf};
}

// The spikes of a small recurrent network of Model cells (160 E, 40 I, with
// initial V spread by `p`) driven by 100 Poisson sources at 40 Hz, p = 0.2
// from the sources and from I, 0.1 from E, delays 1 ms, 300 ms, on
// `threads` threads and the given delivery path: the same on every path.
template <class Model>
std::vector<recorded_spike> small_ei_network(const typename Model::parameters& p, double w_in,
                                             double w_e, double w_i, std::uint64_t seed,
                                             unsigned threads, delivery_path path) {
  network net;
  auto& in = net.add_population<poisson_source>("P", 100, {.rate_hz = 40});
  auto& e = net.add_population<Model>("E", 160, p);
  auto& i = net.add_population<Model>("I", 40, p);
  std::uint64_t k = 0;
  auto connect = [&](population& a, population& b, double prob, double w) {
    rng r(derive_seed(seed, stream::connectivity, k++));
    connection_options o{.weight = value_spec::constant(w),
                         .delay_ms = value_spec::constant(1.0),
                         .same_population = &a == &b};
    net.connect(a, b, 0, fixed_probability(a.size(), b.size(), prob, o, r));
  };
  connect(in, e, 0.2, w_in);
  connect(in, i, 0.2, w_in);
  connect(e, e, 0.1, w_e);
  connect(e, i, 0.1, w_e);
  connect(i, e, 0.2, w_i);
  connect(i, i, 0.2, w_i);
  simulator sim(net, {.seed = seed, .threads = threads, .delivery = path});
  spike_recorder rec(sim);
  sim.run(time_ms{300});
  return rec.spikes();
}

}  // namespace apical::test
