#pragma once
// Plasticity at exact spike times: rules are hook sets named after the event
// that triggers them, run inside a plastic projection.
//
// A rule is a struct of static functions (statically dispatched, inlined in
// the projection's loops) and a `parameters` struct:
//
//   name                      the name configs use ("stdp_additive")
//   parameters                doubles, with a field table parameter_fields();
//                             a field marked `required` has no default
//   validate(p)               throws parameter_error naming the field and
//                             the expected value
//   pre_traces(p)             std::array<trace_spec, Npre>: presynaptic
//   post_traces(p)            and postsynaptic traces (traces.hpp)
//   weight_bounds(p)          optional {w_min, w_max}: initial weights are
//                             checked against it
//
// and at least one hook, each returning the synapse's new weight:
//
//   on_pre(p, w, pre, post)   a presynaptic spike ARRIVES at the synapse:
//                             at the delivery time (spike + delay), after
//                             the engine applied the input with the old
//                             weight (duty-cycle step 4, notify). `pre`
//                             holds the presynaptic traces just before this
//                             arrival, `post` the postsynaptic traces now.
//   on_post(p, w, pre, post)  the postsynaptic neuron spikes (step 6, emit),
//                             seen in the synapse's target compartment at
//                             the emission time. `pre` holds the traces of
//                             the arrivals so far, `post` the postsynaptic
//                             traces just before this spike. Every incoming
//                             synapse of the neuron is visited.
//   on_third_factor(p, w, pre, post, strength)
//                             a spike of ANOTHER projection is delivered to
//                             the postsynaptic neuron (any compartment):
//                             connect it with connect_third_factor(id).
//                             `pre` and `post` are the traces now, strength
//                             is that delivery's weight. Every incoming
//                             synapse of the neuron is visited. This is the
//                             extension point for gated rules such as the
//                             microcircuit's (docs/plasticity.md).
//
// After the hooks of a spike ran, that side's traces jump. Traces are
// updated whether or not the rule has the matching hook.
//
// Delays. The whole synaptic delay is axonal: a presynaptic spike is seen
// by the synapse when it arrives, a postsynaptic spike when it is emitted,
// and the pair's time difference is t_post - (t_pre + delay). Events at the
// same time are seen in the engine's order (event.hpp: deliveries before
// threshold crossings), so every pair of spikes is counted exactly once; an
// arrival at the instant of a postsynaptic spike counts as pre before post.
// A dendritic delay is not modelled: the engine applies a delivery's weight
// before listeners run, so a postsynaptic spike that reached the synapse
// later than its emission would need its own queued event to change the
// weight at that time.
//
// Weights evolve in double precision in the plastic projection; after every
// change the projection's float weight (what neurons receive) is updated.
// A weight changed from outside (a trainer) is picked up at its next update,
// or at once by reload_weights().
#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "apical/engine/checkpoint.hpp"
#include "apical/engine/delegate.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/learning/plasticity/traces.hpp"

