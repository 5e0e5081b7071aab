// Data views and the conversion of 8-bit images.
#include <doctest/doctest.h>

#include <vector>

#include "apical/engine/error.hpp"
#include "apical/learning/rate_data.hpp"

namespace learning = apical::learning;

TEST_CASE("bytes become floats from 0 to 1") {
  const std::vector<std::uint8_t> bytes{0, 51, 255};
  const std::vector<float> f = learning::to_unit_floats(bytes);
  REQUIRE(f.size() == 3);
  CHECK(f[0] == 0.0f);
  CHECK(f[1] == doctest::Approx(0.2));
  CHECK(f[2] == 1.0f);
}

TEST_CASE("feature means are per feature and subtract from every sample") {
  std::vector<float> values{1, 10, 3, 20, 5, 30};  // 3 samples of 2 features
  const std::vector<float> means = learning::feature_means(values, 2);
  REQUIRE(means.size() == 2);
  CHECK(means[0] == doctest::Approx(3.0));
  CHECK(means[1] == doctest::Approx(20.0));
  learning::subtract_feature_means(values, means);
  CHECK(values == std::vector<float>{-2, -10, 0, 0, 2, 10});
  CHECK_THROWS_AS(learning::feature_means(values, 4), apical::parameter_error);
  CHECK_THROWS_AS(learning::subtract_feature_means(values, std::vector<float>(4)),
                  apical::parameter_error);
}

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
