// The event loop, with two toy models defined here so that the engine is
// tested without the model library:
//   ramp:  v' = 1 / ms, input v += w, fires at v >= 10 (reset 0). Its next
//          crossing is predicted in the future, which exercises lazy
//          cancellation.
#include <cmath>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"

using namespace apical;

namespace {

struct ramp {
  static constexpr std::string_view name = "ramp";
  static constexpr int compartments = 2;
  struct parameters {
    double threshold = 10.0;
  };
  struct derived {
    parameters p;
  };
  struct state {
    double v = 0.0;
  };
  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {{"threshold", &parameters::threshold, "1", ""}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {{"v", &state::v, "1", ""}};
    return f;
  }
  static derived derive(const parameters& p) {
    if (!(p.threshold > 0)) throw parameter_error("ramp: threshold must be > 0");
    return {p};
  }
  static void init(state& s, const derived&, rng& r) { s.v = r.uniform(0, 5); }
  static void advance(state& s, const derived&, double from, double to) { s.v += to - from; }
  static void receive(state& s, const derived&, int, double w, double) { s.v += w; }
  static double next_spike(const state& s, const derived& d, double t) {
    return t + std::max(0.0, d.p.threshold - s.v);
  }
  static void fire(state& s, const derived&, double) { s.v = 0; }
};
static_assert(neuron_model<ramp>);

std::shared_ptr<spike_raster> one_spike(double t) {
  auto r = std::make_shared<spike_raster>();
  const double times[] = {t};
  r->add_channel(times);
  return r;
}

}  // namespace

TEST_CASE("delays are honoured to the exact time") {
  network net;
  auto& src = net.add_population<spike_time_source>("S", 1, {one_spike(1.25)});
  auto& tgt = net.add_population<ramp>("R", 3, {.threshold = 1e9});
  auto& pr = net.connect(src, tgt, 0, {{0, 0, 1.0f, 0.75}, {0, 1, 1.0f, 0.1}, {0, 2, 1.0f, 0.75}});
  simulator sim(net);
  std::vector<delivery> seen;
  auto on_delivery = [&seen](const delivery& d) { seen.push_back(d); };
  sim.on_delivery(pr.id()).connect(simulator::delivery_signal::slot::from(on_delivery));
  sim.run(time_ms{5});
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].time.count() == 1.25 + 0.1);
  CHECK(seen[0].post == 1);
  CHECK(seen[1].time.count() == 1.25 + 0.75);
  CHECK(seen[2].time.count() == 1.25 + 0.75);
  CHECK(seen[1].post == 0);
  CHECK(seen[2].post == 2);
}

TEST_CASE("one queue entry per (spike, delay group), not per synapse") {
  network net;
  auto& src = net.add_population<spike_time_source>("S", 1, {one_spike(1.0)});
  auto& tgt = net.add_population<ramp>("R", 1000, {.threshold = 1e9});
  rng r(1);
  net.connect(src, tgt, 0, all_to_all(1, 1000, {}, r));
  simulator sim(net);
  sim.run(time_ms{5});
  // One crossing (the source spike), one delivery group.
  CHECK(sim.counters().events == 2);
  CHECK(sim.counters().synaptic_events == 1000);
}

TEST_CASE("a later input supersedes a stale prediction (lazy cancellation)") {
  network net;
  auto& src = net.add_population<spike_time_source>("S", 1, {one_spike(4.0)});
  auto& tgt = net.add_population<ramp>("R", 1, {.threshold = 10.0});
  net.connect(src, tgt, 0, {{0, 0, -3.0f, 1.0}});
  simulator sim(net, {.seed = 1});
  // Start from v = 0 regardless of the seed.
  sim.net().pop(1).set_parameter("threshold", 10.0);
  auto& rp = dynamic_cast<model_population<ramp>&>(sim.net().pop(1));
  rp.state_of(0).v = 0.0;
  sim.reset();
  const double v0 = rp.state_of(0).v;
  spike_recorder rec(sim, {1});
  sim.run(time_ms{30});
  // Without input it would fire at 10 - v0; the -3 input at t = 5 moves the
  // crossing to 13 - v0. Then it refires every 10 ms.
  REQUIRE(rec.spikes().size() >= 2);
  CHECK(rec.spikes()[0].time_ms == doctest::Approx(13.0 - v0).epsilon(1e-12));
  CHECK(rec.spikes()[1].time_ms == doctest::Approx(23.0 - v0).epsilon(1e-12));
  CHECK(sim.counters().stale_predictions == 1);
}

