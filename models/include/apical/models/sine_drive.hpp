#pragma once
// A sinusoidal injected current on a leaky membrane (PyNN's ACSource; the
// models lif_exp_injected and lif_delta_injected), and the search for the
// first threshold crossing of the trajectory it makes.
//
// Under tau_m V' = E - V + S(t), S(t) = A sin(w (t - t_a) + phi), the
// membrane follows the particular solution
//   V_p(t) = B sin(w (t - t_a) + phi - theta),
//   B = A / sqrt(1 + (w tau_m)^2),  theta = atan(w tau_m),
// (tau_m V_p' + V_p = B sqrt(1 + (w tau_m)^2) sin(. + theta - theta) = S)
// plus the usual solution without it: a state V0 at t0 that the sine
// reaches at t0 becomes, s later,
//   V(t0 + s) = V_nosine(t0 + s) + V_p(t0 + s) - V_p(t0) e^{-s/tau_m},
// V_nosine the model's own closed form from V0 (exponentials and a
// constant). So V - V_th is f(s) = g(s) + B sin(w s + psi), with g a sum
// of exponentials and a constant (exp_sum) and psi the phase at t0.
//
// first_crossing(g, sine) finds the first s in [0, max_s] with f(s) >= 0
// by a search that cannot miss a crossing: it discards an interval [a, b]
// only when a rigorous bound shows f < 0 there. Every bound adds bounds of
// the two parts: each exponential term is monotone, so its extremes on
// [a, b] are at the ends, and the sinusoid's extremes on [a, b] are exact
// (B where its phase passes pi/2 + 2 pi k, else the larger end). The same
// holds for f' and f''. The interval is discarded when
//   - max g + max B sin < 0, or
//   - f' < 0 on it (f <= f(a) < 0), or
//   - f' > 0 or f'' > 0 on it (f increasing or below its chord) and
//     f(b) < 0, or
//   - f'' < 0 on it (concave) and the two tangents at a and b, which lie
//     above f, meet below zero; this bound is exact at both ends and its
//     error shrinks quadratically with b - a, so a sinusoid grazing the
//     threshold is settled after a few halvings, not after halving down to
//     the tolerance;
// and otherwise halved, left first. An interval on which f is increasing,
// convex or concave with f(a) < 0 <= f(b) holds exactly one crossing,
// found by safeguarded Newton: once the bracket or the step is below
// tolerance_ms, Newton's estimate from the last point (accurate to
// rounding: bench/pynn_ac_source.py finds spike times within 6e-14 ms of
// a 30-digit reference). An
// interval narrower than tolerance_ms without a certificate counts as a
// crossing when f(b) >= 0 (a touch within rounding of the threshold
// otherwise). The bounds are computed in double precision without
// directed rounding: rigorous up to a few roundings of f (~1e-14 mV).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <span>
#include <string_view>
#include <vector>

#include "apical/engine/exp_sum.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::models {

// B sin(omega s + psi), s >= 0 (omega in rad/ms, B >= 0).
struct sine_term {
  double amplitude = 0.0;
  double omega_per_ms = 0.0;
  double phase = 0.0;

  double operator()(double s) const { return amplitude * std::sin(omega_per_ms * s + phase); }
  double derivative(double s) const {
    return amplitude * omega_per_ms * std::cos(omega_per_ms * s + phase);
  }
};

// Whether [x1, x2] holds a point x0 + 2 pi k.
inline bool holds_phase(double x1, double x2, double x0) {
  constexpr double two_pi = 2.0 * std::numbers::pi;
  return x2 - x1 >= two_pi || x0 + two_pi * std::ceil((x1 - x0) / two_pi) <= x2;
}
// The largest value of sin over [x1, x2] (x1 <= x2), exactly: 1 when the
// interval holds a peak pi/2 + 2 pi k, else the larger end.
inline double max_sin(double x1, double x2) {
  return holds_phase(x1, x2, 0.5 * std::numbers::pi) ? 1.0 : std::max(std::sin(x1), std::sin(x2));
}
// The smallest: -1 at a trough -pi/2 + 2 pi k, else the smaller end.
inline double min_sin(double x1, double x2) {
  return holds_phase(x1, x2, -0.5 * std::numbers::pi) ? -1.0 : std::min(std::sin(x1), std::sin(x2));
}

// A sinusoidal current S(t) = A sin(2 pi f (t - t_a) + phi) on a membrane
// of time constant tau_m: its particular solution V_p (above).
struct sine_drive {
  double amplitude_mv = 0.0;   // B, >= 0
  double cycles_per_ms = 0.0;  // f / 1000
  double phase = 0.0;          // phi - theta (+ pi when A < 0), rad
  double start_ms = 0.0;       // t_a, where the phase is phi

  sine_drive() = default;
  sine_drive(double a_mv, double frequency_hz, double phase_deg, double origin_ms, double tau_m_ms)
      : cycles_per_ms(frequency_hz / 1000.0), start_ms(origin_ms) {
    const double w_tau = 2.0 * std::numbers::pi * cycles_per_ms * tau_m_ms;
    amplitude_mv = std::abs(a_mv) / std::sqrt(1.0 + w_tau * w_tau);
    phase = phase_deg * (std::numbers::pi / 180.0) - std::atan(w_tau) +
            (a_mv < 0 ? std::numbers::pi : 0.0);
  }

