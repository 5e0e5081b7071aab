// The console summary: the CV of inter-spike intervals, undefined without
// a neuron of 3 or more spikes, reads "n/a" with the reason, never "nan".
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/analysis.hpp"
#include "simulate_report.hpp"

using namespace apical;
using namespace apical::app;

TEST_CASE("a population whose neurons fired at most twice has no CV, and says why") {
  // Neuron 0 fires twice (one interval), neuron 1 once.
  const std::vector<recorded_spike> spikes = {{1.0, 0, 0}, {2.5, 0, 1}, {4.0, 0, 0}};
  const auto a = activity(spikes, 0, 2, 0.0, 10.0);
  REQUIRE(a.neurons_with_cv == 0);
  const auto line = activity_line("E", a);
  CHECK(line ==
        "  E                   3 spikes   150.000 Hz  CV n/a (no neuron fired 3 or more "
        "spikes)\n");
  CHECK(line.find("nan") == std::string::npos);
}

TEST_CASE("with a neuron of 3 spikes the CV is printed") {
  // Intervals 1 and 3 ms: mean 2, standard deviation 1, CV 0.5.
  const std::vector<recorded_spike> spikes = {{1.0, 0, 0}, {2.0, 0, 0}, {5.0, 0, 0}};
  const auto a = activity(spikes, 0, 1, 0.0, 10.0);
  CHECK(activity_line("I", a) == "  I                   3 spikes   300.000 Hz  CV 0.500\n");
}
