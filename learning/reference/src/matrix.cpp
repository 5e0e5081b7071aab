#include "apical/learning/reference/matrix.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "apical/engine/error.hpp"

namespace apical::learning {
namespace {

// Output columns per pass and shared-dimension rows per block: a block of b
// is k_block x col_block floats = 128 KiB, which stays in L2 while every
// row of c streams past it.
constexpr std::size_t col_block = 256;
constexpr std::size_t k_block = 128;
constexpr std::size_t transpose_block = 32;

std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

// c += a0 b0 + a1 b1 + a2 b2 + a3 b3, added left to right: the same rounding
// as four successive single updates, with a quarter of the loads and stores
// of c.
inline void axpy4(float* __restrict c, const float* __restrict b0, const float* __restrict b1,
                  const float* __restrict b2, const float* __restrict b3, float a0, float a1,
                  float a2, float a3, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j)
    c[j] = c[j] + a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
}

inline void axpy1(float* __restrict c, const float* __restrict b, float a, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) c[j] = c[j] + a * b[j];
}

}  // namespace

matrix::matrix(std::size_t rows, std::size_t cols, std::vector<float> values)
    : rows_(rows), cols_(cols), data_(std::move(values)) {
  if (data_.size() != rows * cols) {
    throw parameter_error("matrix: " + std::to_string(data_.size()) + " values, expected " +
                          std::to_string(rows * cols) + " (" + shape(rows, cols) + ")");
  }
}

void matrix::fill(float value) {
  std::fill(data_.begin(), data_.end(), value);
}

void transpose_rows(const_matrix_view a, matrix_view out, std::size_t row_begin,
                    std::size_t row_end) {
  if (out.rows != a.cols || out.cols != a.rows || row_begin > row_end || row_end > a.rows) {
    throw parameter_error("transpose: out is " + shape(out.rows, out.cols) + ", expected " +
                          shape(a.cols, a.rows) + ", rows [" + std::to_string(row_begin) + ", " +
                          std::to_string(row_end) + ") of " + std::to_string(a.rows));
  }
  for (std::size_t i0 = row_begin; i0 < row_end; i0 += transpose_block) {
    const std::size_t i1 = std::min(row_end, i0 + transpose_block);
    for (std::size_t j0 = 0; j0 < a.cols; j0 += transpose_block) {
      const std::size_t j1 = std::min(a.cols, j0 + transpose_block);
      for (std::size_t i = i0; i < i1; ++i) {
        for (std::size_t j = j0; j < j1; ++j) out(j, i) = a(i, j);
      }
    }
  }
}

void transpose(const_matrix_view a, matrix& out) {
  out.resize(a.cols, a.rows);
  transpose_rows(a, out, 0, a.rows);
}

void matmul_rows(const_matrix_view a, bool transpose_a, const_matrix_view b, matrix_view c,
                 std::size_t row_begin, std::size_t row_end, bool accumulate) {
  const std::size_t m = transpose_a ? a.cols : a.rows;
  const std::size_t k = transpose_a ? a.rows : a.cols;
  const std::size_t n = b.cols;
  if (b.rows != k || c.rows != m || c.cols != n) {
    throw parameter_error("matmul: shapes " + std::string(transpose_a ? "a^T " : "a ") +
                          shape(m, k) + ", b " + shape(b.rows, b.cols) + ", c " +
                          shape(c.rows, c.cols) + " do not agree (expected b " + shape(k, n) +
                          " and c " + shape(m, n) + ")");
  }
  if (row_begin > row_end || row_end > m) {
    throw parameter_error("matmul: row range [" + std::to_string(row_begin) + ", " +
                          std::to_string(row_end) + ") exceeds the " + std::to_string(m) +
                          " rows of c");
  }
  if (!accumulate) {
    std::fill(c.row(row_begin), c.row(row_begin) + (row_end - row_begin) * n, 0.0f);
  }
  std::array<float, k_block> coef{};
  std::array<std::size_t, k_block> index{};
  for (std::size_t j0 = 0; j0 < n; j0 += col_block) {
    const std::size_t jn = std::min(col_block, n - j0);
    for (std::size_t k0 = 0; k0 < k; k0 += k_block) {
      const std::size_t kn = std::min(k_block, k - k0);
      for (std::size_t i = row_begin; i < row_end; ++i) {
        // Gather the non-zero coefficients of op(a) row i in this block.
        std::size_t nz = 0;
        if (transpose_a) {
          for (std::size_t kk = 0; kk < kn; ++kk) {
            const float v = a(k0 + kk, i);
            if (v != 0.0f) {
              coef[nz] = v;
              index[nz++] = k0 + kk;
            }
          }
        } else {
          const float* ar = a.row(i) + k0;
          for (std::size_t kk = 0; kk < kn; ++kk) {
            if (ar[kk] != 0.0f) {
              coef[nz] = ar[kk];
              index[nz++] = k0 + kk;
            }
          }
        }
        float* cr = c.row(i) + j0;
        std::size_t t = 0;
        for (; t + 4 <= nz; t += 4) {
          axpy4(cr, b.row(index[t]) + j0, b.row(index[t + 1]) + j0, b.row(index[t + 2]) + j0,
                b.row(index[t + 3]) + j0, coef[t], coef[t + 1], coef[t + 2], coef[t + 3], jn);
        }
        for (; t < nz; ++t) axpy1(cr, b.row(index[t]) + j0, coef[t], jn);
      }
    }
  }
}

void matmul(const_matrix_view a, const_matrix_view b, matrix_view c, bool accumulate) {
  matmul_rows(a, false, b, c, 0, a.rows, accumulate);
}

void matmul_at_b(const_matrix_view a, const_matrix_view b, matrix_view c, bool accumulate) {
  matmul_rows(a, true, b, c, 0, a.cols, accumulate);
}

void matmul_bt(const_matrix_view a, const_matrix_view b, matrix_view c, bool accumulate) {
  matrix bt;
  transpose(b, bt);
  matmul_rows(a, false, bt.view(), c, 0, a.rows, accumulate);
}

}  // namespace apical::learning
