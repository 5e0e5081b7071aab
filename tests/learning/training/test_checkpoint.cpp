// The one checkpoint format: its checksum is the one checksum, and a file of
// another version or format is refused naming it.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "apical/engine/error.hpp"
#include "apical/learning/checksum.hpp"
#include "apical/learning/training/checkpoint.hpp"

namespace {

namespace learning = apical::learning;

// A small checkpoint; tests/apps/test_train_config.cpp round-trips every
// field.
learning::checkpoint sample() {
  learning::checkpoint c;
  c.kind = "microcircuit";
  c.weights = {learning::matrix(2, 3, 0.5f)};
  c.feedback = {learning::matrix(3, 2, -1.0f)};
  return c;
}

}  // namespace

TEST_CASE("checkpoint: the checksum is the one FNV-1a over every byte after the magic") {
  const std::string bytes = learning::encode_checkpoint(sample());
  std::uint64_t stored = 0;
  for (int i = 0; i < 8; ++i)
    stored |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[bytes.size() - 8 + i]))
              << (8 * i);
  CHECK(stored == learning::fnv1a(std::string_view(bytes).substr(8, bytes.size() - 16)));
}

TEST_CASE("checkpoint: another version is refused naming both versions") {
  std::string bytes = learning::encode_checkpoint(sample());
  bytes[8] = 9;
  CHECK_THROWS_WITH_AS(learning::decode_checkpoint(bytes, "old.bin"),
                       doctest::Contains("field 'version': is 9; expected 1 to 2"),
                       apical::file_error);
  CHECK_THROWS_WITH_AS(learning::decode_checkpoint("APRATENW", "net.bin"),
                       doctest::Contains("not an apical training checkpoint"), apical::file_error);
}

TEST_CASE("checkpoint: the homeostatic thresholds and dead fractions come back bit for bit") {
  auto c = sample();
  c.thresholds = {{-1.25, 0.1 + 0.2, -13.999999999}, {}};
  c.epochs_done = 1;
  learning::epoch_record e;
  e.epoch = 1;
  e.dead_fraction = {0.08, 1.0 / 3.0};
  c.history.epochs.push_back(e);
  const auto back = learning::decode_checkpoint(learning::encode_checkpoint(c), "c.bin");
  CHECK(back.thresholds == c.thresholds);
  REQUIRE(back.history.epochs.size() == 1);
  CHECK(back.history.epochs[0].dead_fraction == e.dead_fraction);
}
