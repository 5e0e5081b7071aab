#include "train_files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::app {

void write_file_atomically(const std::filesystem::path& file, std::string_view bytes) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    throw file_error(fmt::format("{}: cannot be written: {}", tmp.string(), std::strerror(errno)));
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                       std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw file_error(fmt::format("{}: write failed: {}", tmp.string(), std::strerror(saved)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw file_error(fmt::format("{}: cannot replace it: {}", file.string(), ec.message()));
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw file_error(fmt::format("{}: cannot be opened", file.string()));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw file_error(fmt::format("{}: read failed", file.string()));
  return bytes;
}

}  // namespace apical::app
