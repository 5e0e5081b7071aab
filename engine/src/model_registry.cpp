#include "apical/engine/model_registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "apical/engine/error.hpp"
#include "apical/engine/sources.hpp"

namespace apical {

void model_registry::add(std::string model_name, factory make) {
  if (factories_.contains(model_name))
    throw parameter_error(
        fmt::format("model registry: model '{}' is registered twice", model_name));
  factories_.emplace(std::move(model_name), std::move(make));
}

bool model_registry::contains(std::string_view model_name) const {
  return factories_.find(model_name) != factories_.end();
}

std::unique_ptr<population> model_registry::make(std::string_view model_name,
                                                 std::string population_name,
                                                 std::size_t size) const {
  const auto it = factories_.find(model_name);
  if (it == factories_.end())
    throw parameter_error(fmt::format("unknown neuron model '{}'; known models: {}", model_name,
                                      fmt::join(names(), ", ")));
  return it->second(std::move(population_name), size);
}

std::vector<std::string> model_registry::names() const {
  std::vector<std::string> n;
  for (const auto& [name, make] : factories_) n.push_back(name);
  return n;
}

void register_sources(model_registry& registry) {
  registry.add<poisson_source>();
  registry.add<gamma_source>();
  registry.add<regular_source>();
  registry.add<spike_time_source>();
}

}  // namespace apical
