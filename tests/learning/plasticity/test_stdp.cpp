// STDP rules against deliberately naive references: the spike history is
// recorded with listeners (arrival times at each synapse, postsynaptic spike
// times, in the order the engine processed them), and the expected weight
// is computed by iterating every pair (or the nearest pairs) of that
// history, without traces.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/learning/plasticity/plasticity.hpp"
#include "apical/learning/plasticity/stdp.hpp"
#include "apical/models/lif_delta.hpp"

using namespace apical;
using namespace apical::learning;

namespace {

// ---------------------------------------------------------------------------
// A small network: Poisson inputs onto LIF neurons that a second Poisson
// population drives to fire. The plastic projection has two delays per
// presynaptic neuron, so rows hold several delay groups of several synapses.

struct test_network {
  network net;
  std::size_t plastic_id = 0;
  std::size_t post_id = 0;
  std::size_t pre_id = 0;
};

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Each pair (i, j) connected with probability p, a weight in [0.2, 1.8] and
// a delay draw_delay(g).
std::vector<synapse> random_synapses(rng& g, std::uint32_t n_pre, std::uint32_t n_post, double p,
                                     const std::function<double(rng&)>& draw_delay) {
  std::vector<synapse> s;
  for (std::uint32_t i = 0; i < n_pre; ++i)
    for (std::uint32_t j = 0; j < n_post; ++j)
      if (g.uniform(0, 1) < p)
        s.push_back({i, j, static_cast<float>(g.uniform(0.2, 1.8)), draw_delay(g)});
  return s;
}

// One of two delays: rows of several delay groups of several synapses.
std::function<double(rng&)> one_of(double a, double b) {
  return [a, b](rng& g) { return g.uniform(0, 1) < 0.5 ? a : b; };
}

std::unique_ptr<test_network> make_network(
    std::uint64_t seed, const std::function<double(rng&)>& draw_delay = one_of(1.0, 2.5)) {
  auto t = std::make_unique<test_network>();
  auto& pre = t->net.add_population<poisson_source>("pre", 30, {.rate_hz = 30.0});
  auto& drive = t->net.add_population<poisson_source>("drive", 40, {.rate_hz = 40.0});
  auto& post = t->net.add_population<models::lif_delta>("post", 8);
  rng g(derive_seed(seed, stream::connectivity, 0));
  connection_options o;
  o.weight = value_spec::constant(1.6);
  o.delay_ms = value_spec::constant(0.5);
  t->net.connect(drive, post, 0, fixed_indegree(40, 8, 20, o, g));
  t->plastic_id =
      t->net.connect("plastic", pre, post, 0, random_synapses(g, 30, 8, 0.5, draw_delay)).id();
  t->post_id = post.id();
  t->pre_id = pre.id();
  return t;
}

// One entry per event seen by the synapses: an arrival at synapse k, or a
// spike of postsynaptic neuron j.
struct logged {
  double t;
  bool is_post;
  std::uint64_t synapse;  // arrivals
  std::uint32_t neuron;   // post spikes
};

// Listeners run on the partition owning the target neuron, so the history
// is kept per partition; the events of one synapse all come from one.
struct history {
  std::vector<std::vector<logged>> events;  // per partition
  explicit history(std::size_t partitions) : events(partitions) {}
  void on_delivery(const delivery& d) {
    events[simulator::current_partition()].push_back({d.time.count(), false, d.synapse, 0});
  }
  void on_spike(time_ms t, std::uint32_t j) {
    events[simulator::current_partition()].push_back({t.count(), true, 0, j});
  }
  // The events of synapse k (its arrivals and the spikes of its target j),
  // in order.
  std::vector<logged> of(std::uint64_t k, std::uint32_t j) const {
    std::vector<logged> out;
    for (const auto& part : events)
      for (const auto& e : part)
        if ((e.is_post && e.neuron == j) || (!e.is_post && e.synapse == k)) out.push_back(e);
    return out;
  }
};

struct run_result {
  std::vector<double> initial;
  std::vector<double> final_weights;
  std::vector<float> network_weights;
  std::vector<std::uint32_t> targets;
  history log{1};
  plasticity_counters counters;
  std::uint64_t post_spikes = 0;
};

run_result run_plastic(std::string_view rule, const parameter_list& params, std::uint64_t seed,
                       double t_end_ms, unsigned threads = 1) {
  auto t = make_network(seed);
  simulator sim(t->net, {.seed = seed, .threads = threads});
  auto plastic = make_plasticity(sim, t->plastic_id, rule, params);
  run_result r;
  r.log = history(sim.partitions());
  sim.on_delivery(t->plastic_id)
      .connect(simulator::delivery_signal::slot::bind<&history::on_delivery>(r.log));
  sim.on_spike(t->post_id).connect(simulator::spike_signal::slot::bind<&history::on_spike>(r.log));
  r.initial.assign(plastic->weights().begin(), plastic->weights().end());
  sim.run(time_ms{t_end_ms});
  r.final_weights.assign(plastic->weights().begin(), plastic->weights().end());
  const auto w = t->net.proj(t->plastic_id).weights();
  r.network_weights.assign(w.begin(), w.end());
  const auto targets = t->net.proj(t->plastic_id).targets();
  r.targets.assign(targets.begin(), targets.end());
  r.counters = plastic->counters();
  for (const auto& part : r.log.events)
    for (const auto& e : part) r.post_spikes += e.is_post;
  return r;
}

// Sums exp(-(t - s) / tau) over the events before position `i` of `seq`
// that match `is_post` (all of them, or only the latest when `nearest`).
double naive_trace(const std::vector<logged>& seq, std::size_t i, bool is_post, double tau,
                   bool nearest) {
  double sum = 0.0;
  for (std::size_t m = i; m-- > 0;) {
    if (seq[m].is_post != is_post) continue;
    sum += std::exp(-(seq[i].t - seq[m].t) / tau);
    if (nearest) break;
  }
  return sum;
}

// `delivered`, if given, receives the weight before each presynaptic event.
double naive_pair(const std::vector<logged>& seq, double w, const stdp_pair_parameters& p,
                  bool multiplicative, bool nearest, std::vector<double>* delivered = nullptr) {
  for (std::size_t i = 0; i < seq.size(); ++i) {
    if (delivered && !seq[i].is_post) delivered->push_back(w);
    if (seq[i].is_post) {
      const double x = naive_trace(seq, i, false, p.tau_plus_ms, nearest);
      w += (multiplicative ? p.a_plus * (p.w_max - w) : p.a_plus) * x;
    } else {
      const double y = naive_trace(seq, i, true, p.tau_minus_ms, nearest);
      w -= (multiplicative ? p.a_minus * (w - p.w_min) : p.a_minus) * y;
    }
    w = std::clamp(w, p.w_min, p.w_max);
  }
  return w;
}

double naive_triplet(const std::vector<logged>& seq, double w, const stdp_triplet_parameters& p,
                     bool nearest, std::vector<double>* delivered = nullptr) {
  for (std::size_t i = 0; i < seq.size(); ++i) {
    if (delivered && !seq[i].is_post) delivered->push_back(w);
    if (seq[i].is_post) {
      const double r1 = naive_trace(seq, i, false, p.tau_plus_ms, nearest);
      const double o2 = naive_trace(seq, i, true, p.tau_y_ms, nearest);
      w += r1 * (p.a2_plus + p.a3_plus * o2);
    } else {
      const double o1 = naive_trace(seq, i, true, p.tau_minus_ms, nearest);
      const double r2 = naive_trace(seq, i, false, p.tau_x_ms, nearest);
      w -= o1 * (p.a2_minus + p.a3_minus * r2);
    }
    w = std::clamp(w, p.w_min, p.w_max);
  }
  return w;
}

void check_against_reference(const run_result& r, double w_min, double w_max,
                             const std::function<double(const std::vector<logged>&, double)>& ref) {
  REQUIRE(r.post_spikes > 100);
  REQUIRE(r.counters.arrivals > 1000);
  std::size_t changed = 0, inside = 0;
  double worst = 0.0;
  const std::size_t n = r.initial.size();
  for (std::uint64_t k = 0; k < n; ++k) {
    const double expected = ref(r.log.of(k, r.targets[k]), r.initial[k]);
    const double got = r.final_weights[k];
    worst = std::max(worst, std::abs(got - expected) / std::max(1.0, std::abs(expected)));
    changed += got != r.initial[k];
    inside += got > w_min && got < w_max;
    CHECK(r.network_weights[k] == static_cast<float>(got));
  }
  INFO("worst relative difference ", worst, ", ", changed, " of ", n, " changed, ", inside,
       " inside the bounds, ", r.post_spikes, " post spikes");
  CHECK(worst < 1e-9);
  CHECK(changed > n / 2);
  // Most weights away from the bounds, so the comparison is not trivial.
  CHECK(inside > n / 2);
}

}  // namespace

