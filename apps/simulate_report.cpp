#include "simulate_report.hpp"

#include <fmt/format.h>

namespace apical::app {

std::string activity_line(std::string_view population, const population_activity& a) {
  const std::string cv = a.neurons_with_cv > 0
                             ? fmt::format("{:.3f}", a.cv_isi)
                             : std::string("n/a (no neuron fired 3 or more spikes)");
  return fmt::format("  {:<12} {:>8} spikes  {:8.3f} Hz  CV {}\n", population, a.spikes, a.rate_hz,
                     cv);
}

}  // namespace apical::app
