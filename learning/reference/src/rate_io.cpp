#include "apical/learning/reference/rate_io.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <istream>
#include <ostream>
#include <string>

#include "apical/engine/error.hpp"
#include "apical/learning/checksum.hpp"

namespace apical::learning {
namespace {

constexpr std::array<char, 8> magic{'A', 'P', 'R', 'A', 'T', 'E', 'N', 'W'};
constexpr std::uint32_t format_version = 1;
// A sanity bound on a layer size read from a stream, so that a corrupt size
// fails with a message instead of a huge allocation.
constexpr std::uint64_t max_layer_size = std::uint64_t{1} << 24;
constexpr std::uint32_t max_num_sizes = 1024;

// The one checksum (checksum.hpp), over the bytes as they stream past.
class checksum {
 public:
  void add(const unsigned char* p, std::size_t n) {
    hash_ = fnv1a({reinterpret_cast<const char*>(p), n}, hash_);
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = fnv1a_basis;
};

class writer {
 public:
  explicit writer(std::ostream& out) : out_(out) {}
  void bytes(const unsigned char* p, std::size_t n) {
    sum_.add(p, n);
    out_.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
  }
  void u8(std::uint8_t v) { bytes(&v, 1); }
  void u32(std::uint32_t v) { little_endian(v, 4); }
  void u64(std::uint64_t v) { little_endian(v, 8); }
  void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  std::uint64_t sum() const { return sum_.value(); }

 private:
  void little_endian(std::uint64_t v, std::size_t n) {
    std::array<unsigned char, 8> b{};
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    bytes(b.data(), n);
  }
  std::ostream& out_;
  checksum sum_;
};

class reader {
 public:
  explicit reader(std::istream& in) : in_(in) {}
  void bytes(unsigned char* p, std::size_t n, const char* field) {
    in_.read(reinterpret_cast<char*>(p), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in_.gcount()) != n) {
      throw file_error(std::string("rate network stream: truncated while reading ") + field);
    }
    sum_.add(p, n);
  }
  std::uint8_t u8(const char* field) {
    unsigned char v = 0;
    bytes(&v, 1, field);
    return v;
  }
  std::uint32_t u32(const char* field) {
    return static_cast<std::uint32_t>(little_endian(4, field));
  }
  std::uint64_t u64(const char* field) { return little_endian(8, field); }
  float f32(const char* field) { return std::bit_cast<float>(u32(field)); }
  double f64(const char* field) { return std::bit_cast<double>(u64(field)); }
  std::uint64_t sum() const { return sum_.value(); }

