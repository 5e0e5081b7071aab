// libFuzzer target: the IDX reader, on plain or gzip input, as an image file
// (3 dimensions) and as a label file (1 dimension). Malformed input must end
// in apical::file_error, never in a crash, a hang or a huge allocation.
#include <cstddef>
#include <cstdint>
#include <span>

#include "apical/datasets/byte_source.hpp"
#include "apical/datasets/idx.hpp"
#include "apical/engine/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  for (const std::size_t dims : {std::size_t{3}, std::size_t{1}}) {
    try {
      const auto in = apical::datasets::open_buffer(bytes, "fuzz-input");
      const auto array = apical::datasets::read_idx(*in, dims);
      if (array.data.size() != array.items * array.item_size()) __builtin_trap();
    } catch (const apical::file_error&) {
    }
  }
  return 0;
}