  // The phase of V_p at absolute time t, reduced to [0, 2 pi) + phase so
  // that long runs keep it accurate.
  double phase_at(double t_ms) const {
    const double cycles = cycles_per_ms * (t_ms - start_ms);
    return 2.0 * std::numbers::pi * (cycles - std::floor(cycles)) + phase;
  }
  double at(double t_ms) const { return amplitude_mv * std::sin(phase_at(t_ms)); }
  // V_p from t0 on, as a function of s = t - t0.
  sine_term from(double t0_ms) const {
    return {amplitude_mv, 2.0 * std::numbers::pi * cycles_per_ms, phase_at(t0_ms)};
  }
  // Adds to v (the state at from_ms, advanced to to_ms without the sine)
  // what the sine adds over that span.
  double added(double from_ms, double to_ms, double tau_m_ms) const {
    return at(to_ms) - at(from_ms) * std::exp(-(to_ms - from_ms) / tau_m_ms);
  }
};

// The parameters and state a model with an injected current and a
// sinusoid (lif_exp_injected, lif_delta_injected) adds to its base model.
struct injected_parameters {
  double i_inj_init_mv = 0.0;
  double ac_amplitude_mv = 0.0;
  double ac_frequency_hz = 0.0;
  double ac_phase_deg = 0.0;
  double ac_start_ms = 0.0;
  double ac_on_init = 0.0;
};
struct injected_state {
  double inj_hi_mv = 0.0, inj_mid_mv = 0.0, inj_lo_mv = 0.0;
  double ac_on = 0.0;
};

// Their fields, after those of the base model.
template <class Parameters, class Base>
std::vector<field<Parameters>> injected_parameter_fields(std::span<const field<Base>> base) {
  return extended_fields<Parameters>(
      base, {{"i_inj_init_mv", &Parameters::i_inj_init_mv, "mV", "injected current (R*I) at 0"},
             {"ac_amplitude_mv", &Parameters::ac_amplitude_mv, "mV", "sinusoid's amplitude (R*I)"},
             {"ac_frequency_hz", &Parameters::ac_frequency_hz, "Hz", "sinusoid's frequency"},
             {"ac_phase_deg", &Parameters::ac_phase_deg, "deg", "sinusoid's phase at ac_start_ms"},
             {"ac_start_ms", &Parameters::ac_start_ms, "ms", "sinusoid's phase origin"},
             {"ac_on_init", &Parameters::ac_on_init, "1", "sinusoid on at time 0 (0 or 1)"}});
}
template <class State, class Base>
std::vector<field<State>> injected_state_fields(std::span<const field<Base>> base) {
  return extended_fields<State>(
      base, {{"inj_hi_mv", &State::inj_hi_mv, "mV", "injected current (R*I), first part"},
             {"inj_mid_mv", &State::inj_mid_mv, "mV", "injected current, second part"},
             {"inj_lo_mv", &State::inj_lo_mv, "mV", "injected current, third part"},
             {"ac_on", &State::ac_on, "1", "sinusoid switched on (0 or 1)"}});
}

// The sinusoid of such a model's parameters, checked (model: its name),
// on a membrane of time constant tau_m_ms.
template <class Parameters>
sine_drive checked_sine(std::string_view model, const Parameters& p) {
  require(p.ac_frequency_hz >= 0, model, "ac_frequency_hz", p.ac_frequency_hz, "must be >= 0");
  require(p.ac_on_init == 0 || p.ac_on_init == 1, model, "ac_on_init", p.ac_on_init,
          "must be 0 or 1");
  return sine_drive(p.ac_amplitude_mv, p.ac_frequency_hz, p.ac_phase_deg, p.ac_start_ms,
                    p.tau_m_ms);
}

// The span a crossing search with the sinusoid covers at a time: horizon_ms,
// at most one period.
inline double sine_horizon(double horizon_ms, double frequency_hz) {
  return frequency_hz > 0 ? std::min(horizon_ms, 1000.0 / frequency_hz) : horizon_ms;
}

// The smallest s in [0, max_s] with g(s) + sine(s) >= 0 (see above), or
// +infinity when there is none there.
double first_crossing(const exp_sum& g, const sine_term& sine, double max_s,
                      double tolerance_ms = 1e-10);

// The prediction of a model whose V - V_th from t0 on is g + sine:
// certain within [0, horizon_ms]; beyond, never (certain) when g's
// constant, its positive terms and B stay below zero, else provisional.
inline spike_prediction predict_with_sine(const exp_sum& g, const sine_term& sine, double t0,
                                          double horizon_ms) {
  const double s = first_crossing(g, sine, horizon_ms);
  if (s < std::numeric_limits<double>::infinity()) return {t0 + s, true};
  double ever = g.constant + sine.amplitude;
  for (std::size_t k = 0; k < g.terms; ++k) ever += std::max(g.amplitude[k], 0.0);
  if (ever < 0) return {std::numeric_limits<double>::infinity(), true};
  return {t0 + horizon_ms, false};
}

}  // namespace apical::models
