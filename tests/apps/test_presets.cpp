// The reference networks: sizes as specified, and activity within tolerance
// of the reference figures (docs/presets.md gives the sources).
#include <doctest/doctest.h>

#include "apical/engine/analysis.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/models/builtin.hpp"
#include "presets.hpp"

using namespace apical;
using namespace apical::app;

namespace {

model_registry builtin() {
  model_registry r;
  models::register_builtin(r);
  return r;
}

struct ei_activity {
  population_activity e, i;
};

ei_activity run(const network_spec& spec, double duration_ms, unsigned threads = 1) {
  const auto models = builtin();
  auto net = build_network(spec, models);
  simulator sim(*net, {.seed = spec.seed, .threads = threads});
  spike_recorder rec(sim, {0, 1});
  sim.run(time_ms{duration_ms});
  return {activity(rec.spikes(), 0, net->pop(0).size(), 0, duration_ms),
          activity(rec.spikes(), 1, net->pop(1).size(), 0, duration_ms)};
}

}  // namespace

TEST_CASE("presets have the specified sizes, and unknown names are rejected") {
  const auto models = builtin();
  auto b4 = build_network(make_preset("brette-bench4"), models);
  CHECK(b4->pop("E").size() == 3200);
  CHECK(b4->pop("I").size() == 800);
  // p = 0.02 over 4000 x 3999 pairs: 319,920 expected, sd ~ 560.
  const double recurrent = static_cast<double>(b4->synapses());
  CHECK(recurrent == doctest::Approx(319920).epsilon(0.01));
  // The kick is a Poisson input per neuron: 100 Hz of +10 mV for 50 ms.
  REQUIRE(b4->poisson_inputs().size() == 2);
  CHECK(b4->poisson_inputs()[0].rate_hz == 100.0);
  CHECK(b4->poisson_inputs()[0].weight == 10.0f);
  CHECK(b4->poisson_inputs()[0].stop_ms == 50.0);
  const auto brunel = make_preset("brunel-c");
  REQUIRE(brunel.populations.size() == 2);
  CHECK(brunel.populations[0].size == 10000);
  CHECK(brunel.projections[0].k == 1000);
  CHECK(brunel.projections[2].k == 250);
  CHECK(brunel.projections[2].weight == doctest::Approx(-0.5));
  // eta * nu_thr * C_E = 2 * 10 Hz * 1000, one Poisson input per population
  REQUIRE(brunel.inputs.size() == 2);
  CHECK(brunel.inputs[0].target == "E");
  CHECK(brunel.inputs[0].rate_hz == doctest::Approx(20000.0));
  CHECK(brunel.inputs[0].weight == doctest::Approx(0.1));
  const auto scaled = make_preset("brunel-scaled", 2.0);
  CHECK(scaled.populations[0].size == 20000);
  CHECK(scaled.projections[0].k == 2000);
  CHECK(scaled.projections[0].weight == doctest::Approx(0.05));
  CHECK_THROWS_WITH_AS(make_preset("brunel-e"), doctest::Contains("brunel-c"), parameter_error);
  CHECK_THROWS_WITH_AS(make_preset("cuba", 2.0), doctest::Contains("--scale"), parameter_error);
  CHECK_THROWS_WITH_AS(make_preset("brunel-scaled", 0.0), doctest::Contains("--scale"),
                       parameter_error);
}

TEST_CASE("brette-bench4: rates and CV agree with Brian2 on the same network") {
  // Brian2 2.5.1 (0.1 ms grid, same network, bench/brian2_presets.py):
  // E 11.59 Hz, I 11.56 Hz, CV 0.559 (seed 1). The figure of 9.4-9.9 Hz
  // quoted for this benchmark is not reproduced by either simulator.
  const auto a = run(make_preset("brette-bench4"), 1000);
  CHECK(a.e.rate_hz == doctest::Approx(11.6).epsilon(0.08));
  CHECK(a.i.rate_hz == doctest::Approx(11.6).epsilon(0.08));
  CHECK(a.e.cv_isi == doctest::Approx(0.56).epsilon(0.08));
}

TEST_CASE("cuba: about 5.7 Hz, CV about 0.54") {
  const auto a = run(make_preset("cuba"), 1000);
  CHECK(a.e.rate_hz == doctest::Approx(5.7).epsilon(0.1));
  CHECK(a.i.rate_hz == doctest::Approx(5.7).epsilon(0.1));
  CHECK(a.e.cv_isi == doctest::Approx(0.54).epsilon(0.1));
}

TEST_CASE("coba: rates and CV agree with Brian2, the same spikes on every run and thread count") {
  // Brian2 2.5.1 (Euler, 0.1 ms grid, same network, bench/brian2_presets.py
  // coba, seed 1): E 19.2 Hz, I 19.6 Hz, CV 1.54.
  const auto spec = make_preset("coba");
  REQUIRE(spec.populations.size() == 2);
  CHECK(spec.populations[0].model == "lif_cond_exp");
  CHECK(spec.projections[0].weight == 6.0);    // nS
  CHECK(spec.projections[2].weight == -67.0);  // nS, inhibitory
  const auto a = run(spec, 1000);
  CHECK(a.e.rate_hz == doctest::Approx(19.2).epsilon(0.1));
  CHECK(a.i.rate_hz == doctest::Approx(19.6).epsilon(0.1));
  CHECK(a.e.cv_isi == doctest::Approx(1.54).epsilon(0.1));

  const auto models = builtin();
  auto spikes = [&](unsigned threads) -> std::vector<recorded_spike> {
    auto net = build_network(spec, models);
    simulator sim(*net, {.seed = spec.seed, .threads = threads});
    spike_recorder rec(sim, {0, 1});
    sim.run(time_ms{150});
    return rec.spikes();
  };
  const auto first = spikes(1);
  REQUIRE(first.size() > 1000);
  CHECK(spikes(1) == first);
  CHECK(spikes(2) == first);
}

TEST_CASE("brunel-c: about 37 Hz, irregular, identical on two threads") {
#ifdef APICAL_SANITIZED
  MESSAGE("skipped under sanitizers: 15.6 million synapses take minutes there");
#else
  const auto spec = make_preset("brunel-c");
  const auto a = run(spec, 300, 2);
  // Reference (1 s, 0.1 ms clock-driven): 37.2 Hz, CV 0.41; the exact
  // simulation of the first 300 ms lands a few percent above.
  CHECK(a.e.rate_hz == doctest::Approx(37.2).epsilon(0.12));
  CHECK(a.i.rate_hz == doctest::Approx(37.2).epsilon(0.12));
  CHECK(a.e.cv_isi == doctest::Approx(0.41).epsilon(0.3));
#endif
}

TEST_CASE("every preset runs, briefly") {
  const auto models = builtin();
  for (const auto& p : presets()) {
    const std::string name(p.name);
#ifdef APICAL_SANITIZED
    if (name.rfind("brunel", 0) == 0 && name != "brunel-scaled") continue;
#endif
    const double scale = name == "brunel-scaled" ? 0.1 : 1.0;
    CAPTURE(name);
    auto spec = make_preset(name, scale);
    auto net = build_network(spec, models);
    simulator sim(*net, {.seed = 2});
    spike_recorder rec(sim, {0});
    sim.run(time_ms{20});
    CHECK(net->neurons() > 0);
    // Every preset's excitatory population is active within 20 ms.
    CHECK(!rec.spikes().empty());
  }
}
