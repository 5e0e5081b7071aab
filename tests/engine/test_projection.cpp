#include <algorithm>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"
#include "apical/engine/projection.hpp"

using namespace apical;

TEST_CASE("freeze sorts rows by (delay, post) and groups equal delays") {
  std::vector<synapse> s = {{1, 2, 0.5f, 2.0},
                            {0, 3, 0.1f, 1.0},
                            {1, 0, 0.7f, 1.0},
                            {1, 1, 0.2f, 2.0},
                            {0, 1, 0.3f, 1.0}};
  projection p("test", 0, 3, 1, 4, 0, s);
  CHECK(p.size() == 5);
  CHECK(p.groups() == 3);  // row 0: {1.0}; row 1: {1.0, 2.0}; row 2: none
  CHECK(p.first_group(0) == 0);
  CHECK(p.last_group(0) == 1);
  CHECK(p.first_group(2) == p.last_group(2));
  CHECK(p.group_delay_ms(0) == 1.0);
  CHECK(std::vector<std::uint32_t>(p.group_targets(0).begin(), p.group_targets(0).end()) ==
        std::vector<std::uint32_t>{1, 3});
  const auto g = p.first_group(1);
  CHECK(p.group_delay_ms(g) == 1.0);
  CHECK(p.group_delay_ms(g + 1) == 2.0);
  CHECK(std::vector<std::uint32_t>(p.group_targets(g + 1).begin(), p.group_targets(g + 1).end()) ==
        std::vector<std::uint32_t>{1, 2});
  CHECK(p.group_weights(g + 1)[1] == 0.5f);
  for (std::uint64_t k = 0; k < p.size(); ++k) {
    const auto pre = p.pre_of(k);
    CHECK((k >= p.row_begin(pre) && k < p.row_end(pre)));
  }
  CHECK(p.delay_of(p.row_end(1) - 1) == 2.0);
  CHECK(p.min_delay_ms() == 1.0);
}

TEST_CASE("incoming index lists each postsynaptic neuron's synapses") {
  std::vector<synapse> s = {{0, 1, 1, 1}, {1, 1, 2, 1}, {2, 0, 3, 1}, {2, 1, 4, 1}};
  projection p("test", 0, 3, 1, 2, 0, s);
  const auto in1 = p.incoming(1);
  CHECK(in1.size() == 3);
  float sum = 0;
  for (auto k : in1) sum += p.weights()[k];
  CHECK(sum == 7.0f);
  CHECK(p.incoming(0).size() == 1);
}

TEST_CASE("frozen projections: 8 bytes per synapse, 4 with one shared weight, plus overhead") {
  std::vector<synapse> s;
  for (std::uint32_t i = 0; i < 100; ++i)
    for (std::uint32_t j = 0; j < 100; ++j) s.push_back({i, j, 1.0f, 1.5});
  projection p("test", 0, 100, 1, 100, 0, s);
  // rows, group delays, group starts; every group is consecutive, so also
  // each group's first target and the shared 0..99 array
  const std::size_t overhead = 101 * 4 + 100 * 8 + 101 * 8 + 100 * 4 + 100 * 4;
  CHECK(p.uniform_weight());
  CHECK(p.memory_bytes() == 10000 * 4 + overhead);
  CHECK(p.weight(1234) == 1.0f);
  // Mutable access (plasticity) gives every synapse its own weight.
  p.weights()[5] = 2.0f;
  CHECK_FALSE(p.uniform_weight());
  CHECK(p.weight(5) == 2.0f);
  CHECK(p.weight(6) == 1.0f);
  CHECK(p.memory_bytes() == 10000 * 8 + overhead);
  s[0].weight = 0.5f;
  CHECK_FALSE(projection("mixed", 0, 100, 1, 100, 0, s).uniform_weight());
}

TEST_CASE("group targets equal the synapse targets, shared when every group is consecutive") {
  auto slices_match = [](const projection& p) {
    for (std::uint32_t g = 0; g < p.groups(); ++g) {
      const auto t = p.group_targets(g);
      const auto all = p.targets().subspan(p.group_begin(g), p.group_end(g) - p.group_begin(g));
      if (!std::equal(t.begin(), t.end(), all.begin(), all.end())) return false;
    }
    return true;
  };
  std::vector<synapse> dense;  // rows 0-1 to posts 0-3 (two delays in row 1), row 2 to posts 2-3
  for (std::uint32_t j = 0; j < 4; ++j) dense.push_back({0, j, 1.0f, 1.0});
  for (std::uint32_t j = 0; j < 4; ++j) dense.push_back({1, j, 1.0f, j < 2 ? 1.0 : 2.0});
  for (std::uint32_t j = 2; j < 4; ++j) dense.push_back({2, j, 1.0f, 1.0});
  const projection p("dense", 0, 3, 1, 4, 0, dense);
  CHECK(p.groups() == 4);
  CHECK(slices_match(p));
  CHECK(p.group_targets(0).data() == p.group_targets(1).data());  // one shared array
  CHECK(p.group_targets(2).data() == p.group_targets(0).data() + 2);
  CHECK(p.group_targets(3).data() == p.group_targets(2).data());
  dense.push_back({2, 0, 1.0f, 1.0});  // row 2 becomes {0, 2, 3}: not consecutive
  const projection q("gap", 0, 3, 1, 4, 0, dense);
  CHECK(slices_match(q));
  CHECK(q.group_targets(0).data() != q.group_targets(1).data());
}

