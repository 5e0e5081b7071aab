#pragma once
// Spike-timing-dependent plasticity: pair and triplet rules, each with an
// all-to-all and a nearest-spike variant. Hooks run at exact event times
// (plasticity.hpp); traces follow traces.hpp. All weights are clipped to
// [w_min, w_max] after every update (hard bounds).
//
// Pair STDP (Song, Miller & Abbott 2000; Morrison, Diesmann & Gerstner 2008).
// x: presynaptic trace (tau_plus_ms), y: postsynaptic trace (tau_minus_ms).
//   on_pre  (arrival at t):  w <- w - F-(w) y(t)
//   on_post (spike at t):    w <- w + F+(w) x(t)
//   additive:        F+(w) = a_plus,                 F-(w) = a_minus
//   multiplicative:  F+(w) = a_plus (w_max - w),     F-(w) = a_minus (w - w_min)
//                    (van Rossum, Bi & Turrigiano 2000; Guetig et al. 2003
//                    with mu = 1)
// One pair with dt = t_post - t_arrival changes w by F+ exp(-dt/tau_plus)
// for dt > 0 and by -F- exp(dt/tau_minus) for dt < 0.
//   all-to-all:  x <- x + 1 at each arrival, y <- y + 1 at each post spike:
//                every pre/post pair interacts.
//   nearest:     x <- 1, y <- 1: a post spike pairs with the latest arrival
//                before it, an arrival with the latest post spike before it
//                (symmetric nearest-spike, Morrison et al. 2008, fig. 7B).
//
// | name          | unit | default | meaning                                |
// |---------------|------|---------|----------------------------------------|
// | tau_plus_ms   | ms   | 20      | potentiation window (presynaptic trace)|
// | tau_minus_ms  | ms   | 20      | depression window (postsynaptic trace) |
// | a_plus        | w, 1 | -       | potentiation amplitude (w: additive;   |
// |               |      |         | dimensionless: multiplicative)         |
// | a_minus       | w, 1 | -       | depression amplitude (same units)      |
// | w_min         | w    | 0       | lower bound                            |
// | w_max         | w    | -       | upper bound                            |
//
// Triplet STDP (Pfister & Gerstner 2006, eqs. 2-3). Presynaptic traces r1
// (tau_plus_ms), r2 (tau_x_ms); postsynaptic o1 (tau_minus_ms), o2
// (tau_y_ms). A trace read "before" a spike excludes that spike.
//   on_pre  (arrival at t):  w <- w - o1(t) [a2_minus + a3_minus r2(t-)]
//   on_post (spike at t):    w <- w + r1(t) [a2_plus  + a3_plus  o2(t-)]
//   all-to-all: every trace += 1 at its spikes; nearest: every trace <- 1
//   (the "nearest-spike" model of the paper; its "minimal" model is
//   a2_plus = 0 and a3_minus = 0).
//
// | name          | unit | default | meaning                                |
// |---------------|------|---------|----------------------------------------|
// | tau_plus_ms   | ms   | 16.8    | r1: pair potentiation window           |
// | tau_minus_ms  | ms   | 33.7    | o1: pair depression window             |
// | tau_x_ms      | ms   | 101     | r2: presynaptic triplet window         |
// | tau_y_ms      | ms   | 125     | o2: postsynaptic triplet window        |
// | a2_plus       | w    | -       | pair potentiation amplitude            |
// | a3_plus       | w    | -       | triplet potentiation amplitude         |
// | a2_minus      | w    | -       | pair depression amplitude              |
// | a3_minus      | w    | -       | triplet depression amplitude           |
// | w_min         | w    | 0       | lower bound                            |
// | w_max         | w    | -       | upper bound                            |
// Time-constant defaults: visual cortex, all-to-all fit of the paper.
//
// Amplitudes and w_max have no default: their scale is the unit of the
// projection's weights (mV for lif_delta, nA for lif_exp), which the rule
// cannot know.
#include <algorithm>
#include <array>
#include <limits>
#include <span>
#include <string_view>
#include <utility>

#include "apical/learning/plasticity/plasticity.hpp"
#include "apical/learning/plasticity/traces.hpp"

