#pragma once
// A population: neurons of one model with shared parameters.
//
// `population` is the type-erased interface the simulator works with (one
// virtual call per delivery group or per spike, never per synapse);
// `model_population<M>` implements it for any type satisfying neuron_model,
// with the model's functions statically dispatched inside the loops.
//
// Lazy update invariant: neuron i's state is valid at time t_last(i). It is
// brought forward (closed form) only when an event reaches it. After every
// input, the model predicts its next threshold crossing. At most one crossing
// event per neuron is live in the queue, at time queued(i) <= predicted(i):
//   - a prediction earlier than the live event replaces it: the version is
//     bumped (the old event becomes stale: lazy cancellation) and a new event
//     is scheduled;
//   - a prediction at or after the live event keeps it (no queue traffic);
//     when it pops early, or the prediction was provisional, the neuron is
//     re-examined instead of fired.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "apical/engine/checkpoint.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/engine/random.hpp"
#include "apical/engine/scheduler.hpp"
#include "apical/engine/window.hpp"

namespace apical {

class population {
 public:
  population(std::string name, std::size_t size) : name_(std::move(name)), size_(size) {}
  virtual ~population() = default;
  population(const population&) = delete;
  population& operator=(const population&) = delete;

  const std::string& name() const { return name_; }
  std::size_t size() const { return size_; }
  std::uint16_t id() const { return id_; }
  void set_id(std::uint16_t id) { id_ = id; }

  virtual std::string_view model_name() const = 0;
  virtual int compartments() const = 0;

  // Puts every neuron in its initial state at time 0 (drawn from the stream
  // derive_seed(seed, stream::initial_state, id)) and forgets predictions.
  virtual void reset(std::uint64_t seed) = 0;
  // Schedules the first threshold crossing of neurons [begin, end).
  virtual void predict(std::uint32_t begin, std::uint32_t end, double t_ms, scheduler& s) = 0;
  // Applies one delivery group: inputs of weights[k] into neuron targets[k].
  virtual void deliver(double t_ms, int compartment, std::span<const std::uint32_t> targets,
                       std::span<const float> weights, scheduler& s) = 0;
  // The same, with one weight for every target.
  virtual void deliver(double t_ms, int compartment, std::span<const std::uint32_t> targets,
                       float weight, scheduler& s) = 0;
  // A crossing event for neuron i: if `version` is current and the neuron's
  // certain prediction is t_ms, it fires (is reset), its next crossing is
  // predicted, and true is returned; otherwise (stale, early or provisional)
  // false is returned after re-examining the neuron if needed.
  virtual bool fire_if_current(std::uint32_t i, std::uint32_t version, double t_ms,
                               scheduler& s) = 0;
  // Windowed delivery (window.hpp): runs each neuron of in.active from its
  // state up to in.t_end, merging its input slice with its Poisson inputs
  // and firing at its crossings, exactly as the event loop would. Spikes are
  // appended to `out` (per neuron in time order); crossing predictions at or
  // after in.t_end are scheduled on `s` as in the event loop.
  // Populations that do not implement it (windowed() false) keep a network
  // on the ordered path.
  virtual void run_window(const window_inputs&, scheduler&, std::vector<fired_spike>&,
                          window_counts&) {
    throw parameter_error("population '" + name_ + "' (" + std::string(model_name()) +
                          ") cannot run on the windowed delivery path");
  }
  virtual bool windowed() const { return false; }

  // Checkpoints (simulator::save): every neuron's state and prediction
  // bookkeeping. Populations that do not implement them (checkpointable()
  // false) make simulator::save throw, naming the population.
  virtual bool checkpointable() const { return false; }
  virtual void save(checkpoint_writer&) const {
    throw parameter_error("population '" + name_ + "' (" + std::string(model_name()) +
                          ") cannot be checkpointed");
  }
  virtual void load(checkpoint_reader&) {
    throw parameter_error("population '" + name_ + "' (" + std::string(model_name()) +
                          ") cannot be restored from a checkpoint");
  }

