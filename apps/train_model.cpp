#include "train_model.hpp"

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "processes.hpp"

namespace apical::app {

std::unique_ptr<learning::trainer> make_model(const train_config& c) {
  const learning::learning_rate_schedule schedule{c.learning_rate, c.lr_decay};
  if (is_rate(c.algo))
    return learning::make_rate_trainer(c.rate_network_settings(), c.rate_trainer_settings(),
                                       schedule);
  auto settings = c.microcircuit_settings();
  settings.processes = world();  // a batch's pieces shared by every process
  return learning::make_microcircuit_trainer(settings, schedule, c.alignment);
}

datasets::loaded_dataset load_training_data(const train_config& c) {
  datasets::load_options opts;
  opts.max_train = c.train_samples ? c.train_samples : datasets::all_items;
  opts.max_test = c.test_samples ? c.test_samples : datasets::all_items;
  datasets::data_search search;
  search.data_dir = c.data_dir;
  search.source_dir = datasets::build_source_dir();
  auto data = datasets::load_dataset(datasets::parse_dataset_id(c.dataset), search, opts);
  check_against_data(c, data.train.shape().size(), data.train.class_count());
  if (data.train.empty())
    throw parameter_error(fmt::format("{}: the training set is empty", c.dataset));
  return data;
}

}  // namespace apical::app
