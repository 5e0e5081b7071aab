#include "apical/engine/plugin.hpp"

#include <dlfcn.h>

#include <bit>
#include <exception>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {

struct plugin_library::loaded {
  std::filesystem::path file;
  void* handle = nullptr;
  // Filled by the plugin; its factories are code of the library.
  std::unique_ptr<model_registry> models;

  loaded() = default;
  loaded(const loaded&) = delete;
  loaded& operator=(const loaded&) = delete;
  ~loaded() {
    models.reset();  // the factories' destructors are code of the library too
    if (handle != nullptr) dlclose(handle);
  }
};

namespace {

std::string last_dl_error() {
  const char* e = dlerror();
  return e != nullptr ? e : "unknown reason";
}

template <class Function>
Function find_symbol(void* handle, const std::filesystem::path& file, const char* name) {
  dlerror();  // clear a stale error
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr)
    throw parameter_error(
        fmt::format("plugin '{}': does not export the function '{}'; a plugin defines it with "
                    "APICAL_PLUGIN_EXPORT (apical/engine/plugin.hpp, docs/custom-models.md)",
                    file.string(), name));
  return std::bit_cast<Function>(symbol);
}

}  // namespace

plugin_library::plugin_library(const std::filesystem::path& file) {
  auto l = std::make_shared<loaded>();
  l->file = file;
  const std::string shown = file.string();

  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status))
    throw file_error(
        fmt::format("plugin '{}': no such file; expected a shared library (.so)", shown));
  if (!std::filesystem::is_regular_file(status))
    throw file_error(
        fmt::format("plugin '{}': not a regular file; expected a shared library (.so)", shown));

  // dlopen() searches the library path for a name without a '/'; a plugin
  // named on the command line is a file, so it always gets a path.
  const auto path = std::filesystem::absolute(file, ec);
  // RTLD_LOCAL: two plugins may define symbols of the same name.
  // RTLD_NODELETE: the code stays mapped after the last dlclose(). Objects
  // made by plugin code can outlive every owner tracked here (an exception
  // thrown by a model's derive() that is caught after the library's owners
  // were destroyed still points to the library's vtables).
  l->handle = dlopen((ec ? file : path).c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (l->handle == nullptr)
    throw file_error(fmt::format("plugin '{}': cannot be loaded as a shared library: {}", shown,
                                 last_dl_error()));

  using abi_function = std::uint32_t (*)();
  using register_function = void (*)(model_registry&);
  const auto abi = find_symbol<abi_function>(l->handle, file, plugin_abi_version_symbol)();
  if (abi != plugin_abi_version)
    throw parameter_error(fmt::format(
        "plugin '{}': built for plugin ABI version {}, but this apical uses version {}; "
        "rebuild the plugin against the headers of this apical",
        shown, abi, plugin_abi_version));
  const auto add_models = find_symbol<register_function>(l->handle, file, plugin_register_symbol);

  l->models = std::make_unique<model_registry>();
  try {
    add_models(*l->models);
  } catch (const std::exception& e) {
    // Rethrown as an error of this library: the caught object is the
    // plugin's, and is destroyed before the library may be closed.
    throw parameter_error(
        fmt::format("plugin '{}': {}() failed: {}", shown, plugin_register_symbol, e.what()));
  } catch (...) {
    throw parameter_error(
        fmt::format("plugin '{}': {}() failed with an exception that is not a "
                    "std::exception",
                    shown, plugin_register_symbol));
  }
  if (l->models->names().empty())
    throw parameter_error(
        fmt::format("plugin '{}': {}() added no model; expected at least one registry.add<model>()",
                    shown, plugin_register_symbol));
  loaded_ = std::move(l);
}

const std::filesystem::path& plugin_library::file() const {
  return loaded_->file;
}

std::vector<std::string> plugin_library::model_names() const {
  return loaded_->models->names();
}

void plugin_library::register_models(model_registry& registry) const {
  const auto names = model_names();
  for (const auto& name : names)
    if (registry.contains(name))
      throw parameter_error(fmt::format(
          "plugin '{}': model '{}' is already registered (a built-in model or a model of a "
          "plugin loaded before); model names must be unique, rename the plugin's model",
          loaded_->file.string(), name));
  for (const auto& name : names)
    registry.add(name, [keep = loaded_, name](std::string population_name, std::size_t size) {
      return keep->models->make(name, std::move(population_name), size);
    });
}

}  // namespace apical
