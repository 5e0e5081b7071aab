// Preprocessing: images as network inputs (unit, centred, on-off) and back.
#include "apical/datasets/preprocess.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "apical/engine/error.hpp"

namespace ds = apical::datasets;

TEST_CASE("bytes become floats from 0 to 1") {
  const std::vector<std::uint8_t> bytes{0, 51, 255};
  const std::vector<float> f = ds::intensities(bytes);
  REQUIRE(f.size() == 3);
  CHECK(f[0] == 0.0f);
  CHECK(f[1] == doctest::Approx(0.2));
  CHECK(f[2] == 1.0f);
}

TEST_CASE("feature means are per feature and subtract from every sample") {
  std::vector<float> values{1, 10, 3, 20, 5, 30};  // 3 samples of 2 features
  const std::vector<float> means = ds::feature_means(values, 2);
  REQUIRE(means.size() == 2);
  CHECK(means[0] == doctest::Approx(3.0));
  CHECK(means[1] == doctest::Approx(20.0));
  ds::subtract_feature_means(values, means);
  CHECK(values == std::vector<float>{-2, -10, 0, 0, 2, 10});
  CHECK_THROWS_AS(ds::feature_means(values, 4), apical::parameter_error);
  CHECK_THROWS_AS(ds::subtract_feature_means(values, std::vector<float>(4)),
                  apical::parameter_error);
}

TEST_CASE("on-off input: centred values as an ON and an OFF input per pixel") {
  // Two 1 x 1 x 3 training images and one test image.
  const ds::image_shape shape{1, 1, 3};
  ds::loaded_dataset data;
  data.train = ds::dataset("tiny train", shape, {"a", "b"}, {0, 255, 100, 255, 255, 200}, {0, 1});
  data.test = ds::dataset("tiny test", shape, {"a", "b"}, {255, 0, 150}, {1});
  const auto p = ds::prepare_inputs(data, ds::input_scaling::on_off);
  REQUIRE(p.input_size == 6);
  REQUIRE(p.input_means.size() == 3);
  CHECK(p.input_means[0] == doctest::Approx(0.5));
  CHECK(p.input_means[1] == doctest::Approx(1.0));
  CHECK(p.input_means[2] == doctest::Approx(150.0 / 255.0));
  // Test image: d = (+0.5, -1, 0): ON (0.5, 0, 0), then OFF (0, 1, 0).
  const std::vector<float> expected{0.5f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f};
  REQUIRE(p.test_inputs.size() == expected.size());
  for (std::size_t j = 0; j < expected.size(); ++j)
    CHECK(p.test_inputs[j] == doctest::Approx(expected[j]).epsilon(1e-6));
  // ON - OFF is the centred value; every input is a rate >= 0.
  for (std::size_t s = 0; s < 2; ++s)
    for (std::size_t j = 0; j < 3; ++j) {
      const float on = p.train_inputs[6 * s + j], off = p.train_inputs[6 * s + 3 + j];
      CHECK(on >= 0.0f);
      CHECK(off >= 0.0f);
      CHECK(on * off == 0.0f);
    }
}

TEST_CASE("unit and centred inputs; stored means replace the training set's") {
  const ds::image_shape shape{1, 1, 2};
  ds::loaded_dataset data;
  data.train = ds::dataset("train", shape, {"a", "b"}, {0, 255, 255, 255}, {0, 1});
  data.test = ds::dataset("test", shape, {"a", "b"}, {51, 0}, {1});
  const auto unit = ds::prepare_inputs(data, ds::input_scaling::unit);
  CHECK(unit.input_size == 2);
  CHECK(unit.input_means.empty());
  CHECK(unit.test_inputs == ds::intensities(data.test.pixels()));
  CHECK(unit.test_labels == std::vector<std::uint8_t>{1});
  CHECK(unit.class_names == std::vector<std::string>{"a", "b"});

  const auto centred = ds::prepare_inputs(data, ds::input_scaling::centred);
  REQUIRE(centred.input_means.size() == 2);
  CHECK(centred.input_means[0] == doctest::Approx(0.5));
  CHECK(centred.input_means[1] == 1.0f);
  CHECK(centred.test_inputs[1] == -1.0f);

  const std::vector<float> stored{0.2f, 0.0f};
  const auto again = ds::prepare_inputs(data, ds::input_scaling::centred, stored);
  CHECK(again.input_means == stored);
  CHECK(again.test_inputs[0] == doctest::Approx(0.0).epsilon(1e-6));
  CHECK_THROWS_WITH_AS(ds::prepare_inputs(data, ds::input_scaling::centred, std::vector<float>(3)),
                       doctest::Contains("input_means: 3 values; expected 2"),
                       apical::parameter_error);
  CHECK(ds::inputs_per_value(ds::input_scaling::on_off) == 2);
  CHECK(ds::to_string(ds::input_scaling::on_off) == "on-off");
}

TEST_CASE("on-off split and its inverse: ON - OFF gives back the signed values") {
  const std::vector<float> signed_values{0.5f, -0.25f, 0.0f, -1.0f, 1.0f, 0.125f};  // 2 x 3
  const auto split = ds::split_on_off(signed_values, 3);
  CHECK(split == std::vector<float>{0.5f, 0.0f, 0.0f, 0.0f, 0.25f, 0.0f,  //
                                    0.0f, 1.0f, 0.125f, 1.0f, 0.0f, 0.0f});
  CHECK(ds::merge_on_off(split, 6) == signed_values);
  // A weight matrix with one row per unit and the ON, then the OFF columns.
  CHECK(ds::merge_on_off(std::vector<float>{3, 1, 1, 4}, 4) == std::vector<float>{2, -3});
  CHECK_THROWS_AS(ds::merge_on_off(std::vector<float>(6), 3), apical::parameter_error);
  CHECK_THROWS_AS(ds::split_on_off(std::vector<float>(5), 2), apical::parameter_error);
}
