#pragma once
// The built-in neuron models: lif_delta, lif_delta_injected, lif_exp,
// lif_exp_injected, lif_curr_alpha, lif_cond_exp, lif_cond_exp_injected,
// lif_cond_alpha, two_compartment.
#include "apical/engine/model_registry.hpp"
#include "apical/models/lif_cond_alpha.hpp"
#include "apical/models/lif_cond_exp.hpp"
#include "apical/models/lif_curr_alpha.hpp"
#include "apical/models/lif_delta.hpp"
#include "apical/models/lif_delta_injected.hpp"
#include "apical/models/lif_exp.hpp"
#include "apical/models/two_compartment.hpp"

namespace apical::models {

// Adds the built-in neuron models and the engine's spike sources.
void register_builtin(model_registry& registry);

}  // namespace apical::models
