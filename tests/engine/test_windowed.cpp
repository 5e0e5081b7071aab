// The windowed delivery path (window.hpp) against the ordered event loop:
// the same spikes, bit for bit, and the same sampled states, for any number
// of threads, window boundaries (sampling instants), path switches between
// runs, Poisson inputs (dense and sparse), per-synapse weights and delays.
// The built-in models are used because their predictions exercise every
// branch of run_window: exact crossings between inputs (lif_delta with a
// suprathreshold resting potential), provisional predictions (both), and
// crossings found by root search (lif_exp).
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/models/lif_delta.hpp"
#include "apical/models/lif_exp.hpp"

using namespace apical;

namespace {

// A small E/I network: lif_delta E cells (resting potential above
// threshold, so crossings happen between inputs), lif_exp I cells,
// per-synapse weights and delays in [0.5, 2] ms, a dense Poisson drive onto
// E and a sparse, time-limited kick onto I.
// With `brunel`, both populations are lif_delta with a resting potential
// below threshold (Brunel's model A: crossings only at inputs), which runs
// lif_delta's own window loop, driven by one dense and one sparse input.
// `weights`: every brunel projection has per-synapse weights (0), one
// weight stored once (1), or only those onto E per-synapse ones (2: a
// window where one population reads weights per entry and the other the
// delivery's).
std::unique_ptr<network> make_network(std::uint64_t seed, bool brunel = false, int weights = 0) {
  auto net = std::make_unique<network>();
  if (brunel) {
    const models::lif_delta::parameters p{.tau_m_ms = 20,
                                          .e_l_mv = 0,
                                          .v_th_mv = 20,
                                          .v_reset_mv = 10,
                                          .t_ref_ms = 2,
                                          .v_init_min_mv = 0,
                                          .v_init_max_mv = 20};
    auto& e = net->add_population<models::lif_delta>("E", 400, p);
    auto& i = net->add_population<models::lif_delta>("I", 100, p);
    connection_options o;
    o.delay_ms = value_spec::uniform(1.0, 1.5);
    std::uint64_t k = 0;
    for (auto* pre : {&e, &i})
      for (auto* post : {&e, &i}) {
        o.weight = pre == &e ? value_spec::uniform(0.1, 0.3) : value_spec::uniform(-1.5, -0.5);
        if (weights == 1 || (weights == 2 && post == &i))
          o.weight = value_spec::constant(pre == &e ? 0.25 : -0.9);
        o.same_population = pre == post;
        net->connect(pre->name() + post->name(), *pre, *post, 0,
                     make_generator(connection_rule::fixed_probability, pre->size(), post->size(),
                                    0.2, 0, o, derive_seed(seed, stream::connectivity, k++)));
      }
    net->add_poisson_input({"drive", e.id(), 0, 12000.0, 0.1f, 0.0, 1e9});
    net->add_poisson_input({"kick", i.id(), 0, 300.0, 4.0f, 2.0, 70.0});
    return net;
  }
  auto& e = net->add_population<models::lif_delta>(
      "E", 300,
      {.tau_m_ms = 20, .e_l_mv = -49, .v_th_mv = -50, .v_reset_mv = -60, .t_ref_ms = 2,
       .v_init_min_mv = -60, .v_init_max_mv = -50});
  auto& i = net->add_population<models::lif_exp>(
      "I", 100,
      {.tau_m_ms = 20, .tau_e_ms = 5, .tau_i_ms = 10, .e_l_mv = -55, .v_th_mv = -50,
       .v_reset_mv = -60, .t_ref_ms = 2, .v_init_min_mv = -60, .v_init_max_mv = -50});
  connection_options o;
  o.delay_ms = value_spec::uniform(0.5, 2.0);
  std::uint64_t k = 0;
  for (auto* pre : {static_cast<population*>(&e), static_cast<population*>(&i)})
    for (auto* post : {static_cast<population*>(&e), static_cast<population*>(&i)}) {
      o.weight = pre == &e ? value_spec::uniform(0.1, 0.6) : value_spec::uniform(-2.0, -0.5);
      o.same_population = pre == post;
      net->connect(pre->name() + post->name(), *pre, *post, 0,
                   make_generator(connection_rule::fixed_probability, pre->size(), post->size(),
                                  0.1, 0, o, derive_seed(seed, stream::connectivity, k++)));
    }
  net->add_poisson_input({"drive", e.id(), 0, 800.0, 0.4f, 0.0, 1e9});
  net->add_poisson_input({"kick", i.id(), 0, 150.0, 3.0f, 5.0, 60.0});
  return net;
}

struct outcome {
  std::vector<recorded_spike> spikes;
  std::vector<double> samples;
  simulation_counters counters;
};

// Runs make_network in pieces [0, 40), [40, 41.3), [41.3, 100) ms; `paths`
// gives each piece's path.
outcome run(unsigned threads, std::vector<delivery_path> paths, bool sample = true,
            bool brunel = false, int weights = 0) {
  auto net = make_network(3, brunel, weights);
  simulation_options opt;
  opt.seed = 11;
  opt.threads = threads;
  opt.delivery = paths[0];
  simulator sim(*net, opt);
  spike_recorder rec(sim);
  std::size_t r1 = 0, r2 = 0;
  if (sample) {
    r1 = sim.record_state(0, "v_mv", {0, 7, 150, 299}, time_ms{0.37});
    r2 = sim.record_state(1, brunel ? "v_mv" : "i_e_mv", {3, 99}, time_ms{1.1});
  }
  const double ends[] = {40.0, 41.3, 100.0};
  for (std::size_t k = 0; k < 3; ++k) {
    sim.set_delivery(paths[k]);
    sim.run_until(time_ms{ends[k]});
  }
  outcome o{rec.spikes(), {}, sim.counters()};
  if (sample) {
    for (auto r : {r1, r2}) {
      const auto& s = sim.state_recording(r);
      o.samples.insert(o.samples.end(), s.values.begin(), s.values.end());
    }
  }
  return o;
}

}  // namespace

