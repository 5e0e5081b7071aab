#pragma once
// Random numbers: one master seed, independent streams.
//
// A stream is identified by (master seed, stream id, sub id). Streams are
// derived by hashing, so the numbers a population or a neuron draws do not
// depend on the order in which other streams were used, nor on the number of
// threads. Builders use one stream per projection or population; stochastic
// neurons and sources use one stream per neuron.
#include <cmath>
#include <cstdint>
#include <limits>

namespace apical {

// SplitMix64 finaliser: a bijective 64-bit mixer (Steele, Lea & Flood 2014).
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Stream ids used by the library; user code may use any other values.
namespace stream {
inline constexpr std::uint64_t connectivity = 1;
inline constexpr std::uint64_t initial_state = 2;
inline constexpr std::uint64_t neuron_noise = 3;
inline constexpr std::uint64_t encoder = 4;
inline constexpr std::uint64_t training = 5;
}  // namespace stream

constexpr std::uint64_t derive_seed(std::uint64_t master, std::uint64_t stream_id,
                                    std::uint64_t sub_id = 0) {
  return mix64(mix64(master ^ mix64(stream_id)) ^ mix64(sub_id + 0x632be59bd9b4e019ULL));
}

// xoshiro256** (Blackman & Vigna 2018): small state, fast, good quality.
// Satisfies UniformRandomBitGenerator, so it works with <random>
// distributions too (though apical draws through the helpers below, whose
// results do not depend on the standard library implementation).
class rng {
  __extension__ using uint128 = unsigned __int128;

 public:
  using result_type = std::uint64_t;
  explicit constexpr rng(std::uint64_t seed = 0) { reseed(seed); }
  constexpr void reseed(std::uint64_t seed) {
    std::uint64_t z = seed;
    for (auto& w : s_) {
      z += 0x9e3779b97f4a7c15ULL;
      w = mix64(z);
    }
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  constexpr result_type operator()() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, unbiased).
  std::uint64_t below(std::uint64_t n) {
    while (true) {
      const uint128 m = static_cast<uint128>((*this)()) * n;
      const auto low = static_cast<std::uint64_t>(m);
      if (low >= n || low >= (-n) % n) return static_cast<std::uint64_t>(m >> 64);
    }
  }
  // Exponential with the given mean (> 0); never returns 0 or infinity.
  double exponential(double mean) {
    double u;
    do u = uniform();
    while (u == 0.0);
    return -mean * std::log(u);
  }
  // Standard normal (Box-Muller; one value per call, simple and portable).
  double normal() {
    double u1;
    do u1 = uniform();
    while (u1 == 0.0);
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  bool bernoulli(double p) { return uniform() < p; }
  // Poisson count with the given mean (>= 0): the arrivals of a Poisson
  // process of rate `mean` in unit time, drawn as exponential intervals
  // (exact for any mean; about mean + 1 draws).
  std::uint64_t poisson(double mean) {
    std::uint64_t n = 0;
    if (mean > 0.0)
      for (double t = exponential(1.0 / mean); t < 1.0; t += exponential(1.0 / mean)) ++n;
    return n;
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace apical
