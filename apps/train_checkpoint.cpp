#include "train_checkpoint.hpp"

#include "train_files.hpp"

namespace apical::app {

void save_checkpoint(const checkpoint& c, const std::filesystem::path& file) {
  write_file_atomically(file, encode_checkpoint(c));
}

checkpoint load_checkpoint(const std::filesystem::path& file) {
  return decode_checkpoint(read_file(file), file.string());
}

}  // namespace apical::app
