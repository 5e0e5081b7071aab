#include "apical/engine/event_queue.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "apical/engine/error.hpp"

namespace apical {
namespace {

struct later {
  bool operator()(const event& a, const event& b) const { return b < a; }
};

}  // namespace

calendar_queue::calendar_queue(double bucket_width_ms, std::size_t buckets, bool adaptive)
    : width_(bucket_width_ms), inv_width_(1.0 / bucket_width_ms), adaptive_(adaptive) {
  if (!(bucket_width_ms > 0.0) || !std::isfinite(bucket_width_ms))
    throw parameter_error("calendar_queue: bucket_width_ms must be > 0, got " +
                          std::to_string(bucket_width_ms));
  if (buckets == 0 || !std::has_single_bit(buckets))
    throw parameter_error("calendar_queue: buckets must be a power of two, got " +
                          std::to_string(buckets));
  buckets_.resize(buckets);
  mask_ = buckets - 1;
}

std::int64_t calendar_queue::window_of(double t) const {
  return static_cast<std::int64_t>(std::floor(t * inv_width_));
}

void calendar_queue::insert(const event& e) {
  const std::int64_t w = window_of(e.time.count());
  if (w < window_ + static_cast<std::int64_t>(buckets_.size())) {
    auto& b = buckets_[static_cast<std::size_t>(w) & mask_];
    b.push_back(e);
    std::push_heap(b.begin(), b.end(), later{});
    ++in_buckets_;
  } else {
    overflow_.push_back(e);
    std::push_heap(overflow_.begin(), overflow_.end(), later{});
  }
}

void calendar_queue::push(const event& e) {
  const std::int64_t w = window_of(e.time.count());
  if (size_ == 0) {
    window_ = w;
    cursor_ = static_cast<std::size_t>(w) & mask_;
  } else if (w < window_) {
    // An event before the current window: re-anchor and re-insert all. The
    // simulator never schedules into the past, so this path is for
    // completeness (and for the shared queue test suite).
    ++size_;
    overflow_.push_back(e);
    resize(buckets_.size());
    return;
  }
  ++size_;
  insert(e);
  if (adaptive_ && size_ > 2 * buckets_.size() && buckets_.size() < (std::size_t{1} << 24))
    resize(2 * buckets_.size());
}

void calendar_queue::resize(std::size_t count) {
  std::vector<event> all;
  all.reserve(size_);
  for (auto& b : buckets_) {
    all.insert(all.end(), b.begin(), b.end());
    b.clear();
  }
  all.insert(all.end(), overflow_.begin(), overflow_.end());
  overflow_.clear();
  in_buckets_ = 0;
  if (count != buckets_.size()) {
    buckets_.assign(count, {});
    mask_ = count - 1;
  }
  if (all.empty()) return;
  // New width: about three times the mean spacing of the earliest events
  // (Brown's estimate), ignoring gaps far above the mean.
  const std::size_t sample = std::min<std::size_t>(all.size(), 64);
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(sample), all.end());
  if (adaptive_ && sample > 1) {
    const double span = all[sample - 1].time.count() - all[0].time.count();
    double mean_gap = span / static_cast<double>(sample - 1);
    double sum = 0.0;
    std::size_t n = 0;
    for (std::size_t k = 1; k < sample; ++k) {
      const double gap = all[k].time.count() - all[k - 1].time.count();
      if (gap <= 2.0 * mean_gap) sum += gap, ++n;
    }
    if (n > 0 && sum > 0) mean_gap = sum / static_cast<double>(n);
    if (mean_gap > 0 && std::isfinite(mean_gap)) {
      width_ = 3.0 * mean_gap;
      inv_width_ = 1.0 / width_;
    }
  }
  window_ = window_of(all[0].time.count());
  cursor_ = static_cast<std::size_t>(window_) & mask_;
  for (const auto& x : all) insert(x);
}

void calendar_queue::refill_from_overflow() {
  // Called with empty buckets: jump straight to the earliest pending event.
  window_ = window_of(overflow_.front().time.count());
  cursor_ = static_cast<std::size_t>(window_) & mask_;
  const std::int64_t year_end = window_ + static_cast<std::int64_t>(buckets_.size());
  while (!overflow_.empty() && window_of(overflow_.front().time.count()) < year_end) {
    std::pop_heap(overflow_.begin(), overflow_.end(), later{});
    const event e = overflow_.back();
    overflow_.pop_back();
    insert(e);
  }
}

void calendar_queue::settle() {
  if (in_buckets_ == 0) refill_from_overflow();
  const auto year = static_cast<std::int64_t>(buckets_.size());
  for (;;) {
    auto& b = buckets_[cursor_];
    if (!b.empty() && window_of(b.front().time.count()) == window_) return;
    // Advance one window; the window that enters the year at its far end
    // takes the overflow events that now fall inside.
    ++window_;
    cursor_ = (cursor_ + 1) & mask_;
    while (!overflow_.empty() && window_of(overflow_.front().time.count()) < window_ + year) {
      std::pop_heap(overflow_.begin(), overflow_.end(), later{});
      const event e = overflow_.back();
      overflow_.pop_back();
      insert(e);
    }
  }
}

const event& calendar_queue::top() {
  settle();
  return buckets_[cursor_].front();
}

