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

namespace {

std::vector<synapse> collect(const synapse_generator& g) {
  std::vector<synapse> out;
  g([&](const synapse& s) { out.push_back(s); });
  return out;
}

// n neurons on the x axis, `spacing` apart.
std::vector<position> line(std::size_t n, double spacing) {
  std::vector<position> ps;
  for (std::size_t i = 0; i < n; ++i) ps.push_back({spacing * static_cast<double>(i), 0.0, 0.0});
  return ps;
}

}  // namespace

TEST_CASE("metric_space: PyNN's distance, with axes, scale, offset and periodic boundaries") {
  metric_space s;
  CHECK(s.distance({0, 0, 0}, {3, 4, 0}) == 5);
  CHECK(s.distance({1, 2, 3}, {1, 2, 3}) == 0);
  s.axes = {true, false, true};  // the y difference is ignored
  CHECK(s.distance({0, 0, 0}, {3, 100, 4}) == 5);
  s = metric_space{};
  s.scale = {2, 1, 1};  // the postsynaptic position becomes scale * (post + offset)
  s.offset = {1, 0, 0};
  CHECK(s.distance({4, 0, 0}, {1, 0, 0}) == 0);
  s = metric_space{};
  s.period = {10.0, std::nullopt, std::nullopt};  // x wraps at 10
  CHECK(s.distance({1, 0, 0}, {9, 0, 0}) == 2);
  CHECK(s.distance({1, 0, 0}, {4, 0, 0}) == 3);
  CHECK(s.distance({1, 0, 0}, {9, 3, 4}) == std::sqrt(4.0 + 9 + 16));
}

TEST_CASE("distance_dependent: a cut-off gives exactly the pairs within it") {
  const auto ps = line(100, 1.0);
  connection_options o;
  o.same_population = true;
  const auto syn = collect(distance_dependent(ps, ps, expression("d < 3"), metric_space{}, o, 5));
  std::set<std::pair<std::uint32_t, std::uint32_t>> got, want;
  for (const auto& s : syn) got.insert({s.pre, s.post});
  for (std::uint32_t i = 0; i < 100; ++i)
    for (std::uint32_t j = 0; j < 100; ++j)
      if (i != j && (i > j ? i - j : j - i) < 3) want.insert({i, j});
  CHECK(got == want);
  CHECK(got.size() == syn.size());
  o.autapses = true;
  CHECK(collect(distance_dependent(ps, ps, expression("d < 3"), metric_space{}, o, 5)).size() ==
        want.size() + 100);
}

TEST_CASE("distance_dependent: counts per distance follow the probability") {
  // 60 x 60 grid against itself: for each distance d the number of
  // synapses is binomial with the pairs at d and p(d).
  std::vector<position> ps;
  for (int x = 0; x < 60; ++x)
    for (int y = 0; y < 60; ++y) ps.push_back({static_cast<double>(x), static_cast<double>(y), 0});
  const expression p("0.8 * exp(-d / 4)");
  connection_options o;
  o.same_population = true;
  o.weight = value_spec::uniform(0.5, 1.5);
  o.delay_ms = value_spec::uniform(1.0, 2.0);
  const metric_space space;
  const auto syn = collect(distance_dependent(ps, ps, p, space, o, 17));
  // Bins of one unit of distance: pairs and expected synapses in each.
  std::vector<double> pairs(90, 0), mean(90, 0), var(90, 0), got(90, 0);
  for (std::size_t i = 0; i < ps.size(); ++i)
    for (std::size_t j = 0; j < ps.size(); ++j) {
      if (i == j) continue;
      const double d = space.distance(ps[i], ps[j]);
      const auto b = static_cast<std::size_t>(d);
      const double q = p(d);
      pairs[b] += 1;
      mean[b] += q;
      var[b] += q * (1 - q);
    }
  std::size_t autapses = 0, out_of_range = 0;
  for (const auto& s : syn) {
    autapses += s.pre == s.post;
    out_of_range += s.weight < 0.5f || s.weight > 1.5f || s.delay_ms < 1.0 || s.delay_ms > 2.0;
    got[static_cast<std::size_t>(space.distance(ps[s.pre], ps[s.post]))] += 1;
  }
  CHECK(autapses == 0);
  CHECK(out_of_range == 0);
  double total = 0, total_mean = 0, total_var = 0;
  for (std::size_t b = 0; b < 30; ++b) {
    CAPTURE(b);
    CHECK(std::abs(got[b] - mean[b]) <= 5 * std::sqrt(var[b]) + 1e-9);
    total += got[b];
    total_mean += mean[b];
    total_var += var[b];
  }
  CHECK(std::abs(total - total_mean) <= 5 * std::sqrt(total_var));
  CHECK(total_mean > 10000);  // enough synapses for the check to mean something
}

TEST_CASE("distance_dependent: a pure function of the seed, refusing bad positions") {
  const auto pre = line(50, 7.0);
  const auto post = line(40, 5.0);
  const expression p("exp(-d / 30)");
  connection_options o;
  const auto a = collect(distance_dependent(pre, post, p, metric_space{}, o, 3));
  const auto b = collect(distance_dependent(pre, post, p, metric_space{}, o, 3));
  const auto c = collect(distance_dependent(pre, post, p, metric_space{}, o, 4));
  REQUIRE(a.size() == b.size());
  for (std::size_t n = 0; n < a.size(); ++n) {
    CHECK(a[n].pre == b[n].pre);
    CHECK(a[n].post == b[n].post);
  }
  bool same = a.size() == c.size();
  for (std::size_t n = 0; same && n < a.size(); ++n)
    same = a[n].pre == c[n].pre && a[n].post == c[n].post;
  CHECK_FALSE(same);
  auto bad = pre;
  bad[7][1] = NAN;
  CHECK_THROWS_WITH_AS(distance_dependent(bad, post, p, metric_space{}, o, 3),
                       "presynaptic position 7: expected finite coordinates", parameter_error);
  metric_space s;
  s.period[2] = 0.0;
  CHECK_THROWS_WITH_AS(distance_dependent(pre, post, p, s, o, 3),
                       doctest::Contains("space, axis z"), parameter_error);
}