TEST_CASE("windowed delivery: the spikes and samples of the ordered loop, bit for bit") {
  const auto ordered = run(1, {delivery_path::ordered, delivery_path::ordered,
                                delivery_path::ordered});
  // A network that fires (both populations), so the comparison means something.
  REQUIRE(ordered.spikes.size() > 500);
  std::size_t inhibitory = 0;
  for (const auto& s : ordered.spikes) inhibitory += s.population == 1;
  REQUIRE(inhibitory > 20);
  REQUIRE(ordered.counters.drive_inputs > 20000);
  for (const unsigned threads : {1u, 2u, 3u, 7u}) {
    CAPTURE(threads);
    const auto w = run(threads, {delivery_path::windowed, delivery_path::windowed,
                                 delivery_path::windowed});
    CHECK(w.spikes == ordered.spikes);
    CHECK(w.samples == ordered.samples);
    CHECK(w.counters.spikes == ordered.counters.spikes);
    CHECK(w.counters.drive_inputs == ordered.counters.drive_inputs);
    CHECK(w.counters.synaptic_events == ordered.counters.synaptic_events);
    CHECK(w.counters.windows > 50);
  }
}

TEST_CASE("windowed delivery: lif_delta's own window loop equals the event loop") {
  const std::vector<delivery_path> ordered_path(3, delivery_path::ordered);
  const std::vector<delivery_path> windowed_path(3, delivery_path::windowed);
  // Per-synapse weights, one weight per projection (another branch), and
  // both in one window.
  for (const int weights : {0, 1, 2}) {
    CAPTURE(weights);
    const auto ordered = run(1, ordered_path, true, true, weights);
    REQUIRE(ordered.spikes.size() > 800);
    std::size_t inhibitory = 0;
    for (const auto& s : ordered.spikes) inhibitory += s.population == 1;
    REQUIRE(inhibitory > 100);
    for (const unsigned threads : {1u, 2u, 5u}) {
      CAPTURE(threads);
      const auto w = run(threads, windowed_path, true, true, weights);
      // Both ways through a window were taken: settled from the bound, and
      // the exact merge (where every spike is found).
      CHECK(w.counters.settled > 5000);
      CHECK(w.counters.settled_in_part > 100);
      CHECK(w.spikes == ordered.spikes);
      CHECK(w.samples == ordered.samples);
      CHECK(w.counters.drive_inputs == ordered.counters.drive_inputs);
      const auto mixed =
          run(threads, {delivery_path::windowed, delivery_path::ordered, delivery_path::windowed},
              true, true, weights);
      CHECK(mixed.spikes == ordered.spikes);
    }
  }
}

