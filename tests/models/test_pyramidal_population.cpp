// pyramidal_population against model_population<pyramidal_cell> (the
// reference: one closed-form advance per input): the same spikes, states and
// initial potentials, across epoch rebasing, refractoriness, dense and
// sparse projections; its errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/network.hpp"
#include "apical/engine/random.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/microcircuit_cells.hpp"
#include "apical/models/pyramidal_population.hpp"
#include "spike_fixtures.hpp"

namespace {

using apical::spike_raster;
using apical::synapse;
using apical::time_ms;
using reference_population = apical::model_population<apical::models::pyramidal_cell>;

using apical::test::poisson_raster;
using apical::test::spike;

struct run_result {
  std::vector<spike> spikes;
  std::vector<double> v_s_at_end, v_a_at_end;
};

// `cells` pyramidal cells of population type Pop driven by Poisson basal
// input through a dense projection (every source reaches every cell: the
// contiguous path), a sparse one (random subsets: the indexed path), one
// whose every source reaches a run of 4 consecutive cells and one of 20
// (a locally connected layer's: the vector path per long run) and apical
// input; `threads` partitions; per-cell threshold offsets when given
// (pyramidal_population only).
template <class Pop>
run_result drive(const apical::models::pyramidal_cell::parameters& p, std::uint64_t seed,
                 double duration_ms, unsigned threads = 1,
                 const std::vector<double>& offsets_mv = {}) {
  constexpr std::uint32_t sources = 40, cells = 37;
  apical::network net;
  auto& dense_src = net.add_population<apical::spike_time_source>("dense", sources);
  auto& sparse_src = net.add_population<apical::spike_time_source>("sparse", sources);
  auto& apical_src = net.add_population<apical::spike_time_source>("apical", sources);
  auto& runs_src = net.add_population<apical::spike_time_source>("runs", sources);
  dense_src.set_params({poisson_raster(sources, 30.0, duration_ms, seed)});
  sparse_src.set_params({poisson_raster(sources, 60.0, duration_ms, seed + 1)});
  apical_src.set_params({poisson_raster(sources, 20.0, duration_ms, seed + 2)});
  runs_src.set_params({poisson_raster(sources, 15.0, duration_ms, seed + 4)});
  auto& pyr = static_cast<Pop&>(net.add(std::make_unique<Pop>("P", cells, p)));
  if constexpr (std::is_same_v<Pop, apical::models::pyramidal_population>)
    if (!offsets_mv.empty()) pyr.set_threshold_offsets(offsets_mv);
  apical::rng r(seed + 3);
  std::vector<synapse> dense, sparse, apical, runs;
  for (std::uint32_t j = 0; j < sources; ++j)
    for (std::uint32_t i = 0; i < cells; ++i) {
      dense.push_back({j, i, static_cast<float>(r.uniform(-1.5, 3.0)), 1.0});
      if (r.uniform() < 0.3)
        sparse.push_back({j, i, static_cast<float>(r.uniform(-2.0, 5.0)), 0.5 + r.uniform()});
      apical.push_back({j, i, static_cast<float>(r.uniform(-3.0, 3.0)), 0.5});
      if (i < 4 || (i >= 6 + j % 10 && i < 26 + j % 10))
        runs.push_back({j, i, static_cast<float>(r.uniform(-1.5, 3.5)), 0.7});
    }
  net.connect(dense_src, pyr, apical::models::pyramidal_cell::basal, dense);
  net.connect(sparse_src, pyr, apical::models::pyramidal_cell::basal, sparse);
  net.connect(apical_src, pyr, apical::models::pyramidal_cell::apical, apical);
  net.connect(runs_src, pyr, apical::models::pyramidal_cell::basal, runs);
  apical::simulation_options opt{seed};
  opt.threads = threads;
  apical::simulator sim(net, opt);
  apical::spike_recorder rec(sim, {pyr.id()});  // safe with threads
  sim.run_until(time_ms{duration_ms});
  run_result out;
  for (const auto& s : rec.spikes()) out.spikes.push_back({s.time_ms, s.neuron});
  const auto vs = pyr.state_index("v_s_mv"), va = pyr.state_index("v_a_mv");
  for (std::uint32_t i = 0; i < cells; ++i) {
    out.v_s_at_end.push_back(pyr.state_value(i, vs, duration_ms));
    out.v_a_at_end.push_back(pyr.state_value(i, va, duration_ms));
  }
  return out;
}

apical::models::pyramidal_cell::parameters test_params() {
  apical::models::pyramidal_cell::parameters p;
  p.v_init_min_mv = -70.0;
  p.v_init_max_mv = -56.0;
  p.t_ref_ms = 3.0;
  return p;
}

void check_same(const run_result& fast, const run_result& reference) {
  REQUIRE(fast.spikes.size() == reference.spikes.size());
  CHECK(fast.spikes == reference.spikes);  // exact: crossings happen at input times
  for (std::size_t i = 0; i < fast.v_s_at_end.size(); ++i) {
    CHECK(fast.v_s_at_end[i] == doctest::Approx(reference.v_s_at_end[i]).epsilon(1e-12));
    CHECK(fast.v_a_at_end[i] == reference.v_a_at_end[i]);
  }
}

}  // namespace