namespace {
const stdp_pair_parameters additive_p{.tau_plus_ms = 16.8,
                                      .tau_minus_ms = 33.7,
                                      .a_plus = 0.02,
                                      .a_minus = 0.011,
                                      .w_min = 0.0,
                                      .w_max = 2.5};
const parameter_list additive_list{{"tau_plus_ms", 16.8},
                                   {"tau_minus_ms", 33.7},
                                   {"a_plus", 0.02},
                                   {"a_minus", 0.011},
                                   {"w_max", 2.5}};
}  // namespace

TEST_CASE("additive all-to-all STDP equals the naive pair sum") {
  const auto& p = additive_p;
  const auto r = run_plastic("stdp_additive", additive_list, 11, 3000.0);
  check_against_reference(r, p.w_min, p.w_max, [&](const auto& seq, double w) {
    return naive_pair(seq, w, p, false, false);
  });
}

TEST_CASE("multiplicative all-to-all STDP equals the naive pair sum") {
  const stdp_pair_parameters p{.tau_plus_ms = 20.0,
                               .tau_minus_ms = 25.0,
                               .a_plus = 0.03,
                               .a_minus = 0.035,
                               .w_min = 0.1,
                               .w_max = 2.0};
  const auto r = run_plastic("stdp_multiplicative",
                             {{"tau_minus_ms", 25.0},
                              {"a_plus", 0.03},
                              {"a_minus", 0.035},
                              {"w_min", 0.1},
                              {"w_max", 2.0}},
                             12, 3000.0);
  check_against_reference(r, p.w_min, p.w_max, [&](const auto& seq, double w) {
    return naive_pair(seq, w, p, true, false);
  });
}

