#include "fixtures.hpp"

#include <zlib.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace apical::datasets::testing {
namespace fs = std::filesystem;

temp_dir::temp_dir() {
  static std::atomic<int> counter{0};
  std::random_device entropy;
  path_ = fs::temp_directory_path() /
          fmt::format("apical-datasets-test-{}-{}", entropy(), counter.fetch_add(1));
  fs::create_directories(path_);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& path, const bytes& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()),
            static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("fixture: cannot write " + path.string());
}

bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bytes gzip(const bytes& plain) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("fixture: deflateInit2 failed");
  }
  bytes out(deflateBound(&z, static_cast<uLong>(plain.size())) + 64);
  z.next_in = const_cast<Bytef*>(plain.data());
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (status != Z_STREAM_END) throw std::runtime_error("fixture: deflate failed");
  return out;
}

namespace {
void put_be32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
}  // namespace

bytes idx_file(const std::vector<std::uint32_t>& dims, const bytes& items) {
  bytes out{0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (const auto d : dims) put_be32(out, d);
  out.insert(out.end(), items.begin(), items.end());
  return out;
}

bytes mnist_images(std::uint32_t n) {
  bytes items(std::size_t{n} * 784);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t p = 0; p < 784; ++p)
      items[i * 784 + p] = static_cast<std::uint8_t>((i * 31 + p) % 256);
  }
  return idx_file({n, 28, 28}, items);
}

bytes mnist_labels(std::uint32_t n) {
  bytes items(n);
  for (std::size_t i = 0; i < n; ++i) items[i] = static_cast<std::uint8_t>(i % 10);
  return idx_file({n}, items);
}

void write_mnist(const fs::path& dir, std::uint32_t train_n, std::uint32_t test_n,
                 bool compressed) {
  const auto put = [&](std::string name, const bytes& content) {
    if (compressed) {
      write_file(dir / (name + ".gz"), gzip(content));
    } else {
      write_file(dir / name, content);
    }
  };
  put("train-images-idx3-ubyte", mnist_images(train_n));
  put("train-labels-idx1-ubyte", mnist_labels(train_n));
  put("t10k-images-idx3-ubyte", mnist_images(test_n));
  put("t10k-labels-idx1-ubyte", mnist_labels(test_n));
}

bytes cifar_records(std::size_t n, std::uint8_t first_label) {
  bytes out;
  out.reserve(n * 3073);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<std::uint8_t>((first_label + i) % 10));
    for (std::size_t p = 0; p < 3072; ++p)
      out.push_back(static_cast<std::uint8_t>((i * 7 + p) % 256));
  }
  return out;
}

std::string cifar_meta() {
  return "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";
}

bytes tar_archive(const std::vector<tar_member>& members) {
  bytes out;
  for (const auto& m : members) {
    std::uint8_t h[512] = {};
    if (m.path.size() > 100) throw std::runtime_error("fixture: tar path longer than 100 bytes");
    std::memcpy(h, m.path.data(), m.path.size());
    std::snprintf(reinterpret_cast<char*>(h + 100), 8, "%07o", 0644u);
    std::snprintf(reinterpret_cast<char*>(h + 108), 8, "%07o", 0u);
    std::snprintf(reinterpret_cast<char*>(h + 116), 8, "%07o", 0u);
    std::snprintf(reinterpret_cast<char*>(h + 124), 12, "%011llo",
                  static_cast<unsigned long long>(m.content.size()));
    std::snprintf(reinterpret_cast<char*>(h + 136), 12, "%011o", 0u);
    h[156] = static_cast<std::uint8_t>(m.type);
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (const auto b : h) sum += b;
    std::snprintf(reinterpret_cast<char*>(h + 148), 8, "%06o", sum);
    h[155] = ' ';
    out.insert(out.end(), h, h + 512);
    out.insert(out.end(), m.content.begin(), m.content.end());
    out.resize(out.size() + (512 - m.content.size() % 512) % 512, 0);
  }
  out.resize(out.size() + 1024, 0);
  return out;
}

std::vector<tar_member> cifar_members(std::size_t per_file) {
  const std::string meta = cifar_meta();
  std::vector<tar_member> members{{"cifar-10-batches-bin/", {}, '5'}};
  members.push_back({"cifar-10-batches-bin/batches.meta.txt", bytes(meta.begin(), meta.end())});
  for (int k = 1; k <= 5; ++k) {
    members.push_back({fmt::format("cifar-10-batches-bin/data_batch_{}.bin", k),
                       cifar_records(per_file, static_cast<std::uint8_t>(k - 1))});
  }
  members.push_back({"cifar-10-batches-bin/readme.html", bytes{'h', 'i'}});
  members.push_back({"cifar-10-batches-bin/test_batch.bin", cifar_records(per_file, 5)});
  return members;
}

}  // namespace apical::datasets::testing
