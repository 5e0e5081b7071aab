#include "run_resources.hpp"

#if defined(__linux__)
#include <sched.h>
#endif

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/error.hpp"

namespace apical::app {
namespace {

// Per neuron, besides the model's state (model_population): the time of
// the last update, the latest and the queued prediction (8 bytes each), the
// prediction version (4) and whether it is certain (1).
constexpr std::uint64_t scheduling_bytes_per_neuron = 3 * 8 + 4 + 1;
// Every state variable is a double.
constexpr std::uint64_t bytes_per_state_variable = 8;
// At most one live crossing event per neuron, and about as many stale ones
// (lazy cancellation), 24 bytes each.
constexpr std::uint64_t queue_bytes_per_neuron = 2 * 24;
// A plastic projection (plasticity.hpp): its double weight (8), the delay
// group of each synapse in synapse and in post-to-pre order (4 + 4), the
// engine's incoming index (8); 4 more where the projection stored one
// weight and now needs one per synapse.
constexpr std::uint64_t plastic_bytes_per_synapse = 8 + 4 + 4 + 8;
constexpr std::uint64_t materialized_weight_bytes = 4;
// Per postsynaptic neuron: two incoming starts (8 + 8) and its traces; per
// delay group and partition: its presynaptic traces. A trace entry is a time
// and up to two values (the built-in rules have at most two).
constexpr std::uint64_t trace_entry_bytes = 8 + 2 * 8;
constexpr std::uint64_t plastic_bytes_per_post = 2 * 8 + trace_entry_bytes;
// A state sample: the partition's (time, column, value) record, its sorted
// copy when gathered, and the gathered value.
constexpr std::uint64_t bytes_per_state_sample = 24 + 24 + 8;
// A weight sample: the partition's record, the merged copy, and its line of
// weights.csv, built in memory (about 64 characters).
constexpr std::uint64_t bytes_per_weight_sample = 24 + 24 + 64;

const population_spec* find_population(const network_spec& spec, std::string_view name) {
  for (const auto& p : spec.populations)
    if (p.name == name) return &p;
  return nullptr;
}

const projection_spec* find_projection(const network_spec& spec, std::string_view name) {
  for (const auto& p : spec.projections)
    if (p.name == name) return &p;
  return nullptr;
}

// Samples taken at 0, interval, 2 interval, ... up to the duration.
std::uint64_t sampling_times(double duration_ms, double interval_ms) {
  if (!(interval_ms > 0.0) || !std::isfinite(interval_ms)) return 1;
  return static_cast<std::uint64_t>(std::floor(duration_ms / interval_ms)) + 1;
}

// "6.25e9" above a million, the integer below.
std::string count_text(std::uint64_t n) {
  if (n < 1'000'000) return std::to_string(n);
  const int exponent = static_cast<int>(std::floor(std::log10(static_cast<double>(n))));
  return fmt::format("{:.3g}e{}", static_cast<double>(n) / std::pow(10.0, exponent), exponent);
}

std::uint64_t total(const std::vector<memory_item>& items) {
  std::uint64_t sum = 0;
  for (const auto& i : items) sum += i.bytes;
  return sum;
}

std::optional<std::uint64_t> read_number(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text)) return std::nullopt;
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;  // "max"
  return v;
}

// The value of `key` in a "key value" file such as memory.stat.
std::uint64_t stat_value(const std::string& file, std::string_view key) {
  std::ifstream in(file);
  std::string k;
  std::uint64_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

// Room under this process's cgroup memory limit, if it has one.
std::optional<available_memory> cgroup_room() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "0::/path" (v2) or "N:memory:/path" (v1).
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    std::string dir, limit_file, usage_file, inactive_key;
    if (controllers.empty()) {
      dir = "/sys/fs/cgroup" + path;
      limit_file = "memory.max";
      usage_file = "memory.current";
      inactive_key = "inactive_file";
    } else if (controllers == "memory") {
      dir = "/sys/fs/cgroup/memory" + path;
      limit_file = "memory.limit_in_bytes";
      usage_file = "memory.usage_in_bytes";
      inactive_key = "total_inactive_file";
    } else {
      continue;
    }
    const auto limit = read_number(dir + "/" + limit_file);
    const auto usage = read_number(dir + "/" + usage_file);
    // v1 reports "no limit" as a huge number near 2^63.
    if (!limit || !usage || *limit >= (std::uint64_t{1} << 62)) continue;
    const std::uint64_t used =
        *usage - std::min(*usage, stat_value(dir + "/memory.stat", inactive_key));
    return available_memory{*limit - std::min(*limit, used),
                            fmt::format("the memory limit of {}/{}", dir, limit_file)};
  }
  return std::nullopt;
}

}  // namespace

