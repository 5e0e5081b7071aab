#include <doctest/doctest.h>

#include <fmt/format.h>

#include "apical/datasets/byte_source.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "fixtures.hpp"

namespace ds = apical::datasets;
using namespace apical::datasets::testing;

namespace {

// Incompressible bytes, so the compressed stream spans many input chunks.
bytes noise(std::size_t n, std::uint64_t seed) {
  apical::rng r(seed);
  bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(r() >> 56);
  return out;
}

bytes read_everything(ds::byte_source& in) {
  return ds::read_all(in, 1u << 30, "test data");
}

}  // namespace

TEST_CASE("open_file reads plain files and decodes gzip by its magic bytes, not its name") {
  temp_dir dir;
  const bytes plain = noise(3'500'000, 1);
  write_file(dir / "plain.bin", plain);
  write_file(dir / "compressed.bin", gzip(plain));  // no .gz suffix on purpose
  for (const char* name : {"plain.bin", "compressed.bin"}) {
    const auto in = ds::open_file(dir / name);
    CHECK(in->name() == (dir / name).string());
    CHECK(read_everything(*in) == plain);
    CHECK(in->offset() == plain.size());
  }
  CHECK(ds::open_file(dir / "plain.bin")->remaining() == plain.size());
  CHECK_FALSE(ds::open_file(dir / "compressed.bin")->remaining().has_value());
}

TEST_CASE("gzip: concatenated members are one stream - zero padding after the end is ignored") {
  const bytes a = noise(1000, 2);
  const bytes b = noise(2000, 3);
  bytes two = gzip(a);
  const bytes gb = gzip(b);
  two.insert(two.end(), gb.begin(), gb.end());
  bytes expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  CHECK(read_everything(*ds::open_buffer(two, "two.gz")) == expected);

  bytes padded = gzip(a);
  padded.resize(padded.size() + 700, 0);
  CHECK(read_everything(*ds::open_buffer(padded, "padded.gz")) == a);
}

TEST_CASE("gzip: truncated, corrupt and trailing data give errors naming the file and offset") {
  temp_dir dir;
  const bytes plain = noise(200'000, 4);
  const bytes z = gzip(plain);

  SUBCASE("truncated") {
    write_file(dir / "cut.gz", bytes(z.begin(), z.end() - 100));
    const auto in = ds::open_file(dir / "cut.gz");
    const auto msg = message_of<apical::file_error>([&] { read_everything(*in); });
    CHECK_CONTAINS(msg, (dir / "cut.gz").string());
    CHECK_CONTAINS(msg, "truncated");
    CHECK_CONTAINS(msg, fmt::format("compressed offset {}", z.size() - 100));
  }
  SUBCASE("corrupt") {
    bytes bad = z;
    for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i) bad[i] ^= 0x5a;
    write_file(dir / "bad.gz", bad);
    const auto in = ds::open_file(dir / "bad.gz");
    const auto msg = message_of<apical::file_error>([&] { read_everything(*in); });
    CHECK_CONTAINS(msg, (dir / "bad.gz").string());
    CHECK_CONTAINS(msg, "corrupt gzip data at compressed offset");
  }
  SUBCASE("bad CRC in the trailer") {
    bytes bad = z;
    bad[bad.size() - 6] ^= 0xff;
    const auto in = ds::open_buffer(bad, "crc.gz");
    const auto msg = message_of<apical::file_error>([&] { read_everything(*in); });
    CHECK_CONTAINS(msg, "crc.gz: corrupt gzip data");
    CHECK_CONTAINS(msg, "incorrect data check");
  }
  SUBCASE("trailing garbage") {
    bytes bad = z;
    bad.push_back('x');
    const auto in = ds::open_buffer(bad, "tail.gz");
    const auto msg = message_of<apical::file_error>([&] { read_everything(*in); });
    CHECK_CONTAINS(msg, "tail.gz: unexpected data (byte 0x78) after the end of the gzip stream");
    CHECK_CONTAINS(msg, fmt::format("compressed offset {}", z.size()));
  }
  SUBCASE("a gzip header and nothing else") {
    const bytes head(z.begin(), z.begin() + 10);
    const auto in = ds::open_buffer(head, "head.gz");
    CHECK_CONTAINS(message_of<apical::file_error>([&] { read_everything(*in); }), "truncated");
  }
}

TEST_CASE("open_file: a missing file or a directory is an error naming it") {
  temp_dir dir;
  const auto missing = message_of<apical::file_error>([&] { ds::open_file(dir / "nope.gz"); });
  CHECK_CONTAINS(missing, (dir / "nope.gz").string());
  CHECK_CONTAINS(missing, "cannot open");
  CHECK_CONTAINS(missing, "No such file");
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::open_file(dir.path()); }),
                 "is a directory, expected a file");
}

TEST_CASE("read_exact, append_exact and skip_exact report where the data ended") {
  const bytes data = noise(100, 5);
  {
    const auto in = ds::open_buffer(data, "buf");
    bytes ten(10);
    ds::read_exact(*in, ten, "a header");
    CHECK(ten == bytes(data.begin(), data.begin() + 10));
    bytes big(200);
    const auto msg = message_of<apical::file_error>([&] { ds::read_exact(*in, big, "the body"); });
    CHECK(msg ==
          "buf: truncated at offset 100: the body needs 200 bytes from offset 10, but the "
          "data ends after 90");
  }
  {
    // Known size: refused before reading or allocating.
    const auto in = ds::open_buffer(data, "buf");
    bytes out;
    const auto msg =
        message_of<apical::file_error>([&] { ds::append_exact(*in, out, 1ull << 40, "items"); });
    CHECK_CONTAINS(msg,
                   "buf: truncated: items needs 1099511627776 bytes from offset 0, but only "
                   "100 are left");
    CHECK(in->offset() == 0);
  }
  {
    // Unknown size (gzip): fails when the data runs out, leaving `out` as it was.
    const bytes z = gzip(data);  // the source reads from this buffer: keep it alive
    const auto in = ds::open_buffer(z, "buf.gz");
    bytes out{1, 2, 3};
    const auto msg =
        message_of<apical::file_error>([&] { ds::append_exact(*in, out, 150, "items"); });
    CHECK_CONTAINS(msg, "buf.gz: truncated at offset 100: items needs 150 bytes");
    CHECK(out == bytes{1, 2, 3});
  }
  {
    const auto in = ds::open_buffer(data, "buf");
    ds::skip_exact(*in, 60, "padding");
    CHECK(in->offset() == 60);
    CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::skip_exact(*in, 41, "padding"); }),
                   "truncated at offset 100: padding needs 41 bytes from offset 60");
  }
}
