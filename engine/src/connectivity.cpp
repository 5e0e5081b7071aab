#include "apical/engine/connectivity.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {
namespace {

void check(const connection_options& o) {
  if (!std::isfinite(o.weight.lo) || !std::isfinite(o.weight.hi) || o.weight.hi < o.weight.lo)
    throw parameter_error(fmt::format("connection weight: expected finite lo <= hi, got [{}, {}]",
                                      o.weight.lo, o.weight.hi));
  if (!(o.delay_ms.lo >= 0.0) || !std::isfinite(o.delay_ms.hi) || o.delay_ms.hi < o.delay_ms.lo)
    throw parameter_error(
        fmt::format("connection delay_ms: expected finite 0 <= lo <= hi, got [{}, {}]",
                    o.delay_ms.lo, o.delay_ms.hi));
}

synapse make(std::size_t pre, std::size_t post, const connection_options& o, rng& r) {
  synapse s;
  s.pre = static_cast<std::uint32_t>(pre);
  s.post = static_cast<std::uint32_t>(post);
  s.weight = static_cast<float>(o.weight.draw(r));
  s.delay_ms = o.delay_ms.draw(r);
  return s;
}

bool excluded(std::size_t pre, std::size_t post, const connection_options& o) {
  return o.same_population && !o.autapses && pre == post;
}

// Draws k indices from [0, n) excluding `skip` (pass n for none), distinct
// unless multapses, in increasing order. `seen` is scratch space of n bytes,
// all zero on entry and on exit.
void draw_indices(std::size_t n, std::size_t k, std::size_t skip, bool multapses, rng& r,
                  std::vector<std::size_t>& out, std::vector<std::uint8_t>& seen) {
  out.clear();
  const std::size_t available = skip < n ? n - 1 : n;
  if (multapses) {
    for (std::size_t i = 0; i < k; ++i) {
      std::size_t v = r.below(available);
      if (skip < n && v >= skip) ++v;
      out.push_back(v);
    }
  } else if (2 * k > available) {
    // Dense: a partial Fisher-Yates over the candidates.
    std::vector<std::size_t> pool;
    pool.reserve(available);
    for (std::size_t v = 0; v < n; ++v)
      if (v != skip) pool.push_back(v);
    for (std::size_t i = 0; i < k; ++i) std::swap(pool[i], pool[i + r.below(available - i)]);
    out.assign(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(k));
  } else {
    // Sparse: rejection of duplicates (expected < 2 draws per index).
    while (out.size() < k) {
      std::size_t v = r.below(available);
      if (skip < n && v >= skip) ++v;
      if (!seen[v]) {
        seen[v] = 1;
        out.push_back(v);
      }
    }
    if (n <= 16 * k) {
      // Not too sparse: reading the marks in order gives the sorted set
      // faster than sorting it (a branch-free pass over n bytes).
      out.resize(k + 1);  // out[m] is written before m is known to count
      std::size_t m = 0;
      for (std::size_t v = 0; v < n; ++v) {
        out[m] = v;
        m += seen[v];
        seen[v] = 0;
      }
      out.resize(k);
      return;
    }
    for (auto v : out) seen[v] = 0;
  }
  std::sort(out.begin(), out.end());
}

// Every target neuron j draws from a stream of its own, rng(derive_seed(base,
// j)), so that a process of a distributed run draws the synapses onto its
// own neurons only, and they are those of the whole network (base: the
// first number of the rule's rng). fixed_outdegree keys its streams by the
// source instead: its row of k targets is one draw.
rng stream_of(std::uint64_t base, std::size_t neuron) {
  return rng(derive_seed(base, neuron));
}

template <class Emit>
void gen_all_to_all(std::size_t pre_size, const connection_options& o, std::uint64_t base,
                    neuron_block targets, Emit&& emit) {
  for (std::size_t j = targets.begin; j < targets.end; ++j) {
    rng r = stream_of(base, j);
    for (std::size_t i = 0; i < pre_size; ++i)
      if (!excluded(i, j, o)) emit(make(i, j, o, r));
  }
}

void check_one_to_one(std::size_t pre_size, std::size_t post_size) {
  if (pre_size != post_size)
    throw parameter_error(
        fmt::format("one_to_one needs equal sizes, got {} and {}", pre_size, post_size));
}

template <class Emit>
void gen_one_to_one(const connection_options& o, std::uint64_t base, neuron_block targets,
                    Emit&& emit) {
  for (std::size_t j = targets.begin; j < targets.end; ++j) {
    rng r = stream_of(base, j);
    emit(make(j, j, o, r));
  }
}

void check_probability(double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw parameter_error(fmt::format("connection probability: expected 0 <= p <= 1, got {}", p));
}

template <class Emit>
void gen_fixed_probability(std::size_t pre_size, double p, const connection_options& o,
                           std::uint64_t base, neuron_block targets, Emit&& emit) {
  if (p == 0.0) return;
  // Geometric skipping over each target's candidate sources: the cost is
  // proportional to the number of synapses, not of pairs.
  const double log_q = std::log1p(-p);
  for (std::size_t j = targets.begin; j < targets.end; ++j) {
    rng r = stream_of(base, j);
    std::uint64_t i = 0;
    while (true) {
      if (p < 1.0) {
        double u;
        do u = r.uniform();
        while (u == 0.0);
        const double skip = std::floor(std::log(u) / log_q);
        if (skip >= static_cast<double>(pre_size - i)) break;
        i += static_cast<std::uint64_t>(skip);
      }
      if (i >= pre_size) break;
      if (!excluded(i, j, o)) emit(make(i, j, o, r));
      ++i;
    }
  }
}

// A fixed degree k drawn from `available` candidates (one fewer without
// autapses inside one population).
void check_degree(std::string_view rule, std::string_view degree, std::string_view candidates,
                  std::size_t available, std::size_t k, const connection_options& o) {
  const std::size_t n =
      o.same_population && !o.autapses && available > 0 ? available - 1 : available;
  if ((available == 0 && k > 0) || (!o.multapses && k > n))
    throw parameter_error(fmt::format("{}: {} {} exceeds the {} available {} (multapses off)", rule,
                                      degree, k, n, candidates));
}
void check_indegree(std::size_t pre_size, std::size_t k, const connection_options& o) {
  check_degree("fixed_indegree", "in-degree", "sources", pre_size, k, o);
}
void check_outdegree(std::size_t post_size, std::size_t k, const connection_options& o) {
  check_degree("fixed_outdegree", "out-degree", "targets", post_size, k, o);
}

template <class Emit>
void gen_fixed_indegree(std::size_t pre_size, std::size_t k, const connection_options& o,
                        std::uint64_t base, neuron_block targets, Emit&& emit) {
  std::vector<std::size_t> sources;
  std::vector<std::uint8_t> seen(pre_size, 0);
  for (std::size_t j = targets.begin; j < targets.end; ++j) {
    rng r = stream_of(base, j);
    const std::size_t skip = o.same_population && !o.autapses ? j : pre_size;
    draw_indices(pre_size, k, skip, o.multapses, r, sources, seen);
    for (auto i : sources) emit(make(i, j, o, r));
  }
}

// Keyed by the source: every process draws every row, and keeps the
// synapses onto `targets`.
template <class Emit>
void gen_fixed_outdegree(std::size_t pre_size, std::size_t post_size, std::size_t k,
                         const connection_options& o, std::uint64_t base, neuron_block targets,
                         Emit&& emit) {
  std::vector<std::size_t> chosen;
  std::vector<std::uint8_t> seen(post_size, 0);
  for (std::size_t i = 0; i < pre_size; ++i) {
    rng r = stream_of(base, i);
    const std::size_t skip = o.same_population && !o.autapses ? i : post_size;
    draw_indices(post_size, k, skip, o.multapses, r, chosen, seen);
    for (auto j : chosen) {
      const synapse s = make(i, j, o, r);  // drawn whether kept or not
      if (targets.contains(s.post)) emit(s);
    }
  }
}

neuron_block all_of(std::size_t n) {
  return {0, static_cast<std::uint32_t>(n)};
}

}  // namespace

