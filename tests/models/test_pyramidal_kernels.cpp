// The baseline and AVX2 builds of the training kernels against a plain
// scalar loop, bit for bit: the same run gives the same spikes and weights
// on every CPU.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "apical/models/detail/pyramidal_kernels.hpp"

using namespace apical::models::detail;

namespace {

struct basal_case {
  std::vector<double> u, ref_until_ms, theta;
  std::vector<float> w;
  double t_ms = 50.0, g = 1.37;
};

// per_cell: thresholds differ between cells (homeostasis); else every
// cell's is 10 mV and the kernel gets the one value.
basal_case make_case(std::size_t n, unsigned seed, bool per_cell) {
  std::mt19937_64 r(seed);
  std::uniform_real_distribution<double> pot(-20.0, 9.0), ref(0.0, 80.0);
  std::normal_distribution<float> weight(0.0f, 2.0f);
  basal_case c;
  for (std::size_t m = 0; m < n; ++m) {
    // Per-cell thresholds (homeostasis): most at 10 mV, some lower.
    c.theta.push_back(per_cell && m % 5 == 2 ? 4.0 + 0.5 * static_cast<double>(m % 7) : 10.0);
    c.u.push_back(pot(r) * c.g);
    c.ref_until_ms.push_back(m % 7 == 3 ? c.t_ms : ref(r));  // some end exactly now
    c.w.push_back(weight(r));
  }
  // Cells that an input lifts over threshold: the last one (every n) and
  // every 11th; w[0] > 0 for the uniform case.
  c.w[0] = 1.5f;
  for (std::size_t m = 0; m < n; ++m)
    if (m + 1 == n || m % 11 == 10) {
      c.u[m] = (c.theta[m] - 0.1) * c.g;
      c.ref_until_ms[m] = 0.0;
      c.w[m] = 1.5f;
    }
  return c;
}

// The definition: u += w g where not refractory; blocks of 16 with a cell at
// its threshold theta g.
std::uint64_t reference(basal_case& c, bool uniform) {
  std::uint64_t crossed = 0;
  for (std::size_t m = 0; m < c.u.size(); ++m) {
    const float w = uniform ? c.w[0] : c.w[m];
    if (c.ref_until_ms[m] <= c.t_ms) c.u[m] += static_cast<double>(w) * c.g;
    if (c.u[m] >= c.theta[m] * c.g) crossed |= std::uint64_t{1} << (m / basal_block);
  }
  return crossed;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

std::vector<const kernel_set*> builds() {
  std::vector<const kernel_set*> sets{&baseline_kernels()};
  if (cpu_has_avx2())
    sets.push_back(&avx2_kernels());
  else
    MESSAGE("this CPU has no AVX2: only the baseline build is checked");
  return sets;
}

}  // namespace

TEST_CASE("basal kernels equal the scalar definition bit for bit, in every build") {
  for (const kernel_set* k : builds()) {
    for (std::size_t n : {1u, 5u, 15u, 16u, 17u, 100u, 1000u, 1024u}) {
      for (bool uniform : {false, true}) {
        for (bool per_cell : {false, true}) {
          const std::string isa = k->isa;
          CAPTURE(isa);
          CAPTURE(n);
          CAPTURE(uniform);
          CAPTURE(per_cell);
          basal_case want =
              make_case(n, static_cast<unsigned>(n) + (uniform ? 1000u : 0u), per_cell);
          basal_case got = want;
          const std::uint64_t expected = reference(want, uniform);
          const double* theta = per_cell ? got.theta.data() : nullptr;
          const std::uint64_t crossed =
              uniform ? k->basal_uniform(got.u.data(), got.ref_until_ms.data(), theta, 10.0, n,
                                         got.t_ms, got.g, got.w[0])
                      : k->basal_rows(got.u.data(), got.ref_until_ms.data(), theta, 10.0, n,
                                      got.t_ms, got.g, got.w.data());
          CHECK(same_bits(got.u, want.u));
          CHECK(crossed == expected);
          CHECK(expected != 0);  // the cases do cross, so the mask is tested
        }
      }
    }
  }
}

TEST_CASE("the Hebbian axpy equals the scalar definition bit for bit, in every build") {
  std::mt19937_64 r(7);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (const kernel_set* k : builds()) {
    for (std::size_t n : {1u, 7u, 8u, 9u, 33u, 6144u}) {
      const std::string isa = k->isa;
      CAPTURE(isa);
      CAPTURE(n);
      std::vector<float> row(n), y(n);
      for (std::size_t j = 0; j < n; ++j) row[j] = d(r), y[j] = d(r);
      const float c = 0.731f;
      std::vector<float> want = row;
      for (std::size_t j = 0; j < n; ++j) want[j] += c * y[j];
      k->axpy(row.data(), y.data(), c, n);
      CHECK(std::memcmp(row.data(), want.data(), n * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("kernels() uses the AVX2 build exactly where the CPU has AVX2") {
  CHECK(&kernels() == (cpu_has_avx2() ? &avx2_kernels() : &baseline_kernels()));
}
