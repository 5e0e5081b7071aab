// Plastic projections in checkpoints (plasticity_checkpoint.hpp): a
// recurrent network with STDP on E -> E, checkpointed mid-run and continued
// in a fresh network, simulator and plastic projection, with the same or
// another number of threads, gives the spikes, the weights (double, bit for
// bit) and the counters of the uninterrupted run, with dendritic delays too
// (the checkpoint then holds the postsynaptic spikes still on their way to
// their synapses); a checkpoint of another rule or other parameters is
// refused, naming them.
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/learning/plasticity/plasticity.hpp"
#include "apical/learning/plasticity/plasticity_checkpoint.hpp"
#include "apical/models/lif_delta.hpp"

using namespace apical;
using namespace apical::learning;

namespace {

// E (lif_delta) with recurrent E -> E of delays 1-4 ms (several delay
// groups per neuron), driven by Poisson input.
std::unique_ptr<network> make_net() {
  auto net = std::make_unique<network>();
  auto& e = net->add_population<models::lif_delta>(
      "E", 200,
      {.tau_m_ms = 20, .e_l_mv = 0, .v_th_mv = 20, .v_reset_mv = 10, .t_ref_ms = 2,
       .v_init_min_mv = 0, .v_init_max_mv = 20});
  connection_options o;
  o.delay_ms = value_spec::uniform(1.0, 4.0);
  o.weight = value_spec::uniform(0.1, 0.5);
  o.same_population = true;
  net->connect("EE", e, e, 0,
               make_generator(connection_rule::fixed_probability, e.size(), e.size(), 0.2, 0, o,
                              derive_seed(3, stream::connectivity, 0)));
  net->add_poisson_input({"drive", e.id(), 0, 12000.0, 0.12f, 0.0, 1e9});
  return net;
}

struct rule_case {
  std::string rule;
  parameter_list parameters;
};
const rule_case additive{"stdp_additive", {{"a_plus", 0.01}, {"a_minus", 0.012}, {"w_max", 2.0}}};
const rule_case triplet{"stdp_triplet",
                        {{"a2_plus", 0.005}, {"a3_plus", 0.006}, {"a2_minus", 0.007},
                         {"a3_minus", 0.001}, {"w_max", 2.0}}};
const rule_case additive_dendritic{
    "stdp_additive",
    {{"a_plus", 0.01}, {"a_minus", 0.012}, {"w_max", 2.0}, {"dendritic_delay_fraction", 1.0}}};
const rule_case triplet_dendritic{"stdp_triplet",
                                  {{"a2_plus", 0.005},
                                   {"a3_plus", 0.006},
                                   {"a2_minus", 0.007},
                                   {"a3_minus", 0.001},
                                   {"w_max", 2.0},
                                   {"dendritic_delay_fraction", 0.5}}};

struct outcome {
  std::vector<recorded_spike> spikes;
  std::vector<double> weights;
  plasticity_counters counters;
};

// A network, its simulator, a spike recorder and the plastic projection.
struct plastic_run {
  std::unique_ptr<network> net = make_net();
  std::unique_ptr<simulator> sim;
  std::unique_ptr<spike_recorder> rec;
  std::vector<std::unique_ptr<plastic_projection_base>> plastic;
  std::unique_ptr<plasticity_checkpoint> parts;
  plastic_run(unsigned threads, const rule_case& r,
              delivery_path path = delivery_path::automatic) {
    simulation_options o;
    o.seed = 9;
    o.threads = threads;
    o.delivery = path;
    sim = std::make_unique<simulator>(*net, o);
    rec = std::make_unique<spike_recorder>(*sim);
    plastic.push_back(make_plasticity(*sim, 0, r.rule, r.parameters));
    parts = std::make_unique<plasticity_checkpoint>(plastic);
  }
  outcome result() const {
    const auto w = plastic[0]->weights();
    return {rec->spikes(), {w.begin(), w.end()}, plastic[0]->counters()};
  }
};

// Runs to `end` on 1 thread, ordered; with a checkpoint time, on `before`
// threads and path, saved there and continued in a fresh run on `after`.
struct setup {
  unsigned threads;
  delivery_path path;
};
outcome run(const rule_case& r, double end, double checkpoint_ms = -1,
            setup before = {1, delivery_path::ordered}, setup after = {1, delivery_path::ordered}) {
  auto a = std::make_unique<plastic_run>(before.threads, r, before.path);
  if (checkpoint_ms < 0) {
    a->sim->run_until(time_ms{end});
    return a->result();
  }
  a->sim->run_until(time_ms{checkpoint_ms});
  std::stringstream file;
  a->sim->save(file, "", a->parts->parts());
  const auto earlier = a->rec->spikes();
  a.reset();
  plastic_run b(after.threads, r, after.path);
  b.sim->restore(file, "memory", b.parts->parts());
  b.rec->add(earlier);
  b.sim->run_until(time_ms{end});
  return b.result();
}

void check_same(const outcome& a, const outcome& b) {
  REQUIRE(a.spikes.size() == b.spikes.size());
  CHECK(a.spikes == b.spikes);
  REQUIRE(a.weights.size() == b.weights.size());
  CHECK(std::memcmp(a.weights.data(), b.weights.data(), a.weights.size() * sizeof(double)) == 0);
  CHECK(a.counters.arrivals == b.counters.arrivals);
  CHECK(a.counters.post_spikes == b.counters.post_spikes);
  CHECK(a.counters.updates == b.counters.updates);
}

}  // namespace

