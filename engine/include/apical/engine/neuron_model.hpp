#pragma once
// The neuron model concept: what a model must provide to run in apical.
//
// A model is a struct of static functions and three nested types, following
// the split of NEST models:
//   parameters  what the user sets (per population), with a field table;
//   derived     constants computed once from the parameters (and where they
//               are validated): propagators, inverse time constants, ...;
//   state       the per-neuron dynamic variables, with a field table.
//
// The engine advances each neuron lazily: only when an event reaches it. All
// functions receive absolute times in ms. Between events the dynamics must be
// solved in closed form (or exactly enough that the neuron does not depend on
// how often it is advanced).
//
//   advance(s, d, from_ms, to_ms)  bring the state from `from_ms` to `to_ms`
//                                  with no input in between (to >= from).
//   receive(s, d, compartment, weight, t_ms)
//                                  apply an instantaneous input of `weight`
//                                  into `compartment` at the current time.
//   next_spike(s, d, t_ms)         the time >= t_ms at which, without further
//                                  input, the neuron will cross threshold;
//                                  +infinity if never. Must not miss a
//                                  crossing; see exp_sum.hpp for a root
//                                  search that cannot.
//   fire(s, d, t_ms)               the neuron spikes now: reset, start the
//                                  refractory period.
//   init(s, d, rng)                the initial state of one neuron; called in
//                                  neuron order. A model whose neurons differ
//                                  by index (a spike-time source replaying
//                                  channel i) may take the index instead:
//                                  init(s, d, rng, neuron).
//
// Refractoriness lives in the state (e.g. the absolute end time of the
// refractory period), so the engine needs no knowledge of it.
//
// Optional, for speed: predict(s, d, t_ms) -> spike_prediction. A model may
// return a *provisional* time instead of the exact crossing: a time up to
// which it has proven there is no crossing (certain = false). The engine
// then re-examines the neuron at that time (advance, predict again) instead
// of firing it. (A prediction holds until the neuron's next input: an
// event left by an earlier prediction only queues the neuron again at the
// latest one.) Searching only a short horizon is much cheaper than finding
// a crossing that later input will move anyway; spike times stay exact.
// Without predict(), next_spike() is used and every prediction is certain.
//
// Optional, for speed: raise_bound(d, compartment, weight) -> double >= 0,
// the most an input of that weight into that compartment can raise
// V - V_th at any later time (0: it cannot raise it; +infinity: no bound).
// A provisional prediction, or a certain "never", stays a valid lower bound
// of the crossing time after an input that cannot raise V; with a
// prediction's margin m (spike_prediction::margin: V - V_th stays below -m
// until the predicted time, or for ever), it stays valid while the inputs
// since it raise V by at most m in all. The engine then applies such inputs
// (advance, receive) without predicting again, and predicts once the
// margin is spent or the predicted time comes.
//
// Optional, for speed: at_time(d, t_ms), advance_at(s, d, t_last, at) and
// receive_at(s, d, compartment, weight, at). One delivery brings inputs at
// one time t to many neurons; at_time() computes once what advance() and
// receive() compute from t and the parameters alone (an `at` value), and
// advance_at / receive_at do what advance(s, d, t_last, t) and
// receive(s, d, c, w, t) do, with the same arithmetic, bit for bit. With
// them, predict_at(s, d, at) may give predict(s, d, t) right after such an
// input, bit for bit, from what at_time() computed (lif_exp: the decays it
// would otherwise compute with an exponential).
//
// Optional: observe(s, d, t_ms), called on a copy of the state (advanced to
// t_ms) before a recorder reads it: a model that keeps its state in another
// form than the variables it shows (lif_delta keeps its trajectory) fills
// them in here.
//
// Optional, for speed: window_prepare(d, inputs) and run_window(d, inputs,
// k, neuron, scheduler, out, counts) (window.hpp). On the windowed delivery
// path, a population whose model has them and whose window_prepare() says
// yes (it may fill inputs.delivery_scratch, a few doubles per delivery, for
// the window; run_window() may use inputs.neuron_scratch for one neuron)
// lets run_window() take neuron inputs.active[k] through the window
// instead of the engine's loop of advance / receive / predict / fire. It
// must do exactly what that loop does (the same arithmetic on the state,
// the same spikes, the same bookkeeping left in `neuron`), only faster; the
// tests compare it with the event loop bit for bit.
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "apical/engine/random.hpp"

namespace apical {

struct spike_prediction {
  double time_ms;
  bool certain = true;
  // For a provisional time or a certain +infinity (never): how much later
  // input may raise V - V_th, anywhere ahead, before the prediction has to
  // be made again (models with raise_bound(); see above). Negative: none
  // known.
  double margin = -1;
};

// One named, documented double field of a parameter or state struct.
template <class Struct>
struct field {
  std::string_view name;
  double Struct::*member;
  std::string_view unit;
  std::string_view meaning;
};

template <class M>
concept neuron_model = requires(typename M::state& s, const typename M::state& cs,
                                const typename M::parameters& p, const typename M::derived& d,
                                double t, double w, int compartment, rng& r) {
  { M::name } -> std::convertible_to<std::string_view>;
  { M::compartments } -> std::convertible_to<int>;
  { M::parameter_fields() } -> std::convertible_to<std::span<const field<typename M::parameters>>>;
  { M::state_fields() } -> std::convertible_to<std::span<const field<typename M::state>>>;
  { M::derive(p) } -> std::same_as<typename M::derived>;
  requires requires {
    M::init(s, d, r);
  } || requires {
    M::init(s, d, r, std::uint32_t{});
  };
  M::advance(s, d, t, t);
  M::receive(s, d, compartment, w, t);
  { M::next_spike(cs, d, t) } -> std::convertible_to<double>;
  M::fire(s, d, t);
};

}  // namespace apical
