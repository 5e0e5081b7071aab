#pragma once
// Pieces shared by the leaky integrate-and-fire models: parameter checks and
// the closed-form response of a leaky membrane to an exponentially decaying
// drive.
#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/exp_sum.hpp"
#include "apical/engine/neuron_model.hpp"

namespace apical::models {

inline constexpr double inf = std::numeric_limits<double>::infinity();

inline void require(bool ok, std::string_view model, std::string_view field, double value,
                    std::string_view expected) {
  if (!ok)
    throw parameter_error(std::string(model) + ": parameter '" + std::string(field) + "' " +
                          std::string(expected) + ", got " + std::to_string(value));
}

// The checks every integrate-and-fire model's parameters share. First, each
// of Model's parameters is finite:
template <class Model>
void require_finite(const typename Model::parameters& p) {
  for (const auto& f : Model::parameter_fields())
    require(std::isfinite(p.*f.member), Model::name, f.name, p.*f.member, "must be finite");
}
// then, after the model's own checks, the refractory period is >= 0, the
// reset lies below threshold and the initial potentials' range is ordered.
template <class Parameters>
void require_reset_and_start(std::string_view model, const Parameters& p) {
  require(p.t_ref_ms >= 0, model, "t_ref_ms", p.t_ref_ms, "must be >= 0");
  require(p.v_reset_mv < p.v_th_mv, model, "v_reset_mv", p.v_reset_mv,
          "must be below v_th_mv (" + std::to_string(p.v_th_mv) + ")");
  require(p.v_init_min_mv <= p.v_init_max_mv, model, "v_init_min_mv", p.v_init_min_mv,
          "must be <= v_init_max_mv");
}

// The fields of a parameter or state struct Base followed by `extra`, as
// fields of Derived, a struct that extends Base.
template <class Derived, class Base>
std::vector<field<Derived>> extended_fields(std::span<const field<Base>> base,
                                            std::initializer_list<field<Derived>> extra) {
  std::vector<field<Derived>> out;
  for (const auto& f : base) out.push_back({f.name, f.member, f.unit, f.meaning});
  out.insert(out.end(), extra);
  return out;
}

// An injected current that is constant between inputs (PyNN's current
// sources; the models lif_exp_injected and lif_cond_exp_injected): inputs
// into compartments 1, 2 and 3 *set* the three parts hi, mid, lo of its
// amplitude, which is
// (hi + mid) + lo. Synaptic weights are floats, so one input cannot carry a
// double; x is sent as hi = float(x), mid = float(x - hi), lo = x - hi -
// mid (a float too: 24 + 24 bits leave at most 5), which sum back to x
// exactly. Setting, not adding, keeps the amplitude exact however many
// changes came before, and makes the three inputs of one change independent
// of the order in which they arrive.
inline constexpr int injection_first_compartment = 1;
inline constexpr int injection_parts = 3;

// Sets the part that `compartment` (1, 2 or 3) addresses.
inline void set_injection_part(int compartment, double weight, double& hi, double& mid,
                               double& lo) {
  (compartment == injection_first_compartment       ? hi
   : compartment == injection_first_compartment + 1 ? mid
                                                    : lo) = weight;
}

inline double injected(double hi, double mid, double lo) {
  return (hi + mid) + lo;
}

// The three weights that set an injected current x: injected() of them is x
// for every finite x within float's range down to about 1e-30 (below, lo
// may fall under float's normal range and lose bits).
inline std::array<float, injection_parts> injection_weights(double x) {
  const auto hi = static_cast<float>(x);
  const auto mid = static_cast<float>(x - hi);
  return {hi, mid, static_cast<float>((x - hi) - mid)};
}

// The initial V of a neuron: v_init_min_mv, or drawn uniformly up to
// v_init_max_mv.
template <class Parameters>
double initial_v(const Parameters& p, rng& r) {
  return p.v_init_min_mv == p.v_init_max_mv ? p.v_init_min_mv
                                            : r.uniform(p.v_init_min_mv, p.v_init_max_mv);
}

// next_spike() for a model whose predict() may be provisional: predictions
// chained until one is certain (at most a million; +infinity after that).
template <class Model>
double chained_next_spike(const typename Model::state& s, const typename Model::derived& d,
                          double t_ms) {
  typename Model::state c = s;
  for (int k = 0; k < 1'000'000; ++k) {
    const spike_prediction next = Model::predict(c, d, t_ms);
    if (next.certain) return next.time_ms;
    Model::advance(c, d, t_ms, next.time_ms);
    t_ms = next.time_ms;
  }
  return inf;
}

// Membrane response at time dt to a unit drive x(s) = exp(-s / tau_x) under
// tau_m v' = -v + x, v(0) = 0:
//   k(dt) = tau_x / (tau_x - tau_m) * (exp(-dt/tau_x) - exp(-dt/tau_m)),
// written with expm1 so it stays accurate when tau_x is close to tau_m.
// Precondition: tau_x != tau_m (the models validate this).
inline double drive_kernel(double tau_x, double tau_m, double dt) {
  return tau_x / (tau_x - tau_m) * std::exp(-dt / tau_m) * std::expm1(dt / tau_m - dt / tau_x);
}

// The same from exponentials already computed (e_x = exp(-dt/tau_x), e_m =
// exp(-dt/tau_m)) and gain = tau_x / (tau_x - tau_m): the plain difference,
// unless the time constants are so close (`close`) that it would cancel.
inline double drive_kernel(double e_x, double e_m, double gain, bool close, double tau_x,
                           double tau_m, double dt) {
  return close ? drive_kernel(tau_x, tau_m, dt) : gain * (e_x - e_m);
}

// The coefficient of exp(-s/tau_x) in the membrane trajectory contributed
// by a drive of initial value x0.
inline double drive_amplitude(double x0, double tau_x, double tau_m) {
  return x0 * tau_x / (tau_x - tau_m);
}

// The prediction for a trajectory f (V - V_th from time t0 on) that is
// searched over [0, horizon] only: exact there, provisional (t0 + horizon)
// beyond. Two bounds decide most cases without a search: positive terms are
// largest at 0 and negative ones smallest at the horizon, whose decay
// factor decay_of(tau) the model precomputes.
template <class DecayOf>
spike_prediction predict_within(const exp_sum& f, double t0, double horizon_ms, DecayOf decay_of) {
  double ever = f.constant, soon = f.constant;  // upper bounds on [0, inf) and [0, horizon]
  for (std::size_t k = 0; k < f.terms; ++k) {
    const double a = f.amplitude[k];
    if (a > 0) {
      ever += a;
      soon += a;
    } else {
      soon += a * decay_of(f.tau_ms[k]);
    }
  }
  if (ever < 0) return {inf, true, -ever};
  if (soon < 0) return {t0 + horizon_ms, false, -soon};
  const double x = first_crossing(f, 1e-10, horizon_ms);
  return x < inf ? spike_prediction{t0 + x, true} : spike_prediction{t0 + horizon_ms, false};
}

// For a trajectory f that is a polynomial in x = exp(-s / tau)
// (exp_polynomial) and stays negative over [0, horizon]: never (certain,
// with the bound's distance below threshold as its margin) when a bound
// shows it stays negative for ever, else provisional.
inline spike_prediction beyond_horizon(const exp_polynomial& f, double t0, double horizon_ms) {
  double ever = f.coef[0];  // upper bound on x in [0, 1]: positive terms at x = 1
  for (std::size_t j = 1; j <= f.degree; ++j) ever += std::max(f.coef[j], 0.0);
  return ever < 0 ? spike_prediction{inf, true, -ever} : spike_prediction{t0 + horizon_ms, false};
}

// The prediction for such a trajectory searched over the window
// [x_horizon, 1], x_horizon = exp(-horizon / tau), given its Bernstein
// coefficients b there: without an exponential.
inline spike_prediction predict_within(const exp_polynomial& f, double t0, double horizon_ms,
                                       double x_horizon, const bernstein_coefficients& b) {
  const double x = last_nonnegative(f, x_horizon, b, 1e-10 / f.tau_ms);
  if (x >= 1) return {t0, true};
  if (x > 0) return {t0 - f.tau_ms * std::log(x), true};
  return beyond_horizon(f, t0, horizon_ms);
}

}  // namespace apical::models
