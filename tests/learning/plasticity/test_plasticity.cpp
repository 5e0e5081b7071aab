// The plastic projection: a rule defined here (the third-factor extension
// point), the registry, restarts and weights changed from outside.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/learning/plasticity/plasticity.hpp"
#include "apical/learning/plasticity/stdp.hpp"
#include "apical/models/two_compartment.hpp"

using namespace apical;
using namespace apical::learning;

namespace {

// A gated Hebbian rule of the microcircuit's kind: at each input into the
// apical compartment (a teaching spike), a basal synapse changes by
//   eta * strength * x_pre * (gate - y_post),
// x_pre the presynaptic trace, y_post the somatic spike trace.
struct gated_hebbian {
  static constexpr std::string_view name = "gated_hebbian";
  struct parameters {
    double tau_pre_ms = 10.0;
    double tau_post_ms = 30.0;
    double eta = no_default;
    double gate = 0.5;
  };
  static std::span<const rule_field<parameters>> parameter_fields() {
    static constexpr rule_field<parameters> f[] = {
        {"tau_pre_ms", &parameters::tau_pre_ms, "ms", false, "presynaptic trace"},
        {"tau_post_ms", &parameters::tau_post_ms, "ms", false, "somatic trace"},
        {"eta", &parameters::eta, "w", true, "learning rate"},
        {"gate", &parameters::gate, "1", false, "somatic target"}};
    return f;
  }
  static void validate(const parameters& p) {
    if (!std::isfinite(p.eta))
      throw parameter_error("gated_hebbian: parameter 'eta' must be finite");
  }
  static std::array<trace_spec, 1> pre_traces(const parameters& p) {
    return {{{p.tau_pre_ms, trace_kind::all_to_all}}};
  }
  static std::array<trace_spec, 1> post_traces(const parameters& p) {
    return {{{p.tau_post_ms, trace_kind::all_to_all}}};
  }
  static double on_third_factor(const parameters& p, double w, const trace_values<1>& pre,
                                const trace_values<1>& post, double strength) {
    return w + p.eta * strength * pre[0] * (p.gate - post[0]);
  }
};
static_assert(plasticity_rule<gated_hebbian>);
static_assert(!has_on_pre<gated_hebbian> && !has_on_post<gated_hebbian>);

struct logged {
  double t;
  int kind;  // 0 arrival, 1 somatic spike, 2 teaching input
  std::uint64_t synapse;
  std::uint32_t neuron;
  double strength;
};
struct history {
  std::vector<logged> events;
  void arrival(const delivery& d) { events.push_back({d.time.count(), 0, d.synapse, d.post, 0}); }
  void spike(time_ms t, std::uint32_t j) { events.push_back({t.count(), 1, 0, j, 0}); }
  void teach(const delivery& d) { events.push_back({d.time.count(), 2, 0, d.post, d.weight}); }
};

}  // namespace

