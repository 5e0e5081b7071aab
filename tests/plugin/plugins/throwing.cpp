// A plugin whose registration throws (here: it adds one model twice).
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
  registry.add<renamed_lif>();
}
