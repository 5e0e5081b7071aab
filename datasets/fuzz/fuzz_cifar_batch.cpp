// libFuzzer target: the CIFAR-10 batch reader and the class-name list, on
// plain or gzip input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "apical/datasets/byte_source.hpp"
#include "apical/datasets/cifar.hpp"
#include "apical/engine/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    const auto in = apical::datasets::open_buffer(bytes, "fuzz-input");
    const auto batch = apical::datasets::read_cifar_batch(*in);
    if (batch.pixels.size() != batch.labels.size() * 3072) __builtin_trap();
    for (const auto label : batch.labels) {
      if (label >= apical::datasets::cifar10_classes) __builtin_trap();
    }
  } catch (const apical::file_error&) {
  }
  try {
    const auto in = apical::datasets::open_buffer(bytes, "fuzz-input");
    const auto names = apical::datasets::read_cifar_class_names(*in);
    if (names.size() != apical::datasets::cifar10_classes) __builtin_trap();
  } catch (const apical::file_error&) {
  }
  return 0;
}
