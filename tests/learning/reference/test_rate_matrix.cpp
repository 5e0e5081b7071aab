// The matrix products against deliberately naive triple loops. The blocked
// kernels keep the naive loop's summation order (k ascending, zeros skipped),
// so with the default flags they agree to the bit; the checks allow 1e-4 so
// that a build contracting a*b+c into fused multiply-adds still passes.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/matrix.hpp"

namespace {

using apical::learning::matrix;

// Entries uniform in (-1, 1), about a third of them exactly 0.
matrix random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  apical::rng gen(seed);
  matrix m(rows, cols);
  for (float& x : m.values())
    x = gen.uniform() < 0.3 ? 0.0f : static_cast<float>(gen.uniform(-1, 1));
  return m;
}

// c(i, j) = sum_k a(i, k) b(k, j), k ascending, in float, zeros skipped.
matrix naive_product(const matrix& a, const matrix& b) {
  matrix c(a.rows(), b.cols());
  for (std::size_t i = 0; i < a.rows(); ++i) {
    for (std::size_t j = 0; j < b.cols(); ++j) {
      float sum = 0.0f;
      for (std::size_t k = 0; k < a.cols(); ++k) {
        if (a(i, k) != 0.0f) sum = sum + a(i, k) * b(k, j);
      }
      c(i, j) = sum;
    }
  }
  return c;
}

float max_difference(const matrix& a, const matrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  float d = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a.data()[i] - b.data()[i]));
  return d;
}

matrix naive_transpose(const matrix& a) {
  matrix t(a.cols(), a.rows());
  for (std::size_t i = 0; i < a.rows(); ++i) {
    for (std::size_t j = 0; j < a.cols(); ++j) t(j, i) = a(i, j);
  }
  return t;
}

}  // namespace

TEST_CASE("transpose swaps rows and columns, across block edges") {
  const matrix a = random_matrix(45, 70, 1);
  matrix t;
  apical::learning::transpose(a, t);
  CHECK(t == naive_transpose(a));
}

TEST_CASE("matmul equals the naive product, for shapes across block edges") {
  for (const auto [m, k, n] : {std::array<std::size_t, 3>{1, 1, 1},
                               {3, 300, 517},
                               {17, 129, 257},
                               {5, 7, 3},
                               {40, 784, 100}}) {
    CAPTURE(m);
    CAPTURE(k);
    CAPTURE(n);
    const matrix a = random_matrix(m, k, 2);
    const matrix b = random_matrix(k, n, 3);
    matrix c(m, n);
    apical::learning::matmul(a, b, c);
    CHECK(max_difference(c, naive_product(a, b)) <= 1e-4f);
  }
}

TEST_CASE("matmul accumulates onto c when asked") {
  const matrix a = random_matrix(6, 200, 4);
  const matrix b = random_matrix(200, 9, 5);
  matrix c(6, 9, 2.0f);
  apical::learning::matmul(a, b, c, true);
  const matrix p = naive_product(a, b);
  for (std::size_t i = 0; i < c.size(); ++i)
    CHECK(c.data()[i] == doctest::Approx(p.data()[i] + 2.0f));
}

TEST_CASE("matmul_at_b and matmul_bt equal the products with explicit transposes") {
  const matrix a = random_matrix(33, 21, 6);  // k x m for at_b
  const matrix b = random_matrix(33, 300, 7);
  matrix c(21, 300);
  apical::learning::matmul_at_b(a, b, c);
  CHECK(max_difference(c, naive_product(naive_transpose(a), b)) <= 1e-4f);

  const matrix x = random_matrix(12, 150, 8);
  const matrix y = random_matrix(40, 150, 9);
  matrix z(12, 40);
  apical::learning::matmul_bt(x, y, z);
  CHECK(max_difference(z, naive_product(x, naive_transpose(y))) <= 1e-4f);
}

TEST_CASE("matmul_rows computes any row range with exactly the numbers of the full product") {
  const matrix a = random_matrix(50, 130, 10);
  const matrix b = random_matrix(130, 260, 11);
  matrix full(50, 260);
  apical::learning::matmul(a, b, full);
  matrix parts(50, 260);
  for (const std::size_t split : {0, 7, 8, 31, 50}) {
    parts.fill(-1.0f);
    apical::learning::matmul_rows(a, false, b, parts, 0, split, false);
    apical::learning::matmul_rows(a, false, b, parts, split, 50, false);
    CHECK(parts == full);
  }
}

TEST_CASE("mismatched shapes are rejected with the shapes in the message") {
  const matrix a(3, 4);
  const matrix b(5, 2);
  matrix c(3, 2);
  CHECK_THROWS_WITH_AS(apical::learning::matmul(a, b, c), doctest::Contains("b 5x2"),
                       apical::parameter_error);
  matrix wrong(2, 2);
  CHECK_THROWS_AS(apical::learning::matmul(a, matrix(4, 2), wrong), apical::parameter_error);
  CHECK_THROWS_AS(apical::learning::matmul_rows(a, false, matrix(4, 2), c, 2, 4, false),
                  apical::parameter_error);
  CHECK_THROWS_AS(matrix(2, 3, std::vector<float>(5)), apical::parameter_error);
}
