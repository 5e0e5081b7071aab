// What `apical simulate` settles before building: the memory estimate
// (checked against the memory the allocator actually hands out), the
// refusal message, and the thread count.
#include <malloc.h>

#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/learning/plasticity/stdp.hpp"
#include "apical/models/builtin.hpp"
#include "apical/models/lif_delta.hpp"
#include "network_config.hpp"
#include "presets.hpp"
#include "run_resources.hpp"

using namespace apical;
using namespace apical::app;

namespace {

struct builtin_models : model_registry {
  builtin_models() { models::register_builtin(*this); }
};

network_spec parse(const std::string& text) {
  std::istringstream in(text);
  return parse_network_config(in, "net.ini");
}

// Bytes the allocator has handed out and not taken back (heap and mmap).
double allocated_bytes() {
  const auto m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd);
}

std::uint64_t total(const std::vector<memory_item>& items) {
  std::uint64_t sum = 0;
  for (const auto& i : items) sum += i.bytes;
  return sum;
}

const memory_item& item(const std::vector<memory_item>& items, const std::string& what) {
  for (const auto& i : items)
    if (i.what == what) return i;
  FAIL("no item " << what);
  return items.front();
}

// One of each rule and of each weight and delay layout.
const char* mixed = R"(
[simulation]
duration_ms = 100
[population.E]
model = lif_delta
size = 3000
[population.I]
model = lif_exp
size = 1000
[population.drive]
model = poisson_source
size = 3000
[projection.EE]
pre = E
post = E
rule = fixed_indegree
k = 150
weight = 0.1
delay_ms = 1.5
[projection.EI]
pre = E
post = I
rule = fixed_probability
p = 0.05
weight = 0.1
weight_max = 0.2
delay_ms = 1
delay_max_ms = 2
[projection.IE]
pre = I
post = E
rule = fixed_outdegree
k = 200
weight = -0.5
delay_ms = 0.5
[projection.drive]
pre = drive
post = E
rule = one_to_one
weight = 1
delay_ms = 0
)";

}  // namespace

TEST_CASE("the estimate is within 10 % of each built projection and of the whole network") {
  const builtin_models models;
  const auto spec = parse(mixed);
  const auto estimate = estimate_memory(spec, models, {});
  const double before = allocated_bytes();
  const auto net = build_network(spec, models);
  const double allocated = allocated_bytes() - before;
  for (std::size_t k = 0; k < net->projection_count(); ++k) {
    const auto& p = net->proj(k);
    CAPTURE(p.name());
    CHECK(static_cast<double>(item(estimate.network, "projection " + p.name()).bytes) ==
          doctest::Approx(static_cast<double>(p.memory_bytes())).epsilon(0.1));
  }
  // Projections and neurons together, against what the build allocated
  // and kept (names, vectors' headers and all). The sanitizers' allocator
  // does not report to mallinfo2.
#ifndef APICAL_SANITIZED
  CHECK(static_cast<double>(total(estimate.network)) == doctest::Approx(allocated).epsilon(0.1));
#else
  MESSAGE("allocation not measured under sanitizers (" << allocated << " bytes seen)");
#endif
  // Drawn delays: the build holds one double per synapse of EI on top.
  CHECK(estimate.build_bytes >= net->pop("E").size() * 16 + net->proj(1).size() * 8);
  CHECK(estimate.peak_bytes() >= total(estimate.network) + estimate.build_bytes);
}

TEST_CASE("plasticity and recordings are in the estimate, within 15 % of what they allocate") {
  const builtin_models models;
  learning::plasticity_registry rules;
  learning::register_stdp(rules);
  auto spec = parse(std::string(mixed) + R"(
[plasticity.EE]
projection = EE
rule = stdp_multiplicative
a_plus = 0.01
a_minus = 0.01
w_max = 0.2
)");
  run_extras extras;
  const auto plastic = estimate_memory(spec, models, extras);
  extras.plasticity = false;
  const auto static_run = estimate_memory(spec, models, extras);
  CHECK(plastic.run.size() == static_run.run.size() + 1);
  const auto& rule = item(plastic.run, "plasticity EE");
  CHECK(rule.detail == "450000 plastic synapses");

  const auto net = build_network(spec, models);
  simulator sim(*net, {.seed = 1});
  const double before = allocated_bytes();
  const auto attached = attach_plasticity(sim, spec, rules);
  REQUIRE(attached.size() == 1);
#ifndef APICAL_SANITIZED
  CHECK(static_cast<double>(rule.bytes) ==
        doctest::Approx(allocated_bytes() - before).epsilon(0.15));
#else
  MESSAGE("allocation not measured under sanitizers (" << allocated_bytes() - before << ")");
#endif

  extras.plasticity = true;
  extras.record_state = {"E.v_mv", "I.v_mv"};
  extras.record_neurons = 20;
  extras.record_interval_ms = 1.0;
  const auto recorded = estimate_memory(spec, models, extras);
  // 20 neurons of each, 101 sampling times (0, 1, ..., 100 ms).
  CHECK(item(recorded.run, "state recordings").detail == "4040 samples");
}