TEST_CASE("nearest-spike STDP equals the naive nearest-pair rule") {
  SUBCASE("additive") {
    const stdp_pair_parameters p{.tau_plus_ms = 15.0,
                                 .tau_minus_ms = 30.0,
                                 .a_plus = 0.04,
                                 .a_minus = 0.025,
                                 .w_min = 0.0,
                                 .w_max = 2.5};
    const auto r = run_plastic("stdp_additive_nearest",
                               {{"tau_plus_ms", 15.0},
                                {"tau_minus_ms", 30.0},
                                {"a_plus", 0.04},
                                {"a_minus", 0.025},
                                {"w_max", 2.5}},
                               13, 3000.0);
    check_against_reference(r, p.w_min, p.w_max, [&](const auto& seq, double w) {
      return naive_pair(seq, w, p, false, true);
    });
  }
  SUBCASE("multiplicative") {
    const stdp_pair_parameters p{.tau_plus_ms = 20.0,
                                 .tau_minus_ms = 20.0,
                                 .a_plus = 0.05,
                                 .a_minus = 0.06,
                                 .w_min = 0.0,
                                 .w_max = 2.5};
    const auto r = run_plastic("stdp_multiplicative_nearest",
                               {{"a_plus", 0.05}, {"a_minus", 0.06}, {"w_max", 2.5}}, 14, 3000.0);
    check_against_reference(r, p.w_min, p.w_max, [&](const auto& seq, double w) {
      return naive_pair(seq, w, p, true, true);
    });
  }
}

namespace {
// Amplitudes of the order of Pfister & Gerstner's (2006) visual-cortex fit,
// the pair potentiation made larger so that it matters within seconds.
const stdp_triplet_parameters triplet_p{
    .a2_plus = 0.005, .a3_plus = 0.002, .a2_minus = 0.007, .a3_minus = 0.0023, .w_max = 2.5};
const parameter_list triplet_list{{"a2_plus", 0.005},
                                  {"a3_plus", 0.002},
                                  {"a2_minus", 0.007},
                                  {"a3_minus", 0.0023},
                                  {"w_max", 2.5}};
}  // namespace

TEST_CASE("triplet STDP equals the naive triplet sums") {
  const auto& p = triplet_p;
  const auto& params = triplet_list;
  SUBCASE("all-to-all") {
    const auto r = run_plastic("stdp_triplet", params, 15, 3000.0);
    check_against_reference(r, p.w_min, p.w_max, [&](const auto& seq, double w) {
      return naive_triplet(seq, w, p, false);
    });
  }
  SUBCASE("all-to-all, 2 threads") {
    const auto r = run_plastic("stdp_triplet", params, 15, 3000.0, 2);
    check_against_reference(r, p.w_min, p.w_max, [&](const auto& seq, double w) {
      return naive_triplet(seq, w, p, false);
    });
  }
  SUBCASE("nearest") {
    const auto r = run_plastic("stdp_triplet_nearest", params, 16, 3000.0);
    check_against_reference(r, p.w_min, p.w_max, [&](const auto& seq, double w) {
      return naive_triplet(seq, w, p, true);
    });
  }
}

// ---------------------------------------------------------------------------
// The STDP window: one pre/post pair per synapse, at exact times given by
// spike-time sources (a source ignores its input, so it can be the
// postsynaptic population and fire exactly when told).

namespace {

struct window_result {
  std::vector<double> dt;  // t_post - t_arrival
  std::vector<double> dw;
};

window_result stdp_window(std::string_view rule, const parameter_list& params, double w0) {
  const std::vector<double> dts = {-50.0, -20.0, -7.3,  -1.0, -0.37, -0.01, 0.01,
                                   0.37,  1.0,   3.125, 10.0, 19.99, 50.0};
  const double delay = 1.7;
  auto pre_times = std::make_shared<spike_raster>();
  auto post_times = std::make_shared<spike_raster>();
  window_result out;
  std::vector<synapse> s;
  for (std::uint32_t c = 0; c < dts.size(); ++c) {
    const double t_post = 100.0 + 0.5 * c;
    // The pre spike is emitted so that it arrives dt before the post spike.
    const double t_pre = t_post - dts[c] - delay;
    const double one_pre[] = {t_pre};
    const double one_post[] = {t_post};
    pre_times->add_channel(one_pre);
    post_times->add_channel(one_post);
    out.dt.push_back(t_post - (t_pre + delay));  // as the engine computes it
    s.push_back({c, c, static_cast<float>(w0), delay});
  }
  network net;
  auto& pre = net.add_population<spike_time_source>("pre", dts.size(), {pre_times});
  auto& post = net.add_population<spike_time_source>("post", dts.size(), {post_times});
  const auto id = net.connect(pre, post, 0, std::move(s)).id();
  simulator sim(net);
  auto plastic = make_plasticity(sim, id, rule, params);
  sim.run(time_ms{300});
  for (std::size_t c = 0; c < dts.size(); ++c) out.dw.push_back(plastic->weight(c) - w0);
  return out;
}

}  // namespace

