#pragma once
// A small dense matrix for the rate-based reference trainers.
//
// Storage is row-major float: a mini-batch is a matrix with one sample per
// row, and a weight matrix W^l has one row per post-synaptic unit
// (u = W r). float halves the memory traffic of double and doubles the SIMD
// width; the products below keep a fixed summation order so results are
// reproducible, and every reduction over a whole data set (loss, norms,
// cosines, means) accumulates in double.
//
// The products are written in "axpy" form: an output row is built as a sum
// of scaled rows of the right operand, so the innermost loop runs over
// contiguous memory and vectorises without -ffast-math. Blocking over the
// shared dimension and the output columns keeps the right operand's block in
// cache. Each output element is summed over k in ascending order, skipping
// k where the left coefficient is exactly 0 (rectified rates and inactive
// deltas are often 0), so an element's value depends only on its own row and
// never on how many rows are computed together or by which thread.
#include <cstddef>
#include <span>
#include <vector>

namespace apical::learning {

// A non-owning view of rows x cols floats stored row after row.
struct matrix_view {
  float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  float& operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  float* row(std::size_t i) const { return data + i * cols; }
  std::size_t size() const { return rows * cols; }
  // Rows [first, first + count).
  matrix_view row_block(std::size_t first, std::size_t count) const {
    return {data + first * cols, count, cols};
  }
};

struct const_matrix_view {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  const_matrix_view() = default;
  const_matrix_view(const float* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c) {}
  const_matrix_view(matrix_view v) : data(v.data), rows(v.rows), cols(v.cols) {}

  const float& operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  const float* row(std::size_t i) const { return data + i * cols; }
  std::size_t size() const { return rows * cols; }
  const_matrix_view row_block(std::size_t first, std::size_t count) const {
    return {data + first * cols, count, cols};
  }
};

// An owning row-major matrix, zero-initialised.
class matrix {
 public:
  matrix() = default;
  matrix(std::size_t rows, std::size_t cols, float value = 0.0f)
      : rows_(rows), cols_(cols), data_(rows * cols, value) {}
  // Takes rows * cols values, row after row; throws parameter_error otherwise.
  matrix(std::size_t rows, std::size_t cols, std::vector<float> values);

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator()(std::size_t i, std::size_t j) { return data_[i * cols_ + j]; }
  float operator()(std::size_t i, std::size_t j) const { return data_[i * cols_ + j]; }
  float* row(std::size_t i) { return data_.data() + i * cols_; }
  const float* row(std::size_t i) const { return data_.data() + i * cols_; }
  std::span<float> values() { return data_; }
  std::span<const float> values() const { return data_; }

  matrix_view view() { return {data_.data(), rows_, cols_}; }
  const_matrix_view view() const { return {data_.data(), rows_, cols_}; }
  operator matrix_view() { return view(); }
  operator const_matrix_view() const { return view(); }

  // Changes the shape; keeps the allocation when it is large enough. The
  // contents are unspecified afterwards.
  void resize(std::size_t rows, std::size_t cols) {
    rows_ = rows;
    cols_ = cols;
    data_.resize(rows * cols);
  }
  void fill(float value);

  friend bool operator==(const matrix&, const matrix&) = default;

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<float> data_;
};

// out = a^T (resized to a.cols x a.rows).
void transpose(const_matrix_view a, matrix& out);

// Rows [row_begin, row_end) of a into the same columns of out, which must
// already be a.cols x a.rows: pieces of one transpose for several threads.
void transpose_rows(const_matrix_view a, matrix_view out, std::size_t row_begin,
                    std::size_t row_end);

// c = a b, or c += a b when accumulate is set. Shapes: a m x k, b k x n,
// c m x n (must already have that shape).
void matmul(const_matrix_view a, const_matrix_view b, matrix_view c, bool accumulate = false);

// c = a^T b, or c += a^T b: the sum over rows s of the outer products
// a_s (x) b_s. Shapes: a k x m, b k x n, c m x n.
void matmul_at_b(const_matrix_view a, const_matrix_view b, matrix_view c, bool accumulate = false);

// c = a b^T, or c += a b^T. Shapes: a m x k, b n x k, c m x n. Transposes b
// into a temporary; callers that repeat the product with the same b should
// transpose once and call matmul.
void matmul_bt(const_matrix_view a, const_matrix_view b, matrix_view c, bool accumulate = false);

// Rows [row_begin, row_end) of c = op(a) b (or += when accumulate is set),
// where op(a) = a^T if transpose_a else a. The building block of the three
// products above, exposed so callers can split the rows of c over threads:
// an element's value does not depend on the split.
void matmul_rows(const_matrix_view a, bool transpose_a, const_matrix_view b, matrix_view c,
                 std::size_t row_begin, std::size_t row_end, bool accumulate);

}  // namespace apical::learning