namespace apical::learning {

// One named, documented parameter of a rule.
template <class Parameters>
struct rule_field {
  std::string_view name;
  double Parameters::*member;
  std::string_view unit;  // "w": the unit of the projection's weights
  bool required;          // no default: its scale is the projection's
  std::string_view meaning;
};

using parameter_list = std::vector<std::pair<std::string, double>>;

template <class R>
inline constexpr std::size_t pre_trace_count =
    std::tuple_size_v<decltype(R::pre_traces(std::declval<const typename R::parameters&>()))>;
template <class R>
inline constexpr std::size_t post_trace_count =
    std::tuple_size_v<decltype(R::post_traces(std::declval<const typename R::parameters&>()))>;

template <class R>
concept plasticity_rule_base = requires(const typename R::parameters& p) {
  { R::name } -> std::convertible_to<std::string_view>;
  {
    R::parameter_fields()
    } -> std::convertible_to<std::span<const rule_field<typename R::parameters>>>;
  R::validate(p);
  { R::pre_traces(p) } -> std::same_as<std::array<trace_spec, pre_trace_count<R>>>;
  { R::post_traces(p) } -> std::same_as<std::array<trace_spec, post_trace_count<R>>>;
};

template <class R>
concept has_on_pre = requires(const typename R::parameters& p, double w,
                              const trace_values<pre_trace_count<R>>& pre,
                              const trace_values<post_trace_count<R>>& post) {
  { R::on_pre(p, w, pre, post) } -> std::same_as<double>;
};
template <class R>
concept has_on_post = requires(const typename R::parameters& p, double w,
                               const trace_values<pre_trace_count<R>>& pre,
                               const trace_values<post_trace_count<R>>& post) {
  { R::on_post(p, w, pre, post) } -> std::same_as<double>;
};
template <class R>
concept has_on_third_factor = requires(const typename R::parameters& p, double w,
                                       const trace_values<pre_trace_count<R>>& pre,
                                       const trace_values<post_trace_count<R>>& post) {
  { R::on_third_factor(p, w, pre, post, w) } -> std::same_as<double>;
};
template <class R>
concept has_weight_bounds = requires(const typename R::parameters& p) {
  { R::weight_bounds(p) } -> std::same_as<std::pair<double, double>>;
};

template <class R>
concept plasticity_rule = plasticity_rule_base<R> &&
    (has_on_pre<R> || has_on_post<R> || has_on_third_factor<R>);

// Reads a rule's parameters by name: unknown names, names given twice and
// missing required parameters are errors, then R::validate(p) runs. Every
// message names the rule and the field.
template <plasticity_rule R>
typename R::parameters rule_parameters(const parameter_list& values);

// What a weight change looked like, for recorders.
struct weight_change {
  time_ms time;
  std::uint64_t synapse;
  double before;
  double after;
};

struct plasticity_counters {
  std::uint64_t arrivals = 0;       // on_pre triggers (one per synapse)
  std::uint64_t post_spikes = 0;    // on_post triggers (one per spike)
  std::uint64_t third_factors = 0;  // on_third_factor triggers (one per delivery)
  std::uint64_t updates = 0;        // hook calls (one per synapse visited)
};

// A projection made plastic: the type-erased face of plastic_projection<R>.
// It subscribes to the simulator's signals when constructed and
// unsubscribes when destroyed; it must not outlive the simulator.
//
// Threads. With simulation_options::threads > 1, listeners run on the
// partition that owns the target neuron, so both hooks of a synapse always
// run on the partition owning its postsynaptic neuron: weights and
// postsynaptic traces are touched by one thread only. Each partition keeps
// its own copy of the presynaptic traces (every partition with a target in
// a delay group receives every arrival of that group, so the copies are
// equal), its own counters and its own restart detection. Nothing is
// shared between partitions during a run; weights are bit-identical for any
// number of threads.
class plastic_projection_base {
 public:
  using weight_change_signal = signal<const weight_change&>;

  virtual ~plastic_projection_base() = default;
  plastic_projection_base(const plastic_projection_base&) = delete;
  plastic_projection_base& operator=(const plastic_projection_base&) = delete;

  virtual std::string_view rule_name() const = 0;
  // The rule's parameters by name, in the order of its field table.
  virtual parameter_list parameters() const = 0;
  // Makes the deliveries of projection `projection_id` (whose target must be
  // this projection's postsynaptic population) trigger on_third_factor.
  // Throws parameter_error if the rule has no such hook.
  virtual void connect_third_factor(std::size_t projection_id) = 0;
  // Forgets every spike seen (weights are kept). Call after
  // simulator::reset(); a run that restarts before the last event seen is
  // detected and clears the traces as well.
  virtual void reset_traces() = 0;

  // Re-reads every weight from the projection after a change made from
  // outside (without it, each is picked up at its synapse's next update).
  void reload_weights() { w_.assign(network_weights_.begin(), network_weights_.end()); }

