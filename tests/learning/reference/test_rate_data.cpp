// Data views (the conversion of images: tests/datasets/test_preprocess.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/learning/reference/rate_data.hpp"

namespace learning = apical::learning;

TEST_CASE("a dataset view checks its sizes and labels") {
  const std::vector<float> inputs(6, 0.0f);
  const std::vector<std::uint8_t> labels{0, 1, 2};
  const learning::dataset_view data(inputs, labels, 2);
  CHECK(data.count == 3);
  CHECK(data.input(2) == inputs.data() + 4);
  CHECK(data.input_rows(1, 2).rows == 2);
  CHECK_NOTHROW(data.check(2, 3, "data"));
  CHECK_THROWS_WITH_AS(data.check(2, 2, "data"),
                       doctest::Contains("data: label of sample 2 is 2, expected < 2"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(data.check(3, 3, "data"), doctest::Contains("input_size is 2, expected 3"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(learning::dataset_view(inputs, labels, 3),
                       doctest::Contains("6 input values for 3 labels, expected 9"),
                       apical::parameter_error);
  CHECK_THROWS_AS(learning::dataset_view(inputs, labels, 0), apical::parameter_error);
}

TEST_CASE("count noise draws Poisson spike counts per sample, independent of batching") {
  // 4,000 inputs of value 0.25 at 40 expected counts for a value of 1: each
  // count is Poisson(10), so the values are n / 40 with mean 0.25 and
  // variance 10 / 40^2.
  const std::size_t width = 4000;
  const double counts = 40.0;
  learning::matrix a(2, width);
  std::fill(a.values().begin(), a.values().end(), 0.25f);
  for (std::size_t j = 0; j < width; ++j) a(1, j) = j % 2 == 0 ? 0.0f : 1.0f;
  const std::vector<std::size_t> samples{7, 3};
  learning::add_count_noise(a, samples, counts, 11, 2);

  double sum = 0.0, sum_sq = 0.0;
  bool on_grid = true;
  for (std::size_t j = 0; j < width; ++j) {
    const double x = a(0, j);
    sum += x;
    sum_sq += x * x;
    on_grid = on_grid && std::abs(x * counts - std::round(x * counts)) < 1e-4;
  }
  CHECK(on_grid);
  const double mean = sum / width;
  const double var = sum_sq / width - mean * mean;
  // Standard errors: 0.0018 for the mean, about 0.0003 for the variance.
  CHECK(mean == doctest::Approx(0.25).epsilon(0.03));
  CHECK(var == doctest::Approx(10.0 / (counts * counts)).epsilon(0.1));
  // A zero rate emits nothing; a value of 1 has mean 1.
  double ones = 0.0;
  for (std::size_t j = 0; j < width; j += 2) CHECK(a(1, j) == 0.0f);
  for (std::size_t j = 1; j < width; j += 2) ones += a(1, j);
  CHECK(ones / (width / 2) == doctest::Approx(1.0).epsilon(0.03));

  // Sample 3 alone, in a batch of one, gets the same draw as in row 1
  // above; another epoch or seed draws anew.
  learning::matrix b(1, width);
  for (std::size_t j = 0; j < width; ++j) b(0, j) = j % 2 == 0 ? 0.0f : 1.0f;
  learning::matrix c = b, d = b;
  learning::add_count_noise(b, std::vector<std::size_t>{3}, counts, 11, 2);
  learning::add_count_noise(c, std::vector<std::size_t>{3}, counts, 11, 3);
  learning::add_count_noise(d, std::vector<std::size_t>{3}, counts, 12, 2);
  bool same = true, other_epoch = false, other_seed = false;
  for (std::size_t j = 0; j < width; ++j) {
    same = same && b(0, j) == a(1, j);
    other_epoch = other_epoch || c(0, j) != b(0, j);
    other_seed = other_seed || d(0, j) != b(0, j);
  }
  CHECK(same);
  CHECK(other_epoch);
  CHECK(other_seed);
}

TEST_CASE("count noise rejects negative inputs and a bad count, naming them") {
  learning::matrix m(2, 3);
  m(1, 2) = -0.5f;
  CHECK_THROWS_WITH_AS(learning::add_count_noise(m, std::vector<std::size_t>{4, 9}, 40.0, 1, 0),
                       doctest::Contains("sample 9, input 2"), apical::parameter_error);
  CHECK_THROWS_WITH_AS(learning::add_count_noise(m, std::vector<std::size_t>{4, 9}, 0.0, 1, 0),
                       doctest::Contains("counts is 0"), apical::parameter_error);
  CHECK_THROWS_WITH_AS(learning::add_count_noise(m, std::vector<std::size_t>{4}, 40.0, 1, 0),
                       doctest::Contains("one per row"), apical::parameter_error);
}

TEST_CASE("count resampling keeps a layer's mean count and each unit's share") {
  // 3,000 units: a third silent, a third at rate 1, a third at rate 2, with
  // 4 spikes per unit on average, so s = 4 * 3000 / 3000 = 4: counts
  // Poisson(4) and Poisson(8), divided by 4.
  std::vector<float> v(3000);
  for (std::size_t j = 0; j < v.size(); ++j) v[j] = static_cast<float>(j % 3);
  learning::resample_counts(v, 4.0, 99);
  double sum1 = 0.0, sum2 = 0.0;
  bool silent = true, on_grid = true;
  for (std::size_t j = 0; j < v.size(); ++j) {
    on_grid = on_grid && std::abs(v[j] * 4.0 - std::round(v[j] * 4.0)) < 1e-4;
    if (j % 3 == 0) silent = silent && v[j] == 0.0f;
    if (j % 3 == 1) sum1 += v[j];
    if (j % 3 == 2) sum2 += v[j];
  }
  CHECK(silent);
  CHECK(on_grid);
  // Means 1 and 2 (standard errors 0.017 and 0.024).
  CHECK(sum1 / 1000 == doctest::Approx(1.0).epsilon(0.07));
  CHECK(sum2 / 1000 == doctest::Approx(2.0).epsilon(0.05));

  std::vector<float> zeros(5, 0.0f);
  learning::resample_counts(zeros, 4.0, 1);
  CHECK(zeros == std::vector<float>(5, 0.0f));
  std::vector<float> bad{1.0f, -1.0f};
  CHECK_THROWS_WITH_AS(learning::resample_counts(bad, 4.0, 1), doctest::Contains("firing rates"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(learning::resample_counts(v, 0.0, 1), doctest::Contains("mean_count is 0"),
                       apical::parameter_error);
}