  // Named access for recorders and configs. State values are computed at
  // time t_ms without changing the neuron (a copy is advanced).
  virtual std::vector<std::string_view> state_names() const = 0;
  virtual double state_value(std::uint32_t i, std::size_t variable, double t_ms) const = 0;
  virtual std::vector<std::string_view> parameter_names() const = 0;
  virtual double parameter(std::string_view name) const = 0;
  // Sets parameters by name, then re-derives the constants once (so values
  // that constrain each other can change together); throws parameter_error
  // for an unknown name or an invalid value, and then keeps the old values.
  virtual void set_parameters(std::span<const std::pair<std::string, double>> values) = 0;
  void set_parameter(std::string_view name, double value) {
    const std::pair<std::string, double> one{std::string(name), value};
    set_parameters({&one, 1});
  }

  std::size_t state_index(std::string_view name) const {
    const auto names = state_names();
    for (std::size_t k = 0; k < names.size(); ++k)
      if (names[k] == name) return k;
    std::string known;
    for (auto n : names) known += (known.empty() ? "" : ", ") + std::string(n);
    throw parameter_error("population '" + name_ + "' (" + std::string(model_name()) +
                          ") has no state variable '" + std::string(name) + "'; known: " + known);
  }

 private:
  std::string name_;
  std::size_t size_;
  std::uint16_t id_ = 0;
};

// Looks a field up by name; throws parameter_error listing the known names.
template <class Struct>
const field<Struct>& find_field(std::span<const field<Struct>> fields, std::string_view name,
                                std::string_view context) {
  for (const auto& f : fields)
    if (f.name == name) return f;
  std::string known;
  for (const auto& f : fields) known += (known.empty() ? "" : ", ") + std::string(f.name);
  throw parameter_error(std::string(context) + ": unknown parameter '" + std::string(name) +
                        "'; known: " + known);
}

template <neuron_model M>
class model_population final : public population {
 public:
  using parameters = typename M::parameters;
  using state = typename M::state;
  using derived = typename M::derived;

  model_population(std::string name, std::size_t size, parameters p = {})
      : population(std::move(name), size), params_(p), derived_(M::derive(p)) {
    slots_.resize(size);
  }

  std::string_view model_name() const override { return M::name; }
  int compartments() const override { return M::compartments; }

  const parameters& params() const { return params_; }
  const derived& constants() const { return derived_; }
  void set_params(const parameters& p) {
    derived_ = M::derive(p);  // validates before anything changes
    params_ = p;
  }
  state& state_of(std::uint32_t i) { return slots_[i].s; }
  const state& state_of(std::uint32_t i) const { return slots_[i].s; }

  void reset(std::uint64_t seed) override {
    rng r(derive_seed(seed, stream::initial_state, id()));
    for (std::uint32_t i = 0; i < size(); ++i) {
      if constexpr (requires { M::init(slots_[i].s, derived_, r, i); })
        M::init(slots_[i].s, derived_, r, i);
      else
        M::init(slots_[i].s, derived_, r);
    }
    for (auto& n : slots_) {
      n.t_last = 0.0;
      n.predicted = inf;
      n.queued = inf;
      n.slack = -1.0f;
      ++n.version;  // events of a previous run become stale
    }
  }

  void predict(std::uint32_t begin, std::uint32_t end, double t_ms, scheduler& s) override {
    for (std::uint32_t i = begin; i < end; ++i) repredict(i, t_ms, s);
  }

  void deliver(double t_ms, int compartment, std::span<const std::uint32_t> targets,
               std::span<const float> weights, scheduler& s) override {
    deliver_each(t_ms, compartment, targets, s, [&weights](std::size_t k) { return weights[k]; });
  }

  void deliver(double t_ms, int compartment, std::span<const std::uint32_t> targets, float weight,
               scheduler& s) override {
    deliver_each(t_ms, compartment, targets, s, [weight](std::size_t) { return weight; });
  }

  bool fire_if_current(std::uint32_t i, std::uint32_t version, double t_ms, scheduler& s) override {
    if (version != slots_[i].version) return false;
    slots_[i].queued = inf;
    if (slots_[i].predicted > t_ms) {
      requeue_before(i, -inf, s);  // (an earlier prediction's event)
      return false;
    }
    bring_to(i, t_ms);
    if (slots_[i].predicted != t_ms || !certain(i)) {
      repredict(i, t_ms, s);  // early or provisional: look again from here
      return false;
    }
    M::fire(slots_[i].s, derived_, t_ms);
    repredict(i, t_ms, s);
    return true;
  }

