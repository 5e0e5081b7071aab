// cosine_similarity and alignment angles.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/learning/reference/alignment.hpp"

namespace learning = apical::learning;

TEST_CASE("cosine and angle of simple vector pairs") {
  const std::vector<float> x{1.0f, 0.0f, 0.0f};
  const std::vector<float> y{0.0f, 2.0f, 0.0f};
  const std::vector<float> diagonal{1.0f, 1.0f, 0.0f};
  const std::vector<float> minus_x{-3.0f, 0.0f, 0.0f};
  CHECK(learning::cosine_similarity(x, x) == doctest::Approx(1.0));
  CHECK(learning::alignment_angle_deg(x, x) == doctest::Approx(0.0));
  CHECK(learning::alignment_angle_deg(x, y) == doctest::Approx(90.0));
  CHECK(learning::alignment_angle_deg(x, diagonal) == doctest::Approx(45.0));
  CHECK(learning::alignment_angle_deg(x, minus_x) == doctest::Approx(180.0));
  CHECK(learning::cosine_similarity(x, minus_x) == doctest::Approx(-1.0));
}

TEST_CASE("a zero vector has no angle, and sizes must agree") {
  const std::vector<float> zero(3, 0.0f);
  const std::vector<float> x{1.0f, 0.0f, 0.0f};
  CHECK(std::isnan(learning::cosine_similarity(zero, x)));
  CHECK(std::isnan(learning::alignment_angle_deg(x, zero)));
  const std::vector<float> shorter{1.0f};
  CHECK_THROWS_AS(learning::cosine_similarity(x, shorter), apical::parameter_error);
  CHECK_THROWS_WITH_AS(learning::cosine_similarity(learning::matrix(2, 3), learning::matrix(3, 2)),
                       doctest::Contains("2x3 and 3x2"), apical::parameter_error);
}

TEST_CASE("per-layer angles compare flattened weight updates") {
  learning::weight_updates a;
  learning::weight_updates b;
  a.weights.emplace_back(2, 2, std::vector<float>{1, 0, 0, 1});
  b.weights.emplace_back(2, 2, std::vector<float>{2, 0, 0, 2});
  a.weights.emplace_back(1, 2, std::vector<float>{1, 0});
  b.weights.emplace_back(1, 2, std::vector<float>{0, 1});
  const std::vector<double> angles = learning::alignment_angles_deg(a, b);
  REQUIRE(angles.size() == 2);
  CHECK(angles[0] == doctest::Approx(0.0));
  CHECK(angles[1] == doctest::Approx(90.0));
  b.weights.pop_back();
  CHECK_THROWS_AS(learning::alignment_angles_deg(a, b), apical::parameter_error);
}