namespace apical::learning {

// The value of a parameter that has no default (validation rejects it).
inline constexpr double no_default = std::numeric_limits<double>::quiet_NaN();

struct stdp_pair_parameters {
  double tau_plus_ms = 20.0;
  double tau_minus_ms = 20.0;
  double a_plus = no_default;
  double a_minus = no_default;
  double w_min = 0.0;
  double w_max = no_default;
};

struct stdp_triplet_parameters {
  double tau_plus_ms = 16.8;
  double tau_minus_ms = 33.7;
  double tau_x_ms = 101.0;
  double tau_y_ms = 125.0;
  double a2_plus = no_default;
  double a3_plus = no_default;
  double a2_minus = no_default;
  double a3_minus = no_default;
  double w_min = 0.0;
  double w_max = no_default;
};

// Throw parameter_error naming `rule`, the field and the expected value.
void validate_stdp_pair(std::string_view rule, const stdp_pair_parameters& p);
void validate_stdp_triplet(std::string_view rule, const stdp_triplet_parameters& p);
std::span<const rule_field<stdp_triplet_parameters>> stdp_triplet_fields();

struct all_to_all_pairing {
  static constexpr trace_kind kind = trace_kind::all_to_all;
};
struct nearest_pairing {
  static constexpr trace_kind kind = trace_kind::nearest;
};

struct additive_dependence {
  static std::span<const rule_field<stdp_pair_parameters>> fields();
  static double potentiate(const stdp_pair_parameters& p, double w, double x) {
    return w + p.a_plus * x;
  }
  static double depress(const stdp_pair_parameters& p, double w, double y) {
    return w - p.a_minus * y;
  }
};
struct multiplicative_dependence {
  static std::span<const rule_field<stdp_pair_parameters>> fields();
  static double potentiate(const stdp_pair_parameters& p, double w, double x) {
    return w + p.a_plus * (p.w_max - w) * x;
  }
  static double depress(const stdp_pair_parameters& p, double w, double y) {
    return w - p.a_minus * (w - p.w_min) * y;
  }
};

template <class Dependence, class Pairing>
struct stdp_pair_rule {
  using parameters = stdp_pair_parameters;
  static std::span<const rule_field<parameters>> parameter_fields() { return Dependence::fields(); }
  static std::array<trace_spec, 1> pre_traces(const parameters& p) {
    return {{{p.tau_plus_ms, Pairing::kind}}};
  }
  static std::array<trace_spec, 1> post_traces(const parameters& p) {
    return {{{p.tau_minus_ms, Pairing::kind}}};
  }
  static std::pair<double, double> weight_bounds(const parameters& p) { return {p.w_min, p.w_max}; }

  static double on_pre(const parameters& p, double w, const trace_values<1>&,
                       const trace_values<1>& post) {
    return std::clamp(Dependence::depress(p, w, post[0]), p.w_min, p.w_max);
  }
  static double on_post(const parameters& p, double w, const trace_values<1>& pre,
                        const trace_values<1>&) {
    return std::clamp(Dependence::potentiate(p, w, pre[0]), p.w_min, p.w_max);
  }
};

template <class Pairing>
struct stdp_triplet_rule {
  using parameters = stdp_triplet_parameters;
  static std::span<const rule_field<parameters>> parameter_fields() {
    return stdp_triplet_fields();
  }
  // r1, r2
  static std::array<trace_spec, 2> pre_traces(const parameters& p) {
    return {{{p.tau_plus_ms, Pairing::kind}, {p.tau_x_ms, Pairing::kind}}};
  }
  // o1, o2
  static std::array<trace_spec, 2> post_traces(const parameters& p) {
    return {{{p.tau_minus_ms, Pairing::kind}, {p.tau_y_ms, Pairing::kind}}};
  }
  static std::pair<double, double> weight_bounds(const parameters& p) { return {p.w_min, p.w_max}; }

  static double on_pre(const parameters& p, double w, const trace_values<2>& pre_before,
                       const trace_values<2>& post) {
    return std::clamp(w - post[0] * (p.a2_minus + p.a3_minus * pre_before[1]), p.w_min, p.w_max);
  }
  static double on_post(const parameters& p, double w, const trace_values<2>& pre,
                        const trace_values<2>& post_before) {
    return std::clamp(w + pre[0] * (p.a2_plus + p.a3_plus * post_before[1]), p.w_min, p.w_max);
  }
};

// The rules by name.
struct stdp_additive : stdp_pair_rule<additive_dependence, all_to_all_pairing> {
  static constexpr std::string_view name = "stdp_additive";
  static void validate(const parameters& p) { validate_stdp_pair(name, p); }
};
struct stdp_additive_nearest : stdp_pair_rule<additive_dependence, nearest_pairing> {
  static constexpr std::string_view name = "stdp_additive_nearest";
  static void validate(const parameters& p) { validate_stdp_pair(name, p); }
};
struct stdp_multiplicative : stdp_pair_rule<multiplicative_dependence, all_to_all_pairing> {
  static constexpr std::string_view name = "stdp_multiplicative";
  static void validate(const parameters& p) { validate_stdp_pair(name, p); }
};
struct stdp_multiplicative_nearest : stdp_pair_rule<multiplicative_dependence, nearest_pairing> {
  static constexpr std::string_view name = "stdp_multiplicative_nearest";
  static void validate(const parameters& p) { validate_stdp_pair(name, p); }
};
struct stdp_triplet : stdp_triplet_rule<all_to_all_pairing> {
  static constexpr std::string_view name = "stdp_triplet";
  static void validate(const parameters& p) { validate_stdp_triplet(name, p); }
};
struct stdp_triplet_nearest : stdp_triplet_rule<nearest_pairing> {
  static constexpr std::string_view name = "stdp_triplet_nearest";
  static void validate(const parameters& p) { validate_stdp_triplet(name, p); }
};

static_assert(plasticity_rule<stdp_additive>);
static_assert(plasticity_rule<stdp_triplet>);

extern template class plastic_projection<stdp_additive>;
extern template class plastic_projection<stdp_additive_nearest>;
extern template class plastic_projection<stdp_multiplicative>;
extern template class plastic_projection<stdp_multiplicative_nearest>;
extern template class plastic_projection<stdp_triplet>;
extern template class plastic_projection<stdp_triplet_nearest>;

}  // namespace apical::learning