TEST_CASE("the pair window is A+ exp(-dt/tau+) and -A- exp(dt/tau-), at any dt") {
  const double a_plus = 0.01, a_minus = 0.012, tau_plus = 16.8, tau_minus = 33.7;
  SUBCASE("additive") {
    const auto r = stdp_window("stdp_additive",
                               {{"tau_plus_ms", tau_plus},
                                {"tau_minus_ms", tau_minus},
                                {"a_plus", a_plus},
                                {"a_minus", a_minus},
                                {"w_min", -1.0},
                                {"w_max", 1.0}},
                               0.0);
    for (std::size_t c = 0; c < r.dt.size(); ++c) {
      CAPTURE(r.dt[c]);
      const double expected = r.dt[c] > 0 ? a_plus * std::exp(-r.dt[c] / tau_plus)
                                          : -a_minus * std::exp(r.dt[c] / tau_minus);
      CHECK(r.dw[c] == doctest::Approx(expected).epsilon(1e-13));
    }
  }
  SUBCASE("multiplicative") {
    const double w0 = 0.75, w_max = 2.0;
    const auto r = stdp_window("stdp_multiplicative",
                               {{"tau_plus_ms", tau_plus},
                                {"tau_minus_ms", tau_minus},
                                {"a_plus", a_plus},
                                {"a_minus", a_minus},
                                {"w_max", w_max}},
                               w0);
    for (std::size_t c = 0; c < r.dt.size(); ++c) {
      CAPTURE(r.dt[c]);
      const double expected = r.dt[c] > 0 ? a_plus * (w_max - w0) * std::exp(-r.dt[c] / tau_plus)
                                          : -a_minus * w0 * std::exp(r.dt[c] / tau_minus);
      CHECK(r.dw[c] == doctest::Approx(expected).epsilon(1e-12));
    }
  }
  SUBCASE("triplet (a lone pair sees only the pair terms)") {
    const auto r = stdp_window("stdp_triplet",
                               {{"tau_plus_ms", tau_plus},
                                {"tau_minus_ms", tau_minus},
                                {"a2_plus", a_plus},
                                {"a3_plus", 0.5},
                                {"a2_minus", a_minus},
                                {"a3_minus", 0.5},
                                {"w_min", -1.0},
                                {"w_max", 1.0}},
                               0.0);
    for (std::size_t c = 0; c < r.dt.size(); ++c) {
      CAPTURE(r.dt[c]);
      const double expected = r.dt[c] > 0 ? a_plus * std::exp(-r.dt[c] / tau_plus)
                                          : -a_minus * std::exp(r.dt[c] / tau_minus);
      CHECK(r.dw[c] == doctest::Approx(expected).epsilon(1e-13));
    }
  }
}

namespace {
// Projection 0: one synapse between two spike-time sources that fire when
// told.
std::unique_ptr<network> one_synapse(std::span<const double> pre_t,
                                     std::span<const double> post_t, float w, double delay) {
  auto pre_times = std::make_shared<spike_raster>();
  auto post_times = std::make_shared<spike_raster>();
  pre_times->add_channel(pre_t);
  post_times->add_channel(post_t);
  auto net = std::make_unique<network>();
  auto& pre = net->add_population<spike_time_source>("pre", 1, {pre_times});
  auto& post = net->add_population<spike_time_source>("post", 1, {post_times});
  net->connect(pre, post, 0, {{0, 0, w, delay}});
  return net;
}
}  // namespace

TEST_CASE("a coincident pair counts once, as pre before post") {
  // Arrival and post spike at the same time: at equal times the engine
  // delivers before it fires (event.hpp), so the pair potentiates.
  const double t_pre[] = {10.0}, t_post[] = {11.0};
  const auto net_ptr = one_synapse(t_pre, t_post, 0.0f, 1.0);
  auto& net = *net_ptr;
  const std::size_t id = 0;
  simulator sim(net);
  auto plastic =
      make_plasticity(sim, id, "stdp_additive",
                      {{"a_plus", 0.01}, {"a_minus", 0.012}, {"w_min", -1.0}, {"w_max", 1.0}});
  sim.run(time_ms{20});
  CHECK(plastic->weight(0) == 0.01);
}

// ---------------------------------------------------------------------------

TEST_CASE("hard bounds are honoured") {
  // Large amplitudes drive weights onto both bounds.
  const auto r =
      run_plastic("stdp_additive",
                  {{"a_plus", 0.4}, {"a_minus", 0.9}, {"w_min", 0.1}, {"w_max", 1.9}}, 21, 2000.0);
  std::size_t at_min = 0, at_max = 0;
  for (const double w : r.final_weights) {
    CHECK(w >= 0.1);
    CHECK(w <= 1.9);
    at_min += w == 0.1;
    at_max += w == 1.9;
  }
  CHECK(at_min > 0);
  CHECK(at_max > 0);
  const auto m =
      run_plastic("stdp_multiplicative",
                  {{"a_plus", 2.0}, {"a_minus", 2.0}, {"w_min", 0.1}, {"w_max", 1.9}}, 21, 2000.0);
  for (const double w : m.final_weights) {
    CHECK(w >= 0.1);
    CHECK(w <= 1.9);
  }
}