event calendar_queue::pop() {
  settle();
  auto& b = buckets_[cursor_];
  std::pop_heap(b.begin(), b.end(), later{});
  const event e = b.back();
  b.pop_back();
  --size_;
  --in_buckets_;
  if (adaptive_ && buckets_.size() > 16 && size_ < buckets_.size() / 2 && size_ > 0)
    resize(buckets_.size() / 2);
  return e;
}

void calendar_queue::clear() {
  for (auto& b : buckets_) b.clear();
  overflow_.clear();
  size_ = 0;
  in_buckets_ = 0;
}

std::uint64_t radix_queue::bits(double t) {
  // Order-preserving map of doubles to unsigned integers.
  const auto b = std::bit_cast<std::uint64_t>(t);
  return (b >> 63) != 0 ? ~b : b | (std::uint64_t{1} << 63);
}

std::size_t radix_queue::bucket_of(std::uint64_t key) const {
  return key == last_ ? 0 : 64 - static_cast<std::size_t>(std::countl_zero(key ^ last_));
}

void radix_queue::push(const event& e) {
  const std::uint64_t key = bits(e.time.count());
  if (size_ > 0 && key < last_) {
    // Before the current minimum: re-key everything from the new time.
    std::vector<event> all;
    all.reserve(size_ + 1);
    for (auto& b : buckets_) {
      all.insert(all.end(), b.begin(), b.end());
      b.clear();
    }
    last_ = key;
    lowest_.fill(~std::uint64_t{0});
    nonempty_ = 0;
    for (const auto& x : all) {
      const std::uint64_t k = bits(x.time.count());
      const std::size_t b = bucket_of(k);
      buckets_[b].push_back(x);
      lowest_[b] = std::min(lowest_[b], k);
      if (b > 0) nonempty_ |= std::uint64_t{1} << (b - 1);
    }
    auto& zero = buckets_[0];
    std::sort(zero.begin(), zero.end(), later{});
  } else if (size_ == 0) {
    last_ = key;
  }
  const std::size_t b = bucket_of(key);
  if (b == 0) {
    // Bucket 0 is kept sorted, latest first, so pops take from its back.
    auto& zero = buckets_[0];
    zero.insert(std::upper_bound(zero.begin(), zero.end(), e, later{}), e);
  } else {
    buckets_[b].push_back(e);
    lowest_[b] = std::min(lowest_[b], key);
    nonempty_ |= std::uint64_t{1} << (b - 1);
  }
  ++size_;
}

void radix_queue::settle() {
  if (!buckets_[0].empty()) return;
  const std::size_t b = first_nonempty();
  auto& from = buckets_[b];
  last_ = lowest_[b];
  for (const auto& x : from) {
    const std::uint64_t k = bits(x.time.count());
    const std::size_t to = bucket_of(k);  // below b
    buckets_[to].push_back(x);
    lowest_[to] = std::min(lowest_[to], k);
    if (to > 0) nonempty_ |= std::uint64_t{1} << (to - 1);
  }
  from.clear();
  lowest_[b] = ~std::uint64_t{0};
  nonempty_ &= ~(std::uint64_t{1} << (b - 1));
  auto& zero = buckets_[0];
  if (zero.size() > 1) std::sort(zero.begin(), zero.end(), later{});
}

const event& radix_queue::top() {
  settle();
  return buckets_[0].back();
}

event radix_queue::pop() {
  settle();
  auto& zero = buckets_[0];
  const event e = zero.back();
  zero.pop_back();
  --size_;
  return e;
}

bool radix_queue::pop_before(double t_ms, event& out) {
  if (size_ == 0) return false;
  if (buckets_[0].empty()) {
    // settle() would make the next minimum the base of the buckets; when it
    // lies at or after t_ms, leave the base at the last popped key so that
    // pushes in [t_ms, next minimum) stay cheap.
    if (!(bits(t_ms) > lowest_[first_nonempty()])) return false;
    settle();
  }
  if (!(buckets_[0].back().time.count() < t_ms)) return false;
  out = pop();
  return true;
}

void radix_queue::clear() {
  for (auto& b : buckets_) b.clear();
  lowest_.fill(~std::uint64_t{0});
  nonempty_ = 0;
  size_ = 0;
}

std::unique_ptr<event_queue> make_event_queue(queue_kind kind) {
  switch (kind) {
    case queue_kind::heap:
      return std::make_unique<heap_queue>();
    case queue_kind::calendar:
      return std::make_unique<calendar_queue>();
    case queue_kind::radix:
      return std::make_unique<radix_queue>();
  }
  return std::make_unique<heap_queue>();
}

queue_kind parse_queue_kind(std::string_view name) {
  if (name == "heap") return queue_kind::heap;
  if (name == "calendar") return queue_kind::calendar;
  if (name == "radix") return queue_kind::radix;
  throw parameter_error("queue: expected 'heap', 'calendar' or 'radix', got '" + std::string(name) +
                        "'");
}

std::string_view to_string(queue_kind kind) {
  switch (kind) {
    case queue_kind::heap:
      return "heap";
    case queue_kind::calendar:
      return "calendar";
    case queue_kind::radix:
      return "radix";
  }
  return "heap";
}

}  // namespace apical
