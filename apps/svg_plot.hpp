#pragma once
// Small SVG charts, written as text with no plotting library: line charts,
// heatmaps, spike rasters and grids of images (embedded as one PNG data URI,
// compressed with zlib, which the project already links for the datasets).
// Every function returns a complete SVG document that browsers and
// rsvg-convert render.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace apical::app::svg {

// The colour of series i of a chart (the Tableau 10 palette).
std::string palette(std::size_t i);

struct series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // non-finite values break the line
  std::string color;      // empty: palette(index)
  bool dashed = false;
  bool markers = true;
  double stroke_width = 2;
};

struct chart_options {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::optional<double> x_min, x_max, y_min, y_max;  // unset: from the data
  double width = 760;
  double height = 440;
};

std::string line_chart(const chart_options& options, const std::vector<series>& lines);

struct heatmap_options {
  std::string title;
  std::string row_label;  // e.g. "true class"
  std::string col_label;  // e.g. "predicted class"
  std::vector<std::string> row_names;
  std::vector<std::string> col_names;
  bool annotate = true;  // print each cell's value
  double cell = 40;      // px
};

// values[r][c]; the colour scale runs from 0 to the largest value.
std::string heatmap(const heatmap_options& options, const std::vector<std::vector<double>>& values);

struct raster_band {
  std::string name;
  std::size_t neurons = 0;
  std::vector<std::pair<double, std::uint32_t>> spikes;  // (time ms, neuron)
  double height = 100;                                   // px
};

std::string raster(const std::string& title, double t_max_ms,
                   const std::vector<raster_band>& bands);

struct image_grid_options {
  std::string title;
  std::string caption;
  std::size_t channels = 1;  // 1: a diverging blue-white-red map; 3: RGB
  std::size_t height = 28;
  std::size_t width = 28;
  std::size_t columns = 8;
  std::size_t scale = 3;  // screen pixels per image pixel
};

// Each image is channels x height x width values (channel planes, as the
// datasets store them), scaled on its own: a 1-channel image maps
// [-max|v|, max|v|] to blue..white..red; a 3-channel image maps its range to
// [0, 1] per image.
std::string image_grid(const image_grid_options& options,
                       const std::vector<std::vector<float>>& images);

// An RGB image (row-major, 3 bytes a pixel) as PNG bytes.
std::string png_rgb(std::span<const std::uint8_t> rgb, std::size_t width, std::size_t height);

// Escapes &, <, > and quotes for text and attribute values.
std::string escape(std::string_view text);

}  // namespace apical::app::svg
