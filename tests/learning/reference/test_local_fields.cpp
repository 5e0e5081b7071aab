// Local receptive fields: the connection mask against a direct construction
// from pixel coordinates, the validation messages, the initial weights of a
// locally connected rate network, and its training: masked BP.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/local_fields.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/reference/reference_trainer.hpp"

namespace {

namespace learning = apical::learning;
using learning::matrix;

// CIFAR-10 with on-off inputs: 2 planes of 3 x 32 x 32, 8-pixel patches every
// 4 pixels (7 x 7 positions).
learning::local_fields cifar_fields() {
  return {.size = 8, .stride = 4, .channels = 3, .height = 32, .width = 32, .planes = 2};
}

// Whether cell `cell` of `cells` sees input `j`, decoded from the input's
// coordinates.
bool sees(const learning::local_fields& f, std::size_t cells, std::size_t cell, std::size_t j) {
  const std::size_t x = j % f.width;
  const std::size_t y = (j / f.width) % f.height;
  const std::size_t cols = (f.width - f.size) / f.step() + 1;
  const std::size_t rows = (f.height - f.size) / f.step() + 1;
  const std::size_t position = cell / (cells / (rows * cols));
  const std::size_t x0 = position % cols * f.step();
  const std::size_t y0 = position / cols * f.step();
  return x >= x0 && x < x0 + f.size && y >= y0 && y < y0 + f.size;
}

// A 1 x 8 x 8 image problem: the class is which half of the image is lit.
struct halves {
  std::vector<float> inputs;
  std::vector<std::uint8_t> labels;
  halves(std::size_t count, std::uint64_t seed) {
    apical::rng gen(seed);
    for (std::size_t s = 0; s < count; ++s) {
      const auto label = static_cast<std::uint8_t>(gen.below(2));
      labels.push_back(label);
      for (std::size_t y = 0; y < 8; ++y)
        for (std::size_t x = 0; x < 8; ++x)
          inputs.push_back(static_cast<float>(((x < 4) == (label == 0) ? 0.8 : 0.2) +
                                              0.3 * gen.uniform(-1.0, 1.0)));
    }
  }
  learning::dataset_view view() const { return {inputs, labels, 64}; }
};

learning::rate_network_params local_params() {
  learning::rate_network_params p;
  p.layer_sizes = {64, 18, 2};
  // 4-pixel patches every 2 pixels: 3 x 3 positions, two cells each.
  p.first_layer = {.size = 4, .stride = 2, .channels = 1, .height = 8, .width = 8};
  p.seed = 3;
  return p;
}

}  // namespace

TEST_CASE("local fields: the mask equals a construction from pixel coordinates") {
  const auto f = cifar_fields();
  REQUIRE(f.positions() == 49);
  CHECK(f.fan_in() == 8 * 8 * 3 * 2);
  CHECK(f.inputs() == 6144);
  const std::size_t cells = 98;
  const matrix mask = learning::connection_mask(f, cells);
  REQUIRE(mask.rows() == cells);
  REQUIRE(mask.cols() == 6144);
  std::size_t ones = 0;
  for (std::size_t i = 0; i < cells; ++i)
    for (std::size_t j = 0; j < 6144; ++j) {
      const bool expected = sees(f, cells, i, j);
      if ((mask(i, j) == 1.0f) != expected) {
        FAIL_CHECK("cell " << i << ", input " << j << ": mask " << mask(i, j));
        return;
      }
      ones += expected ? 1 : 0;
    }
  CHECK(ones == cells * f.fan_in());
  // Cells 2p and 2p + 1 share patch p; the field lists ascending inputs.
  CHECK(learning::receptive_field(f, cells, 6) == learning::receptive_field(f, cells, 7));
  CHECK(learning::receptive_field(f, cells, 7) != learning::receptive_field(f, cells, 8));
  const auto field = learning::receptive_field(f, cells, 20);
  CHECK(field.size() == f.fan_in());
  for (std::size_t k = 1; k < field.size(); ++k) CHECK(field[k - 1] < field[k]);
  // Cell 20 sees position 10, row 1 and column 3 of the 7 x 7: its first pixel is (4, 12)
  // of the ON plane's red channel, its last (11, 19) of the OFF plane's blue.
  CHECK(field.front() == 4 * 32 + 12);
  CHECK(field.back() == 3072 + 2 * 1024 + 11 * 32 + 19);

  // Without a stride, patches tile: every input is seen by exactly one cell
  // of each tiling.
  const learning::local_fields tiles{.size = 7, .channels = 1, .height = 28, .width = 28};
  REQUIRE(tiles.positions() == 16);
  const matrix m = learning::connection_mask(tiles, 32);
  for (std::size_t j = 0; j < 784; ++j) {
    float seen = 0.0f;
    for (std::size_t i = 0; i < 32; ++i) seen += m(i, j);
    CHECK(seen == 2.0f);
  }
}

