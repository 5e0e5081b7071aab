// What one window's synaptic delivery costs in memory traffic alone, on a
// brunel-c-shaped window: 12,500 targets, 712 spikes, each with 1,250
// sorted targets drawn from 12,500 rows of 1,250 (62.5 MB of 4-byte target
// indices, so every window reads its rows from main memory). Each pattern
// runs 200 windows and prints nanoseconds per delivered entry.
//
//   count          one pass: ++count[target] (the floor of a random
//                  read-modify-write pass over the entries)
//   add            the clock-driven peer's pattern: v[target] += w (one
//                  random read-modify-write of a double per entry)
//   count+scatter  apical's windowed path: count, offsets, then each entry
//                  written at its target's cursor (4-byte entries)
//   count+scatter16  the same with 2-byte entries
//   blocked        count, then the scatter in blocks of targets whose
//                  entries (32768) stay in the core's cache
//   append16       no count pass: 2-byte entries appended to fixed
//                  256-entry buffers per target
//
//   build/bench/delivery_bench [windows]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include "apical/engine/random.hpp"

namespace {

constexpr std::uint32_t targets_n = 12500, spikes = 712, row = 1250, rows = 12500;

struct window_data {
  std::vector<std::uint32_t> targets;  // rows * row, each row sorted
  std::vector<std::uint32_t> spiking;  // the window's rows
};

// Reads one entry of every touched line of the result, so the compiler
// keeps the work.
volatile std::uint64_t sink = 0;

template <class Pattern>
double ns_per_entry(window_data& w, int windows, apical::rng& r, Pattern pattern) {
  double seconds = 0.0;
  for (int k = 0; k < windows; ++k) {
    for (auto& s : w.spiking) s = static_cast<std::uint32_t>(r.below(rows));
    const auto t0 = std::chrono::steady_clock::now();
    pattern();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return seconds * 1e9 / (static_cast<double>(windows) * spikes * row);
}

}  // namespace

int main(int argc, char** argv) {
  const int windows = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;
  apical::rng r(1);
  window_data w;
  w.targets.resize(static_cast<std::size_t>(rows) * row);
  w.spiking.resize(spikes);
  for (std::uint32_t k = 0; k < rows; ++k) {
    auto* t = &w.targets[static_cast<std::size_t>(k) * row];
    for (std::uint32_t j = 0; j < row; ++j) t[j] = static_cast<std::uint32_t>(r.below(targets_n));
    std::sort(t, t + row);
  }
  const auto row_of = [&](std::uint32_t s) {
    return &w.targets[static_cast<std::size_t>(w.spiking[s]) * row];
  };
  std::vector<std::uint32_t> count(targets_n), begin(targets_n + 1);
  std::vector<std::uint32_t> entry32(static_cast<std::size_t>(spikes) * row);
  std::vector<std::uint16_t> entry16(static_cast<std::size_t>(spikes) * row);
  std::vector<std::uint16_t> buffers(static_cast<std::size_t>(targets_n) * 256);
  std::vector<double> v(targets_n);

  const auto count_pass = [&] {
    std::fill(count.begin(), count.end(), 0u);
    for (std::uint32_t s = 0; s < spikes; ++s) {
      const std::uint32_t* t = row_of(s);
      for (std::uint32_t j = 0; j < row; ++j) ++count[t[j]];
    }
    std::uint32_t total = 0;
    for (std::uint32_t i = 0; i < targets_n; ++i) {
      begin[i] = total;
      const std::uint32_t c = count[i];
      count[i] = total;
      total += c;
    }
    begin[targets_n] = total;
  };
  const auto scatter = [&](auto& entry) {
    count_pass();
    for (std::uint32_t s = 0; s < spikes; ++s) {
      const std::uint32_t* t = row_of(s);
      for (std::uint32_t j = 0; j < row; ++j)
        entry[count[t[j]]++] = static_cast<std::remove_reference_t<decltype(entry[0])>>(s);
    }
    sink = sink + entry[entry.size() / 2];
  };

  struct result {
    std::string name;
    double ns;
  };
  std::vector<result> results;
  results.push_back({"count", ns_per_entry(w, windows, r, [&] {
                       count_pass();
                       sink = sink + count[targets_n / 2];
                     })});
  results.push_back({"add", ns_per_entry(w, windows, r, [&] {
                       for (std::uint32_t s = 0; s < spikes; ++s) {
                         const std::uint32_t* t = row_of(s);
                         for (std::uint32_t j = 0; j < row; ++j) v[t[j]] += 0.1;
                       }
                       sink = sink + static_cast<std::uint64_t>(v[targets_n / 2]);
                     })});
  results.push_back({"count+scatter", ns_per_entry(w, windows, r, [&] { scatter(entry32); })});
  results.push_back({"count+scatter16", ns_per_entry(w, windows, r, [&] { scatter(entry16); })});
  results.push_back({"blocked", ns_per_entry(w, windows, r, [&] {
                       count_pass();
                       std::vector<std::uint32_t> next(spikes, 0);
                       constexpr std::uint32_t block = 32768;
                       for (std::uint32_t i0 = 0; i0 < targets_n;) {
                         const std::uint32_t base = begin[i0];
                         auto i1 = static_cast<std::uint32_t>(
                             std::upper_bound(begin.begin() + i0 + 1, begin.end(), base + block) -
                             begin.begin() - 1);
                         i1 = std::max(i1, i0 + 1);
                         for (std::uint32_t s = 0; s < spikes; ++s) {
                           const std::uint32_t* t = row_of(s);
                           std::uint32_t j = next[s];
                           for (; j < row && t[j] < i1; ++j) entry32[count[t[j]]++ - base] = s;
                           next[s] = j;
                         }
                         std::uint64_t read = 0;  // the block's consumer
                         for (std::uint32_t e = 0; e < begin[i1] - base; e += 16) read += entry32[e];
                         sink = sink + read;
                         i0 = i1;
                       }
                     })});
  results.push_back({"append16", ns_per_entry(w, windows, r, [&] {
                       std::fill(count.begin(), count.end(), 0u);
                       for (std::uint32_t s = 0; s < spikes; ++s) {
                         const std::uint32_t* t = row_of(s);
                         for (std::uint32_t j = 0; j < row; ++j) {
                           const std::uint32_t i = t[j];
                           buffers[static_cast<std::size_t>(i) * 256 + (count[i]++ & 255)] =
                               static_cast<std::uint16_t>(s);
                         }
                       }
                       sink = sink + buffers[buffers.size() / 2];
                     })});
  std::printf("| pattern | ns per entry |\n|---|---|\n");
  for (const auto& [name, ns] : results) std::printf("| %s | %.2f |\n", name.c_str(), ns);
}