TEST_CASE("projection rejects bad synapses with the offending value") {
  auto make = [](synapse s) { return projection("bad", 0, 2, 1, 2, 0, {s}); };
  CHECK_THROWS_WITH_AS(make({2, 0, 1, 1}), doctest::Contains("presynaptic index 2"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(make({0, 5, 1, 1}), doctest::Contains("postsynaptic index 5"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(make({0, 0, 1, -0.5}), doctest::Contains("delay_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(make({0, 0, 1, std::numeric_limits<double>::quiet_NaN()}),
                       doctest::Contains("delay_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(make({0, 0, std::numeric_limits<float>::infinity(), 1}),
                       doctest::Contains("weight"), parameter_error);
}

TEST_CASE("a streamed projection equals the listed one, an unstable generator is rejected") {
  std::vector<synapse> s = {{1, 2, 0.5f, 2.0},
                            {0, 3, 0.1f, 1.0},
                            {1, 0, 0.7f, 1.0},
                            {1, 1, 0.2f, 2.0},
                            {0, 1, 0.3f, 1.0}};
  projection listed("a", 0, 3, 1, 4, 0, s);
  projection streamed("b", 0, 3, 1, 4, 0, [&s](const synapse_sink& emit) {
    for (auto it = s.rbegin(); it != s.rend(); ++it) emit(*it);  // any order
  });
  CHECK(std::vector<std::uint32_t>(listed.targets().begin(), listed.targets().end()) ==
        std::vector<std::uint32_t>(streamed.targets().begin(), streamed.targets().end()));
  CHECK(std::vector<float>(listed.weights().begin(), listed.weights().end()) ==
        std::vector<float>(streamed.weights().begin(), streamed.weights().end()));
  CHECK(listed.groups() == streamed.groups());
  int calls = 0;
  CHECK_THROWS_WITH_AS(projection("c", 0, 3, 1, 4, 0,
                                  [&calls](const synapse_sink& emit) {
                                    emit({0, 0, 1.0f, 1.0});
                                    if (calls++ > 0) emit({0, 1, 1.0f, 1.0});
                                  }),
                       doctest::Contains("second pass"), parameter_error);
}

TEST_CASE("memory_bytes(shape()) is what a projection allocates, for every layout") {
  const auto agrees = [](const projection& p) {
    return p.memory_bytes() == memory_bytes(p.shape());
  };
  std::vector<synapse> dense;  // consecutive groups, one weight
  for (std::uint32_t i = 0; i < 20; ++i)
    for (std::uint32_t j = 0; j < 30; ++j) dense.push_back({i, j, 1.0f, 1.0});
  projection a("dense", 0, 20, 1, 30, 0, dense);
  CHECK(a.shape().uniform_weight);
  CHECK(a.shape().consecutive_targets);
  CHECK(a.shape().groups == 20);
  CHECK(agrees(a));
  a.weights();  // one weight per synapse from now on
  CHECK_FALSE(a.shape().uniform_weight);
  CHECK(agrees(a));

  std::vector<synapse> sparse;  // gaps, weights and delays that differ, an empty row
  for (std::uint32_t i = 0; i < 19; ++i)
    for (std::uint32_t j = i % 3; j < 30; j += 3)
      sparse.push_back({i, j, 0.1f * static_cast<float>(j), 1.0 + (j % 4) * 0.5});
  const projection b("sparse", 0, 20, 1, 30, 0, sparse);
  CHECK_FALSE(b.shape().uniform_weight);
  CHECK_FALSE(b.shape().consecutive_targets);
  CHECK(b.shape().groups == 19 * 4);  // four delays in every non-empty row
  CHECK(agrees(b));

  const projection empty("empty", 0, 5, 1, 5, 0, std::vector<synapse>{});
  CHECK(empty.shape().synapses == 0);
  CHECK(agrees(empty));
}

TEST_CASE("build_extra_bytes: row starts and cursors, and the delays when they differ") {
  projection_shape s;
  s.pre_size = 100;
  s.synapses = 1000;
  CHECK(build_extra_bytes(s, true) == 201 * 8);
  CHECK(build_extra_bytes(s, false) == 201 * 8 + 1000 * 8);
}
