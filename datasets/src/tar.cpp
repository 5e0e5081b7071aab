#include "apical/datasets/tar.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::datasets {
namespace {

constexpr std::size_t block_bytes = 512;
constexpr std::uint64_t max_long_name_bytes = 64 * 1024;
constexpr std::uint64_t max_pax_bytes = 1024 * 1024;

using block = std::array<std::uint8_t, block_bytes>;

std::uint64_t padding_after(std::uint64_t size) {
  return (block_bytes - size % block_bytes) % block_bytes;
}

std::string field_text(const block& b, std::size_t at, std::size_t width) {
  const auto* first = reinterpret_cast<const char*>(b.data() + at);
  return std::string(first, std::find(first, first + width, '\0'));
}

// A numeric header field: octal text (space or NUL terminated), or GNU
// base-256 when the high bit of the first byte is set.
std::uint64_t field_number(const block& b, std::size_t at, std::size_t width,
                           std::string_view field, const std::string& archive,
                           std::uint64_t header_offset) {
  const auto bad = [&](std::string_view why) {
    return file_error(fmt::format("{}: tar header at offset {}: field '{}' {}", archive,
                                  header_offset, field, why));
  };
  if ((b[at] & 0x80) != 0) {
    if (b[at] != 0x80) throw bad("is a negative or oversized base-256 number");
    std::uint64_t value = 0;
    for (std::size_t i = 1; i < width; ++i) {
      if (value >> 56 != 0) throw bad("is too large");
      value = (value << 8) | b[at + i];
    }
    return value;
  }
  std::size_t i = at;
  const std::size_t end = at + width;
  while (i < end && b[i] == ' ') ++i;
  std::uint64_t value = 0;
  bool any = false;
  for (; i < end && b[i] >= '0' && b[i] <= '7'; ++i) {
    if (value >> 60 != 0) throw bad("is too large");
    value = value * 8 + (b[i] - '0');
    any = true;
  }
  for (; i < end; ++i) {
    if (b[i] != ' ' && b[i] != '\0') throw bad("is not an octal number");
  }
  if (!any) throw bad("is empty; expected an octal number");
  return value;
}

}  // namespace

// The content of the current entry, bounded by its size.
class tar_reader::entry_source final : public byte_source {
 public:
  entry_source(byte_source& archive, const tar_entry& entry)
      : byte_source(fmt::format("{}: {}", archive.name(), entry.path)),
        archive_(archive),
        left_(entry.size) {}

  std::uint64_t left() const { return left_; }
  // As the header says; a truncated archive is still caught when read.
  std::optional<std::uint64_t> remaining() const override { return left_; }

 private:
  std::size_t do_read(std::span<std::uint8_t> out) override {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), left_));
    const std::size_t n = archive_.read(out.first(want));
    left_ -= n;
    if (n < want) {
      throw file_error(fmt::format(
          "{}: truncated at offset {}: the archive ends {} bytes before the end of this member",
          name(), offset() + n, left_));
    }
    return n;
  }

  byte_source& archive_;
  std::uint64_t left_;
};

tar_reader::tar_reader(byte_source& archive) : archive_(archive) {}
tar_reader::~tar_reader() = default;

byte_source& tar_reader::contents() {
  if (!current_) throw std::logic_error("tar_reader::contents() called before next()");
  return *current_;
}

std::optional<tar_entry> tar_reader::next() {
  if (current_) {
    const std::uint64_t left = current_->left();
    const std::uint64_t pad = padding_after(current_->offset() + left);
    skip_exact(archive_, left + pad, fmt::format("the rest of member '{}'", current_->name()));
    current_.reset();
  }
  if (ended_) return std::nullopt;
  auto entry = read_header();
  if (!entry) {
    ended_ = true;
    return std::nullopt;
  }
  current_ = std::make_unique<entry_source>(archive_, *entry);
  return entry;
}

