#include "processes.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"

namespace apical::app {
namespace {

communicator* the_world = nullptr;

std::uint64_t add_bytes(std::uint64_t h, const char* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 0x100000001b3ULL;
  return h;
}

// The bytes of a regular file (up to 256 MiB), folded into h; h unchanged
// for anything else.
std::uint64_t add_file(std::uint64_t h, const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return h;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec || size > (std::uintmax_t{256} << 20)) return h;
  std::ifstream in(file, std::ios::binary);
  std::string buffer(1 << 16, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    h = add_bytes(h, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  return mix64(h ^ size);
}

}  // namespace

communicator* world() {
  return the_world;
}
void set_world(communicator* comm) {
  the_world = comm;
}
unsigned world_size() {
  return the_world ? the_world->size() : 1;
}
unsigned world_rank() {
  return the_world ? the_world->rank() : 0;
}
bool is_root() {
  return world_rank() == 0;
}

void check_same_start(int argc, char** argv) {
  if (world_size() <= 1) return;
  std::uint64_t program = add_file(0xcbf29ce484222325ULL, "/proc/self/exe");
  std::uint64_t arguments = 0xcbf29ce484222325ULL;
  std::uint64_t files = 0xcbf29ce484222325ULL;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    arguments = mix64(add_bytes(arguments, a.data(), a.size()));
    // --config=FILE as well as --config FILE
    const auto eq = a.find('=');
    files = add_file(files, std::filesystem::path(eq == std::string_view::npos ? a : a.substr(eq + 1)));
  }
  const auto programs = the_world->all_values(program);
  const auto argument_sets = the_world->all_values(arguments);
  const auto file_sets = the_world->all_values(files);
  for (unsigned r = 1; r < world_size(); ++r) {
    const char* what = programs[r] != programs[0]             ? "another apical program file"
                       : argument_sets[r] != argument_sets[0] ? "other arguments"
                       : file_sets[r] != file_sets[0]
                           ? "other contents of the files its arguments name (configuration, "
                             "plugins)"
                           : nullptr;
    if (what)
      throw parameter_error(fmt::format(
          "rank {} of {} was started with {} than rank 0; every rank must run the same program "
          "on the same command line and files",
          r, world_size(), what));
  }
}

}  // namespace apical::app
