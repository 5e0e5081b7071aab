#pragma once
// Connectivity builders: they produce synapse lists for projection's
// constructor. All random rules draw from the rng they are given (by
// convention the stream derive_seed(seed, stream::connectivity, k) of the
// k-th projection), so a network is a pure function of its seed. Its first
// number is the base of one stream per target neuron j,
// derive_seed(base, j), from which the synapses onto j are drawn (their
// sources, weights and delays): a process of a distributed run draws those
// onto its own neurons only (make_generator's `targets`), and they are the
// same as in the whole network. fixed_outdegree draws a source's k targets
// at once, so its streams are keyed by the source, and every process draws
// every row.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "apical/engine/communicator.hpp"
#include "apical/engine/expression.hpp"
#include "apical/engine/projection.hpp"
#include "apical/engine/random.hpp"

namespace apical {

// A constant (lo == hi) or uniformly distributed value in [lo, hi].
struct value_spec {
  double lo = 0.0;
  double hi = 0.0;
  static value_spec constant(double v) { return {v, v}; }
  static value_spec uniform(double lo, double hi) { return {lo, hi}; }
  bool is_constant() const { return lo == hi; }
  double draw(rng& r) const { return is_constant() ? lo : r.uniform(lo, hi); }
};

struct connection_options {
  value_spec weight = value_spec::constant(1.0);
  value_spec delay_ms = value_spec::constant(1.0);
  // Only meaningful when pre and post are the same population: whether a
  // neuron may connect to itself.
  bool autapses = false;
  bool same_population = false;
  // fixed_indegree / fixed_outdegree: whether one pair may be drawn twice.
  bool multapses = false;
};

// Each rule exists twice: as a list, and as a re-runnable generator (for
// projection's streaming constructor; every run draws from a fresh rng
// seeded with `seed`, so both passes see the same synapses).
std::vector<synapse> all_to_all(std::size_t pre_size, std::size_t post_size,
                                const connection_options& o, rng& r);
std::vector<synapse> one_to_one(std::size_t size, const connection_options& o, rng& r);
// Each pair independently with probability p.
std::vector<synapse> fixed_probability(std::size_t pre_size, std::size_t post_size, double p,
                                       const connection_options& o, rng& r);
// Each postsynaptic neuron receives exactly k synapses from random sources.
std::vector<synapse> fixed_indegree(std::size_t pre_size, std::size_t post_size, std::size_t k,
                                    const connection_options& o, rng& r);
// Each presynaptic neuron sends exactly k synapses to random targets.
std::vector<synapse> fixed_outdegree(std::size_t pre_size, std::size_t post_size, std::size_t k,
                                     const connection_options& o, rng& r);

// distance_dependent is drawn by distance_dependent() below, from
// positions: make_generator and expected_shape refuse it.
enum class connection_rule {
  all_to_all,
  one_to_one,
  fixed_probability,
  fixed_indegree,
  fixed_outdegree,
  distance_dependent
};
connection_rule parse_connection_rule(std::string_view name);

// A generator for `rule`; `p` is used by fixed_probability, `k` by the
// degree rules. Parameters are checked here, before anything is generated.
synapse_generator make_generator(connection_rule rule, std::size_t pre_size, std::size_t post_size,
                                 double p, std::size_t k, const connection_options& o,
                                 std::uint64_t seed);
// The same, drawing only the synapses onto the neurons `targets` of post.
synapse_generator make_generator(connection_rule rule, std::size_t pre_size, std::size_t post_size,
                                 double p, std::size_t k, const connection_options& o,
                                 std::uint64_t seed, neuron_block targets);

// Positions in space (any unit; PyNN's are micrometres).
using position = std::array<double, 3>;

// How far apart two neurons are, as PyNN's Space measures it: the
// postsynaptic position is first mapped to scale * (post + offset) (per
// axis), then the Euclidean distance is taken over the chosen axes; along
// a periodic axis of length L a difference x counts as min(|x|, L - |x|).
struct metric_space {
  std::array<bool, 3> axes{true, true, true};
  std::array<double, 3> scale{1.0, 1.0, 1.0};
  std::array<double, 3> offset{0.0, 0.0, 0.0};
  std::array<std::optional<double>, 3> period{};
  double distance(const position& pre, const position& post) const;
};

// Each pair (i, j) independently with probability p(d), the expression
// `probability` of their distance d (a value of at least 1 always
// connects; 0, a negative value or nan never). Drawn from one stream per
// target like the other rules: one uniform number per candidate source in
// increasing order, then the weight and delay of each synapse made (only
// onto `targets` in a distributed build, as make_generator). The
// generator keeps copies of the positions.
synapse_generator distance_dependent(std::span<const position> pre, std::span<const position> post,
                                     const expression& probability, const metric_space& space,
                                     const connection_options& o, std::uint64_t seed);
synapse_generator distance_dependent(std::span<const position> pre, std::span<const position> post,
                                     const expression& probability, const metric_space& space,
                                     const connection_options& o, std::uint64_t seed,
                                     neuron_block targets);

// The shape distance_dependent would draw, for estimating memory before a
// build: the probabilities are summed over the columns of at most 256
// targets spread over post (all of them when post is smaller), the mean
// column scaled to all targets, and the synapse count taken as that mean
// plus 10 % plus four binomial standard deviations.
projection_shape expected_distance_shape(std::span<const position> pre,
                                         std::span<const position> post,
                                         const expression& probability, const metric_space& space,
                                         const connection_options& o);

// The shape of the projection make_generator(rule, ...) would freeze, from
// the rule alone (nothing generated), for estimating memory before a build.
// Synapses: the exact count where the rule fixes it, else the mean plus
// four standard deviations (fixed_probability: exceeded with probability
// 3e-5). Delay groups: one per presynaptic neuron with a synapse (expected
// count) when the delay is constant; one per synapse when delays are drawn
// (two drawn delays of a row almost never coincide). Throws parameter_error
// for the parameters make_generator rejects.
projection_shape expected_shape(connection_rule rule, std::size_t pre_size, std::size_t post_size,
                                double p, std::size_t k, const connection_options& o);

}  // namespace apical