std::vector<synapse> all_to_all(std::size_t pre_size, std::size_t post_size,
                                const connection_options& o, rng& r) {
  check(o);
  std::vector<synapse> out;
  out.reserve(pre_size * post_size);
  gen_all_to_all(pre_size, o, r(), all_of(post_size), [&](const synapse& s) { out.push_back(s); });
  return out;
}

std::vector<synapse> one_to_one(std::size_t size, const connection_options& o, rng& r) {
  check(o);
  std::vector<synapse> out;
  out.reserve(size);
  gen_one_to_one(o, r(), all_of(size), [&](const synapse& s) { out.push_back(s); });
  return out;
}

std::vector<synapse> fixed_probability(std::size_t pre_size, std::size_t post_size, double p,
                                       const connection_options& o, rng& r) {
  check(o);
  check_probability(p);
  std::vector<synapse> out;
  out.reserve(static_cast<std::size_t>(static_cast<double>(pre_size * post_size) * p * 1.05) + 16);
  gen_fixed_probability(pre_size, p, o, r(), all_of(post_size),
                        [&](const synapse& s) { out.push_back(s); });
  return out;
}

std::vector<synapse> fixed_indegree(std::size_t pre_size, std::size_t post_size, std::size_t k,
                                    const connection_options& o, rng& r) {
  check(o);
  check_indegree(pre_size, k, o);
  std::vector<synapse> out;
  out.reserve(post_size * k);
  gen_fixed_indegree(pre_size, k, o, r(), all_of(post_size),
                     [&](const synapse& s) { out.push_back(s); });
  return out;
}

