#include "apical/models/builtin.hpp"

namespace apical::models {

void register_builtin(model_registry& registry) {
  register_sources(registry);
  registry.add<lif_delta>();
  registry.add<lif_delta_injected>();
  registry.add<lif_exp>();
  registry.add<lif_exp_injected>();
  registry.add<lif_cond_exp>();
  registry.add<lif_cond_exp_injected>();
  registry.add<lif_curr_alpha>();
  registry.add<lif_cond_alpha>();
  registry.add<two_compartment>();
}

}  // namespace apical::models