  std::size_t projection_id() const { return projection_id_; }
  const projection& proj() const { return *proj_; }
  const simulator& sim() const { return *sim_; }
  // The weights as the rule holds them (double); the projection holds their
  // float rounding.
  std::span<const double> weights() const { return w_; }
  double weight(std::uint64_t synapse) const { return w_[synapse]; }
  // Emitted for every change of a weight (after the hook, before the write),
  // on the thread of the partition that owns the synapse.
  weight_change_signal& on_weight_change() { return changes_; }
  // Summed over partitions.
  plasticity_counters counters() const;
  // The partition whose thread updates synapse k (that of its target).
  std::size_t owner_of(std::uint64_t k) const {
    return sim_->owner(proj_->post_population(), proj_->targets()[k]);
  }
  // Weights, traces and counters at a run boundary, the same for any number
  // of threads (plasticity_checkpoint.hpp, plasticity_checkpoint.cpp).
  virtual void save_state(checkpoint_writer& w) const = 0;
  virtual void load_state(checkpoint_reader& r) = 0;

 protected:
  plastic_projection_base(simulator& sim, std::size_t projection_id);

  // The current weight of synapse k, adopting a change made from outside.
  double load(std::uint64_t k) const {
    const double w = w_[k];
    const float f = network_weights_[k];
    return static_cast<float>(w) == f ? w : static_cast<double>(f);
  }
  // A walk over a neuron's incoming synapses reads and writes both weight
  // arrays at scattered places; asking for the weights of the synapse
  // `prefetch_distance` ahead keeps that many cache misses in flight.
  static constexpr std::size_t prefetch_distance = 16;
  void prefetch_weights(std::span<const std::uint64_t> incoming, std::size_t m) const {
    if (m + prefetch_distance < incoming.size()) {
      const std::uint64_t ahead = incoming[m + prefetch_distance];
      __builtin_prefetch(w_.data() + ahead, 1);
      __builtin_prefetch(network_weights_.data() + ahead, 1);
    }
  }
  void store(time_ms t, std::uint64_t k, double before, double after) {
    if (after == before) return;
    if (!changes_.empty()) changes_.emit(weight_change{t, k, before, after});
    w_[k] = after;
    network_weights_[k] = static_cast<float>(after);
  }
  // Checkpoints: the weights and counters; the partition whose copy of
  // delay group g's presynaptic traces is current (one owning a target).
  void save_weights(checkpoint_writer& w) const;
  void load_weights(checkpoint_reader& r);
  std::size_t group_partition(std::uint32_t g) const;
  // Throws parameter_error naming the synapse if a weight is outside bounds.
  void check_bounds(std::string_view rule, double w_min, double w_max) const;
  // Projection `projection_id` must exist and target this projection's
  // postsynaptic population.
  void check_third_factor_source(std::size_t projection_id) const;

  simulator* sim_;
  std::size_t projection_id_;
  projection* proj_;
  std::span<float> network_weights_;
  std::vector<double> w_;
  // The delay group of each synapse, in synapse order (for arrivals) and in
  // the order of projection::incoming (for walks from a postsynaptic neuron,
  // which then read it sequentially); incoming(j) starts at
  // incoming_start_[j].
  std::vector<std::uint32_t> group_of_;
  std::vector<std::uint32_t> incoming_group_;
  std::vector<std::uint64_t> incoming_start_;
  // Partition p owns postsynaptic neurons [post_begin_[p], post_begin_[p + 1]).
  std::vector<std::uint32_t> post_begin_;
  struct alignas(64) partition_counters {
    plasticity_counters c;
  };
  std::vector<partition_counters> counters_;
  weight_change_signal changes_;
};

template <plasticity_rule Rule>
class plastic_projection final : public plastic_projection_base {
 public:
  using parameters_type = typename Rule::parameters;
  static constexpr std::size_t n_pre = pre_trace_count<Rule>;
  static constexpr std::size_t n_post = post_trace_count<Rule>;

