#include "train_model.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::app {

prepared_data prepare_data(const datasets::loaded_dataset& data, input_scaling scaling,
                           const std::vector<float>& means) {
  prepared_data p;
  p.shape = data.train.empty() ? data.test.shape() : data.train.shape();
  p.input_size = p.shape.size();
  p.class_names = data.test.empty() ? data.train.class_names() : data.test.class_names();
  p.train_inputs = learning::to_unit_floats(data.train.pixels());
  p.test_inputs = learning::to_unit_floats(data.test.pixels());
  p.train_labels.assign(data.train.labels().begin(), data.train.labels().end());
  p.test_labels.assign(data.test.labels().begin(), data.test.labels().end());
  if (scaling == input_scaling::centred || scaling == input_scaling::on_off) {
    p.input_means = means.empty() ? learning::feature_means(p.train_inputs, p.input_size) : means;
    if (p.input_means.size() != p.input_size)
      throw parameter_error(fmt::format("input_means: {} values; expected {} (one per input)",
                                        p.input_means.size(), p.input_size));
    learning::subtract_feature_means(p.train_inputs, p.input_means);
    learning::subtract_feature_means(p.test_inputs, p.input_means);
  }
  if (scaling == input_scaling::on_off) {
    // Per sample: the n ON values, then the n OFF values.
    const auto split = [n = p.input_size](const std::vector<float>& centred) {
      std::vector<float> out(2 * centred.size());
      for (std::size_t s = 0; s < centred.size() / n; ++s)
        for (std::size_t j = 0; j < n; ++j) {
          const float d = centred[s * n + j];
          out[2 * n * s + j] = std::max(d, 0.0f);
          out[2 * n * s + n + j] = std::max(-d, 0.0f);
        }
      return out;
    };
    p.train_inputs = split(p.train_inputs);
    p.test_inputs = split(p.test_inputs);
    p.input_size *= 2;
  }
  return p;
}

std::unique_ptr<learning::trainer> make_model(const train_config& c) {
  const learning::learning_rate_schedule schedule{c.learning_rate, c.lr_decay};
  if (is_rate(c.algo))
    return learning::make_rate_trainer(c.rate_network_settings(), c.rate_trainer_settings(),
                                       schedule);
  return learning::make_microcircuit_trainer(c.microcircuit_settings(), schedule, c.alignment);
}

}  // namespace apical::app
