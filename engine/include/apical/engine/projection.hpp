#pragma once
// Projections: the synapses from one population to one compartment of
// another, frozen into delay-grouped CSR arrays.
//
// THE main performance decision of the engine: a spike enters the queue once
// per (spike, delay group), never once per synapse. A presynaptic row is
// sorted by delay, and runs of equal delay form groups; when a spike's
// delivery event for a group pops, the engine walks that group's contiguous
// (target, weight) arrays. With one delay per projection (the usual case),
// that is one queue entry per spike per projection, whatever the fan-out.
//
// Memory of the frozen projection: 4 bytes target + 4 bytes weight per
// synapse, plus 16 bytes per delay group (delay, start) and 4 bytes per
// presynaptic neuron (plus 4 bytes per group and per postsynaptic neuron
// when every group targets consecutive neurons). When every synapse has
// the same weight (static networks such as Brunel's), the weight is stored
// once: 4 bytes per synapse. While it is built, 16 bytes per presynaptic
// neuron more (row counts and cursors), and 8 per synapse when delays differ.
// The target compartment is a property of the projection (split mixed lists
// into one projection per compartment).
//
// Build in structs, run in arrays: builders produce `synapse` values (as a
// list, or streamed by a generator), and the constructor sorts them by
// (pre, delay, post) so the arrays (and therefore the order of deliveries)
// do not depend on how the list was produced.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "apical/engine/short_term.hpp"

namespace apical {

struct synapse {
  std::uint32_t pre = 0;
  std::uint32_t post = 0;
  float weight = 0.0f;
  double delay_ms = 0.0;
};

// A synapse generator calls the sink once per synapse, and must produce the
// same list every time it is called: large projections are frozen in two
// passes over the generator (count, then place) so that no list of synapse
// structs is ever held in memory.
using synapse_sink = std::function<void(const synapse&)>;
using synapse_generator = std::function<void(const synapse_sink&)>;

// What a frozen projection's memory depends on: projection::shape() of a
// built one, or connectivity's expected_shape() of one yet to be built.
struct projection_shape {
  std::size_t pre_size = 0;
  std::size_t post_size = 0;
  std::uint64_t synapses = 0;
  std::uint64_t groups = 0;          // delay groups
  bool uniform_weight = false;       // one weight, stored once
  bool consecutive_targets = false;  // every group a run of consecutive neurons
};
// Bytes of the frozen arrays of a projection of shape `s`.
std::size_t memory_bytes(const projection_shape& s);
// Bytes held only while the projection is frozen, on top of memory_bytes:
// the row counts and cursors, and each synapse's delay unless all share one.
std::size_t build_extra_bytes(const projection_shape& s, bool one_delay);

class projection {
 public:
  // Builds the frozen arrays. Throws parameter_error for an index out of
  // range, a negative or NaN delay, or a non-finite weight; `name` is used in
  // the messages.
  projection(std::string name, std::uint16_t pre_population, std::size_t pre_size,
             std::uint16_t post_population, std::size_t post_size, int compartment,
             std::vector<synapse> synapses);
  projection(std::string name, std::uint16_t pre_population, std::size_t pre_size,
             std::uint16_t post_population, std::size_t post_size, int compartment,
             const synapse_generator& generate);

  const std::string& name() const { return name_; }
  std::uint16_t id() const { return id_; }
  void set_id(std::uint16_t id) { id_ = id; }
  std::uint16_t pre_population() const { return pre_population_; }
  std::uint16_t post_population() const { return post_population_; }
  std::size_t pre_size() const { return pre_size_; }
  std::size_t post_size() const { return post_size_; }
  int compartment() const { return compartment_; }
  std::size_t size() const { return targets_.size(); }
  std::size_t groups() const { return group_delay_ms_.size(); }

