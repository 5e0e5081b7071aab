#pragma once
// A streaming reader for tar archives (POSIX ustar, with the GNU long-name
// and pax path extensions), so a .tar.gz can be read member by member without
// unpacking it. Headers are checksum-verified; sizes may be octal or GNU
// base-256.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "apical/datasets/byte_source.hpp"

namespace apical::datasets {

struct tar_entry {
  std::string path;          // as stored, e.g. "cifar-10-batches-bin/test_batch.bin"
  std::uint64_t size = 0;    // bytes of content
  char type = '0';           // '0' regular file, '5' directory, ...
  std::uint64_t offset = 0;  // offset of the header block in the archive
  bool is_file() const { return type == '0' || type == '\0' || type == '7'; }
};

class tar_reader {
 public:
  // `archive` must outlive the reader.
  explicit tar_reader(byte_source& archive);
  ~tar_reader();
  tar_reader(const tar_reader&) = delete;
  tar_reader& operator=(const tar_reader&) = delete;

  // Moves to the next entry, skipping what is left of the current one.
  // Returns nullopt at the end of the archive. Throws file_error naming the
  // archive and the header offset on a malformed header.
  std::optional<tar_entry> next();

  // The content of the current entry: at most entry.size bytes, named
  // "<archive>: <entry path>" in error messages. Valid until next().
  byte_source& contents();

 private:
  class entry_source;
  std::optional<tar_entry> read_header();

  byte_source& archive_;
  std::unique_ptr<entry_source> current_;
  bool ended_ = false;
};

}  // namespace apical::datasets
