#include <sstream>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"
#include "apical/models/builtin.hpp"
#include "network_config.hpp"

using namespace apical;
using namespace apical::app;

namespace {
network_spec parse(const std::string& text) {
  std::istringstream in(text);
  return parse_network_config(in, "net.ini");
}
model_registry builtin() {
  model_registry r;
  models::register_builtin(r);
  return r;
}
const char* small = R"(
# a comment
[simulation]
duration_ms = 50
seed = 3

[population.E]
model = lif_delta
size = 100
v_th_mv = -50   ; trailing comment
e_l_mv = -49
v_reset_mv = -60

[population.drive]
model = poisson_source
size = 100
rate_hz = 500

[projection.EE]
pre = E
post = E
rule = fixed_probability
p = 0.1
weight = 0.5
delay_ms = 1

[projection.drive]
pre = drive
post = E
rule = one_to_one
weight = 2
delay_ms = 0.5
)";
}  // namespace

TEST_CASE("a configuration parses, overrides apply, and the network builds") {
  auto spec = parse(small);
  CHECK(spec.duration_ms == 50);
  CHECK(spec.seed == 3);
  REQUIRE(spec.populations.size() == 2);
  CHECK(spec.populations[0].parameters.size() == 3);
  apply_override(spec, "population.E.v_th_mv=-51");
  apply_override(spec, "projection.EE.p = 0.2");
  CHECK(spec.populations[0].parameters[0].second == -51);
  CHECK(spec.projections[0].p == 0.2);
  const auto models = builtin();
  auto net = build_network(spec, models);
  CHECK(net->neurons() == 200);
  CHECK(net->pop("E").parameter("v_th_mv") == -51);
  CHECK(net->proj(1).size() == 100);
  // The resolved configuration round-trips and lists every model parameter.
  const auto ini = to_ini(spec, models);
  CHECK(ini.find("tau_m_ms = 20") != std::string::npos);
  auto again = parse(ini);
  auto net2 = build_network(again, models);
  CHECK(net2->synapses() == net->synapses());
}

TEST_CASE("configuration errors name the file, line and key") {
  CHECK_THROWS_WITH_AS(parse("[simulation]\nduration_ms = abc\n"), doctest::Contains("net.ini:2"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(parse("[simulation]\nspeed = 1\n"), doctest::Contains("speed"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(parse("[neurons.E]\nsize = 1\n"), doctest::Contains("[neurons.E]"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(parse("size = 1\n"), doctest::Contains("outside"), parameter_error);
  CHECK_THROWS_WITH_AS(parse("[population.E\n"), doctest::Contains("']'"), parameter_error);
  CHECK_THROWS_WITH_AS(parse("[projection.P]\nweight\n"), doctest::Contains("key = value"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(parse("[projection.P]\nautapses = maybe\n"),
                       doctest::Contains("true or false"), parameter_error);
  CHECK_THROWS_WITH_AS(parse("[simulation]\nqueue = fifo\n"), doctest::Contains("fifo"),
                       parameter_error);
  network_spec spec;
  CHECK_THROWS_WITH_AS(apply_override(spec, "tau=1"), doctest::Contains("section.key=value"),
                       parameter_error);
}

TEST_CASE("impossible networks are rejected with the section at fault") {
  const auto models = builtin();
  auto spec = parse(small);
  apply_override(spec, "population.E.tau_m_ms=0");
  CHECK_THROWS_WITH_AS(build_network(spec, models), doctest::Contains("[population.E]"),
                       parameter_error);
  spec = parse(small);
  apply_override(spec, "population.E.model=hodgkin");
  CHECK_THROWS_WITH_AS(build_network(spec, models), doctest::Contains("hodgkin"), parameter_error);
  spec = parse(small);
  apply_override(spec, "population.E.tau=3");
  CHECK_THROWS_WITH_AS(build_network(spec, models), doctest::Contains("'tau'"), parameter_error);
  spec = parse(small);
  apply_override(spec, "projection.EE.post=X");
  CHECK_THROWS_WITH_AS(build_network(spec, models), doctest::Contains("[projection.EE]"),
                       parameter_error);
  spec = parse(small);
  apply_override(spec, "projection.EE.delay_ms=-1");
  CHECK_THROWS_WITH_AS(build_network(spec, models), doctest::Contains("delay_ms"), parameter_error);
  spec = parse(small);
  apply_override(spec, "projection.EE.rule=small_world");
  CHECK_THROWS_WITH_AS(build_network(spec, models), doctest::Contains("small_world"),
                       parameter_error);
  spec = parse(small);
  apply_override(spec, "projection.EE.compartment=1");
  CHECK_THROWS_WITH_AS(build_network(spec, models), doctest::Contains("compartment 1"),
                       parameter_error);
  spec = parse(small);
  apply_override(spec, "population.F.size=3");
  CHECK_THROWS_WITH_AS(build_network(spec, models), doctest::Contains("'model' is missing"),
                       parameter_error);
}

TEST_CASE("[short_term.PROJECTION] sections give a projection short-term plasticity") {
  const auto models = builtin();
  auto spec = parse(std::string(small) +
                    "\n[short_term.EE]\nU = 0.2\ntau_rec_ms = 800\ntau_psc_ms = 3\n");
  apply_override(spec, "short_term.EE.tau_facil_ms=50");
  REQUIRE(spec.short_term.size() == 1);
  CHECK(spec.short_term[0].origin == "net.ini:35");  // its first key
  auto net = build_network(spec, models);
  apply_short_term(*net, spec);
  REQUIRE(net->proj(0).short_term());
  CHECK(*net->proj(0).short_term() ==
        short_term_parameters{
            .U = 0.2, .tau_rec_ms = 800, .tau_facil_ms = 50, .tau_psc_ms = 3, .u0 = 0});
  CHECK_FALSE(net->proj(1).short_term());
  // Round trip.
  auto again = parse(to_ini(spec, models));
  REQUIRE(again.short_term.size() == 1);
  CHECK(again.short_term[0].parameters == spec.short_term[0].parameters);
  // Errors name the section and the field.
  CHECK_THROWS_WITH_AS(parse("[short_term.EE]\ntau = 1\n"),
                       doctest::Contains("unknown short-term plasticity parameter 'tau'"),
                       parameter_error);
  apply_override(spec, "short_term.EE.U=0");
  auto net2 = build_network(spec, models);
  CHECK_THROWS_WITH_AS(apply_short_term(*net2, spec),
                       doctest::Contains("[short_term.EE]: short-term plasticity parameter 'U'"),
                       parameter_error);
  spec = parse(std::string(small) + "\n[short_term.EI]\nU = 0.2\n");
  auto net3 = build_network(spec, models);
  CHECK_THROWS_WITH_AS(apply_short_term(*net3, spec),
                       doctest::Contains("the network has no projection 'EI'"), parameter_error);
}
