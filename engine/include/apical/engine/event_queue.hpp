#pragma once
// The pending-event set of the scheduler, behind one small interface.
//
// Every implementation pops events in increasing event order (event.hpp):
// by time, then by what the event is (kind, target, index, payload), never
// by when it was pushed, so events of equal time come out in the same order
// however they were pushed. All pass the same test suite
// (tests/engine/test_event_queue.cpp).
//
// | implementation  | push          | pop              | notes                         |
// |-----------------|---------------|------------------|-------------------------------|
// | heap_queue      | O(log n)      | O(log n)         | 4-ary heap (Boost.Heap)       |
// | calendar_queue  | O(1) amortised| O(1) amortised   | buckets resized to the event  |
// |                 |               |                  | density (Brown 1988)          |
// | radix_queue     | O(1)          | O(log T) amort.  | monotone: keyed on the bits   |
// |                 |               |                  | of the time (Ahuja et al.     |
// |                 |               |                  | 1990); the default            |
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/heap/d_ary_heap.hpp>

#include "apical/engine/event.hpp"

namespace apical {

class event_queue {
 public:
  virtual ~event_queue() = default;
  virtual void push(const event& e) = 0;
  // Removes and returns the smallest event. Precondition: !empty().
  virtual event pop() = 0;
  // The smallest event. Precondition: !empty().
  virtual const event& top() = 0;
  virtual bool empty() const = 0;
  virtual std::size_t size() const = 0;
  virtual void clear() = 0;
  // Pops the smallest event into `out` if its time is before t_ms, and
  // says whether it did. Unlike top(), a `false` leaves the queue ready for
  // pushes at any time >= t_ms (the windowed loop pushes predictions at or
  // after its window's end, before the events beyond it are looked at).
  virtual bool pop_before(double t_ms, event& out) {
    if (empty() || !(top().time.count() < t_ms)) return false;
    out = pop();
    return true;
  }
};

class heap_queue final : public event_queue {
 public:
  void push(const event& e) override { heap_.push(e); }
  event pop() override {
    event e = heap_.top();
    heap_.pop();
    return e;
  }
  const event& top() override { return heap_.top(); }
  bool empty() const override { return heap_.empty(); }
  std::size_t size() const override { return heap_.size(); }
  void clear() override { heap_.clear(); }

 private:
  struct later {
    bool operator()(const event& a, const event& b) const { return b < a; }
  };
  boost::heap::d_ary_heap<event, boost::heap::arity<4>, boost::heap::compare<later>> heap_;
};

// A calendar queue (Brown 1988). Bucket k holds the events of the times
// [k w, (k+1) w) modulo one "year" (buckets x width); each bucket is a small
// binary heap. Events further than one year ahead wait in an overflow heap
// and move into the buckets as time reaches them. The queue resizes itself
// (Brown's rule): when the number of events leaves [buckets / 2, 2 buckets]
// the bucket count doubles or halves and the width is re-estimated from the
// spacing of the earliest events, so that buckets stay short (a few events)
// whatever the event density. Push and pop are then O(1) amortised.
class calendar_queue final : public event_queue {
 public:
  // Initial bucket width and count; with adaptive = false they stay fixed.
  explicit calendar_queue(double bucket_width_ms = 0.1, std::size_t buckets = 1024,
                          bool adaptive = true);
  void push(const event& e) override;
  event pop() override;
  const event& top() override;
  bool empty() const override { return size_ == 0; }
  std::size_t size() const override { return size_; }
  void clear() override;

  double bucket_width_ms() const { return width_; }
  std::size_t buckets() const { return buckets_.size(); }

 private:
  std::int64_t window_of(double t) const;
  void insert(const event& e);  // into a bucket or the overflow, no resize
  void settle();                // moves cursor_ to the bucket holding the smallest event
  void refill_from_overflow();
  void resize(std::size_t buckets);

  double width_;
  double inv_width_;
  bool adaptive_;
  std::size_t mask_;
  std::vector<std::vector<event>> buckets_;
  std::vector<event> overflow_;  // min-heap in event order
  std::size_t size_ = 0;
  std::size_t in_buckets_ = 0;
  // Window k is the time span [k w, (k+1) w). Buckets hold only events of
  // windows window_ .. window_ + buckets - 1 (one "year"); cursor_ is the
  // bucket of window_. Integer windows keep the bucketing free of rounding.
  std::int64_t window_ = 0;
  std::size_t cursor_ = 0;
};

// A radix heap (Ahuja, Mehlhorn, Orlin & Tarjan 1990) on the 64 bits of the
// event time. Bucket b holds the events whose time bits first differ from
// those of the last popped time at bit b-1 (bucket 0: the same time). A
// push is an append; a pop refills bucket 0 from the lowest non-empty bucket
// when needed, and each event moves down at most 64 times over its life.
// It relies on the simulator's monotonicity (nothing is scheduled before
// the current time); an earlier push is still handled, by rebuilding.
// Bucket 0 (events at the current time; thousands when many neurons are
// re-examined at the same instant) is kept sorted, smallest last.
class radix_queue final : public event_queue {
 public:
  void push(const event& e) override;
  event pop() override;
  const event& top() override;
  bool empty() const override { return size_ == 0; }
  std::size_t size() const override { return size_; }
  void clear() override;
  bool pop_before(double t_ms, event& out) override;

 private:
  static std::uint64_t bits(double t);
  std::size_t bucket_of(std::uint64_t key) const;
  void settle();  // refills bucket 0 (sorted, smallest last) when empty

  std::array<std::vector<event>, 65> buckets_;
  std::uint64_t last_ = 0;  // time bits of the last settled minimum
  // The smallest key in each bucket (all ones when empty); bucket 0's is
  // not kept (it is sorted).
  std::array<std::uint64_t, 65> lowest_ = filled(~std::uint64_t{0});
  std::uint64_t nonempty_ = 0;  // bit b - 1: bucket b (1..64) holds events
  // The first non-empty bucket above 0. Precondition: one exists.
  std::size_t first_nonempty() const {
    return static_cast<std::size_t>(std::countr_zero(nonempty_)) + 1;
  }
  static constexpr std::array<std::uint64_t, 65> filled(std::uint64_t v) {
    std::array<std::uint64_t, 65> a{};
    a.fill(v);
    return a;
  }
  std::size_t size_ = 0;
};

enum class queue_kind { heap, calendar, radix };
std::unique_ptr<event_queue> make_event_queue(queue_kind kind);
queue_kind parse_queue_kind(std::string_view name);
std::string_view to_string(queue_kind kind);

}  // namespace apical