TEST_CASE("pyramidal_population spikes exactly when model_population<pyramidal_cell> does") {
  const auto p = test_params();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto reference = drive<reference_population>(p, seed, 400.0);
    const auto fast = drive<apical::models::pyramidal_population>(p, seed, 400.0);
    CHECK(reference.spikes.size() > 300);
    check_same(fast, reference);
  }
}

TEST_CASE("pyramidal_population: rebasing across epochs changes nothing") {
  // tau_s = 0.2 ms makes an epoch (200 tau_s) 40 ms long: ten rebases. The
  // threshold is 2 mV above rest so that single inputs reach it.
  auto p = test_params();
  p.tau_s_ms = 0.2;
  p.t_ref_ms = 0.5;
  p.v_th_mv = -68.0;
  p.v_init_max_mv = -68.5;
  const auto reference = drive<reference_population>(p, 7, 400.0);
  const auto fast = drive<apical::models::pyramidal_population>(p, 7, 400.0);
  CHECK(reference.spikes.size() > 100);
  check_same(fast, reference);
}

TEST_CASE("pyramidal_population: a cell with threshold offset d is pyramidal_cell at V_th + d") {
  // Cells do not interact, so each cell's spikes can be compared with the
  // same cell of a reference population whose threshold is V_th + d.
  const auto p = test_params();
  auto lowered = p;
  lowered.v_th_mv = p.v_th_mv - 6.0;
  std::vector<double> offsets(37, 0.0);
  for (std::size_t i = 0; i < offsets.size(); i += 3) offsets[i] = -6.0;
  const auto fast = drive<apical::models::pyramidal_population>(p, 9, 300.0, 1, offsets);
  const auto at_p = drive<reference_population>(p, 9, 300.0);
  const auto at_lowered = drive<reference_population>(lowered, 9, 300.0);
  run_result want;
  for (const auto* r : {&at_p, &at_lowered})
    for (const auto& s : r->spikes)
      if ((offsets[s.i] != 0.0) == (r == &at_lowered)) want.spikes.push_back(s);
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    const auto& r = offsets[i] != 0.0 ? at_lowered : at_p;
    want.v_s_at_end.push_back(r.v_s_at_end[i]);
    want.v_a_at_end.push_back(r.v_a_at_end[i]);
  }
  const auto by_time = [](const spike& a, const spike& b) {
    return a.t < b.t || (a.t == b.t && a.i < b.i);
  };
  std::sort(want.spikes.begin(), want.spikes.end(), by_time);
  auto got = fast;
  std::sort(got.spikes.begin(), got.spikes.end(), by_time);
  CHECK(at_lowered.spikes.size() > at_p.spikes.size());  // the offset matters
  check_same(got, want);
}

TEST_CASE("pyramidal_population: threshold offsets are checked and survive set_params") {
  const auto p = test_params();
  apical::models::pyramidal_population pop("P", 2, p);
  const std::vector<double> ok{-3.0, 2.0};
  pop.set_threshold_offsets(ok);
  const std::vector<double> at_rest{0.0, p.e_l_mv - p.v_th_mv};
  CHECK_THROWS_WITH_AS(pop.set_threshold_offsets(at_rest),
                       doctest::Contains("threshold offset of cell 1"), apical::parameter_error);
  CHECK_THROWS_WITH_AS(pop.set_threshold_offsets(std::vector<double>{0.0}),
                       doctest::Contains("1 threshold offsets; expected 2"),
                       apical::parameter_error);
  CHECK(pop.threshold_offsets_mv()[0] == -3.0);  // unchanged by the refusals
  auto q = p;
  q.tau_s_ms = 10.0;
  pop.set_params(q);
  CHECK(pop.threshold_offsets_mv()[1] == 2.0);
  q.v_th_mv = p.e_l_mv + 2.0;  // cell 0 would sit at rest
  CHECK_THROWS_AS(pop.set_params(q), apical::parameter_error);
}

