// Distributed runs (communicator.hpp) against one process: R ranks, each
// holding only the synapses onto its own neurons and running T threads,
// give the spikes and sampled states of the single-process run, bit for
// bit, on both delivery paths. The ranks run as threads of this process
// (local_group), exchanging through memory exactly what MPI ranks send.
#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/communicator.hpp"
#include "apical/engine/connectivity.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/models/lif_delta.hpp"
#include "apical/models/lif_exp.hpp"

using namespace apical;

namespace {

// E (lif_delta above threshold at rest) and I (lif_exp) cells, a Poisson
// source population, per-synapse weights and delays in [0.5, 2] ms, rules
// of every kind, a dense and a sparse Poisson input. `brunel`: lif_delta
// below threshold at rest, which runs lif_delta's own window loop.
std::unique_ptr<network> make_network(unsigned ranks, unsigned rank, bool brunel) {
  auto net = std::make_unique<network>();
  net->distribute(ranks, rank);
  population* e;
  population* i;
  if (brunel) {
    const models::lif_delta::parameters p{.tau_m_ms = 20, .e_l_mv = 0, .v_th_mv = 20,
                                          .v_reset_mv = 10, .t_ref_ms = 2,
                                          .v_init_min_mv = 0, .v_init_max_mv = 20};
    e = &net->add_population<models::lif_delta>("E", 403, p);
    i = &net->add_population<models::lif_delta>("I", 101, p);
  } else {
    e = &net->add_population<models::lif_delta>(
        "E", 301,
        {.tau_m_ms = 20, .e_l_mv = -49, .v_th_mv = -50, .v_reset_mv = -60, .t_ref_ms = 2,
         .v_init_min_mv = -60, .v_init_max_mv = -50});
    i = &net->add_population<models::lif_exp>(
        "I", 97,
        {.tau_m_ms = 20, .tau_e_ms = 5, .tau_i_ms = 10, .e_l_mv = -55, .v_th_mv = -50,
         .v_reset_mv = -60, .t_ref_ms = 2, .v_init_min_mv = -60, .v_init_max_mv = -50});
  }
  auto& src = net->add_population<poisson_source>("S", 50, {.rate_hz = 40.0});
  connection_options o;
  o.delay_ms = value_spec::uniform(0.5, 2.0);
  const connection_rule rules[] = {connection_rule::fixed_probability,
                                   connection_rule::fixed_indegree,
                                   connection_rule::fixed_outdegree,
                                   connection_rule::fixed_probability};
  std::uint64_t k = 0;
  for (auto* pre : {e, i})
    for (auto* post : {e, i}) {
      o.weight = pre == e ? value_spec::uniform(0.1, 0.5) : value_spec::uniform(-2.0, -0.5);
      if (brunel) o.weight = value_spec::constant(pre == e ? 0.2 : -1.0);
      o.same_population = pre == post;
      net->connect(pre->name() + post->name(), *pre, *post, 0,
                   make_generator(rules[k], pre->size(), post->size(), 0.1, 12, o,
                                  derive_seed(7, stream::connectivity, k)));
      ++k;
    }
  o.same_population = false;
  o.weight = value_spec::constant(brunel ? 0.5 : 1.0);
  o.delay_ms = value_spec::constant(1.0);
  net->connect("SE", src, *e, 0,
               make_generator(connection_rule::all_to_all, 50, e->size(), 0, 0, o,
                              derive_seed(7, stream::connectivity, k++)));
  net->add_poisson_input({"drive", e->id(), 0, brunel ? 12000.0 : 800.0,
                          brunel ? 0.1f : 0.4f, 0.0, 1e9});
  net->add_poisson_input({"kick", i->id(), 0, 150.0, 3.0f, 5.0, 60.0});
  return net;
}

struct outcome {
  std::vector<recorded_spike> spikes;
  std::vector<double> samples;
  std::uint64_t synaptic_events = 0;
};

// One rank's run: [0, 40), [40, 41.3), [41.3, 90) ms.
outcome run_rank(unsigned ranks, unsigned rank, communicator* comm, unsigned threads,
                 delivery_path path, bool brunel) {
  auto net = make_network(ranks, rank, brunel);
  simulator sim(*net, {.seed = 11, .threads = threads, .delivery = path, .comm = comm});
  spike_recorder rec(sim);
  const auto r1 = sim.record_state(0, "v_mv", {0, 7, 150, 299}, time_ms{0.37});
  const auto r2 = sim.record_state(1, "v_mv", {3, 96}, time_ms{1.1});
  for (const double end : {40.0, 41.3, 90.0}) sim.run_until(time_ms{end});
  outcome o{rec.spikes(), {}, sim.counters().synaptic_events};
  for (auto r : {r1, r2}) {
    const auto& s = sim.state_recording(r);
    o.samples.insert(o.samples.end(), s.values.begin(), s.values.end());
  }
  return o;
}

// Calls f(rank, communicator) on R threads, one per rank.
template <class F>
void on_ranks(local_group& group, F f) {
  std::vector<std::jthread> workers;
  for (unsigned r = 0; r < group.size(); ++r)
    workers.emplace_back([&f, &group, r] { f(r, group.member(r)); });
}

// R ranks on R threads; the spikes of all, sorted as one recorder sorts
// them; the samples and synaptic event count of rank 0 (the samples are
// gathered on every rank) and the sum over ranks.
outcome run_ranks(unsigned ranks, unsigned threads, delivery_path path, bool brunel) {
  local_group group(ranks);
  std::vector<outcome> results(ranks);
  std::vector<std::exception_ptr> errors(ranks);
  on_ranks(group, [&](unsigned r, communicator& comm) {
    try {
      results[r] = run_rank(ranks, r, &comm, threads, path, brunel);
    } catch (...) {
      errors[r] = std::current_exception();
    }
  });
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  outcome all;
  for (unsigned r = 0; r < ranks; ++r) {
    all.spikes.insert(all.spikes.end(), results[r].spikes.begin(), results[r].spikes.end());
    all.synaptic_events += results[r].synaptic_events;
    CHECK(results[r].samples == results[0].samples);
  }
  std::sort(all.spikes.begin(), all.spikes.end(), [](const auto& a, const auto& b) {
    if (a.time_ms != b.time_ms) return a.time_ms < b.time_ms;
    if (a.population != b.population) return a.population < b.population;
    return a.neuron < b.neuron;
  });
  all.samples = results[0].samples;
  return all;
}

}  // namespace