  // Validates `p` (and the initial weights against the rule's bounds), then
  // subscribes to the deliveries of the projection and the spikes of its
  // postsynaptic population.
  plastic_projection(simulator& sim, std::size_t projection_id, parameters_type p)
      : plastic_projection_base(sim, projection_id), p_(p) {
    Rule::validate(p_);
    if constexpr (has_weight_bounds<Rule>) {
      const auto [lo, hi] = Rule::weight_bounds(p_);
      check_bounds(Rule::name, lo, hi);
    }
    parts_.resize(sim.partitions());
    for (auto& part : parts_) part.pre = trace_table<n_pre>(proj_->groups(), Rule::pre_traces(p_));
    post_ = trace_table<n_post>(proj_->post_size(), Rule::post_traces(p_));
    if (listens_to_pre)
      sim.on_delivery(projection_id).connect(delivery_slot::bind<&plastic_projection::pre>(*this));
    if (listens_to_post)
      sim.on_spike(proj_->post_population())
          .connect(spike_slot::bind<&plastic_projection::post>(*this));
  }
  ~plastic_projection() override {
    if (listens_to_pre)
      sim_->on_delivery(projection_id_)
          .disconnect(delivery_slot::bind<&plastic_projection::pre>(*this));
    if (listens_to_post)
      sim_->on_spike(proj_->post_population())
          .disconnect(spike_slot::bind<&plastic_projection::post>(*this));
    for (const auto id : third_factor_sources_)
      sim_->on_delivery(id).disconnect(delivery_slot::bind<&plastic_projection::third>(*this));
  }

  std::string_view rule_name() const override { return Rule::name; }
  parameter_list parameters() const override {
    parameter_list out;
    for (const auto& f : Rule::parameter_fields()) out.emplace_back(f.name, p_.*f.member);
    return out;
  }
  void connect_third_factor(std::size_t projection_id) override {
    if constexpr (has_on_third_factor<Rule>) {
      check_third_factor_source(projection_id);
      sim_->on_delivery(projection_id)
          .connect(delivery_slot::bind<&plastic_projection::third>(*this));
      third_factor_sources_.push_back(projection_id);
    } else {
      throw parameter_error(std::string(Rule::name) +
                            ": the rule has no on_third_factor hook; connect_third_factor "
                            "needs a rule that has one");
    }
  }
  void reset_traces() override {
    for (std::size_t p = 0; p < parts_.size(); ++p) restart(p);
  }

  const parameters_type& params() const { return p_; }
  // Partition p's copy of the presynaptic traces (one owner per delay group).
  const trace_table<n_pre>& pre_traces(std::size_t partition = 0) const {
    return parts_[partition].pre;
  }
  const trace_table<n_post>& post_traces() const { return post_; }

 private:
  using delivery_slot = simulator::delivery_signal::slot;
  using spike_slot = simulator::spike_signal::slot;
  static constexpr bool listens_to_pre = n_pre > 0 || has_on_pre<Rule>;
  static constexpr bool listens_to_post = n_post > 0 || has_on_post<Rule>;
  static constexpr std::uint32_t no_group = ~std::uint32_t{0};

  // What one partition's thread alone reads and writes.
  struct alignas(64) partition_state {
    trace_table<n_pre> pre;
    trace_values<n_pre> pre_before{};  // of the delivery in progress
    std::uint32_t group = no_group;    // the delivery in progress
    std::uint64_t synapse = 0;         // its latest synapse
    double t_latest_ms = 0.0;          // to detect a restart
  };

  // Partition p forgets its spikes: its presynaptic copy and the traces of
  // the postsynaptic neurons it owns.
  void restart(std::size_t p) {
    auto& s = parts_[p];
    s.pre.clear();
    post_.clear(post_begin_[p], post_begin_[p + 1]);
    s.group = no_group;
    s.t_latest_ms = 0.0;
  }
  partition_state& enter(std::size_t p, double t_ms) {
    auto& s = parts_[p];
    if (t_ms < s.t_latest_ms) restart(p);
    s.t_latest_ms = t_ms;
    return s;
  }

