#pragma once
// lif_cond_exp: leaky integrate-and-fire neuron with exponentially decaying
// excitatory and inhibitory conductances (PyNN's IF_cond_exp; the COBA
// network of Vogels & Abbott 2005 and Brette et al. 2007, benchmark 1).
//
//   C dV/dt = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V) + I_offset,
//   g_L = C / tau_m,  dg_e/dt = -g_e / tau_e,  dg_i/dt = -g_i / tau_i
//   input of weight w (nS):  g_e += w if w >= 0,  g_i += -w if w < 0
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref (conductances go on)
//
// Units: conductances and weights in nS, C in pF, I_offset in pA (nS * mV
// = pA, pA / pF = mV/ms). PyNN gives weights in uS (1 uS = 1000 nS). The
// constant current only moves the potential the membrane relaxes to:
// E_rest = E_L + I_offset tau_m / C, exactly.
//
// lif_cond_exp_injected (below) adds an injected current I_inj to I_offset:
// constant between inputs into compartments 1-3, which set it
// (lif_common.hpp), from i_inj_init_pa at time 0; between its changes E_rest
// = E_L + (I_offset + I_inj) tau_m / C (with_injection). A separate model,
// so that lif_cond_exp's state stays 32 bytes (with the engine's bookkeeping
// of a neuron, one cache line).
//
// Between inputs, with y = V - E_rest and k_x = g_x / C (1/ms),
//   y' = -y / tau_m + k_e(s) (E_e - E_rest - y) + k_i(s) (E_i - E_rest - y),
// a linear equation whose coefficients are exponentials in s. Its exact
// solution has no closed form for unequal tau_e, tau_i (Brette 2006 gives
// one, through the incomplete gamma function, only for tau_e = tau_i), but
// it is an entire function of s: it is summed here as its Taylor series,
// whose coefficients follow from the equation by a recurrence (exact
// arithmetic on the known series of the exponentials). Each series step
// spans at most h = 1 / (1/tau_m + k_e + k_i + max(1/tau_e, 1/tau_i)),
// where the terms shrink about as 1 / k!, and is summed until two
// consecutive terms fall below 2^-53 of the potentials' scale
// (|V - E_rest| + |E_e - E_rest| + |E_i - E_rest|; order ~18, at most 40).
// The tests compare it with the solution's integral form evaluated in long
// double (Romberg) to 1e-12 mV.
//
// After each input, the bound below is tried over 4, 2 and 1 series steps
// (no series needed): when it stays below threshold over one, the engine
// looks again at its end (a provisional prediction). Otherwise the
// threshold crossing is searched over one step by a search that cannot
// miss a crossing of the summed trajectory. It discards an interval [a, b]
// only when a rigorous upper bound of V there is below threshold: since
// g_e, g_i decrease, dV/dt on [a, b] is at most F(V) with g_e at its
// largest (g_e(a)) and g_i at its smallest (g_i(b)) where they pull V up,
// so by comparison V stays below the solution of C w' = F(w), w(a) = V(a),
// which is a single exponential (sup_bound). The bound is exact at a and
// its error shrinks quadratically with b - a, so a trajectory grazing the
// threshold is settled after a few halvings. An interval with V(b) >= V_th
// on which a lower bound of dV/dt (from the same comparison) is positive
// holds exactly one crossing, found by safeguarded Newton to 1e-10 ms.
// An interval narrower than that whose bound still reaches the threshold
// counts as a crossing (so a crossing is never missed; a graze within
// rounding of the threshold may fire).
//
// What this makes exact: the search is rigorous for the summed trajectory,
// up to the rounding of its own double arithmetic (no directed rounding;
// ~1e-14 mV); the series' truncation is a stopping rule, not a proven
// bound (its terms fall factorially; no reference in the tests differs by
// more than 1e-12 mV). Crossings that V passes with a slope are found to
// 1e-10 ms (the tests: within 1e-9 ms of long-double references, also for
// trajectories whose peak exceeds threshold by ~1e-9 of their height); a
// trajectory whose peak is within ~1e-12 mV of threshold may go either way.
//
// | name          | unit | default | meaning                              |
// |---------------|------|---------|--------------------------------------|
// | tau_m_ms      | ms   | 20      | membrane time constant (C / g_L)     |
// | c_m_pf        | pF   | 200     | membrane capacitance                 |
// | e_l_mv        | mV   | -60     | leak reversal (resting) potential    |
// | v_th_mv       | mV   | -50     | threshold                            |
// | v_reset_mv    | mV   | -60     | reset potential                      |
// | t_ref_ms      | ms   | 5       | absolute refractory period           |
// | tau_e_ms      | ms   | 5       | excitatory conductance decay         |
// | tau_i_ms      | ms   | 10      | inhibitory conductance decay         |
// | e_e_mv        | mV   | 0       | excitatory reversal potential        |
// | e_i_mv        | mV   | -80     | inhibitory reversal potential        |
// | i_offset_pa   | pA   | 0       | constant injected current            |
// | v_init_min_mv | mV   | -60     | initial V drawn uniformly from       |
// | v_init_max_mv | mV   | -60     |   [v_init_min_mv, v_init_max_mv]     |
//
// State: v_mv, g_e_ns, g_i_ns, ref_until_ms.
#include <array>
#include <cmath>
#include <span>
#include <string_view>

