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
//   on_post(p, w, pre, post)  a postsynaptic spike reaches the synapse, in
//                             its target compartment: at the emission time
//                             (step 6, emit) without a dendritic delay, 2 f d
//                             later with one (Delays below). `pre` holds
//                             the traces of the arrivals so far, `post` the
//                             postsynaptic traces just before this spike.
//                             Every incoming synapse of the neuron is
//                             visited.
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
// Delays. A synapse's delay d splits into an axonal part (1 - f) d and a
// dendritic part f d, f being the projection's dendritic_delay_fraction (0
// by default; PyNN's STDPMechanism and NEST use 1). The synapse sees a
// presynaptic spike when it passes, at t_pre + (1 - f) d, and a
// postsynaptic spike when it has travelled back up the dendrite, at
// t_post + f d: a pair's time difference is
//   (t_post + f d) - (t_pre + (1 - f) d),
// and the soma receives the input at t_pre + d with the weight the synapse
// had when the spike passed it. The rules run with every synapse-side event
// shifted by f d, which changes no time difference: on_pre at the arrival
// t_pre + d, on_post at t_post + 2 f d.
//   f = 0: on_post at the emission, every incoming synapse of the neuron
//   visited then (step 6).
//   f > 0: the spike waits in a per-neuron list until it reaches the
//   synapse; before a delivery reads a weight (the engine's arrival
//   listeners), the spikes that reached the synapse before the delivery
//   apply on_post in time order. Reading weights between runs (weights(),
//   sync()) applies those that reached their synapses before now(); the
//   rest wait (checkpoints hold them). This path needs the ordered
//   delivery path and has no third factors.
// Events at the same time are seen in the engine's order (event.hpp:
// deliveries before threshold crossings), so every pair of spikes is
// counted exactly once; a presynaptic spike that reaches the synapse at the
// instant a postsynaptic one does counts as pre before post (the delivered
// weight does not include that postsynaptic spike; its on_post sees the
// presynaptic trace including the arrival). The delivered weight is the
// weight before the arrival's own on_pre.

// Weights evolve in double precision in the plastic projection; after every
// change the projection's float weight (what neurons receive) is updated.
// A weight changed from outside (a trainer) is picked up at its next update,
// or at once by reload_weights().
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

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
  // On the windowed path, where postsynaptic spikes may wait for their
  // synapses (sync() below), call it after any change from outside: a
  // changed synapse then drops the spikes waiting for it, which came before
  // the change, and the others take theirs.
  void reload_weights() {
    adopt_outside_changes();
    w_.assign(network_weights_.begin(), network_weights_.end());
  }
  // Brings every weight up to date. On the windowed path a postsynaptic
  // spike reaches each incoming synapse at the synapse's next arrival (in
  // the synapse's row, not by a walk over the neuron's incoming synapses):
  // until then the weight waits. weights(), weight() and the next run on
  // the ordered path call it.
  void sync() const { sync_pending(); }

  std::size_t projection_id() const { return projection_id_; }
  // The dendritic part of every synapse's delay, as a fraction (Delays
  // above).
  double dendritic_delay_fraction() const { return dendritic_fraction_; }
  const projection& proj() const { return *proj_; }
  const simulator& sim() const { return *sim_; }
  // The weights as the rule holds them (double); the projection holds their
  // float rounding.
  std::span<const double> weights() const {
    sync();
    return w_;
  }
  double weight(std::uint64_t synapse) const {
    sync();
    return w_[synapse];
  }
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
  // Throws parameter_error unless 0 <= dendritic_fraction <= 1.
  plastic_projection_base(simulator& sim, std::size_t projection_id, double dendritic_fraction);
  virtual void sync_pending() const = 0;
  virtual void adopt_outside_changes() = 0;

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
  double dendritic_fraction_;
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

// On the windowed path (window.hpp) a plastic projection follows its
// inputs window by window, as a window_listener, with the weights and
// traces the ordered path gives: the window's arrivals move the
// presynaptic traces (each arrival remembering the trace before it, each
// delay group its trace before the window), and the arriving synapses
// first receive the postsynaptic spikes that waited for them (below); a
// postsynaptic spike inside the window revises the weights its neuron's
// later inputs are delivered with (the synapse's own events replayed up to
// the input, on copies); after the neurons ran, each arrival, in delivery
// order, applies its target's spikes of the window before it, then
// on_pre. A postsynaptic spike thus reaches each incoming synapse at the
// synapse's next arrival, in the synapse's row, not by a walk over the
// neuron's incoming synapses; until then it waits in a per-neuron history
// (sync()).
template <plasticity_rule Rule>
class plastic_projection final : public plastic_projection_base, public window_listener {
 public:
  using parameters_type = typename Rule::parameters;
  static constexpr std::size_t n_pre = pre_trace_count<Rule>;
  static constexpr std::size_t n_post = post_trace_count<Rule>;

