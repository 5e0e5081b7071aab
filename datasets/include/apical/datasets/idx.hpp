#pragma once
// IDX files (the MNIST and Fashion-MNIST format), plain or gzip-compressed.
//
// Layout (big-endian):
//   offset 0  magic: 0x00 0x00 <type> <dimension count>   (type 0x08 = uint8)
//   offset 4  one uint32 per dimension, the first being the item count
//   then      the items, row-major, one byte each
// Images: magic 0x00000803 (2051), dimensions N x rows x columns.
// Labels: magic 0x00000801 (2049), dimension N.
//
// Only unsigned-byte data is read (the type every MNIST-style file uses).
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "apical/datasets/byte_source.hpp"

namespace apical::datasets {

struct idx_array {
  std::vector<std::uint32_t> dims;  // as in the header; dims[0] is the item count in the file
  std::size_t items = 0;            // items actually read (<= dims[0])
  std::vector<std::uint8_t> data;   // items x product(dims[1..]) bytes
  std::size_t item_size() const;    // product(dims[1..]), 1 for a vector
};

inline constexpr std::size_t all_items = std::numeric_limits<std::size_t>::max();

// Reads an IDX array of `expected_dims` dimensions, stopping after
// `max_items` items (then the rest of the input is not read). With all items
// read, data after the last item is an error. Throws file_error naming the
// input, the offset or header field and what was expected.
idx_array read_idx(byte_source& in, std::size_t expected_dims, std::size_t max_items = all_items);
idx_array read_idx(const std::filesystem::path& path, std::size_t expected_dims,
                   std::size_t max_items = all_items);

}  // namespace apical::datasets