TEST_CASE("a third-factor rule runs at each teaching input, as a naive reference says") {
  network net;
  auto& pre = net.add_population<poisson_source>("pre", 20, {.rate_hz = 40.0});
  auto& drive = net.add_population<poisson_source>("drive", 30, {.rate_hz = 50.0});
  auto& teacher = net.add_population<poisson_source>("teacher", 6, {.rate_hz = 15.0});
  auto& pyr = net.add_population<models::two_compartment>("pyr", 6);
  rng g(5);
  connection_options o;
  o.weight = value_spec::uniform(0.5, 1.5);
  o.delay_ms = value_spec::uniform(0.5, 2.0);
  const auto basal = net.connect("basal", pre, pyr, models::two_compartment::basal,
                                 fixed_probability(20, 6, 0.5, o, g))
                         .id();
  o.weight = value_spec::constant(2.0);
  o.delay_ms = value_spec::constant(0.5);
  net.connect(drive, pyr, models::two_compartment::basal, fixed_indegree(30, 6, 15, o, g));
  o.weight = value_spec::uniform(0.5, 1.0);
  const auto apical_id =
      net.connect("error", teacher, pyr, models::two_compartment::apical, one_to_one(6, o, g)).id();

  simulator sim(net, {.seed = 5});
  const gated_hebbian::parameters p{.eta = 0.05};
  plastic_projection<gated_hebbian> plastic(sim, basal, p);
  plastic.connect_third_factor(apical_id);
  history log;
  sim.on_delivery(basal).connect(simulator::delivery_signal::slot::bind<&history::arrival>(log));
  sim.on_spike(pyr.id()).connect(simulator::spike_signal::slot::bind<&history::spike>(log));
  sim.on_delivery(apical_id).connect(simulator::delivery_signal::slot::bind<&history::teach>(log));
  const std::vector<double> w0(plastic.weights().begin(), plastic.weights().end());
  sim.run(time_ms{2000});

  const auto& pr = net.proj(basal);
  REQUIRE(plastic.counters().third_factors > 100);
  CHECK(plastic.counters().post_spikes > 100);
  double worst = 0.0;
  for (std::uint64_t k = 0; k < pr.size(); ++k) {
    const auto j = pr.targets()[k];
    double w = w0[k];
    std::vector<double> arrivals, spikes;
    for (const auto& e : log.events) {
      if (e.kind == 0 && e.synapse == k) arrivals.push_back(e.t);
      if (e.kind == 1 && e.neuron == j) spikes.push_back(e.t);
      if (e.kind == 2 && e.neuron == j) {
        double x = 0, y = 0;
        for (const double s : arrivals) x += std::exp(-(e.t - s) / p.tau_pre_ms);
        for (const double s : spikes) y += std::exp(-(e.t - s) / p.tau_post_ms);
        w += p.eta * e.strength * x * (p.gate - y);
      }
    }
    worst = std::max(worst, std::abs(plastic.weight(k) - w) / std::max(1.0, std::abs(w)));
  }
  CHECK(worst < 1e-9);

  // The teaching projection must target the same population.
  CHECK_THROWS_WITH_AS(plastic.connect_third_factor(7), doctest::Contains("out of range"),
                       parameter_error);
  network other;
  auto& a = other.add_population<poisson_source>("a", 2);
  auto& b = other.add_population<poisson_source>("b", 2);
  auto& c = other.add_population<poisson_source>("c", 2);
  other.connect(a, b, 0, {{0, 0, 0.5f, 1.0}});
  other.connect(a, c, 0, {{0, 0, 0.5f, 1.0}});
  simulator sim2(other);
  plastic_projection<gated_hebbian> p2(sim2, 0, p);
  CHECK_THROWS_WITH_AS(p2.connect_third_factor(1),
                       doctest::Contains("targets population 'c'; expected 'b'"), parameter_error);
  auto stdp =
      make_plasticity(sim2, 0, "stdp_additive", {{"a_plus", 0.1}, {"a_minus", 0.1}, {"w_max", 1}});
  CHECK_THROWS_WITH_AS(stdp->connect_third_factor(0), doctest::Contains("no on_third_factor"),
                       parameter_error);
}

