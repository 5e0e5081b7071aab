#pragma once
// Files of a training run that must never be seen half-written: each is
// written to FILE.tmp, flushed to disk, and renamed over FILE (a rename
// within a folder is atomic on POSIX), so a crash leaves either the old or
// the new file, never a mixture.
#include <filesystem>
#include <string>
#include <string_view>

namespace apical::app {

// Throws file_error naming the file when it cannot be written.
void write_file_atomically(const std::filesystem::path& file, std::string_view bytes);

// The whole file; throws file_error naming it when it cannot be read.
std::string read_file(const std::filesystem::path& file);

}  // namespace apical::app
