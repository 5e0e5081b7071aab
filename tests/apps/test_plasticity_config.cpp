// [plasticity.NAME] sections: parsing, validation against the rule registry,
// a plastic run built from a configuration, and `apical simulate
// --no-plasticity` running exactly the static network.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/learning/plasticity/stdp.hpp"
#include "apical/models/builtin.hpp"
#include "commands.hpp"
#include "network_config.hpp"
#include "presets.hpp"

using namespace apical;
using namespace apical::app;

namespace {

network_spec parse(const std::string& text) {
  std::istringstream in(text);
  return parse_network_config(in, "net.ini");
}
model_registry builtin_models() {
  model_registry r;
  models::register_builtin(r);
  return r;
}
learning::plasticity_registry stdp_rules() {
  learning::plasticity_registry r;
  learning::register_stdp(r);
  return r;
}

// A small Brunel-type network (160 E, 40 I, in-degrees 40 and 10, a Poisson
// drive of twice the threshold's mean input) whose E->E synapses follow additive
// STDP with amplitudes large enough to move weights within 300 ms.
const char* small_static = R"([simulation]
duration_ms = 300
seed = 7

[population.E]
model = lif_delta
size = 160
e_l_mv = 0
v_th_mv = 20
v_reset_mv = 10
v_init_min_mv = 10
v_init_max_mv = 20

[population.I]
model = lif_delta
size = 40
e_l_mv = 0
v_th_mv = 20
v_reset_mv = 10
v_init_min_mv = 10
v_init_max_mv = 20

[population.ext]
model = poisson_source
size = 200
rate_hz = 2000

[projection.EE]
pre = E
post = E
rule = fixed_indegree
k = 40
weight = 0.5
delay_ms = 1.5

[projection.EI]
pre = E
post = I
rule = fixed_indegree
k = 40
weight = 0.5
delay_ms = 1.5

[projection.IE]
pre = I
post = E
rule = fixed_indegree
k = 10
weight = -2.5
delay_ms = 1.5

[projection.II]
pre = I
post = I
rule = fixed_indegree
k = 10
weight = -2.5
delay_ms = 1.5

[projection.extE]
pre = ext
post = E
rule = fixed_indegree
k = 1
weight = 1
delay_ms = 0.5

[projection.extI]
pre = ext
post = I
rule = fixed_indegree
k = 1
weight = 1
delay_ms = 0.5
)";

const char* stdp_section = R"(
[plasticity.stdp]
projection = EE
rule = stdp_additive
tau_plus_ms = 16.8
a_plus = 0.02
a_minus = 0.021
w_max = 1
)";

std::string small_plastic() {
  return std::string(small_static) + stdp_section;
}

