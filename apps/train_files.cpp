#include "train_files.hpp"

#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::app {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw file_error(fmt::format("{}: cannot be opened", file.string()));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw file_error(fmt::format("{}: read failed", file.string()));
  return bytes;
}

}  // namespace apical::app
