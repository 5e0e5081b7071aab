#include "apical/datasets/preprocess.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::datasets {

std::string_view to_string(input_scaling s) {
  switch (s) {
    case input_scaling::unit:
      return "unit";
    case input_scaling::centred:
      return "centred";
    case input_scaling::on_off:
      return "on-off";
  }
  return "?";
}

std::size_t inputs_per_value(input_scaling s) {
  return s == input_scaling::on_off ? 2 : 1;
}

std::vector<float> intensities(std::span<const std::uint8_t> pixels) {
  std::vector<float> out(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) out[i] = static_cast<float>(pixels[i]) / 255.0f;
  return out;
}

std::vector<float> centred_intensities(std::span<const std::uint8_t> pixels, image_shape shape,
                                       std::span<const double> channel_means) {
  if (channel_means.size() != shape.channels) {
    throw parameter_error(fmt::format(
        "centred_intensities: channel_means has {} values; expected one per channel ({})",
        channel_means.size(), shape.channels));
  }
  if (pixels.size() != shape.size()) {
    throw parameter_error(fmt::format("centred_intensities: {} pixels; expected {}x{}x{} = {}",
                                      pixels.size(), shape.channels, shape.height, shape.width,
                                      shape.size()));
  }
  const std::size_t plane = shape.height * shape.width;
  std::vector<float> out(pixels.size());
  for (std::size_t c = 0; c < shape.channels; ++c) {
    const double mean = channel_means[c];
    if (!(mean >= 0.0 && mean <= 1.0)) {
      throw parameter_error(fmt::format(
          "centred_intensities: channel_means[{}] is {}; expected an intensity in [0, 1]", c,
          mean));
    }
    for (std::size_t i = c * plane; i < (c + 1) * plane; ++i) {
      out[i] = static_cast<float>(static_cast<double>(pixels[i]) / 255.0 - mean);
    }
  }
  return out;
}

std::vector<float> feature_means(std::span<const float> values, std::size_t sample_size) {
  if (sample_size == 0 || values.size() % sample_size != 0) {
    throw parameter_error(
        fmt::format("feature_means: {} values is not a multiple of sample_size {}", values.size(),
                    sample_size));
  }
  const std::size_t count = values.size() / sample_size;
  std::vector<double> sums(sample_size, 0.0);
  for (std::size_t s = 0; s < count; ++s) {
    for (std::size_t j = 0; j < sample_size; ++j) sums[j] += values[s * sample_size + j];
  }
  std::vector<float> means(sample_size, 0.0f);
  if (count == 0) return means;
  for (std::size_t j = 0; j < sample_size; ++j) {
    means[j] = static_cast<float>(sums[j] / static_cast<double>(count));
  }
  return means;
}

void subtract_feature_means(std::span<float> values, std::span<const float> means) {
  if (means.empty() || values.size() % means.size() != 0) {
    throw parameter_error(
        fmt::format("subtract_feature_means: {} values is not a multiple of the {} means",
                    values.size(), means.size()));
  }
  for (std::size_t i = 0; i < values.size(); ++i) values[i] -= means[i % means.size()];
}

std::vector<float> split_on_off(std::span<const float> values, std::size_t n) {
  if (n == 0 || values.size() % n != 0)
    throw parameter_error(fmt::format("split_on_off: {} values is not a multiple of sample_size {}",
                                      values.size(), n));
  std::vector<float> out(2 * values.size());
  for (std::size_t s = 0; s < values.size() / n; ++s)
    for (std::size_t j = 0; j < n; ++j) {
      const float d = values[s * n + j];
      out[2 * n * s + j] = std::max(d, 0.0f);
      out[2 * n * s + n + j] = std::max(-d, 0.0f);
    }
  return out;
}

std::vector<float> merge_on_off(std::span<const float> rows, std::size_t row_size) {
  if (row_size == 0 || row_size % 2 != 0 || rows.size() % row_size != 0)
    throw parameter_error(fmt::format(
        "merge_on_off: {} values in rows of {}; expected whole rows of an even size (n ON, then "
        "n OFF values)",
        rows.size(), row_size));
  const std::size_t n = row_size / 2;
  std::vector<float> out(rows.size() / 2);
  for (std::size_t i = 0; i < rows.size() / row_size; ++i)
    for (std::size_t j = 0; j < n; ++j)
      out[i * n + j] = rows[i * row_size + j] - rows[i * row_size + n + j];
  return out;
}

network_inputs prepare_inputs(const loaded_dataset& data, input_scaling scaling,
                              std::span<const float> means) {
  network_inputs p;
  p.shape = data.train.empty() ? data.test.shape() : data.train.shape();
  p.input_size = p.shape.size();
  p.class_names = data.test.empty() ? data.train.class_names() : data.test.class_names();
  p.train_inputs = intensities(data.train.pixels());
  p.test_inputs = intensities(data.test.pixels());
  p.train_labels.assign(data.train.labels().begin(), data.train.labels().end());
  p.test_labels.assign(data.test.labels().begin(), data.test.labels().end());
  if (scaling == input_scaling::unit) return p;
  p.input_means = means.empty() ? feature_means(p.train_inputs, p.input_size)
                                : std::vector<float>(means.begin(), means.end());
  if (p.input_means.size() != p.input_size)
    throw parameter_error(fmt::format("input_means: {} values; expected {} (one per input)",
                                      p.input_means.size(), p.input_size));
  subtract_feature_means(p.train_inputs, p.input_means);
  subtract_feature_means(p.test_inputs, p.input_means);
  if (scaling == input_scaling::on_off) {
    p.train_inputs = split_on_off(p.train_inputs, p.input_size);
    p.test_inputs = split_on_off(p.test_inputs, p.input_size);
    p.input_size *= 2;
  }
  return p;
}

}  // namespace apical::datasets