// "net.ini:N" for the line of small_plastic() on which `text` starts.
std::string where(const std::string& text) {
  const auto all = small_plastic();
  const auto at = all.find(text);
  REQUIRE(at != std::string::npos);
  return "net.ini:" +
         std::to_string(
             1 + std::count(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `apical simulate` in-process; returns the output directory.
std::filesystem::path simulate(const std::filesystem::path& dir, const std::string& config,
                               const std::string& tag, std::vector<std::string> extra = {}) {
  const auto ini = dir / (tag + ".ini");
  std::ofstream(ini) << config;
  const auto out = dir / tag;
  std::vector<std::string> args = {"simulate",   "--config",   ini.string(), "--output",
                                   out.string(), "--duration", "150"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  REQUIRE(run_simulate(static_cast<int>(argv.size()), argv.data()) == 0);
  return out;
}

}  // namespace

TEST_CASE("plasticity sections parse, take overrides, print and check") {
  const auto rules = stdp_rules();
  const auto models = builtin_models();
  auto spec = parse(small_plastic());
  REQUIRE(spec.plasticity.size() == 1);
  const auto& p = spec.plasticity[0];
  CHECK(p.name == "stdp");
  CHECK(p.projection == "EE");
  CHECK(p.rule == "stdp_additive");
  // A section is located by its first key.
  CHECK(p.origin == where("projection = EE\nrule = stdp_additive"));
  REQUIRE(p.parameters.size() == 4);
  CHECK(p.parameters[0] == std::pair<std::string, double>{"tau_plus_ms", 16.8});
  check_plasticity(spec, rules);

  apply_override(spec, "plasticity.stdp.a_plus=0.03");
  apply_override(spec, "plasticity.stdp.w_min=0.1");
  CHECK(spec.plasticity[0].parameters[1].second == 0.03);
  CHECK(spec.plasticity[0].parameters.back() == std::pair<std::string, double>{"w_min", 0.1});
  check_plasticity(spec, rules);

  // Resolved: every parameter of the rule, in its table's order, defaults
  // included; the text parses back to the same sections.
  const auto ini = to_ini(spec, models, rules);
  CHECK(ini.find("[plasticity.stdp]\nprojection = EE\nrule = stdp_additive\ntau_plus_ms = 16.8\n"
                 "tau_minus_ms = 20\na_plus = 0.03\na_minus = 0.021\nw_min = 0.1\nw_max = 1\n") !=
        std::string::npos);
  const auto again = parse(ini);
  REQUIRE(again.plasticity.size() == 1);
  CHECK(again.plasticity[0].parameters.size() == 6);
  check_plasticity(again, rules);
  // Without the registry: the parameters as given.
  CHECK(to_ini(spec, models).find("a_plus = 0.03\na_minus = 0.021\nw_max = 1\nw_min = 0.1\n") !=
        std::string::npos);

  // A section made from the command line alone.
  auto cli = parse(small_static);
  for (const auto* o :
       {"plasticity.x.projection=EI", "plasticity.x.rule=stdp_multiplicative",
        "plasticity.x.a_plus=0.01", "plasticity.x.a_minus=0.01", "plasticity.x.w_max=1"})
    apply_override(cli, o);
  REQUIRE(cli.plasticity.size() == 1);
  CHECK(cli.plasticity[0].origin == "--set");
  check_plasticity(cli, rules);
}

TEST_CASE("every plasticity error names the section and the key") {
  const auto rules = stdp_rules();
  const auto fails = [&rules](const std::string& text, std::vector<std::string> overrides,
                              std::vector<std::string> expected) {
    CAPTURE(text);
    auto spec = parse(text);
    for (const auto& o : overrides) apply_override(spec, o);
    std::string message;
    try {
      check_plasticity(spec, rules);
    } catch (const parameter_error& e) {
      message = e.what();
    }
    CAPTURE(message);
    REQUIRE(!message.empty());
    for (const auto& part : expected) CHECK(message.find(part) != std::string::npos);
  };
  const std::string section =
      where("projection = EE\nrule = stdp_additive") + ": [plasticity.stdp]";
  const auto plastic = small_plastic();
  fails(plastic, {"plasticity.stdp.rule=stdp_addtive"},
        {section, "rule", "'stdp_addtive'", "stdp_additive, stdp_additive_nearest"});
  fails(plastic, {"plasticity.stdp.rule="}, {section, "'rule' is missing", "stdp_triplet"});
  fails(plastic, {"plasticity.stdp.tau_plus=3"},
        {section, "unknown parameter 'tau_plus'", "tau_plus_ms"});
  fails(std::string(small_static) + "[plasticity.stdp]\nprojection = EE\nrule = stdp_additive\n",
        {"plasticity.stdp.a_plus=0.1", "plasticity.stdp.w_max=1"},
        {"[plasticity.stdp]", "missing parameter 'a_minus'"});
  fails(plastic, {"plasticity.stdp.tau_minus_ms=-3"}, {section, "'tau_minus_ms'", "> 0", "-3"});
  fails(plastic, {"plasticity.stdp.a_plus=nan"}, {section, "'a_plus'", "finite"});
  fails(plastic, {"plasticity.stdp.w_min=1"}, {section, "'w_max'", "> w_min"});
  fails(plastic, {"plasticity.stdp.projection=XY"},
        {section, "projection", "no [projection.XY]", "EE, EI, IE, II, extE, extI"});
  fails(plastic, {"plasticity.stdp.projection="}, {section, "'projection' is missing"});
  fails(plastic + "\n[plasticity.again]\nprojection = EE\n", {},
        {"[plasticity.again]", "'EE' is already plastic under [plasticity.stdp]"});

  // Syntax errors name the file and line, as for every section.
  const std::string bad_line =
      "net.ini:" + std::to_string(std::count(plastic.begin(), plastic.end(), '\n') + 1) +
      ": [plasticity.stdp] a_minus";
  CHECK_THROWS_WITH_AS(parse(plastic + "a_minus = lots\n"), doctest::Contains(bad_line.c_str()),
                       parameter_error);
  CHECK_THROWS_WITH_AS(parse("[plasticity]\nrule = stdp_additive\n"),
                       doctest::Contains("[plasticity.NAME]"), parameter_error);

  // Initial weights outside the rule's bounds: found when attached.
  auto spec = parse(plastic);
  apply_override(spec, "plasticity.stdp.w_max=0.4");
  check_plasticity(spec, rules);
  const auto models = builtin_models();
  auto net = build_network(spec, models);
  simulator sim(*net, {.seed = spec.seed});
  CHECK_THROWS_WITH_AS(attach_plasticity(sim, spec, rules),
                       doctest::Contains("[plasticity.stdp]: stdp_additive on projection 'EE'"),
                       parameter_error);
}

TEST_CASE("a plastic network from a configuration changes its weights within bounds") {
  const auto rules = stdp_rules();
  const auto models = builtin_models();
  const auto spec = parse(small_plastic());
  auto net = build_network(spec, models);
  simulator sim(*net, {.seed = spec.seed});
  spike_recorder spikes(sim, {0, 1});
  const auto plastic = attach_plasticity(sim, spec, rules);
  REQUIRE(plastic.size() == 1);
  const auto& ee = *plastic[0];
  CHECK(ee.proj().name() == "EE");
  CHECK(ee.rule_name() == "stdp_additive");
  const std::vector<double> before(ee.weights().begin(), ee.weights().end());
  sim.run(time_ms{300});

  const auto c = ee.counters();
  CHECK(c.arrivals > 10'000);
  CHECK(c.post_spikes > 100);
  CHECK(c.updates == c.arrivals + c.post_spikes * 40);
  const auto w = ee.weights();
  std::size_t changed = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    REQUIRE(w[k] >= 0.0);
    REQUIRE(w[k] <= 1.0);
    // What the neurons receive is the float rounding of the rule's weight.
    REQUIRE(net->proj(0).weights()[k] == static_cast<float>(w[k]));
    changed += w[k] != before[k] ? 1U : 0U;
  }
  CHECK(changed > w.size() * 9 / 10);
  const auto [lo, hi] = std::minmax_element(w.begin(), w.end());
  MESSAGE("E->E weights after 300 ms: [" << *lo << ", " << *hi << "], " << spikes.spikes().size()
                                         << " spikes");
  CHECK(*hi - *lo > 0.05);
}

TEST_CASE("apical simulate: --no-plasticity runs the static network, spike for spike") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("apical_test_plasticity_config_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto plastic = simulate(dir, small_plastic(), "plastic", {"--record-weights", "50"});
  const auto off = simulate(dir, small_plastic(), "off", {"--no-plasticity"});
  const auto fixed = simulate(dir, small_static, "static");
  const auto two_threads =
      simulate(dir, small_plastic(), "threads",
               {"--record-weights", "50", "--threads", "2", "--force-threads"});

  CHECK(read_file(off / "spikes.csv") == read_file(fixed / "spikes.csv"));
  CHECK(read_file(plastic / "spikes.csv") != read_file(fixed / "spikes.csv"));
  CHECK(read_file(two_threads / "spikes.csv") == read_file(plastic / "spikes.csv"));
  CHECK(read_file(two_threads / "weights.csv") == read_file(plastic / "weights.csv"));
  CHECK(read_file(two_threads / "summary.json").find("\"threads\": 2") != std::string::npos);

  const auto summary = read_file(plastic / "summary.json");
  for (const auto* key :
       {"\"plasticity_enabled\": true", "\"plasticity\": {", "\"stdp\": {",
        "\"projection\": \"EE\"", "\"rule\": \"stdp_additive\"", "\"plastic_synaptic_events\"",
        "\"updates\"", "\"weight_mean\"", "\"weight_min\"", "\"weight_max\"", "\"events_per_s\""})
    CHECK_MESSAGE(summary.find(key) != std::string::npos, key);
  const auto summary_off = read_file(off / "summary.json");
  CHECK(summary_off.find("\"plasticity_enabled\": false") != std::string::npos);
  CHECK(summary_off.find("\"plasticity\": {}") != std::string::npos);

  // 1000 sampled synapses at most (EE has 6400), at 0, 50, 100, 150 ms.
  const auto csv = read_file(plastic / "weights.csv");
  CHECK(csv.rfind("time_ms,projection,synapse,pre,post,weight\n0,EE,0,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 4 * 1000);
  CHECK(csv.find("\n150,EE,") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("stdp-balanced: brunel-c's neurons at 4000 E / 1000 I, STDP on E->E") {
  const auto spec = make_preset("stdp-balanced");
  const auto brunel = make_preset("brunel-c");
  REQUIRE(spec.populations.size() == 2);
  CHECK(spec.populations[0].size == 4000);
  CHECK(spec.populations[1].size == 1000);
  CHECK(spec.populations[0].parameters == brunel.populations[0].parameters);
  // The drive: brunel-c's Poisson inputs, per neuron.
  REQUIRE(spec.inputs.size() == 2);
  CHECK(spec.inputs[0].rate_hz == brunel.inputs[0].rate_hz);
  CHECK(spec.inputs[0].weight == brunel.inputs[0].weight);
  REQUIRE(spec.projections.size() == brunel.projections.size());
  for (std::size_t k = 0; k < spec.projections.size(); ++k) {
    CHECK(spec.projections[k].k == brunel.projections[k].k);
    CHECK(spec.projections[k].weight == brunel.projections[k].weight);
    CHECK(spec.projections[k].delay_ms == brunel.projections[k].delay_ms);
  }
  REQUIRE(spec.plasticity.size() == 1);
  CHECK(spec.plasticity[0].projection == "EE");
  CHECK(spec.plasticity[0].rule == "stdp_multiplicative");
  check_plasticity(spec, stdp_rules());
  // w_max = 2 J and a_minus a little below a_plus: the mean weight stays at
  // J in this network (docs/presets.md).
  const auto& params = spec.plasticity[0].parameters;
  const auto value = [&params](const std::string& name) {
    for (const auto& [n, v] : params)
      if (n == name) return v;
    FAIL("no parameter ", name);
    return 0.0;
  };
  CHECK(value("a_minus") == doctest::Approx(0.925 * value("a_plus")));
  CHECK(value("w_max") == doctest::Approx(2 * spec.projections[0].weight));
}
