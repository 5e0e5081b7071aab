// plugin_library: loading models from shared libraries, and every way a
// plugin can be rejected. The plugins are built by tests/plugin/CMakeLists.txt;
// their paths come from the generated apical_test_plugins.hpp.
#include "apical/engine/plugin.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/network.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical_test_plugins.hpp"

using namespace apical;
namespace plugins = apical::test_plugins;

namespace {

// The engine's sources, and a stand-in under the name of a built-in model
// (the engine knows no models), which the plugin duplicate_name also uses.
model_registry registry_with_lif_delta() {
  model_registry r;
  register_sources(r);
  r.add("lif_delta", [](std::string, std::size_t) { return std::unique_ptr<population>{}; });
  return r;
}

// A file in the test's working directory, removed at the end of the test.
struct scratch_file {
  std::filesystem::path path;
  scratch_file(std::string name, std::string_view contents) : path(std::move(name)) {
    std::ofstream(path) << contents;
  }
  ~scratch_file() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("plugin: a plugin's models are made and simulated by name") {
  model_registry registry = registry_with_lif_delta();
  const plugin_library adaptive(plugins::lif_adaptive);
  const plugin_library alpha(plugins::lif_alpha);
  CHECK(adaptive.file() == std::filesystem::path(plugins::lif_adaptive));
  CHECK(adaptive.model_names() == std::vector<std::string>{"lif_adaptive"});
  CHECK(alpha.model_names() == std::vector<std::string>{"lif_alpha"});
  adaptive.register_models(registry);
  alpha.register_models(registry);
  CHECK(registry.contains("lif_adaptive"));
  CHECK(registry.contains("lif_alpha"));
  CHECK(registry.contains("lif_delta"));

  network net;
  auto& a = net.add(registry.make("lif_adaptive", "A", 3));
  CHECK(a.model_name() == "lif_adaptive");
  CHECK(a.parameter("tau_w_ms") == 100.0);
  a.set_parameters(std::vector<std::pair<std::string, double>>{{"i_e_mv", 20.0}, {"b_mv", 2.0}});
  CHECK(a.parameter("i_e_mv") == 20.0);
  CHECK(a.state_names() == std::vector<std::string_view>{"v_mv", "w_mv", "ref_until_ms"});
  simulator sim(net);
  spike_recorder spikes(sim);
  sim.run(time_ms{200.0});
  CHECK(spikes.counts(a.id()) == std::vector<std::uint32_t>(3, spikes.counts(a.id())[0]));
  CHECK(spikes.counts(a.id())[0] > 3);
}

TEST_CASE("plugin: parameters of a plugin model are validated by name") {
  model_registry registry = registry_with_lif_delta();
  plugin_library(plugins::lif_alpha).register_models(registry);
  const auto pop = registry.make("lif_alpha", "B", 1);
  CHECK_THROWS_WITH_AS(pop->set_parameter("tau_syn_ms", 3.0),
                       doctest::Contains("lif_alpha: unknown parameter 'tau_syn_ms'; known: "
                                         "tau_m_ms, tau_s_ms"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(pop->set_parameter("tau_s_ms", 10.0),
                       doctest::Contains("parameter 'tau_s_ms' must differ from tau_m_ms"),
                       parameter_error);
  CHECK(pop->parameter("tau_s_ms") == 2.0);  // unchanged after a rejected value
}

TEST_CASE("plugin: the registry keeps the library loaded after the plugin_library is gone") {
  model_registry registry;
  plugin_library(plugins::lif_adaptive).register_models(registry);
  network net;
  auto& a = net.add(registry.make("lif_adaptive", "A", 1));
  a.set_parameter("i_e_mv", 20.0);
  simulator sim(net);
  spike_recorder spikes(sim);
  sim.run(time_ms{100.0});
  CHECK(spikes.spikes().size() > 2);
}

TEST_CASE("plugin: a plugin built for another ABI version is rejected") {
  const std::string expected = fmt::format(
      "built for plugin ABI version {}, but this apical uses version {}; rebuild the plugin",
      plugin_abi_version + 1, plugin_abi_version);
  CHECK_THROWS_WITH_AS(plugin_library{plugins::abi_mismatch}, doctest::Contains(expected.c_str()),
                       parameter_error);
}

TEST_CASE("plugin: a plugin missing an exported function is rejected") {
  CHECK_THROWS_WITH_AS(plugin_library{plugins::no_register},
                       doctest::Contains("does not export the function 'apical_register_models'"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(
      plugin_library{plugins::no_abi_version},
      doctest::Contains("does not export the function 'apical_plugin_abi_version'"),
      parameter_error);
}

TEST_CASE("plugin: a file that is not a loadable shared library is rejected") {
  CHECK_THROWS_WITH_AS(plugin_library{"no/such/libmodel.so"},
                       doctest::Contains("plugin 'no/such/libmodel.so': no such file"), file_error);
  CHECK_THROWS_WITH_AS(plugin_library{std::filesystem::current_path()},
                       doctest::Contains("not a regular file; expected a shared library"),
                       file_error);
  const scratch_file text("test_plugin_not_a_library.so", "this is not an ELF file\n");
  CHECK_THROWS_WITH_AS(plugin_library{text.path},
                       doctest::Contains("plugin 'test_plugin_not_a_library.so': cannot be loaded "
                                         "as a shared library: "),
                       file_error);
  const scratch_file empty("test_plugin_empty.so", "");
  CHECK_THROWS_AS(plugin_library{empty.path}, file_error);
}

TEST_CASE("plugin: a model name that is taken is rejected, and nothing is added") {
  model_registry registry = registry_with_lif_delta();
  const auto before = registry.names();
  const plugin_library duplicate(plugins::duplicate_name);
  CHECK(duplicate.model_names() == std::vector<std::string>{"lif_delta", "renamed_lif"});
  CHECK_THROWS_WITH_AS(duplicate.register_models(registry),
                       doctest::Contains("model 'lif_delta' is already registered"),
                       parameter_error);
  CHECK(registry.names() == before);

  // The same plugin twice: its model is taken by the first.
  const plugin_library first(plugins::lif_adaptive);
  const plugin_library second(plugins::lif_adaptive);
  first.register_models(registry);
  CHECK_THROWS_WITH_AS(second.register_models(registry),
                       doctest::Contains("model 'lif_adaptive' is already registered"),
                       parameter_error);
}

TEST_CASE("plugin: a plugin that adds no model, or whose registration throws, is rejected") {
  CHECK_THROWS_WITH_AS(plugin_library{plugins::no_models},
                       doctest::Contains("apical_register_models() added no model"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(plugin_library{plugins::throwing},
                       doctest::Contains("apical_register_models() failed: model registry: model "
                                         "'renamed_lif' is registered twice"),
                       parameter_error);
}
