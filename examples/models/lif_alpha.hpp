#pragma once
// lif_alpha: leaky integrate-and-fire neuron with alpha-shaped synaptic
// currents (an example of a user-defined model; docs/custom-models.md).
//
//   tau_m dV/dt = E_L - V + I_e + I          (currents in mV: R*I)
//   an input of weight w at t0 adds the current
//       w (t - t0)/tau_s e^{1 - (t - t0)/tau_s},
//   which rises from 0, peaks at w after tau_s, and decays. It is the
//   solution of two linear equations, which are the state:
//   tau_s dy/dt = -y,   tau_s dI/dt = -I + y,   input:  y <- y + e w.
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref (currents go on)
//
// Closed form over an input-free interval of length s, with V_inf = E_L + I_e
// and kappa = 1/tau_m - 1/tau_s (tau_s != tau_m):
//   y(s) = y0 e^{-s/tau_s},   I(s) = (I0 + y0 s/tau_s) e^{-s/tau_s},
//   V(s) = V_inf + a_m e^{-s/tau_m} + (b + c s) e^{-s/tau_s},
//   c = y0 / (tau_s tau_m kappa),
//   b = I0 / (tau_m kappa) - y0 / (tau_s tau_m kappa^2),
//   a_m = V0 - V_inf - b.
//
// Finding the next spike. V(s) - V_th contains s e^{-s/tau_s}, which is not
// an exponential, so the engine's first_crossing() (exp_sum.hpp) does not
// apply as is. first_crossing_alpha() below uses the same method on this
// form: it splits [0, horizon] into intervals and discards one only when a
// rigorous upper bound of V - V_th on it is negative, so it cannot miss a
// crossing, however brief. The bound takes each term at its largest on the
// interval: e^{-s/tau} is monotone (largest at an end), and s e^{-s/tau_s} is
// unimodal with its peak at s = tau_s (largest at tau_s clamped into the
// interval). The leftmost interval that cannot be discarded is halved until
// V - V_th is provably increasing on it (a lower bound of the derivative,
// built the same way, is positive), and the root is then bisected to
// 1e-10 ms. Beyond the horizon the sign of V - V_th is that of V_inf - V_th.
//
// | name          | unit | default | meaning                              |
// |---------------|------|---------|--------------------------------------|
// | tau_m_ms      | ms   | 10      | membrane time constant               |
// | tau_s_ms      | ms   | 2       | rise time (and decay) of a current   |
// | i_e_mv        | mV   | 0       | constant input current (R*I_e)       |
// | e_l_mv        | mV   | -70     | resting potential                    |
// | v_th_mv       | mV   | -55     | threshold                            |
// | v_reset_mv    | mV   | -70     | reset potential                      |
// | t_ref_ms      | ms   | 2       | absolute refractory period           |
// | v_init_min_mv | mV   | -70     | initial V drawn uniformly from       |
// | v_init_max_mv | mV   | -70     |   [v_init_min_mv, v_init_max_mv]     |
//
// Input weights are the peak of the current in mV (R*I); inhibitory inputs
// have negative weights. State: v_mv, i_mv, y_mv, ref_until_ms.
// Reference: Rall (1967) J Neurophysiol 30:1138 (the alpha function);
// Rotter & Diesmann (1999) Biol Cybern 81:381 (its exact integration).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <string_view>

#include "apical/engine/error.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/engine/random.hpp"

namespace apical::examples {

// f(s) = constant + a_m e^{-s/tau_m} + (b + c s) e^{-s/tau_s},  s >= 0.
struct alpha_trajectory {
  double constant = 0.0;
  double a_m = 0.0;
  double b = 0.0;
  double c = 0.0;
  double tau_m_ms = 1.0;
  double tau_s_ms = 1.0;