TEST_CASE("windowed delivery: a window of more than 65,536 deliveries (32-bit entries)") {
  // 70,000 lif_delta sources above their threshold's resting potential
  // cross once each within 6.7 ms (V0 in [-50.4, -50) mV); with a 10 ms
  // delay the window [10, 20) ms receives all 70,000 spikes, each a
  // delivery, so its entries need 32-bit delivery indices. Targets: lif_delta
  // cells below threshold at rest (their own window loop; one weight per
  // projection) and lif_exp cells (the engine's loop; per-synapse weights).
  const auto run_big = [](unsigned threads, delivery_path path) {
    network net;
    auto& src = net.add_population<models::lif_delta>("S", 70000,
                                                      {.tau_m_ms = 20,
                                                       .e_l_mv = -49,
                                                       .v_th_mv = -50,
                                                       .v_reset_mv = -60,
                                                       .t_ref_ms = 2,
                                                       .v_init_min_mv = -50.4,
                                                       .v_init_max_mv = -50});
    auto& a = net.add_population<models::lif_delta>("A", 3,
                                                    {.tau_m_ms = 20,
                                                     .e_l_mv = 0,
                                                     .v_th_mv = 20,
                                                     .v_reset_mv = 10,
                                                     .t_ref_ms = 0.05,
                                                     .v_init_min_mv = 0,
                                                     .v_init_max_mv = 20});
    auto& b = net.add_population<models::lif_exp>("B", 2,
                                                  {.tau_m_ms = 20,
                                                   .tau_e_ms = 5,
                                                   .tau_i_ms = 10,
                                                   .e_l_mv = -60,
                                                   .v_th_mv = -50,
                                                   .v_reset_mv = -60,
                                                   .t_ref_ms = 0.1,
                                                   .v_init_min_mv = -60,
                                                   .v_init_max_mv = -55});
    connection_options o;
    o.delay_ms = value_spec::constant(10.0);
    o.weight = value_spec::constant(0.02);
    net.connect("SA", src, a, 0,
                make_generator(connection_rule::all_to_all, src.size(), a.size(), 0, 0, o,
                               derive_seed(5, stream::connectivity, 0)));
    o.weight = value_spec::uniform(-0.002, 0.006);
    net.connect("SB", src, b, 0,
                make_generator(connection_rule::all_to_all, src.size(), b.size(), 0, 0, o,
                               derive_seed(5, stream::connectivity, 1)));
    simulator sim(net, {.seed = 2, .threads = threads, .delivery = path});
    spike_recorder rec(sim);
    sim.run_until(time_ms{25.0});
    return std::pair{rec.spikes(), sim.counters()};
  };
  const auto [ordered, ordered_counters] = run_big(1, delivery_path::ordered);
  std::size_t early = 0, fired_a = 0, fired_b = 0;
  for (const auto& s : ordered) {
    early += s.population == 0 && s.time_ms < 10.0;
    fired_a += s.population == 1;
    fired_b += s.population == 2;
  }
  REQUIRE(early > 65536);
  REQUIRE(fired_a > 10);
  REQUIRE(fired_b > 3);
  for (const unsigned threads : {1u, 2u}) {
    CAPTURE(threads);
    const auto [w, counters] = run_big(threads, delivery_path::windowed);
    CHECK(w == ordered);
    CHECK(counters.synaptic_events == ordered_counters.synaptic_events);
  }
}

TEST_CASE("windowed delivery: switching paths between runs changes nothing") {
  const auto ordered =
      run(1, {delivery_path::ordered, delivery_path::ordered, delivery_path::ordered});
  for (const unsigned threads : {1u, 2u}) {
    CAPTURE(threads);
    CHECK(run(threads, {delivery_path::windowed, delivery_path::ordered, delivery_path::windowed})
              .spikes == ordered.spikes);
    CHECK(run(threads, {delivery_path::ordered, delivery_path::windowed, delivery_path::ordered})
              .spikes == ordered.spikes);
  }
}