TEST_CASE("local fields: a network that does not fit is refused with the reason") {
  const auto f = cifar_fields();
  CHECK_NOTHROW(f.validate(6144, 98));
  CHECK_THROWS_WITH_AS(f.validate(3072, 98),
                       "local-field: the first layer has 3072 inputs; local fields expect the "
                       "image's 6144 (2 plane(s) of 3 x 32 x 32)",
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(f.validate(6144, 100),
                       "local-field: patches of 8 pixels every 4 give 49 positions (7 x 7); the "
                       "first hidden layer has 100 cells, expected a multiple of 49",
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(f.validate(6144, 0),
                       "local-field: local fields belong to the first hidden layer, and the "
                       "network has none",
                       apical::parameter_error);
  auto big = f;
  big.size = 33;
  CHECK_THROWS_WITH_AS(big.validate(6144, 98),
                       "local-field: a patch of 33 pixels does not fit the 32 x 32 image",
                       apical::parameter_error);
  auto flat = f;
  flat.height = 0;
  CHECK_THROWS_AS(flat.validate(6144, 98), apical::parameter_error);
  learning::rate_network_params p = local_params();
  p.layer_sizes = {64, 10, 2};
  CHECK_THROWS_AS(learning::rate_network{p}, apical::parameter_error);
  CHECK_NOTHROW(learning::local_fields{}.validate(5, 0));  // disabled: nothing to check
}

TEST_CASE("local fields: a rate network starts at 0 outside the patches, scaled for the patch") {
  const learning::rate_network net(local_params());
  const matrix& w = net.weights(0);
  REQUIRE(net.mask(0) != nullptr);
  CHECK(net.mask(1) == nullptr);
  const matrix& mask = *net.mask(0);
  const double bound = learning::init_bound(net.params(), 16, 18);  // he_uniform: sqrt(6 / 16)
  double largest = 0.0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (mask.data()[k] == 0.0f) {
      CHECK(w.data()[k] == 0.0f);
    } else {
      largest = std::max(largest, std::abs(static_cast<double>(w.data()[k])));
      CHECK(std::abs(w.data()[k]) <= bound);
    }
  }
  // Drawn for a fan-in of 16, not 64: the dense bound sqrt(6 / 64) is exceeded.
  CHECK(largest > learning::init_bound(net.params(), 64, 18));
}

TEST_CASE("local fields: a trainer steps masked BP, and off-patch weights stay 0") {
  const halves item(200, 5);
  const halves test_set(400, 6);
  learning::rate_network local(local_params());
  // The same weights in a fully connected network.
  auto dense_params = local_params();
  dense_params.first_layer = {};
  learning::rate_network dense(dense_params);
  for (std::size_t w = 0; w < local.num_layers(); ++w) dense.weights(w) = local.weights(w);
  learning::trainer_params tp;
  tp.learning_rate = 0.2;
  tp.momentum = 0.5;
  tp.batch_size = 20;
  learning::reference_trainer local_trainer(local, tp);
  learning::reference_trainer dense_trainer(dense, tp);
  const matrix& mask = *local.mask(0);

  const matrix inputs(20, 64, std::vector<float>(item.inputs.begin(), item.inputs.begin() + 1280));
  const std::span<const std::uint8_t> labels(item.labels.data(), 20);
  for (int step = 0; step < 3; ++step) {
    CAPTURE(step);
    // The same weights give the same gradient; the local trainer steps only
    // the synapses it has.
    const auto up = local_trainer.compute_updates(local, inputs, labels);
    const auto dense_up = dense_trainer.compute_updates(dense, inputs, labels);
    CHECK(up.weights[0] == dense_up.weights[0]);
    local_trainer.apply_updates(local, up);
    dense_trainer.apply_updates(dense, dense_up);
    // dense now holds off-patch weights; masking them gives local's. Its
    // velocities there are not 0: take local's to step alike again.
    for (std::size_t k = 0; k < mask.size(); ++k)
      if (mask.data()[k] == 0.0f) dense.weights(0).data()[k] = 0.0f;
    CHECK(local.weights(0) == dense.weights(0));
    CHECK(local.weights(1) == dense.weights(1));
    for (std::size_t a = 0; a < dense_trainer.sgd().arrays(); ++a)
      dense_trainer.sgd().set_velocity(a, local_trainer.sgd().velocity(a));
  }

  const double before = learning::evaluate(local, test_set.view()).accuracy;
  const auto history = local_trainer.train(local, item.view(), test_set.view(), 5);
  MESSAGE("locally connected BP: " << before << " -> " << history.back().test_accuracy);
  CHECK(history.back().test_accuracy > 0.95);
  for (std::size_t k = 0; k < mask.size(); ++k)
    if (mask.data()[k] == 0.0f) CHECK(local.weights(0).data()[k] == 0.0f);
}
