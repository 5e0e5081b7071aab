#pragma once
// Neuron models loaded at run time from shared libraries (plugins).
//
// A plugin is a shared library that defines neuron models (any type that
// satisfies the neuron_model concept, neuron_model.hpp) and exports exactly
// two functions with C linkage, declared at the end of this header:
//
//   std::uint32_t apical_plugin_abi_version();
//       returns apical::plugin_abi_version as the plugin saw it when it was
//       compiled; a loader refuses a plugin whose value differs from its own.
//   void apical_register_models(apical::model_registry& registry);
//       adds the plugin's models, one line a model: registry.add<my_model>().
//
// A minimal plugin (docs/custom-models.md walks through a complete one):
//
//   #include "apical/engine/plugin.hpp"
//   #include "my_model.hpp"
//
//   APICAL_PLUGIN_EXPORT std::uint32_t apical_plugin_abi_version() {
//     return apical::plugin_abi_version;
//   }
//   APICAL_PLUGIN_EXPORT void apical_register_models(apical::model_registry& registry) {
//     registry.add<my_model>();
//   }
//
// Lifetime: the code of a plugin's models lives in the library, so the
// library must stay loaded while any population of those models exists.
// A plugin_library keeps it loaded, and so does every model_registry its
// models were registered into (each registered factory shares ownership of
// the library). Destroy populations (networks) before both: declare the
// plugin_library and the registry before the network.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "apical/engine/model_registry.hpp"

namespace apical {

// The version of the binary interface between apical and its plugins. A
// plugin passes C++ objects (model_registry, population) across the library
// boundary, so it must be compiled against the same engine headers, with a
// compatible compiler and standard library, as the program that loads it.
// This number changes whenever an engine header a plugin compiles against
// (model_registry, population, neuron_model, scheduler, random, error)
// changes in a way that breaks that interface.
inline constexpr std::uint32_t plugin_abi_version = 2;

// Names of the two functions a plugin exports.
inline constexpr const char* plugin_abi_version_symbol = "apical_plugin_abi_version";
inline constexpr const char* plugin_register_symbol = "apical_register_models";

// One loaded plugin: a shared library and the models it defines.
//
// Loading (the constructor) opens the library, checks its ABI version and
// collects its models into a registry of its own; register_models() then
// makes them available under their names. Every failure throws an error
// that names the file and says what was expected:
//   file_error       the file does not exist, is not a regular file, or is
//                    not a shared library that can be loaded (the dynamic
//                    loader's reason is included);
//   parameter_error  an exported function is missing, the ABI version
//                    differs, the plugin adds no model, or its registration
//                    function throws.
class plugin_library {
 public:
  explicit plugin_library(const std::filesystem::path& file);

  const std::filesystem::path& file() const;
  // The names of the plugin's models, sorted.
  std::vector<std::string> model_names() const;

  // Adds every model of this plugin to `registry`. Throws parameter_error
  // naming the model and this file when a name is already registered (a
  // built-in model, or a model of a plugin loaded before); then none of the
  // plugin's models is added.
  void register_models(model_registry& registry) const;

 private:
  struct loaded;
  std::shared_ptr<const loaded> loaded_;
};

}  // namespace apical

// Marks a function as exported from a plugin with C linkage (unmangled, so
// the loader finds it by name), even when the plugin is compiled with hidden
// symbol visibility.
#define APICAL_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

// The two functions a plugin defines (declared here so that a definition
// with another signature does not compile).
APICAL_PLUGIN_EXPORT std::uint32_t apical_plugin_abi_version();
APICAL_PLUGIN_EXPORT void apical_register_models(apical::model_registry& registry);