#include "apical/engine/neuron_model.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::models {

struct lif_cond_exp {
  static constexpr std::string_view name = "lif_cond_exp";
  static constexpr int compartments = 1;
  // A series step spans step_factor / (the largest rate in the equation).
  static constexpr double step_factor = 1.0;
  // Look-aheads of predict(), in series steps, bounded before any series
  // is summed (see predict).
  static constexpr std::array<double, 3> lookahead_factors = {4.0, 2.0, 1.0};
  static constexpr double tolerance_ms = 1e-10;

  struct parameters {
    double tau_m_ms = 20.0;
    double c_m_pf = 200.0;
    double e_l_mv = -60.0;
    double v_th_mv = -50.0;
    double v_reset_mv = -60.0;
    double t_ref_ms = 5.0;
    double tau_e_ms = 5.0;
    double tau_i_ms = 10.0;
    double e_e_mv = 0.0;
    double e_i_mv = -80.0;
    double i_offset_pa = 0.0;
    double v_init_min_mv = -60.0;
    double v_init_max_mv = -60.0;
  };
  struct derived {
    parameters p;
    double e_rest_mv = 0.0;    // E_L + I_offset tau_m / C
    double leak_per_ms = 0.0;  // 1 / tau_m
    double per_pf = 0.0;       // 1 / C: nS -> 1/ms
    double inv_tau_e = 0.0, inv_tau_i = 0.0, fastest_decay = 0.0;
    double e_e = 0.0, e_i = 0.0;  // reversal potentials relative to E_rest
    double theta = 0.0;           // V_th - E_rest
    double reset = 0.0;           // V_reset - E_rest
  };
  struct state {
    double v_mv = 0.0;
    double g_e_ns = 0.0;
    double g_i_ns = 0.0;
    double ref_until_ms = -inf;
  };

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"tau_m_ms", &parameters::tau_m_ms, "ms", "membrane time constant"},
        {"c_m_pf", &parameters::c_m_pf, "pF", "membrane capacitance"},
        {"e_l_mv", &parameters::e_l_mv, "mV", "leak reversal potential"},
        {"v_th_mv", &parameters::v_th_mv, "mV", "threshold"},
        {"v_reset_mv", &parameters::v_reset_mv, "mV", "reset potential"},
        {"t_ref_ms", &parameters::t_ref_ms, "ms", "refractory period"},
        {"tau_e_ms", &parameters::tau_e_ms, "ms", "excitatory conductance time constant"},
        {"tau_i_ms", &parameters::tau_i_ms, "ms", "inhibitory conductance time constant"},
        {"e_e_mv", &parameters::e_e_mv, "mV", "excitatory reversal potential"},
        {"e_i_mv", &parameters::e_i_mv, "mV", "inhibitory reversal potential"},
        {"i_offset_pa", &parameters::i_offset_pa, "pA", "constant injected current"},
        {"v_init_min_mv", &parameters::v_init_min_mv, "mV", "lower bound of the initial V"},
        {"v_init_max_mv", &parameters::v_init_max_mv, "mV", "upper bound of the initial V"}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {
        {"v_mv", &state::v_mv, "mV", "membrane potential"},
        {"g_e_ns", &state::g_e_ns, "nS", "excitatory conductance"},
        {"g_i_ns", &state::g_i_ns, "nS", "inhibitory conductance"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static derived derive(const parameters& p);
  // The derived constants with I_inj (pA) added to I_offset: E_rest and
  // the potentials relative to it.
  static derived with_injection(const derived& d, double i_inj_pa);

  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    s.v_mv = d.p.v_init_min_mv == d.p.v_init_max_mv
                 ? d.p.v_init_min_mv
                 : r.uniform(d.p.v_init_min_mv, d.p.v_init_max_mv);
  }

  // The Taylor series of y(s) = V(t + s) - E_rest from a free state at t,
  // summed to rounding for s in [0, span] (span <= step_ms(...)).
  struct series {
    static constexpr int max_order = 40;
    std::array<double, max_order + 1> coef{};
    int order = 0;
    double at(double s) const {
      double v = coef[order];
      for (int k = order; k-- > 0;) v = v * s + coef[k];
      return v;
    }
    double slope(double s) const {
      double v = order * coef[order];
      for (int k = order; k-- > 1;) v = v * s + k * coef[k];
      return v;
    }
  };
  // k_e, k_i: conductances over C (1/ms).
  static series taylor(const derived& d, double y0, double k_e, double k_i, double span_ms);
  // The longest span of one series step from conductances k_e, k_i.
  static double step_ms(const derived& d, double k_e, double k_i) {
    return step_factor / (d.leak_per_ms + k_e + k_i + d.fastest_decay);
  }

  // An upper bound of y over [a, a + duration] (duration may be infinite)
  // from y(a) = y_a, when k_e stays within [k_e_lo, k_e_hi] and k_i within
  // [k_i_lo, k_i_hi] there (+infinity when none is proven).
  static double sup_bound(const derived& d, double y_a, double k_e_hi, double k_e_lo, double k_i_hi,
                          double k_i_lo, double duration_ms);

  static void advance(state& s, const derived& d, double from_ms, double to_ms);

  static void receive(state& s, const derived&, int, double weight, double) {
    if (weight >= 0)
      s.g_e_ns += weight;
    else
      s.g_i_ns -= weight;
  }

  // Exact within one series step, provisional beyond it; certain never when
  // even the largest excitation without inhibition stays below threshold.
  static spike_prediction predict(const state& s, const derived& d, double t_ms);

  // The exact next crossing: predictions chained until one is certain
  // (at most a million steps; +infinity after that).
  static double next_spike(const state& s, const derived& d, double t_ms);

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

// lif_cond_exp with an injected current (see the top of this file); its
// state and constants extend lif_cond_exp's, whose dynamics it runs under
// the E_rest of the current I_inj.
struct lif_cond_exp_injected {
  using base = lif_cond_exp;
  static constexpr std::string_view name = "lif_cond_exp_injected";
  static constexpr int compartments = 1 + injection_parts;

  struct parameters : base::parameters {
    double i_inj_init_pa = 0.0;
  };
  struct derived : base::derived {
    double i_inj_init_pa = 0.0;
  };
  struct state : base::state {
    double inj_hi_pa = 0.0, inj_mid_pa = 0.0, inj_lo_pa = 0.0;
  };

  static std::span<const field<parameters>> parameter_fields() {
    static const auto f = extended_fields<parameters>(
        base::parameter_fields(),
        {{"i_inj_init_pa", &parameters::i_inj_init_pa, "pA", "injected current at time 0"}});
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static const auto f = extended_fields<state>(
        base::state_fields(),
        {{"inj_hi_pa", &state::inj_hi_pa, "pA", "injected current, first part"},
         {"inj_mid_pa", &state::inj_mid_pa, "pA", "injected current, second part"},
         {"inj_lo_pa", &state::inj_lo_pa, "pA", "injected current, third part"}});
    return f;
  }

  static derived derive(const parameters& p) {
    require(std::isfinite(p.i_inj_init_pa), name, "i_inj_init_pa", p.i_inj_init_pa,
            "must be finite");
    return {base::derive(p), p.i_inj_init_pa};
  }
  static void init(state& s, const derived& d, rng& r) {
    s = state{};
    base::init(s, d, r);
    s.inj_hi_pa = d.i_inj_init_pa;
  }

  // f(lif_cond_exp's constants under the current I_inj of s): d itself
  // without a current, else a copy with E_rest moved.
  template <class F>
  static auto under_current(const state& s, const derived& d, F f) {
    const double i = injected(s.inj_hi_pa, s.inj_mid_pa, s.inj_lo_pa);
    return i == 0 ? f(static_cast<const base::derived&>(d)) : f(base::with_injection(d, i));
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    under_current(s, d, [&](const base::derived& at) { base::advance(s, at, from_ms, to_ms); });
  }
  static void receive(state& s, const derived& d, int compartment, double weight, double t_ms) {
    if (compartment != 0)
      set_injection_part(compartment, weight, s.inj_hi_pa, s.inj_mid_pa, s.inj_lo_pa);
    else
      base::receive(s, d, compartment, weight, t_ms);
  }
  static spike_prediction predict(const state& s, const derived& d, double t_ms) {
    return under_current(s, d, [&](const base::derived& at) { return base::predict(s, at, t_ms); });
  }
  static double next_spike(const state& s, const derived& d, double t_ms) {
    return under_current(s, d,
                         [&](const base::derived& at) { return base::next_spike(s, at, t_ms); });
  }
  static void fire(state& s, const derived& d, double t_ms) { base::fire(s, d, t_ms); }
};

}  // namespace apical::models
