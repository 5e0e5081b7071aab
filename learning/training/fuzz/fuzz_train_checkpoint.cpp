// libFuzzer target: the training checkpoint decoder (APTRAIN). Any bytes
// must be decoded or refused with apical::file_error naming the file, never
// crash, hang or allocate what their sizes claim before checking them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "apical/engine/error.hpp"
#include "apical/learning/training/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto c = apical::learning::decode_checkpoint(bytes, "fuzz.bin");
    // What decodes must encode back to the same bytes.
    if (apical::learning::encode_checkpoint(c) != bytes) __builtin_trap();
  } catch (const apical::file_error& e) {
    if (std::string(e.what()).find("fuzz.bin") == std::string::npos) __builtin_trap();
  }
  return 0;
}
