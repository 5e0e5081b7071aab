#include <cmath>
#include <set>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/error.hpp"

using namespace apical;

TEST_CASE("fixed_probability: count within binomial tolerance, no autapses") {
  rng r(11);
  connection_options o;
  o.same_population = true;
  const std::size_t n = 1000;
  const double p = 0.05;
  const auto syn = fixed_probability(n, n, p, o, r);
  const double pairs = static_cast<double>(n * (n - 1));
  // The pair on the diagonal is drawn and then dropped, so the expected
  // count is p times the non-diagonal pairs.
  const double mean = p * pairs, sd = std::sqrt(pairs * p * (1 - p));
  CHECK(std::abs(static_cast<double>(syn.size()) - mean) < 5 * sd);
  std::set<std::pair<std::uint32_t, std::uint32_t>> unique;
  for (const auto& s : syn) {
    CHECK(s.pre != s.post);
    unique.insert({s.pre, s.post});
  }
  CHECK(unique.size() == syn.size());
  // In-degrees spread binomially around p * (n - 1).
  std::vector<int> indeg(n, 0);
  for (const auto& s : syn) ++indeg[s.post];
  double m = 0, v = 0;
  for (int k : indeg) m += k;
  m /= n;
  for (int k : indeg) v += (k - m) * (k - m);
  v /= n - 1;
  CHECK(v == doctest::Approx(p * (1 - p) * (n - 1)).epsilon(0.2));
}

TEST_CASE("fixed_indegree: exact in-degree, distinct sources, no autapses") {
  rng r(5);
  connection_options o;
  o.same_population = true;
  const auto syn = fixed_indegree(500, 500, 50, o, r);
  CHECK(syn.size() == 500u * 50u);
  std::vector<std::set<std::uint32_t>> sources(500);
  for (const auto& s : syn) {
    CHECK(s.pre != s.post);
    sources[s.post].insert(s.pre);
  }
  for (const auto& s : sources) CHECK(s.size() == 50);
  // Each target's sources come in increasing order, whether the draw is
  // read back from its marks (k >= n / 16, as here) or sorted (sparser).
  const auto in_order = [](const std::vector<synapse>& list) {
    for (std::size_t m = 1; m < list.size(); ++m)
      if (list[m].post == list[m - 1].post && !(list[m - 1].pre < list[m].pre)) return false;
    return true;
  };
  CHECK(in_order(syn));
  const auto sparse = fixed_indegree(2000, 40, 20, o, r);
  CHECK(sparse.size() == 40u * 20u);
  CHECK(in_order(sparse));
  std::vector<std::set<std::uint32_t>> sparse_sources(40);
  for (const auto& s : sparse) sparse_sources[s.post].insert(s.pre);
  for (const auto& s : sparse_sources) CHECK(s.size() == 20);
  // Dense request (k close to n) takes the other sampling path.
  const auto dense = fixed_indegree(20, 3, 19, o, r);
  CHECK(dense.size() == 57);
}

TEST_CASE("fixed_outdegree: exact out-degree") {
  rng r(5);
  connection_options o;
  const auto syn = fixed_outdegree(100, 300, 30, o, r);
  std::vector<int> out(100, 0);
  for (const auto& s : syn) ++out[s.pre];
  for (int k : out) CHECK(k == 30);
}

TEST_CASE("all_to_all and one_to_one, uniform weights and delays stay in range") {
  rng r(1);
  connection_options o;
  o.weight = value_spec::uniform(0.5, 1.5);
  o.delay_ms = value_spec::uniform(1.0, 2.0);
  const auto full = all_to_all(7, 9, o, r);
  CHECK(full.size() == 63);
  for (const auto& s : full) {
    CHECK((s.weight >= 0.5f && s.weight <= 1.5f));
    CHECK((s.delay_ms >= 1.0 && s.delay_ms <= 2.0));
  }
  o.same_population = true;
  CHECK(all_to_all(7, 7, o, r).size() == 42);
  o.autapses = true;
  CHECK(all_to_all(7, 7, o, r).size() == 49);
  const auto diag = one_to_one(5, o, r);
  for (std::uint32_t k = 0; k < 5; ++k) CHECK((diag[k].pre == k && diag[k].post == k));
}

TEST_CASE("builders are pure functions of the seed") {
  connection_options o;
  rng a(9), b(9);
  const auto x = fixed_probability(200, 200, 0.1, o, a);
  const auto y = fixed_probability(200, 200, 0.1, o, b);
  REQUIRE(x.size() == y.size());
  for (std::size_t k = 0; k < x.size(); ++k)
    CHECK((x[k].pre == y[k].pre && x[k].post == y[k].post));
}

