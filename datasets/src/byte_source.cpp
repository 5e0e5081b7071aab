#include "apical/datasets/byte_source.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::datasets {
namespace {

constexpr std::size_t read_chunk_bytes = std::size_t{16} << 20;
constexpr std::size_t gzip_input_bytes = std::size_t{1} << 20;

bool has_gzip_magic(std::span<const std::uint8_t> head) {
  return head.size() >= 2 && head[0] == 0x1f && head[1] == 0x8b;
}

class file_source final : public byte_source {
 public:
  explicit file_source(const std::filesystem::path& path) : byte_source(path.string()) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      throw file_error(fmt::format("{}: is a directory, expected a file", name()));
    }
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw file_error(fmt::format("{}: cannot open: {}", name(), std::strerror(errno)));
    }
    if (std::fseek(file_, 0, SEEK_END) == 0) {
      const long end = std::ftell(file_);
      if (end >= 0) size_ = static_cast<std::uint64_t>(end);
      std::fseek(file_, 0, SEEK_SET);
    }
  }
  ~file_source() override { std::fclose(file_); }

  std::optional<std::uint64_t> remaining() const override {
    if (!size_) return std::nullopt;
    return *size_ > offset() ? *size_ - offset() : 0;
  }

 private:
  std::size_t do_read(std::span<std::uint8_t> out) override {
    const std::size_t n = std::fread(out.data(), 1, out.size(), file_);
    if (n < out.size() && std::ferror(file_) != 0) {
      throw file_error(fmt::format("{}: read error at offset {}: {}", name(), offset() + n,
                                   std::strerror(errno)));
    }
    return n;
  }

  std::FILE* file_ = nullptr;
  std::optional<std::uint64_t> size_;
};

class buffer_source final : public byte_source {
 public:
  buffer_source(std::span<const std::uint8_t> bytes, std::string name)
      : byte_source(std::move(name)), bytes_(bytes) {}

  std::optional<std::uint64_t> remaining() const override { return bytes_.size() - pos_; }

