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
inline constexpr std::uint64_t poisson_input = 6;
inline constexpr std::uint64_t positions = 7;
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
  // Exponential with the given mean (> 0) by the ziggurat method (Marsaglia
  // & Tsang 2000; 256 layers): one 64-bit draw, a table look-up and a
  // multiplication for about 99 % of values, no logarithm. A different
  // sequence from exponential() for the same stream, with the same law.
  [[gnu::always_inline]] double exponential_ziggurat(double mean) {
    // The fast path, inline: a draw in the rectangle under the curve.
    const std::uint64_t bits = (*this)();
    const auto layer = static_cast<unsigned>(bits & 255);
    const std::uint64_t j = bits >> 11;  // 53 bits
    if (j < ziggurat_below(layer) && j != 0)
      return mean * (static_cast<double>(j) * ziggurat_width(layer));
    // (On a copy: the address of *this never escapes from the fast path, so
    // a caller's stream can live in registers.)
    rng rest = *this;
    const double x = rest.exponential_ziggurat_slow(mean, bits);
    *this = rest;
    return x;
  }
  // False for the all-zero state, which xoshiro256 never leaves (and which
  // no seed gives): a stream read from a file must be checked with it.
  bool usable() const { return (s_[0] | s_[1] | s_[2] | s_[3]) != 0; }
  // Standard normal (Box-Muller; one value per call, simple and portable).
  double normal() {
    double u1;
    do u1 = uniform();
    while (u1 == 0.0);
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  bool bernoulli(double p) { return uniform() < p; }
  // Gamma with the given shape (> 0) and scale (> 0), mean shape * scale:
  // Marsaglia & Tsang's (2000) squeeze-and-reject method for shape >= 1; a
  // smaller shape draws Gamma(shape + 1) and multiplies by U^(1/shape).
  double gamma(double shape, double scale) {
    const bool small = shape < 1.0;
    const double a = small ? shape + 1.0 : shape;
    const double d = a - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    double g;
    while (true) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform();
      if (u < 1.0 - 0.0331 * (x * x) * (x * x) ||
          (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v)))) {
        g = d * v;
        break;
      }
    }
    if (small) {
      double u;
      do u = uniform();
      while (u == 0.0);
      g *= std::pow(u, 1.0 / shape);
    }
    return g * scale;
  }
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
  static std::uint64_t ziggurat_below(unsigned layer);
  static double ziggurat_width(unsigned layer);
  // The rest of the ziggurat: the base layer's tail, the wedges, retries.
  double exponential_ziggurat_slow(double mean, std::uint64_t bits);
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

namespace detail {
// The exponential ziggurat's layers: x[0] is the base's pseudo-width
// (area v / f(r)), x[1] = r, x[i + 1] = -log(exp(-x[i]) + v / x[i]),
// x[256] = 0; f[i] = exp(-x[i]); below[i] = 2^53 x[i + 1] / x[i] (a draw of
// layer i under it lies in the rectangle under the curve).
struct exponential_ziggurat_tables {
  double x[257];
  double f[257];
  std::uint64_t below[256];
  double width[256];  // x[i] 2^-53
  exponential_ziggurat_tables() {
    constexpr double r = 7.69711747013104972;
    constexpr double v = 3.949659822581572e-3;
    x[0] = v / std::exp(-r);
    x[1] = r;
    for (int i = 1; i < 255; ++i) x[i + 1] = -std::log(std::exp(-x[i]) + v / x[i]);
    x[256] = 0.0;
    for (int i = 0; i < 257; ++i) f[i] = std::exp(-x[i]);
    for (int i = 0; i < 256; ++i) {
      below[i] = static_cast<std::uint64_t>(x[i + 1] / x[i] * 0x1.0p53);
      width[i] = x[i] * 0x1.0p-53;
    }
  }
};
// Built during static initialisation (no guard on every draw).
inline const exponential_ziggurat_tables exponential_table{};
inline const exponential_ziggurat_tables& exponential_tables() { return exponential_table; }
}  // namespace detail

inline std::uint64_t rng::ziggurat_below(unsigned layer) {
  return detail::exponential_tables().below[layer];
}
inline double rng::ziggurat_width(unsigned layer) {
  return detail::exponential_tables().width[layer];
}

inline double rng::exponential_ziggurat_slow(double mean, std::uint64_t bits) {
  const auto& t = detail::exponential_tables();
  for (bool first = true;; first = false) {
    if (!first) bits = (*this)();
    const auto layer = static_cast<unsigned>(bits & 255);
    const std::uint64_t j = bits >> 11;
    const double x = static_cast<double>(j) * t.width[layer];
    if (j < t.below[layer] && j != 0) return mean * x;
    if (j == 0) continue;
    if (layer == 0) {
      if (x < t.x[1]) return mean * x;
      // The tail beyond r: r plus an exponential (memorylessness).
      double u;
      do u = uniform();
      while (u == 0.0);
      return mean * (t.x[1] - std::log(u));
    }
    if (t.f[layer] + uniform() * (t.f[layer + 1] - t.f[layer]) < std::exp(-x)) return mean * x;
  }
}

}  // namespace apical