std::vector<synapse> fixed_outdegree(std::size_t pre_size, std::size_t post_size, std::size_t k,
                                     const connection_options& o, rng& r) {
  check(o);
  check_outdegree(post_size, k, o);
  std::vector<synapse> out;
  out.reserve(pre_size * k);
  gen_fixed_outdegree(pre_size, post_size, k, o, r(), all_of(post_size),
                      [&](const synapse& s) { out.push_back(s); });
  return out;
}

connection_rule parse_connection_rule(std::string_view name) {
  if (name == "all_to_all") return connection_rule::all_to_all;
  if (name == "one_to_one") return connection_rule::one_to_one;
  if (name == "fixed_probability") return connection_rule::fixed_probability;
  if (name == "fixed_indegree") return connection_rule::fixed_indegree;
  if (name == "fixed_outdegree") return connection_rule::fixed_outdegree;
  if (name == "distance_dependent") return connection_rule::distance_dependent;
  throw parameter_error(fmt::format(
      "unknown rule '{}'; known: all_to_all, one_to_one, fixed_probability, fixed_indegree, "
      "fixed_outdegree, distance_dependent",
      name));
}

synapse_generator make_generator(connection_rule rule, std::size_t pre_size, std::size_t post_size,
                                 double p, std::size_t k, const connection_options& o,
                                 std::uint64_t seed) {
  return make_generator(rule, pre_size, post_size, p, k, o, seed, all_of(post_size));
}

synapse_generator make_generator(connection_rule rule, std::size_t pre_size, std::size_t post_size,
                                 double p, std::size_t k, const connection_options& o,
                                 std::uint64_t seed, neuron_block targets) {
  check(o);
  targets.end = std::min(targets.end, static_cast<std::uint32_t>(post_size));
  targets.begin = std::min(targets.begin, targets.end);
  // The rule's first number, as the list builders draw it from their rng.
  const std::uint64_t base = rng(seed)();
  switch (rule) {
    case connection_rule::all_to_all:
      return [=](const synapse_sink& emit) { gen_all_to_all(pre_size, o, base, targets, emit); };
    case connection_rule::one_to_one:
      check_one_to_one(pre_size, post_size);
      return [=](const synapse_sink& emit) { gen_one_to_one(o, base, targets, emit); };
    case connection_rule::fixed_probability:
      check_probability(p);
      return [=](const synapse_sink& emit) {
        gen_fixed_probability(pre_size, p, o, base, targets, emit);
      };
    case connection_rule::fixed_indegree:
      check_indegree(pre_size, k, o);
      return [=](const synapse_sink& emit) {
        gen_fixed_indegree(pre_size, k, o, base, targets, emit);
      };
    case connection_rule::fixed_outdegree:
      check_outdegree(post_size, k, o);
      return [=](const synapse_sink& emit) {
        gen_fixed_outdegree(pre_size, post_size, k, o, base, targets, emit);
      };
    case connection_rule::distance_dependent:
      break;
  }
  throw parameter_error(
      "rule distance_dependent draws from the neurons' positions and a probability expression, "
      "which this builder does not take");
}

double metric_space::distance(const position& pre, const position& post) const {
  double sum = 0.0;
  for (std::size_t a = 0; a < 3; ++a) {
    if (!axes[a]) continue;
    double diff = pre[a] - scale[a] * (post[a] + offset[a]);
    if (period[a]) {
      const double ad = std::fabs(diff);
      diff = std::min(ad, *period[a] - ad);
    }
    sum += diff * diff;
  }
  return std::sqrt(sum);
}