  // Validates `p` (and the initial weights against the rule's bounds) and
  // the dendritic delay fraction (Delays above), then subscribes to the
  // deliveries of the projection and the spikes of its postsynaptic
  // population.
  plastic_projection(simulator& sim, std::size_t projection_id, parameters_type p,
                     double dendritic_delay_fraction = 0.0)
      : plastic_projection_base(sim, projection_id, dendritic_delay_fraction), p_(p) {
    Rule::validate(p_);
    if constexpr (has_weight_bounds<Rule>) {
      const auto [lo, hi] = Rule::weight_bounds(p_);
      check_bounds(Rule::name, lo, hi);
    }
    parts_.resize(sim.partitions());
    for (auto& part : parts_) part.pre = trace_table<n_pre>(proj_->groups(), Rule::pre_traces(p_));
    post_ = trace_table<n_post>(proj_->post_size(), Rule::post_traces(p_));
    if (dendritic()) setup_dendritic();
    if (listens_to_pre)
      sim.on_delivery(projection_id).connect(delivery_slot::bind<&plastic_projection::pre>(*this));
    if (listens_to_post)
      sim.on_spike(proj_->post_population())
          .connect(spike_slot::bind<&plastic_projection::post>(*this));
    sim.set_window_listener(projection_id, this);
  }
  ~plastic_projection() override {
    sim_->set_window_listener(projection_id_, nullptr);
    if (listens_to_pre)
      sim_->on_delivery(projection_id_)
          .disconnect(delivery_slot::bind<&plastic_projection::pre>(*this));
    if (listens_to_post)
      sim_->on_spike(proj_->post_population())
          .disconnect(spike_slot::bind<&plastic_projection::post>(*this));
    for (const auto id : third_factor_sources_)
      sim_->on_delivery(id).disconnect(delivery_slot::bind<&plastic_projection::third>(*this));
    if (dendritic())
      sim_->on_arrival(projection_id_)
          .disconnect(arrival_slot::bind<&plastic_projection::arrive>(*this));
  }