  double operator()(double s) const {
    return constant + a_m * std::exp(-s / tau_m_ms) + (b + c * s) * std::exp(-s / tau_s_ms);
  }
  // f'(s) = d_m e^{-s/tau_m} + (d_b + d_c s) e^{-s/tau_s}: the same form.
  alpha_trajectory derivative() const {
    return {0.0, -a_m / tau_m_ms, c - b / tau_s_ms, -c / tau_s_ms, tau_m_ms, tau_s_ms};
  }
  // A rigorous upper bound of f on [lo, hi] (hi may be +infinity).
  double upper_bound(double lo, double hi) const {
    const auto ramp = [&](double s) {
      return s < std::numeric_limits<double>::infinity() ? s * std::exp(-s / tau_s_ms) : 0.0;
    };
    const double ramp_max = ramp(std::clamp(tau_s_ms, lo, hi));
    const double ramp_min = std::min(ramp(lo), ramp(hi));
    return constant + a_m * std::exp(-(a_m > 0 ? lo : hi) / tau_m_ms) +
           b * std::exp(-(b > 0 ? lo : hi) / tau_s_ms) + c * (c > 0 ? ramp_max : ramp_min);
  }
  double lower_bound(double lo, double hi) const {
    const alpha_trajectory negated{-constant, -a_m, -b, -c, tau_m_ms, tau_s_ms};
    return -negated.upper_bound(lo, hi);
  }
};

// The smallest s >= 0 with f(s) >= 0, to within tolerance_ms (the returned s
// has f(s) >= 0), or +infinity when f stays negative. See lif_alpha above.
inline double first_crossing_alpha(const alpha_trajectory& f, double tolerance_ms = 1e-10) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (f(0.0) >= 0) return 0.0;
  if (f.upper_bound(0.0, inf) < 0) return inf;  // quick rejection: the common case

  // Horizon: past tau_s every term is monotone, so on [h, inf) f is bounded
  // by its constant plus the terms of one sign evaluated at h.
  const double longest = std::max(f.tau_m_ms, f.tau_s_ms);
  double horizon = longest;
  if (f.constant != 0) {
    const double sign = f.constant < 0 ? 1.0 : -1.0;  // the terms that oppose the constant
    const auto opposing = [&](double h) {
      const double em = std::exp(-h / f.tau_m_ms), es = std::exp(-h / f.tau_s_ms);
      return std::max(0.0, sign * f.a_m) * em + std::max(0.0, sign * f.b) * es +
             std::max(0.0, sign * f.c) * h * es;
    };
    while (opposing(horizon) >= std::abs(f.constant) && horizon < 1e6 * longest) horizon *= 2;
  } else {
    horizon = 50.0 * longest;  // constant 0: threshold approached asymptotically
  }

  struct interval {
    double lo, hi;
  };
  // Depth-first, leftmost first; depth <= log2(horizon / tolerance) < 128,
  // at most two entries a level.
  std::array<interval, 256> stack;
  std::size_t top = 0;
  stack[top++] = {0.0, horizon};
  const alpha_trajectory slope = f.derivative();
  while (top > 0) {
    const interval iv = stack[--top];
    if (f.upper_bound(iv.lo, iv.hi) < 0) continue;
    const double f_hi = f(iv.hi);
    if (f_hi >= 0 && slope.lower_bound(iv.lo, iv.hi) > 0) {
      // Increasing on [lo, hi] with f(lo) < 0 <= f(hi): one root; bisect.
      double a = iv.lo, b = iv.hi;
      while (b - a > tolerance_ms) {
        const double mid = 0.5 * (a + b);
        if (mid <= a || mid >= b) break;
        (f(mid) >= 0 ? b : a) = mid;
      }
      return b;
    }
    if (iv.hi - iv.lo <= tolerance_ms) {
      if (f_hi >= 0) return iv.hi;
      continue;  // a touch within rounding
    }
    const double mid = 0.5 * (iv.lo + iv.hi);
    if (f(mid) >= 0) {
      stack[top++] = {iv.lo, mid};  // the first crossing lies in (lo, mid]
      continue;
    }
    stack[top++] = {mid, iv.hi};  // processed after the left half
    stack[top++] = {iv.lo, mid};
  }
  return inf;
}

struct lif_alpha {
  static constexpr std::string_view name = "lif_alpha";
  static constexpr int compartments = 1;
  static constexpr double inf = std::numeric_limits<double>::infinity();

