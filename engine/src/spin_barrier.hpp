#pragma once
// A barrier for the short windows of parallel runs: arriving threads spin
// for a while (a window of 0.1 ms of biological time may take only
// microseconds), then sleep on the counter (futex), so that more threads
// than cores do not starve the late ones.
#include <atomic>
#include <cstdint>
#include <thread>

namespace apical::detail {

class spin_barrier {
 public:
  explicit spin_barrier(std::uint32_t threads) : threads_(threads) {}

  void arrive_and_wait() {
    const std::uint32_t phase = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
      arrived_.store(0, std::memory_order_relaxed);
      phase_.store(phase + 1, std::memory_order_release);
      phase_.notify_all();
      return;
    }
    // More threads than cores: every spin steals the core a late thread
    // needs, so spin only briefly before sleeping.
    const int spins = threads_ <= std::thread::hardware_concurrency() ? 20000 : 50;
    for (int k = 0; k < spins; ++k) {
      if (phase_.load(std::memory_order_acquire) != phase) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    while (phase_.load(std::memory_order_acquire) == phase) phase_.wait(phase);
  }

 private:
  const std::uint32_t threads_;
  alignas(64) std::atomic<std::uint32_t> arrived_{0};
  alignas(64) std::atomic<std::uint32_t> phase_{0};
};

}  // namespace apical::detail
