#pragma once
// error_cell: the error interneuron (E+ or E-) of the learning microcircuit.
//
// An integrate-and-fire counter with reset by subtraction and a gate:
//
//   V in mV relative to rest; between inputs  tau_m dV/dt = -V
//     (tau_m_ms = inf, the default: a perfect integrator)
//   input w into compartment 0 (error drive):  V <- V + w, if t >= open_from_ms
//     and, when gated, the gate is open (t < gate_until)
//   input into compartment 1 (gate, from the unit's pyramidal cell):
//     gate_until <- t + gate_ms   (the weight is ignored)
//   input w into compartment 2 (ungated: the partner cell's spikes):
//     V <- V + w, if t >= open_from_ms
//   V >= theta:  spike, V <- V - theta  (no refractoriness; an input of
//     several theta gives several spikes at the same instant)
//
// Why not lif_delta. The microcircuit needs the error cells' spike counts to
// be proportional to their net drive, signed, so that rho+ - rho- carries
// delta. A leaky cell with reset to rest has a dead zone below threshold and
// loses the overshoot at every reset; a perfect integrator with reset by
// subtraction is a sigma-delta quantiser: after any monotone drive S its
// count is floor((S + V0) / theta), and with the initial potential V0 drawn
// uniformly from [0, theta) (dither) its mean is S / theta exactly. The gate
// is the spiking form of f'(u): error drive arriving while the unit's
// pyramidal cell has been silent for longer than gate_ms is dropped, not
// stored. Inputs can only raise V at input times and V only decays between
// them, so a crossing happens only at an input: next_spike is "now" or
// never, and no root search is needed.
//
// Pairs. Cells i and pair_size + i are the E+ and E- of one unit; when their
// spikes excite each other by theta (the microcircuit's pair coupling) and
// their drives are opposite, V+ + V- stays at its initial value C, and the
// pair is a signed counter of the net drive. It is stable only for C < theta
// (for C >= theta a spike of one can push the other over threshold, and it
// back, without end). So a dithered pair starts at V+ = U, V- = theta (1 -
// 1e-9) - U with one U ~ U[0, theta): each marginal is still uniform (counts
// unbiased in both directions) and C < theta.
//
// | name          | unit | default | meaning                                   |
// |---------------|------|---------|-------------------------------------------|
// | theta_mv      | mV   | 1       | threshold above rest, and the subtraction |
// | tau_m_ms      | ms   | inf     | leak time constant (inf: no leak)         |
// | gated         | 1    | 0       | 1: compartment 0 needs an open gate       |
// | gate_ms       | ms   | 20      | how long a gate input keeps the gate open |
// | open_from_ms  | ms   | 0       | inputs to compartments 0 and 2 before it  |
// |               |      |         | are dropped (the error phase starts)      |
// | dither        | 1    | 0       | 1: initial V uniform in [0, theta)        |
// | pair_size     | 1    | 0       | > 0: cells i, pair_size + i are a pair    |
// |               |      |         | with complementary dither (see Pairs)     |
//
// State: v_mv, gate_until_ms.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "apical/engine/error.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/engine/random.hpp"
#include "apical/models/two_compartment.hpp"

namespace apical::models {

struct error_cell {
  static constexpr std::string_view name = "error_cell";
  static constexpr int compartments = 3;
  static constexpr int drive = 0;
  static constexpr int gate = 1;
  static constexpr int ungated = 2;

