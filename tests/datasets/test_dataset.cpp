#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "apical/datasets/dataset.hpp"
#include "apical/engine/error.hpp"
#include "fixtures.hpp"

namespace ds = apical::datasets;
using namespace apical::datasets::testing;

namespace {

// n images of 2x2x2; image i is filled with i, label i % classes.
ds::dataset numbered(std::size_t n, std::size_t classes = 4) {
  bytes pixels;
  bytes labels;
  for (std::size_t i = 0; i < n; ++i) {
    pixels.insert(pixels.end(), 8, static_cast<std::uint8_t>(i));
    labels.push_back(static_cast<std::uint8_t>(i % classes));
  }
  std::vector<std::string> names;
  for (std::size_t c = 0; c < classes; ++c) names.push_back(fmt::format("c{}", c));
  return {"numbered", {2, 2, 2}, names, pixels, labels};
}

std::vector<std::size_t> ids(const ds::dataset& d) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < d.size(); ++i) out.push_back(d.image(i)[0]);
  return out;
}

}  // namespace

TEST_CASE("dataset holds N x C x H x W bytes and checks its fields") {
  const auto d = numbered(10);
  CHECK(d.size() == 10);
  CHECK(d.shape() == ds::image_shape{2, 2, 2});
  CHECK(d.image(7).size() == 8);
  CHECK(d.image(7)[5] == 7);
  CHECK(d.label(7) == 3);
  CHECK(d.label_histogram() == std::vector<std::size_t>{3, 3, 2, 2});
  CHECK(ids(d.head(3)) == std::vector<std::size_t>{0, 1, 2});
  CHECK(d.head(99).size() == 10);
  const std::vector<std::size_t> pick{9, 0, 9};
  const auto s = d.subset(pick, "picked");
  CHECK(ids(s) == std::vector<std::size_t>{9, 0, 9});
  CHECK(s.name() == "picked");
  CHECK(s.class_names() == d.class_names());

  CHECK_CONTAINS(message_of<apical::parameter_error>([] {
                   ds::dataset("x", {1, 2, 2}, {"a", "b"}, bytes(7), bytes(2));
                 }),
                 "dataset 'x': pixels holds 7 bytes; expected 2 labels x 4 bytes per image = 8");
  CHECK_CONTAINS(message_of<apical::parameter_error>([] {
                   ds::dataset("x", {1, 2, 2}, {"a", "b"}, bytes(8), bytes{0, 2});
                 }),
                 "dataset 'x': labels[1] is 2; expected 0 to 1");
  const std::vector<std::size_t> bad{10};
  CHECK_CONTAINS(message_of<apical::parameter_error>([&] { d.subset(bad, "y"); }),
                 "subset index 10 is out of range");
}

TEST_CASE("dataset::channel_means averages each colour plane") {
  bytes pixels{0, 255, 255, 255, /* plane 2 */ 0, 0, 0, 51};
  const ds::dataset d("m", {2, 2, 2}, {"a"}, pixels, bytes{0});
  const auto means = d.channel_means();
  REQUIRE(means.size() == 2);
  CHECK(means[0] == doctest::Approx(0.75));
  CHECK(means[1] == doctest::Approx(0.05));
}

TEST_CASE("shuffled_indices: a permutation fixed by (seed, epoch)") {
  const auto a = ds::shuffled_indices(1000, 42, 0);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> iota(1000);
  std::iota(iota.begin(), iota.end(), std::size_t{0});
  CHECK(sorted == iota);
  CHECK(a != iota);
  CHECK(ds::shuffled_indices(1000, 42, 0) == a);
  CHECK(ds::shuffled_indices(1000, 42, 1) != a);
  CHECK(ds::shuffled_indices(1000, 43, 0) != a);
  // Uniformity, roughly: each position 0..9 of a 10-permutation sees every
  // value about equally often over many epochs.
  std::vector<std::vector<int>> seen(10, std::vector<int>(10, 0));
  for (std::uint64_t e = 0; e < 5000; ++e) {
    const auto p = ds::shuffled_indices(10, 7, e);
    for (std::size_t k = 0; k < 10; ++k) ++seen[k][p[k]];
  }
  for (const auto& row : seen) {
    for (const int count : row) CHECK(std::abs(count - 500) < 100);  // ~4.7 sigma
  }
}

