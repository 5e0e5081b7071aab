#include "apical/learning/reference/local_fields.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "apical/engine/error.hpp"

namespace apical::learning {

std::size_t local_fields::rows() const {
  return size == 0 || size > height ? 0 : (height - size) / step() + 1;
}

std::size_t local_fields::cols() const {
  return size == 0 || size > width ? 0 : (width - size) / step() + 1;
}

void local_fields::validate(std::size_t n_inputs, std::size_t cells, const char* field) const {
  if (!enabled()) return;
  if (channels == 0 || height == 0 || width == 0 || planes == 0 || planes > 2)
    throw parameter_error(fmt::format(
        "{}: the input is not an image (channels {}, height {}, width {}, planes {}); local "
        "fields need the image's shape and 1 or 2 planes",
        field, channels, height, width, planes));
  if (n_inputs != inputs())
    throw parameter_error(fmt::format(
        "{}: the first layer has {} inputs; local fields expect the image's {} ({} plane(s) of "
        "{} x {} x {})",
        field, n_inputs, inputs(), planes, channels, height, width));
  if (size > height || size > width)
    throw parameter_error(fmt::format("{}: a patch of {} pixels does not fit the {} x {} image",
                                      field, size, height, width));
  if (step() > std::max(height, width))
    throw parameter_error(
        fmt::format("{}: stride {} exceeds the {} x {} image", field, step(), height, width));
  if (cells == 0)
    throw parameter_error(fmt::format(
        "{}: local fields belong to the first hidden layer, and the network has none", field));
  if (cells % positions() != 0)
    throw parameter_error(fmt::format(
        "{}: patches of {} pixels every {} give {} positions ({} x {}); the first hidden layer "
        "has {} cells, expected a multiple of {}",
        field, size, step(), positions(), rows(), cols(), cells, positions()));
}

std::vector<std::size_t> receptive_field(const local_fields& f, std::size_t cells,
                                         std::size_t cell) {
  std::vector<std::size_t> out;
  if (!f.enabled() || f.positions() == 0 || cells < f.positions() || cell >= cells) return out;
  const std::size_t p = cell / (cells / f.positions());
  const std::size_t y0 = (p / f.cols()) * f.step();
  const std::size_t x0 = (p % f.cols()) * f.step();
  const std::size_t plane = f.channels * f.height * f.width;
  out.reserve(f.fan_in());
  for (std::size_t q = 0; q < f.planes; ++q)
    for (std::size_t c = 0; c < f.channels; ++c)
      for (std::size_t y = y0; y < y0 + f.size; ++y)
        for (std::size_t x = x0; x < x0 + f.size; ++x)
          out.push_back(q * plane + (c * f.height + y) * f.width + x);
  return out;
}

matrix connection_mask(const local_fields& f, std::size_t cells) {
  matrix m(cells, f.inputs());
  for (std::size_t i = 0; i < cells; ++i)
    for (const std::size_t j : receptive_field(f, cells, i)) m(i, j) = 1.0f;
  return m;
}

}  // namespace apical::learning
