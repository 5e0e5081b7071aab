#include <doctest/doctest.h>

#include "apical/engine/delegate.hpp"

using namespace apical;

namespace {
struct counter {
  int total = 0;
  void add(int k) { total += k; }
};
void add_twice(counter& c, int k) {
  c.total += 2 * k;
}
}  // namespace

TEST_CASE("signals call every connected delegate, and disconnect removes one") {
  counter a, b;
  signal<int> s;
  CHECK(s.empty());
  s.connect(signal<int>::slot::bind<&counter::add>(a));
  s.connect(signal<int>::slot::bind_free<&add_twice>(b));
  s.emit(3);
  CHECK(a.total == 3);
  CHECK(b.total == 6);
  s.disconnect(signal<int>::slot::bind<&counter::add>(a));
  s.emit(1);
  CHECK(a.total == 3);
  CHECK(b.total == 8);
  CHECK(s.size() == 1);
}

TEST_CASE("delegates bind lambdas by reference") {
  int seen = 0;
  auto f = [&seen](int k) { seen = k; };
  auto d = delegate<void(int)>::from(f);
  d(42);
  CHECK(seen == 42);
  CHECK(static_cast<bool>(d));
  CHECK_FALSE(static_cast<bool>(delegate<void(int)>{}));
}
