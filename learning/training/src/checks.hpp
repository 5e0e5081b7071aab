#pragma once
// Checks of a checkpoint's fields against the trainer restoring it; each
// throws file_error naming the file and the field.
#include <cstddef>
#include <string>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/learning/reference/matrix.hpp"

namespace apical::learning::detail {

inline void check_shape(const matrix& m, std::size_t rows, std::size_t cols,
                        const std::string& file, const std::string& field) {
  if (m.rows() != rows || m.cols() != cols)
    throw file_error(fmt::format("{}: field '{}': is {}x{}; expected {}x{} for this architecture",
                                 file, field, m.rows(), m.cols(), rows, cols));
}

inline void check_count(std::size_t have, std::size_t want, const std::string& file,
                        const std::string& field) {
  if (have != want)
    throw file_error(
        fmt::format("{}: field '{}': has {} entries; expected {}", file, field, have, want));
}

}  // namespace apical::learning::detail
