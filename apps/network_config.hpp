#pragma once
// Network descriptions in INI files, for `apical simulate`.
//
//   [simulation]
//   duration_ms = 1000
//   seed = 1
//   queue = radix                 # radix | heap | calendar
//
//   [population.E]                # one section per population, in order
//   model = lif_delta             # any registered model
//   size = 3200
//   tau_m_ms = 20                 # model parameters by name
//
//   [projection.EE]               # one section per projection
//   pre = E
//   post = E
//   rule = fixed_probability      # all_to_all | one_to_one | fixed_probability
//                                 # | fixed_indegree | fixed_outdegree
//   p = 0.02                      # fixed_probability
//   k = 100                       # fixed_indegree / fixed_outdegree
//   weight = 0.25                 # constant, or uniform in [weight, weight_max]
//   delay_ms = 0.1                # constant, or uniform in [delay_ms, delay_max_ms]
//   compartment = 0
//   autapses = false
//   multapses = false
//
//   [input.ext_E]                 # an independent Poisson train per neuron
//   target = E                    # the population driven
//   rate_hz = 20000               # per neuron
//   weight = 0.1                  # each spike's input
//   compartment = 0
//   start_ms = 0                  # spikes in [start_ms, stop_ms)
//   stop_ms = inf
//
//   [plasticity.EE]               # one section per plastic projection
//   projection = EE               # a [projection.NAME] of this file
//   rule = stdp_multiplicative    # a rule of the plasticity registry
//   a_plus = 0.01                 # the rule's parameters by name
//   a_minus = 0.01
//   w_max = 0.2
//
//   [positions.E]                 # where the neurons of E lie (for the rule
//   layout = grid                 # distance_dependent): line | grid | box
//   spacing = 1                   #   | file | points; line: (i s, 0, 0),
//   columns = 60                  #   grid: (s (i % columns), s (i / columns), 0)
//   box = 100, 100, 0             #   box: uniform in [0, x) x [0, y) x [0, z)
//   file = cells.csv              #   file: one "x, y, z" line per neuron
//   points = 0,0,0, 1,0,0, ...    #   points: x, y, z of each neuron
//
//   [projection.local]            # rule distance_dependent: each pair with
//   rule = distance_dependent     # the probability `probability` gives for
//   probability = exp(-d / 3)     # their distance d (expression.hpp)
//   period = 60, 60, 0            # optional: axes that wrap (0: not)
//
//   [short_term.EE]               # short-term plasticity of projection EE
//   U = 0.5                       # (engine/short_term.hpp: Tsodyks-Markram)
//   tau_rec_ms = 800
//   tau_facil_ms = 0
//   tau_psc_ms = 5
//   u0 = 0
//
// Every key can be overridden from the command line as section.key=value
// (e.g. population.E.tau_m_ms=10). Unknown sections and keys are errors that
// name the file and line.
#include <cstdint>
#include <istream>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/model_registry.hpp"
#include "apical/engine/network.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/learning/plasticity/plasticity.hpp"

