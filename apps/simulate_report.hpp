#pragma once
// The console summary of `apical simulate`.
#include <string>
#include <string_view>

#include "apical/engine/analysis.hpp"

namespace apical::app {

// One recorded population: name, spikes, rate and the CV of its
// inter-spike intervals; the CV, undefined when no neuron fired 3 or more
// spikes, then reads "n/a" with that reason.
std::string activity_line(std::string_view population, const population_activity& a);

}  // namespace apical::app
