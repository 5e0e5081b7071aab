#include "presets.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::app {
namespace {

using params = std::vector<std::pair<std::string, double>>;

constexpr double coba_we_ns = 6.0, coba_wi_ns = 67.0;

projection_spec proj(std::string name, std::string pre, std::string post, std::string rule,
                     double weight, double delay_ms) {
  projection_spec p;
  p.name = std::move(name);
  p.pre = std::move(pre);
  p.post = std::move(post);
  p.rule = std::move(rule);
  p.weight = weight;
  p.delay_ms = delay_ms;
  return p;
}

input_spec input(std::string name, std::string target, double rate_hz, double weight,
                 double stop_ms) {
  input_spec in;
  in.name = std::move(name);
  in.target = std::move(target);
  in.rate_hz = rate_hz;
  in.weight = weight;
  in.stop_ms = stop_ms;
  return in;
}

// The recurrent projections of Brette et al. (2007)'s networks: E and I
// project onto both with p = 0.02 (no autapses), weights we and wi.
void add_brette_projections(network_spec& s, double we, double wi) {
  for (const auto& [name, pre, post, w] :
       std::vector<std::tuple<std::string, std::string, std::string, double>>{
           {"EE", "E", "E", we},
           {"EI", "E", "I", we},
           {"IE", "I", "E", wi},
           {"II", "I", "I", wi}}) {
    auto pr = proj(name, pre, post, "fixed_probability", w, 0.1);
    pr.p = 0.02;
    s.projections.push_back(pr);
  }
}

// The start of a network silent at rest: an independent Poisson train per
// neuron of E and I (mean ISI 10 ms) for the first 50 ms.
void add_kick(network_spec& s, double weight) {
  for (const std::string pop : {"E", "I"})
    s.inputs.push_back(input("kick_" + pop, pop, 100.0, weight, 50.0));
}

// Brette et al. (2007) benchmarks 2 (CUBA) and 4 (voltage jumps): 3200 E,
// 800 I, p = 0.02, no autapses. The recurrent delay is 0.1 ms, the time step
// of the clock-driven reference runs (and > 0, so runs can be parallel).
network_spec brette(bool cuba) {
  network_spec s;
  s.duration_ms = 1000;
  const std::string model = cuba ? "lif_exp" : "lif_delta";
  params p{{"tau_m_ms", 20}, {"e_l_mv", -49},        {"v_th_mv", -50},      {"v_reset_mv", -60},
           {"t_ref_ms", 5},  {"v_init_min_mv", -60}, {"v_init_max_mv", -50}};
  if (cuba) {
    p.emplace_back("tau_e_ms", 5);
    p.emplace_back("tau_i_ms", 10);
  }
  s.populations.push_back({"E", model, 3200, p});
  s.populations.push_back({"I", model, 800, p});
  add_brette_projections(s, cuba ? 1.62 : 0.25, cuba ? -9.0 : -2.25);
  if (!cuba) add_kick(s, 10.0);  // +10 mV
  return s;
}

// Brette et al. (2007) benchmark 1 (COBA; Vogels & Abbott 2005): the same
// 3200 E / 800 I, p = 0.02, no autapses, delay 0.1 ms, with conductance-based
// exponential synapses (lif_cond_exp; weights are conductance increments in
// nS: 6 nS excitatory, 67 nS inhibitory). At rest (-60 mV) below threshold
// the network is silent until kicked: as for brette-bench4, an independent
// Poisson train per neuron (100 Hz, 50 ms), through excitatory synapses
// (6 nS: about 5.7 mV at the peak from rest).
network_spec coba() {
  network_spec s;
  s.duration_ms = 1000;
  const params p{{"tau_m_ms", 20}, {"c_m_pf", 200},        {"e_l_mv", -60},
                 {"v_th_mv", -50}, {"v_reset_mv", -60},    {"t_ref_ms", 5},
                 {"tau_e_ms", 5},  {"tau_i_ms", 10},       {"e_e_mv", 0},
                 {"e_i_mv", -80},  {"v_init_min_mv", -60}, {"v_init_max_mv", -50}};
  s.populations.push_back({"E", "lif_cond_exp", 3200, p});
  s.populations.push_back({"I", "lif_cond_exp", 800, p});
  add_brette_projections(s, coba_we_ns, -coba_wi_ns);
  add_kick(s, coba_we_ns);
  return s;
}

// Brunel (2000), model A: delta synapses, fixed in-degree, Poisson drive.
network_spec brunel(double g, double eta, double scale) {
  network_spec s;
  s.duration_ms = 1000;
  const auto n_e = static_cast<std::size_t>(std::llround(10000 * scale));
  const auto n_i = static_cast<std::size_t>(std::llround(2500 * scale));
  const auto c_e = static_cast<std::size_t>(std::llround(1000 * scale));
  const auto c_i = static_cast<std::size_t>(std::llround(250 * scale));
  const double j = 0.1 / scale, theta = 20.0, tau = 20.0, delay = 1.5;
  const params p{{"tau_m_ms", tau}, {"e_l_mv", 0},         {"v_th_mv", theta},   {"v_reset_mv", 10},
                 {"t_ref_ms", 2},   {"v_init_min_mv", 10}, {"v_init_max_mv", 20}};
  s.populations.push_back({"E", "lif_delta", n_e, p});
  s.populations.push_back({"I", "lif_delta", n_i, p});
  // C_E independent Poisson inputs of rate eta * nu_thr each, merged into one
  // Poisson train per neuron (the sum of Poisson processes is Poisson),
  // with no delay (a delayed Poisson train is a Poisson train).
  const double nu_thr_hz = theta / (j * static_cast<double>(c_e) * tau) * 1000.0;
  const double ext_hz = eta * nu_thr_hz * static_cast<double>(c_e);
  for (const std::string pop : {"E", "I"})
    s.inputs.push_back(input("ext_" + pop, pop, ext_hz, j, std::numeric_limits<double>::infinity()));
  for (const auto& [name, pre, post, w, k] :
       std::vector<std::tuple<std::string, std::string, std::string, double, std::size_t>>{
           {"EE", "E", "E", j, c_e},
           {"EI", "E", "I", j, c_e},
           {"IE", "I", "E", -g * j, c_i},
           {"II", "I", "I", -g * j, c_i}}) {
    auto pr = proj(name, pre, post, "fixed_indegree", w, delay);
    pr.k = k;
    s.projections.push_back(pr);
  }
  return s;
}

// A Brunel network whose E->E synapses follow STDP, the other synapses
// static: the shape of the plastic benchmark of Morrison, Aertsen & Diesmann
// (2007), reduced to one core. brunel-c's neurons, weights, delay, drive and
// in-degrees (C_E = 1000, C_I = 250: every neuron sees the input statistics
// of the full model), with N divided by 2.5 (4000 E, 1000 I) so that a second
// of biological time takes tens of seconds. The rule is the weight-dependent
// pair rule (van Rossum et al. 2000), the closest in apical to Morrison's
// power-law rule, with its fixed point placed at the static weight J:
// w_max = 2 J, and a_minus tuned, as Morrison et al. tuned their alpha, so
// that the mean weight stays at J. (With a_minus = a_plus, the fixed point of
// uncorrelated firing, the delayed population oscillation favours depression:
// mean weight -1.4% and E rate 40 -> 28 Hz within 1 s; with 0.9 a_plus,
// +0.4% and 40 -> 49 Hz.) A step of 1% of J per pair (a_plus (w_max - J) =
// 0.01 J) is that of Morrison's rule at its fixed point. docs/presets.md
// has the figures.
network_spec stdp_balanced() {
  network_spec s = brunel(5.0, 2.0, 1.0);
  for (auto& pop : s.populations) pop.size = pop.name == "E" ? 4000 : 1000;
  const double j = s.projections[0].weight;
  s.plasticity.push_back({"EE",
                          "EE",
                          "stdp_multiplicative",
                          {{"tau_plus_ms", 20},
                           {"tau_minus_ms", 20},
                           {"a_plus", 0.01},
                           {"a_minus", 0.00925},
                           {"w_min", 0},
                           {"w_max", 2 * j}},
                          "preset stdp-balanced"});
  return s;
}

}  // namespace

