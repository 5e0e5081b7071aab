#include "apical/models/detail/pyramidal_kernels.hpp"

#include <algorithm>
#include <type_traits>

namespace apical::models::detail {
namespace {

// u[m] += w[m] g for the n <= 16 cells that are not refractory at t_ms;
// returns how many reach their threshold: `threshold` (already times g) for
// all, or theta[m] g per cell. Both loops vectorise: GCC widens the float
// weights in the first and, with -fno-trapping-math, turns the refractory
// test of the second into a select.
template <class Weights, class Threshold>
[[gnu::always_inline]] inline double add_block(double* __restrict u,
                                               const double* __restrict ref_until_ms,
                                               Threshold threshold, std::size_t n, double t_ms,
                                               double g, Weights w) {
  double wg[basal_block];
  for (std::size_t m = 0; m < n; ++m) {
    if constexpr (std::is_same_v<Weights, float>)
      wg[m] = static_cast<double>(w) * g;
    else
      wg[m] = static_cast<double>(w[m]) * g;
  }
  double hits = 0.0;  // (a double count measured faster than an integer one)
  for (std::size_t m = 0; m < n; ++m) {
    const double v = u[m] + (ref_until_ms[m] <= t_ms ? wg[m] : 0.0);
    u[m] = v;
    if constexpr (std::is_same_v<Threshold, double>)
      hits += v >= threshold ? 1.0 : 0.0;
    else
      hits += v >= threshold[m] * g ? 1.0 : 0.0;
  }
  return hits;
}

template <class Weights>
[[gnu::always_inline]] inline std::uint64_t add_chunk(double* __restrict u,
                                                      const double* __restrict ref_until_ms,
                                                      const double* __restrict theta,
                                                      double theta_all, std::size_t n, double t_ms,
                                                      double g, Weights w) {
  // A weight row is usually far from cache (one row of a large matrix per
  // input spike): ask for all its lines at once, so that their misses
  // overlap instead of stalling one block at a time.
  if constexpr (!std::is_same_v<Weights, float>) {
    for (std::size_t b = 0; b < n; b += basal_block) __builtin_prefetch(w + b);
    __builtin_prefetch(w + n - 1);  // a row need not start on a line
  }
  const auto chunk = [&](auto threshold_of) {
    std::uint64_t crossed = 0;
    for (std::size_t b = 0; b < n; b += basal_block) {
      const auto wb = [&] {
        if constexpr (std::is_same_v<Weights, float>)
          return w;
        else
          return w + b;
      }();
      if (add_block(u + b, ref_until_ms + b, threshold_of(b), std::min(basal_block, n - b), t_ms, g,
                    wb) != 0.0)
        crossed |= std::uint64_t{1} << (b / basal_block);
    }
    return crossed;
  };
  // One threshold for all (no homeostasis): the same loop as before per-cell
  // thresholds existed, without a load and a product per cell.
  if (theta == nullptr) {
    const double threshold = theta_all * g;
    return chunk([threshold](std::size_t) { return threshold; });
  }
  return chunk([theta](std::size_t b) { return theta + b; });
}

[[gnu::always_inline]] inline void add_scaled(float* __restrict row, const float* __restrict y,
                                              float c, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) row[j] += c * y[j];
}

std::uint64_t basal_rows(double* u, const double* ref_until_ms, const double* theta,
                         double theta_all, std::size_t n, double t_ms, double g, const float* w) {
  return add_chunk(u, ref_until_ms, theta, theta_all, n, t_ms, g, w);
}
std::uint64_t basal_uniform(double* u, const double* ref_until_ms, const double* theta,
                            double theta_all, std::size_t n, double t_ms, double g, float w) {
  return add_chunk(u, ref_until_ms, theta, theta_all, n, t_ms, g, w);
}
void axpy(float* row, const float* y, float c, std::size_t n) {
  add_scaled(row, y, c, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define APICAL_AVX2 [[gnu::target("avx2")]]
APICAL_AVX2 std::uint64_t basal_rows_avx2(double* u, const double* ref_until_ms,
                                          const double* theta, double theta_all, std::size_t n,
                                          double t_ms, double g, const float* w) {
  return add_chunk(u, ref_until_ms, theta, theta_all, n, t_ms, g, w);
}
APICAL_AVX2 std::uint64_t basal_uniform_avx2(double* u, const double* ref_until_ms,
                                             const double* theta, double theta_all, std::size_t n,
                                             double t_ms, double g, float w) {
  return add_chunk(u, ref_until_ms, theta, theta_all, n, t_ms, g, w);
}
APICAL_AVX2 void axpy_avx2(float* row, const float* y, float c, std::size_t n) {
  add_scaled(row, y, c, n);
}
#undef APICAL_AVX2
constexpr kernel_set avx2_set{basal_rows_avx2, basal_uniform_avx2, axpy_avx2, "avx2"};
#else
constexpr kernel_set avx2_set{basal_rows, basal_uniform, axpy, "baseline"};
#endif

constexpr kernel_set baseline_set{basal_rows, basal_uniform, axpy, "baseline"};

}  // namespace

const kernel_set& baseline_kernels() {
  return baseline_set;
}
const kernel_set& avx2_kernels() {
  return avx2_set;
}

bool cpu_has_avx2() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // A plain call after start-up, not an ifunc resolver: sanitizers and
  // static initialisers are safe with it.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

namespace {
// Chosen during static initialisation, before main: kernels() is then a
// plain load on the hot paths.
const kernel_set* const chosen_set = cpu_has_avx2() ? &avx2_set : &baseline_set;
}  // namespace

const kernel_set& kernels() {
  return *chosen_set;
}

}  // namespace apical::models::detail