TEST_CASE("builders reject impossible requests") {
  rng r(1);
  connection_options o;
  CHECK_THROWS_WITH_AS(fixed_probability(10, 10, 1.5, o, r), doctest::Contains("probability"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(fixed_probability(10, 10, std::nan(""), o, r),
                       doctest::Contains("probability"), parameter_error);
  CHECK_THROWS_WITH_AS(fixed_indegree(10, 10, 11, o, r), doctest::Contains("in-degree 11"),
                       parameter_error);
  o.delay_ms = value_spec::constant(-1.0);
  CHECK_THROWS_WITH_AS(all_to_all(2, 2, o, r), doctest::Contains("delay_ms"), parameter_error);
  o.delay_ms = value_spec::constant(1.0);
  o.weight = value_spec::constant(std::nan(""));
  CHECK_THROWS_WITH_AS(all_to_all(2, 2, o, r), doctest::Contains("weight"), parameter_error);
}

namespace {
// The projection make_generator's rule freezes, and the shape expected_shape
// predicts for it.
std::pair<projection, projection_shape> built_and_expected(connection_rule rule, std::size_t pre,
                                                           std::size_t post, double p,
                                                           std::size_t k,
                                                           const connection_options& o) {
  projection built("p", 0, pre, o.same_population ? 0 : 1, post, 0,
                   make_generator(rule, pre, post, p, k, o, 7));
  return {std::move(built), expected_shape(rule, pre, post, p, k, o)};
}
}  // namespace

TEST_CASE("expected_shape: exact for the fixed rules, within 10 % of the memory for the others") {
  connection_options self;
  self.same_population = true;
  connection_options other;
  connection_options drawn;  // weights and delays drawn: one group per synapse
  drawn.weight = value_spec::uniform(0.1, 0.2);
  drawn.delay_ms = value_spec::uniform(1.0, 2.0);
  struct example {
    const char* name;
    connection_rule rule;
    std::size_t pre, post;
    double p;
    std::size_t k;
    connection_options o;
    bool exact;  // the rule fixes the synapse count
  };
  const example examples[] = {
      {"fixed_indegree", connection_rule::fixed_indegree, 800, 800, 0, 80, self, true},
      {"sparse fixed_indegree", connection_rule::fixed_indegree, 2000, 300, 0, 3, other, true},
      {"fixed_outdegree", connection_rule::fixed_outdegree, 500, 400, 0, 50, other, true},
      {"all_to_all", connection_rule::all_to_all, 60, 70, 0, 0, other, true},
      {"all_to_all, no autapses", connection_rule::all_to_all, 60, 60, 0, 0, self, true},
      {"one_to_one", connection_rule::one_to_one, 500, 500, 0, 0, other, true},
      {"fixed_probability", connection_rule::fixed_probability, 1000, 1000, 0.02, 0, self, false},
      {"sparse fixed_probability", connection_rule::fixed_probability, 3000, 500, 0.002, 0, other,
       false},
      {"drawn weights and delays", connection_rule::fixed_probability, 600, 600, 0.05, 0, drawn,
       false},
      {"drawn, fixed_indegree", connection_rule::fixed_indegree, 400, 400, 0, 40, drawn, true},
  };
  for (const auto& e : examples) {
    const std::string name = e.name;
    CAPTURE(name);
    const auto [built, expected] = built_and_expected(e.rule, e.pre, e.post, e.p, e.k, e.o);
    const auto actual = built.shape();
    if (e.exact) {
      CHECK(expected.synapses == actual.synapses);
    } else {
      // An upper estimate (mean + 4 sd), within 10 % of the drawn count.
      CHECK(expected.synapses >= actual.synapses);
      CHECK(static_cast<double>(expected.synapses) <= 1.1 * static_cast<double>(actual.synapses));
    }
    CHECK(expected.uniform_weight == actual.uniform_weight);
    CHECK(expected.consecutive_targets == actual.consecutive_targets);
    CHECK(static_cast<double>(expected.groups) ==
          doctest::Approx(static_cast<double>(actual.groups)).epsilon(0.05));
    CHECK(static_cast<double>(memory_bytes(expected)) ==
          doctest::Approx(static_cast<double>(built.memory_bytes())).epsilon(0.1));
  }
}

TEST_CASE("expected_shape rejects what make_generator rejects") {
  connection_options o;
  CHECK_THROWS_WITH_AS(expected_shape(connection_rule::fixed_probability, 10, 10, 1.5, 0, o),
                       doctest::Contains("probability"), parameter_error);
  CHECK_THROWS_WITH_AS(expected_shape(connection_rule::fixed_indegree, 10, 10, 0, 11, o),
                       doctest::Contains("in-degree 11"), parameter_error);
  CHECK_THROWS_WITH_AS(expected_shape(connection_rule::one_to_one, 10, 11, 0, 0, o),
                       doctest::Contains("equal sizes"), parameter_error);
}
