// Feedback pathways: the shapes, signs and magnitudes of B (and D), and
// that each algorithm's hidden deltas are built from them.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/feedback.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/reference/reference_trainer.hpp"

namespace {

namespace learning = apical::learning;
using learning::algorithm;
using learning::matrix;

learning::rate_network make_network() {
  learning::rate_network_params p;
  p.layer_sizes = {5, 8, 6, 4};
  p.hidden_activation = learning::activation::sigmoid;
  p.seed = 3;
  return learning::rate_network(p);
}

float sign_of(float x) {
  return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
}

matrix random_inputs(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  apical::rng gen(seed);
  matrix m(rows, cols);
  for (float& x : m.values()) x = static_cast<float>(gen.uniform(-1, 1));
  return m;
}

}  // namespace

TEST_CASE("bp and symmetric feed back through W^T") {
  const learning::rate_network net = make_network();
  for (const algorithm a : {algorithm::bp, algorithm::symmetric}) {
    const learning::feedback fb(net, {a, learning::sign_magnitude::uniform, 1.0, 1});
    CHECK(fb.num_hidden() == 2);
    CHECK_FALSE(fb.direct());
    for (std::size_t w = 0; w < 2; ++w) {
      const matrix b = fb.b_matrix(net, w);
      const matrix& weights = net.weights(w + 1);
      REQUIRE(b.rows() == weights.cols());
      REQUIRE(b.cols() == weights.rows());
      for (std::size_t i = 0; i < b.rows(); ++i) {
        for (std::size_t k = 0; k < b.cols(); ++k) CHECK(b(i, k) == weights(k, i));
      }
    }
  }
}

TEST_CASE("uSF: B has the signs of W^T and magnitude 1, following W as it changes") {
  learning::rate_network net = make_network();
  learning::feedback fb(net, {algorithm::scfa, learning::sign_magnitude::uniform, 1.0, 1});
  net.weights(1)(2, 3) = -net.weights(1)(2, 3);  // flip one sign
  net.weights(2)(0, 0) = 0.0f;                   // sign(0) = 0
  fb.refresh(net);
  for (std::size_t w = 0; w < 2; ++w) {
    const matrix b = fb.b_matrix(net, w);
    const matrix& weights = net.weights(w + 1);
    for (std::size_t i = 0; i < b.rows(); ++i) {
      for (std::size_t k = 0; k < b.cols(); ++k) CHECK(b(i, k) == sign_of(weights(k, i)));
    }
  }
  CHECK(fb.b_matrix(net, 1)(0, 0) == 0.0f);
}

TEST_CASE("frSF: B = M sign(W)^T with fixed random magnitudes M from 0 to a") {
  learning::rate_network net = make_network();
  const double scale = 0.5;
  learning::feedback fb(net, {algorithm::scfa, learning::sign_magnitude::random, scale, 9});
  const matrix m0 = fb.fixed(0);
  const double a = scale * learning::init_bound(net.params(), 8, 6);
  bool varied = false;
  for (const float x : m0.values()) {
    CHECK(x >= 0.0f);
    CHECK(x < a);
    varied = varied || x != m0.values()[0];
  }
  CHECK(varied);
  // Magnitudes stay fixed while the signs follow W.
  net.weights(1).fill(-1.0f);
  fb.refresh(net);
  CHECK(fb.fixed(0) == m0);
  const matrix b = fb.b_matrix(net, 0);
  for (std::size_t i = 0; i < b.rows(); ++i) {
    for (std::size_t k = 0; k < b.cols(); ++k) CHECK(b(i, k) == -m0(k, i));
  }
  // Same seed, same draw; another seed, another draw.
  CHECK(learning::feedback(net, {algorithm::scfa, learning::sign_magnitude::random, scale, 9})
            .fixed(0) == m0);
  CHECK_FALSE(
      learning::feedback(net, {algorithm::scfa, learning::sign_magnitude::random, scale, 10})
          .fixed(0) == m0);
}

TEST_CASE("fa: B is fixed, random in (-a, a) and independent of W") {
  learning::rate_network net = make_network();
  learning::feedback fb(net, {algorithm::fa, learning::sign_magnitude::uniform, 1.0, 4});
  const matrix b = fb.b_matrix(net, 1);
  CHECK(b.rows() == 6);
  CHECK(b.cols() == 4);
  const double a = learning::init_bound(net.params(), 6, 4);
  int negative = 0;
  for (const float x : b.values()) {
    CHECK(std::abs(x) < a);
    negative += x < 0.0f ? 1 : 0;
  }
  CHECK(negative > 0);
  CHECK(negative < 24);
  net.weights(2).fill(3.0f);
  fb.refresh(net);
  CHECK(fb.b_matrix(net, 1) == b);
}