std::uint64_t memory_estimate::peak_bytes() const {
  return total(network) + std::max(build_bytes, total(run));
}

memory_estimate estimate_memory(const network_spec& spec, const model_registry& models,
                                const run_extras& extras) {
  memory_estimate e;
  std::uint64_t neurons = 0;
  for (const auto& p : spec.populations) {
    std::size_t variables = 0;
    if (p.model.empty())
      throw parameter_error(fmt::format("[population.{}]: 'model' is missing", p.name));
    try {
      variables = models.make(p.model, p.name, 1)->state_names().size();
    } catch (const parameter_error& err) {
      throw parameter_error(fmt::format("[population.{}]: {}", p.name, err.what()));
    }
    neurons += p.size;
    e.network.push_back(
        {"population " + p.name, fmt::format("{} neurons", count_text(p.size)),
         p.size * (scheduling_bytes_per_neuron + bytes_per_state_variable * variables)});
  }
  std::vector<projection_shape> shapes;
  for (const auto& p : spec.projections) {
    const auto* pre = find_population(spec, p.pre);
    const auto* post = find_population(spec, p.post);
    if (pre == nullptr || post == nullptr)
      throw parameter_error(fmt::format("[projection.{}]: no population named '{}'", p.name,
                                        pre == nullptr ? p.pre : p.post));
    const auto o = connection_options_of(p, pre == post);
    try {
      const auto rule = parse_connection_rule(p.rule);
      if (rule == connection_rule::distance_dependent) {
        const auto a = positions_of(spec, p.pre, pre->size);
        const auto b = pre == post ? a : positions_of(spec, p.post, post->size);
        shapes.push_back(expected_distance_shape(a, b, probability_of(p), space_of(p), o));
      } else {
        shapes.push_back(expected_shape(rule, pre->size, post->size, p.p, p.k, o));
      }
    } catch (const parameter_error& err) {
      throw parameter_error(fmt::format("[projection.{}]: {}", p.name, err.what()));
    }
    const auto& s = shapes.back();
    e.network.push_back({"projection " + p.name, fmt::format("{} synapses", count_text(s.synapses)),
                         memory_bytes(s)});
    e.build_bytes =
        std::max<std::uint64_t>(e.build_bytes, build_extra_bytes(s, o.delay_ms.is_constant()));
  }

  e.run.push_back({"event queues", fmt::format("{} neurons", count_text(neurons)),
                   neurons * queue_bytes_per_neuron});
  if (extras.plasticity)
    for (const auto& rule : spec.plasticity) {
      const auto* proj = find_projection(spec, rule.projection);
      if (proj == nullptr) continue;  // check_plasticity names it
      const auto& s = shapes[static_cast<std::size_t>(proj - spec.projections.data())];
      const std::uint64_t per_synapse =
          plastic_bytes_per_synapse + (s.uniform_weight ? materialized_weight_bytes : 0);
      std::uint64_t bytes = s.synapses * per_synapse + s.post_size * plastic_bytes_per_post +
                            s.groups * std::max(1U, extras.threads) * trace_entry_bytes;
      if (extras.record_weights_ms) {
        const std::uint64_t sampled =
            extras.weight_synapses == 0 ? s.synapses : std::min(s.synapses, extras.weight_synapses);
        // Interval 0 records every change: only the first sample is known.
        const std::uint64_t times =
            *extras.record_weights_ms > 0.0
                ? sampling_times(spec.duration_ms, *extras.record_weights_ms)
                : 1;
        bytes += s.synapses * sizeof(std::uint32_t) + sampled * times * bytes_per_weight_sample;
      }
      e.run.push_back({"plasticity " + rule.name,
                       fmt::format("{} plastic synapses", count_text(s.synapses)), bytes});
    }
  std::uint64_t state_values = 0;
  for (const auto& what : extras.record_state) {
    const auto* pop = find_population(spec, std::string_view(what).substr(0, what.find('.')));
    if (pop == nullptr) continue;  // reported when the recorder is made
    state_values += std::min(extras.record_neurons, pop->size) *
                    sampling_times(spec.duration_ms, extras.record_interval_ms);
  }
  if (state_values > 0)
    e.run.push_back({"state recordings", fmt::format("{} samples", count_text(state_values)),
                     state_values * bytes_per_state_sample});
  return e;
}

std::optional<std::uint64_t> meminfo_available_bytes(std::string_view meminfo) {
  std::istringstream in{std::string(meminfo)};
  std::string key, unit;
  std::uint64_t value = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (fields >> key >> value && key == "MemAvailable:") {
      fields >> unit;
      return unit == "kB" ? value * 1024 : value;
    }
  }
  return std::nullopt;
}