namespace apical::app {

struct population_spec {
  std::string name;
  std::string model;
  std::size_t size = 0;
  std::vector<std::pair<std::string, double>> parameters;  // in file order
};

// Where the neurons of one population lie ([positions.POPULATION]).
struct positions_spec {
  std::string population;
  std::string layout;          // line | grid | box | file | points
  double spacing = 1.0;        // line, grid
  std::size_t columns = 0;     // grid; 0: the smallest c with c * c >= size
  std::vector<double> box;     // box: its extents x, y, z
  std::string file;            // file: CSV, one "x, y, z" line per neuron
  std::vector<double> points;  // points: x, y, z of each neuron in turn
  std::string origin;          // where its first key was set: "net.ini:12", "--set"
};

struct projection_spec {
  std::string name;
  std::string pre, post;
  std::string rule = "fixed_probability";
  double p = 0.1;
  std::size_t k = 0;
  std::string probability;     // distance_dependent: an expression of d
  std::vector<double> period;  // distance_dependent: empty, or one per axis (0: not periodic)
  double weight = 1.0;
  std::optional<double> weight_max;
  double delay_ms = 1.0;
  std::optional<double> delay_max_ms;
  int compartment = 0;
  bool autapses = false;
  bool multapses = false;
};

// A Poisson input (network::add_poisson_input): no population, no synapses.
struct input_spec {
  std::string name;
  std::string target;
  double rate_hz = 0.0;
  double weight = 0.0;
  int compartment = 0;
  double start_ms = 0.0;
  double stop_ms = std::numeric_limits<double>::infinity();
};

// A rule that makes one projection plastic. It is attached to a simulator
// (attach_plasticity), not built into the network: the same network runs
// static or plastic.
struct plasticity_spec {
  std::string name;
  std::string projection;
  std::string rule;
  learning::parameter_list parameters;  // in file order
  std::string origin;                   // where its first key was set: "net.ini:12", "--set"
};

// Short-term plasticity of one projection ([short_term.PROJECTION]; the
// engine's short_term.hpp). Applied to the built network by
// apply_short_term, before a simulator is made.
struct short_term_spec {
  std::string projection;
  short_term_parameters parameters;
  std::string origin;  // where its first key was set: "net.ini:12", "--set"
};

struct network_spec {
  double duration_ms = 1000.0;
  std::uint64_t seed = 1;
  std::string queue = "radix";
  std::vector<population_spec> populations;
  std::vector<positions_spec> positions;
  std::vector<projection_spec> projections;
  std::vector<input_spec> inputs;
  std::vector<plasticity_spec> plasticity;
  std::vector<short_term_spec> short_term;
};

// Parses INI text; `source` names the file in error messages.
network_spec parse_network_config(std::istream& in, const std::string& source);
network_spec load_network_config(const std::string& file);
// Applies one "section.key=value" override (sections created as needed).
void apply_override(network_spec& spec, const std::string& assignment);
// The resolved configuration as INI (round-trips through the parser). With
// `rules`, plasticity sections list every parameter of their rule, defaults
// included; without, the parameters given.
std::string to_ini(const network_spec& spec, const model_registry& models);
std::string to_ini(const network_spec& spec, const model_registry& models,
                   const learning::plasticity_registry& rules);

// The weight, delay and autapse options of a [projection.NAME] section
// (`same_population`: pre and post are one population).
connection_options connection_options_of(const projection_spec& p, bool same_population);

// The positions of population `population` of `size` neurons, from its
// [positions.NAME] section (a box is drawn from the stream
// derive_seed(spec.seed, stream::positions, index of the population)).
// Throws parameter_error naming the section (or saying there is none),
// file_error naming the file and line for a bad file.
std::vector<position> positions_of(const network_spec& spec, const std::string& population,
                                   std::size_t size);
// The probability (compiled) and the metric (its `period`) of a
// distance_dependent projection.
expression probability_of(const projection_spec& p);
metric_space space_of(const projection_spec& p);

// Builds the network; connectivity of projection k is drawn from the stream
// derive_seed(spec.seed, stream::connectivity, k). Process `rank` of a run
// on `ranks` processes keeps the synapses onto its own neurons
// (network::distribute).
std::unique_ptr<network> build_network(const network_spec& spec, const model_registry& models,
                                       unsigned ranks = 1, unsigned rank = 0);

// Gives the projections named by the [short_term.NAME] sections their
// short-term plasticity. Throws parameter_error naming the section for an
// invalid parameter or a projection the network does not have.
void apply_short_term(network& net, const network_spec& spec);

// Checks the [plasticity.NAME] sections without building anything: a rule of
// `rules` with its parameters (none unknown, missing or invalid), a
// projection of the spec or one of `other_projections` (added to the
// network besides the spec's, as the Python module's synapse lists), and at
// most one rule per projection. Throws parameter_error naming the section,
// the key and what was expected.
void check_plasticity(const network_spec& spec, const learning::plasticity_registry& rules,
                      std::span<const std::string> other_projections = {});

// Makes the projections named by the [plasticity.NAME] sections plastic, in
// section order (after check_plasticity, so errors name the section; the
// initial weights are checked against the rule's bounds here). `sim` must run
// the network built from `spec`; the result must not outlive it.
std::vector<std::unique_ptr<learning::plastic_projection_base>> attach_plasticity(
    simulator& sim, const network_spec& spec, const learning::plasticity_registry& rules,
    std::span<const std::string> other_projections = {});

}  // namespace apical::app
