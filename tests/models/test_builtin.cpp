// The registry of built-in models, and a fixed-seed raster checksum of a
// small Brette-benchmark-4-like network (the regression guard of the whole
// engine: any change in event order, model arithmetic or random streams
// changes it).
#include <bit>

#include <doctest/doctest.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/models/builtin.hpp"

using namespace apical;

TEST_CASE("the registry makes every built-in model by name") {
  model_registry reg;
  models::register_builtin(reg);
  for (const auto* name :
       {"lif_delta", "lif_delta_injected", "lif_exp", "lif_exp_injected", "lif_curr_alpha",
        "lif_cond_exp", "lif_cond_exp_injected", "lif_cond_alpha", "two_compartment",
        "poisson_source", "regular_source", "spike_time_source"}) {
    auto p = reg.make(name, "X", 3);
    CHECK(p->model_name() == name);
    CHECK(p->size() == 3);
  }
  CHECK_THROWS_WITH_AS(reg.make("izhikevich", "X", 1), doctest::Contains("lif_delta"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(reg.add<models::lif_delta>(), doctest::Contains("twice"), parameter_error);
  auto p = reg.make("lif_exp", "X", 1);
  p->set_parameters(std::vector<std::pair<std::string, double>>{{"v_th_mv", -40}, {"e_l_mv", -45}});
  CHECK(p->parameter("v_th_mv") == -40);
  CHECK_THROWS_WITH_AS(p->set_parameter("tau", 1), doctest::Contains("tau_m_ms"), parameter_error);
}

namespace {
std::vector<recorded_spike> small_bench4(queue_kind q, unsigned threads = 1,
                                         delivery_path path = delivery_path::automatic) {
  using models::lif_delta;
  network net;
  const lif_delta::parameters p{.tau_m_ms = 20,
                                .e_l_mv = -49,
                                .v_th_mv = -50,
                                .v_reset_mv = -60,
                                .t_ref_ms = 5,
                                .v_init_min_mv = -60,
                                .v_init_max_mv = -50};
  auto& e = net.add_population<lif_delta>("E", 320, p);
  auto& i = net.add_population<lif_delta>("I", 80, p);
  const std::uint64_t seed = 12345;
  std::uint64_t k = 0;
  auto connect = [&](population& a, population& b, double w) {
    rng r(derive_seed(seed, stream::connectivity, k++));
    connection_options o{.weight = value_spec::constant(w),
                         .delay_ms = value_spec::constant(0.2),
                         .same_population = &a == &b};
    net.connect(a, b, 0, fixed_probability(a.size(), b.size(), 0.1, o, r));
  };
  connect(e, e, 0.25);
  connect(e, i, 0.25);
  connect(i, e, -2.25);
  connect(i, i, -2.25);
  simulator sim(net, {.seed = seed, .queue = q, .threads = threads, .delivery = path});
  spike_recorder rec(sim);
  sim.run(time_ms{300});
  return rec.spikes();
}
}  // namespace

TEST_CASE("fixed-seed raster checksum of a small benchmark-4 network") {
  const auto spikes = small_bench4(queue_kind::heap);
  REQUIRE(spikes.size() > 1000);
  CHECK(small_bench4(queue_kind::calendar) == spikes);
  CHECK(small_bench4(queue_kind::heap, 2) == spikes);
  CHECK(small_bench4(queue_kind::calendar, 4) == spikes);
  CHECK(small_bench4(queue_kind::radix, 3) == spikes);
  // The event loop and the windowed path (lif_delta's own loop) agree bit
  // for bit.
  CHECK(small_bench4(queue_kind::heap, 1, delivery_path::ordered) == spikes);
  CHECK(small_bench4(queue_kind::radix, 2, delivery_path::ordered) == spikes);
  std::uint64_t h = 0x84222325cbf29ce4ULL;
  for (const auto& s : spikes) {
    h = mix64(h ^ std::bit_cast<std::uint64_t>(s.time_ms));
    h = mix64(h ^ (static_cast<std::uint64_t>(s.population) << 32 | s.neuron));
  }
  MESSAGE("spikes: " << spikes.size() << ", checksum: " << h);
  CHECK(spikes.size() == 1456);
  CHECK(h == 14268363898530538035ULL);
}