  bool windowed() const override { return true; }
  void run_window(const window_inputs& in, scheduler& s, std::vector<fired_spike>& out,
                  window_counts& counts) override {
    if constexpr (requires(window_neuron<state>& n) {
                    M::window_prepare(derived_, in);
                    M::run_window(derived_, in, std::size_t{}, n, s, out, counts);
                  }) {
      // The model's own loop, where it applies (neuron_model.hpp).
      if (M::window_prepare(derived_, in)) {
        for (std::size_t k = 0; k < in.active.size(); ++k) {
          const std::uint32_t i = in.active[k];
          window_neuron<state> n{i,
                                 slots_[i].s,
                                 slots_[i].t_last,
                                 slots_[i].predicted,
                                 slots_[i].queued,
                                 slots_[i].slack,
                                 slots_[i].version};
          M::run_window(derived_, in, k, n, s, out, counts);
        }
        return;
      }
    }
    const double t_end = in.t_end;
    const std::size_t drives = in.drives.size();
    const drive_view* drive = in.drives.data();
    for (std::size_t k = 0; k < in.active.size(); ++k) {
      const std::uint32_t i = in.active[k];
      std::uint32_t e = in.begin[k];
      const std::uint32_t e_end = in.begin[k + 1];
      for (;;) {
        // The neuron's next input: its slice first, then its Poisson
        // inputs in order, at equal times (event.hpp's order).
        double t_in = e < e_end ? in.deliveries[in.delivery_of(e)].time_ms : inf;
        std::size_t from = drives;  // drives: the slice
        for (std::size_t d = 0; d < drives; ++d) {
          const double t_d = drive[d].next_ms[i];
          if (t_d < t_in) t_in = t_d, from = d;
        }
        // A crossing strictly before it comes first (inputs of an instant
        // precede its threshold check).
        const double tq = slots_[i].queued;
        if (tq < t_in) {
          if (!(tq < t_end)) break;
          slots_[i].queued = inf;
          if (slots_[i].predicted > tq) {
            ++counts.reexamined;
            requeue_before(i, t_end, s);
            continue;
          }
          bring_to(i, tq);
          if (slots_[i].predicted != tq || !certain(i)) {
            ++counts.reexamined;
            repredict_before(i, tq, t_end, s);
            continue;
          }
          M::fire(slots_[i].s, derived_, tq);
          out.push_back({tq, i});
          if (in.revise) in.revise(k, tq, tq);
          repredict_before(i, tq, t_end, s);
          continue;
        }
        if (!(t_in < t_end)) break;
        bring_to(i, t_in);
        if (from == drives) {
          const window_delivery& dv = in.deliveries[in.delivery_of(e)];
          const auto w = static_cast<double>(in.weight_of(e));
          M::receive(slots_[i].s, derived_, dv.compartment, w, t_in);
          ++e;
          after_input(i, dv.compartment, w, t_in, t_end, s);
        } else {
          const drive_view& dr = drive[from];
          const auto w = static_cast<double>(dr.weight);
          M::receive(slots_[i].s, derived_, dr.compartment, w, t_in);
          ++counts.drive_inputs;
          const double next = dr.draw_after(i, t_in);
          dr.next_ms[i] = next;
          if (dr.sparse && next < inf && !(next < t_end))
            s.schedule(event{time_ms{next}, i, 0, dr.event_target, event_kind::delivery});
          after_input(i, dr.compartment, w, t_in, t_end, s);
        }
      }
    }
  }