TEST_CASE("split_validation: disjoint, complete, seeded, and stratified when asked") {
  const auto d = numbered(100, 10);
  const auto s = ds::split_validation(d, 20, 5);
  CHECK(s.train.size() == 80);
  CHECK(s.validation.size() == 20);
  std::set<std::size_t> all;
  for (const auto i : ids(s.train)) all.insert(i);
  for (const auto i : ids(s.validation)) all.insert(i);
  CHECK(all.size() == 100);
  // Each part keeps the original order.
  const auto t = ids(s.train);
  CHECK(std::is_sorted(t.begin(), t.end()));
  const auto v = ids(s.validation);
  CHECK(std::is_sorted(v.begin(), v.end()));
  CHECK(ids(ds::split_validation(d, 20, 5).validation) == v);
  CHECK(ids(ds::split_validation(d, 20, 6).validation) != v);
  // Different from the epoch orders of the same seed.
  const auto first20 = ds::shuffled_indices(100, 5, 0);
  std::vector<std::size_t> e0(first20.begin(), first20.begin() + 20);
  std::sort(e0.begin(), e0.end());
  CHECK(e0 != v);

  const auto strat = ds::split_validation(d, 20, 5, true);
  CHECK(strat.validation.label_histogram() == std::vector<std::size_t>(10, 2));
  CHECK(strat.train.label_histogram() == std::vector<std::size_t>(10, 8));
  // Uneven shares: largest remainders get the leftover places, total exact.
  const auto uneven = ds::split_validation(numbered(10, 4), 5, 1, true);
  CHECK(uneven.validation.size() == 5);
  const auto h = uneven.validation.label_histogram();  // classes hold 3, 3, 2, 2 -> 1.5, 1.5, 1, 1
  CHECK(h[2] == 1);
  CHECK(h[3] == 1);
  CHECK(h[0] + h[1] == 3);

  CHECK(ds::split_validation(d, 0, 1).validation.empty());
  CHECK(ds::split_validation(d, 100, 1).train.empty());
  CHECK_CONTAINS(message_of<apical::parameter_error>([&] { ds::split_validation(d, 101, 1); }),
                 "validation_count is 101, but dataset 'numbered' has only 100 samples");
}

TEST_CASE("batch_schedule: every sample once per epoch, in a seeded order, replayable") {
  ds::batch_schedule schedule(10, 4, 9);
  CHECK(schedule.batch_count() == 3);
  CHECK(ds::batch_schedule(10, 4, 9, true).batch_count() == 2);
  CHECK(ds::batch_schedule(8, 4, 9, true).batch_count() == 2);

  const auto e0 = schedule.epoch(0);
  REQUIRE(e0.size() == 3);
  CHECK(e0[0].size() == 4);
  CHECK(e0[2].size() == 2);
  std::vector<std::size_t> visited;
  std::size_t batches = 0;
  for (const auto batch : e0) {
    visited.insert(visited.end(), batch.begin(), batch.end());
    ++batches;
  }
  CHECK(batches == 3);
  CHECK(std::vector<std::size_t>(e0.order().begin(), e0.order().end()) == visited);
  std::sort(visited.begin(), visited.end());
  CHECK(visited == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

  const auto e1 = schedule.epoch(1);
  CHECK(!std::equal(e0.order().begin(), e0.order().end(), e1.order().begin()));
  const auto again = ds::batch_schedule(10, 4, 9).epoch(1);  // epoch 1 without epoch 0
  CHECK(std::equal(e1.order().begin(), e1.order().end(), again.order().begin()));

  const auto dropped = ds::batch_schedule(10, 4, 9, true).epoch(0);
  std::size_t count = 0;
  for (const auto batch : dropped) count += batch.size();
  CHECK(count == 8);

  CHECK_CONTAINS(message_of<apical::parameter_error>([] { ds::batch_schedule(10, 0, 1); }),
                 "batch_size is 0");
}
