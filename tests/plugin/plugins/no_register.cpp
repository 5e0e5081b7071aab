// A plugin that forgot apical_register_models().
#include "apical/engine/plugin.hpp"

APICAL_PLUGIN_EXPORT std::uint32_t apical_plugin_abi_version() {
  return apical::plugin_abi_version;
}
