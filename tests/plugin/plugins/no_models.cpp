// A plugin that registers nothing.
#include "apical/engine/plugin.hpp"

APICAL_PLUGIN_EXPORT std::uint32_t apical_plugin_abi_version() {
  return apical::plugin_abi_version;
}

APICAL_PLUGIN_EXPORT void apical_register_models(apical::model_registry&) {}
