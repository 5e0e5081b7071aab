#pragma once
// A set of spike trains, one per channel, stored flat (CSR): the spikes of
// channel c are times_ms[offsets[c] .. offsets[c+1]), sorted ascending.
//
// This is what spike encoders produce and what a spike-time source population
// replays; it is also what recorders return for analysis.
#include <cstdint>
#include <span>
#include <vector>

namespace apical {

struct spike_raster {
  std::vector<double> times_ms;
  std::vector<std::uint64_t> offsets{0};  // size = channels + 1

  std::size_t channels() const { return offsets.size() - 1; }
  std::size_t total_spikes() const { return times_ms.size(); }
  std::span<const double> channel(std::size_t c) const {
    return {times_ms.data() + offsets[c], times_ms.data() + offsets[c + 1]};
  }
  // Appends the next channel; `times` must be sorted ascending.
  void add_channel(std::span<const double> times) {
    times_ms.insert(times_ms.end(), times.begin(), times.end());
    offsets.push_back(times_ms.size());
  }
  void clear() {
    times_ms.clear();
    offsets.assign(1, 0);
  }
};

}  // namespace apical
