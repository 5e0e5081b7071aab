// The weight recorder: interval samples equal the weights of a run stopped
// at each sample time; change records replay every change (with and without
// dendritic delays, whose postsynaptic spikes change a synapse when they
// reach it); the CSV holds what was recorded.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/learning/plasticity/plasticity.hpp"
#include "apical/learning/plasticity/weight_recorder.hpp"

using namespace apical;
using namespace apical::learning;

namespace {

struct setup {
  network net;
  std::size_t id;
  setup() {
    auto& pre = net.add_population<poisson_source>("pre", 8, {.rate_hz = 40.0});
    auto& post = net.add_population<poisson_source>("post", 4, {.rate_hz = 30.0});
    rng g(9);
    connection_options o;
    o.weight = value_spec::uniform(0.5, 1.0);
    o.delay_ms = value_spec::uniform(0.5, 2.0);
    id = net.connect("ff", pre, post, 0, all_to_all(8, 4, o, g)).id();
  }
};
const parameter_list params{{"a_plus", 0.02}, {"a_minus", 0.021}, {"w_max", 2.0}};
parameter_list with_fraction(double f) {
  auto p = params;
  p.emplace_back("dendritic_delay_fraction", f);
  return p;
}

}  // namespace

TEST_CASE("interval samples are the weights of a run stopped at each sample time") {
  for (const auto& [threads, f] : {std::pair{1u, 0.0}, {2u, 0.0}, {1u, 1.0}, {2u, 0.5}}) {
    CAPTURE(threads);
    CAPTURE(f);
    const auto params = with_fraction(f);
    setup a;
    simulator sim_a(a.net, {.seed = 3, .threads = threads});
    auto plastic_a = make_plasticity(sim_a, a.id, "stdp_additive", params);
    weight_recorder rec(*plastic_a, time_ms{10}, {31, 0, 5, 17});
    sim_a.run(time_ms{95});
    sim_a.run(time_ms{105});
    rec.flush(sim_a.now());

    setup b;
    simulator sim_b(b.net, {.seed = 3});
    auto plastic_b = make_plasticity(sim_b, b.id, "stdp_additive", params);
    std::vector<weight_sample> expected;
    for (int k = 0; k <= 20; ++k) {
      sim_b.run_until(time_ms{10.0 * k});
      for (const std::uint64_t s : {31, 0, 5, 17})
        expected.push_back({10.0 * k, s, plastic_b->weight(s)});
    }
    CHECK(rec.samples() == expected);
    CHECK(rec.samples().front().weight != rec.samples().back().weight);
  }
}

TEST_CASE("change records replay every change, the same for any number of threads") {
  for (const double f : {0.0, 1.0}) {
    CAPTURE(f);
    const auto params = with_fraction(f);
    std::vector<weight_sample> one_thread;
    for (const unsigned threads : {1u, 2u}) {
      setup a;
      simulator sim(a.net, {.seed = 3, .threads = threads});
      auto plastic = make_plasticity(sim, a.id, "stdp_additive", params);
      const std::vector<double> initial(plastic->weights().begin(), plastic->weights().end());
      weight_recorder rec(*plastic, time_ms{0});
      sim.run(time_ms{300});
      std::vector<double> replay(initial.size(), -1.0);
      double last_t = 0.0;
      for (const auto& s : rec.samples()) {
        CHECK(s.time_ms >= last_t);
        last_t = s.time_ms;
        replay[s.synapse] = s.weight;
      }
      CHECK(rec.samples().size() > 2 * initial.size());
      CHECK(std::equal(replay.begin(), replay.end(), plastic->weights().begin()));
      if (threads == 1)
        one_thread = rec.samples();
      else
        CHECK(rec.samples() == one_thread);
    }
  }
}

TEST_CASE("the CSV holds the samples, bad requests are errors") {
  setup a;
  simulator sim(a.net, {.seed = 3});
  auto plastic = make_plasticity(sim, a.id, "stdp_additive", params);
  weight_recorder rec(*plastic, time_ms{25}, {9});
  sim.run(time_ms{50});
  rec.flush(sim.now());
  REQUIRE(rec.samples().size() == 3);
  const auto file = std::filesystem::temp_directory_path() / "apical_test_weights.csv";
  write_weights_csv(file, rec);
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  CHECK(line == "time_ms,projection,synapse,pre,post,weight");
  const auto& pr = a.net.proj(a.id);
  const std::string prefix =
      "25,ff,9," + std::to_string(pr.pre_of(9)) + "," + std::to_string(pr.targets()[9]) + ",";
  std::getline(in, line);
  std::getline(in, line);
  CHECK(line.rfind(prefix, 0) == 0);
  CHECK(std::stod(line.substr(prefix.size())) == rec.samples()[1].weight);
  std::filesystem::remove(file);

  CHECK_THROWS_WITH_AS(write_weights_csv("/nonexistent/dir/w.csv", rec),
                       doctest::Contains("/nonexistent/dir/w.csv: cannot open"), file_error);
  CHECK_THROWS_WITH_AS(weight_recorder(*plastic, time_ms{-1}),
                       doctest::Contains("interval must be finite and >= 0 ms"), parameter_error);
  CHECK_THROWS_WITH_AS(weight_recorder(*plastic, time_ms{1}, {32}),
                       doctest::Contains("synapse 32 out of range [0, 32)"), parameter_error);
  CHECK_THROWS_WITH_AS(weight_recorder(*plastic, time_ms{1}, {3, 4, 3}),
                       doctest::Contains("synapse 3 is selected twice"), parameter_error);
}