TEST_CASE("a registry lists its rules and makes user rules by name") {
  plasticity_registry registry;
  register_stdp(registry);
  registry.add<gated_hebbian>("test rule");
  CHECK(registry.contains("gated_hebbian"));
  CHECK(registry.rules().size() == 7);
  CHECK_THROWS_WITH_AS(registry.add<gated_hebbian>("again"),
                       doctest::Contains("'gated_hebbian' is registered twice"), parameter_error);
  const auto& additive = registry.rules().front();
  CHECK(additive.name == "stdp_additive");
  REQUIRE(additive.parameters.size() == 6);
  CHECK(additive.parameters[0].name == "tau_plus_ms");
  CHECK(additive.parameters[0].default_value == 20.0);
  CHECK(!additive.parameters[0].required);
  CHECK(additive.parameters[2].required);
  CHECK(std::isnan(additive.parameters[2].default_value));

  CHECK_NOTHROW(registry.validate("gated_hebbian", {{"eta", 0.1}}));
  CHECK_THROWS_WITH_AS(registry.validate("gated_hebbian", {}),
                       doctest::Contains("missing parameter 'eta' (learning rate, unit w)"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(registry.validate("stdp_triplet", {{"a2_plus", 1}}),
                       doctest::Contains("missing parameter 'a3_plus'"), parameter_error);

  network net;
  auto& a = net.add_population<poisson_source>("a", 2);
  net.connect(a, a, 0, {{0, 1, 0.5f, 1.0}});
  simulator sim(net);
  auto made = registry.make(sim, 0, "gated_hebbian", {{"eta", 0.2}, {"gate", 0.1}});
  CHECK(made->rule_name() == "gated_hebbian");
  const auto params = made->parameters();
  REQUIRE(params.size() == 4);
  CHECK(params[2] == std::pair<std::string, double>{"eta", 0.2});
  CHECK(params[3] == std::pair<std::string, double>{"gate", 0.1});
}

namespace {
struct restart_setup {
  network net;
  std::size_t id;
  restart_setup() {
    auto& pre = net.add_population<poisson_source>("pre", 10, {.rate_hz = 50.0});
    auto& post = net.add_population<poisson_source>("post", 5, {.rate_hz = 30.0});
    rng g(2);
    connection_options o;
    o.weight = value_spec::uniform(0.5, 1.0);
    id = net.connect(pre, post, 0, all_to_all(10, 5, o, g)).id();
  }
};
const parameter_list stdp_params{{"a_plus", 0.01}, {"a_minus", 0.012}, {"w_max", 2.0}};
}  // namespace

TEST_CASE("after simulator::reset, traces restart and a trial repeats exactly") {
  restart_setup fresh;
  simulator sim_a(fresh.net, {.seed = 4});
  auto a = make_plasticity(sim_a, fresh.id, "stdp_additive", stdp_params);
  sim_a.run(time_ms{500});
  const std::vector<double> once(a->weights().begin(), a->weights().end());

  for (const bool explicit_reset : {true, false}) {
    CAPTURE(explicit_reset);
    restart_setup s;
    simulator sim(s.net, {.seed = 4});
    auto plastic = make_plasticity(sim, s.id, "stdp_additive", stdp_params);
    const auto w = s.net.proj(s.id).weights();
    const std::vector<float> initial(w.begin(), w.end());
    sim.run(time_ms{700});
    // A second trial from the initial weights: the same as the first run.
    sim.reset();
    std::copy(initial.begin(), initial.end(), w.begin());
    plastic->reload_weights();
    if (explicit_reset) plastic->reset_traces();
    sim.run(time_ms{500});
    CHECK(std::memcmp(plastic->weights().data(), once.data(), once.size() * sizeof(double)) == 0);
  }
}

TEST_CASE("a weight changed from outside is picked up at its next update") {
  auto pre_times = std::make_shared<spike_raster>();
  auto post_times = std::make_shared<spike_raster>();
  const double t_pre[] = {10.0}, t_post[] = {21.0};
  pre_times->add_channel(t_pre);
  post_times->add_channel(t_post);
  network net;
  auto& pre = net.add_population<spike_time_source>("pre", 1, {pre_times});
  auto& post = net.add_population<spike_time_source>("post", 1, {post_times});
  net.connect(pre, post, 0, {{0, 0, 0.5f, 1.0}});
  simulator sim(net);
  auto plastic = make_plasticity(sim, 0, "stdp_additive",
                                 {{"a_plus", 0.25}, {"a_minus", 0.1}, {"w_max", 2.0}});
  sim.run(time_ms{15});
  net.proj(0).weights()[0] = 1.25f;  // a trainer, between the spikes
  sim.run(time_ms{15});
  CHECK(plastic->weight(0) == doctest::Approx(1.25 + 0.25 * std::exp(-10.0 / 20.0)).epsilon(1e-14));
  CHECK(net.proj(0).weights()[0] == static_cast<float>(plastic->weight(0)));
}
