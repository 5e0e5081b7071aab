#pragma once
// lif_exp: leaky integrate-and-fire neuron with exponential synaptic
// currents, excitatory and inhibitory with their own time constants
// (current-based; the CUBA network of Brette et al. 2007, benchmark 2).
//
//   tau_m dV/dt = E_L - V + I_e + I_i        (currents in mV: R*I)
//   dI_e/dt = -I_e / tau_e,  dI_i/dt = -I_i / tau_i
//   input of weight w:  I_e += w if w > 0, I_i += w if w < 0
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref (currents go on)
//
// lif_exp_injected is the same with an injected current I_inj (E_L + I_inj
// in place of E_L): constant between inputs into compartments 1-3, which
// set it (lif_common.hpp), from i_inj_init_mv at time 0, plus a sinusoid
//   S(t) = ac_amplitude_mv sin(2 pi ac_frequency_hz (t - ac_start_ms)
//                              + ac_phase_deg)
// while it is switched on: an input into compartment 4 sets the switch
// (weight 1: on, 0: off), which is ac_on_init at time 0. The sine adds its
// particular solution to the closed form below (sine_drive.hpp), and the
// crossing search of sine_drive.hpp, which bounds the exponentials and the
// sinusoid separately and cannot miss a crossing either. A separate model,
// so that lif_exp's state stays 32 bytes (with the engine's bookkeeping of
// a neuron, one cache line) and its path does not test for a sine.
//
// Closed form over an input-free interval of length s (E = E_L, or
// E_L + I_inj):
//   V(s) = E + (V0 - E) e^{-s/tau_m} + sum_x I_x0 k_x(s),
//   k_x(s) = tau_x / (tau_x - tau_m) (e^{-s/tau_x} - e^{-s/tau_m}).
// V(s) - V_th is a sum of three exponentials and a constant, which has no
// closed-form root; the next crossing is found to 1e-10 ms by a search that
// cannot miss one (engine/exp_sum.hpp).
//
// When the largest time constant tau is an integer multiple (up to 8) of
// the others (CUBA's 20, 5, 10 ms: 1, 4, 2), every exponential is a power
// of x = e^{-s/tau}: one exponential gives all three decays (lif_exp
// anchors its state, below, and needs none per input), and V - V_th is a
// polynomial in x (degree 4 for CUBA). At a prediction, its Bernstein
// coefficients over nested look-aheads of 0.5, 1, 2 and 4 tau_min (a few
// multiply-adds each, precomputed maps) bound V there: most predictions
// are settled by the longest (no crossing within 4 tau_min: look again
// then, or once later input may have raised V by more than the bound's
// margin: raise_bound()), and only a crossing possible within 0.5 tau_min
// is searched for
// exactly, by Descartes' rule of signs on the Bernstein form and Newton
// (exp_polynomial; no exponential, one logarithm). Other time constants
// use first_crossing() on the sum of exponentials over 0.5 tau_min.
// The synaptic time constants must differ from tau_m (the kernel above
// would need its limit form; use e.g. 4.999 ms instead of 5 ms).
//
// Anchored state (lif_exp with integer ratios). With
//   V(t) = E_L + A e^{-(t-G)/tau_m} + g_e I_e(t) + g_i I_i(t),
//   I_x(t) = S_x e^{-(t-G)/tau_x},   g_x = tau_x / (tau_x - tau_m),
// A, S_e and S_i stay constant between inputs for a fixed anchor G: the
// state holds them (in v_mv, i_e_mv, i_i_mv), anchored at the start G of
// the epoch of length 16 tau_min that holds the state's time (t_last, the
// `from` of advance()). Advancing within an epoch costs nothing; into a
// later one, each part is multiplied by its decay over the epochs passed.
// An input of weight w at t adds w e^{(t-G)/tau_e} to S_e and takes
// g_e w e^{(t-G)/tau_m} from A (V is continuous), factors that are the same
// for all targets of a delivery (at_time()): no input costs an
// exponential, nor does a prediction right after one (predict_at()). At
// the end of refractoriness A is set so that V = V_reset there. predict(),
// next_spike() and observe() work on the state in real form (V, I_e, I_i
// at t), which to_real() gives; trajectory(),
// window_bernstein() and end_of_refractoriness() take that form.
// lif_exp_injected, and other ratios, keep the real form throughout.
//
// | name          | unit | default | meaning                              |
// |---------------|------|---------|--------------------------------------|
// | tau_m_ms      | ms   | 20      | membrane time constant               |
// | tau_e_ms      | ms   | 5       | excitatory current time constant     |
// | tau_i_ms      | ms   | 10      | inhibitory current time constant     |
// | e_l_mv        | mV   | -70     | resting potential                    |
// | v_th_mv       | mV   | -55     | threshold                            |
// | v_reset_mv    | mV   | -70     | reset potential                      |
// | t_ref_ms      | ms   | 2       | absolute refractory period           |
// | v_init_min_mv | mV   | -70     | initial V drawn uniformly from       |
// | v_init_max_mv | mV   | -70     |   [v_init_min_mv, v_init_max_mv]     |
// | i_inj_init_mv | mV   | 0       | I_inj at time 0 (lif_exp_injected)   |
// | ac_amplitude_mv | mV | 0       | sinusoid's amplitude (R*I)           |
// | ac_frequency_hz | Hz | 0       | its frequency                        |
// | ac_phase_deg  | deg  | 0       | its phase at ac_start_ms             |
// | ac_start_ms   | ms   | 0       | its phase origin                     |
// | ac_on_init    | 1    | 0       | sinusoid on at time 0 (0 or 1)       |
//
// State: v_mv, i_e_mv, i_i_mv, ref_until_ms; lif_exp_injected adds I_inj's
// parts inj_hi_mv, inj_mid_mv, inj_lo_mv and the sinusoid's switch ac_on.
#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <string_view>
#include <type_traits>