namespace {

void check_space(const metric_space& space) {
  for (std::size_t a = 0; a < 3; ++a)
    if (!std::isfinite(space.scale[a]) || !std::isfinite(space.offset[a]) ||
        (space.period[a] && !(*space.period[a] > 0.0 && std::isfinite(*space.period[a]))))
      throw parameter_error(fmt::format(
          "space, axis {}: expected a finite scale and offset and a finite period > 0, got "
          "scale {}, offset {}, period {}",
          "xyz"[a], space.scale[a], space.offset[a],
          space.period[a] ? fmt::format("{}", *space.period[a]) : std::string("none")));
}

void check_positions(std::span<const position> ps, std::string_view side) {
  for (std::size_t i = 0; i < ps.size(); ++i)
    for (double x : ps[i])
      if (!std::isfinite(x))
        throw parameter_error(
            fmt::format("{}synaptic position {}: expected finite coordinates", side, i));
}

// The columns of distances and probabilities, one target at a time: the
// presynaptic coordinates are kept by axis, so that a column is a few
// vectorised passes (the same operations, in the same order, as
// metric_space::distance).
class distance_columns {
 public:
  distance_columns(std::span<const position> pre, const expression& probability,
                   const metric_space& space)
      : probability_(probability), space_(space), d_(pre.size()), p_(pre.size()) {
    for (std::size_t a = 0; a < 3; ++a) {
      if (!space.axes[a]) continue;
      axes_.push_back(a);
      auto& c = coordinates_.emplace_back(pre.size());
      for (std::size_t i = 0; i < pre.size(); ++i) c[i] = pre[i][a];
    }
  }
  // The probability of each source for a target at `at`.
  std::span<const double> of(const position& at) {
    const std::size_t n = d_.size();
    std::fill(d_.begin(), d_.end(), 0.0);
    for (std::size_t k = 0; k < axes_.size(); ++k) {
      const std::size_t a = axes_[k];
      const double x0 = space_.scale[a] * (at[a] + space_.offset[a]);
      const double* x = coordinates_[k].data();
      if (space_.period[a]) {
        const double length = *space_.period[a];
        for (std::size_t i = 0; i < n; ++i) {
          const double ad = std::fabs(x[i] - x0);
          const double diff = std::min(ad, length - ad);
          d_[i] += diff * diff;
        }
      } else {
        for (std::size_t i = 0; i < n; ++i) d_[i] += (x[i] - x0) * (x[i] - x0);
      }
    }
    for (std::size_t i = 0; i < n; ++i) d_[i] = std::sqrt(d_[i]);
    probability_.evaluate(d_, p_, scratch_);
    return p_;
  }

 private:
  expression probability_;
  metric_space space_;
  std::vector<std::size_t> axes_;
  std::vector<std::vector<double>> coordinates_;
  std::vector<double> d_, p_, scratch_;
};

}  // namespace

synapse_generator distance_dependent(std::span<const position> pre, std::span<const position> post,
                                     const expression& probability, const metric_space& space,
                                     const connection_options& o, std::uint64_t seed) {
  return distance_dependent(pre, post, probability, space, o, seed, all_of(post.size()));
}

synapse_generator distance_dependent(std::span<const position> pre, std::span<const position> post,
                                     const expression& probability, const metric_space& space,
                                     const connection_options& o, std::uint64_t seed,
                                     neuron_block targets) {
  check(o);
  check_space(space);
  check_positions(pre, "pre");
  check_positions(post, "post");
  targets.end = std::min(targets.end, static_cast<std::uint32_t>(post.size()));
  targets.begin = std::min(targets.begin, targets.end);
  const std::uint64_t base = rng(seed)();
  return [pre = std::vector<position>(pre.begin(), pre.end()),
          post = std::vector<position>(post.begin(), post.end()), probability, space, o, base,
          targets](const synapse_sink& emit) {
    distance_columns columns(pre, probability, space);
    for (std::size_t j = targets.begin; j < targets.end; ++j) {
      const auto p = columns.of(post[j]);
      rng r = stream_of(base, j);
      for (std::size_t i = 0; i < p.size(); ++i)
        if (r.uniform() < p[i] && !excluded(i, j, o)) emit(make(i, j, o, r));
    }
  };
}

