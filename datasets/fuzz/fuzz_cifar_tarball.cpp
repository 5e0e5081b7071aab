// libFuzzer target: gzip + tar + CIFAR-10 batches, the path that reads
// cifar-10-binary.tar.gz. The input is written to a temporary file and
// loaded as a tarball (any whole number of records accepted).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>

#include "apical/datasets/byte_source.hpp"
#include "apical/datasets/loader.hpp"
#include "apical/datasets/tar.hpp"
#include "apical/engine/error.hpp"

namespace {

const std::filesystem::path& scratch_file() {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("apical-fuzz-" + std::to_string(::getpid()) + ".tar.gz");
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ds = apical::datasets;
  // The tar reader alone, over every member.
  try {
    const auto in = ds::open_buffer(std::span(data, size), "fuzz-input");
    ds::tar_reader tar(*in);
    while (const auto entry = tar.next()) {
      if (entry->path.size() > 1u << 20) __builtin_trap();
    }
  } catch (const apical::file_error&) {
  }
  // The whole CIFAR-10 tarball loader.
  if (std::FILE* f = std::fopen(scratch_file().c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    ds::data_location loc;
    loc.id = ds::dataset_id::cifar10;
    loc.kind = ds::storage::cifar_tarball;
    loc.files = {scratch_file()};
    ds::load_options options;
    options.cifar_records_per_file = 0;
    try {
      const auto loaded = ds::load_dataset(loc, options);
      if (loaded.train.class_count() != 10) __builtin_trap();
    } catch (const apical::file_error&) {
    }
  }
  return 0;
}
