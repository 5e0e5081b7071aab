#include "apical/learning/training/checkpoint.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/learning/checksum.hpp"

namespace apical::learning {
namespace {

constexpr char magic[8] = {'A', 'P', 'T', 'R', 'A', 'I', 'N', '\0'};
// Far above any real network, low enough that a corrupt count cannot ask
// for an absurd allocation before the length checks catch it.
constexpr std::uint64_t max_items = std::uint64_t{1} << 40;

class writer {
 public:
  void u32(std::uint32_t v) { bytes(v, 4); }
  void u64(std::uint64_t v) { bytes(v, 8); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
  void str(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  void floats(const float* v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) f32(v[i]);
  }
  void array(const std::vector<float>& v) {
    u64(v.size());
    floats(v.data(), v.size());
  }
  void doubles(const std::vector<double>& v) {
    u64(v.size());
    for (const double x : v) f64(x);
  }
  void mat(const matrix& m) {
    u64(m.rows());
    u64(m.cols());
    floats(m.data(), m.size());
  }
  void mats(const std::vector<matrix>& v) {
    u64(v.size());
    for (const auto& m : v) mat(m);
  }
  void arrays(const std::vector<std::vector<float>>& v) {
    u64(v.size());
    for (const auto& a : v) array(a);
  }
  std::string& out() { return out_; }

 private:
  void bytes(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class reader {
 public:
  reader(const std::string& bytes, std::size_t begin, std::size_t end, const std::string& file)
      : data_(bytes), pos_(begin), end_(end), file_(file) {}

  [[noreturn]] void fail(std::string_view field, std::string_view what) const {
    throw file_error(fmt::format("{}: field '{}' (offset {}): {}", file_, field, pos_, what));
  }
  void need(std::string_view field, std::uint64_t n) {
    if (n > end_ - pos_)
      fail(field, fmt::format("needs {} bytes, only {} remain; the file is truncated or corrupt", n,
                              end_ - pos_));
  }
  std::uint64_t raw(std::string_view field, int n) {
    need(field, static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  std::uint32_t u32(std::string_view field) { return static_cast<std::uint32_t>(raw(field, 4)); }
  std::uint64_t u64(std::string_view field) { return raw(field, 8); }
  double f64(std::string_view field) { return std::bit_cast<double>(u64(field)); }
  std::uint64_t count(std::string_view field, std::uint64_t item_bytes) {
    const std::uint64_t n = u64(field);
    if (n > max_items || n * item_bytes > end_ - pos_)
      fail(field, fmt::format("count {} does not fit in the {} bytes that remain", n, end_ - pos_));
    return n;
  }
  std::string str(std::string_view field) {
    const std::uint64_t n = count(field, 1);
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void floats(std::string_view field, float* out, std::uint64_t n) {
    need(field, n * 4);
    for (std::uint64_t i = 0; i < n; ++i)
      out[i] = std::bit_cast<float>(static_cast<std::uint32_t>(raw(field, 4)));
  }
  std::vector<float> array(std::string_view field) {
    std::vector<float> v(count(field, 4));
    floats(field, v.data(), v.size());
    return v;
  }
  std::vector<double> doubles(std::string_view field) {
    std::vector<double> v(count(field, 8));
    for (auto& x : v) x = f64(field);
    return v;
  }
  matrix mat(const std::string& field) {
    const std::uint64_t rows = u64(field + ".rows");
    const std::uint64_t cols = u64(field + ".cols");
    if (rows > max_items || cols > max_items || rows * cols > (end_ - pos_) / 4)
      fail(field, fmt::format("a {}x{} matrix does not fit in the {} bytes that remain", rows, cols,
                              end_ - pos_));
    matrix m(rows, cols);
    floats(field, m.data(), m.size());
    return m;
  }
  std::vector<matrix> mats(const std::string& field) {
    std::vector<matrix> v(count(field, 16));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = mat(fmt::format("{}[{}]", field, i));
    return v;
  }
  std::vector<std::vector<float>> arrays(const std::string& field) {
    std::vector<std::vector<float>> v(count(field, 8));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = array(fmt::format("{}[{}]", field, i));
    return v;
  }
  std::size_t pos() const { return pos_; }

 private:
  const std::string& data_;
  std::size_t pos_;
  std::size_t end_;
  const std::string& file_;
};

void write_epoch(writer& w, const epoch_record& e) {
  w.u64(e.epoch);
  w.u64(e.samples);
  for (const double v : {e.train_accuracy, e.train_loss, e.test_accuracy, e.test_loss,
                         e.spikes_per_sample, e.input_spikes_per_sample, e.wall_s, e.samples_per_s})
    w.f64(v);
  w.doubles(e.alignment_deg);
  w.doubles(e.dead_fraction);
  w.doubles(e.quiet_fraction);
  w.doubles(e.hidden_rate_hz);
}

epoch_record read_epoch(reader& r, const std::string& field, std::uint32_t version) {
  epoch_record e;
  e.epoch = r.u64(field + ".epoch");
  e.samples = r.u64(field + ".samples");
  for (double* v : {&e.train_accuracy, &e.train_loss, &e.test_accuracy, &e.test_loss,
                    &e.spikes_per_sample, &e.input_spikes_per_sample, &e.wall_s, &e.samples_per_s})
    *v = r.f64(field);
  e.alignment_deg = r.doubles(field + ".alignment_deg");
  if (version >= 2) {
    e.dead_fraction = r.doubles(field + ".dead_fraction");
    e.quiet_fraction = r.doubles(field + ".quiet_fraction");
    e.hidden_rate_hz = r.doubles(field + ".hidden_rate_hz");
  }
  return e;
}

}  // namespace

std::string encode_checkpoint(const checkpoint& c) {
  writer w;
  w.out().append(magic, sizeof magic);
  w.u32(checkpoint_version);
  w.u64(0);  // payload_bytes, patched below
  const std::size_t payload_begin = w.out().size();
  w.str(c.kind);
  w.str(c.dataset);
  w.str(c.algo);
  w.str(c.arch);
  w.u64(c.config_hash);
  w.str(c.config_ini);
  w.u64(c.seed);
  w.u64(c.epochs_done);
  w.array(c.input_means);
  w.mats(c.weights);
  w.arrays(c.biases);
  w.mats(c.velocity);
  w.arrays(c.bias_velocity);
  w.mats(c.feedback);
  w.u64(c.thresholds.size());
  for (const auto& t : c.thresholds) w.doubles(t);
  w.f64(c.history.initial_test_accuracy);
  w.u64(c.history.epochs.size());
  for (const auto& e : c.history.epochs) write_epoch(w, e);
  w.u64(c.history.alignment.size());
  for (const auto& a : c.history.alignment) {
    w.f64(a.position);
    w.doubles(a.angles_deg);
  }
  w.u64(c.history.train_curve.size());
  for (const auto& p : c.history.train_curve) {
    w.f64(p.position);
    w.f64(p.accuracy);
  }
  std::string& out = w.out();
  const std::uint64_t payload = out.size() - payload_begin;
  for (int i = 0; i < 8; ++i)
    out[payload_begin - 8 + static_cast<std::size_t>(i)] =
        static_cast<char>((payload >> (8 * i)) & 0xff);
  w.u64(fnv1a(std::string_view(out).substr(sizeof magic)));
  return std::move(out);
}

checkpoint decode_checkpoint(const std::string& bytes, const std::string& file) {
  constexpr std::size_t header = sizeof magic + 4 + 8;
  if (bytes.size() < sizeof magic || std::memcmp(bytes.data(), magic, sizeof magic) != 0)
    throw file_error(fmt::format(
        "{}: field 'magic': not an apical training checkpoint (expected the bytes \"APTRAIN\\0\")",
        file));
  if (bytes.size() < header + 8)
    throw file_error(fmt::format(
        "{}: field 'version': the file ends after {} bytes; it is truncated", file, bytes.size()));
  reader head(bytes, sizeof magic, header, file);
  const std::uint32_t version = head.u32("version");
  if (version != checkpoint_version && version != 1)
    throw file_error(
        fmt::format("{}: field 'version': is {}; expected 1 to {} (written by another "
                    "version of apical?)",
                    file, version, checkpoint_version));
  const std::uint64_t payload = head.u64("payload_bytes");
  if (payload > bytes.size() - header - 8)
    throw file_error(
        fmt::format("{}: field 'payload_bytes': {} bytes of data announced, {} "
                    "present; the file is truncated",
                    file, payload, bytes.size() - header - 8));
  if (payload < bytes.size() - header - 8)
    throw file_error(
        fmt::format("{}: field 'payload_bytes': {} bytes of data announced, but the "
                    "file holds {} more bytes; it is corrupt",
                    file, payload, bytes.size() - header - 8 - payload));
  const std::size_t end = header + payload;
  reader tail(bytes, end, end + 8, file);
  const std::uint64_t stored = tail.u64("checksum");
  const std::uint64_t actual =
      fnv1a(std::string_view(bytes).substr(sizeof magic, end - sizeof magic));
  if (stored != actual)
    throw file_error(
        fmt::format("{}: field 'checksum': is {:016x}, the data gives {:016x}; the "
                    "file is corrupt",
                    file, stored, actual));

  reader r(bytes, header, end, file);
  checkpoint c;
  c.kind = r.str("kind");
  if (c.kind != "rate" && c.kind != "microcircuit")
    r.fail("kind", fmt::format("is '{}'; expected rate or microcircuit", c.kind));
  c.dataset = r.str("dataset");
  c.algo = r.str("algo");
  c.arch = r.str("arch");
  c.config_hash = r.u64("config_hash");
  c.config_ini = r.str("config");
  c.seed = r.u64("seed");
  c.epochs_done = r.u64("epochs_done");
  c.input_means = r.array("input_means");
  c.weights = r.mats("weights");
  c.biases = r.arrays("biases");
  c.velocity = r.mats("velocity");
  c.bias_velocity = r.arrays("bias_velocity");
  c.feedback = r.mats("feedback");
  if (version >= 2) {
    const std::uint64_t layers = r.count("thresholds", 8);
    for (std::uint64_t l = 0; l < layers; ++l)
      c.thresholds.push_back(r.doubles(fmt::format("thresholds[{}]", l)));
  }
  c.history.initial_test_accuracy = r.f64("history.initial_test_accuracy");
  const std::uint64_t epochs = r.count("history.epochs", 8);
  for (std::uint64_t e = 0; e < epochs; ++e)
    c.history.epochs.push_back(read_epoch(r, fmt::format("history.epochs[{}]", e), version));
  const std::uint64_t points = r.count("history.alignment", 16);
  for (std::uint64_t p = 0; p < points; ++p) {
    alignment_point a;
    a.position = r.f64("history.alignment.position");
    a.angles_deg = r.doubles("history.alignment.angles_deg");
    c.history.alignment.push_back(std::move(a));
  }
  const std::uint64_t curve = r.count("history.train_curve", 16);
  for (std::uint64_t p = 0; p < curve; ++p) {
    curve_point cp;
    cp.position = r.f64("history.train_curve.position");
    cp.accuracy = r.f64("history.train_curve.accuracy");
    c.history.train_curve.push_back(cp);
  }
  if (r.pos() != end)
    r.fail("history",
           fmt::format("{} bytes left over after the last field; expected none", end - r.pos()));
  if (c.history.epochs.size() != c.epochs_done)
    throw file_error(
        fmt::format("{}: field 'history.epochs': {} records for {} epochs done; "
                    "expected one per epoch",
                    file, c.history.epochs.size(), c.epochs_done));
  return c;
}

}  // namespace apical::learning
