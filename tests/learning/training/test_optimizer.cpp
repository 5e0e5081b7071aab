// The one SGD: each form of the step against its formula written out, bit
// for bit, and the stabilisers and the schedule.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/training/optimizer.hpp"

namespace {

namespace learning = apical::learning;

std::vector<float> draw(std::size_t n, std::uint64_t seed) {
  apical::rng gen(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(gen.normal());
  v[0] = 0.0f;  // a zero update: sign 0
  return v;
}

float sign_of(float s) {
  return s > 0 ? 1.0f : (s < 0 ? -1.0f : 0.0f);
}

}  // namespace

TEST_CASE("optimizer: plain steps are (eta / samples) g, or eta sign(g)") {
  const auto g = draw(50, 1);
  for (const bool manhattan : {false, true}) {
    CAPTURE(manhattan);
    learning::optimizer sgd({.manhattan = manhattan});
    const std::size_t a = sgd.add(g.size());
    CHECK_FALSE(sgd.has_velocity(a));
    auto w = draw(50, 2);
    auto expected = w;
    sgd.step(a, w, g, 0.3, 7);
    for (std::size_t k = 0; k < w.size(); ++k)
      expected[k] += manhattan ? static_cast<float>(0.3) * sign_of(g[k])
                               : static_cast<float>(0.3 / 7.0) * g[k];
    CHECK(w == expected);
  }
}

TEST_CASE("optimizer: momentum and decay keep a velocity") {
  const auto g = draw(40, 3);
  learning::optimizer sgd({.momentum = 0.9, .weight_decay = 0.01});
  const std::size_t decaying = sgd.add(g.size());
  const std::size_t plain = sgd.add(g.size());
  REQUIRE(sgd.has_velocity(decaying));
  auto w = draw(40, 4), u = w;
  std::vector<float> v(40, 0.0f), vu(40, 0.0f);
  auto ew = w, eu = u;
  for (int step = 0; step < 3; ++step) {
    sgd.step(decaying, w, g, 0.05, 4, true);
    sgd.step(plain, u, g, 0.05, 4);
    const float mu = 0.9f, lambda = 0.01f, eta = 0.05f, inv = 0.25f;
    for (std::size_t k = 0; k < g.size(); ++k) {
      v[k] = mu * v[k] + (inv * g[k] - lambda * ew[k]);
      ew[k] += eta * v[k];
      vu[k] = mu * vu[k] + inv * g[k];
      eu[k] += eta * vu[k];
    }
  }
  CHECK(w == ew);
  CHECK(u == eu);
  const auto velocity = sgd.velocity(decaying);
  CHECK(std::vector<float>(velocity.begin(), velocity.end()) == v);
  sgd.reset_velocity();
  CHECK(sgd.velocity(plain)[5] == 0.0f);
}

TEST_CASE("optimizer: an array added with always_velocity steps through it") {
  const auto g = draw(10, 5);
  learning::optimizer sgd;
  const std::size_t a = sgd.add(g.size(), true);
  REQUIRE(sgd.has_velocity(a));
  auto w = draw(10, 6), expected = w;
  sgd.step(a, w, g, 0.1);
  for (std::size_t k = 0; k < w.size(); ++k) expected[k] += 0.1f * (0.0f * 0.0f + 1.0f * g[k]);
  CHECK(w == expected);
  CHECK(sgd.velocity(a)[3] == g[3]);
}

TEST_CASE("optimizer: stabilisers clamp, then keep the remembered norm") {
  learning::optimizer sgd({.w_min = -0.5, .w_max = 0.5, .normalise = true});
  CHECK(sgd.stabilises());
  auto w = draw(30, 7);
  const std::size_t a = sgd.add(w.size());
  sgd.remember_norm(a, w);
  double before = 0.0;
  for (const float x : w) before += static_cast<double>(x) * x;
  for (auto& x : w) x *= 3.0f;
  sgd.stabilise(a, w);
  double after = 0.0;
  for (const float x : w) after += static_cast<double>(x) * x;
  CHECK(std::sqrt(after) == doctest::Approx(std::sqrt(before)).epsilon(1e-6));
  CHECK_FALSE(learning::optimizer().stabilises());
}

TEST_CASE("optimizer: a masked array steps as if its gradient were masked, and keeps its zeros") {
  const auto g = draw(40, 8);
  std::vector<float> mask(40, 1.0f);
  for (std::size_t k = 0; k < mask.size(); k += 3) mask[k] = 0.0f;
  for (const bool manhattan : {false, true}) {
    CAPTURE(manhattan);
    learning::optimizer sgd({.momentum = 0.9, .manhattan = manhattan, .w_min = 0.25});
    learning::optimizer reference({.momentum = 0.9, .manhattan = manhattan, .w_min = 0.25});
    const std::size_t a = sgd.add(g.size());
    const std::size_t r = reference.add(g.size());
    sgd.set_mask(a, mask);
    CHECK(sgd.has_mask(a));
    CHECK_FALSE(reference.has_mask(r));
    auto w = draw(40, 9);
    for (std::size_t k = 0; k < w.size(); ++k) w[k] = mask[k] != 0.0f ? w[k] + 1.0f : 0.0f;
    auto expected = w;
    // The reference steps with the masked gradient; manhattan's sign(0) is 0.
    std::vector<float> masked_g(g.size());
    for (std::size_t k = 0; k < g.size(); ++k) masked_g[k] = mask[k] != 0.0f ? g[k] : 0.0f;
    for (int step = 0; step < 3; ++step) {
      sgd.step(a, w, g, 0.05, 4);
      sgd.stabilise(a, w);  // the clamp to w_min > 0 must not revive a masked entry
      reference.step(r, expected, masked_g, 0.05, 4);
      reference.stabilise(r, expected);
      for (std::size_t k = 0; k < expected.size(); ++k)
        if (mask[k] == 0.0f) expected[k] = 0.0f;
    }
    CHECK(w == expected);
    for (std::size_t k = 0; k < mask.size(); ++k)
      if (mask[k] == 0.0f) CHECK(sgd.velocity(a)[k] == 0.0f);
  }
  learning::optimizer sgd;
  const std::size_t a = sgd.add(5);
  CHECK_THROWS_WITH_AS(sgd.set_mask(a, std::vector<float>(4, 1.0f)),
                       "optimizer: a mask of 4 values for an array of 5", apical::parameter_error);
}

TEST_CASE("learning_rate_schedule: base * decay^epoch") {
  const learning::learning_rate_schedule s{0.1, 0.5};
  CHECK(s.at(0) == 0.1);
  CHECK(s.at(2) == doctest::Approx(0.025));
}
