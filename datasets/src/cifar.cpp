#include "apical/datasets/cifar.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::datasets {
namespace {

// Reads start small (short or fuzzed inputs) and double up to about 3 MB.
constexpr std::size_t first_records_per_read = 16;
constexpr std::size_t max_records_per_read = 1024;
constexpr std::size_t pixel_bytes = cifar10_record_bytes - 1;

}  // namespace

cifar_batch read_cifar_batch(byte_source& in, std::size_t expected_records,
                             std::size_t max_records) {
  if (const auto size = in.remaining()) {
    if (*size % cifar10_record_bytes != 0) {
      throw file_error(fmt::format(
          "{}: holds {} bytes, not a whole number of {}-byte records (1 label byte + 3072 pixel "
          "bytes); the file is truncated or not a CIFAR-10 binary batch{}",
          in.name(), *size, cifar10_record_bytes,
          expected_records > 0
              ? fmt::format(" (expected {} bytes)", expected_records * cifar10_record_bytes)
              : ""));
    }
    if (expected_records > 0 && *size / cifar10_record_bytes != expected_records) {
      throw file_error(
          fmt::format("{}: holds {} records ({} bytes); expected {} records ({} bytes)", in.name(),
                      *size / cifar10_record_bytes, *size, expected_records,
                      expected_records * cifar10_record_bytes));
    }
  }

  cifar_batch out;
  if (const auto size = in.remaining()) {
    const std::size_t records = std::min<std::size_t>(*size / cifar10_record_bytes, max_records);
    out.pixels.reserve(records * pixel_bytes);
    out.labels.reserve(records);
  }
  std::vector<std::uint8_t> buffer;
  std::size_t records = 0;
  std::size_t per_read = first_records_per_read;
  bool complete = false;
  while (records < max_records) {
    const std::size_t want = std::min(per_read, max_records - records);
    per_read = std::min(2 * per_read, max_records_per_read);
    buffer.resize(want * cifar10_record_bytes);
    const std::uint64_t start = in.offset();
    const std::size_t n = in.read(buffer);
    const std::size_t whole = n / cifar10_record_bytes;
    out.labels.reserve(records + whole);
    out.pixels.reserve((records + whole) * pixel_bytes);
    for (std::size_t r = 0; r < whole; ++r) {
      const std::uint8_t* record = buffer.data() + r * cifar10_record_bytes;
      if (record[0] >= cifar10_classes) {
        throw file_error(fmt::format(
            "{}: record {} (offset {}): label is {}; expected 0 to {} (a CIFAR-10 class)",
            in.name(), records + r, start + r * cifar10_record_bytes, record[0],
            cifar10_classes - 1));
      }
      out.labels.push_back(record[0]);
      out.pixels.insert(out.pixels.end(), record + 1, record + cifar10_record_bytes);
    }
    records += whole;
    if (n % cifar10_record_bytes != 0) {
      throw file_error(fmt::format(
          "{}: truncated at offset {}: record {} needs {} bytes from offset {}, but the data ends "
          "after {}",
          in.name(), start + n, records, cifar10_record_bytes, start + whole * cifar10_record_bytes,
          n % cifar10_record_bytes));
    }
    if (n < buffer.size()) {
      complete = true;
      break;
    }
  }
  if (expected_records > 0 && complete && records != expected_records) {
    throw file_error(fmt::format("{}: holds {} records; expected {} ({} bytes)", in.name(), records,
                                 expected_records, expected_records * cifar10_record_bytes));
  }
  return out;
}

cifar_batch read_cifar_batch(const std::filesystem::path& path, std::size_t expected_records,
                             std::size_t max_records) {
  const auto in = open_file(path);
  return read_cifar_batch(*in, expected_records, max_records);
}

std::vector<std::string> read_cifar_class_names(byte_source& in) {
  const auto bytes = read_all(in, 64 * 1024, "the class-name list");
  const std::string text(bytes.begin(), bytes.end());
  std::vector<std::string> names;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::size_t first = pos;
    std::size_t last = eol;
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\0'; };
    while (first < last && blank(text[first])) ++first;
    while (last > first && blank(text[last - 1])) --last;
    if (last > first) names.push_back(text.substr(first, last - first));
    pos = eol + 1;
  }
  if (names.size() != cifar10_classes) {
    throw file_error(fmt::format("{}: holds {} class names; expected {}, one a line", in.name(),
                                 names.size(), cifar10_classes));
  }
  return names;
}

}  // namespace apical::datasets
