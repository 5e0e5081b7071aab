#pragma once
// Events of the scheduler: small values with a total order.
//
// Events are ordered by time, then by a structural key that names the event
// itself: (kind, target, index, payload). At equal times all deliveries come
// before all threshold crossings (a neuron's threshold is checked after every
// input of that instant), and deliveries are ordered by (projection,
// presynaptic neuron, delay group). The order therefore does not depend on
// when or by whom an event was scheduled: the sequential loop and the
// partitioned parallel loop, with any number of threads, process every
// neuron's events in the same order and produce bit-identical spikes.
#include <compare>
#include <cstdint>

#include "apical/engine/time.hpp"

namespace apical {

enum class event_kind : std::uint8_t {
  // A spike of presynaptic neuron `index` (of the projection's source
  // population) reaching the synapses of one delay group `payload` of
  // projection `target`. One such event per (spike, delay group), never one
  // per synapse.
  delivery,
  // A predicted threshold crossing of neuron `index` of population `target`;
  // `payload` is the neuron's prediction version, so that a prediction made
  // stale by later input is recognised and dropped (lazy cancellation).
  crossing,
  // A sampling instant of state recorder `target`.
  sample,
};

struct event {
  time_ms time;
  std::uint32_t index = 0;
  std::uint32_t payload = 0;
  std::uint16_t target = 0;
  event_kind kind = event_kind::delivery;

  // The key after time: kind, target, index (payload compared separately).
  constexpr std::uint64_t key() const {
    return static_cast<std::uint64_t>(kind) << 48 | static_cast<std::uint64_t>(target) << 32 |
           index;
  }
  friend constexpr bool operator==(const event& a, const event& b) {
    return a.time == b.time && a.key() == b.key() && a.payload == b.payload;
  }
  friend constexpr std::strong_ordering operator<=>(const event& a, const event& b) {
    // Times are never NaN (rejected when scheduled), so the weak order of
    // doubles is total here.
    if (a.time.count() < b.time.count()) return std::strong_ordering::less;
    if (b.time.count() < a.time.count()) return std::strong_ordering::greater;
    if (const auto c = a.key() <=> b.key(); c != 0) return c;
    return a.payload <=> b.payload;
  }
};

}  // namespace apical