TEST_CASE("a network too large is refused with the estimate, its largest parts and what is free") {
  const builtin_models models;
  // brunel-scaled at scale 40: 400,000 E neurons of in-degree 40,000 each.
  const auto estimate = estimate_memory(make_preset("brunel-scaled", 40), models, {});
  const auto& ee = item(estimate.network, "projection EE");
  CHECK(ee.detail == "1.6e10 synapses");
  CHECK(ee.bytes == doctest::Approx(4.0 * 1.6e10).epsilon(0.01));  // one shared weight
  const available_memory free_memory{std::uint64_t{23} << 30, "MemAvailable in /proc/meminfo"};
  std::string message;
  try {
    check_memory(estimate, free_memory);
  } catch (const insufficient_memory& e) {
    message = e.what();
  }
  CHECK(message.starts_with("the network needs about " + bytes_text(estimate.peak_bytes())));
  CHECK(message.find("(projection EE: 59.6 GiB for 1.6e10 synapses; projection EI: 14.9 GiB "
                     "for 4e9 synapses; ") != std::string::npos);
  CHECK(message.find("but 23.0 GiB is available (MemAvailable in /proc/meminfo)") !=
        std::string::npos);
  CHECK(message.find("--no-memory-check") != std::string::npos);
  // The same network fits where there is room.
  CHECK_NOTHROW(check_memory(estimate, {estimate.peak_bytes(), "test"}));
  CHECK_THROWS_AS(check_memory(estimate, {estimate.peak_bytes() - 1, "test"}), insufficient_memory);
}

TEST_CASE("the estimate names the section of a bad configuration") {
  const builtin_models models;
  auto spec = parse(mixed);
  spec.projections[0].k = 5000;
  CHECK_THROWS_WITH_AS(estimate_memory(spec, models, {}),
                       doctest::Contains("[projection.EE]: fixed_indegree: in-degree 5000"),
                       parameter_error);
  spec = parse(mixed);
  spec.populations[1].model = "lif_nonexistent";
  CHECK_THROWS_WITH_AS(estimate_memory(spec, models, {}), doctest::Contains("[population.I]"),
                       parameter_error);
}

TEST_CASE("a distance-dependent projection's estimate bounds what it builds") {
  const builtin_models models;
  const auto spec = parse(R"(
[population.E]
model = lif_delta
size = 2500
[positions.E]
layout = grid
[projection.near]
pre = E
post = E
rule = distance_dependent
probability = 0.5 * exp(-d / 3)
weight = 0.5
)");
  const auto estimate = estimate_memory(spec, models, {});
  const auto net = build_network(spec, models);
  const auto& p = net->proj(0);
  const auto bytes = static_cast<double>(item(estimate.network, "projection near").bytes);
  CHECK(bytes >= static_cast<double>(p.memory_bytes()));
  CHECK(bytes <= 1.3 * static_cast<double>(p.memory_bytes()));
}

TEST_CASE("MemAvailable is read from /proc/meminfo text, in bytes") {
  CHECK(meminfo_available_bytes("MemTotal:       24683748 kB\nMemFree:  100 kB\n"
                                "MemAvailable:   23134864 kB\nBuffers: 1 kB\n") ==
        std::uint64_t{23134864} * 1024);
  CHECK_FALSE(meminfo_available_bytes("MemTotal: 1 kB\n").has_value());
  // On this (Linux) machine some figure is always available.
  const auto here = query_available_memory();
  REQUIRE(here.has_value());
  CHECK(here->bytes > 0);
}

TEST_CASE("bytes_text picks the unit") {
  CHECK(bytes_text(12) == "12 bytes");
  CHECK(bytes_text(3 << 10) == "3 KiB");
  CHECK(bytes_text(std::uint64_t{45} << 20) == "45.0 MiB");
  CHECK(bytes_text((std::uint64_t{25} << 30) + (std::uint64_t{1} << 29)) == "25.5 GiB");
  CHECK(bytes_text(std::uint64_t{3} << 40) == "3.0 TiB");
}