 private:
  std::size_t do_read(std::span<std::uint8_t> out) override {
    const std::size_t n = std::min(out.size(), bytes_.size() - pos_);
    if (n > 0) std::memcpy(out.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// zlib inflate over another source. Handles concatenated members (as gzip
// itself does) and zero padding after the last member; anything else after
// the end of the stream is reported, since it means the file is not what it
// seems.
class gzip_source final : public byte_source {
 public:
  explicit gzip_source(std::unique_ptr<byte_source> compressed)
      : byte_source(compressed->name()),
        compressed_(std::move(compressed)),
        // No larger than the compressed data, when its size is known.
        input_(static_cast<std::size_t>(std::min<std::uint64_t>(
            gzip_input_bytes, compressed_->remaining().value_or(gzip_input_bytes) + 1))) {
    // 16 + MAX_WBITS: expect a gzip header and trailer (CRC-32 and size checked).
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
      throw file_error(fmt::format("{}: cannot start the gzip decoder (out of memory?)", name()));
    }
  }
  ~gzip_source() override { inflateEnd(&stream_); }

 private:
  std::uint64_t compressed_offset() const { return compressed_->offset() - stream_.avail_in; }

  bool refill() {
    const std::size_t n = compressed_->read(input_);
    stream_.next_in = input_.data();
    stream_.avail_in = static_cast<uInt>(n);
    return n > 0;
  }

  // Called at the end of a member: decides whether another member follows.
  void next_member() {
    while (true) {
      if (stream_.avail_in == 0 && !refill()) {
        finished_ = true;
        return;
      }
      if (stream_.next_in[0] == 0) {  // zero padding: skip it
        ++stream_.next_in;
        --stream_.avail_in;
        continue;
      }
      if (stream_.next_in[0] != 0x1f) {
        throw file_error(fmt::format(
            "{}: unexpected data (byte 0x{:02x}) after the end of the gzip stream at compressed "
            "offset {}; expected the end of the file or another gzip member",
            name(), stream_.next_in[0], compressed_offset()));
      }
      inflateReset(&stream_);
      return;
    }
  }

  std::size_t do_read(std::span<std::uint8_t> out) override {
    std::size_t produced = 0;
    while (produced < out.size() && !finished_) {
      if (stream_.avail_in == 0 && !refill()) {
        if (!started_) throw file_error(fmt::format("{}: empty file, expected gzip data", name()));
        throw file_error(fmt::format(
            "{}: gzip data ends early at compressed offset {} after {} decoded bytes; the file "
            "is truncated (fetch it again)",
            name(), compressed_offset(), offset() + produced));
      }
      started_ = true;
      const std::size_t want =
          std::min<std::size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
      stream_.next_out = out.data() + produced;
      stream_.avail_out = static_cast<uInt>(want);
      const int status = inflate(&stream_, Z_NO_FLUSH);
      produced += want - stream_.avail_out;
      if (status == Z_STREAM_END) {
        next_member();
      } else if (status == Z_BUF_ERROR) {
        continue;  // no progress possible: needs more input, refilled above
      } else if (status != Z_OK) {
        const char* why = stream_.msg != nullptr ? stream_.msg : "unknown zlib error";
        if (status == Z_MEM_ERROR) why = "out of memory";
        throw file_error(fmt::format(
            "{}: corrupt gzip data at compressed offset {} (decoded offset {}): {}; expected a "
            "valid gzip stream",
            name(), compressed_offset(), offset() + produced, why));
      }
    }
    return produced;
  }

  std::unique_ptr<byte_source> compressed_;
  std::vector<std::uint8_t> input_;
  z_stream stream_{};
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<byte_source> open_file(const std::filesystem::path& path) {
  auto file = std::make_unique<file_source>(path);
  std::array<std::uint8_t, 2> head{};
  {
    // Peek at the magic bytes through a second handle so `file` stays at 0.
    std::FILE* peek = std::fopen(path.c_str(), "rb");
    if (peek != nullptr) {
      const std::size_t n = std::fread(head.data(), 1, head.size(), peek);
      std::fclose(peek);
      if (n < head.size()) head = {};
    }
  }
  if (has_gzip_magic(head)) return gunzip(std::move(file));
  return file;
}

std::unique_ptr<byte_source> open_buffer(std::span<const std::uint8_t> bytes, std::string name) {
  auto buffer = std::make_unique<buffer_source>(bytes, std::move(name));
  if (has_gzip_magic(bytes)) return gunzip(std::move(buffer));
  return buffer;
}

std::unique_ptr<byte_source> gunzip(std::unique_ptr<byte_source> compressed) {
  return std::make_unique<gzip_source>(std::move(compressed));
}

void read_exact(byte_source& in, std::span<std::uint8_t> out, std::string_view what) {
  const std::uint64_t start = in.offset();
  const std::size_t n = in.read(out);
  if (n < out.size()) {
    throw file_error(fmt::format(
        "{}: truncated at offset {}: {} needs {} bytes from offset {}, but the data ends after {}",
        in.name(), start + n, what, out.size(), start, n));
  }
}

void append_exact(byte_source& in, std::vector<std::uint8_t>& out, std::uint64_t count,
                  std::string_view what) {
  const std::uint64_t start = in.offset();
  if (const auto left = in.remaining(); left && *left < count) {
    throw file_error(fmt::format(
        "{}: truncated: {} needs {} bytes from offset {}, but only {} are left (the data ends at "
        "offset {})",
        in.name(), what, count, start, *left, start + *left));
  }
  const std::size_t base = out.size();
  // Memory follows the data actually read: each read is at most as large as
  // what has arrived so far (min 1 MiB), so a header claiming gigabytes over
  // a short input costs little, and a real file grows in a few doublings.
  std::uint64_t done = 0;
  while (done < count) {
    const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(
        {count - done, std::max<std::uint64_t>(done, 1u << 20), read_chunk_bytes}));
    const std::size_t at = base + static_cast<std::size_t>(done);
    out.resize(at + chunk);
    const std::size_t n = in.read(std::span(out).subspan(at, chunk));
    done += n;
    if (n < chunk) {
      out.resize(base);
      throw file_error(fmt::format(
          "{}: truncated at offset {}: {} needs {} bytes from offset {}, but the data ends after "
          "{}",
          in.name(), start + done, what, count, start, done));
    }
  }
}

void skip_exact(byte_source& in, std::uint64_t count, std::string_view what) {
  const std::uint64_t start = in.offset();
  std::vector<std::uint8_t> scratch(
      static_cast<std::size_t>(std::min<std::uint64_t>(count, 1u << 20)));
  std::uint64_t done = 0;
  while (done < count) {
    const auto chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(count - done, scratch.size()));
    const std::size_t n = in.read(std::span(scratch).first(chunk));
    done += n;
    if (n < chunk) {
      throw file_error(
          fmt::format("{}: truncated at offset {}: {} needs {} bytes from offset {}, but the data "
                      "ends after {}",
                      in.name(), start + done, what, count, start, done));
    }
  }
}

std::vector<std::uint8_t> read_all(byte_source& in, std::uint64_t limit, std::string_view what) {
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, 64 * 1024> chunk{};
  while (true) {
    const std::size_t n = in.read(chunk);
    if (out.size() + n > limit) {
      throw file_error(fmt::format("{}: {} is larger than expected: more than {} bytes", in.name(),
                                   what, limit));
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (n < chunk.size()) return out;
  }
}

bool at_end(byte_source& in) {
  std::array<std::uint8_t, 1> probe{};
  return in.read(probe) == 0;
}

}  // namespace apical::datasets