  // Step 4 (notify): called for every synapse of a delivery group that this
  // partition owns, in synapse order. A delivery starts when the group
  // changes or the synapse index does not increase; only then does the
  // group's presynaptic trace jump.
  void pre(const delivery& d) {
    const double t = d.time.count();
    const std::size_t p = simulator::current_partition();
    auto& s = enter(p, t);
    auto& counters = counters_[p].c;
    ++counters.arrivals;
    const std::uint64_t k = d.synapse;
    if constexpr (n_pre > 0) {
      const std::uint32_t g = group_of_[k];
      if (g != s.group || k <= s.synapse) {
        s.pre_before = s.pre.at(g, t);
        s.pre.spike(g, t);
        s.group = g;
      }
      s.synapse = k;
    }
    if constexpr (has_on_pre<Rule>) {
      ++counters.updates;
      const double w = load(k);
      store(d.time, k, w, Rule::on_pre(p_, w, s.pre_before, post_.at(d.post, t)));
    }
  }

  // Step 6 (emit): postsynaptic neuron j spiked at t.
  void post(time_ms t, std::uint32_t j) {
    const double t_ms = t.count();
    const std::size_t p = simulator::current_partition();
    auto& s = enter(p, t_ms);
    auto& counters = counters_[p].c;
    ++counters.post_spikes;
    if constexpr (has_on_post<Rule>) {
      const trace_values<n_post> before = post_.at(j, t_ms);
      const auto incoming = proj_->incoming(j);
      const std::uint32_t* group = incoming_group_.data() + incoming_start_[j];
      for (std::size_t m = 0; m < incoming.size(); ++m) {
        prefetch_weights(incoming, m);
        const std::uint64_t k = incoming[m];
        const double w = load(k);
        store(t, k, w, Rule::on_post(p_, w, s.pre.at(group[m], t_ms), before));
      }
      counters.updates += incoming.size();
    }
    if constexpr (n_post > 0) post_.spike(j, t_ms);
  }

  // Step 4 (notify) of a third-factor projection: its input reached d.post.
  void third(const delivery& d) {
    if constexpr (has_on_third_factor<Rule>) {
      const double t_ms = d.time.count();
      const std::size_t p = simulator::current_partition();
      auto& s = enter(p, t_ms);
      auto& counters = counters_[p].c;
      ++counters.third_factors;
      const trace_values<n_post> now = post_.at(d.post, t_ms);
      const double strength = d.weight;
      const auto incoming = proj_->incoming(d.post);
      const std::uint32_t* group = incoming_group_.data() + incoming_start_[d.post];
      for (std::size_t m = 0; m < incoming.size(); ++m) {
        prefetch_weights(incoming, m);
        const std::uint64_t k = incoming[m];
        const double w = load(k);
        store(d.time, k, w, Rule::on_third_factor(p_, w, s.pre.at(group[m], t_ms), now, strength));
      }
      counters.updates += incoming.size();
    }
  }

  parameters_type p_;
  std::vector<partition_state> parts_;
  trace_table<n_post> post_;  // entries written only by their owner partition
  std::vector<std::size_t> third_factor_sources_;