TEST_CASE("threads: at most the neurons of the largest population, and at most 4096") {
  auto spec = parse(mixed);  // largest: E and drive, 3000 neurons
  const unsigned many_cpus = 100000;
  auto c = clamp_threads(8, spec, many_cpus);
  CHECK(c.threads == 8);
  CHECK(c.notice.empty());
  c = clamp_threads(3000, spec, many_cpus);
  CHECK(c.threads == 3000);
  CHECK(c.notice.empty());
  c = clamp_threads(100000, spec, many_cpus);
  CHECK(c.threads == 3000);
  CHECK(c.notice ==
        "--threads 100000 exceeds the 3000 neurons of the largest population (E); using 3000");
  spec.populations[0].size = 1'000'000;
  c = clamp_threads(100000, spec, many_cpus);
  CHECK(c.threads == max_threads);
  CHECK(c.notice == "--threads 100000 exceeds the limit of 4096; using 4096");
  c = clamp_threads(4096, spec, many_cpus);
  CHECK(c.threads == 4096);
  CHECK(c.notice.empty());
}

TEST_CASE("threads: at most the CPUs the process may run on") {
  const auto spec = parse(mixed);
  auto c = clamp_threads(8, spec, 2);
  CHECK(c.threads == 2);
  CHECK(c.notice ==
        "--threads 8 exceeds the 2 CPUs this process may run on; using 2 (the spikes are the same "
        "for any number of threads)");
  c = clamp_threads(2, spec, 2);
  CHECK(c.threads == 2);
  CHECK(c.notice.empty());
  c = clamp_threads(5, spec, 1);
  CHECK(c.threads == 1);
  CHECK(c.notice.find("the 1 CPU this process") != std::string::npos);
  // The default asks the machine.
  CHECK(available_cpus() >= 1);
  CHECK(clamp_threads(100000, spec).threads <= available_cpus());
}

TEST_CASE("threads: at most one per 10,000 synaptic events of a window") {
  // 1000 x 1000 synapses at 10 Hz: 10,000 events per ms.
  const auto all_to_all = [](double delay_ms) {
    std::vector<synapse> s;
    for (std::uint32_t i = 0; i < 1000; ++i)
      for (std::uint32_t j = 0; j < 1000; ++j) s.push_back({i, j, 0.1f, delay_ms});
    return s;
  };
  network wide;
  auto& a = wide.add_population<models::lif_delta>("A", 1000);
  wide.connect(a, a, 0, all_to_all(4.5));
  CHECK(estimated_window_events(wide) == doctest::Approx(45000.0));
  auto c = share_threads(8, wide);
  CHECK(c.threads == 4);
  CHECK(c.notice ==
        "--threads 8: the network's windows of 4.5 ms carry about 45000 synaptic events (at 10 "
        "Hz), too few to share between 8 threads; using 4 (the spikes are the same for any number "
        "of threads; --force-threads keeps 8)");
  c = share_threads(4, wide);
  CHECK(c.threads == 4);
  CHECK(c.notice.empty());

  network narrow;  // 0.1 ms windows: one thread
  auto& b = narrow.add_population<models::lif_delta>("B", 1000);
  narrow.connect(b, b, 0, all_to_all(0.1));
  CHECK(share_threads(2, narrow).threads == 1);
  // A Poisson input counts at its rate while it lasts: 1000 neurons at
  // 100 kHz add 10,000 events per 0.1 ms.
  narrow.add_poisson_input({"drive", b.id(), 0, 100000.0, 0.1f});
  CHECK(estimated_window_events(narrow) == doctest::Approx(11000.0));
  CHECK(share_threads(2, narrow).threads == 1);
  narrow.add_poisson_input({"more", b.id(), 0, 100000.0, 0.1f, 0.0, 50.0});
  CHECK(share_threads(2, narrow).threads == 2);
  narrow.add_poisson_input({"never", b.id(), 0, 1e9, 0.1f, 5.0, 5.0});
  CHECK(share_threads(2, narrow).threads == 2);
  // One thread stays one; zero delays are the simulator's to refuse.
  CHECK(share_threads(1, narrow).threads == 1);
  network instant;
  auto& z = instant.add_population<models::lif_delta>("Z", 10);
  instant.connect(z, z, 0, {{0, 1, 1.0f, 0.0}});
  CHECK(share_threads(3, instant).threads == 3);
}
