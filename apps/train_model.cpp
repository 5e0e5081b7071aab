#include "train_model.hpp"

namespace apical::app {

std::unique_ptr<learning::trainer> make_model(const train_config& c) {
  const learning::learning_rate_schedule schedule{c.learning_rate, c.lr_decay};
  if (is_rate(c.algo))
    return learning::make_rate_trainer(c.rate_network_settings(), c.rate_trainer_settings(),
                                       schedule);
  return learning::make_microcircuit_trainer(c.microcircuit_settings(), schedule, c.alignment);
}

}  // namespace apical::app
