#include "apical/engine/recorders.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {

spike_recorder::spike_recorder(simulator& sim) : sim_(&sim), buffers_(sim.partitions()) {
  for (std::size_t p = 0; p < sim.net().population_count(); ++p) {
    hooks_.push_back(
        std::make_unique<population_hook>(population_hook{this, static_cast<std::uint16_t>(p)}));
    sim.on_spike(p).connect(
        simulator::spike_signal::slot::bind<&population_hook::on_spike>(*hooks_.back()));
  }
}

spike_recorder::spike_recorder(simulator& sim, std::vector<std::size_t> population_ids)
    : sim_(&sim), buffers_(sim.partitions()) {
  for (auto p : population_ids) {
    if (p >= sim.net().population_count())
      throw parameter_error(fmt::format("spike_recorder: population id {} out of range", p));
    hooks_.push_back(
        std::make_unique<population_hook>(population_hook{this, static_cast<std::uint16_t>(p)}));
    sim.on_spike(p).connect(
        simulator::spike_signal::slot::bind<&population_hook::on_spike>(*hooks_.back()));
  }
}

spike_recorder::~spike_recorder() {
  for (auto& h : hooks_)
    sim_->on_spike(h->population)
        .disconnect(simulator::spike_signal::slot::bind<&population_hook::on_spike>(*h));
}

const std::vector<recorded_spike>& spike_recorder::spikes() const {
  std::size_t total = 0;
  for (const auto& b : buffers_) total += b.size();
  if (total == merged_.size()) return merged_;  // nothing new since the last call
  merged_.clear();
  merged_.reserve(total);
  for (const auto& b : buffers_) merged_.insert(merged_.end(), b.begin(), b.end());
  const auto order = [](const recorded_spike& a, const recorded_spike& b) {
    if (a.time_ms != b.time_ms) return a.time_ms < b.time_ms;
    if (a.population != b.population) return a.population < b.population;
    return a.neuron < b.neuron;
  };
  if (!std::is_sorted(merged_.begin(), merged_.end(), order))
    std::stable_sort(merged_.begin(), merged_.end(), order);
  return merged_;
}

void spike_recorder::add(std::span<const recorded_spike> earlier) {
  buffers_[0].insert(buffers_[0].end(), earlier.begin(), earlier.end());
}

void spike_recorder::clear() {
  for (auto& b : buffers_) b.clear();
  merged_.clear();
}

std::vector<std::uint32_t> spike_recorder::counts(std::size_t population_id) const {
  std::vector<std::uint32_t> n(sim_->net().pop(population_id).size(), 0);
  for (const auto& s : spikes())
    if (s.population == population_id) ++n[s.neuron];
  return n;
}

std::uint64_t spike_recorder::checksum() const {
  std::uint64_t h = 0x84222325cbf29ce4ULL;
  for (const auto& s : spikes()) {
    h = mix64(h ^ std::bit_cast<std::uint64_t>(s.time_ms));
    h = mix64(h ^ (static_cast<std::uint64_t>(s.population) << 32 | s.neuron));
  }
  return h;
}

namespace {
struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
std::unique_ptr<std::FILE, file_closer> open_for_writing(const std::filesystem::path& file) {
  std::unique_ptr<std::FILE, file_closer> f(std::fopen(file.c_str(), "w"));
  if (!f)
    throw file_error(
        fmt::format("{}: cannot open for writing: {}", file.string(), std::strerror(errno)));
  return f;
}
void finish(std::unique_ptr<std::FILE, file_closer> f, const std::filesystem::path& file) {
  if (std::fflush(f.get()) != 0 || std::ferror(f.get()))
    throw file_error(fmt::format("{}: write failed: {}", file.string(), std::strerror(errno)));
}
}  // namespace

void write_spikes_csv(const std::filesystem::path& file, const network& net,
                      const std::vector<recorded_spike>& spikes) {
  auto f = open_for_writing(file);
  std::string rows(spikes_csv_header);
  constexpr std::size_t chunk = 1 << 16;  // spikes formatted at a time
  for (std::size_t k = 0; k < spikes.size() || k == 0; k += chunk) {
    append_spikes_csv_rows(rows, net,
                           std::span(spikes).subspan(k, std::min(chunk, spikes.size() - k)));
    if (std::fwrite(rows.data(), 1, rows.size(), f.get()) != rows.size())
      throw file_error(fmt::format("{}: write failed: {}", file.string(), std::strerror(errno)));
    rows.clear();
  }
  finish(std::move(f), file);
}

void append_spikes_csv_rows(std::string& out, const network& net,
                            std::span<const recorded_spike> spikes) {
  auto it = std::back_inserter(out);
  for (const auto& s : spikes)
    it = fmt::format_to(it, "{:.17g},{},{}\n", s.time_ms, net.pop(s.population).name(), s.neuron);
}

void write_state_csv(const std::filesystem::path& file, const network& net,
                     const simulator::state_samples& samples) {
  auto f = open_for_writing(file);
  fmt::print(f.get(), "time_ms,population,neuron,variable,value\n");
  const auto& name = net.pop(samples.population).name();
  const std::size_t n = samples.neurons.size();
  for (std::size_t r = 0; r < samples.times_ms.size(); ++r)
    for (std::size_t c = 0; c < n; ++c)
      fmt::print(f.get(), "{:.17g},{},{},{},{:.17g}\n", samples.times_ms[r], name,
                 samples.neurons[c], samples.variable_name, samples.values[r * n + c]);
  finish(std::move(f), file);
}

}  // namespace apical