#include "apical/engine/exp_sum.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"
#include "apical/models/sine_drive.hpp"

namespace apical::models {

struct lif_exp_parameters {
  double tau_m_ms = 20.0;
  double tau_e_ms = 5.0;
  double tau_i_ms = 10.0;
  double e_l_mv = -70.0;
  double v_th_mv = -55.0;
  double v_reset_mv = -70.0;
  double t_ref_ms = 2.0;
  double v_init_min_mv = -70.0;
  double v_init_max_mv = -70.0;
};
struct lif_exp_injected_parameters : lif_exp_parameters, injected_parameters {};
struct lif_exp_state {
  double v_mv = 0.0;
  double i_e_mv = 0.0;
  double i_i_mv = 0.0;
  double ref_until_ms = -inf;
};
struct lif_exp_injected_state : lif_exp_state, injected_state {};
struct no_sine_drive {};

template <bool Injected>
struct basic_lif_exp {
  static constexpr std::string_view name = Injected ? "lif_exp_injected" : "lif_exp";
  static constexpr int compartments = Injected ? 1 + injection_parts + 1 : 1;
  // The compartment whose inputs switch the sinusoid (lif_exp_injected).
  static constexpr int ac_switch_compartment = 1 + injection_parts;
  // Prediction horizons in units of the smallest time constant: the
  // search horizon of first_crossing(), and the nested look-aheads of the
  // polynomial path (see predict).
  static constexpr double horizon_factor = 0.5;
  static constexpr std::array<double, 4> lookahead_factors = {0.5, 1.0, 2.0, 4.0};
  // The anchored state's epoch in units of the smallest time constant (its
  // parts grow by up to e^16 within one).
  static constexpr double epoch_factor = 16.0;

