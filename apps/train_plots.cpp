#include "train_plots.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "svg_plot.hpp"
#include "train_files.hpp"

namespace apical::app {
namespace {

// A chart over epochs from 0, with y in [0, y_max].
svg::chart_options epoch_chart(std::string title, std::string y_label, double y_max) {
  svg::chart_options o;
  o.title = std::move(title);
  o.x_label = "epoch";
  o.y_label = std::move(y_label);
  o.y_min = 0.0;
  o.y_max = y_max;
  o.x_min = 0.0;
  return o;
}

}  // namespace

void write_accuracy_chart(const std::filesystem::path& file, const run_summary& run,
                          const training_history& h, const std::vector<comparison_run>& compare) {
  const auto curve = [](std::string name, double initial, const std::vector<epoch_record>& epochs,
                        bool test, std::string color, bool dashed) {
    svg::series s;
    s.name = std::move(name);
    s.color = std::move(color);
    s.dashed = dashed;
    if (test && std::isfinite(initial)) {
      s.x.push_back(0);
      s.y.push_back(initial);
    }
    for (const auto& e : epochs) {
      s.x.push_back(static_cast<double>(e.epoch));
      s.y.push_back(test ? e.test_accuracy : e.train_accuracy);
    }
    return s;
  };
  // The train accuracy, stretch by stretch of each epoch: a thin line.
  const auto stretches = [](std::string name, const std::vector<curve_point>& points,
                            std::string color) {
    svg::series s;
    s.name = std::move(name);
    s.color = std::move(color);
    s.markers = false;
    s.stroke_width = 1;
    for (const auto& p : points) {
      s.x.push_back(p.position);
      s.y.push_back(p.accuracy);
    }
    return s;
  };
  std::vector<svg::series> lines;
  lines.push_back(
      curve(run.algo + " test", h.initial_test_accuracy, h.epochs, true, svg::palette(0), false));
  if (!h.train_curve.empty())
    lines.push_back(stretches(run.algo + " train", h.train_curve, svg::palette(0)));
  else
    lines.push_back(curve(run.algo + " train", h.initial_test_accuracy, h.epochs, false,
                          svg::palette(0), true));
  for (std::size_t k = 0; k < compare.size(); ++k) {
    lines.push_back(curve(compare[k].label + " test", compare[k].initial_test_accuracy,
                          compare[k].epochs, true, svg::palette(k + 1), false));
    if (!compare[k].train_curve.empty())
      lines.push_back(
          stretches(compare[k].label + " train", compare[k].train_curve, svg::palette(k + 1)));
  }
  svg::chart_options o;
  o.title = fmt::format("{} {} on {} ({} training samples)", run.algo, run.arch, run.dataset,
                        run.train_samples);
  o.x_label = "epoch";
  o.y_label = "accuracy";
  o.y_min = 0.0;
  o.y_max = 1.0;
  o.x_min = 0.0;
  write_file_atomically(file, svg::line_chart(o, lines));
}

void write_alignment_chart(const std::filesystem::path& file, const training_history& h,
                           std::size_t layers) {
  std::vector<svg::series> lines;
  for (std::size_t l = 0; l < layers; ++l) {
    svg::series batch;
    batch.name = fmt::format("layer {} (batches)", l + 1);
    batch.color = svg::palette(l);
    batch.markers = false;
    batch.stroke_width = 1;
    for (const auto& p : h.alignment) {
      batch.x.push_back(p.position);
      batch.y.push_back(l < p.angles_deg.size() ? p.angles_deg[l] : not_measured);
    }
    svg::series mean;
    mean.name = fmt::format("layer {} (epoch mean)", l + 1);
    mean.color = svg::palette(l);
    for (const auto& e : h.epochs) {
      mean.x.push_back(static_cast<double>(e.epoch));
      mean.y.push_back(l < e.alignment_deg.size() ? e.alignment_deg[l] : not_measured);
    }
    lines.push_back(std::move(batch));
    lines.push_back(std::move(mean));
  }
  const auto o = epoch_chart("angle between the microcircuit's update and BP's",
                             "angle (degrees; 90 = unrelated)", 90.0);
  write_file_atomically(file, svg::line_chart(o, lines));
}

void write_dead_units_chart(const std::filesystem::path& file, const training_history& h,
                            std::size_t layers) {
  std::vector<svg::series> lines;
  double highest = 0.0;
  for (std::size_t l = 0; l + 1 < layers; ++l) {
    for (const bool quiet : {false, true}) {
      svg::series s;
      s.name = fmt::format("hidden layer {}: {}", l + 1, quiet ? "quiet (< 1 %)" : "dead");
      s.color = svg::palette(l);
      s.dashed = quiet;
      for (const auto& e : h.epochs) {
        const auto& v = quiet ? e.quiet_fraction : e.dead_fraction;
        const double f = l < v.size() ? v[l] : not_measured;
        s.x.push_back(static_cast<double>(e.epoch));
        s.y.push_back(f);
        if (std::isfinite(f)) highest = std::max(highest, f);
      }
      lines.push_back(std::move(s));
    }
  }
  const auto o =
      epoch_chart("hidden units that fired in no sample (dead) or in fewer than 1 % of an epoch",
                  "fraction of the layer", std::max(0.05, std::min(1.0, 1.2 * highest)));
  write_file_atomically(file, svg::line_chart(o, lines));
}

void write_raster(const std::filesystem::path& file, const std::vector<raster_group>& groups,
                  double window_ms, const std::string& title) {
  std::vector<svg::raster_band> bands;
  for (const auto& g : groups) {
    svg::raster_band b;
    b.name = g.name;
    b.neurons = g.neurons;
    b.spikes = g.spikes;
    b.height = std::clamp(static_cast<double>(g.neurons) * 2.0, 30.0, 160.0);
    bands.push_back(std::move(b));
  }
  write_file_atomically(file, svg::raster(title, window_ms, bands));
}

void write_weight_images(const std::filesystem::path& file, const learning::matrix& first_layer,
                         const datasets::image_shape& shape, std::size_t count,
                         const std::string& title) {
  const std::size_t n = std::min(count, first_layer.rows());
  std::vector<std::vector<float>> images;
  for (std::size_t i = 0; i < n; ++i)
    images.emplace_back(first_layer.row(i), first_layer.row(i) + first_layer.cols());
  svg::image_grid_options o;
  o.title = title;
  o.channels = shape.channels;
  o.height = shape.height;
  o.width = shape.width;
  o.columns = 8;
  o.scale = 3;
  o.caption =
      shape.channels == 3
          ? "each unit's weights scaled to its own range, shown as RGB"
          : "blue: negative, red: positive weights; each unit scaled to its own largest |w|";
  write_file_atomically(file, svg::image_grid(o, images));
}

confusion_matrix make_confusion(std::span<const std::uint8_t> labels,
                                std::span<const int> predicted,
                                const std::vector<std::string>& classes) {
  confusion_matrix m;
  m.classes = classes;
  const std::size_t k = classes.size();
  m.counts.assign(k, std::vector<std::size_t>(k + 1, 0));
  for (std::size_t s = 0; s < std::min(labels.size(), predicted.size()); ++s) {
    const std::size_t truth = labels[s];
    if (truth >= k) continue;
    const int p = predicted[s];
    const std::size_t col =
        p >= 0 && static_cast<std::size_t>(p) < k ? static_cast<std::size_t>(p) : k;
    ++m.counts[truth][col];
    m.has_none = m.has_none || col == k;
    m.correct += col == truth ? 1 : 0;
    ++m.total;
  }
  if (!m.has_none)
    for (auto& r : m.counts) r.pop_back();
  return m;
}

std::string confusion_csv(const confusion_matrix& m) {
  std::string s = "true\\predicted";
  for (const auto& c : m.classes) s += "," + c;
  if (m.has_none) s += ",none";
  s += '\n';
  for (std::size_t r = 0; r < m.counts.size(); ++r) {
    s += m.classes[r];
    for (const auto v : m.counts[r]) s += fmt::format(",{}", v);
    s += '\n';
  }
  return s;
}

std::string confusion_text(const confusion_matrix& m) {
  std::size_t w = 5;
  for (const auto& c : m.classes) w = std::max(w, std::min<std::size_t>(c.size(), 10) + 1);
  std::string s = fmt::format("{:>{}}", "true \\ predicted", 12);
  for (const auto& c : m.classes) s += fmt::format("{:>{}}", c.substr(0, 10), w);
  if (m.has_none) s += fmt::format("{:>{}}", "none", w);
  s += '\n';
  for (std::size_t r = 0; r < m.counts.size(); ++r) {
    s += fmt::format("{:>16}", m.classes[r].substr(0, 15));
    for (const auto v : m.counts[r]) s += fmt::format("{:>{}}", v, w);
    s += '\n';
  }
  return s;
}

void write_confusion_svg(const std::filesystem::path& file, const confusion_matrix& m,
                         const std::string& title) {
  svg::heatmap_options o;
  o.title = title;
  o.row_label = "true class";
  o.col_label = "predicted class";
  o.row_names = m.classes;
  o.col_names = m.classes;
  if (m.has_none) o.col_names.push_back("none");
  std::vector<std::vector<double>> values;
  for (const auto& r : m.counts) {
    values.emplace_back();
    for (const auto v : r) values.back().push_back(static_cast<double>(v));
  }
  write_file_atomically(file, svg::heatmap(o, values));
}

}  // namespace apical::app