  struct parameters {
    double theta_mv = 1.0;
    double tau_m_ms = std::numeric_limits<double>::infinity();
    double gated = 0.0;
    double gate_ms = 20.0;
    double open_from_ms = 0.0;
    double dither = 0.0;
    double pair_size = 0.0;
  };
  struct derived {
    parameters p;
    bool leaky;
  };
  struct state {
    double v_mv = 0.0;
    double gate_until_ms = -std::numeric_limits<double>::infinity();
  };

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"theta_mv", &parameters::theta_mv, "mV", "threshold above rest"},
        {"tau_m_ms", &parameters::tau_m_ms, "ms", "leak time constant (inf: none)"},
        {"gated", &parameters::gated, "1", "1: drive needs an open gate"},
        {"gate_ms", &parameters::gate_ms, "ms", "gate open time after a gate input"},
        {"open_from_ms", &parameters::open_from_ms, "ms", "inputs before are dropped"},
        {"dither", &parameters::dither, "1", "1: initial V uniform in [0, theta)"},
        {"pair_size", &parameters::pair_size, "1", "cells i and pair_size + i are a pair"}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {
        {"v_mv", &state::v_mv, "mV", "potential above rest"},
        {"gate_until_ms", &state::gate_until_ms, "ms", "the gate is open before this time"}};
    return f;
  }

  static void require(bool ok, std::string_view field_name, double value,
                      std::string_view expected) {
    if (!ok)
      throw parameter_error(std::string(name) + ": parameter '" + std::string(field_name) + "' " +
                            std::string(expected) + ", got " + std::to_string(value));
  }

  static derived derive(const parameters& p) {
    require(p.theta_mv > 0 && std::isfinite(p.theta_mv), "theta_mv", p.theta_mv,
            "must be finite and > 0");
    require(p.tau_m_ms > 0, "tau_m_ms", p.tau_m_ms, "must be > 0 (inf for no leak)");
    require(p.gated == 0.0 || p.gated == 1.0, "gated", p.gated, "must be 0 or 1");
    require(p.gate_ms >= 0, "gate_ms", p.gate_ms, "must be >= 0");
    require(p.open_from_ms >= 0, "open_from_ms", p.open_from_ms, "must be >= 0 (inf: closed)");
    require(p.dither == 0.0 || p.dither == 1.0, "dither", p.dither, "must be 0 or 1");
    require(
        p.pair_size >= 0 && p.pair_size < 4294967296.0 && p.pair_size == std::floor(p.pair_size),
        "pair_size", p.pair_size, "must be a whole number >= 0");
    return {p, std::isfinite(p.tau_m_ms)};
  }

  // Neuron order; a pair's two cells draw their U from the same stream,
  // derived from the population's without advancing it.
  static void init(state& s, const derived& d, rng& r, std::uint32_t neuron) {
    s.gate_until_ms = -std::numeric_limits<double>::infinity();
    s.v_mv = 0.0;
    if (d.p.dither == 0.0) return;
    const auto pairs = static_cast<std::uint64_t>(d.p.pair_size);
    if (pairs == 0) {
      s.v_mv = r.uniform(0.0, d.p.theta_mv);
      return;
    }
    rng population_stream = r;  // a copy: r itself is not advanced
    rng pair(derive_seed(population_stream(), neuron % pairs));
    const double u = pair.uniform(0.0, d.p.theta_mv);
    s.v_mv = neuron < pairs ? u : d.p.theta_mv * (1.0 - 1e-9) - u;
  }

  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    if (d.leaky) s.v_mv *= std::exp(-(to_ms - from_ms) / d.p.tau_m_ms);
  }

  static void receive(state& s, const derived& d, int compartment, double weight, double t_ms) {
    if (compartment == gate) {
      s.gate_until_ms = t_ms + d.p.gate_ms;
      return;
    }
    if (t_ms < d.p.open_from_ms) return;
    if (compartment == drive && d.p.gated != 0.0 && !(t_ms < s.gate_until_ms)) return;
    s.v_mv += weight;
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    return s.v_mv >= d.p.theta_mv ? t_ms : std::numeric_limits<double>::infinity();
  }

  static void fire(state& s, const derived& d, double) { s.v_mv -= d.p.theta_mv; }
};

