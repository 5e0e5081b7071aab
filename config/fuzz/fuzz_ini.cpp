// libFuzzer target: the INI reader on any text. Malformed input must end in
// apical::parameter_error naming the source and line, never in a crash or a
// hang.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "apical/config/ini.hpp"
#include "apical/engine/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto entries = apical::config::read_ini(in, "fuzz.ini");
    for (const auto& e : entries)
      if (e.line == 0) __builtin_trap();  // every entry knows its line
  } catch (const apical::parameter_error& e) {
    if (std::string(e.what()).rfind("fuzz.ini:", 0) != 0) __builtin_trap();
  }
  return 0;
}
