// lif_alpha as a plugin: `apical simulate --plugin libapical_lif_alpha.so`.
#include "apical/engine/plugin.hpp"
#include "lif_alpha.hpp"

APICAL_PLUGIN_EXPORT std::uint32_t apical_plugin_abi_version() {
  return apical::plugin_abi_version;
}

APICAL_PLUGIN_EXPORT void apical_register_models(apical::model_registry& registry) {
  registry.add<apical::examples::lif_alpha>();
}