 private:
  std::uint64_t little_endian(std::size_t n, const char* field) {
    std::array<unsigned char, 8> b{};
    bytes(b.data(), n, field);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b[i]) << (8 * i);
    return v;
  }
  std::istream& in_;
  checksum sum_;
};

// The stream contents after the magic and version, up to the checksum.
struct stored_network {
  rate_network_params params;
  std::vector<matrix> weights;
  std::vector<std::vector<float>> biases;
};

stored_network read_stream(std::istream& in) {
  std::array<char, 8> head{};
  in.read(head.data(), head.size());
  if (in.gcount() != static_cast<std::streamsize>(head.size()) || head != magic) {
    throw file_error("rate network stream: bad magic, expected \"APRATENW\"");
  }
  reader r(in);
  const std::uint32_t version = r.u32("version");
  if (version != format_version) {
    throw file_error("rate network stream: version is " + std::to_string(version) + ", expected " +
                     std::to_string(format_version));
  }
  stored_network s;
  const std::uint32_t num_sizes = r.u32("num_sizes");
  if (num_sizes < 2 || num_sizes > max_num_sizes) {
    throw file_error("rate network stream: num_sizes is " + std::to_string(num_sizes) +
                     ", expected 2.." + std::to_string(max_num_sizes));
  }
  for (std::uint32_t i = 0; i < num_sizes; ++i) {
    const std::uint64_t n = r.u64("layer size");
    if (n < 1 || n > max_layer_size) {
      throw file_error("rate network stream: layer_sizes[" + std::to_string(i) + "] is " +
                       std::to_string(n) + ", expected 1.." + std::to_string(max_layer_size));
    }
    s.params.layer_sizes.push_back(static_cast<std::size_t>(n));
  }
  s.params.hidden_activation = static_cast<activation>(r.u8("hidden_activation"));
  s.params.output_activation = static_cast<activation>(r.u8("output_activation"));
  s.params.loss = static_cast<loss_kind>(r.u8("loss"));
  const std::uint8_t bias = r.u8("bias");
  if (bias > 1) {
    throw file_error("rate network stream: bias is " + std::to_string(bias) + ", expected 0 or 1");
  }
  s.params.bias = bias == 1;
  s.params.init = static_cast<weight_init>(r.u8("init"));
  s.params.init_gain = r.f64("init_gain");
  s.params.target_on = r.f64("target_on");
  s.params.target_off = r.f64("target_off");
  s.params.seed = r.u64("seed");
  try {
    s.params.validate();
  } catch (const parameter_error& e) {
    throw file_error(std::string("rate network stream: ") + e.what());
  }
  const auto& sizes = s.params.layer_sizes;
  // Values are appended as they are read, so a corrupt size runs into the
  // end of the stream before it can cause a huge allocation.
  const auto read_values = [&r](std::size_t n, const char* field) {
    std::vector<float> values;
    values.reserve(std::min<std::size_t>(n, std::size_t{1} << 20));
    for (std::size_t i = 0; i < n; ++i) values.push_back(r.f32(field));
    return values;
  };
  for (std::size_t w = 0; w + 1 < sizes.size(); ++w) {
    s.weights.emplace_back(sizes[w + 1], sizes[w], read_values(sizes[w + 1] * sizes[w], "weights"));
    s.biases.push_back(s.params.bias ? read_values(sizes[w + 1], "biases")
                                     : std::vector<float>(sizes[w + 1], 0.0f));
  }
  const std::uint64_t expected = r.sum();
  const std::uint64_t stored = r.u64("checksum");
  if (stored != expected) {
    throw file_error("rate network stream: checksum mismatch (stored " + std::to_string(stored) +
                     ", computed " + std::to_string(expected) + "); the data is corrupt");
  }
  return s;
}

}  // namespace

void save_network(const rate_network& net, std::ostream& out) {
  out.write(magic.data(), magic.size());
  writer w(out);
  const rate_network_params& p = net.params();
  w.u32(format_version);
  w.u32(static_cast<std::uint32_t>(p.layer_sizes.size()));
  for (const std::size_t n : p.layer_sizes) w.u64(n);
  w.u8(static_cast<std::uint8_t>(p.hidden_activation));
  w.u8(static_cast<std::uint8_t>(p.output_activation));
  w.u8(static_cast<std::uint8_t>(p.loss));
  w.u8(p.bias ? 1 : 0);
  w.u8(static_cast<std::uint8_t>(p.init));
  w.f64(p.init_gain);
  w.f64(p.target_on);
  w.f64(p.target_off);
  w.u64(p.seed);
  for (std::size_t l = 0; l < net.num_layers(); ++l) {
    for (const float x : net.weights(l).values()) w.f32(x);
    if (p.bias) {
      for (const float x : net.biases(l)) w.f32(x);
    }
  }
  w.u64(w.sum());
  if (!out) throw file_error("rate network stream: write failed");
}

rate_network load_network(std::istream& in) {
  stored_network s = read_stream(in);
  rate_network net(s.params);
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    net.weights(w) = std::move(s.weights[w]);
    net.biases(w) = std::move(s.biases[w]);
  }
  return net;
}

void load_weights(rate_network& net, std::istream& in) {
  stored_network s = read_stream(in);
  const auto& got = s.params.layer_sizes;
  const auto& expected = net.layer_sizes();
  if (got.size() != expected.size()) {
    throw file_error("rate network stream: " + std::to_string(got.size()) +
                     " layer sizes, expected " + std::to_string(expected.size()) +
                     " (the network's)");
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != expected[i]) {
      throw file_error("rate network stream: layer_sizes[" + std::to_string(i) + "] is " +
                       std::to_string(got[i]) + ", expected " + std::to_string(expected[i]) +
                       " (the network's)");
    }
  }
  if (s.params.bias != net.has_bias()) {
    throw file_error(std::string("rate network stream: bias is ") + (s.params.bias ? "on" : "off") +
                     ", expected " + (net.has_bias() ? "on" : "off") + " (the network's)");
  }
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    net.weights(w) = std::move(s.weights[w]);
    net.biases(w) = std::move(s.biases[w]);
  }
}

}  // namespace apical::learning
