#pragma once
// Checkpoint files: the whole future of a simulation at a run boundary
// (simulator::save, simulator::restore).
//
// Layout, little-endian as the machine writes it:
//
//   offset  size  field
//   0       8     magic "APICALCK"
//   8       4     format version (checkpoint_format_version)
//   12      4     reserved (0)
//   16      8     network hash (of the description that opens the payload)
//   24      8     payload size in bytes
//   32      8     payload checksum (checkpoint_checksum)
//   40      ...   payload
//
// The payload is a sequence of fields written by checkpoint_writer; every
// array carries its element count, checked against the bytes left before
// anything is allocated (checkpoint_reader). A reader refuses a file whose
// magic, version, size or checksum is wrong, naming the file and the field.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {

inline constexpr std::uint32_t checkpoint_format_version = 2;
inline constexpr std::size_t checkpoint_header_bytes = 40;

// A 64-bit hash of bytes (word-wise multiply-xorshift; not cryptographic:
// it finds corruption, not tampering).
std::uint64_t checkpoint_checksum(std::string_view bytes);

class checkpoint_writer {
 public:
  // Writes into `buffer` (emptied first; its capacity is kept, so a
  // buffer reused from one checkpoint to the next is not allocated again).
  explicit checkpoint_writer(std::string buffer = {}) : bytes_(std::move(buffer)) {
    bytes_.clear();
  }
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void put(const T& value) {
    raw(&value, sizeof(T));
  }
  // The element count (u64), then the elements.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void array(std::span<const T> values) {
    put(std::uint64_t{values.size()});
    raw(values.data(), values.size_bytes());
  }
  void text(std::string_view s) { array(std::span<const char>(s.data(), s.size())); }
  void raw(const void* data, std::size_t bytes) {
    bytes_.append(static_cast<const char*>(data), bytes);
  }
  const std::string& bytes() const { return bytes_; }
  std::string release() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Reads what checkpoint_writer wrote; every failure throws file_error naming
// the source and the field.
class checkpoint_reader {
 public:
  checkpoint_reader(std::string_view bytes, std::string source)
      : bytes_(bytes), source_(std::move(source)) {}

  template <class T>
    requires std::is_trivially_copyable_v<T>
  T get(std::string_view field) {
    need(sizeof(T), field);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  // An array of exactly `expected` elements (the size is checked before the
  // vector grows).
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void array(std::vector<T>& out, std::uint64_t expected, std::string_view field) {
    const auto n = count<T>(field);
    if (n != expected)
      throw file_error(fmt::format("{}: checkpoint field '{}' holds {} elements, this network "
                                   "needs {}",
                                   source_, field, n, expected));
    take(out, n);
  }
  // An array of any length that the bytes left can hold.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void array(std::vector<T>& out, std::string_view field) {
    take(out, count<T>(field));
  }
  std::string text(std::string_view field) {
    std::vector<char> chars;
    array(chars, field);
    return {chars.begin(), chars.end()};
  }
  // Throws unless every byte was read.
  void expect_end() const;
  const std::string& source() const { return source_; }

 private:
  void need(std::uint64_t bytes, std::string_view field) const;
  template <class T>
  std::uint64_t count(std::string_view field) {
    const auto n = get<std::uint64_t>(field);
    if (n > (bytes_.size() - pos_) / sizeof(T))
      throw file_error(fmt::format(
          "{}: checkpoint field '{}' claims {} elements of {} bytes, but only {} bytes are left",
          source_, field, n, sizeof(T), bytes_.size() - pos_));
    return n;
  }
  template <class T>
  void take(std::vector<T>& out, std::uint64_t n) {
    out.resize(n);
    if (n > 0)  // (an empty vector's data() may be null, which memcpy must not get)
      std::memcpy(out.data(), bytes_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
  }

  std::string_view bytes_;
  std::string source_;
  std::size_t pos_ = 0;
};

// State that a listener of the simulator keeps beside the engine's (a
// plastic projection's weights and traces): simulator::save writes the
// parts it is given after the engine's state, simulator::restore reads
// them back in the same order (after now() is restored).
class checkpoint_part {
 public:
  // The projection whose deliveries the part listens to and whose weights
  // it changes (and saves): the network description then hashes that
  // projection's synapses without their weights, and adds the part's line.
  virtual std::size_t checkpoint_projection() const = 0;
  // What the part is, with its parameters: one line, no newline.
  virtual std::string checkpoint_description() const = 0;
  virtual void save(checkpoint_writer& w) const = 0;
  // Throws file_error naming r.source() and the field that is wrong.
  virtual void load(checkpoint_reader& r) = 0;

 protected:
  ~checkpoint_part() = default;
};

// Writes header and payload.
void write_checkpoint(std::ostream& out, std::uint64_t network_hash, std::string_view payload);
// The header write_checkpoint writes before the payload.
std::string checkpoint_header(std::uint64_t network_hash, std::string_view payload);
// A checkpoint's bytes, for a caller that writes them itself (the file is
// header then payload). Reusing one keeps its buffers' room.
struct checkpoint_image {
  std::uint64_t network_hash = 0;
  std::string payload;
  // (its checksum is a pass over the payload: on the writer's thread)
  std::string header() const { return checkpoint_header(network_hash, payload); }
};
// Reads a checkpoint and checks magic, version, payload size (against
// max_payload_bytes and against the bytes present) and checksum; returns
// the payload and sets network_hash. `source` names the input in messages.
std::string read_checkpoint(std::istream& in, std::string_view source,
                            std::uint64_t& network_hash,
                            std::uint64_t max_payload_bytes = std::uint64_t{1} << 40);

}  // namespace apical