namespace {
std::unique_ptr<network> random_ramp_network(std::uint64_t seed) {
  auto net = std::make_unique<network>();
  auto& drive = net->add_population<poisson_source>("P", 50, {.rate_hz = 200.0});
  auto& r = net->add_population<ramp>("R", 200, {.threshold = 20.0});
  rng g(derive_seed(seed, stream::connectivity, 0));
  connection_options o;
  o.weight = value_spec::uniform(-2.0, 1.0);
  o.delay_ms = value_spec::uniform(0.5, 3.0);
  o.same_population = true;
  net->connect(r, r, 0, fixed_probability(200, 200, 0.1, o, g));
  o.same_population = false;
  o.weight = value_spec::constant(0.5);
  o.delay_ms = value_spec::constant(1.0);
  net->connect(drive, r, 1, fixed_indegree(50, 200, 10, o, g));
  return net;
}
std::vector<recorded_spike> run_random(std::uint64_t seed, queue_kind q, unsigned threads = 1) {
  auto net = random_ramp_network(seed);
  simulator sim(*net, {.seed = seed, .queue = q, .threads = threads});
  spike_recorder rec(sim);
  sim.run(time_ms{200});
  return rec.spikes();
}
}  // namespace

TEST_CASE("identical runs give identical spike trains, for every queue") {
  const auto a = run_random(17, queue_kind::heap);
  const auto b = run_random(17, queue_kind::heap);
  const auto c = run_random(17, queue_kind::calendar);
  const auto d = run_random(17, queue_kind::radix);
  REQUIRE(a.size() > 1000);
  CHECK(a == b);
  CHECK(a == c);
  CHECK(a == d);
  CHECK(run_random(18, queue_kind::heap) != a);
}

TEST_CASE("spikes are identical for 1, 2, 3 and 4 threads") {
  const auto one = run_random(21, queue_kind::heap, 1);
  REQUIRE(one.size() > 1000);
  CHECK(run_random(21, queue_kind::heap, 2) == one);
  CHECK(run_random(21, queue_kind::calendar, 3) == one);
  CHECK(run_random(21, queue_kind::heap, 4) == one);
}

TEST_CASE("parallel runs: state samples and delivery listeners per partition") {
  auto net = random_ramp_network(8);
  simulator sim(*net, {.seed = 8, .threads = 2});
  CHECK(sim.partitions() == 2);
  CHECK((sim.window_ms() >= 0.5 && sim.window_ms() <= 1.0));
  CHECK(sim.owner(1, 0) == 0);
  CHECK(sim.owner(1, 199) == 1);
  spike_recorder rec(sim);
  const auto r = sim.record_state(1, "v", {0, 150, 199}, time_ms{1.0});
  std::vector<std::uint64_t> per_partition(2, 0);
  auto count = [&per_partition](const delivery&) {
    ++per_partition[simulator::current_partition()];
  };
  sim.on_delivery(0).connect(simulator::delivery_signal::slot::from(count));
  for (int k = 0; k < 4; ++k) sim.run(time_ms{50});
  CHECK(rec.spikes() == run_random(8, queue_kind::heap));
  CHECK(per_partition[0] > 0);
  CHECK(per_partition[1] > 0);
  const auto& s = sim.state_recording(r);
  CHECK(s.times_ms.size() == 200);
  CHECK(s.values.size() == 600);
  // Same values as a sequential run.
  auto net1 = random_ramp_network(8);
  simulator seq(*net1, {.seed = 8});
  const auto r1 = seq.record_state(1, "v", {0, 150, 199}, time_ms{1.0});
  seq.run(time_ms{200});
  CHECK(seq.state_recording(r1).values == s.values);
}

