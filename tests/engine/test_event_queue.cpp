// One suite, run against every queue implementation.
#include <algorithm>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"
#include "apical/engine/event_queue.hpp"
#include "apical/engine/random.hpp"

using namespace apical;

namespace {

std::vector<std::unique_ptr<event_queue>> all_queues() {
  std::vector<std::unique_ptr<event_queue>> q;
  q.push_back(std::make_unique<heap_queue>());
  q.push_back(std::make_unique<calendar_queue>());
  q.push_back(std::make_unique<calendar_queue>(1.0, 8, false));  // tiny year: overflow
  q.push_back(std::make_unique<calendar_queue>(0.001, 16));      // resizes often
  q.push_back(std::make_unique<radix_queue>());
  return q;
}

// An event identified by `id` (its index field).
event make(double t, std::uint64_t id, event_kind kind = event_kind::delivery) {
  event e;
  e.time = time_ms{t};
  e.index = static_cast<std::uint32_t>(id);
  e.kind = kind;
  return e;
}

}  // namespace

TEST_CASE("event order: time, then kind (deliveries first), target, index, payload") {
  CHECK(make(1.0, 5) < make(2.0, 0));
  CHECK(make(1.0, 0) < make(1.0, 1));
  CHECK_FALSE(make(1.0, 1) < make(1.0, 1));
  CHECK(make(1.0, 9, event_kind::delivery) < make(1.0, 0, event_kind::crossing));
  event a = make(1.0, 3), b = make(1.0, 3);
  a.target = 1;
  b.target = 2;
  CHECK(a < b);
  b.target = 1;
  b.payload = 1;
  CHECK(a < b);
  CHECK(a != b);
}

TEST_CASE("queues pop unsorted pushes with equal times in event order") {
  for (auto& q : all_queues()) {
    const double times[] = {3.0, 1.0, 3.0, 1.0, 2.0, 1.0, 0.0, 3.0};
    for (std::uint64_t s = 0; s < 8; ++s) q->push(make(times[7 - s], s));
    REQUIRE(q->size() == 8);
    std::vector<event> out;
    while (!q->empty()) out.push_back(q->pop());
    CHECK(std::is_sorted(out.begin(), out.end()));
    // Equal times come out by identity, whatever the push order.
    for (std::size_t k = 1; k < out.size(); ++k)
      if (out[k].time == out[k - 1].time) CHECK(out[k - 1].index < out[k].index);
  }
}

TEST_CASE("queues agree with a sorted reference under interleaved push and pop") {
  for (auto& q : all_queues()) {
    rng r(7);
    std::vector<event> reference;
    std::uint64_t id = 0;
    double now = 0.0;
    for (int step = 0; step < 20000; ++step) {
      const bool push = reference.empty() || r.uniform() < 0.55;
      if (push) {
        // Mostly near-future events, some far ahead, some at exactly now.
        double t = now + (r.uniform() < 0.1 ? 0.0 : r.exponential(r.uniform() < 0.05 ? 500 : 2));
        const event e = make(t, id++);
        q->push(e);
        reference.push_back(e);
        std::push_heap(reference.begin(), reference.end(), std::greater<>{});
      } else {
        REQUIRE(q->top() == reference.front());
        const event e = q->pop();
        std::pop_heap(reference.begin(), reference.end(), std::greater<>{});
        CHECK(e == reference.back());
        CHECK(e.index == reference.back().index);
        reference.pop_back();
        now = e.time.count();
      }
      REQUIRE(q->size() == reference.size());
    }
  }
}

TEST_CASE("queues accept events earlier than the last popped one") {
  for (auto& q : all_queues()) {
    q->push(make(10.0, 0));
    q->push(make(20.0, 1));
    CHECK(q->pop().index == 0);
    q->push(make(5.0, 2));  // before the current calendar window
    CHECK(q->pop().index == 2);
    CHECK(q->pop().index == 1);
    CHECK(q->empty());
  }
}

TEST_CASE("clear empties a queue") {
  for (auto& q : all_queues()) {
    for (std::uint64_t s = 0; s < 100; ++s) q->push(make(static_cast<double>(s % 7), s));
    q->clear();
    CHECK(q->empty());
    CHECK(q->size() == 0);
    q->push(make(1.0, 0));
    CHECK(q->pop().index == 0);
  }
}

TEST_CASE("queue kinds parse by name and reject others") {
  CHECK(parse_queue_kind("heap") == queue_kind::heap);
  CHECK(parse_queue_kind("calendar") == queue_kind::calendar);
  CHECK(parse_queue_kind("radix") == queue_kind::radix);
  CHECK_THROWS_WITH_AS(parse_queue_kind("fifo"), doctest::Contains("'fifo'"), parameter_error);
  CHECK_THROWS_AS(calendar_queue(0.0), parameter_error);
  CHECK_THROWS_AS(calendar_queue(0.1, 1000), parameter_error);
}
