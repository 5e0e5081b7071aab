#pragma once
// CIFAR-10, binary version.
//
// A batch file is a sequence of 3073-byte records: 1 label byte (0-9), then
// the 32x32 red, green and blue planes, row-major. The official files hold
// 10,000 records each: data_batch_1.bin .. data_batch_5.bin (training) and
// test_batch.bin. batches.meta.txt lists the 10 class names, one a line.
// They come in cifar-10-binary.tar.gz under cifar-10-batches-bin/; the
// loader reads them straight from the tarball (see loader.hpp).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "apical/datasets/byte_source.hpp"
#include "apical/datasets/dataset.hpp"
#include "apical/datasets/idx.hpp"

namespace apical::datasets {

inline constexpr image_shape cifar10_shape{3, 32, 32};
inline constexpr std::size_t cifar10_classes = 10;
inline constexpr std::size_t cifar10_record_bytes = 1 + 3 * 32 * 32;
inline constexpr std::size_t cifar10_records_per_file = 10000;

struct cifar_batch {
  std::vector<std::uint8_t> pixels;  // records x 3072 bytes
  std::vector<std::uint8_t> labels;
};

// Reads records until the end of the input, or `max_records` of them. With
// `expected_records` > 0 the input must hold exactly that many (checked up
// front when its size is known). Throws file_error naming the input, the
// record and offset, and what was expected.
cifar_batch read_cifar_batch(byte_source& in, std::size_t expected_records = 0,
                             std::size_t max_records = all_items);
cifar_batch read_cifar_batch(const std::filesystem::path& path, std::size_t expected_records = 0,
                             std::size_t max_records = all_items);

// The class names of batches.meta.txt: exactly 10 non-empty lines (blank
// lines and surrounding spaces ignored).
std::vector<std::string> read_cifar_class_names(byte_source& in);

}  // namespace apical::datasets
