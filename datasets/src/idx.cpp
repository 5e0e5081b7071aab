#include "apical/datasets/idx.hpp"

#include <array>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::datasets {
namespace {

constexpr std::uint8_t idx_type_ubyte = 0x08;

std::string type_name(std::uint8_t type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0b:
      return "short";
    case 0x0c:
      return "int";
    case 0x0d:
      return "float";
    case 0x0e:
      return "double";
    default:
      return "unknown";
  }
}

std::uint32_t big_endian(std::span<const std::uint8_t, 4> b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

}  // namespace

std::size_t idx_array::item_size() const {
  std::size_t size = 1;
  for (std::size_t d = 1; d < dims.size(); ++d) size *= dims[d];
  return size;
}

idx_array read_idx(byte_source& in, std::size_t expected_dims, std::size_t max_items) {
  const std::uint32_t expected_magic =
      (std::uint32_t{idx_type_ubyte} << 8) | static_cast<std::uint32_t>(expected_dims);
  std::array<std::uint8_t, 4> word{};
  read_exact(in, word, "the IDX magic number");
  const std::uint32_t magic = big_endian(word);
  if (magic != expected_magic) {
    std::string seen;
    if (word[0] == 0 && word[1] == 0) {
      seen = fmt::format(" ({}, {} dimension{})", type_name(word[2]), word[3],
                         word[3] == 1 ? "" : "s");
    } else if (word[0] == 0x1f && word[1] == 0x8b) {
      seen = " (a gzip header inside the decoded data: compressed twice?)";
    } else {
      seen = " (not an IDX file)";
    }
    throw file_error(fmt::format(
        "{}: offset 0: magic number is 0x{:08x} ({}){}; expected 0x{:08x} ({}: unsigned bytes, "
        "{} dimension{}{})",
        in.name(), magic, magic, seen, expected_magic, expected_magic, expected_dims,
        expected_dims == 1 ? "" : "s",
        expected_dims == 3   ? ", an image file"
        : expected_dims == 1 ? ", a label file"
                             : ""));
  }

  idx_array out;
  out.dims.resize(expected_dims);
  std::uint64_t item_size = 1;
  for (std::size_t d = 0; d < expected_dims; ++d) {
    read_exact(in, word, fmt::format("dimension {} of the IDX header", d));
    out.dims[d] = big_endian(word);
    if (d > 0) {
      if (out.dims[d] == 0) {
        throw file_error(fmt::format("{}: offset {}: dimension {} is 0; expected a positive size",
                                     in.name(), 4 + 4 * d, d));
      }
      // Each factor is < 2^32 and the product is kept < 2^32, so neither this
      // product nor count * item_size below can wrap.
      item_size *= out.dims[d];
      if (item_size >= (std::uint64_t{1} << 32)) {
        throw file_error(fmt::format(
            "{}: offset {}: dimensions make items of 2^32 bytes or more; expected an image "
            "or label file",
            in.name(), 4 + 4 * d));
      }
    }
  }

  const std::size_t count = std::min<std::size_t>(out.dims[0], max_items);
  append_exact(in, out.data, count * item_size,
               fmt::format("{} items of {} bytes (header dimension 0 says {} items)", count,
                           item_size, out.dims[0]));
  out.items = count;
  if (count == out.dims[0] && !at_end(in)) {
    const std::uint64_t end = 4 + 4 * expected_dims + count * item_size;
    throw file_error(fmt::format(
        "{}: offset {}: unexpected data after the last of the {} items the header declares; "
        "expected the end of the file",
        in.name(), end, out.dims[0]));
  }
  return out;
}

idx_array read_idx(const std::filesystem::path& path, std::size_t expected_dims,
                   std::size_t max_items) {
  const auto in = open_file(path);
  return read_idx(*in, expected_dims, max_items);
}

}  // namespace apical::datasets