  bool checkpointable() const override { return std::is_trivially_copyable_v<state>; }
  void save(checkpoint_writer& w) const override {
    if constexpr (std::is_trivially_copyable_v<state>) {
      // One array per field, as the format has them.
      const auto each = [&](auto field) {
        std::vector<std::remove_cvref_t<decltype(slots_[0].*field)>> values;
        values.reserve(slots_.size());
        for (const auto& n : slots_) values.push_back(n.*field);
        w.array(std::span<const typename decltype(values)::value_type>(values));
      };
      each(&slot::s);
      each(&slot::t_last);
      each(&slot::predicted);
      each(&slot::queued);
      each(&slot::slack);
      each(&slot::version);
    } else {
      population::save(w);
    }
  }
  void load(checkpoint_reader& r) override {
    if constexpr (std::is_trivially_copyable_v<state>) {
      const std::string f = "population '" + name() + "' ";
      // Every field is read before any neuron changes.
      std::vector<state> states;
      std::vector<double> t_last, predicted, queued;
      std::vector<float> slack;
      std::vector<std::uint32_t> version;
      r.array(states, size(), f + "states");
      r.array(t_last, size(), f + "t_last");
      r.array(predicted, size(), f + "predicted");
      r.array(queued, size(), f + "queued");
      r.array(slack, size(), f + "slack");
      r.array(version, size(), f + "version");
      for (std::size_t i = 0; i < slots_.size(); ++i)
        slots_[i] = slot{{states[i], t_last[i], predicted[i], queued[i], version[i], slack[i]}};
    } else {
      population::load(r);
    }
  }

  std::vector<std::string_view> state_names() const override {
    std::vector<std::string_view> names;
    for (const auto& f : M::state_fields()) names.push_back(f.name);
    return names;
  }
  double state_value(std::uint32_t i, std::size_t variable, double t_ms) const override {
    state copy = slots_[i].s;
    if (t_ms > slots_[i].t_last) M::advance(copy, derived_, slots_[i].t_last, t_ms);
    if constexpr (requires { M::observe(copy, derived_, t_ms); })
      M::observe(copy, derived_, std::max(t_ms, slots_[i].t_last));
    return copy.*(M::state_fields()[variable].member);
  }
  std::vector<std::string_view> parameter_names() const override {
    std::vector<std::string_view> names;
    for (const auto& f : M::parameter_fields()) names.push_back(f.name);
    return names;
  }
  double parameter(std::string_view name) const override {
    return params_.*(find_field(M::parameter_fields(), name, M::name).member);
  }
  void set_parameters(std::span<const std::pair<std::string, double>> values) override {
    parameters p = params_;
    for (const auto& [name, value] : values)
      p.*(find_field(M::parameter_fields(), name, M::name).member) = value;
    set_params(p);
  }

 private:
  static constexpr double inf = std::numeric_limits<double>::infinity();

  // Steps 2-3 of the duty cycle for one delivery group (the synapse loop).
  template <class WeightOf>
  void deliver_each(double t_ms, int compartment, std::span<const std::uint32_t> targets,
                    scheduler& s, WeightOf weight_of) {
    if constexpr (requires(state & st, const derived& d) {
                    M::advance_at(st, d, t_ms, M::at_time(d, t_ms));
                    M::receive_at(st, d, compartment, 0.0, M::at_time(d, t_ms));
                  }) {
      const auto at = M::at_time(derived_, t_ms);
      for (std::size_t k = 0; k < targets.size(); ++k) {
        const std::uint32_t i = targets[k];
        if (slots_[i].t_last < t_ms) {
          M::advance_at(slots_[i].s, derived_, slots_[i].t_last, at);
          slots_[i].t_last = t_ms;
        }
        const auto w = static_cast<double>(weight_of(k));
        M::receive_at(slots_[i].s, derived_, compartment, w, at);
        if (!input_spends_slack(i, compartment, w)) repredict_at(i, at, s);
      }
      return;
    }
    for (std::size_t k = 0; k < targets.size(); ++k) {
      const std::uint32_t i = targets[k];
      bring_to(i, t_ms);
      const auto w = static_cast<double>(weight_of(k));
      M::receive(slots_[i].s, derived_, compartment, w, t_ms);
      after_input(i, compartment, w, t_ms, -inf, s);
    }
  }

  void bring_to(std::uint32_t i, double t_ms) {
    if (slots_[i].t_last < t_ms) {
      M::advance(slots_[i].s, derived_, slots_[i].t_last, t_ms);
      slots_[i].t_last = t_ms;
    }
  }
  static spike_prediction predict(const state& st, const derived& d, double t_ms) {
    if constexpr (requires { M::predict(st, d, t_ms); })
      return M::predict(st, d, t_ms);
    else
      return {M::next_spike(st, d, t_ms), true};
  }
  void repredict(std::uint32_t i, double t_ms, scheduler& s) { repredict_before(i, t_ms, -inf, s); }