  std::string_view rule_name() const override { return Rule::name; }
  parameter_list parameters() const override {
    parameter_list out;
    for (const auto& f : Rule::parameter_fields()) out.emplace_back(f.name, p_.*f.member);
    // (Only when not 0, so that the descriptions of checkpoints without it
    // stay as they were.)
    if (dendritic()) out.emplace_back("dendritic_delay_fraction", dendritic_fraction_);
    return out;
  }
  void connect_third_factor(std::size_t projection_id) override {
    if (dendritic())
      throw parameter_error(std::string(Rule::name) +
                            ": connect_third_factor needs dendritic_delay_fraction 0 (third "
                            "factors visit every synapse at once; a dendritic delay makes "
                            "postsynaptic spikes wait for each synapse)");
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
  using arrival_slot = simulator::arrival_signal::slot;
  static constexpr bool listens_to_pre = n_pre > 0 || has_on_pre<Rule>;
  static constexpr bool listens_to_post = n_post > 0 || has_on_post<Rule>;
  static constexpr std::uint32_t no_group = ~std::uint32_t{0};

  static constexpr std::uint32_t none = ~std::uint32_t{0};
  static constexpr double inf = std::numeric_limits<double>::infinity();
  struct logged_arrival {
    trace_values<n_pre> pre_before;  // the group's traces just before it
    std::uint32_t next;              // the group's next arrival in the window
    double from_ms;                  // its synapses have seen the spikes before this
  };
  struct post_record {  // a postsynaptic spike waiting for its synapses
    double t_ms;
    trace_values<n_post> before;  // the neuron's traces just before it
  };
  using pre_moment = typename trace_table<n_pre>::moment;
  using post_moment = typename trace_table<n_post>::moment;
  struct history_traces {
    trace_values<n_post> before;    // the neuron's traces just before the spike
    trace_values<n_pre> pre_decay;  // presynaptic reads at it: their moment's decay
  };
  struct history_record : history_traces {  // a postsynaptic spike waiting in the history
    double t_ms;
  };
  struct fired_range {  // a neuron's spikes in window_end's `fired`
    std::uint64_t window = 0;
    std::uint32_t begin = 0, end = 0;
  };

  // What one partition's thread alone reads and writes.
  struct alignas(64) partition_state {
    trace_table<n_pre> pre;
    trace_values<n_pre> pre_before{};  // of the delivery in progress
    std::uint32_t group = no_group;    // the delivery in progress
    std::uint64_t synapse = 0;         // its latest synapse
    double t_latest_ms = 0.0;          // to detect a restart
    post_moment arrival_moment{inf};   // the ordered path's latest delivery time
    // The windowed path: the window in progress (counted from 1), its
    // arrivals, per delay group the window of its latest arrival, its
    // traces before that window and its first and last arrival there; per
    // postsynaptic neuron its spikes in the window and, since their
    // synapses' latest arrivals, in the history.
    std::uint64_t window = 0;
    bool in_window = false;
    std::span<const window_arrival> arrivals;  // (the simulator's, until window_end)
    std::vector<logged_arrival> log;
    std::vector<std::uint64_t> group_window;
    std::vector<typename trace_table<n_pre>::entry> group_start;
    std::vector<std::uint32_t> group_first, group_last;
    std::vector<fired_range> fired_at;
    std::vector<std::vector<history_record>> history;
    // Per neuron the number of records in its history (its size, kept
    // dense) and a copy of the latest recent_slots of them (record i at
    // slot i % recent_slots of the neuron's recent_slots): an arrival
    // rarely finds more spikes since the group's previous one, and reads
    // them from these dense arrays rather than from the histories'
    // scattered storage.
    std::vector<std::uint32_t> history_count;
    std::vector<history_traces> recent;
    std::vector<double> recent_ms;        // their times (-inf: an empty slot)
    std::vector<std::uint32_t> selected;  // (catch_up's)
    std::vector<double> last_spike;       // the latest record's time (-inf: none)
    std::size_t history_size = 0;
    // The postsynaptic traces of p's neurons lifted to lifted_anchor (NaN:
    // none; traces.hpp, THE TWO FACTORS), index j - post_begin_[p].
    double t_begin_ms = 0.0;  // of the window in progress
    double lifted_anchor = std::numeric_limits<double>::quiet_NaN();
    std::vector<trace_values<n_post>> lifted_post;
    // Dendritic delays (Delays above): per postsynaptic neuron its spikes
    // on their way to its synapses (in time order), per delay group the
    // time before which its synapses saw every spike that reached them.
    std::vector<std::vector<post_record>> waiting;
    std::vector<double> reached_ms;
    std::size_t waiting_size = 0;
    std::size_t waiting_limit = 0;  // a settle() when waiting_size exceeds it
  };

  // The windowed path (window_listener).
  std::string windowed_obstacle() const override {
    if (dendritic())
      return "its synapses see postsynaptic spikes after a dendritic delay "
             "(dendritic_delay_fraction > 0), on the ordered path";
    if (!changes_.empty())
      return "its weight changes have listeners (a weight recorder), which see every change in "
             "time order";
    return {};
  }

  bool window_begin(std::size_t p, double t_begin, double,
                    std::span<const window_arrival> arrivals) override {
    parts_[p].in_window = true;
    auto& s = enter(p, t_begin);
    ++s.window;
    s.t_begin_ms = t_begin;
    if (s.group_window.empty()) {
      s.group_window.assign(proj_->groups(), 0);
      s.group_first.assign(proj_->groups(), none);
      s.group_last.assign(proj_->groups(), none);
      s.group_start.resize(n_pre > 0 ? proj_->groups() : 0);
    }
    if (s.history.size() != proj_->post_size()) {
      s.history.resize(proj_->post_size());
      s.history_count.assign(proj_->post_size(), 0);
      s.recent.resize(proj_->post_size() * recent_slots);
      s.recent_ms.assign(proj_->post_size() * recent_slots, -inf);
      s.last_spike.assign(proj_->post_size(), -inf);
      s.fired_at.assign(proj_->post_size(), {});
    }
    s.arrivals = arrivals;
    s.log.resize(arrivals.size());
    bool repeats = false;
    std::uint64_t synapses = 0;
    for (std::uint32_t d = 0; d < arrivals.size(); ++d) {
      const window_arrival& a = arrivals[d];
      const std::uint32_t g = a.group;
      s.log[d].next = none;
      s.log[d].from_ms = t_begin;
      if (s.group_window[g] != s.window) {
        s.group_window[g] = s.window;
        s.group_first[g] = d;
        // The spikes since the group's previous arrival, before the window,
        // reach its synapses now, so that the window delivers their
        // weights.
        catch_up(s, a.first_synapse, a.targets, a.count, g);
        if constexpr (n_pre > 0) s.group_start[g] = s.pre.raw(g);
      } else {
        s.log[s.group_last[g]].next = d;
        s.log[d].from_ms = arrivals[s.group_last[g]].time_ms;
        repeats = true;
      }
      s.group_last[g] = d;
      if constexpr (n_pre > 0) {
        s.log[d].pre_before = s.pre.at(g, a.time_ms);
        s.pre.spike(g, a.time_ms);
      }
      synapses += a.count;
    }
    auto& counters = counters_[p].c;
    counters.arrivals += synapses;
    if constexpr (has_on_pre<Rule>) counters.updates += synapses;
    return repeats;
  }

  float revised_weight(std::size_t p, std::uint32_t post, std::span<const double> spikes,
                       std::uint64_t synapse, std::uint32_t group, double t_ms) override {
    const auto& s = parts_[p];
    double w = load(synapse);
    auto post_trace = post_.raw(post);  // (its spikes of the window are applied in window_end)
    std::uint32_t a = s.group_window[group] == s.window ? s.group_first[group] : none;
    std::size_t m = 0;
    for (;;) {
      // The synapse's events before t_ms: earlier arrivals of its group,
      // then the spikes; an arrival before a spike at the same instant.
      const double t_a = a != none && s.arrivals[a].time_ms < t_ms ? s.arrivals[a].time_ms : inf;
      const double t_s = m < spikes.size() ? spikes[m] : inf;
      if (t_a == inf && t_s == inf) break;
      if (t_a <= t_s) {
        if constexpr (has_on_pre<Rule>)
          w = Rule::on_pre(p_, w, s.log[a].pre_before, post_.at(post_trace, t_a));
        a = s.log[a].next;
      } else {
        if constexpr (has_on_post<Rule>)
          w = Rule::on_post(p_, w, pre_at(s, group, t_s), post_.at(post_trace, t_s));
        if constexpr (n_post > 0) post_.spike(post_trace, t_s);
        ++m;
      }
    }
    return static_cast<float>(w);
  }

  void window_end(std::size_t p, std::span<const fired_spike> fired) override {
    auto& s = parts_[p];
    s.in_window = false;
    for (std::uint32_t f = 0; f < fired.size();) {
      const std::uint32_t j = fired[f].neuron;
      const std::uint32_t begin = f;
      while (f < fired.size() && fired[f].neuron == j) ++f;
      s.fired_at[j] = {s.window, begin, f};
    }
    // The postsynaptic traces lifted to the window's anchor (a new period:
    // every neuron of p once).
    const std::uint32_t lo = post_begin_[p];
    if constexpr (n_post > 0) {
      const double anchor = post_.anchor(s.t_begin_ms);
      if (!(s.lifted_anchor == anchor)) lift_post(p, anchor);
    }
    // Each arrival in delivery order (a synapse's weights lie in its row:
    // sequential): the spikes of its target inside the window before it
    // (since the group's previous arrival), then on_pre.
    for (std::uint32_t d = 0; d < s.arrivals.size(); ++d) {
      const window_arrival& a = s.arrivals[d];
      const double t = a.time_ms;
      const double from = s.log[d].from_ms;
      const post_moment now = post_.moment_of(t);
      const bool lifted = now.anchor_ms == s.lifted_anchor;
      for (std::uint32_t m = 0; m < a.count; ++m) {
        const std::uint32_t j = a.targets[m];
        const std::uint64_t k = a.first_synapse + m;
        double w = load(k);
        const double before = w;
        trace_values<n_post> y;
        const auto& fa = s.fired_at[j];
        if (fa.window != s.window) {
          // (Its latest spike came before the window, so before t.)
          y = lifted ? trace_table<n_post>::decayed(s.lifted_post[j - lo], now.decay)
                     : post_.at(j, now);
        } else {
          auto post_trace = post_.raw(j);
          for (std::uint32_t f = fa.begin; f < fa.end && fired[f].time_ms < t; ++f) {
            const double t_s = fired[f].time_ms;
            if constexpr (has_on_post<Rule>)
              if (t_s >= from)
                w = Rule::on_post(p_, w, pre_at(s, a.group, t_s), post_.at(post_trace, t_s));
            if constexpr (n_post > 0) post_.spike(post_trace, t_s);
          }
          y = post_.at(post_trace, now);
        }
        if constexpr (has_on_pre<Rule>) w = Rule::on_pre(p_, w, s.log[d].pre_before, y);
        store(time_ms{t}, k, before, w);
      }
    }
    // The window's spikes join the postsynaptic traces and wait, in the
    // history, for each synapse's next arrival (or a flush).
    auto& counters = counters_[p].c;
    for (const auto& f : fired) {
      ++counters.post_spikes;
      if constexpr (has_on_post<Rule>) counters.updates += proj_->incoming(f.neuron).size();
      const history_record r{{post_.at(f.neuron, f.time_ms), s.pre.moment_of(f.time_ms).decay},
                             f.time_ms};
      s.history[f.neuron].push_back(r);
      const std::size_t slot =
          std::size_t{f.neuron} * recent_slots + s.history_count[f.neuron]++ % recent_slots;
      s.recent[slot] = r;
      s.recent_ms[slot] = f.time_ms;
      s.last_spike[f.neuron] = f.time_ms;
      if constexpr (n_post > 0) {
        post_.spike(f.neuron, f.time_ms);
        if (!std::isnan(s.lifted_anchor))
          s.lifted_post[f.neuron - lo] = post_.lift(post_.raw(f.neuron), s.lifted_anchor);
      }
    }
    s.history_size += fired.size();
    if (s.history_size > history_limit * (post_begin_[p + 1] - post_begin_[p]) + 1024) flush(p);
  }

  // On average, at most this many spikes per neuron wait in the history
  // before a flush brings every synapse up to date.
  static constexpr std::size_t history_limit = 32;
  static constexpr std::uint32_t recent_slots = 4;

  // Partition p's postsynaptic traces lifted to `anchor`.
  void lift_post(std::size_t p, double anchor) {
    auto& s = parts_[p];
    const std::uint32_t lo = post_begin_[p], hi = post_begin_[p + 1];
    s.lifted_post.resize(hi - lo);
    for (std::uint32_t j = lo; j < hi; ++j)
      s.lifted_post[j - lo] = post_.lift(post_.raw(j), anchor);
    s.lifted_anchor = anchor;
  }

  // Brings the synapses [first, first + count) of group g (targets
  // `targets`) up to date: the spikes of each target since the group's
  // latest arrival (at or after it: an arrival precedes a spike of the same
  // instant) apply on_post, in time order, with the group's traces then.
  void catch_up(partition_state& s, std::uint64_t first, const std::uint32_t* targets,
                std::uint32_t count, std::uint32_t g, bool outside = false) {
    if constexpr (has_on_post<Rule>) {
      const double t_prev = n_pre > 0 ? s.pre.raw(g).t_ms : -inf;
      // The group's traces at a spike: its entry lifted to the spike's
      // anchor, times the spike's decay. The lifted entries of two
      // consecutive periods are kept (odd and even ones), since the
      // targets' spikes since the group's previous arrival often straddle
      // a period's start.
      struct lifted_entry {
        double anchor_ms = std::numeric_limits<double>::quiet_NaN();
        trace_values<n_pre> value{};
      };
      std::array<lifted_entry, 2> lifted;
      const double period = s.pre.period_ms();
      auto pre_at_spike = [&](double t_ms, const history_traces& r) -> trace_values<n_pre> {
        const auto& e = s.pre.raw(g);
        if (t_ms == e.t_ms) return e.value;
        const double index = s.pre.period_index(t_ms);
        const double anchor = period * index;  // (= s.pre.anchor(t_ms))
        auto& l = lifted[static_cast<std::uint64_t>(static_cast<std::int64_t>(index)) & 1];
        if (!(l.anchor_ms == anchor)) {
          l.anchor_ms = anchor;
          l.value = s.pre.lift(e, anchor);
        }
        return trace_table<n_pre>::decayed(l.value, r.pre_decay);
      };
      // The targets with a spike since t_prev, selected without a branch
      // (about a third have none, unpredictably).
      s.selected.resize(count);
      std::uint32_t* selected = s.selected.data();
      std::uint32_t n_selected = 0;
      for (std::uint32_t m = 0; m < count; ++m) {
        selected[n_selected] = m;
        n_selected += s.last_spike[targets[m]] >= t_prev ? 1 : 0;
      }
      for (std::uint32_t q = 0; q < n_selected; ++q) {
        const std::uint32_t m = selected[q];
        const std::uint32_t j = targets[m];
        const std::uint64_t k = first + m;
        if (outside && static_cast<float>(w_[k]) != network_weights_[k]) continue;
        // The records at or after t_prev: the last n of the recent ones
        // (counted without a branch; empty slots hold -inf), and when all
        // of those are, (rarely) some further back in the history itself.
        const std::uint32_t c = s.history_count[j];
        const history_traces* ring = s.recent.data() + std::size_t{j} * recent_slots;
        const double* times = s.recent_ms.data() + std::size_t{j} * recent_slots;
        std::uint32_t n = 0;
        for (std::uint32_t slot = 0; slot < recent_slots; ++slot)
          n += times[slot] >= t_prev ? 1 : 0;
        std::uint32_t i = c - std::min(n, c);
        const std::uint32_t oldest = c > recent_slots ? c - recent_slots : 0;
        const auto& h = s.history[j];
        if (i == oldest) [[unlikely]]
          while (i > 0 && h[i - 1].t_ms >= t_prev) --i;
        const double before = load(k);
        double w = before;
        for (; i < oldest; ++i)
          w = Rule::on_post(p_, w, pre_at_spike(h[i].t_ms, h[i]), h[i].before);
        for (; i < c; ++i) {
          const history_traces& r = ring[i % recent_slots];
          w = Rule::on_post(p_, w, pre_at_spike(times[i % recent_slots], r), r.before);
        }
        store(time_ms{s.last_spike[j]}, k, before, w);
      }
    }
  }
  void sync_pending() const override {
    // (Between runs, or from a partition's own thread during one: the
    // object itself is never const.)
    auto* self = const_cast<plastic_projection*>(this);
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      if (parts_[p].history_size > 0) self->flush(p);
      if (dendritic()) self->settle(p, sim_->now().count());
    }
  }
  void adopt_outside_changes() override {
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      flush(p, true);
      if (dendritic()) settle(p, sim_->now().count(), true);
    }
  }

  // Dendritic delays (Delays above; the ordered path only).
  bool dendritic() const { return dendritic_fraction_ > 0.0; }
  void setup_dendritic() {
    shift_.resize(proj_->groups());
    for (std::uint32_t g = 0; g < proj_->groups(); ++g)
      shift_[g] = 2.0 * dendritic_fraction_ * proj_->group_delay_ms(g);
    max_shift_.assign(proj_->post_size(), 0.0);
    for (std::uint64_t k = 0; k < proj_->size(); ++k) {
      auto& m = max_shift_[proj_->targets()[k]];
      m = std::max(m, shift_[group_of_[k]]);
    }
    post_base_ = trace_table<n_post>(proj_->post_size(), Rule::post_traces(p_));
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      auto& s = parts_[p];
      s.waiting.resize(proj_->post_size());
      s.reached_ms.assign(proj_->groups(), -inf);
      s.waiting_size = 0;
      s.waiting_limit = waiting_allowance(p);
    }
    sim_->on_arrival(projection_id_)
        .connect(arrival_slot::bind<&plastic_projection::arrive>(*this));
  }
  // Spikes that may wait, beyond those that must, before a settle().
  std::size_t waiting_allowance(std::size_t p) const {
    return history_limit * (post_begin_[p + 1] - post_begin_[p]) + 1024;
  }
  // The postsynaptic traces that a synapse whose events are shifted by
  // `shift` sees at t: those of neuron j's spikes s with s + shift < t.
  trace_values<n_post> shifted_post(const partition_state& s, std::uint32_t j, double shift,
                                    double t) const {
    const auto& h = s.waiting[j];
    std::size_t r = h.size();
    while (r > 0 && !(h[r - 1].t_ms + shift < t)) --r;
    if (r == 0) return post_base_.at(j, t - shift);
    typename trace_table<n_post>::entry e{h[r - 1].t_ms, h[r - 1].before};
    post_.spike(e, e.t_ms);
    return post_.at(e, t - shift);
  }
  // The synapses [first, first + targets.size()) of group g see, in time
  // order, the spikes of their targets that reach them in
  // [reached_ms[g], until): on_post with the group's presynaptic traces
  // then. With `outside`, a synapse whose weight was changed from outside
  // keeps that weight instead (its spikes are dropped).
  void reach(std::size_t p, std::uint64_t first, std::span<const std::uint32_t> targets,
             std::uint32_t g, double until, bool outside = false) {
    auto& s = parts_[p];
    const double from = s.reached_ms[g];
    if (!(from < until)) return;
    s.reached_ms[g] = until;
    if constexpr (has_on_post<Rule>) {
      const double shift = shift_[g];
      std::uint64_t updates = 0;
      for (std::size_t m = 0; m < targets.size(); ++m) {
        const auto& h = s.waiting[targets[m]];
        auto r = static_cast<std::size_t>(
            std::partition_point(h.begin(), h.end(),
                                 [&](const post_record& x) { return x.t_ms + shift < from; }) -
            h.begin());
        if (r == h.size() || !(h[r].t_ms + shift < until)) continue;
        const std::uint64_t k = first + m;
        if (outside && static_cast<float>(w_[k]) != network_weights_[k]) continue;
        double w = load(k);
        for (; r < h.size() && h[r].t_ms + shift < until; ++r) {
          const double t_r = h[r].t_ms + shift;
          const double after = Rule::on_post(p_, w, s.pre.at(g, t_r), h[r].before);
          store(time_ms{t_r}, k, w, after);
          w = after;
          ++updates;
        }
      }
      counters_[p].c.updates += updates;
    }
  }
  // Every synapse of partition p's neurons sees the spikes that reached it
  // before `until` (no arrival before it is still to come); the spikes that
  // reached all of their synapses leave the waiting lists.
  void settle(std::size_t p, double until, bool outside = false) {
    auto& s = parts_[p];
    const std::uint32_t lo = post_begin_[p], hi = post_begin_[p + 1];
    if (lo == hi) return;
    for (std::uint32_t g = 0; g < proj_->groups(); ++g) {
      const auto targets = proj_->group_targets(g);
      const auto b = std::lower_bound(targets.begin(), targets.end(), lo);
      const auto e = std::lower_bound(b, targets.end(), hi);
      if (b == e) continue;
      reach(p, proj_->group_begin(g) + static_cast<std::uint64_t>(b - targets.begin()),
            std::span<const std::uint32_t>(&*b, static_cast<std::size_t>(e - b)), g, until,
            outside);
    }
    for (std::uint32_t j = lo; j < hi; ++j) {
      auto& h = s.waiting[j];
      std::size_t r = 0;
      for (; r < h.size() && h[r].t_ms + max_shift_[j] < until; ++r) post_base_.spike(j, h[r].t_ms);
      h.erase(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(r));
      s.waiting_size -= r;
    }
    s.waiting_limit = s.waiting_size + waiting_allowance(p);
  }
  // The arrival listener (before steps 2-3): the synapses see the spikes that
  // reached them before this arrival, so that the engine delivers their
  // weights.
  void arrive(const arrival& a) {
    const double t = a.time.count();
    const std::size_t p = simulator::current_partition();
    enter(p, t);
    reach(p, a.first_synapse, a.targets, a.group, t);
  }
  // Every synapse of partition p's neurons up to date; the history empties.
  // With `outside`, a synapse whose weight was changed from outside keeps
  // that weight instead.
  void flush(std::size_t p, bool outside = false) {
    auto& s = parts_[p];
    if (s.history_size == 0) return;
    const std::uint32_t lo = post_begin_[p], hi = post_begin_[p + 1];
    for (std::uint32_t g = 0; g < proj_->groups(); ++g) {
      const auto targets = proj_->group_targets(g);
      const auto b = std::lower_bound(targets.begin(), targets.end(), lo);
      const auto e = std::lower_bound(b, targets.end(), hi);
      if (b == e) continue;
      catch_up(s, proj_->group_begin(g) + static_cast<std::uint64_t>(b - targets.begin()), &*b,
               static_cast<std::uint32_t>(e - b), g, outside);
    }
    for (std::uint32_t j = lo; j < hi; ++j) {
      s.history[j].clear();
      s.history_count[j] = 0;
      s.last_spike[j] = -inf;
      std::fill_n(s.recent_ms.begin() + std::size_t{j} * recent_slots, recent_slots, -inf);
    }
    s.history_size = 0;
  }

  // Partition p's presynaptic traces of group g at t_ms inside the window,
  // as the ordered path had them then: the window's arrivals of g after
  // t_ms not yet counted.
  trace_values<n_pre> pre_at(const partition_state& s, std::uint32_t g, double t_ms) const {
    if constexpr (n_pre == 0) {
      return {};
    } else {
      if (s.group_window[g] != s.window || s.pre.raw(g).t_ms <= t_ms) return s.pre.at(g, t_ms);
      auto e = s.group_start[g];
      for (std::uint32_t a = s.group_first[g]; a != none && s.arrivals[a].time_ms <= t_ms;
           a = s.log[a].next)
        s.pre.spike(e, s.arrivals[a].time_ms);
      return s.pre.at(e, t_ms);
    }
  }

  // Partition p forgets its spikes: its presynaptic copy and the traces of
  // the postsynaptic neurons it owns.
  void restart(std::size_t p) {
    auto& s = parts_[p];
    if (!s.history.empty()) flush(p);  // (their spikes happened)
    if (dendritic()) {
      // The spikes that reached their synapses before the latest event
      // count; those still on their way are dropped.
      settle(p, s.t_latest_ms);
      for (std::uint32_t j = post_begin_[p]; j < post_begin_[p + 1]; ++j) s.waiting[j].clear();
      s.waiting_size = 0;
      s.waiting_limit = waiting_allowance(p);
      std::fill(s.reached_ms.begin(), s.reached_ms.end(), -inf);
      post_base_.clear(post_begin_[p], post_begin_[p + 1]);
    }
    s.pre.clear();
    post_.clear(post_begin_[p], post_begin_[p + 1]);
    s.lifted_anchor = std::numeric_limits<double>::quiet_NaN();
    s.arrival_moment = post_moment{inf};
    s.group = no_group;
    s.t_latest_ms = 0.0;
  }
  partition_state& enter(std::size_t p, double t_ms) {
    auto& s = parts_[p];
    if (!s.in_window && s.history_size > 0) flush(p);  // the ordered path's hooks
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
      if (dendritic()) {
        const trace_values<n_post> y = shifted_post(s, d.post, shift_[group_of_[k]], t);
        store(d.time, k, w, Rule::on_pre(p_, w, s.pre_before, y));
        return;
      }
      if (t != s.arrival_moment.t_ms) s.arrival_moment = post_.moment_of(t);
      const trace_values<n_post> y = post_.at(d.post, s.arrival_moment);
      store(d.time, k, w, Rule::on_pre(p_, w, s.pre_before, y));
    }
  }

  // Step 6 (emit): postsynaptic neuron j spiked at t. (On the windowed
  // path, window_end does this.)
  void post(time_ms t, std::uint32_t j) {
    const double t_ms = t.count();
    const std::size_t p = simulator::current_partition();
    if (parts_[p].in_window) return;
    auto& s = enter(p, t_ms);
    auto& counters = counters_[p].c;
    ++counters.post_spikes;
    s.lifted_anchor = std::numeric_limits<double>::quiet_NaN();  // (post_ changes)
    if (dendritic()) {
      // It reaches each synapse later: it waits (reach(), settle()).
      s.waiting[j].push_back({t_ms, post_.at(j, t_ms)});
      if constexpr (n_post > 0) post_.spike(j, t_ms);
      if (++s.waiting_size > s.waiting_limit) settle(p, t_ms);
      return;
    }
    if constexpr (has_on_post<Rule>) {
      const trace_values<n_post> before = post_.at(j, t_ms);
      const pre_moment now = s.pre.moment_of(t_ms);
      const auto incoming = proj_->incoming(j);
      const std::uint32_t* group = incoming_group_.data() + incoming_start_[j];
      for (std::size_t m = 0; m < incoming.size(); ++m) {
        prefetch_weights(incoming, m);
        const std::uint64_t k = incoming[m];
        const double w = load(k);
        store(t, k, w, Rule::on_post(p_, w, s.pre.at(group[m], now), before));
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
      const pre_moment pre_now = s.pre.moment_of(t_ms);
      const double strength = d.weight;
      const auto incoming = proj_->incoming(d.post);
      const std::uint32_t* group = incoming_group_.data() + incoming_start_[d.post];
      for (std::size_t m = 0; m < incoming.size(); ++m) {
        prefetch_weights(incoming, m);
        const std::uint64_t k = incoming[m];
        const double w = load(k);
        store(d.time, k, w,
              Rule::on_third_factor(p_, w, s.pre.at(group[m], pre_now), now, strength));
      }
      counters.updates += incoming.size();
    }
  }

  parameters_type p_;
  std::vector<partition_state> parts_;
  trace_table<n_post> post_;  // entries written only by their owner partition
  std::vector<std::size_t> third_factor_sources_;
  // Dendritic delays: per delay group the shift of its synapses' events
  // (2 f d), per postsynaptic neuron the largest shift of its synapses and
  // its traces of the spikes that reached all of them.
  std::vector<double> shift_;
  std::vector<double> max_shift_;
  trace_table<n_post> post_base_;

 public:
  void save_state(checkpoint_writer& w) const override {
    sync();  // (no postsynaptic spike waits in a checkpoint)
    save_weights(w);
    save_traces<n_pre>(
        w, proj_->groups(), [this](std::size_t g) -> const auto& {
          return parts_[group_partition(static_cast<std::uint32_t>(g))].pre;
        });
    save_traces<n_post>(
        w, proj_->post_size(), [this](std::size_t) -> const auto& { return post_; });
    if (dendritic()) save_waiting(w);
  }
  void load_state(checkpoint_reader& r) override {
    load_weights(r);
    load_traces(r, parts_[0].pre, sim_->now(), "presynaptic traces");
    for (auto& s : parts_) {
      s.pre = parts_[0].pre;  // every partition's copy current
      s.group = no_group;     // the next arrival starts a delivery
      s.t_latest_ms = sim_->now().count();
      for (auto& h : s.history) h.clear();  // (saved after sync())
      s.history_size = 0;
      std::fill(s.history_count.begin(), s.history_count.end(), 0);
      std::fill(s.last_spike.begin(), s.last_spike.end(), -inf);
      std::fill(s.recent_ms.begin(), s.recent_ms.end(), -inf);
      s.lifted_anchor = std::numeric_limits<double>::quiet_NaN();
      s.arrival_moment = post_moment{inf};
    }
    load_traces(r, post_, sim_->now(), "postsynaptic traces");
    if (dendritic()) load_waiting(r);
  }

 private:
  // Dendritic delays in checkpoints (saved after sync()): the traces of the
  // spikes that reached all their synapses, then per postsynaptic neuron
  // the number of its spikes still on their way, then those spikes (time
  // and the traces before it).
  void save_waiting(checkpoint_writer& w) const {
    save_traces<n_post>(
        w, proj_->post_size(), [this](std::size_t) -> const auto& { return post_base_; });
    std::vector<std::uint64_t> counts(proj_->post_size());
    std::vector<double> records;
    for (std::uint32_t j = 0; j < proj_->post_size(); ++j) {
      const auto& h = parts_[waiting_part(j)].waiting[j];
      counts[j] = h.size();
      for (const auto& x : h) {
        records.push_back(x.t_ms);
        records.insert(records.end(), x.before.begin(), x.before.end());
      }
    }
    w.array(std::span<const std::uint64_t>(counts));
    w.array(std::span<const double>(records));
  }
  // The partition whose list holds neuron j's spikes (its owner's; 0 for a
  // neuron of another process, whose list stays empty).
  std::size_t waiting_part(std::uint32_t j) const {
    const std::size_t p = sim_->owner(proj_->post_population(), j);
    return p < parts_.size() ? p : 0;
  }
  void load_waiting(checkpoint_reader& r) {
    const double now = sim_->now().count();
    load_traces(r, post_base_, sim_->now(), "postsynaptic traces of arrived spikes");
    std::vector<std::uint64_t> counts;
    r.array(counts, proj_->post_size(), "postsynaptic spikes on their way");
    std::uint64_t total = 0;
    for (const auto c : counts) total += c;
    std::vector<double> records;
    const std::string field = "times and traces of postsynaptic spikes on their way";
    r.array(records, total * (n_post + 1), field);
    std::size_t at = 0;
    for (auto& s : parts_) {
      for (auto& h : s.waiting) h.clear();
      s.waiting_size = 0;
      std::fill(s.reached_ms.begin(), s.reached_ms.end(), now);
    }
    for (std::uint32_t j = 0; j < proj_->post_size(); ++j) {
      auto& s = parts_[waiting_part(j)];
      double previous = post_base_.raw(j).t_ms;
      for (std::uint64_t i = 0; i < counts[j]; ++i) {
        post_record x{records[at], {}};
        for (std::size_t v = 0; v < n_post; ++v) x.before[v] = records[at + 1 + v];
        at += n_post + 1;
        bool finite = std::isfinite(x.t_ms);
        for (const double v : x.before) finite = finite && std::isfinite(v);
        if (!finite || x.t_ms > now || x.t_ms < previous)
          throw file_error(fmt::format(
              "{}: checkpoint field '{}': spike {} of neuron {} at {} ms (the checkpoint is at "
              "{} ms, the neuron's previous spike at {} ms) or with a trace that is not finite",
              r.source(), field, i, j, x.t_ms, now, previous));
        previous = x.t_ms;
        s.waiting[j].push_back(x);
        ++s.waiting_size;
      }
    }
    for (std::size_t p = 0; p < parts_.size(); ++p)
      parts_[p].waiting_limit = parts_[p].waiting_size + waiting_allowance(p);
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
      // (and the projection's own, which the registry takes: Delays above)
      throw parameter_error(std::string(R::name) + ": unknown parameter '" + name +
                            "'; expected one of: " + known + ", dendritic_delay_fraction");
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
                                                               const parameter_list&, double);
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
        [](simulator& sim, std::size_t id, const parameter_list& v,
           double dendritic_fraction) -> std::unique_ptr<plastic_projection_base> {
          return std::make_unique<plastic_projection<R>>(sim, id, rule_parameters<R>(v),
                                                         dendritic_fraction);
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
  // parameter (naming it and what was expected). Besides the rule's own
  // parameters, every rule takes `dendritic_delay_fraction` (in [0, 1],
  // default 0: the projection's, Delays above).
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