  using parameters = std::conditional_t<Injected, lif_exp_injected_parameters, lif_exp_parameters>;
  struct derived {
    parameters p;
    // Predictions search [0, horizon] only (then re-examine): the decay of
    // each time constant over the horizon bounds the trajectory cheaply.
    double horizon_ms = 0.0;
    double decay_m = 0.0, decay_e = 0.0, decay_i = 0.0;
    // Synaptic time constants within 0.1 % of tau_m: their kernel needs the
    // cancellation-free form (see drive_kernel).
    bool close_e = false, close_i = false;
    // tau_x / (tau_x - tau_m): the membrane amplitude of a unit current.
    double gain_e = 0.0, gain_i = 0.0;
    // The largest value of the kernel k_e (with a little to spare): the
    // most a unit excitatory input ever adds to V.
    double peak_e = 0.0;
    // With integer ratios (polynomial): e^{-s/tau_x} = x^power_x, where
    // x = e^{-s/tau_base_ms}, and V - V_th is a polynomial of that degree.
    bool polynomial = false;
    // The state is anchored (see above): lif_exp with integer ratios.
    bool anchored = false;
    double epoch_ms = 0.0, inv_epoch_ms = 0.0;
    double tau_base_ms = 0.0;
    std::size_t power_m = 0, power_e = 0, power_i = 0, degree = 0;
    // One look-ahead [0, horizon_ms], x in [x_min, 1]: the Bernstein
    // coefficients of V - V_th there are linear in the state,
    //   b_k = (E_L - V_th) + (V - E_L) v[k] + I_e e[k] + I_i i[k]
    // (window_bernstein), and the largest bounds V - V_th over it.
    struct lookahead {
      double horizon_ms = 0.0, x_min = 1.0;
      std::array<double, exp_polynomial::max_degree + 1> v{}, e{}, i{};
    };
    std::array<lookahead, lookahead_factors.size()> lookaheads{};
    // The sinusoid (lif_exp_injected) and the horizon of its search: the
    // horizon above, at most one period.
    [[no_unique_address]] std::conditional_t<Injected, sine_drive, no_sine_drive> sine{};
    double ac_horizon_ms = 0.0;
  };
  using state = std::conditional_t<Injected, lif_exp_injected_state, lif_exp_state>;