TEST_CASE("initial weights outside the bounds are rejected, naming the synapse") {
  auto t = make_network(3);
  simulator sim(t->net);
  CHECK_THROWS_WITH_AS(
      make_plasticity(sim, t->plastic_id, "stdp_additive",
                      {{"a_plus", 0.1}, {"a_minus", 0.1}, {"w_min", 0.5}, {"w_max", 1.0}}),
      doctest::Contains("expected a weight in [w_min, w_max] = [0.5, 1]"), parameter_error);
}

TEST_CASE("rules and parameters are validated by name") {
  auto t = make_network(3);
  simulator sim(t->net);
  const auto id = t->plastic_id;
  const parameter_list ok{{"a_plus", 0.01}, {"a_minus", 0.01}, {"w_max", 2.0}};
  CHECK_NOTHROW(make_plasticity(sim, id, "stdp_additive", ok));
  CHECK_THROWS_WITH_AS(make_plasticity(sim, id, "stdp_addtive", ok),
                       doctest::Contains("unknown plasticity rule 'stdp_addtive'; expected one of: "
                                         "stdp_additive"),
                       parameter_error);
  auto with = [&](std::string name, double v) {
    auto l = ok;
    l.emplace_back(std::move(name), v);
    return l;
  };
  CHECK_THROWS_WITH_AS(make_plasticity(sim, id, "stdp_additive", with("tau_plus", 10)),
                       doctest::Contains("stdp_additive: unknown parameter 'tau_plus'; expected "
                                         "one of: tau_plus_ms"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(make_plasticity(sim, id, "stdp_additive", with("a_plus", 0.02)),
                       doctest::Contains("'a_plus' is given twice"), parameter_error);
  CHECK_THROWS_WITH_AS(make_plasticity(sim, id, "stdp_additive", {{"a_plus", 0.1}, {"w_max", 2}}),
                       doctest::Contains("missing parameter 'a_minus'"), parameter_error);
  CHECK_THROWS_WITH_AS(make_plasticity(sim, id, "stdp_additive", with("tau_minus_ms", -3)),
                       doctest::Contains("parameter 'tau_minus_ms' must be finite and > 0 (ms), "
                                         "got -3"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(make_plasticity(sim, id, "stdp_multiplicative", with("w_min", 2.0)),
                       doctest::Contains("'w_max' must be finite and > w_min (2)"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(
      make_plasticity(
          sim, id, "stdp_triplet",
          {{"a2_plus", 0}, {"a3_plus", -1}, {"a2_minus", 0}, {"a3_minus", 0}, {"w_max", 2}}),
      doctest::Contains("stdp_triplet: parameter 'a3_plus' must be finite and >= 0"),
      parameter_error);
  CHECK_THROWS_WITH_AS(make_plasticity(sim, 99, "stdp_additive", ok),
                       doctest::Contains("projection id 99 out of range"), parameter_error);
  // Direct construction validates too: required fields default to NaN.
  CHECK_THROWS_WITH_AS(plastic_projection<stdp_additive>(sim, id, {}),
                       doctest::Contains("'a_plus' must be finite"), parameter_error);
}

TEST_CASE("final weights are bit-identical for any number of threads") {
  const parameter_list params{{"a2_plus", 0.005},
                              {"a3_plus", 0.0062},
                              {"a2_minus", 0.007},
                              {"a3_minus", 0.0023},
                              {"w_max", 2.5}};
  const auto a = run_plastic("stdp_triplet", params, 31, 2000.0, 1);
  for (const unsigned threads : {1u, 2u, 3u}) {
    CAPTURE(threads);
    const auto b = run_plastic("stdp_triplet", params, 31, 2000.0, threads);
    CHECK(same_bits(a.final_weights, b.final_weights));
    CHECK(same_bits(a.network_weights, b.network_weights));
    CHECK(b.counters.updates == a.counters.updates);
  }
  CHECK(a.final_weights != a.initial);
}

namespace {

// The windowed path against the ordered one. Long windows (delays of 3 ms
// and more), postsynaptic neurons with a short refractory period driven to
// fire several times in a window, and presynaptic sources fast enough to
// arrive twice in one window through the same synapse: every case of the
// window listener (weights revised after a spike and for a second arrival,
// traces read as they were at a spike inside the window).
struct windowed_result {
  std::vector<double> final_weights;
  std::vector<float> network_weights;
  std::vector<std::pair<double, std::uint32_t>> spikes;
  plasticity_counters counters;
  delivery_path path = delivery_path::automatic;
};

// `inputs` Poisson inputs onto the postsynaptic neurons (two or more take
// the engine's general window loop instead of lif_delta's own).
windowed_result run_windowed_plastic(std::string_view rule, const parameter_list& params,
                                     delivery_path path, unsigned threads, int inputs) {
  network net;
  auto& pre = net.add_population<poisson_source>("pre", 40, {.rate_hz = 90.0});
  auto& drive = net.add_population<poisson_source>("drive", 60, {.rate_hz = 300.0});
  auto& post = net.add_population<models::lif_delta>("post", 12, {.t_ref_ms = 0.3});
  rng g(derive_seed(5, stream::connectivity, 0));
  connection_options o;
  o.weight = value_spec::constant(2.2);
  o.delay_ms = value_spec::constant(3.0);
  net.connect(drive, post, 0, fixed_indegree(60, 12, 30, o, g));
  const auto id =
      net.connect("plastic", pre, post, 0, random_synapses(g, 40, 12, 0.6, one_of(3.0, 4.5))).id();
  for (int k = 0; k < inputs; ++k)
    net.add_poisson_input({.name = "noise" + std::to_string(k),
                           .population = static_cast<std::uint16_t>(post.id()),
                           .rate_hz = 400.0,
                           .weight = k % 2 ? -1.0f : 1.5f});
  simulator sim(net, {.seed = 9, .threads = threads, .delivery = path});
  auto plastic = make_plasticity(sim, id, rule, params);
  windowed_result r;
  std::vector<std::vector<std::pair<double, std::uint32_t>>> fired(sim.partitions());
  auto on_spike = [&fired](time_ms t, std::uint32_t j) {
    fired[simulator::current_partition()].push_back({t.count(), j});
  };
  sim.on_spike(post.id()).connect(simulator::spike_signal::slot::from(on_spike));
  sim.run(time_ms{1500.0});
  r.path = sim.path();
  r.final_weights.assign(plastic->weights().begin(), plastic->weights().end());
  const auto w = net.proj(id).weights();
  r.network_weights.assign(w.begin(), w.end());
  r.counters = plastic->counters();
  for (const auto& part : fired) r.spikes.insert(r.spikes.end(), part.begin(), part.end());
  std::sort(r.spikes.begin(), r.spikes.end());
  return r;
}

}  // namespace

TEST_CASE("plasticity on the windowed path gives the ordered path's weights and spikes") {
  const parameter_list pair{{"a_plus", 0.01}, {"a_minus", 0.012}, {"w_max", 2.0}};
  const parameter_list triplet{{"a2_plus", 0.005},
                               {"a3_plus", 0.0062},
                               {"a2_minus", 0.007},
                               {"a3_minus", 0.0023},
                               {"w_max", 2.5}};
  for (const auto& [rule, params] :
       {std::pair{"stdp_multiplicative", pair}, std::pair{"stdp_additive_nearest", pair},
        std::pair{"stdp_triplet", triplet}}) {
    for (const int inputs : {0, 2}) {
      const std::string rule_name(rule);
      CAPTURE(rule_name);
      CAPTURE(inputs);
      const auto a = run_windowed_plastic(rule, params, delivery_path::ordered, 1, inputs);
      REQUIRE(a.path == delivery_path::ordered);
      REQUIRE(a.spikes.size() > 2000);
      for (const unsigned threads : {1u, 2u, 3u}) {
        CAPTURE(threads);
        const auto b = run_windowed_plastic(rule, params, delivery_path::windowed, threads, inputs);
        REQUIRE(b.path == delivery_path::windowed);
        CHECK(b.spikes == a.spikes);
        CHECK(same_bits(a.final_weights, b.final_weights));
        CHECK(same_bits(a.network_weights, b.network_weights));
        CHECK(b.counters.updates == a.counters.updates);
        CHECK(b.counters.arrivals == a.counters.arrivals);
        CHECK(b.counters.post_spikes == a.counters.post_spikes);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Dendritic delays: with a fraction f of a synapse's delay d dendritic, the
// synapse sees a presynaptic spike at t_pre + (1 - f) d and a postsynaptic
// one at t_post + f d, and the soma receives the input at t_pre + d with the
// weight the synapse had when the spike passed it. The reference takes the
// spike times of both populations and each synapse's delay, builds that
// sequence (pre before post at equal times) and runs the naive rules over
// it.

namespace {

// A delay drawn in [0.5, 4] ms: nearly every synapse has its own.
double delay_per_synapse(rng& g) { return g.uniform(0.5, 4.0); }

// Spikes and deliveries, per partition (listeners run on the owner's).
struct dendritic_log {
  struct spike {
    double t;
    std::uint32_t neuron;
  };
  struct input {
    std::uint64_t synapse;
    double t;
    float weight;
  };
  std::vector<std::vector<spike>> pre, post;
  std::vector<std::vector<input>> inputs;
  explicit dendritic_log(std::size_t parts) : pre(parts), post(parts), inputs(parts) {}
  void on_pre(time_ms t, std::uint32_t i) {
    pre[simulator::current_partition()].push_back({t.count(), i});
  }
  void on_post(time_ms t, std::uint32_t j) {
    post[simulator::current_partition()].push_back({t.count(), j});
  }
  void on_delivery(const delivery& d) {
    inputs[simulator::current_partition()].push_back({d.synapse, d.time.count(), d.weight});
  }
  static std::vector<std::vector<double>> by_neuron(const std::vector<std::vector<spike>>& parts,
                                                    std::size_t n) {
    std::vector<std::vector<double>> out(n);
    for (const auto& part : parts)
      for (const auto& s : part) out[s.neuron].push_back(s.t);
    for (auto& v : out) std::sort(v.begin(), v.end());
    return out;
  }
};

struct dendritic_run {
  std::vector<double> initial, final_weights;
  std::vector<std::vector<double>> pre_spikes, post_spikes;   // per neuron
  std::vector<std::vector<std::pair<double, float>>> inputs;  // per synapse: time, weight
  std::vector<std::uint32_t> pre_of, targets;
  std::vector<double> delay;
  std::vector<std::uint64_t> spikes;  // every post spike time's bits, in neuron order
  plasticity_counters counters;
  delivery_path path = delivery_path::automatic;
};

dendritic_run run_dendritic(std::string_view rule, parameter_list params, double f,
                            std::uint64_t seed, double t_end_ms, unsigned threads = 1) {
  auto t = make_network(seed, delay_per_synapse);
  const std::size_t pre_id = t->pre_id;
  simulator sim(t->net, {.seed = seed, .threads = threads});
  params.emplace_back("dendritic_delay_fraction", f);
  auto plastic = make_plasticity(sim, t->plastic_id, rule, params);
  dendritic_log log(sim.partitions());
  sim.on_spike(pre_id).connect(simulator::spike_signal::slot::bind<&dendritic_log::on_pre>(log));
  sim.on_spike(t->post_id)
      .connect(simulator::spike_signal::slot::bind<&dendritic_log::on_post>(log));
  sim.on_delivery(t->plastic_id)
      .connect(simulator::delivery_signal::slot::bind<&dendritic_log::on_delivery>(log));
  dendritic_run r;
  r.initial.assign(plastic->weights().begin(), plastic->weights().end());
  sim.run(time_ms{t_end_ms});
  r.path = sim.path();
  r.final_weights.assign(plastic->weights().begin(), plastic->weights().end());
  r.counters = plastic->counters();
  const auto& pr = t->net.proj(t->plastic_id);
  r.pre_spikes = dendritic_log::by_neuron(log.pre, 30);
  r.post_spikes = dendritic_log::by_neuron(log.post, 8);
  for (const auto& v : r.post_spikes)
    for (const double s : v) r.spikes.push_back(std::bit_cast<std::uint64_t>(s));
  r.inputs.resize(pr.size());
  for (const auto& part : log.inputs)
    for (const auto& in : part) r.inputs[in.synapse].push_back({in.t, in.weight});
  r.delay.resize(pr.size());
  for (std::uint32_t g = 0; g < pr.groups(); ++g)
    for (auto k = pr.group_begin(g); k < pr.group_end(g); ++k) r.delay[k] = pr.group_delay_ms(g);
  for (std::uint64_t k = 0; k < pr.size(); ++k) {
    r.pre_of.push_back(pr.pre_of(k));
    r.targets.push_back(pr.targets()[k]);
  }
  return r;
}

// Synapse k's events as it sees them up to t_end (what the run processed:
// arrivals t_pre + d < t_end, postsynaptic spikes that reached the synapse,
// shifted like the arrivals, before t_end), at their times
// t_pre + (1 - f) d and t_post + f d, presynaptic first at equal times.
std::vector<logged> dendritic_sequence(const dendritic_run& r, std::uint64_t k, double f,
                                       double t_end) {
  const double d = r.delay[k];
  std::vector<logged> seq;
  for (const double t : r.pre_spikes[r.pre_of[k]])
    if (t + d < t_end) seq.push_back({t + (1.0 - f) * d, false, k, 0});
  for (const double t : r.post_spikes[r.targets[k]])
    if (t + 2.0 * f * d < t_end) seq.push_back({t + f * d, true, 0, r.targets[k]});
  std::stable_sort(seq.begin(), seq.end(), [](const logged& a, const logged& b) {
    return a.t < b.t || (a.t == b.t && !a.is_post && b.is_post);
  });
  return seq;
}

// Final weights and delivered weights against the reference.
void check_dendritic(
    const dendritic_run& r, double f, double t_end, double w_min, double w_max,
    const std::function<double(const std::vector<logged>&, double, std::vector<double>*)>& ref) {
  if (f > 0) CHECK(r.path == delivery_path::ordered);
  std::size_t posts = 0;
  for (const auto& v : r.post_spikes) posts += v.size();
  REQUIRE(posts > 100);
  REQUIRE(r.counters.arrivals > 1000);
  std::size_t changed = 0, inside = 0, inputs = 0;
  double worst = 0.0, worst_input = 0.0;
  const std::size_t n = r.initial.size();
  for (std::uint64_t k = 0; k < n; ++k) {
    std::vector<double> delivered;
    const double expected = ref(dendritic_sequence(r, k, f, t_end), r.initial[k], &delivered);
    const double got = r.final_weights[k];
    worst = std::max(worst, std::abs(got - expected) / std::max(1.0, std::abs(expected)));
    changed += got != r.initial[k];
    inside += got > w_min && got < w_max;
    REQUIRE(delivered.size() == r.inputs[k].size());
    for (std::size_t m = 0; m < delivered.size(); ++m) {
      // (the soma receives the float rounding of the weight)
      worst_input = std::max(worst_input, std::abs(r.inputs[k][m].second - delivered[m]));
      ++inputs;
    }
  }
  INFO("worst relative difference ", worst, ", ", changed, " of ", n, " changed, ", inside,
       " inside the bounds; worst delivered weight difference ", worst_input, " over ", inputs,
       " inputs");
  CHECK(worst < 1e-12);
  CHECK(worst_input < 2e-7);  // float rounding of weights below 2
  CHECK(changed > n / 2);
  CHECK(inside > n / 2);
}

}  // namespace

TEST_CASE("STDP with dendritic delays equals the naive pair sum over shifted spike times") {
  const double t_end = 3000.0;
  for (const double f : {0.0, 0.25, 0.5, 1.0}) {
    CAPTURE(f);
    const auto r = run_dendritic("stdp_additive", additive_list, f, 21, t_end);
    check_dendritic(r, f, t_end, 0.0, 2.5, [&](const auto& seq, double w, auto* delivered) {
      return naive_pair(seq, w, additive_p, false, false, delivered);
    });
  }
  SUBCASE("multiplicative, nearest") {
    const double f = 1.0;
    const auto r = run_dendritic("stdp_multiplicative_nearest", additive_list, f, 22, t_end);
    check_dendritic(r, f, t_end, 0.0, 2.5, [&](const auto& seq, double w, auto* delivered) {
      return naive_pair(seq, w, additive_p, true, true, delivered);
    });
  }
}

TEST_CASE("STDP with dendritic delays: triplet rule, 2 threads") {
  const double t_end = 3000.0, f = 0.5;
  const auto r = run_dendritic("stdp_triplet", triplet_list, f, 23, t_end, 2);
  check_dendritic(r, f, t_end, 0.0, 2.5, [&](const auto& seq, double w, auto* delivered) {
    return naive_triplet(seq, w, triplet_p, false, delivered);
  });
}

TEST_CASE("STDP with dendritic delays: the same weights and spikes for 1 and 2 threads") {
  const auto one = run_dendritic("stdp_additive", additive_list, 1.0, 24, 2000.0, 1);
  const auto two = run_dendritic("stdp_additive", additive_list, 1.0, 24, 2000.0, 2);
  CHECK(one.spikes.size() > 100);
  CHECK(one.spikes == two.spikes);
  CHECK(same_bits(one.final_weights, two.final_weights));
  CHECK(one.final_weights != one.initial);
  CHECK(one.counters.updates == two.counters.updates);
}

TEST_CASE("with dendritic delays a coincident pair counts once, as pre before post") {
  // Delay 2 ms, half dendritic: a presynaptic spike at t passes the synapse
  // at t + 1, a postsynaptic spike at t reaches it at t + 1.
  auto run = [](std::vector<double> pre_t, std::vector<double> post_t, double& delivered) {
    const auto net = one_synapse(pre_t, post_t, 0.5f, 2.0);
    const std::size_t id = 0;
    simulator sim(*net);
    auto plastic = make_plasticity(sim, id, "stdp_additive",
                                   {{"a_plus", 0.125},
                                    {"a_minus", 0.0625},
                                    {"w_max", 1.0},
                                    {"dendritic_delay_fraction", 0.5}});
    struct last_input {
      double weight = -1.0;
      void on(const delivery& d) { weight = d.weight; }
    } input;
    sim.on_delivery(id).connect(simulator::delivery_signal::slot::bind<&last_input::on>(input));
    sim.run(time_ms{50});
    delivered = input.weight;
    return plastic->weight(0);
  };
  double delivered = 0.0;
  // Both reach the synapse at 11 ms: potentiation by a_plus (x = 1).
  CHECK(run({10.0}, {10.0}, delivered) == 0.5 + 0.125);
  CHECK(delivered == 0.5f);  // (the input reaches the soma at 12 ms, with the weight at 11)
  // The postsynaptic spike reaches the synapse (10.5 ms) between two
  // presynaptic spikes (6 and 11 ms): the second input carries it.
  const double up = 0.125 * std::exp(-4.5 / 20.0);
  const double down = 0.0625 * std::exp(-0.5 / 20.0);
  CHECK(run({5.0, 10.0}, {9.5}, delivered) == doctest::Approx(0.5 + up - down).epsilon(1e-15));
  CHECK(delivered == static_cast<float>(0.5 + up));
}

TEST_CASE("the dendritic delay fraction is checked and named") {
  auto t = make_network(1, delay_per_synapse);
  simulator sim(t->net);
  for (const double f : {-0.1, 1.5, std::nan("")}) {
    CAPTURE(f);
    CHECK_THROWS_WITH_AS(
        make_plasticity(
            sim, t->plastic_id, "stdp_additive",
            {{"a_plus", 0.01}, {"a_minus", 0.01}, {"w_max", 2.5}, {"dendritic_delay_fraction", f}}),
        doctest::Contains("stdp_additive: parameter 'dendritic_delay_fraction' "
                          "must be in [0, 1]"),
        parameter_error);
  }
  auto plastic = make_plasticity(
      sim, t->plastic_id, "stdp_additive",
      {{"a_plus", 0.01}, {"a_minus", 0.01}, {"w_max", 2.5}, {"dendritic_delay_fraction", 1.0}});
  CHECK(plastic->dendritic_delay_fraction() == 1.0);
  CHECK(plastic->parameters().back() ==
        std::pair<std::string, double>{"dendritic_delay_fraction", 1.0});
  CHECK_THROWS_WITH_AS(sim.set_delivery(delivery_path::windowed),
                       doctest::Contains("dendritic delay"), parameter_error);
}