const std::vector<preset_info>& presets() {
  static const std::vector<preset_info> list = {
      {"brette-bench4", "Brette et al. 2007 benchmark 4: 4000 LIF, voltage jumps, exact"},
      {"cuba", "Brette et al. 2007 benchmark 2: 4000 LIF, exponential currents, exact"},
      {"coba", "Brette et al. 2007 benchmark 1: 4000 LIF, exponential conductances, exact"},
      {"brunel-a", "Brunel 2000 model A, g=3 eta=2 (synchronous regular)"},
      {"brunel-b", "Brunel 2000 model A, g=6 eta=4 (asynchronous irregular)"},
      {"brunel-c", "Brunel 2000 model A, g=5 eta=2 (synchronous irregular, fast)"},
      {"brunel-d", "Brunel 2000 model A, g=4.5 eta=0.9 (synchronous irregular, slow)"},
      {"brunel-scaled", "brunel-c with N and in-degree times --scale, weights / --scale"},
      {"stdp-balanced", "brunel-c with 4000 E / 1000 I, E->E synapses under multiplicative STDP"},
  };
  return list;
}

network_spec make_preset(std::string_view name, double scale) {
  if (!(scale > 0) || !std::isfinite(scale))
    throw parameter_error(fmt::format("--scale: must be > 0, got {}", scale));
  if (scale != 1.0 && name != "brunel-scaled")
    throw parameter_error(fmt::format("--scale applies to brunel-scaled only, not '{}'", name));
  if (name == "brette-bench4") return brette(false);
  if (name == "cuba") return brette(true);
  if (name == "coba") return coba();
  if (name == "brunel-a") return brunel(3.0, 2.0, 1.0);
  if (name == "brunel-b") return brunel(6.0, 4.0, 1.0);
  if (name == "brunel-c") return brunel(5.0, 2.0, 1.0);
  if (name == "brunel-d") return brunel(4.5, 0.9, 1.0);
  if (name == "brunel-scaled") return brunel(5.0, 2.0, scale);
  if (name == "stdp-balanced") return stdp_balanced();
  std::string known;
  for (const auto& p : presets()) known += (known.empty() ? "" : ", ") + std::string(p.name);
  throw parameter_error(fmt::format("unknown preset '{}'; known: {}", name, known));
}

}  // namespace apical::app