TEST_CASE("dfa: hidden deltas are D^l delta^L gated by f'(u^l)") {
  const learning::rate_network net = make_network();
  learning::trainer_params tp;
  tp.algo = algorithm::dfa;
  tp.seed = 5;
  learning::reference_trainer trainer(net, tp);
  const learning::feedback& fb = trainer.feedback_paths();
  CHECK(fb.direct());
  const matrix d0 = fb.b_matrix(net, 0);  // D^1: 8 x 4
  const matrix d1 = fb.b_matrix(net, 1);  // D^2: 6 x 4
  CHECK(d0.rows() == 8);
  CHECK(d0.cols() == 4);
  CHECK(d1.rows() == 6);
  CHECK(d1.cols() == 4);

  // One sample, so the update is delta r^T with no averaging. Recompute the
  // hidden deltas by hand from the forward pass and D.
  const matrix input = random_inputs(1, 5, 6);
  const std::vector<std::uint8_t> label{2};
  const matrix target = net.targets_for(label);
  const learning::weight_updates up = trainer.compute_updates(net, input, target);
  const learning::activations acts = net.forward(input);
  std::vector<double> out_delta(4);
  for (std::size_t k = 0; k < 4; ++k) out_delta[k] = target(0, k) - acts.r[2](0, k);
  for (std::size_t w = 0; w < 2; ++w) {
    const matrix& d = w == 0 ? d0 : d1;
    const matrix& previous = w == 0 ? input : acts.r[0];
    for (std::size_t i = 0; i < d.rows(); ++i) {
      double back = 0.0;
      for (std::size_t k = 0; k < 4; ++k) back += d(i, k) * out_delta[k];
      const double r = acts.r[w](0, i);
      const double delta = back * r * (1.0 - r);
      for (std::size_t j = 0; j < previous.cols(); ++j) {
        CHECK(up.weights[w](i, j) == doctest::Approx(delta * previous(0, j)).epsilon(1e-5));
      }
      CHECK(up.biases[w][i] == doctest::Approx(delta).epsilon(1e-5));
    }
  }
}

TEST_CASE("explicit fixed matrices are checked and used") {
  const learning::rate_network net = make_network();
  std::vector<matrix> magnitudes{matrix(6, 8, 0.25f), matrix(4, 6, 2.0f)};
  const learning::feedback fb(net, algorithm::scfa, magnitudes);
  CHECK(std::abs(fb.b_matrix(net, 1)(3, 2)) == 2.0f);

  CHECK_THROWS_WITH_AS(learning::feedback(net, algorithm::scfa, {matrix(6, 8)}),
                       doctest::Contains("expected 2"), apical::parameter_error);
  CHECK_THROWS_WITH_AS(learning::feedback(net, algorithm::fa, {matrix(6, 8), matrix(6, 4)}),
                       doctest::Contains("fixed[1]: shape 6x4, expected 4x6"),
                       apical::parameter_error);
  magnitudes[0](0, 0) = -1.0f;
  CHECK_THROWS_WITH_AS(learning::feedback(net, algorithm::scfa, magnitudes),
                       doctest::Contains(">= 0"), apical::parameter_error);
}

TEST_CASE("algorithm names parse and bad settings name their field") {
  CHECK(learning::parse_algorithm("scfa") == algorithm::scfa);
  CHECK(learning::parse_algorithm("symmetric") == algorithm::symmetric);
  CHECK(learning::to_string(algorithm::dfa) == "dfa");
  CHECK(learning::parse_sign_magnitude("random") == learning::sign_magnitude::random);
  CHECK_THROWS_WITH_AS(learning::parse_algorithm("sgd"),
                       doctest::Contains("algorithm: unknown value 'sgd' (expected one of bp, "
                                         "symmetric, fa, scfa, dfa)"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(learning::parse_sign_magnitude("gaussian"),
                       doctest::Contains("scfa_magnitude"), apical::parameter_error);
  const learning::rate_network net = make_network();
  CHECK_THROWS_WITH_AS(learning::feedback(net, {algorithm::fa, {}, 0.0, 1}),
                       doctest::Contains("feedback_scale"), apical::parameter_error);
}
