#include <filesystem>
#include <fstream>
#include <set>
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

namespace {

const char* spatial = R"(
[simulation]
seed = 4

[population.E]
model = lif_delta
size = 64

[population.I]
model = lif_delta
size = 16

[positions.E]
layout = grid
spacing = 1

[positions.I]
layout = grid
spacing = 2
columns = 4

[projection.EE]
pre = E
post = E
rule = distance_dependent
probability = d < 1.5
weight = 0.5

[projection.EI]
pre = E
post = I
rule = distance_dependent
probability = (d <= 2) * 0.5
period = 8, 8, 0
weight = 0.25
)";

// The (pre, post) pairs of projection `name` of a built network.
std::set<std::pair<std::uint32_t, std::uint32_t>> pairs_of(const network& net,
                                                           const std::string& name) {
  std::set<std::pair<std::uint32_t, std::uint32_t>> out;
  for (std::size_t k = 0; k < net.projection_count(); ++k) {
    const auto& p = net.proj(k);
    if (p.name() != name) continue;
    const auto targets = p.targets();
    for (std::uint64_t s = 0; s < targets.size(); ++s) out.insert({p.pre_of(s), targets[s]});
  }
  return out;
}

}  // namespace

TEST_CASE("[positions.POPULATION] layouts, and their errors") {
  auto spec = parse(spatial);
  const auto e = positions_of(spec, "E", 64);
  CHECK(e[9] == position{1, 1, 0});  // grid of 8 columns (8 * 8 >= 64)
  const auto i = positions_of(spec, "I", 16);
  CHECK(i[6] == position{4, 2, 0});  // 4 columns, spacing 2
  apply_override(spec, "positions.E.layout=line");
  apply_override(spec, "positions.E.spacing=0.5");
  CHECK(positions_of(spec, "E", 64)[9] == position{4.5, 0, 0});
  apply_override(spec, "positions.E.layout=box");
  apply_override(spec, "positions.E.box=10, 20, 0");
  const auto box = positions_of(spec, "E", 64);
  CHECK(box == positions_of(spec, "E", 64));  // drawn from the seed
  for (const auto& x : box) CHECK((x[0] >= 0 && x[0] < 10 && x[1] >= 0 && x[1] < 20 && x[2] == 0));
  apply_override(spec, "positions.E.layout=points");
  apply_override(spec, "positions.E.points=1,2,3, 4,5,6");
  CHECK_THROWS_WITH_AS(positions_of(spec, "E", 64),
                       doctest::Contains("[positions.E] points: expected x, y, z for each of the "
                                         "64 neurons (192 numbers), got 6"),
                       parameter_error);
  CHECK(positions_of(spec, "E", 2)[1] == position{4, 5, 6});
  apply_override(spec, "positions.E.layout=hexagonal");
  CHECK_THROWS_WITH_AS(positions_of(spec, "E", 2),
                       doctest::Contains("layout: expected line, grid, box, file or points, got "
                                         "'hexagonal'"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(positions_of(spec, "X", 2),
                       "population 'X' has no positions; give them in a [positions.X] section",
                       parameter_error);
}

TEST_CASE("[positions] from a file, relative to the configuration's folder") {
  const auto dir = std::filesystem::temp_directory_path() / "apical_positions_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "cells.csv");
    f << "# x, y, z\n0, 0, 0\n1.5, 2, 0\n\n3, 4, 5\n";
  }
  std::istringstream in("[positions.E]\nlayout = file\nfile = cells.csv\n");
  auto spec = parse_network_config(in, (dir / "net.ini").string());
  spec.populations.push_back({"E", "lif_delta", 3, {}});
  const auto p = positions_of(spec, "E", 3);
  CHECK(p[1] == position{1.5, 2, 0});
  CHECK(p[2] == position{3, 4, 5});
  CHECK_THROWS_WITH_AS(positions_of(spec, "E", 4),
                       doctest::Contains("cells.csv: 3 positions for the 4 neurons"), file_error);
  {
    std::ofstream f(dir / "cells.csv");
    f << "0, 0\n";
  }
  CHECK_THROWS_WITH_AS(positions_of(spec, "E", 1),
                       doctest::Contains("cells.csv:1: expected x, y, z (3 numbers), got 2"),
                       file_error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("rule distance_dependent builds the pairs of the distances, and round-trips") {
  const auto models = builtin();
  const auto spec = parse(spatial);
  const auto net = build_network(spec, models);
  const auto e = positions_of(spec, "E", 64);
  const auto in = positions_of(spec, "I", 16);
  std::set<std::pair<std::uint32_t, std::uint32_t>> want;
  for (std::uint32_t a = 0; a < 64; ++a)
    for (std::uint32_t b = 0; b < 64; ++b)
      if (a != b && metric_space{}.distance(e[a], e[b]) < 1.5) want.insert({a, b});
  CHECK(pairs_of(*net, "EE") == want);
  // Periodic: E's grid wraps at 8 along x and y; only pairs within 2 are drawn.
  metric_space torus;
  torus.period = {8.0, 8.0, std::nullopt};
  const auto ei = pairs_of(*net, "EI");
  CHECK(!ei.empty());
  for (const auto& [a, b] : ei) CHECK(torus.distance(e[a], in[b]) <= 2);
  // The text round-trips: the same network again.
  const auto again = parse(to_ini(spec, models));
  REQUIRE(again.positions.size() == 2);
  CHECK(again.projections[1].period == std::vector<double>{8, 8, 0});
  const auto rebuilt = build_network(again, models);
  CHECK(pairs_of(*rebuilt, "EI") == ei);
  // Two processes draw the synapses onto their own halves: together, the same.
  auto first = pairs_of(*build_network(spec, models, 2, 0), "EI");
  const auto second = pairs_of(*build_network(spec, models, 2, 1), "EI");
  first.insert(second.begin(), second.end());
  CHECK(first == ei);
}

TEST_CASE("rule distance_dependent: errors name the projection") {
  const auto models = builtin();
  auto spec = parse(spatial);
  apply_override(spec, "projection.EE.probability=exp(-x)");
  CHECK_THROWS_WITH_AS(build_network(spec, models),
                       doctest::Contains("[projection.EE]: expression 'exp(-x)': column 6: "
                                         "unknown name 'x'"),
                       parameter_error);
  apply_override(spec, "projection.EE.probability=");
  CHECK_THROWS_WITH_AS(build_network(spec, models),
                       doctest::Contains("[projection.EE]: 'probability' is missing"),
                       parameter_error);
  spec = parse(spatial);
  apply_override(spec, "projection.EI.period=8, 8");
  CHECK_THROWS_WITH_AS(build_network(spec, models),
                       doctest::Contains("[projection.EI]: period: expected one length per axis"),
                       parameter_error);
  spec = parse(spatial);
  spec.positions.pop_back();
  CHECK_THROWS_WITH_AS(build_network(spec, models),
                       "[projection.EI]: population 'I' has no positions; give them in a "
                       "[positions.I] section",
                       parameter_error);
  apply_override(spec, "positions.J.layout=line");
  CHECK_THROWS_WITH_AS(build_network(spec, models),
                       doctest::Contains("[positions.J]: no population named 'J'"),
                       parameter_error);
}
