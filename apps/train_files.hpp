#pragma once
// Files of a training run: written with write_file_atomically
// (apical/engine/files.hpp), read whole.
#include <filesystem>
#include <string>

#include "apical/engine/files.hpp"

namespace apical::app {

// The whole file; throws file_error naming it when it cannot be read.
std::string read_file(const std::filesystem::path& file);

}  // namespace apical::app