TEST_CASE("parallel runs need a positive delay between partitions") {
  network net;
  auto& src = net.add_population<spike_time_source>("S", 1, {one_spike(1.0)});
  auto& tgt = net.add_population<ramp>("R", 2);
  // Neuron 0 of S and neuron 1 of R belong to different partitions.
  net.connect(src, tgt, 0, {{0, 1, 1.0f, 0.0}});
  CHECK_THROWS_WITH_AS(simulator(net, {.threads = 2}), doctest::Contains("delay"), parameter_error);
  CHECK_THROWS_WITH_AS(simulator(net, {.threads = 0}), doctest::Contains("threads"),
                       parameter_error);
}

TEST_CASE("zero-delay links inside a partition are delivered inline, in parallel too") {
  auto build = [] {
    auto net = random_ramp_network(30);
    // A one-to-one zero-delay drive: every link stays inside a partition.
    auto& drive = net->add_population<poisson_source>("D", 200, {.rate_hz = 300.0});
    rng g(1);
    net->connect(drive, net->pop(1), 0,
                 one_to_one(200, {.delay_ms = value_spec::constant(0.0)}, g));
    return net;
  };
  auto run = [&](unsigned threads) {
    auto net = build();
    simulator sim(*net, {.seed = 30, .threads = threads});
    spike_recorder rec(sim);
    sim.run(time_ms{100});
    return std::make_pair(rec.spikes(), sim.counters().synaptic_events);
  };
  const auto [one, inputs_one] = run(1);
  const auto [two, inputs_two] = run(2);
  CHECK(one == two);
  CHECK(inputs_one == inputs_two);
}

TEST_CASE("running in pieces equals running at once") {
  auto net = random_ramp_network(3);
  simulator sim(*net, {.seed = 3});
  spike_recorder rec(sim);
  for (int k = 0; k < 20; ++k) sim.run(time_ms{10});
  CHECK(rec.spikes() == run_random(3, queue_kind::heap));
}

TEST_CASE("state recorder samples without disturbing the dynamics") {
  auto net = random_ramp_network(5);
  simulator sim(*net, {.seed = 5});
  spike_recorder rec(sim);
  const auto r = sim.record_state(1, "v", {0, 7}, time_ms{0.5});
  sim.run(time_ms{200});
  CHECK(rec.spikes() == run_random(5, queue_kind::heap));
  const auto& s = sim.state_recording(r);
  CHECK(s.times_ms.size() == 400);
  CHECK(s.values.size() == 800);
  CHECK(s.times_ms[3] == 1.5);
  CHECK_THROWS_WITH_AS(sim.record_state(1, "u", {0}, time_ms{1}), doctest::Contains("'u'"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(sim.record_state(1, "v", {200}, time_ms{1}), doctest::Contains("200"),
                       parameter_error);
  CHECK_THROWS_AS(sim.record_state(1, "v", {0}, time_ms{0}), parameter_error);
}

TEST_CASE("simulator and network reject impossible requests") {
  network net;
  auto& a = net.add_population<ramp>("A", 2);
  CHECK_THROWS_WITH_AS(net.add_population<ramp>("A", 2), doctest::Contains("'A'"), parameter_error);
  CHECK_THROWS_WITH_AS(net.connect(a, a, 2, {}), doctest::Contains("compartment 2"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(net.add_population<ramp>("B", 2, {.threshold = -1}),
                       doctest::Contains("threshold"), parameter_error);
  CHECK_THROWS_WITH_AS(net.pop("C"), doctest::Contains("'C'"), parameter_error);
  simulator sim(net);
  sim.run(time_ms{10});
  CHECK_THROWS_WITH_AS(sim.run_until(time_ms{5}), doctest::Contains("back in time"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(net.pop(0).set_parameter("thresh", 1.0), doctest::Contains("thresh"),
                       parameter_error);
  // A failed set_parameters keeps the old values.
  CHECK_THROWS_AS(net.pop(0).set_parameter("threshold", -5.0), parameter_error);
  CHECK(net.pop(0).parameter("threshold") == 10.0);
}
