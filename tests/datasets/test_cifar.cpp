#include <doctest/doctest.h>

#include "apical/datasets/cifar.hpp"
#include "apical/engine/error.hpp"
#include "fixtures.hpp"

namespace ds = apical::datasets;
using namespace apical::datasets::testing;

TEST_CASE("read_cifar_batch splits records into labels and R, G, B planes") {
  temp_dir dir;
  const bytes records = cifar_records(4, 3);
  write_file(dir / "b.bin", records);
  write_file(dir / "b.bin.gz", gzip(records));
  for (const char* name : {"b.bin", "b.bin.gz"}) {
    const auto batch = ds::read_cifar_batch(dir / name);
    CHECK(batch.labels == bytes{3, 4, 5, 6});
    REQUIRE(batch.pixels.size() == 4 * 3072);
    for (std::size_t i = 0; i < 4; ++i) {
      // Red plane first, then green, then blue, each 32x32 row-major.
      CHECK(batch.pixels[i * 3072] == records[i * 3073 + 1]);
      CHECK(batch.pixels[i * 3072 + 1024] == records[i * 3073 + 1 + 1024]);
      CHECK(batch.pixels[i * 3072 + 3071] == records[i * 3073 + 3072]);
    }
  }
  CHECK(ds::read_cifar_batch(dir / "b.bin", 4).labels.size() == 4);
  CHECK(ds::read_cifar_batch(dir / "b.bin", 0, 2).labels == bytes{3, 4});
  CHECK(ds::read_cifar_batch(dir / "b.bin.gz", 4, 3).labels == bytes{3, 4, 5});
}

TEST_CASE("read_cifar_batch: partial records, wrong record counts and bad labels are errors") {
  temp_dir dir;
  const bytes records = cifar_records(3);

  write_file(dir / "cut.bin", bytes(records.begin(), records.end() - 5));
  const auto cut =
      message_of<apical::file_error>([&] { ds::read_cifar_batch(dir / "cut.bin", 3); });
  CHECK_CONTAINS(cut, (dir / "cut.bin").string() +
                          ": holds 9214 bytes, not a whole number of "
                          "3073-byte records");
  CHECK_CONTAINS(cut, "(expected 9219 bytes)");

  // Through gzip the size is unknown until the data ends.
  write_file(dir / "cut.bin.gz", gzip(bytes(records.begin(), records.end() - 5)));
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_cifar_batch(dir / "cut.bin.gz"); }),
                 "cut.bin.gz: truncated at offset 9214: record 2 needs 3073 bytes from offset "
                 "6146, but the data ends after 3068");

  write_file(dir / "few.bin", records);
  CHECK_CONTAINS(
      message_of<apical::file_error>([&] { ds::read_cifar_batch(dir / "few.bin", 10000); }),
      "few.bin: holds 3 records (9219 bytes); expected 10000 records (30730000 bytes)");
  write_file(dir / "few.bin.gz", gzip(records));
  CHECK_CONTAINS(
      message_of<apical::file_error>([&] { ds::read_cifar_batch(dir / "few.bin.gz", 10000); }),
      "few.bin.gz: holds 3 records; expected 10000");

  bytes bad = records;
  bad[3073] = 12;
  write_file(dir / "label.bin", bad);
  CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::read_cifar_batch(dir / "label.bin"); }),
                 "label.bin: record 1 (offset 3073): label is 12; expected 0 to 9");
}

TEST_CASE("read_cifar_class_names reads ten names, one a line") {
  const std::string meta =
      "airplane\r\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\n truck \n\n";
  const bytes meta_bytes(meta.begin(), meta.end());
  const auto in = ds::open_buffer(meta_bytes, "batches.meta.txt");
  const auto names = ds::read_cifar_class_names(*in);
  REQUIRE(names.size() == 10);
  CHECK(names.front() == "airplane");
  CHECK(names.back() == "truck");

  const std::string short_list = "a\nb\n";
  const bytes short_bytes(short_list.begin(), short_list.end());
  const auto in2 = ds::open_buffer(short_bytes, "meta");
  CHECK(message_of<apical::file_error>([&] { ds::read_cifar_class_names(*in2); }) ==
        "meta: holds 2 class names; expected 10, one a line");
}