  // Whether a finite prediction is an exact crossing (not a provisional
  // time).
  bool certain(std::uint32_t i) const { return slots_[i].slack < 0; }
  // x >= 0 rounded down to a float (>= 0): a float above x is positive, and
  // the next float below it has the bit pattern one less. Without a
  // branch: the rounding's direction is as good as random, and this runs
  // for nearly every input.
  static float float_below(double x) {
    const auto f = static_cast<float>(x);
    const auto up = static_cast<std::uint32_t>(static_cast<double>(f) > x);
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(f) - up);
  }

  // After an input into neuron i at t_ms: the prediction made again, unless
  // it stands (neuron_model.hpp's raise_bound): a lower bound of the
  // crossing time that the inputs since cannot have undone. Then the input
  // only uses up the prediction's slack.
  void after_input(std::uint32_t i, int compartment, double weight, double t_ms, double t_end,
                   scheduler& s) {
    if (!input_spends_slack(i, compartment, weight)) repredict_before(i, t_ms, t_end, s);
  }
  // Whether the prediction stands after that input (which then spends its
  // slack), or must be made again.
  bool input_spends_slack(std::uint32_t i, [[maybe_unused]] int compartment,
                          [[maybe_unused]] double weight) {
    if constexpr (requires { M::raise_bound(derived_, compartment, weight); }) {
      auto& n = slots_[i];
      const double r = M::raise_bound(derived_, compartment, weight);
      if (r <= n.slack) {  // (never for a certain crossing: slack < 0)
        n.slack = float_below(static_cast<double>(n.slack) - r);
        return true;
      }
    }
    return false;
  }
  // repredict() on the ordered path right after an input at `at`
  // (deliver_each): the model's predict_at() where it has one.
  template <class InputTime>
  void repredict_at(std::uint32_t i, const InputTime& at, scheduler& s) {
    if constexpr (requires { M::predict_at(slots_[i].s, derived_, at); })
      set_prediction(i, M::predict_at(slots_[i].s, derived_, at), -inf, s);
    else
      repredict_before(i, at.t_ms, -inf, s);
  }

  // A crossing event that an earlier prediction left (later input moved
  // the prediction on): the latest prediction, made at the neuron's latest
  // input, still holds (no crossing before it), so the neuron waits for it
  // untouched, with no advance and no new prediction. As in
  // repredict_before, one before t_end is left to the window's loop.
  void requeue_before(std::uint32_t i, double t_end, scheduler& s) {
    auto& n = slots_[i];
    if (!(n.predicted < inf)) return;
    ++n.version;
    n.queued = n.predicted;
    if (!(n.predicted < t_end)) s.schedule_crossing(id(), i, n.version, n.predicted);
  }

  // repredict() inside a window that ends at t_end: a crossing before
  // t_end is left to the window's loop (no event), one at or after it is
  // scheduled (the event loop passes t_end = -inf: every one is).
  void repredict_before(std::uint32_t i, double t_ms, double t_end, scheduler& s) {
    set_prediction(i, predict(slots_[i].s, derived_, t_ms), t_end, s);
  }
  void set_prediction(std::uint32_t i, const spike_prediction& p, double t_end, scheduler& s) {
    slots_[i].predicted = p.time_ms;
    slots_[i].slack = p.certain && p.time_ms < inf ? -1.0f : float_below(std::max(p.margin, 0.0));
    if (p.time_ms < slots_[i].queued) {
      ++slots_[i].version;
      slots_[i].queued = p.time_ms;
      if (!(p.time_ms < t_end)) s.schedule_crossing(id(), i, slots_[i].version, p.time_ms);
    }
  }

  parameters params_;
  derived derived_;
  // A neuron's state and the bookkeeping of its prediction, together: an
  // input touches all of it (one cache line for the common models).
  struct slot_fields {
    state s;
    double t_last = 0.0;
    double predicted = inf;  // latest prediction
    double queued = inf;     // time of the live crossing event
    std::uint32_t version = 0;
    // predicted is an exact crossing (< 0), or a lower bound of the crossing
    // time (a provisional time, or never) that stands while inputs raise
    // V - V_th by at most this much (see after_input).
    float slack = -1.0f;
  };
  struct alignas(sizeof(slot_fields) <= 64 ? 64 : alignof(slot_fields)) slot : slot_fields {};
  std::vector<slot> slots_;
};

}  // namespace apical