TEST_CASE("pyramidal_population: the same spikes on 1 and 3 threads") {
  const auto p = test_params();
  const auto one = drive<apical::models::pyramidal_population>(p, 5, 300.0, 1);
  const auto three = drive<apical::models::pyramidal_population>(p, 5, 300.0, 3);
  CHECK(one.spikes == three.spikes);
  CHECK(one.v_s_at_end == three.v_s_at_end);
}

TEST_CASE("pyramidal_population: state_at and set_state") {
  auto p = test_params();
  apical::models::pyramidal_population pop("P", 3, p);
  pop.reset(11);
  reference_population ref("P", 3, p);
  ref.reset(11);
  // The same initial potentials as the reference (the same stream).
  for (std::uint32_t i = 0; i < 3; ++i)
    CHECK(pop.state_at(i, 0.0).v_s_mv == ref.state_of(i).v_s_mv);

  apical::models::pyramidal_cell::state s;
  s.v_s_mv = -60.0;
  s.v_a_mv = -65.0;
  s.t_a_ms = 1.0;
  s.ref_until_ms = -1.0;
  pop.set_state(1, s, 2.0);
  const auto back = pop.state_at(1, 2.0);
  CHECK(back.v_s_mv == doctest::Approx(-60.0).epsilon(1e-14));
  CHECK(back.v_a_mv == -65.0);
  CHECK(back.t_a_ms == 1.0);
  // Free decay towards E_L with tau_s.
  const double later = pop.state_at(1, 2.0 + p.tau_s_ms).v_s_mv;
  CHECK(later == doctest::Approx(p.e_l_mv + 10.0 * std::exp(-1.0)).epsilon(1e-12));
  // Refractory: clamped at V_reset until ref_until, then relaxing from it.
  s.ref_until_ms = 5.0;
  s.v_s_mv = -52.0;  // ignored while refractory
  pop.set_state(2, s, 2.0);
  CHECK(pop.state_at(2, 4.0).v_s_mv == p.v_reset_mv);
  CHECK(pop.state_at(2, 5.0).v_s_mv == doctest::Approx(p.v_reset_mv));
}

TEST_CASE("pyramidal_population rejects what it cannot simulate") {
  auto p = test_params();
  p.e_l_mv = -50.0;  // resting above threshold: needs a root search
  CHECK_THROWS_WITH_AS(apical::models::pyramidal_population("P", 2, p),
                       doctest::Contains("'e_l_mv' must be below v_th_mv"),
                       apical::parameter_error);
  p = test_params();
  p.kappa = 0.5;
  CHECK_THROWS_WITH_AS(apical::models::pyramidal_population("P", 2, p),
                       doctest::Contains("'kappa' must be 0"), apical::parameter_error);
  apical::models::pyramidal_population pop("P", 2, test_params());
  CHECK_THROWS_WITH_AS(pop.set_parameter("tau_s_ms", -1.0), doctest::Contains("tau_s_ms"),
                       apical::parameter_error);
  CHECK(pop.parameter("tau_s_ms") == test_params().tau_s_ms);  // unchanged
  CHECK_THROWS_WITH_AS(pop.set_parameter("tau_q_ms", 1.0), doctest::Contains("unknown parameter"),
                       apical::parameter_error);
}

TEST_CASE("pyramidal_population: a checkpoint is refused, naming the population") {
  apical::network net;
  net.add(std::make_unique<apical::models::pyramidal_population>("P", 3, test_params()));
  apical::simulator sim(net);
  sim.run_until(time_ms{1.0});
  std::stringstream out;
  CHECK_THROWS_WITH_AS(sim.save(out), doctest::Contains("checkpoint: population 'P' (pyramidal"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(sim.save(out), doctest::Contains("cannot be checkpointed"),
                       apical::parameter_error);
  CHECK(out.str().empty());
}
