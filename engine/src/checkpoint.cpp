#include "apical/engine/checkpoint.hpp"


#include <algorithm>
#include <array>
#include <cerrno>
#include <istream>
#include <ostream>
#include <system_error>

namespace apical {
namespace {
constexpr std::array<char, 8> magic = {'A', 'P', 'I', 'C', 'A', 'L', 'C', 'K'};

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::uint64_t checkpoint_checksum(std::string_view bytes) {
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ bytes.size();
  std::size_t k = 0;
  for (; k + 8 <= bytes.size(); k += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + k, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; k < bytes.size(); ++k) h = (h ^ static_cast<unsigned char>(bytes[k])) * 0x100000001b3ULL;
  return mix(h);
}

void checkpoint_reader::need(std::uint64_t bytes, std::string_view field) const {
  if (bytes > bytes_.size() - pos_)
    throw file_error(fmt::format("{}: checkpoint ends inside field '{}' ({} bytes needed, {} left)",
                                 source_, field, bytes, bytes_.size() - pos_));
}

void checkpoint_reader::expect_end() const {
  if (pos_ != bytes_.size())
    throw file_error(fmt::format("{}: {} unexpected bytes after the checkpoint's last field",
                                 source_, bytes_.size() - pos_));
}

std::string checkpoint_header(std::uint64_t network_hash, std::string_view payload) {
  checkpoint_writer h;
  h.raw(magic.data(), magic.size());
  h.put(checkpoint_format_version);
  h.put(std::uint32_t{0});
  h.put(network_hash);
  h.put(std::uint64_t{payload.size()});
  h.put(checkpoint_checksum(payload));
  return h.release();
}

void write_checkpoint(std::ostream& out, std::uint64_t network_hash, std::string_view payload) {
  const std::string header = checkpoint_header(network_hash, payload);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
}

std::string read_checkpoint(std::istream& in, std::string_view source,
                            std::uint64_t& network_hash, std::uint64_t max_payload_bytes) {
  std::array<char, checkpoint_header_bytes> header{};
  in.read(header.data(), header.size());
  if (in.gcount() != static_cast<std::streamsize>(header.size()))
    throw file_error(fmt::format("{}: not a checkpoint: {} bytes, shorter than the {}-byte header",
                                 source, in.gcount(), header.size()));
  if (!std::equal(magic.begin(), magic.end(), header.begin()))
    throw file_error(fmt::format("{}: not a checkpoint (no 'APICALCK' magic at its start)", source));
  checkpoint_reader r(std::string_view(header.data() + magic.size(), header.size() - magic.size()),
                      std::string(source));
  const auto version = r.get<std::uint32_t>("version");
  if (version != checkpoint_format_version)
    throw file_error(fmt::format("{}: checkpoint format version {}, this build reads version {}",
                                 source, version, checkpoint_format_version));
  r.get<std::uint32_t>("reserved");
  network_hash = r.get<std::uint64_t>("network hash");
  const auto size = r.get<std::uint64_t>("payload size");
  const auto checksum = r.get<std::uint64_t>("checksum");
  if (size > max_payload_bytes)
    throw file_error(fmt::format("{}: checkpoint payload size {} bytes exceeds the limit of {}",
                                 source, size, max_payload_bytes));
  // Read in bounded chunks: a size field that lies costs no allocation
  // beyond what the input holds.
  std::string payload;
  constexpr std::size_t chunk = std::size_t{1} << 24;
  while (payload.size() < size && in) {
    const std::size_t want = std::min<std::uint64_t>(chunk, size - payload.size());
    const std::size_t at = payload.size();
    payload.resize(at + want);
    in.read(payload.data() + at, static_cast<std::streamsize>(want));
    payload.resize(at + static_cast<std::size_t>(in.gcount()));
  }
  if (payload.size() != size)
    throw file_error(fmt::format(
        "{}: checkpoint truncated: the header announces {} payload bytes, {} are present", source,
        size, payload.size()));
  if (in.peek() != std::char_traits<char>::eof())
    throw file_error(fmt::format("{}: checkpoint has bytes after its {}-byte payload", source, size));
  if (checkpoint_checksum(payload) != checksum)
    throw file_error(fmt::format(
        "{}: checkpoint corrupt: the payload checksum {:016x} does not match the header's {:016x}",
        source, checkpoint_checksum(payload), checksum));
  return payload;
}

}  // namespace apical