  static std::span<const field<parameters>> parameter_fields() {
    if constexpr (Injected) {
      static const auto f =
          injected_parameter_fields<parameters>(basic_lif_exp<false>::parameter_fields());
      return f;
    } else {
      static constexpr field<lif_exp_parameters> f[] = {
          {"tau_m_ms", &parameters::tau_m_ms, "ms", "membrane time constant"},
          {"tau_e_ms", &parameters::tau_e_ms, "ms", "excitatory current time constant"},
          {"tau_i_ms", &parameters::tau_i_ms, "ms", "inhibitory current time constant"},
          {"e_l_mv", &parameters::e_l_mv, "mV", "resting potential"},
          {"v_th_mv", &parameters::v_th_mv, "mV", "threshold"},
          {"v_reset_mv", &parameters::v_reset_mv, "mV", "reset potential"},
          {"t_ref_ms", &parameters::t_ref_ms, "ms", "refractory period"},
          {"v_init_min_mv", &parameters::v_init_min_mv, "mV", "lower bound of the initial V"},
          {"v_init_max_mv", &parameters::v_init_max_mv, "mV", "upper bound of the initial V"}};
      return f;
    }
  }
  static std::span<const field<state>> state_fields() {
    if constexpr (Injected) {
      static const auto f = injected_state_fields<state>(basic_lif_exp<false>::state_fields());
      return f;
    } else {
      static constexpr field<lif_exp_state> f[] = {
          {"v_mv", &state::v_mv, "mV", "membrane potential"},
          {"i_e_mv", &state::i_e_mv, "mV", "excitatory current (R*I)"},
          {"i_i_mv", &state::i_i_mv, "mV", "inhibitory current (R*I)"},
          {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
      return f;
    }
  }

  static derived derive(const parameters& p) {
    require_finite<basic_lif_exp>(p);
    require(p.tau_m_ms > 0, name, "tau_m_ms", p.tau_m_ms, "must be > 0");
    require(p.tau_e_ms > 0, name, "tau_e_ms", p.tau_e_ms, "must be > 0");
    require(p.tau_i_ms > 0, name, "tau_i_ms", p.tau_i_ms, "must be > 0");
    require(p.tau_e_ms != p.tau_m_ms, name, "tau_e_ms", p.tau_e_ms, "must differ from tau_m_ms");
    require(p.tau_i_ms != p.tau_m_ms, name, "tau_i_ms", p.tau_i_ms, "must differ from tau_m_ms");
    require_reset_and_start(name, p);
    derived d{p};
    d.horizon_ms = horizon_factor * std::min({p.tau_m_ms, p.tau_e_ms, p.tau_i_ms});
    d.decay_m = std::exp(-d.horizon_ms / p.tau_m_ms);
    d.decay_e = std::exp(-d.horizon_ms / p.tau_e_ms);
    d.decay_i = std::exp(-d.horizon_ms / p.tau_i_ms);
    d.close_e = std::abs(p.tau_e_ms - p.tau_m_ms) < 1e-3 * p.tau_m_ms;
    d.close_i = std::abs(p.tau_i_ms - p.tau_m_ms) < 1e-3 * p.tau_m_ms;
    d.gain_e = p.tau_e_ms / (p.tau_e_ms - p.tau_m_ms);
    d.gain_i = p.tau_i_ms / (p.tau_i_ms - p.tau_m_ms);
    // k_e peaks at a^{1/(1-a)}, a = tau_e / tau_m, which is within a
    // factor e^{|1-a|/2} of e^{-1} as a -> 1 (there the power loses
    // digits).
    const double a = p.tau_e_ms / p.tau_m_ms;
    d.peak_e =
        (d.close_e ? std::exp(-1.0) * (1.0 + std::abs(1.0 - a)) : std::pow(a, 1.0 / (1.0 - a))) *
        (1.0 + 1e-9);
    if constexpr (Injected) {
      d.sine = checked_sine(name, p);
      d.ac_horizon_ms = sine_horizon(d.horizon_ms, p.ac_frequency_hz);
    }
    d.tau_base_ms = std::max({p.tau_m_ms, p.tau_e_ms, p.tau_i_ms});
    d.power_m = integer_ratio(d.tau_base_ms, p.tau_m_ms);
    d.power_e = integer_ratio(d.tau_base_ms, p.tau_e_ms);
    d.power_i = integer_ratio(d.tau_base_ms, p.tau_i_ms);
    d.polynomial = d.power_m != 0 && d.power_e != 0 && d.power_i != 0;
    if (d.polynomial) {
      d.degree = std::max({d.power_m, d.power_e, d.power_i});
      const double tau_min = std::min({p.tau_m_ms, p.tau_e_ms, p.tau_i_ms});
      d.anchored = !Injected;
      d.epoch_ms = epoch_factor * tau_min;
      d.inv_epoch_ms = 1.0 / d.epoch_ms;
      for (std::size_t l = 0; l < d.lookaheads.size(); ++l) {
        auto& w = d.lookaheads[l];
        w.horizon_ms = lookahead_factors[l] * tau_min;
        w.x_min = std::exp(-w.horizon_ms / d.tau_base_ms);
        const bernstein_window map(w.x_min, d.degree);
        for (std::size_t k = 0; k <= d.degree; ++k) {
          const double m = map.weight[k][d.power_m];
          w.v[k] = m;
          w.e[k] = d.gain_e * (map.weight[k][d.power_e] - m);
          w.i[k] = d.gain_i * (map.weight[k][d.power_i] - m);
        }
      }
    }
    return d;
  }

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_mv = d.p.v_init_min_mv == d.p.v_init_max_mv
                 ? d.p.v_init_min_mv
                 : r.uniform(d.p.v_init_min_mv, d.p.v_init_max_mv);
    if constexpr (Injected) {
      s.inj_hi_mv = d.p.i_inj_init_mv;
      s.ac_on = d.p.ac_on_init;
    }
    if (d.anchored) s = from_real(s, d, 0.0);
  }

  // The potential V relaxes to: E_L (+ I_inj).
  static double rest_mv(const state& s, const derived& d) {
    if constexpr (Injected) return d.p.e_l_mv + injected(s.inj_hi_mv, s.inj_mid_mv, s.inj_lo_mv);
    return d.p.e_l_mv;
  }

  // e^{-dt/tau} for tau_m, tau_e, tau_i: one exponential and its powers
  // when the ratios are integers.
  struct decays {
    double m, e, i;
  };
  [[gnu::always_inline]] static decays decays_over(const derived& d, double dt) {
    const auto& p = d.p;
    if (!d.polynomial)
      return {std::exp(-dt / p.tau_m_ms), std::exp(-dt / p.tau_e_ms), std::exp(-dt / p.tau_i_ms)};
    std::array<double, exp_polynomial::max_degree + 1> x;
    x[0] = 1.0;
    x[1] = std::exp(-dt / d.tau_base_ms);
    for (std::size_t j = 2; j <= d.degree; ++j) x[j] = x[j - 1] * x[1];
    return {x[d.power_m], x[d.power_e], x[d.power_i]};
  }

  // Free (non-refractory) evolution over dt.
  static void free_evolution(state& s, const derived& d, double dt) {
    const auto& p = d.p;
    const decays e = decays_over(d, dt);
    const double rest = rest_mv(s, d);
    s.v_mv = rest + (s.v_mv - rest) * e.m +
             s.i_e_mv * drive_kernel(e.e, e.m, d.gain_e, d.close_e, p.tau_e_ms, p.tau_m_ms, dt) +
             s.i_i_mv * drive_kernel(e.i, e.m, d.gain_i, d.close_i, p.tau_i_ms, p.tau_m_ms, dt);
    s.i_e_mv *= e.e;
    s.i_i_mv *= e.i;
  }

  // The start of the epoch that holds t (anchored state).
  static double anchor_of(const derived& d, double t_ms) {
    return std::floor(t_ms * d.inv_epoch_ms) * d.epoch_ms;
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    if (d.anchored) return advance_anchored(s, d, from_ms, to_ms, anchor_of(d, to_ms));
    advance_real(s, d, from_ms, to_ms);
  }
  // The anchored state from from_ms to to_ms, whose epoch starts at g_to.
  // Inline for the common case, an advance within the epoch that ends no
  // refractory period: it changes nothing.
  [[gnu::always_inline]] static void advance_anchored(state& s, const derived& d, double from_ms,
                                                      double to_ms, double g_to) {
    const double g_from = anchor_of(d, from_ms);
    if (g_to != g_from || (from_ms < s.ref_until_ms && s.ref_until_ms <= to_ms))
      advance_anchored_across(s, d, from_ms, to_ms, g_from, g_to);
  }
  [[gnu::noinline]] static void advance_anchored_across(state& s, const derived& d, double from_ms,
                                                        double to_ms, double g_from, double g_to) {
    if (g_to != g_from) {
      const decays e = decays_over(d, g_to - g_from);
      s.v_mv *= e.m;
      s.i_e_mv *= e.e;
      s.i_i_mv *= e.i;
    }
    // V = V_reset at the end of refractoriness (the currents went on).
    if (from_ms < s.ref_until_ms && s.ref_until_ms <= to_ms) reset_at(s, d, s.ref_until_ms, g_to);
  }
  // Sets the anchored state's A (anchor g) so that V = V_reset at t_ms.
  static void reset_at(state& s, const derived& d, double t_ms, double g) {
    const decays x = decays_over(d, t_ms - g);
    const double i_e = s.i_e_mv * x.e, i_i = s.i_i_mv * x.i;
    s.v_mv = (d.p.v_reset_mv - d.p.e_l_mv - d.gain_e * i_e - d.gain_i * i_i) / x.m;
  }
  // The anchored state at t_ms (advanced to it) in real form.
  static state to_real(const state& s, const derived& d, double t_ms) {
    return to_real(s, d, t_ms, decays_over(d, t_ms - anchor_of(d, t_ms)));
  }
  // The same with x, the decays from t_ms's anchor to t_ms, given.
  static state to_real(const state& s, const derived& d, double t_ms, const decays& x) {
    state r = s;
    r.i_e_mv = s.i_e_mv * x.e;
    r.i_i_mv = s.i_i_mv * x.i;
    r.v_mv = t_ms < s.ref_until_ms
                 ? d.p.v_reset_mv
                 : d.p.e_l_mv + s.v_mv * x.m + d.gain_e * r.i_e_mv + d.gain_i * r.i_i_mv;
    return r;
  }
  // A state given in real form at t_ms, anchored (to_real's inverse).
  static state from_real(const state& r, const derived& d, double t_ms) {
    if (!d.anchored) return r;
    state s = r;
    const decays up = decays_over(d, anchor_of(d, t_ms) - t_ms);
    s.i_e_mv = r.i_e_mv * up.e;
    s.i_i_mv = r.i_i_mv * up.i;
    s.v_mv = (r.v_mv - d.p.e_l_mv - d.gain_e * r.i_e_mv - d.gain_i * r.i_i_mv) * up.m;
    return s;
  }
  // V, I_e, I_i at t_ms (state advanced to it), for recorders.
  static void observe(state& s, const derived& d, double t_ms) {
    if (d.anchored) s = to_real(s, d, t_ms);
  }

  // The state in real form from from_ms to to_ms.
  static void advance_real(state& s, const derived& d, double from_ms, double to_ms) {
    const auto& p = d.p;
    if (from_ms < s.ref_until_ms) {
      // Clamped until the end of refractoriness (or to_ms); currents decay.
      const double until = std::min(to_ms, s.ref_until_ms);
      const decays e = decays_over(d, until - from_ms);
      s.i_e_mv *= e.e;
      s.i_i_mv *= e.i;
      s.v_mv = p.v_reset_mv;
      from_ms = until;
    }
    const double dt = to_ms - from_ms;
    if (dt <= 0) return;
    free_evolution(s, d, dt);
    if constexpr (Injected)
      if (s.ac_on != 0) s.v_mv += d.sine.added(from_ms, to_ms, p.tau_m_ms);
  }

  // An excitatory input of weight w adds w k_e(s) <= w peak_e to V at
  // every later time s (also across a refractory period: the current
  // goes on); an inhibitory one adds w k_i(s) <= 0 (neuron_model.hpp).
  // The injected current and the sinusoid's switch have no such bound.
  static double raise_bound(const derived& d, [[maybe_unused]] int compartment, double weight) {
    if constexpr (Injected)
      if (compartment != 0) return inf;
    return weight > 0 ? weight * d.peak_e : 0.0;
  }

  // (Not through at_time(), whose `down` decays, an exponential, an input
  // alone does not need; `up` is the same expression, bit for bit.)
  static void receive(state& s, const derived& d, int compartment, double weight, double t_ms) {
    if (d.anchored) return receive_anchored(s, d, weight, up_at(d, t_ms, anchor_of(d, t_ms)));
    receive_real(s, d, compartment, weight, t_ms);
  }
  // e^{(t - g)/tau} for each time constant, g the anchor of t.
  static decays up_at(const derived& d, double t_ms, double g) { return decays_over(d, g - t_ms); }
  // An input into the anchored state, with up = e^{(t - G)/tau} for each
  // time constant.
  [[gnu::always_inline]] static void receive_anchored(state& s, const derived& d, double weight,
                                                      const decays& up) {
    if (weight >= 0) {
      s.i_e_mv += weight * up.e;
      s.v_mv -= d.gain_e * weight * up.m;
    } else {
      s.i_i_mv += weight * up.i;
      s.v_mv -= d.gain_i * weight * up.m;
    }
  }

  // What advance() and receive() compute from an input's time alone, once
  // for all targets of a delivery (neuron_model.hpp's at_time).
  // (up: e^{(t - G)/tau}, for receive_at; down: e^{-(t - G)/tau}, the
  // decays to_real() computes, for predict_at.)
  struct input_time {
    double t_ms;
    double anchor;
    decays up, down;
  };
  static input_time at_time(const derived& d, double t_ms) {
    if (!d.anchored) return {t_ms, 0.0, {}, {}};
    const double g = anchor_of(d, t_ms);
    return {t_ms, g, up_at(d, t_ms, g), decays_over(d, t_ms - g)};
  }
  [[gnu::always_inline]] static void advance_at(state& s, const derived& d, double from_ms,
                                                const input_time& at) {
    if (d.anchored) return advance_anchored(s, d, from_ms, at.t_ms, at.anchor);
    advance_real(s, d, from_ms, at.t_ms);
  }
  [[gnu::always_inline]] static void receive_at(state& s, const derived& d, int compartment,
                                                double weight, const input_time& at) {
    if (d.anchored) return receive_anchored(s, d, weight, at.up);
    receive_real(s, d, compartment, weight, at.t_ms);
  }

  static void receive_real(state& s, const derived&, [[maybe_unused]] int compartment,
                           double weight, double) {
    if constexpr (Injected) {
      if (compartment == ac_switch_compartment) {
        s.ac_on = weight;
        return;
      }
      if (compartment != 0)
        return set_injection_part(compartment, weight, s.inj_hi_mv, s.inj_mid_mv, s.inj_lo_mv);
    }
    (weight >= 0 ? s.i_e_mv : s.i_i_mv) += weight;
  }

  // The state at the end of the refractory period (t_ms < s.ref_until_ms),
  // where the free trajectory starts (real form).
  static state end_of_refractoriness(const state& s, const derived& d, double t_ms) {
    state start = s;
    advance_real(start, d, t_ms, s.ref_until_ms);
    return start;
  }

  // V(t + s) - V_th from a free (not refractory) state at t, as a sum of
  // exponentials.
  static exp_sum trajectory(const state& start, const derived& d) {
    const auto& p = d.p;
    exp_sum f;
    const double a_e = start.i_e_mv * d.gain_e;
    const double a_i = start.i_i_mv * d.gain_i;
    const double rest = rest_mv(start, d);
    f.constant = rest - p.v_th_mv;
    f.add(start.v_mv - rest - a_e - a_i, p.tau_m_ms);
    f.add(a_e, p.tau_e_ms);
    f.add(a_i, p.tau_i_ms);
    return f;
  }

  // The same as a polynomial in x = e^{-s/tau_base_ms} (d.polynomial only).
  static exp_polynomial polynomial_trajectory(const state& start, const derived& d) {
    const auto& p = d.p;
    exp_polynomial f;
    f.tau_ms = d.tau_base_ms;
    const double a_e = start.i_e_mv * d.gain_e;
    const double a_i = start.i_i_mv * d.gain_i;
    const double rest = rest_mv(start, d);
    f.add(rest - p.v_th_mv, 0);
    f.add(start.v_mv - rest - a_e - a_i, d.power_m);
    f.add(a_e, d.power_e);
    f.add(a_i, d.power_i);
    return f;
  }

  // The Bernstein coefficients of V - V_th over a look-ahead from a free
  // state (d.polynomial only): a few multiply-adds. Returns the largest,
  // an upper bound of V - V_th there, exact at both ends.
  static double window_bernstein(const state& s, const derived& d, const derived::lookahead& w,
                                 bernstein_coefficients& b) {
    const double rest = rest_mv(s, d);
    const double v = s.v_mv - rest, c = rest - d.p.v_th_mv;
    double most = -inf;
    for (std::size_t k = 0; k <= d.degree; ++k) {
      b[k] = c + v * w.v[k] + s.i_e_mv * w.e[k] + s.i_i_mv * w.i[k];
      most = std::max(most, b[k]);
    }
    return most;
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    if (d.anchored) return next_spike_real(to_real(s, d, t_ms), d, t_ms);
    return next_spike_real(s, d, t_ms);
  }
  static double next_spike_real(const state& s, const derived& d, double t_ms) {
    if constexpr (Injected)
      if (s.ac_on != 0) return chained_next_spike<basic_lif_exp>(s, d, t_ms);
    if (t_ms < s.ref_until_ms)
      return next_spike_real(end_of_refractoriness(s, d, t_ms), d, s.ref_until_ms);
    if (d.polynomial) return t_ms + first_crossing(polynomial_trajectory(s, d));
    return t_ms + first_crossing(trajectory(s, d));
  }

  // Exact within the horizon, provisional beyond it. The polynomial path
  // bounds V over nested look-aheads, longest first: most trajectories stay
  // below threshold over the longest (provisional: look again at its end);
  // one that may cross within a longer look-ahead but not the next shorter
  // is looked at again at the end of the shorter; one that may cross within
  // the shortest is searched exactly there. So a crossing is computed
  // exactly only when it is imminent (later input would mostly move it).
  static spike_prediction predict(const state& s, const derived& d, double t_ms) {
    if (d.anchored) return predict_real(to_real(s, d, t_ms), d, t_ms);
    return predict_real(s, d, t_ms);
  }
  // predict() right after an input at `at`: the same, bit for bit, with
  // the delivery's decays instead of an exponential (neuron_model.hpp).
  static spike_prediction predict_at(const state& s, const derived& d, const input_time& at) {
    if (d.anchored) return predict_real(to_real(s, d, at.t_ms, at.down), d, at.t_ms);
    return predict_real(s, d, at.t_ms);
  }
  static spike_prediction predict_real(const state& s, const derived& d, double t_ms) {
    if constexpr (Injected)
      if (s.ac_on != 0) return predict_with_sine(s, d, t_ms);
    // The common case, kept lean (the rest is out of line): a free state
    // that stays below threshold over the longest look-ahead. The state is
    // read in place (a copy costs a stalled load right after advance()
    // wrote it).
    if (d.polynomial && t_ms >= s.ref_until_ms && rest_mv(s, d) >= d.p.v_th_mv) {
      const auto& longest = d.lookaheads.back();
      bernstein_coefficients b;
      const double most = window_bernstein(s, d, longest, b);
      if (most < 0) return {t_ms + longest.horizon_ms, false, -most};
    }
    return predict_any(s, d, t_ms);
  }

  [[gnu::noinline]] static spike_prediction predict_any(const state& s, const derived& d,
                                                        double t_ms) {
    if (t_ms < s.ref_until_ms)
      return predict_real(end_of_refractoriness(s, d, t_ms), d, s.ref_until_ms);
    if (!d.polynomial)
      return predict_within(trajectory(s, d), t_ms, d.horizon_ms, [&d](double tau) {
        return tau == d.p.tau_m_ms ? d.decay_m : tau == d.p.tau_e_ms ? d.decay_e : d.decay_i;
      });
    bernstein_coefficients b;
    const auto& longest = d.lookaheads.back();
    if (const double most = window_bernstein(s, d, longest, b); most < 0) {
      spike_prediction p = beyond_horizon(polynomial_trajectory(s, d), t_ms, longest.horizon_ms);
      if (!p.certain) p.margin = -most;
      return p;
    }
    for (std::size_t l = d.lookaheads.size() - 1; l-- > 0;)
      if (const double most = window_bernstein(s, d, d.lookaheads[l], b); most < 0)
        return {t_ms + d.lookaheads[l].horizon_ms, false, -most};
    const auto& shortest = d.lookaheads.front();
    return predict_within(polynomial_trajectory(s, d), t_ms, shortest.horizon_ms, shortest.x_min,
                          b);
  }

  // With the sinusoid on: V - V_th = g + B sin(...) from a free state,
  // g the trajectory above from V - V_p(t) (sine_drive.hpp).
  [[gnu::noinline]] static spike_prediction predict_with_sine(const state& s, const derived& d,
                                                              double t_ms) requires Injected {
    if (t_ms < s.ref_until_ms)
      return predict_with_sine(end_of_refractoriness(s, d, t_ms), d, s.ref_until_ms);
    state without = s;
    without.v_mv -= d.sine.at(t_ms);
    return models::predict_with_sine(trajectory(without, d), d.sine.from(t_ms), t_ms,
                                     d.ac_horizon_ms);
  }

  static void fire(state& s, const derived& d, double t_ms) {
    // (The anchored state is reset now too: with t_ref_ms = 0 no end of
    // refractoriness comes to reset it.)
    if (d.anchored)
      reset_at(s, d, t_ms, anchor_of(d, t_ms));
    else
      s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

using lif_exp = basic_lif_exp<false>;
using lif_exp_injected = basic_lif_exp<true>;

}  // namespace apical::models