std::optional<tar_entry> tar_reader::read_header() {
  std::optional<std::string> long_path;
  std::optional<std::uint64_t> pax_size;
  while (true) {
    block b{};
    const std::uint64_t at = archive_.offset();
    const std::size_t n = archive_.read(b);
    if (n == 0) return std::nullopt;  // no end-of-archive blocks: accepted, as GNU tar does
    if (n < block_bytes) {
      throw file_error(fmt::format(
          "{}: truncated at offset {}: a tar header needs {} bytes, but the archive ends after {}",
          archive_.name(), at + n, block_bytes, n));
    }
    if (std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; })) {
      return std::nullopt;  // end-of-archive marker
    }

    const std::uint64_t stored = field_number(b, 148, 8, "chksum", archive_.name(), at);
    std::uint64_t sum_unsigned = 0;
    std::int64_t sum_signed = 0;
    for (std::size_t i = 0; i < block_bytes; ++i) {
      const std::uint8_t x = (i >= 148 && i < 156) ? std::uint8_t{' '} : b[i];
      sum_unsigned += x;
      sum_signed += static_cast<std::int8_t>(x);
    }
    if (stored != sum_unsigned && static_cast<std::int64_t>(stored) != sum_signed) {
      throw file_error(fmt::format(
          "{}: tar header at offset {}: field 'chksum' is {}, but the header sums to {}; "
          "expected a tar archive (is the file corrupt, or not a tar?)",
          archive_.name(), at, stored, sum_unsigned));
    }

    tar_entry entry;
    entry.offset = at;
    entry.type = static_cast<char>(b[156]);
    entry.size = field_number(b, 124, 12, "size", archive_.name(), at);
    entry.path = field_text(b, 0, 100);
    if (field_text(b, 257, 6) == "ustar") {
      const std::string prefix = field_text(b, 345, 155);
      if (!prefix.empty()) entry.path = prefix + "/" + entry.path;
    }

    const auto read_meta = [&](std::uint64_t limit, std::string_view what) {
      if (entry.size > limit) {
        throw file_error(
            fmt::format("{}: tar header at offset {}: {} of {} bytes; expected at most {}",
                        archive_.name(), at, what, entry.size, limit));
      }
      std::vector<std::uint8_t> text;
      append_exact(archive_, text, entry.size, what);
      skip_exact(archive_, padding_after(entry.size), "tar padding");
      return std::string(text.begin(), text.end());
    };

    if (entry.type == 'L') {  // GNU: the next entry's path
      std::string text = read_meta(max_long_name_bytes, "a GNU long name");
      long_path = text.substr(0, text.find('\0'));
      continue;
    }
    if (entry.type == 'x') {  // pax: "LEN key=value\n" records for the next entry
      const std::string text = read_meta(max_pax_bytes, "a pax header");
      std::size_t pos = 0;
      while (pos < text.size()) {
        const std::size_t space = text.find(' ', pos);
        std::size_t len = 0;
        for (std::size_t i = pos; i < space && i < text.size(); ++i) {
          if (text[i] < '0' || text[i] > '9' || len > text.size()) {
            len = 0;
            break;
          }
          len = len * 10 + static_cast<std::size_t>(text[i] - '0');
        }
        if (space == std::string::npos || len == 0 || pos + len > text.size() ||
            space >= pos + len || text[pos + len - 1] != '\n') {
          throw file_error(fmt::format(
              "{}: pax header at offset {}: malformed record at byte {}; expected \"LENGTH "
              "key=value\\n\"",
              archive_.name(), at, pos));
        }
        const std::string_view record(text.data() + space + 1, pos + len - 1 - (space + 1));
        const std::size_t eq = record.find('=');
        if (eq != std::string_view::npos) {
          const std::string_view key = record.substr(0, eq);
          const std::string_view value = record.substr(eq + 1);
          if (key == "path") long_path = std::string(value);
          if (key == "size") {
            std::uint64_t v = 0;
            for (char c : value) {
              if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) {
                throw file_error(
                    fmt::format("{}: pax header at offset {}: size '{}' is not a decimal number",
                                archive_.name(), at, value));
              }
              v = v * 10 + static_cast<std::uint64_t>(c - '0');
            }
            pax_size = v;
          }
        }
        pos += len;
      }
      continue;
    }
    if (entry.type == 'g' || entry.type == 'K') {  // global pax header, GNU long link name
      skip_exact(archive_, entry.size + padding_after(entry.size), "a tar extension header");
      continue;
    }
    if (long_path) entry.path = *long_path;
    if (pax_size) entry.size = *pax_size;
    return entry;
  }
}

}  // namespace apical::datasets