  // Delay groups of presynaptic neuron `pre`: [first, last).
  std::uint32_t first_group(std::uint32_t pre) const { return row_groups_[pre]; }
  std::uint32_t last_group(std::uint32_t pre) const { return row_groups_[pre + 1]; }
  double group_delay_ms(std::uint32_t g) const { return group_delay_ms_[g]; }
  // Synapse indices of group g: [group_begin(g), group_end(g)).
  std::uint64_t group_begin(std::uint32_t g) const { return group_start_[g]; }
  std::uint64_t group_end(std::uint32_t g) const { return group_start_[g + 1]; }
  // When every group is a run of consecutive neurons (dense projections),
  // the span points into one shared 0..post_size-1 array that stays in
  // cache, instead of into the per-synapse array: the same values, without
  // a cache miss per delivery on a large projection.
  std::span<const std::uint32_t> group_targets(std::uint32_t g) const {
    const auto n = static_cast<std::size_t>(group_start_[g + 1] - group_start_[g]);
    if (!group_first_.empty()) return {ids_.data() + group_first_[g], n};
    return {targets_.data() + group_start_[g], n};
  }
  // Per-synapse weights of group g; empty while uniform_weight().
  std::span<const float> group_weights(std::uint32_t g) const {
    if (uniform_) return {};
    return {weights_.data() + group_start_[g], weights_.data() + group_start_[g + 1]};
  }
  // Whether all synapses share one weight, stored once (weight(0)).
  bool uniform_weight() const { return uniform_; }
  float weight(std::uint64_t k) const { return uniform_ ? uniform_value_ : weights_[k]; }
  // Short-term plasticity of every synapse (short_term.hpp): the simulator
  // scales each delivery's weights by the efficacy of its delay group.
  // Throws parameter_error (naming the projection) for invalid parameters.
  void set_short_term(const short_term_parameters& p);
  const std::optional<short_term_parameters>& short_term() const { return short_term_; }
  // Synapse indices of presynaptic neuron `pre` (all its groups).
  std::uint64_t row_begin(std::uint32_t pre) const { return group_start_[row_groups_[pre]]; }
  std::uint64_t row_end(std::uint32_t pre) const { return group_start_[row_groups_[pre + 1]]; }

  std::span<const std::uint32_t> targets() const { return targets_; }
  // Weights are mutable: plasticity rules and trainers change them in place.
  // A uniform-weight projection allocates its per-synapse array on the
  // first call (before a parallel run, not during it).
  std::span<float> weights() {
    materialize();
    return weights_;
  }
  std::span<const float> weights() const {
    materialize();
    return weights_;
  }
  // The presynaptic neuron of synapse k (binary search over the rows).
  std::uint32_t pre_of(std::uint64_t k) const;
  double delay_of(std::uint64_t k) const;
  double min_delay_ms() const;

  // Post-to-pre index for rules that walk the synapses of a target neuron:
  // synapse indices of post neuron j are incoming(j). Built on first request.
  std::span<const std::uint64_t> incoming(std::uint32_t post) const;
  void build_incoming_index() const;

  projection_shape shape() const;
  // Bytes allocated for the frozen arrays (excluding the optional incoming
  // index); equal to memory_bytes(shape()), which tests check.
  std::size_t memory_bytes() const;

 private:
  std::string name_;
  std::uint16_t id_ = 0;
  std::uint16_t pre_population_;
  std::size_t pre_size_;
  std::uint16_t post_population_;
  std::size_t post_size_;
  int compartment_;

  std::vector<std::uint32_t> row_groups_;   // pre_size + 1
  std::vector<double> group_delay_ms_;      // groups
  std::vector<std::uint64_t> group_start_;  // groups + 1
  std::vector<std::uint32_t> targets_;      // synapses
  // Only when every group's targets are consecutive: each group's first
  // target, and the identity array 0..post_size-1 that group_targets spans.
  std::vector<std::uint32_t> group_first_;  // groups
  std::vector<std::uint32_t> ids_;          // post_size
  void materialize() const {
    if (!uniform_) return;
    weights_.assign(targets_.size(), uniform_value_);
    uniform_ = false;
  }
  mutable std::vector<float> weights_;  // synapses (empty while uniform)
  mutable bool uniform_ = false;
  float uniform_value_ = 0.0f;

  std::optional<short_term_parameters> short_term_;

  mutable std::vector<std::uint64_t> incoming_start_;  // post_size + 1
  mutable std::vector<std::uint64_t> incoming_;        // synapses
};

}  // namespace apical