TEST_CASE("rank blocks cover a population once, in order") {
  for (const std::size_t n : {0u, 1u, 5u, 100u, 101u}) {
    for (const unsigned ranks : {1u, 2u, 3u, 4u, 7u}) {
      std::uint32_t next = 0;
      for (unsigned r = 0; r < ranks; ++r) {
        const auto b = rank_block(n, ranks, r);
        CHECK(b.begin == next);
        CHECK(b.end >= b.begin);
        for (std::uint32_t i = b.begin; i < b.end; ++i) CHECK(rank_of(n, ranks, i) == r);
        next = b.end;
      }
      CHECK(next == n);
    }
  }
}

TEST_CASE("any number of ranks and threads gives the spikes of one process") {
  for (const bool brunel : {false, true}) {
    CAPTURE(brunel);
    const auto single = run_rank(1, 0, nullptr, 1, delivery_path::automatic, brunel);
    REQUIRE(single.spikes.size() > 500);
    for (const unsigned ranks : {1u, 2u, 3u, 4u})
      for (const unsigned threads : {1u, 2u}) {
        CAPTURE(ranks);
        CAPTURE(threads);
        const auto d = run_ranks(ranks, threads, delivery_path::automatic, brunel);
        CHECK(d.spikes == single.spikes);
        CHECK(d.samples == single.samples);
        CHECK(d.synaptic_events == single.synaptic_events);
      }
  }
}

TEST_CASE("ranks on the ordered path give the spikes of one process") {
  const auto single = run_rank(1, 0, nullptr, 1, delivery_path::ordered, false);
  for (const unsigned ranks : {2u, 3u}) {
    CAPTURE(ranks);
    const auto d = run_ranks(ranks, 1, delivery_path::ordered, false);
    CHECK(d.spikes == single.spikes);
    CHECK(d.samples == single.samples);
  }
}

TEST_CASE("each rank holds only the synapses onto its own neurons") {
  const auto whole = make_network(1, 0, false);
  for (const unsigned ranks : {2u, 3u}) {
    std::vector<std::size_t> sum(whole->projection_count(), 0);
    for (unsigned r = 0; r < ranks; ++r) {
      const auto part = make_network(ranks, r, false);
      for (std::size_t k = 0; k < part->projection_count(); ++k) {
        const projection& pr = part->proj(k);
        const auto mine = rank_block(pr.post_size(), ranks, r);
        for (const auto t : pr.targets()) CHECK(mine.contains(t));
        sum[k] += pr.size();
      }
    }
    for (std::size_t k = 0; k < whole->projection_count(); ++k)
      CHECK(sum[k] == whole->proj(k).size());
  }
}

TEST_CASE("a rank that fails stops every rank, and their errors name it") {
  local_group group(3);
  std::vector<std::string> messages(3);
  on_ranks(group, [&](unsigned r, communicator& comm) {
    auto net = make_network(3, r, false);
    simulator sim(*net, {.seed = 11, .comm = &comm});
    auto fail = [r](time_ms t, std::uint32_t) {
      if (r == 1 && t.count() > 20.0) throw std::runtime_error("disk full");
    };
    sim.on_spike(0).connect(simulator::spike_signal::slot::from(fail));
    try {
      sim.run_until(time_ms{90.0});
    } catch (const std::exception& e) {
      messages[r] = e.what();
    }
  });
  CHECK(messages[1] == "disk full");
  CHECK(messages[0] == "rank 1: disk full");
  CHECK(messages[2] == "rank 1: disk full");
}

TEST_CASE("a network distributed for another rank is refused") {
  local_group group(2);
  auto net = make_network(2, 1, false);
  CHECK_THROWS_WITH_AS(simulator(*net, {.comm = &group.member(0)}),
                       doctest::Contains("rank 1 of 2 processes, but this run is rank 0 of 2"),
                       parameter_error);
  network late;
  auto& a = late.add_population<models::lif_delta>("A", 2);
  late.connect(a, a, 0, {});
  CHECK_THROWS_WITH_AS(late.distribute(2, 0), doctest::Contains("before the first projection"),
                       parameter_error);
  network n2;
  CHECK_THROWS_WITH_AS(n2.distribute(2, 2), doctest::Contains("expected 0 <= rank < ranks"),
                       parameter_error);
}

TEST_CASE("a distributed run refuses checkpoints") {
  local_group group(2);
  std::vector<std::string> messages(2);
  on_ranks(group, [&](unsigned r, communicator& comm) {
    auto net = make_network(2, r, false);
    simulator sim(*net, {.seed = 11, .comm = &comm});
    checkpoint_image image;
    try {
      sim.save(image);
    } catch (const parameter_error& e) {
      messages[r] = e.what();
    }
  });
  for (const auto& m : messages)
    CHECK(m.find("run on 2 processes cannot be saved") != std::string::npos);
}
