#pragma once
// Network descriptions in INI files, for `apical simulate`.
//
//   [simulation]
//   duration_ms = 1000
//   seed = 1
//   queue = heap                  # heap | calendar
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
// Every key can be overridden from the command line as section.key=value
// (e.g. population.E.tau_m_ms=10). Unknown sections and keys are errors that
// name the file and line.
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/model_registry.hpp"
#include "apical/engine/network.hpp"

namespace apical::app {

struct population_spec {
  std::string name;
  std::string model;
  std::size_t size = 0;
  std::vector<std::pair<std::string, double>> parameters;  // in file order
};

struct projection_spec {
  std::string name;
  std::string pre, post;
  std::string rule = "fixed_probability";
  double p = 0.1;
  std::size_t k = 0;
  double weight = 1.0;
  std::optional<double> weight_max;
  double delay_ms = 1.0;
  std::optional<double> delay_max_ms;
  int compartment = 0;
  bool autapses = false;
  bool multapses = false;
};

struct network_spec {
  double duration_ms = 1000.0;
  std::uint64_t seed = 1;
  std::string queue = "heap";
  std::vector<population_spec> populations;
  std::vector<projection_spec> projections;
};

// Parses INI text; `source` names the file in error messages.
network_spec parse_network_config(std::istream& in, const std::string& source);
network_spec load_network_config(const std::string& file);
// Applies one "section.key=value" override (sections created as needed).
void apply_override(network_spec& spec, const std::string& assignment);
// The resolved configuration as INI (round-trips through the parser).
std::string to_ini(const network_spec& spec, const model_registry& models);

// Builds the network; connectivity of projection k is drawn from the stream
// derive_seed(spec.seed, stream::connectivity, k).
std::unique_ptr<network> build_network(const network_spec& spec, const model_registry& models);

}  // namespace apical::app