projection_shape expected_distance_shape(std::span<const position> pre,
                                         std::span<const position> post,
                                         const expression& probability, const metric_space& space,
                                         const connection_options& o) {
  check(o);
  check_space(space);
  check_positions(pre, "pre");
  check_positions(post, "post");
  constexpr std::size_t most_columns = 256;
  const std::size_t columns = std::min(post.size(), most_columns);
  distance_columns of(pre, probability, space);
  double mean = 0.0, variance = 0.0;
  for (std::size_t c = 0; c < columns; ++c) {
    const std::size_t j = c * post.size() / columns;
    const auto p = of.of(post[j]);
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (excluded(i, j, o)) continue;
      const double q = std::isnan(p[i]) ? 0.0 : std::clamp(p[i], 0.0, 1.0);
      mean += q;
      variance += q * (1.0 - q);
    }
  }
  const double scale =
      columns == 0 ? 0.0 : static_cast<double>(post.size()) / static_cast<double>(columns);
  mean *= scale;
  variance *= scale;
  const double pairs = static_cast<double>(pre.size()) * static_cast<double>(post.size());
  const double synapses = std::min(pairs, 1.1 * mean + 4.0 * std::sqrt(variance));
  projection_shape s;
  s.pre_size = pre.size();
  s.post_size = post.size();
  s.synapses = static_cast<std::uint64_t>(std::ceil(synapses));
  // At most one group per presynaptic neuron with constant delays (fewer
  // when rows stay empty), one per synapse with drawn ones.
  s.groups = o.delay_ms.is_constant()
                 ? std::min<std::uint64_t>(s.synapses, static_cast<std::uint64_t>(pre.size()))
                 : s.synapses;
  s.uniform_weight = o.weight.is_constant() && s.synapses > 0;
  s.consecutive_targets = !o.delay_ms.is_constant() && s.synapses > 0;
  return s;
}

projection_shape expected_shape(connection_rule rule, std::size_t pre_size, std::size_t post_size,
                                double p, std::size_t k, const connection_options& o) {
  check(o);
  // Inside one population without autapses the diagonal is excluded.
  const bool no_diagonal = o.same_population && !o.autapses;
  const auto n_pre = static_cast<double>(pre_size), n_post = static_cast<double>(post_size);
  const auto degree = static_cast<double>(k);
  double synapses = 0.0;
  double rows = 0.0;       // presynaptic neurons with at least one synapse (expected)
  bool full_rows = false;  // every row holds all its candidate targets
  switch (rule) {
    case connection_rule::all_to_all:
      synapses = n_pre * n_post - (no_diagonal ? n_pre : 0.0);
      rows = synapses > 0.0 ? n_pre : 0.0;
      full_rows = !no_diagonal;
      break;
    case connection_rule::one_to_one:
      check_one_to_one(pre_size, post_size);
      synapses = rows = n_pre;
      full_rows = true;
      break;
    case connection_rule::fixed_probability: {
      check_probability(p);
      const double candidates = n_post - (no_diagonal ? 1.0 : 0.0);
      const double pairs = n_pre * candidates;
      synapses = std::min(pairs, pairs * p + 4.0 * std::sqrt(pairs * p * (1.0 - p)));
      rows = n_pre * (1.0 - std::pow(1.0 - p, candidates));
      full_rows = p == 1.0 && !no_diagonal;
      break;
    }
    case connection_rule::fixed_indegree: {
      check_indegree(pre_size, k, o);
      synapses = n_post * degree;
      // A source is missed by one target's k draws with probability 1 - k/n
      // (distinct draws) or (1 - 1/n)^k (multapses).
      const double candidates = n_pre - (no_diagonal ? 1.0 : 0.0);
      const double missed = candidates <= 0.0 ? 1.0
                            : o.multapses     ? std::pow(1.0 - 1.0 / candidates, degree)
                                              : 1.0 - degree / candidates;
      rows = n_pre * (1.0 - std::pow(missed, n_post));
      full_rows = !o.multapses && !no_diagonal && k == pre_size;
      break;
    }
    case connection_rule::fixed_outdegree:
      check_outdegree(post_size, k, o);
      synapses = n_pre * degree;
      rows = k > 0 ? n_pre : 0.0;
      full_rows = !o.multapses && !no_diagonal && k == post_size;
      break;
    case connection_rule::distance_dependent:
      throw parameter_error(
          "rule distance_dependent: its shape depends on the positions "
          "(expected_distance_shape)");
  }
  const bool one_delay = o.delay_ms.is_constant();
  projection_shape s;
  s.pre_size = pre_size;
  s.post_size = post_size;
  s.synapses = static_cast<std::uint64_t>(std::ceil(synapses));
  s.groups = one_delay ? static_cast<std::uint64_t>(std::ceil(rows)) : s.synapses;
  s.uniform_weight = o.weight.is_constant() && s.synapses > 0;
  // Groups of one synapse (drawn delays, one_to_one) are runs too.
  s.consecutive_targets = s.synapses > 0 && (!one_delay || full_rows);
  return s;
}

}  // namespace apical
