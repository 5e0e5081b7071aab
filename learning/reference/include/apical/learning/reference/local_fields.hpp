#pragma once
// local_fields: a locally connected first weight layer. Each cell of the
// first hidden layer sees one square patch of the input image (all its
// channels, and both planes of on-off inputs); there is no weight sharing,
// so every synapse keeps its own weight and its update stays local to it.
//
// Inputs are laid out as the datasets library lays them out: one plane of
// C x H x W values (channel-major, then rows, then columns), and with on-off
// inputs the whole ON plane first, then the whole OFF plane
// (datasets/preprocess.hpp). Patches of side `size` start every `stride`
// pixels along each axis, (H - size) / stride + 1 rows of them and
// (W - size) / stride + 1 columns, positions counted row by row. A layer of
// n cells holds k = n / positions() cells per position (it must hold a
// whole number of tilings): cells [p k, (p + 1) k) see the patch at
// position p, so the cells that see one input form a few contiguous runs.
//
// The layer is trained as a dense matrix whose weights outside the patches
// are 0 and stay 0 (the optimizer's mask), with its initial weights drawn
// for a fan-in of fan_in() instead of the whole input.
//
// Parameters (local_fields)
//   name      | default | meaning
//   size      | 0       | patch side in pixels; 0: fully connected (no patches)
//   stride    | 0       | pixels between patch starts; 0: size (patches tile without overlap)
//   channels  | 1       | image channels C
//   height    | 0       | image rows H
//   width     | 0       | image columns W
//   planes    | 1       | 1, or 2 for on-off inputs
#include <cstddef>
#include <vector>

#include "apical/learning/reference/matrix.hpp"

namespace apical::learning {

struct local_fields {
  std::size_t size = 0;
  std::size_t stride = 0;
  std::size_t channels = 1;
  std::size_t height = 0;
  std::size_t width = 0;
  std::size_t planes = 1;

  bool enabled() const { return size != 0; }
  // Pixels between patch starts.
  std::size_t step() const { return stride != 0 ? stride : size; }
  // Patch positions along the rows, along the columns, and in all.
  std::size_t rows() const;
  std::size_t cols() const;
  std::size_t positions() const { return rows() * cols(); }
  // Inputs one cell sees.
  std::size_t fan_in() const { return size * size * channels * planes; }
  // Inputs of the image: planes x C x H x W.
  std::size_t inputs() const { return planes * channels * height * width; }

  // Throws parameter_error, naming `field` (the configuration key of the
  // patch side) and what was expected, unless the patches fit an image of
  // `inputs` inputs and a layer of `cells` cells holds whole tilings.
  void validate(std::size_t inputs, std::size_t cells, const char* field = "local-field") const;

  bool operator==(const local_fields&) const = default;
};

// The inputs that cell `cell` of a layer of `cells` cells sees, ascending.
std::vector<std::size_t> receptive_field(const local_fields& f, std::size_t cells,
                                         std::size_t cell);

// The cells x inputs() connection mask: 1 where a cell sees an input, else 0.
matrix connection_mask(const local_fields& f, std::size_t cells);

}  // namespace apical::learning
