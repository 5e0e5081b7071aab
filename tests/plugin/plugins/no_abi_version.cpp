// A plugin that forgot apical_plugin_abi_version().
#include "apical/engine/plugin.hpp"
#include "apical/models/lif_delta.hpp"

namespace {
struct renamed_lif : apical::models::lif_delta {
  static constexpr std::string_view name = "renamed_lif";
};
}  // namespace

APICAL_PLUGIN_EXPORT void apical_register_models(apical::model_registry& registry) {
  registry.add<renamed_lif>();
}