 public:
  void save_state(checkpoint_writer& w) const override {
    save_weights(w);
    save_traces<n_pre>(w, proj_->groups(), [this](std::size_t g) -> const auto& {
      return parts_[group_partition(static_cast<std::uint32_t>(g))].pre;
    });
    save_traces<n_post>(w, proj_->post_size(),
                        [this](std::size_t) -> const auto& { return post_; });
  }
  void load_state(checkpoint_reader& r) override {
    load_weights(r);
    load_traces(r, parts_[0].pre, sim_->now(), "presynaptic traces");
    for (auto& s : parts_) {
      s.pre = parts_[0].pre;  // every partition's copy current
      s.group = no_group;     // the next arrival starts a delivery
      s.t_latest_ms = sim_->now().count();
    }
    load_traces(r, post_, sim_->now(), "postsynaptic traces");
  }
};

template <plasticity_rule R>
typename R::parameters rule_parameters(const parameter_list& values) {
  const auto fields = R::parameter_fields();
  typename R::parameters p{};
  std::vector<bool> given(fields.size(), false);
  for (const auto& [name, value] : values) {
    const auto it = std::find_if(fields.begin(), fields.end(),
                                 [&name](const auto& f) { return f.name == name; });
    if (it == fields.end()) {
      std::string known;
      for (const auto& f : fields) known += (known.empty() ? "" : ", ") + std::string(f.name);
      throw parameter_error(std::string(R::name) + ": unknown parameter '" + name +
                            "'; expected one of: " + known);
    }
    const auto i = static_cast<std::size_t>(it - fields.begin());
    if (given[i])
      throw parameter_error(std::string(R::name) + ": parameter '" + name +
                            "' is given twice; expected once");
    given[i] = true;
    p.*(it->member) = value;
  }
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (fields[i].required && !given[i])
      throw parameter_error(std::string(R::name) + ": missing parameter '" +
                            std::string(fields[i].name) + "' (" + std::string(fields[i].meaning) +
                            ", unit " + std::string(fields[i].unit) +
                            "); it has no default and must be given");
  R::validate(p);
  return p;
}

// Rules configs can name. No self-registration: a program builds its
// registry (one line a rule, as register_stdp does) and passes it where
// rules are looked up by name.
struct plasticity_parameter_info {
  std::string_view name;
  std::string_view unit;
  bool required;
  double default_value;  // NaN when required
  std::string_view meaning;
};
struct plasticity_rule_info {
  std::string_view name;
  std::string summary;
  std::vector<plasticity_parameter_info> parameters;
};

class plasticity_registry {
 public:
  using factory = std::unique_ptr<plastic_projection_base> (*)(simulator&, std::size_t,
                                                               const parameter_list&);
  using checker = void (*)(const parameter_list&);

  // Throws parameter_error if the name is taken.
  template <plasticity_rule R>
  void add(std::string summary) {
    plasticity_rule_info info{R::name, std::move(summary), {}};
    const typename R::parameters defaults{};
    for (const auto& f : R::parameter_fields())
      info.parameters.push_back({f.name, f.unit, f.required, defaults.*f.member, f.meaning});
    add(
        std::move(info),
        [](simulator& sim, std::size_t id,
           const parameter_list& v) -> std::unique_ptr<plastic_projection_base> {
          return std::make_unique<plastic_projection<R>>(sim, id, rule_parameters<R>(v));
        },
        [](const parameter_list& v) { rule_parameters<R>(v); });
  }
  void add(plasticity_rule_info info, factory maker, checker checker_fn);

  bool contains(std::string_view rule) const;
  const std::vector<plasticity_rule_info>& rules() const { return info_; }
  // Checks a rule name and its parameters without attaching anything (to
  // validate a configuration before the network exists).
  void validate(std::string_view rule, const parameter_list& values) const;
  // Makes projection `projection_id` of the simulator's network plastic
  // under the named rule. Throws parameter_error for an unknown rule
  // (listing the known ones) or an unknown, repeated, missing or invalid
  // parameter (naming it and what was expected).
  std::unique_ptr<plastic_projection_base> make(simulator& sim, std::size_t projection_id,
                                                std::string_view rule,
                                                const parameter_list& values) const;

 private:
  std::size_t find(std::string_view rule) const;
  std::vector<plasticity_rule_info> info_;
  std::vector<factory> make_;
  std::vector<checker> check_;
};

// Adds the rules of stdp.hpp.
void register_stdp(plasticity_registry& registry);

// make() with a registry of the rules of stdp.hpp.
std::unique_ptr<plastic_projection_base> make_plasticity(simulator& sim, std::size_t projection_id,
                                                         std::string_view rule,
                                                         const parameter_list& values);

}  // namespace apical::learning
