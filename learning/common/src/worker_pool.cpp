#include "apical/learning/worker_pool.hpp"

#include <chrono>

namespace apical::learning::detail {
namespace {

// How long an idle worker spins for the next loop before it sleeps: longer
// than the gaps between the loops of a mini-batch, short enough not to
// matter when training stops.
constexpr auto spin_time = std::chrono::milliseconds(2);

// Waits a moment in a spin loop. After the first few rounds it yields, so
// that spinning threads give way when there are more threads than CPUs.
inline void relax(unsigned round) {
#if defined(__x86_64__) || defined(__i386__)
  if (round < 64) {
    __builtin_ia32_pause();
    return;
  }
#endif
  (void)round;
  std::this_thread::yield();
}

}  // namespace

worker_pool::worker_pool(std::size_t threads) {
  for (std::size_t w = 1; w < threads; ++w) workers_.emplace_back([this, w] { worker_loop(w); });
}

worker_pool::~worker_pool() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void worker_pool::work(std::size_t worker) {
  try {
    for (std::size_t t = next_item_++; t < items_; t = next_item_++) call_(context_, t, worker);
  } catch (...) {
    const std::lock_guard lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
    next_item_ = items_;
  }
}

void worker_pool::run_erased(std::size_t items, call_type call, void* context) {
  items_ = items;
  call_ = call;
  context_ = context;
  error_ = nullptr;
  if (workers_.empty() || items <= 1) {
    next_item_ = 0;
    work(0);
  } else {
    next_item_ = 0;
    busy_ = workers_.size();
    {
      // Under the mutex, so a worker about to sleep cannot miss the change.
      const std::lock_guard lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    work(0);
    for (unsigned i = 0; busy_.load(std::memory_order_acquire) != 0; ++i) relax(i);
  }
  if (error_) std::rethrow_exception(error_);
}

void worker_pool::worker_loop(std::size_t worker) {
  std::uint64_t seen = 0;
  while (true) {
    const auto spin_until = std::chrono::steady_clock::now() + spin_time;
    std::uint64_t now = generation_.load(std::memory_order_acquire);
    for (unsigned i = 1; now == seen; ++i) {
      relax(i);
      now = generation_.load(std::memory_order_acquire);
      if (i % 256 == 0 && std::chrono::steady_clock::now() > spin_until) break;
    }
    if (now == seen) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
      if (stop_) return;
      now = generation_.load(std::memory_order_acquire);
    }
    seen = now;
    work(worker);
    busy_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace apical::learning::detail
