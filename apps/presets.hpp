#pragma once
// The standard reference networks as built-in configurations
// (`apical simulate --preset NAME`). Their parameters and reference activity
// are documented in docs/presets.md; every key can still be overridden with
// --set, and --print-config shows the resolved configuration.
#include <string>
#include <string_view>
#include <vector>

#include "network_config.hpp"

namespace apical::app {

struct preset_info {
  std::string_view name;
  std::string_view summary;
};

// The list of presets, for --help and error messages.
const std::vector<preset_info>& presets();

// The configuration of preset `name`. `scale` multiplies N and in-degree of
// `brunel-scaled` (and divides its weights, keeping the mean input); it must
// be 1 for the other presets. Throws parameter_error for an unknown name or a
// bad scale.
network_spec make_preset(std::string_view name, double scale = 1.0);

}  // namespace apical::app
