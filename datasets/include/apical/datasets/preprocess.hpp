#pragma once
// Preprocessing: images as the float inputs of a network, and back.
//
// Values are in the image's C x H x W order, one sample after another.
//
//   input_scaling  value of pixel j (x in 0..255)        inputs per pixel
//   unit           x / 255, in [0, 1]                     1
//   centred        d = x / 255 - m_j, m_j the training     1
//                  set's mean of input j
//   on_off         ON = max(d, 0), then OFF = max(-d, 0):  2 (all ON inputs of
//                  contrast as two rates >= 0               a sample, then all OFF)
//
// The spike encoders (encoders.hpp) turn such values into spike times; the
// rate trainers take them as they are.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apical/datasets/dataset.hpp"
#include "apical/datasets/loader.hpp"

namespace apical::datasets {

enum class input_scaling : std::uint8_t { unit, centred, on_off };

std::string_view to_string(input_scaling s);
// Network inputs per image value: 2 for on_off, else 1.
std::size_t inputs_per_value(input_scaling s);

// x / 255 for each pixel.
std::vector<float> intensities(std::span<const std::uint8_t> pixels);
// x / 255 - channel_means[c] for each pixel of plane c: signed values in
// [-1, 1] for on_off encoding. channel_means.size() must be shape.channels.
std::vector<float> centred_intensities(std::span<const std::uint8_t> pixels, image_shape shape,
                                       std::span<const double> channel_means);

// Per-feature mean over samples of sample_size values (double accumulation).
std::vector<float> feature_means(std::span<const float> values, std::size_t sample_size);
// Subtracts means[j] from feature j of every sample (e.g. the training-set
// means from both the training and the test set).
void subtract_feature_means(std::span<float> values, std::span<const float> means);

// Signed values (sample_size per sample) as ON and OFF inputs: per sample the
// sample_size values max(d, 0), then the sample_size values max(-d, 0).
std::vector<float> split_on_off(std::span<const float> values, std::size_t sample_size);
// The inverse for anything laid out like on_off inputs, e.g. the rows of a
// first-layer weight matrix: per row of row_size = 2 n values, the n values
// ON - OFF (what a brighter pixel does).
std::vector<float> merge_on_off(std::span<const float> rows, std::size_t row_size);

// A loaded dataset as network inputs and labels.
struct network_inputs {
  std::vector<float> train_inputs, test_inputs;
  std::vector<std::uint8_t> train_labels, test_labels;
  std::size_t input_size = 0;  // inputs per sample: pixels x inputs_per_value
  image_shape shape;
  std::vector<std::string> class_names;
  std::vector<float> input_means;  // subtracted from every sample (centred, on_off); else empty
};

// `means`, when non-empty, replaces the training-set means of centred
// inputs (a checkpoint's, so evaluation needs no training data); throws
// parameter_error when it does not hold one value per pixel.
network_inputs prepare_inputs(const loaded_dataset& data, input_scaling scaling,
                              std::span<const float> means = {});

}  // namespace apical::datasets
