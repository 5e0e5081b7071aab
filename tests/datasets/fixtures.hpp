#pragma once
// Small dataset files written by the tests: IDX (plain and gzip), CIFAR-10
// batches, ustar archives. Independent of the readers under test: every
// format is written byte by byte from its specification.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

// Checks that `text` contains `part`, printing both when it does not.
#define CHECK_CONTAINS(text, part)                                 \
  CHECK_MESSAGE(std::string(text).find(part) != std::string::npos, \
                "\"" << (text) << "\" does not contain \"" << (part) << "\"")

namespace apical::datasets::testing {

// The message of the `Error` that f() throws, or a note that it threw none.
template <class Error, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no exception of the expected type was thrown>";
}

using bytes = std::vector<std::uint8_t>;

// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const bytes& content);
bytes read_file(const std::filesystem::path& path);

// gzip -c (one member).
bytes gzip(const bytes& plain);

// An IDX file of unsigned bytes with the given dimensions and items.
bytes idx_file(const std::vector<std::uint32_t>& dims, const bytes& items);
// n deterministic 28x28 images (pixel = (i * 31 + p) % 256) and labels i % 10.
bytes mnist_images(std::uint32_t n);
bytes mnist_labels(std::uint32_t n);
// Writes the four MNIST files for (train_n, test_n) samples into `dir`.
void write_mnist(const std::filesystem::path& dir, std::uint32_t train_n, std::uint32_t test_n,
                 bool compressed);

// CIFAR-10 records: label (first_label + i) % 10, pixels (i * 7 + p) % 256.
bytes cifar_records(std::size_t n, std::uint8_t first_label = 0);
std::string cifar_meta();

struct tar_member {
  std::string path;
  bytes content;
  char type = '0';
};
// A ustar archive (with end-of-archive blocks).
bytes tar_archive(const std::vector<tar_member>& members);
// cifar-10-batches-bin/ with `per_file` records in each batch.
std::vector<tar_member> cifar_members(std::size_t per_file);

}  // namespace apical::datasets::testing
