#include <doctest/doctest.h>

#include <cstring>

#include "apical/datasets/tar.hpp"
#include "apical/engine/error.hpp"
#include "fixtures.hpp"

namespace ds = apical::datasets;
using namespace apical::datasets::testing;

namespace {

bytes text(std::string_view s) {
  return bytes(s.begin(), s.end());
}

// Recomputes the checksum of the header block at `at` after an edit.
void reseal(bytes& archive, std::size_t at) {
  std::memset(archive.data() + at + 148, ' ', 8);
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += archive[at + i];
  std::snprintf(reinterpret_cast<char*>(archive.data() + at + 148), 8, "%06o", sum);
  archive[at + 155] = ' ';
}

}  // namespace

TEST_CASE("tar_reader lists members with their paths and sizes, and reads their contents") {
  const bytes big(1500, 7);
  const bytes archive = tar_archive({{"dir/", {}, '5'},
                                     {"dir/a.txt", text("hello")},
                                     {"dir/big.bin", big},
                                     {"dir/empty", {}},
                                     {"dir/c.txt", text("world!")}});
  const auto in = ds::open_buffer(archive, "t.tar");
  ds::tar_reader tar(*in);

  auto e = tar.next();
  REQUIRE(e);
  CHECK(e->path == "dir/");
  CHECK(e->type == '5');
  CHECK_FALSE(e->is_file());

  e = tar.next();
  REQUIRE(e);
  CHECK(e->path == "dir/a.txt");
  CHECK(e->size == 5);
  CHECK(e->is_file());
  CHECK(e->offset == 512);
  CHECK(tar.contents().name() == "t.tar: dir/a.txt");
  CHECK(ds::read_all(tar.contents(), 100, "a") == text("hello"));

  e = tar.next();  // read only part of it: next() skips the rest and the padding
  REQUIRE(e);
  CHECK(e->path == "dir/big.bin");
  CHECK(e->size == 1500);
  bytes part(10);
  ds::read_exact(tar.contents(), part, "part");

  e = tar.next();
  REQUIRE(e);
  CHECK(e->path == "dir/empty");
  CHECK(e->size == 0);

  e = tar.next();
  REQUIRE(e);
  CHECK(e->path == "dir/c.txt");
  CHECK(ds::read_all(tar.contents(), 100, "c") == text("world!"));
  CHECK_FALSE(tar.next());
  CHECK_FALSE(tar.next());
}

TEST_CASE("tar_reader: the gzip-compressed archive reads the same") {
  const bytes archive = tar_archive({{"x/one", text("1")}, {"x/two", text("22")}});
  const bytes z = gzip(archive);
  const auto in = ds::open_buffer(z, "t.tar.gz");
  ds::tar_reader tar(*in);
  std::vector<std::string> paths;
  while (const auto e = tar.next()) paths.push_back(e->path);
  CHECK(paths == std::vector<std::string>{"x/one", "x/two"});
}

TEST_CASE("tar_reader: GNU long names, pax paths and ustar prefixes") {
  const std::string long_name(150, 'n');
  bytes longname_content = text(long_name);
  longname_content.push_back(0);
  const std::string record = "path=pax/renamed.bin\n";
  const std::string pax = std::to_string(record.size() + 3) + " " + record;  // "24 path=...\n"
  bytes archive = tar_archive({{"././@LongLink", longname_content, 'L'},
                               {"short", text("A")},
                               {"PaxHeaders/x", text(pax), 'x'},
                               {"orig.bin", text("B")},
                               {"name.txt", text("C")}});
  // Give the last member a ustar prefix: it follows four header + content pairs.
  const std::size_t last = 4 * 1024;
  std::memcpy(archive.data() + last + 345, "some/prefix", 11);
  reseal(archive, last);

  const auto in = ds::open_buffer(archive, "ext.tar");
  ds::tar_reader tar(*in);
  auto e = tar.next();
  REQUIRE(e);
  CHECK(e->path == long_name);
  CHECK(ds::read_all(tar.contents(), 10, "A") == text("A"));
  e = tar.next();
  REQUIRE(e);
  CHECK(e->path == "pax/renamed.bin");
  e = tar.next();
  REQUIRE(e);
  CHECK(e->path == "some/prefix/name.txt");
  CHECK_FALSE(tar.next());
}

TEST_CASE("tar_reader: a bad checksum, a bad size field or a truncated member is an error") {
  SUBCASE("checksum") {
    bytes archive = tar_archive({{"a", text("1")}, {"b", text("2")}});
    archive[1024 + 0] = 'z';  // second header's name, checksum not updated
    const auto in = ds::open_buffer(archive, "bad.tar");
    ds::tar_reader tar(*in);
    REQUIRE(tar.next());
    const auto msg = message_of<apical::file_error>([&] { tar.next(); });
    CHECK_CONTAINS(msg, "bad.tar: tar header at offset 1024: field 'chksum'");
    CHECK_CONTAINS(msg, "expected a tar archive");
  }
  SUBCASE("not a tar at all") {
    const bytes junk(2048, 'j');
    const auto in = ds::open_buffer(junk, "junk.tar");
    ds::tar_reader tar(*in);
    CHECK_CONTAINS(message_of<apical::file_error>([&] { tar.next(); }),
                   "junk.tar: tar header at offset 0: field 'chksum' is not an octal number");
  }
  SUBCASE("size") {
    bytes archive = tar_archive({{"a", text("1")}});
    std::memcpy(archive.data() + 124, "0000000009x", 11);
    reseal(archive, 0);
    const auto in = ds::open_buffer(archive, "size.tar");
    ds::tar_reader tar(*in);
    CHECK_CONTAINS(message_of<apical::file_error>([&] { tar.next(); }),
                   "size.tar: tar header at offset 0: field 'size' is not an octal number");
  }
  SUBCASE("truncated member") {
    const bytes archive = tar_archive({{"dir/m.bin", bytes(1000, 1)}});
    const bytes cut(archive.begin(), archive.begin() + 512 + 600);
    const auto in = ds::open_buffer(cut, "cut.tar");
    ds::tar_reader tar(*in);
    REQUIRE(tar.next());
    bytes out(1000);
    const auto msg =
        message_of<apical::file_error>([&] { ds::read_exact(tar.contents(), out, "m"); });
    CHECK_CONTAINS(msg, "cut.tar: dir/m.bin: truncated at offset 600");
  }
  SUBCASE("truncated header") {
    const bytes archive = tar_archive({{"a", text("1")}});
    const bytes cut(archive.begin(), archive.begin() + 1024 + 100);
    const auto in = ds::open_buffer(cut, "hdr.tar");
    ds::tar_reader tar(*in);
    REQUIRE(tar.next());
    CHECK_CONTAINS(message_of<apical::file_error>([&] { tar.next(); }),
                   "hdr.tar: truncated at offset 1124: a tar header needs 512 bytes");
  }
}
