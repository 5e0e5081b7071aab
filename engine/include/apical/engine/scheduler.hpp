#pragma once
// Where a population schedules its neurons' predicted threshold crossings:
// the event queue of the partition that owns them.
#include <cmath>
#include <cstdint>
#include <string>

#include "apical/engine/error.hpp"
#include "apical/engine/event_queue.hpp"

namespace apical {

class scheduler {
 public:
  explicit scheduler(event_queue& queue) : queue_(&queue) {}

  void schedule(const event& e) { queue_->push(e); }
  void schedule_crossing(std::uint16_t population, std::uint32_t neuron, std::uint32_t version,
                         double t_ms) {
    if (std::isnan(t_ms))
      throw parameter_error("neuron " + std::to_string(neuron) + " of population " +
                            std::to_string(population) + " predicted a NaN spike time");
    schedule(event{time_ms{t_ms}, neuron, version, population, event_kind::crossing});
  }
  event_queue& queue() { return *queue_; }

 private:
  event_queue* queue_;
};

}  // namespace apical