TEST_CASE("plasticity checkpoint: resumed STDP gives the spikes and weights of the whole run") {
  for (const auto* r : {&additive, &triplet, &additive_dendritic, &triplet_dendritic}) {
    CAPTURE(r->rule);
    CAPTURE(r->parameters.back().second);
    const outcome whole = run(*r, 150);
    REQUIRE(whole.spikes.size() > 300);
    const auto fresh = make_net();
    const auto w0 = fresh->proj(0).weights();
    REQUIRE(std::vector<double>(w0.begin(), w0.end()) != whole.weights);  // weights changed
    for (const double at : {0.0, 37.3, 100.0}) {
      CAPTURE(at);
      // (automatic: the windowed path where plasticity runs on it)
      const setup one{1, delivery_path::ordered}, two{2, delivery_path::automatic};
      check_same(whole, run(*r, 150, at, one, one));
      check_same(whole, run(*r, 150, at, two, two));
      check_same(whole, run(*r, 150, at, two, one));
      check_same(whole, run(*r, 150, at, one, two));
    }
  }
}

TEST_CASE("plasticity checkpoint: the same bytes for any number of threads") {
  for (const auto* r : {&additive, &additive_dendritic}) {
    std::string saved[2];
    for (unsigned threads = 1; threads <= 2; ++threads) {
      plastic_run a(threads, *r);
      a.sim->run_until(time_ms{40.0});
      std::stringstream file;
      a.sim->save(file, "", a.parts->parts());
      saved[threads - 1] = file.str();
    }
    CHECK(saved[0] == saved[1]);
  }
}

TEST_CASE("plasticity checkpoint: another rule, other parameters or no plasticity are refused") {
  plastic_run a(1, additive);
  a.sim->run_until(time_ms{30.0});
  std::stringstream file;
  a.sim->save(file, "", a.parts->parts());
  const std::string bytes = file.str();
  auto restore = [&bytes](const rule_case* r) {
    std::stringstream in(bytes);
    if (r == nullptr) {
      auto net = make_net();
      simulation_options o;
      o.seed = 9;
      simulator sim(*net, o);
      sim.restore(in, "ck.bin");
      return;
    }
    plastic_run b(1, *r);
    b.sim->restore(in, "ck.bin", b.parts->parts());
  };
  restore(&additive);
  rule_case other = additive;
  other.parameters[0].second = 0.02;
  CHECK_THROWS_WITH_AS(restore(&other),
                       doctest::Contains("ck.bin: the checkpoint is of another network: the "
                                         "checkpoint has projection 0 'EE' weights: plasticity "
                                         "stdp_additive, tau_plus_ms=20, tau_minus_ms=20, "
                                         "a_plus=0.01, a_minus=0.012"),
                       file_error);
  CHECK_THROWS_WITH_AS(restore(&additive_dendritic),
                       doctest::Contains("this network has projection 0 'EE' weights: "
                                         "plasticity stdp_additive, tau_plus_ms=20, "
                                         "tau_minus_ms=20, a_plus=0.01, a_minus=0.012, "
                                         "w_min=0, w_max=2, dendritic_delay_fraction=1"),
                       file_error);
  CHECK_THROWS_WITH_AS(restore(&triplet),
                       doctest::Contains("this network has projection 0 'EE' weights: "
                                         "plasticity stdp_triplet"),
                       file_error);
  CHECK_THROWS_WITH_AS(restore(nullptr), doctest::Contains("the checkpoint has projection 0 'EE'"),
                       file_error);
}

TEST_CASE("plasticity checkpoint: a plastic projection not given to save is refused") {
  plastic_run a(1, additive);
  a.sim->run_until(time_ms{10.0});
  std::stringstream file;
  CHECK_THROWS_WITH_AS(a.sim->save(file),
                       doctest::Contains("projection 'EE' has 1 delivery listeners, of which 0 "
                                         "keep their state"),
                       parameter_error);
}
