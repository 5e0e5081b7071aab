#include <doctest/doctest.h>

#include "apical/datasets/idx.hpp"
#include "apical/engine/error.hpp"
#include "fixtures.hpp"

namespace ds = apical::datasets;
using namespace apical::datasets::testing;

TEST_CASE("read_idx reads images and labels, plain and gzip, whole or a prefix") {
  temp_dir dir;
  const bytes images = mnist_images(5);
  const bytes labels = mnist_labels(5);
  write_file(dir / "img", images);
  write_file(dir / "img.gz", gzip(images));
  write_file(dir / "lab.gz", gzip(labels));
  for (const char* name : {"img", "img.gz"}) {
    const auto a = ds::read_idx(dir / name, 3);
    CHECK(a.dims == std::vector<std::uint32_t>{5, 28, 28});
    CHECK(a.items == 5);
    CHECK(a.item_size() == 784);
    CHECK(a.data == bytes(images.begin() + 16, images.end()));
  }
  const auto l = ds::read_idx(dir / "lab.gz", 1);
  CHECK(l.dims == std::vector<std::uint32_t>{5});
  CHECK(l.data == bytes{0, 1, 2, 3, 4});

  const auto head = ds::read_idx(dir / "img.gz", 3, 2);
  CHECK(head.dims[0] == 5);
  CHECK(head.items == 2);
  CHECK(head.data == bytes(images.begin() + 16, images.begin() + 16 + 2 * 784));
  CHECK(ds::read_idx(dir / "img", 3, 0).data.empty());
}

TEST_CASE("read_idx: wrong magic numbers name the file, offset 0, what was found and expected") {
  temp_dir dir;
  write_file(dir / "labels", mnist_labels(3));
  const auto as_images = message_of<apical::file_error>([&] { ds::read_idx(dir / "labels", 3); });
  CHECK_CONTAINS(as_images, (dir / "labels").string() + ": offset 0: magic number is 0x00000801");
  CHECK_CONTAINS(as_images,
                 "expected 0x00000803 (2051: unsigned bytes, 3 dimensions, an image file)");

  write_file(dir / "float", idx_file({1}, bytes(4, 0)));
  auto floats = read_file(dir / "float");
  floats[2] = 0x0d;
  write_file(dir / "float", floats);
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_idx(dir / "float", 1); }),
                 "(float, 1 dimension); expected 0x00000801");

  write_file(dir / "text", bytes{'h', 'e', 'l', 'l', 'o'});
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_idx(dir / "text", 1); }),
                 "(not an IDX file)");

  write_file(dir / "twice.gz", gzip(gzip(mnist_labels(3))));
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_idx(dir / "twice.gz", 1); }),
                 "compressed twice?");
}

TEST_CASE("read_idx: truncated files say how many bytes were expected from which offset") {
  temp_dir dir;
  const bytes images = mnist_images(3);
  const bytes cut(images.begin(), images.end() - 10);
  write_file(dir / "cut", cut);
  const auto plain = message_of<apical::file_error>([&] { ds::read_idx(dir / "cut", 3); });
  CHECK_CONTAINS(plain, (dir / "cut").string() + ": truncated");
  CHECK_CONTAINS(plain,
                 "3 items of 784 bytes (header dimension 0 says 3 items) needs 2352 bytes "
                 "from offset 16, but only 2342 are left");

  write_file(dir / "cut.gz", gzip(cut));  // a complete gzip stream of a truncated IDX
  const auto gz = message_of<apical::file_error>([&] { ds::read_idx(dir / "cut.gz", 3); });
  CHECK_CONTAINS(gz, (dir / "cut.gz").string() + ": truncated at offset 2358");

  write_file(dir / "header", bytes(images.begin(), images.begin() + 10));
  CHECK_CONTAINS(
      message_of<apical::file_error>([&] { ds::read_idx(dir / "header", 3); }),
      "truncated at offset 10: dimension 1 of the IDX header needs 4 bytes from offset 8");

  write_file(dir / "empty", {});
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_idx(dir / "empty", 3); }),
                 "the IDX magic number needs 4 bytes from offset 0, but the data ends after 0");
}

TEST_CASE("read_idx: data after the declared items, zero or huge dimensions are errors") {
  temp_dir dir;
  bytes extra = mnist_labels(4);
  extra.push_back(9);
  write_file(dir / "extra", extra);
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_idx(dir / "extra", 1); }),
                 "offset 12: unexpected data after the last of the 4 items the header declares");
  // Reading a prefix does not look past it.
  CHECK(ds::read_idx(dir / "extra", 1, 2).data == bytes{0, 1});

  write_file(dir / "zero", idx_file({2, 0, 28}, {}));
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_idx(dir / "zero", 3); }),
                 "offset 8: dimension 1 is 0; expected a positive size");

  write_file(dir / "huge", idx_file({1, 0x10000, 0x10000}, {}));
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_idx(dir / "huge", 3); }),
                 "offset 12: dimensions make items of 2^32 bytes or more");

  // A header claiming 4 billion items over gzip (size unknown up front) fails
  // on the missing data without allocating for the claim.
  write_file(dir / "claim.gz", gzip(idx_file({0xffffffffu, 28, 28}, bytes(784 * 2, 1))));
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_idx(dir / "claim.gz", 3); }),
                 "truncated at offset 1584");
}
