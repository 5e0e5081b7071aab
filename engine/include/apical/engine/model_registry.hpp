#pragma once
// An explicit list of the neuron models that configs and the command line
// can name. No self-registration: a program builds its registry (one line a
// model) and passes it where models are looked up by name.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apical/engine/population.hpp"

namespace apical {

class model_registry {
 public:
  using factory = std::function<std::unique_ptr<population>(std::string name, std::size_t size)>;

  template <neuron_model M>
  void add() {
    add(std::string(M::name), [](std::string name, std::size_t size) {
      return std::unique_ptr<population>(new model_population<M>(std::move(name), size));
    });
  }
  // Throws parameter_error if the name is taken.
  void add(std::string model_name, factory make);

  bool contains(std::string_view model_name) const;
  // A population of `size` neurons of the named model with default
  // parameters; throws parameter_error listing the known models.
  std::unique_ptr<population> make(std::string_view model_name, std::string population_name,
                                   std::size_t size) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, factory, std::less<>> factories_;
};

// Adds poisson_source, gamma_source, regular_source and spike_time_source.
void register_sources(model_registry& registry);

}  // namespace apical