  struct parameters {
    double tau_m_ms = 10.0;
    double tau_s_ms = 2.0;
    double i_e_mv = 0.0;
    double e_l_mv = -70.0;
    double v_th_mv = -55.0;
    double v_reset_mv = -70.0;
    double t_ref_ms = 2.0;
    double v_init_min_mv = -70.0;
    double v_init_max_mv = -70.0;
  };
  struct derived {
    parameters p;
    double v_inf_mv;  // E_L + I_e
    double kappa;     // 1/tau_m - 1/tau_s, in 1/ms
  };
  struct state {
    double v_mv = 0.0;
    double i_mv = 0.0;
    double y_mv = 0.0;
    double ref_until_ms = -inf;
  };

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"tau_m_ms", &parameters::tau_m_ms, "ms", "membrane time constant"},
        {"tau_s_ms", &parameters::tau_s_ms, "ms", "rise time of a synaptic current"},
        {"i_e_mv", &parameters::i_e_mv, "mV", "constant input current (R*I_e)"},
        {"e_l_mv", &parameters::e_l_mv, "mV", "resting potential"},
        {"v_th_mv", &parameters::v_th_mv, "mV", "threshold"},
        {"v_reset_mv", &parameters::v_reset_mv, "mV", "reset potential"},
        {"t_ref_ms", &parameters::t_ref_ms, "ms", "refractory period"},
        {"v_init_min_mv", &parameters::v_init_min_mv, "mV", "lower bound of the initial V"},
        {"v_init_max_mv", &parameters::v_init_max_mv, "mV", "upper bound of the initial V"}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {
        {"v_mv", &state::v_mv, "mV", "membrane potential"},
        {"i_mv", &state::i_mv, "mV", "synaptic current (R*I)"},
        {"y_mv", &state::y_mv, "mV", "rising-phase variable of the current"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static void require(bool ok, std::string_view field, double value, std::string_view expected) {
    if (!ok)
      throw parameter_error(std::string(name) + ": parameter '" + std::string(field) + "' " +
                            std::string(expected) + ", got " + std::to_string(value));
  }

  static derived derive(const parameters& p) {
    for (const auto& f : parameter_fields())
      require(std::isfinite(p.*f.member), f.name, p.*f.member, "must be finite");
    require(p.tau_m_ms > 0, "tau_m_ms", p.tau_m_ms, "must be > 0");
    require(p.tau_s_ms > 0, "tau_s_ms", p.tau_s_ms, "must be > 0");
    require(p.tau_s_ms != p.tau_m_ms, "tau_s_ms", p.tau_s_ms, "must differ from tau_m_ms");
    require(p.t_ref_ms >= 0, "t_ref_ms", p.t_ref_ms, "must be >= 0");
    require(p.v_reset_mv < p.v_th_mv, "v_reset_mv", p.v_reset_mv,
            "must be below v_th_mv (" + std::to_string(p.v_th_mv) + ")");
    require(p.v_init_min_mv <= p.v_init_max_mv, "v_init_min_mv", p.v_init_min_mv,
            "must be <= v_init_max_mv");
    return {p, p.e_l_mv + p.i_e_mv, 1.0 / p.tau_m_ms - 1.0 / p.tau_s_ms};
  }

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_mv = d.p.v_init_min_mv == d.p.v_init_max_mv
                 ? d.p.v_init_min_mv
                 : r.uniform(d.p.v_init_min_mv, d.p.v_init_max_mv);
  }

  // V(s) - v_offset as an alpha_trajectory, for the state at s = 0.
  static alpha_trajectory trajectory(const state& s, const derived& d, double v_offset_mv) {
    const auto& p = d.p;
    alpha_trajectory f;
    f.tau_m_ms = p.tau_m_ms;
    f.tau_s_ms = p.tau_s_ms;
    f.constant = d.v_inf_mv - v_offset_mv;
    f.c = s.y_mv / (p.tau_s_ms * p.tau_m_ms * d.kappa);
    f.b = s.i_mv / (p.tau_m_ms * d.kappa) - f.c / d.kappa;
    f.a_m = s.v_mv - d.v_inf_mv - f.b;
    return f;
  }

  static void decay_currents(state& s, const derived& d, double dt) {
    const double e_s = std::exp(-dt / d.p.tau_s_ms);
    s.i_mv = (s.i_mv + s.y_mv * dt / d.p.tau_s_ms) * e_s;
    s.y_mv *= e_s;
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    if (from_ms < s.ref_until_ms) {
      const double until = std::min(to_ms, s.ref_until_ms);
      decay_currents(s, d, until - from_ms);
      s.v_mv = d.p.v_reset_mv;
      from_ms = until;
    }
    const double dt = to_ms - from_ms;
    if (dt <= 0) return;
    s.v_mv = trajectory(s, d, 0.0)(dt);
    decay_currents(s, d, dt);
  }

  static void receive(state& s, const derived&, int, double weight, double) {
    s.y_mv += std::numbers::e * weight;
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    state start = s;
    double t0 = t_ms;
    if (t_ms < s.ref_until_ms) {
      advance(start, d, t_ms, s.ref_until_ms);
      t0 = s.ref_until_ms;
    }
    return t0 + first_crossing_alpha(trajectory(start, d, d.p.v_th_mv));
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

static_assert(neuron_model<lif_alpha>);

}  // namespace apical::examples
