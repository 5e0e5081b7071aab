#pragma once
// The two loops that bound microcircuit training, each built twice: for the
// baseline x86-64 ISA and for AVX2 (four doubles or eight floats a vector).
// kernels() picks the AVX2 build once, where the CPU supports it.
//
// Both builds round every product and sum exactly as the scalar code does
// (AVX2 without FMA, no reassociation), so a run gives the same spikes and
// weights on every CPU; tests/learning/test_kernels.cpp checks the two
// builds bit for bit. Not x86-64: both entries are the portable build.
#include <cstddef>
#include <cstdint>

namespace apical::models::detail {

// Basal inputs to n <= basal_chunk consecutive pyramidal cells of one
// population (pyramidal_population::deliver_basal): for each cell m whose
// refractory period has ended (ref_until_ms[m] <= t_ms),
// u[m] += w[m] g, or w g with one weight for all. Bit b of the result is set
// when a cell of block b (cells [16 b, 16 b + 16)) is at or above its
// threshold after the input: theta[m] g (theta[m] = V_th,m - E_L, per cell:
// the homeostatic thresholds), or theta_all g for every cell when theta is
// null (the loop without per-cell thresholds, one load and product less a
// cell).
inline constexpr std::size_t basal_block = 16;
inline constexpr std::size_t basal_chunk = 64 * basal_block;

using basal_rows_kernel = std::uint64_t (*)(double* u, const double* ref_until_ms,
                                            const double* theta, double theta_all, std::size_t n,
                                            double t_ms, double g, const float* w);
using basal_uniform_kernel = std::uint64_t (*)(double* u, const double* ref_until_ms,
                                               const double* theta, double theta_all, std::size_t n,
                                               double t_ms, double g, float w);
// row[j] += c y[j] for j < n (the Hebbian update of one cell's dW row).
using axpy_kernel = void (*)(float* row, const float* y, float c, std::size_t n);

struct kernel_set {
  basal_rows_kernel basal_rows;
  basal_uniform_kernel basal_uniform;
  axpy_kernel axpy;
  const char* isa;  // "avx2" or "baseline"
};

// The baseline and AVX2 builds; avx2() may only be called where
// cpu_has_avx2().
const kernel_set& baseline_kernels();
const kernel_set& avx2_kernels();
bool cpu_has_avx2();
// The set in use: AVX2 where the CPU has it.
const kernel_set& kernels();

}  // namespace apical::models::detail
