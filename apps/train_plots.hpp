#pragma once
// The pictures and tables of a training run, from what train_metrics and
// train_model hold: accuracy curves, alignment angles, a spike raster, the
// learned first-layer weights as images, and confusion matrices.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "apical/datasets/dataset.hpp"
#include "apical/learning/reference/matrix.hpp"
#include "train_metrics.hpp"
#include "train_model.hpp"

namespace apical::app {

// accuracy.svg: train and test accuracy per epoch (from the initial test
// accuracy at epoch 0), and the test accuracy of every comparison run.
void write_accuracy_chart(const std::filesystem::path& file, const run_summary& run,
                          const training_history& h, const std::vector<comparison_run>& compare);

// alignment.svg: the angle between the microcircuit's and BP's update per
// weight layer, batch by batch (thin) and as the epoch means (markers).
void write_alignment_chart(const std::filesystem::path& file, const training_history& h,
                           std::size_t layers);

// dead_units.svg: per hidden layer, the fraction of units that fired in no
// training sample of an epoch (dead) and in fewer than 1 % of them (quiet,
// dashed), epoch by epoch (layers = weight layers).
void write_dead_units_chart(const std::filesystem::path& file, const training_history& h,
                            std::size_t layers);

// raster.svg: the spikes of one sample, population by population.
void write_raster(const std::filesystem::path& file, const std::vector<raster_group>& groups,
                  double window_ms, const std::string& title);

// weights.svg: the incoming weights of the first `count` hidden units, each
// reshaped to the image shape.
void write_weight_images(const std::filesystem::path& file, const learning::matrix& first_layer,
                         const datasets::image_shape& shape, std::size_t count,
                         const std::string& title);

// Rows: true class; columns: predicted class, plus a last "none" column
// counting samples without a prediction (-1) when there are any.
struct confusion_matrix {
  std::vector<std::string> classes;
  std::vector<std::vector<std::size_t>> counts;
  bool has_none = false;
  std::size_t correct = 0;
  std::size_t total = 0;
  double accuracy() const {
    return total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
  }
};

confusion_matrix make_confusion(std::span<const std::uint8_t> labels,
                                std::span<const int> predicted,
                                const std::vector<std::string>& classes);
std::string confusion_csv(const confusion_matrix& m);
std::string confusion_text(const confusion_matrix& m);
void write_confusion_svg(const std::filesystem::path& file, const confusion_matrix& m,
                         const std::string& title);

}  // namespace apical::app