// pyramidal_cell: models::two_compartment with kappa = 0, evaluated lazily.
//
// The equations, parameters (the same struct and table), initial state,
// inputs and reset are two_compartment's; see models/two_compartment.hpp.
// With kappa = 0 the apical compartment never reaches the soma, so:
//   - a basal input advances only V_s (one exponential, not two): the
//     apical potential is advanced only when an apical input arrives, and is
//     stored with the time it holds for (v_a_mv at t_a_ms);
//   - with E_L below threshold, the soma can cross only at an input, so the
//     next crossing is "now" (V_s >= V_th) or never, without a root search
//     (a suprathreshold E_L falls back to two_compartment's search).
// V_s, and so the spike train, is bit-identical to two_compartment's with
// kappa = 0 (tests/learning/test_microcircuit_cells.cpp checks it spike for
// spike). This is where a 784-800-10 network spends most of its time: every
// input spike reaches 800 basal compartments.
//
// State: v_s_mv, v_a_mv (the apical potential at t_a_ms), t_a_ms,
// ref_until_ms.
struct pyramidal_cell {
  using base = two_compartment;
  static constexpr std::string_view name = "pyramidal_cell";
  static constexpr int compartments = 2;
  static constexpr int basal = base::basal;
  static constexpr int apical = base::apical;

  using parameters = base::parameters;
  struct derived {
    parameters p;
    base::derived full;
    bool rest_below_threshold;
  };
  struct state {
    double v_s_mv = 0.0;
    double v_a_mv = 0.0;
    double t_a_ms = 0.0;
    double ref_until_ms = -std::numeric_limits<double>::infinity();
  };

  static std::span<const field<parameters>> parameter_fields() { return base::parameter_fields(); }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {
        {"v_s_mv", &state::v_s_mv, "mV", "somatic potential"},
        {"v_a_mv", &state::v_a_mv, "mV", "apical potential at t_a_ms"},
        {"t_a_ms", &state::t_a_ms, "ms", "time of the last apical input"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static derived derive(const parameters& p) {
    if (p.kappa != 0.0)
      throw parameter_error(std::string(name) + ": parameter 'kappa' must be 0 (use " +
                            std::string(base::name) + " for a coupled apical compartment), got " +
                            std::to_string(p.kappa));
    return {p, base::derive(p), p.e_l_mv < p.v_th_mv};
  }

  static void init(state& s, const derived& d, rng& r) {
    base::state b;
    base::init(b, d.full, r);
    s = {b.v_s_mv, b.v_a_mv, 0.0, b.ref_until_ms};
  }

  // two_compartment::advance restricted to the soma (same expressions, so
  // the same bits).
  static void advance(state& s, const derived& d, double from_ms, double to_ms) {
    const auto& p = d.p;
    if (from_ms < s.ref_until_ms) {
      const double until = std::min(to_ms, s.ref_until_ms);
      s.v_s_mv = p.v_reset_mv;
      from_ms = until;
    }
    const double dt = to_ms - from_ms;
    if (dt <= 0) return;
    s.v_s_mv = p.e_l_mv + (s.v_s_mv - p.e_l_mv) * std::exp(-dt / p.tau_s_ms);
  }

  static void receive(state& s, const derived& d, int compartment, double weight, double t_ms) {
    if (compartment == apical) {
      const auto& p = d.p;
      s.v_a_mv =
          p.e_a_mv + (s.v_a_mv - p.e_a_mv) * std::exp(-(t_ms - s.t_a_ms) / p.tau_a_ms) + weight;
      s.t_a_ms = t_ms;
    } else if (t_ms >= s.ref_until_ms) {
      s.v_s_mv += weight;
    }
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    if (!d.rest_below_threshold) {
      const base::state b{s.v_s_mv, s.v_a_mv, s.ref_until_ms};
      return base::next_spike(b, d.full, t_ms);
    }
    // V_s only relaxes towards E_L < V_th between inputs.
    if (t_ms < s.ref_until_ms) return std::numeric_limits<double>::infinity();
    return s.v_s_mv >= d.p.v_th_mv ? t_ms : std::numeric_limits<double>::infinity();
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_s_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
  }
};

}  // namespace apical::models
