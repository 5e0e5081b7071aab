#include "spike_output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <span>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/learning/checksum.hpp"

namespace apical::app {
namespace {

// The spike file's hash: FNV-1a over its bytes, continued as it grows.
using learning::fnv1a;
using learning::fnv1a_basis;

// One spike in DIR/spikes.h5.records.
struct spike_record {
  double time_ms;
  std::uint32_t population, neuron;
};
static_assert(sizeof(spike_record) == 16);

constexpr std::uint32_t output_format = 1;

}  // namespace

spike_output::spike_output(const network& net, std::vector<std::size_t> populations,
                           std::optional<spikes_format> format, std::filesystem::path dir)
    : net_(&net),
      populations_(std::move(populations)),
      format_(format),
      dir_(std::move(dir)),
      activity_(net.population_count(), activity_accumulator(0)) {
  for (const auto p : populations_) activity_[p] = activity_accumulator(net.pop(p).size());
}

spike_output::~spike_output() {
  if (f_ != nullptr) std::fclose(f_);
}

std::uint8_t spike_output::kind() const {
  if (!format_) return 0;
  return *format_ == spikes_format::csv ? 1 : 2;
}

std::filesystem::path spike_output::file() const {
  const auto name = spikes_file_name(*format_);
  if (*format_ != spikes_format::csv) return dir_ / (name + ".records");
  return dir_ / (staged_ ? name + ".part" : name);
}

void spike_output::open(const char* mode) {
  if (f_ != nullptr) std::fclose(f_);
  f_ = std::fopen(file().c_str(), mode);
  if (f_ == nullptr)
    throw file_error(fmt::format("{}: cannot open for writing: {}", file().string(),
                                 std::strerror(errno)));
}

void spike_output::write(const std::string& bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size())
    throw file_error(fmt::format("{}: write failed: {}", file().string(), std::strerror(errno)));
  length_ += bytes.size();
  hash_ = fnv1a(bytes, hash_);
}

void spike_output::start(bool staged) {
  length_ = 0;
  hash_ = fnv1a_basis;
  spikes_ = 0;
  if (!format_) return;
  // An earlier run's complete file would pose as this run's.
  std::filesystem::remove(dir_ / spikes_file_name(*format_));
  staged_ = staged;
  open("wb");
  if (*format_ == spikes_format::csv) write(std::string(spikes_csv_header));
}

void spike_output::append(spike_recorder& recorder) {
  const auto& spikes = recorder.spikes();
  for (const auto& s : spikes) activity_[s.population].add(s.neuron, s.time_ms);
  spikes_ += spikes.size();
  if (format_) {
    buffer_.clear();
    if (*format_ == spikes_format::csv) {
      append_spikes_csv_rows(buffer_, *net_, spikes);
    } else {
      for (const auto& s : spikes) {
        const spike_record r{s.time_ms, s.population, s.neuron};
        buffer_.append(reinterpret_cast<const char*>(&r), sizeof r);
      }
    }
    write(buffer_);
  }
  recorder.clear();
}

int spike_output::flush() {
  if (f_ == nullptr) return -1;
  if (std::fflush(f_) != 0)
    throw file_error(fmt::format("{}: write failed: {}", file().string(), std::strerror(errno)));
  return fileno(f_);
}

void spike_output::save(checkpoint_writer& w) const {
  w.put(output_format);
  w.put(kind());
  w.put(length_);
  w.put(hash_);
  w.put(spikes_);
  for (const auto p : populations_)
    w.array(std::span<const activity_accumulator::neuron_sums>(activity_[p].neurons()));
}

void spike_output::resume(checkpoint_reader& r, const std::string& source) {
  if (const auto v = r.get<std::uint32_t>("spike output format"); v != output_format)
    throw file_error(
        fmt::format("{}: spike output format {}, expected {}", source, v, output_format));
  const auto saved = r.get<std::uint8_t>("spike file kind");
  const std::uint8_t here = kind();
  const auto describe = [](std::uint8_t k) {
    return k == 0 ? "no spike file" : k == 1 ? "spikes.csv" : "spikes.h5 (SONATA)";
  };
  if (saved != here)
    throw parameter_error(fmt::format(
        "--resume {}: the checkpointed run wrote {}, this one would write {} (give the "
        "--spikes-format and --no-spikes options of the checkpointed run)",
        source, describe(saved), describe(here)));
  const auto length = r.get<std::uint64_t>("spike file length");
  const auto hash = r.get<std::uint64_t>("spike file hash");
  spikes_ = r.get<std::uint64_t>("spike count");
  for (const auto p : populations_)
    r.array(activity_[p].neurons(), net_->pop(p).size(),
            fmt::format("activity of population '{}'", net_->pop(p).name()));
  length_ = length;
  hash_ = hash;
  if (!format_) return;
  // The file must begin with the bytes the checkpointed run had written;
  // what it wrote after the checkpoint is cut off.
  const auto path = file();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec)
    throw file_error(fmt::format("{}: the spike file of the checkpoint {} is missing ({}); resume "
                                 "with the --output directory of the checkpointed run",
                                 path.string(), source, ec.message()));
  if (size < length)
    throw file_error(fmt::format("{}: {} bytes, shorter than the {} bytes the checkpoint {} "
                                 "wrote to it",
                                 path.string(), size, length, source));
  std::ifstream in(path, std::ios::binary);
  std::uint64_t h = fnv1a_basis;
  std::string chunk(std::size_t{1} << 20, '\0');
  for (std::uint64_t left = length; left > 0;) {
    const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(left, chunk.size()));
    if (!in.read(chunk.data(), n))
      throw file_error(fmt::format("{}: cannot read the spike file", path.string()));
    h = fnv1a(std::string_view(chunk.data(), static_cast<std::size_t>(n)), h);
    left -= static_cast<std::uint64_t>(n);
  }
  if (h != hash)
    throw file_error(fmt::format("{}: its first {} bytes are not those the checkpoint {} wrote "
                                 "(another run's spike file?)",
                                 path.string(), length, source));
  in.close();
  std::filesystem::resize_file(path, length);
  open("ab");
}

void spike_output::finish(bool keep_records) {
  if (f_ == nullptr) return;
  if (std::fflush(f_) != 0 || std::ferror(f_) != 0)
    throw file_error(fmt::format("{}: write failed: {}", file().string(), std::strerror(errno)));
  std::fclose(f_);
  f_ = nullptr;
  if (*format_ != spikes_format::sonata) {
    if (staged_) {
      std::filesystem::rename(file(), dir_ / spikes_file_name(*format_));
      staged_ = false;
    }
    return;
  }
  std::vector<recorded_spike> spikes(spikes_);
  std::ifstream in(file(), std::ios::binary);
  for (auto& s : spikes) {
    spike_record r{};
    if (!in.read(reinterpret_cast<char*>(&r), sizeof r))
      throw file_error(fmt::format("{}: holds fewer than the {} spikes recorded",
                                   file().string(), spikes_));
    s = {r.time_ms, static_cast<std::uint16_t>(r.population), r.neuron};
  }
  in.close();
  write_spikes_sonata(dir_ / spikes_file_name(*format_), *net_, spikes, populations_);
  if (!keep_records) std::filesystem::remove(file());
}

population_activity spike_output::activity(std::size_t p, double duration_ms) const {
  if (activity_[p].neurons().size() != net_->pop(p).size())  // not recorded
    return activity_accumulator(net_->pop(p).size()).result(0.0, duration_ms);
  return activity_[p].result(0.0, duration_ms);
}

}  // namespace apical::app
