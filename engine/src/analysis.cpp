#include "apical/engine/analysis.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace apical {

population_activity activity(const std::vector<recorded_spike>& spikes, std::size_t population_id,
                             std::size_t size, double t_start_ms, double t_end_ms) {
  activity_accumulator a(size);
  for (const auto& s : spikes)
    if (s.population == population_id && s.time_ms >= t_start_ms && s.time_ms < t_end_ms)
      a.add(s.neuron, s.time_ms);
  return a.result(t_start_ms, t_end_ms);
}

population_activity activity_accumulator::result(double t_start_ms, double t_end_ms) const {
  population_activity a;
  for (const auto& n : neurons_) a.spikes += n.spikes;
  const double duration_s = (t_end_ms - t_start_ms) / 1000.0;
  const auto size = neurons_.size();
  a.rate_hz = size > 0 && duration_s > 0
                  ? static_cast<double>(a.spikes) / (static_cast<double>(size) * duration_s)
                  : 0.0;
  double cv_sum = 0.0;
  for (const auto& t : neurons_) {
    if (t.spikes < 3) continue;
    const auto n = static_cast<double>(t.spikes - 1);
    const double mean = t.sum / n;
    const double var = std::max(0.0, t.sum2 / n - mean * mean);
    if (mean > 0) {
      cv_sum += std::sqrt(var) / mean;
      ++a.neurons_with_cv;
    }
  }
  a.cv_isi = a.neurons_with_cv > 0 ? cv_sum / static_cast<double>(a.neurons_with_cv)
                                   : std::numeric_limits<double>::quiet_NaN();
  return a;
}

std::uint64_t peak_rss_bytes() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace apical