std::optional<available_memory> query_available_memory() {
  std::optional<available_memory> best;
  std::ifstream in("/proc/meminfo");
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    if (const auto bytes = meminfo_available_bytes(text.str()))
      best = available_memory{*bytes, "MemAvailable in /proc/meminfo"};
  }
  if (const auto room = cgroup_room(); room && (!best || room->bytes < best->bytes)) best = room;
  return best;
}

std::string bytes_text(std::uint64_t bytes) {
  const auto b = static_cast<double>(bytes);
  if (b >= 0x1p40) return fmt::format("{:.1f} TiB", b / 0x1p40);
  if (b >= 0x1p30) return fmt::format("{:.1f} GiB", b / 0x1p30);
  if (b >= 0x1p20) return fmt::format("{:.1f} MiB", b / 0x1p20);
  if (b >= 0x1p10) return fmt::format("{:.0f} KiB", b / 0x1p10);
  return fmt::format("{} bytes", bytes);
}

void check_memory(const memory_estimate& estimate, const available_memory& available) {
  const std::uint64_t needed = estimate.peak_bytes();
  if (needed <= available.bytes) return;
  std::vector<memory_item> items = estimate.network;
  items.insert(items.end(), estimate.run.begin(), estimate.run.end());
  if (estimate.build_bytes > 0)
    items.push_back({"building", "row counts and delays", estimate.build_bytes});
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  std::string largest;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, items.size()); ++i)
    largest += fmt::format("{}{}: {} for {}", i == 0 ? "" : "; ", items[i].what,
                           bytes_text(items[i].bytes), items[i].detail);
  throw insufficient_memory(
      fmt::format("the network needs about {} ({}{}), but {} is available ({}). Reduce the network "
                  "(--scale, population sizes, in-degrees or connection probabilities), or pass "
                  "--no-memory-check to build it anyway",
                  bytes_text(needed), largest, items.size() > 3 ? "; ..." : "",
                  bytes_text(available.bytes), available.source));
}

thread_choice clamp_threads(unsigned requested, const network_spec& spec, unsigned cpus) {
  const population_spec* largest = nullptr;
  for (const auto& p : spec.populations)
    if (largest == nullptr || p.size > largest->size) largest = &p;
  thread_choice c{requested, {}};
  if (largest != nullptr && largest->size > 0 && c.threads > largest->size) {
    c.threads = static_cast<unsigned>(largest->size);
    c.notice =
        fmt::format("--threads {} exceeds the {} neurons of the largest population ({}); using {}",
                    requested, largest->size, largest->name, c.threads);
  }
  if (c.threads > max_threads) {
    c.threads = max_threads;
    c.notice = fmt::format("--threads {} exceeds the limit of {}; using {}", requested, max_threads,
                           max_threads);
  }
  cpus = std::max(cpus, 1U);
  if (c.threads > cpus) {
    c.threads = cpus;
    c.notice = fmt::format(
        "--threads {} exceeds the {} CPU{} this process may run on; using {} (the spikes are the "
        "same for any number of threads)",
        requested, cpus, cpus == 1 ? "" : "s", cpus);
  }
  return c;
}

thread_choice clamp_threads(unsigned requested, const network_spec& spec) {
  return clamp_threads(requested, spec, available_cpus());
}

double estimated_window_events(const network& net) {
  const double window_ms = net.min_delay_ms();
  double per_ms = static_cast<double>(net.synapses()) * assumed_rate_hz / 1000.0;
  for (const auto& in : net.poisson_inputs()) {
    if (!(in.stop_ms > in.start_ms)) continue;
    per_ms += in.rate_hz / 1000.0 * static_cast<double>(net.pop(in.population).size());
  }
  return per_ms * window_ms;
}

thread_choice share_threads(unsigned threads, const network& net) {
  thread_choice c{threads, {}};
  const double window_ms = net.min_delay_ms();
  // With no window (a zero delay) the simulator refuses threads itself.
  if (threads <= 1 || !(window_ms > 0) || !std::isfinite(window_ms)) return c;
  const double events = estimated_window_events(net);
  const double fit = std::floor(events / events_per_thread);
  if (fit >= threads) return c;
  c.threads = static_cast<unsigned>(std::max(fit, 1.0));
  c.notice = fmt::format(
      "--threads {}: the network's windows of {:g} ms carry about {:.0f} synaptic events (at "
      "{:g} Hz), too few to share between {} threads; using {} (the spikes are the same for any "
      "number of threads; --force-threads keeps {})",
      threads, window_ms, events, assumed_rate_hz, threads, c.threads, threads);
  return c;
}

unsigned available_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
#endif
  return std::max(std::thread::hardware_concurrency(), 1U);
}

}  // namespace apical::app
