// Queue micro-benchmark: the classic "hold" workload. A queue holds N
// pending events; each step pops the earliest and pushes a new one a random
// interval later, as a spiking network does (a neuron's next crossing, a
// spike's delivery). Intervals are exponential (mean 1 ms) or, with
// "delays", a fixed 1.5 ms plus a small jitter (deliveries of one delay).
//
//   queue_bench [steps]     prints ns per hold step for each queue and N
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "apical/engine/event_queue.hpp"
#include "apical/engine/random.hpp"

using namespace apical;

namespace {

double hold_ns(event_queue& q, std::size_t n, std::size_t steps, bool delays) {
  rng r(1);
  auto interval = [&] { return delays ? 1.5 + 0.01 * r.uniform() : r.exponential(1.0); };
  std::uint32_t id = 0;
  for (std::size_t k = 0; k < n; ++k)
    q.push(event{time_ms{interval()}, id++, 0, 0, event_kind::delivery});
  double sink = 0.0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t s = 0; s < steps; ++s) {
    const event e = q.pop();
    sink += e.time.count();
    q.push(event{e.time + time_ms{interval()}, id++, 0, 0, event_kind::delivery});
  }
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  if (sink < 0) std::puts("");  // keep the loop
  q.clear();
  return ns / static_cast<double>(steps);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t steps = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  fmt::print(
      "| workload | pending events | heap_queue ns/step | calendar_queue ns/step | "
      "radix_queue ns/step |\n");
  fmt::print("|---|---|---|---|---|\n");
  for (bool delays : {false, true})
    for (std::size_t n : {1'000, 10'000, 100'000, 1'000'000}) {
      heap_queue h;
      calendar_queue c;
      radix_queue x;
      const double th = hold_ns(h, n, steps, delays);
      const double tc = hold_ns(c, n, steps, delays);
      const double tx = hold_ns(x, n, steps, delays);
      fmt::print("| {} | {} | {:.1f} | {:.1f} | {:.1f} |\n", delays ? "delays" : "exponential", n,
                 th, tc, tx);
    }
}