TEST_CASE("windowed delivery: window boundaries do not matter") {
  // Without state recorders no sampling instant cuts a window: the windows
  // fall elsewhere, the spikes do not move.
  const auto a = run(1, {delivery_path::windowed, delivery_path::windowed,
                          delivery_path::windowed});
  const auto b = run(2, {delivery_path::windowed, delivery_path::windowed,
                          delivery_path::windowed}, false);
  CHECK(a.spikes == b.spikes);
  CHECK(a.counters.windows > b.counters.windows);
}

TEST_CASE("the automatic path, and why the windowed one does not apply") {
  SUBCASE("a projection without delay keeps the ordered path") {
    network net;
    auto& a = net.add_population<models::lif_delta>("A", 2);
    net.connect("AA", a, a, 0, {{0, 1, 1.0f, 0.0}});
    simulator sim(net);
    CHECK(sim.path() == delivery_path::ordered);
    CHECK(sim.windowed_obstacle().find("'AA' has delay 0 ms") != std::string::npos);
    CHECK_THROWS_WITH_AS(simulator(net, {.delivery = delivery_path::windowed}),
                         doctest::Contains("'AA' has delay 0 ms"), parameter_error);
  }
  SUBCASE("delivery listeners keep the ordered path") {
    network net;
    auto& a = net.add_population<models::lif_delta>("A", 2);
    const auto& pr = net.connect("AA", a, a, 0, {{0, 1, 1.0f, 1.0}});
    simulator sim(net);
    CHECK(sim.path() == delivery_path::windowed);
    int seen = 0;
    auto count = [&seen](const delivery&) { ++seen; };
    sim.on_delivery(pr.id()).connect(simulator::delivery_signal::slot::from(count));
    CHECK(sim.path() == delivery_path::ordered);
    CHECK(sim.windowed_obstacle().find("delivery listeners") != std::string::npos);
  }
  CHECK(parse_delivery_path("windowed") == delivery_path::windowed);
  CHECK_THROWS_WITH_AS(parse_delivery_path("fast"), doctest::Contains("auto, ordered or windowed"),
                       parameter_error);
}

TEST_CASE("Poisson inputs: rate, start and stop, and clear errors") {
  network net;
  // A threshold no input reaches: every drive spike is counted, none fires.
  auto& a = net.add_population<models::lif_delta>("A", 200, {.v_th_mv = 1e6});
  net.add_poisson_input({"in", a.id(), 0, 500.0, 0.01f, 100.0, 300.0});
  for (const auto path : {delivery_path::ordered, delivery_path::windowed}) {
    simulator sim(net, {.seed = 5, .delivery = path});
    sim.run_until(time_ms{100.0});
    CHECK(sim.counters().drive_inputs == 0);
    sim.run_until(time_ms{1000.0});
    // 200 neurons x 500 Hz x 0.2 s = 20,000 expected, sd 141.
    const auto n = static_cast<double>(sim.counters().drive_inputs);
    CHECK(std::abs(n - 20000.0) < 5 * 141.0);
    // V at 1 s: what the inputs left after 700 ms of decay, near E_L.
    CHECK(a.state_value(0, 0, 1000.0) == doctest::Approx(-70.0).epsilon(1e-3));
  }
  CHECK_THROWS_WITH_AS(net.add_poisson_input({"bad", a.id(), 0, -1.0, 1.0f}),
                       doctest::Contains("poisson input 'bad': rate_hz must be finite and >= 0"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(net.add_poisson_input({"bad", a.id(), 1, 1.0, 1.0f}),
                       doctest::Contains("compartment"), parameter_error);
  CHECK_THROWS_WITH_AS(net.add_poisson_input({"bad", a.id(), 0, 1.0, 1.0f, 5.0, 2.0}),
                       doctest::Contains("stop_ms must be >= start_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(net.add_poisson_input({"in", a.id(), 0, 1.0, 1.0f}),
                       doctest::Contains("'in' is used twice"), parameter_error);
}
