// A plugin whose model takes the name of a built-in model (lif_delta), next
// to a model with a new name.
#include "apical/engine/plugin.hpp"
#include "apical/models/lif_delta.hpp"

namespace {
struct renamed_lif : apical::models::lif_delta {
  static constexpr std::string_view name = "renamed_lif";
};
}  // namespace

APICAL_PLUGIN_EXPORT std::uint32_t apical_plugin_abi_version() {
  return apical::plugin_abi_version;
}

APICAL_PLUGIN_EXPORT void apical_register_models(apical::model_registry& registry) {
  registry.add<renamed_lif>();
  registry.add<apical::models::lif_delta>();
}
