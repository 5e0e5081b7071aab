#pragma once
// Byte sources: a file, a gzip stream or a buffer, read front to back.
//
// Every reader in this module parses from a byte_source, so a gzip file or a
// member of a .tar.gz is decoded as it is read (never unpacked to disk), and
// every error can name the input and the offset at which it went wrong.
// Offsets are positions in the decoded bytes, counted from 0.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apical::datasets {

class byte_source {
 public:
  explicit byte_source(std::string name) : name_(std::move(name)) {}
  virtual ~byte_source() = default;
  byte_source(const byte_source&) = delete;
  byte_source& operator=(const byte_source&) = delete;

  // Fills `out` and returns out.size(), or fewer bytes only at the end of the
  // data. Throws apical::file_error when the data cannot be read or decoded.
  std::size_t read(std::span<std::uint8_t> out) {
    const std::size_t n = do_read(out);
    offset_ += n;
    return n;
  }
  // The input in error messages: a path, or "archive.tar.gz: member".
  const std::string& name() const { return name_; }
  // Bytes delivered so far.
  std::uint64_t offset() const { return offset_; }
  // Bytes left, when known without reading them (plain files and buffers).
  virtual std::optional<std::uint64_t> remaining() const { return std::nullopt; }

 private:
  virtual std::size_t do_read(std::span<std::uint8_t> out) = 0;

  std::string name_;
  std::uint64_t offset_ = 0;
};

// Opens a file; decodes it as gzip when it starts with the gzip magic bytes
// (1f 8b), whatever its name. Throws file_error when it cannot be opened.
std::unique_ptr<byte_source> open_file(const std::filesystem::path& path);

// A buffer, decoded as gzip when it starts with the gzip magic bytes. The
// buffer must outlive the source.
std::unique_ptr<byte_source> open_buffer(std::span<const std::uint8_t> bytes, std::string name);

// Decodes the gzip stream (one or more members) that `compressed` delivers.
std::unique_ptr<byte_source> gunzip(std::unique_ptr<byte_source> compressed);

// Reads exactly out.size() bytes or throws file_error naming the source, the
// offset where the data ended and `what` was being read.
void read_exact(byte_source& in, std::span<std::uint8_t> out, std::string_view what);

// Appends exactly `count` bytes to `out`, reading in large chunks; memory
// grows with the data actually read, so a header that claims more data than
// the input holds fails with file_error instead of a huge allocation.
void append_exact(byte_source& in, std::vector<std::uint8_t>& out, std::uint64_t count,
                  std::string_view what);

// Reads and discards `count` bytes (throws file_error if fewer are left).
void skip_exact(byte_source& in, std::uint64_t count, std::string_view what);

// Reads everything that is left, failing past `limit` bytes.
std::vector<std::uint8_t> read_all(byte_source& in, std::uint64_t limit, std::string_view what);

// True when the source has no bytes left (reads one byte to find out, so only
// use it at the point where the data should end).
bool at_end(byte_source& in);

}  // namespace apical::datasets
