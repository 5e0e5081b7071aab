#pragma once
// worker_pool: a few persistent threads for the fork-join loops of every
// trainer (the rate reference trainers, the microcircuit's batches). A rate
// training epoch runs three parallel loops per mini-batch, a few thousand
// per epoch; starting threads for each costs up to a millisecond on a
// virtual machine whose idle CPUs must first be woken. So workers stay
// alive and spin briefly for the next loop before they sleep.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace apical::learning::detail {

class worker_pool {
 public:
  // threads - 1 workers; the thread calling run() is the remaining one.
  explicit worker_pool(std::size_t threads);
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  std::size_t threads() const { return workers_.size() + 1; }

  // Runs fn(item, worker) for every item in [0, items) and returns when all
  // are done. Items are handed out in increasing order; worker is in
  // [0, threads()) and lets an item pick per-thread scratch space; which
  // worker runs an item must not change its result. The first exception an
  // item throws is rethrown here once every worker has stopped.
  template <class Fn>
  void run(std::size_t items, Fn&& fn) {
    using fn_type = std::remove_reference_t<Fn>;
    run_erased(
        items,
        [](void* f, std::size_t item, std::size_t worker) {
          (*static_cast<fn_type*>(f))(item, worker);
        },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using call_type = void (*)(void*, std::size_t, std::size_t);
  void run_erased(std::size_t items, call_type call, void* context);
  void work(std::size_t worker);
  void worker_loop(std::size_t worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;                         // guarded by mutex_
  std::atomic<std::uint64_t> generation_{0};  // one per run()
  std::atomic<std::size_t> next_item_{0};
  std::atomic<std::size_t> busy_{0};  // workers not yet done with this run
  std::size_t items_ = 0;
  call_type call_ = nullptr;
  void* context_ = nullptr;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace apical::learning::detail
