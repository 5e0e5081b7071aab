#include "apical/learning/microcircuit/params.hpp"

#include <array>
#include <cmath>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::learning {
namespace {

template <class Enum, std::size_t N>
Enum parse_name(std::string_view name, std::string_view field,
                const std::array<std::pair<std::string_view, Enum>, N>& table) {
  std::string normalised(name);
  for (char& c : normalised)
    if (c == '_') c = '-';
  for (const auto& [n, value] : table)
    if (n == normalised) return value;
  std::string known;
  for (const auto& [n, value] : table) known += (known.empty() ? "" : ", ") + std::string(n);
  throw parameter_error(
      fmt::format("{}: unknown value '{}'; expected one of {}", field, name, known));
}

constexpr std::array<std::pair<std::string_view, feedback_mode>, 4> feedback_names{{
    {"sign-concordant", feedback_mode::sign_concordant},
    {"random", feedback_mode::random},
    {"symmetric", feedback_mode::symmetric},
    {"direct", feedback_mode::direct},
}};
constexpr std::array<std::pair<std::string_view, error_phase>, 2> phase_names{{
    {"concurrent", error_phase::concurrent},
    {"after-settle", error_phase::after_settle},
}};
constexpr std::array<std::pair<std::string_view, somatic_gate>, 2> gate_names{{
    {"window", somatic_gate::window},
    {"trace", somatic_gate::trace},
}};
constexpr std::array<std::pair<std::string_view, update_schedule>, 3> schedule_names{{
    {"online", update_schedule::online},
    {"per-sample", update_schedule::per_sample},
    {"mini-batch", update_schedule::mini_batch},
}};
constexpr std::array<std::pair<std::string_view, sample_transition>, 2> transition_names{{
    {"reset", sample_transition::reset},
    {"decay", sample_transition::decay},
}};
constexpr std::array<std::pair<std::string_view, input_coding>, 2> coding_names{{
    {"poisson", input_coding::poisson},
    {"regular", input_coding::regular},
}};
constexpr std::array<std::pair<std::string_view, output_cells>, 2> output_names{{
    {"pyramidal", output_cells::pyramidal},
    {"softmax", output_cells::softmax},
}};

template <class Enum, std::size_t N>
std::string_view name_of(Enum value,
                         const std::array<std::pair<std::string_view, Enum>, N>& table) {
  for (const auto& [n, v] : table)
    if (v == value) return n;
  return "?";
}

void require(bool ok, std::string_view field, double value, std::string_view expected) {
  if (!ok)
    throw parameter_error(
        fmt::format("microcircuit: parameter '{}' is {}; expected {}", field, value, expected));
}

}  // namespace

std::string_view to_string(feedback_mode m) {
  return name_of(m, feedback_names);
}
std::string_view to_string(error_phase p) {
  return name_of(p, phase_names);
}
std::string_view to_string(somatic_gate g) {
  return name_of(g, gate_names);
}
std::string_view to_string(update_schedule s) {
  return name_of(s, schedule_names);
}
std::string_view to_string(sample_transition t) {
  return name_of(t, transition_names);
}
std::string_view to_string(input_coding c) {
  return name_of(c, coding_names);
}
std::string_view to_string(output_cells c) {
  return name_of(c, output_names);
}

feedback_mode parse_feedback_mode(std::string_view name, std::string_view field) {
  return parse_name(name, field, feedback_names);
}
error_phase parse_error_phase(std::string_view name, std::string_view field) {
  return parse_name(name, field, phase_names);
}
somatic_gate parse_somatic_gate(std::string_view name, std::string_view field) {
  return parse_name(name, field, gate_names);
}
update_schedule parse_update_schedule(std::string_view name, std::string_view field) {
  return parse_name(name, field, schedule_names);
}
sample_transition parse_sample_transition(std::string_view name, std::string_view field) {
  return parse_name(name, field, transition_names);
}
input_coding parse_input_coding(std::string_view name, std::string_view field) {
  return parse_name(name, field, coding_names);
}
output_cells parse_output_cells(std::string_view name, std::string_view field) {
  return parse_name(name, field, output_names);
}

void microcircuit_params::validate() const {
  if (layer_sizes.size() < 2)
    throw parameter_error(fmt::format(
        "microcircuit: parameter 'layer_sizes' has {} entries; expected at least 2 (input and "
        "output)",
        layer_sizes.size()));
  for (std::size_t l = 0; l < layer_sizes.size(); ++l)
    if (layer_sizes[l] == 0 || layer_sizes[l] > (1u << 24))
      throw parameter_error(
          fmt::format("microcircuit: parameter 'layer_sizes[{}]' is {}; expected 1 to 16777216", l,
                      layer_sizes[l]));
  first_layer.validate(layer_sizes.front(), layer_sizes.size() > 2 ? layer_sizes[1] : 0);
  if (first_layer.enabled() && schedule == update_schedule::online)
    throw parameter_error(
        "microcircuit: local fields (first_layer) need the mini-batch or per-sample schedule; the "
        "online schedule changes every synapse of the dense layer in place");
  require(pyramidal.kappa == 0.0, "pyramidal.kappa", pyramidal.kappa,
          "0 (apical input must not drive the soma)");
  models::two_compartment::derive(pyramidal);  // throws naming the field
  require(error_theta_mv > 0 && std::isfinite(error_theta_mv), "error_theta_mv", error_theta_mv,
          "a finite value > 0 mV");
  require(error_tau_m_ms > 0, "error_tau_m_ms", error_tau_m_ms, "> 0 ms (inf: no leak)");
  require(init_gain >= 0 && std::isfinite(init_gain), "init_gain", init_gain,
          "a finite value >= 0");
  require(feedforward_delay_ms >= 0 && std::isfinite(feedforward_delay_ms), "feedforward_delay_ms",
          feedforward_delay_ms, "a finite delay >= 0 ms");
  require(feedback_weight_mv >= 0 && std::isfinite(feedback_weight_mv), "feedback_weight_mv",
          feedback_weight_mv, "a finite value >= 0 mV");
  require(std::isfinite(symmetric_gain), "symmetric_gain", symmetric_gain, "a finite value");
  require(error_delay_ms >= 0 && std::isfinite(error_delay_ms), "error_delay_ms", error_delay_ms,
          "a finite delay >= 0 ms");
  require(local_delay_ms >= 0 && std::isfinite(local_delay_ms), "local_delay_ms", local_delay_ms,
          "a finite delay >= 0 ms");
  require(output_error_weight_mv > 0 && std::isfinite(output_error_weight_mv),
          "output_error_weight_mv", output_error_weight_mv, "a finite value > 0 mV");
  require(window_ms > 0 && std::isfinite(window_ms), "window_ms", window_ms,
          "a finite window > 0 ms");
  require(test_window_ms >= 0 && std::isfinite(test_window_ms), "test_window_ms", test_window_ms,
          "a finite window >= 0 ms (0: window_ms)");
  if (test_window_ms != 0.0 && encoder)
    throw parameter_error(
        "microcircuit: parameter 'test_window_ms' needs the built-in encoder (a custom "
        "encoder's spike trains have the length it gives them); expected 0");
  if (coding != input_coding::poisson && encoder)
    throw parameter_error(
        "microcircuit: parameter 'input_coding' applies to the built-in encoder only (a custom "
        "encoder makes its own spike trains); expected poisson");
  require(settle_ms >= 0 && (phase == error_phase::concurrent || settle_ms < window_ms),
          "settle_ms", settle_ms, "in [0, window_ms) ms");
  require(input_rate_hz >= 0 && std::isfinite(input_rate_hz), "input_rate_hz", input_rate_hz,
          "a finite rate >= 0 Hz");
  require(teacher_on_hz >= 0 && teacher_on_hz <= 10000, "teacher_on_hz", teacher_on_hz,
          "a rate in [0, 10000] Hz");
  require(teacher_off_hz >= 0 && teacher_off_hz <= 10000, "teacher_off_hz", teacher_off_hz,
          "a rate in [0, 10000] Hz");
  require(gap_ms >= 0 && std::isfinite(gap_ms), "gap_ms", gap_ms, "a finite gap >= 0 ms");
  require(learning_rate >= 0 && std::isfinite(learning_rate), "learning_rate", learning_rate,
          "a finite value >= 0");
  if (!layer_rate_scale.empty() && layer_rate_scale.size() != num_layers())
    throw parameter_error(fmt::format(
        "microcircuit: parameter 'layer_rate_scale' has {} entries; expected 0 or {} (one per "
        "weight layer)",
        layer_rate_scale.size(), num_layers()));
  for (std::size_t w = 0; w < layer_rate_scale.size(); ++w)
    require(layer_rate_scale[w] >= 0 && std::isfinite(layer_rate_scale[w]),
            fmt::format("layer_rate_scale[{}]", w), layer_rate_scale[w], "a finite value >= 0");
  require(tau_x_ms > 0 && std::isfinite(tau_x_ms), "tau_x_ms", tau_x_ms, "a finite value > 0 ms");
  require(tau_g_ms > 0 && std::isfinite(tau_g_ms), "tau_g_ms", tau_g_ms, "a finite value > 0 ms");
  require(batch_size >= 1, "batch_size", static_cast<double>(batch_size), ">= 1");
  require(momentum >= 0 && momentum < 1, "momentum", momentum, "a value in [0, 1)");
  require(homeostasis_rate_mv >= 0 && std::isfinite(homeostasis_rate_mv), "homeostasis_rate_mv",
          homeostasis_rate_mv, "a finite value >= 0 mV (0: fixed thresholds)");
  require(homeostasis_target_hz >= 0 && std::isfinite(homeostasis_target_hz),
          "homeostasis_target_hz", homeostasis_target_hz, "a finite rate >= 0 Hz");
  require(homeostasis_floor_mv > 0 && homeostasis_floor_mv <= pyramidal.v_th_mv - pyramidal.e_l_mv,
          "homeostasis_floor_mv", homeostasis_floor_mv,
          "a value in (0, v_th_mv - e_l_mv] mV (thresholds stay above rest)");
  require(homeostasis_ceiling_mv >= 0, "homeostasis_ceiling_mv", homeostasis_ceiling_mv,
          "a value >= 0 mV (inf: no ceiling)");
  require(!std::isnan(w_min_mv), "w_min_mv", w_min_mv, "a number (-inf: unbounded)");
  require(!std::isnan(w_max_mv) && w_max_mv >= w_min_mv, "w_max_mv", w_max_mv,
          ">= w_min_mv (inf: unbounded)");
  require(threads >= 1 && threads <= 256, "threads", static_cast<double>(threads), "1 to 256");
  require(chunks >= 1 && chunks <= 4096, "chunks", static_cast<double>(chunks), "1 to 4096");
  if (pair_coupling && !feedback_inhibition)
    throw parameter_error(
        "microcircuit: parameter 'pair_coupling' needs 'feedback_inhibition': a coupled E+/E- "
        "pair is a stable counter only while its two cells get opposite drives (else their "
        "potentials grow together until the coupling makes them fire each other without end)");
  require(softmax_beta_per_mv >= 0 && std::isfinite(softmax_beta_per_mv), "softmax_beta_per_mv",
          softmax_beta_per_mv, "a finite value >= 0 per mV");
  if (output == output_cells::softmax) {
    require(teacher_on_hz > 0, "teacher_on_hz", teacher_on_hz,
            "> 0 Hz with softmax output cells (it is their clock rate)");
    require(teacher_off_hz == 0, "teacher_off_hz", teacher_off_hz,
            "0 Hz with softmax output cells (their counts sum to the label's target)");
    if (between_samples != sample_transition::reset)
      throw parameter_error(
          "microcircuit: parameter 'between_samples' is decay; expected reset with softmax "
          "output cells (their state is not carried between samples)");
  }
  if (schedule == update_schedule::online && momentum != 0.0)
    throw parameter_error(fmt::format(
        "microcircuit: parameter 'momentum' is {}; expected 0 with schedule 'online' (its "
        "updates are applied by the synapses as they happen, with no step to smooth)",
        momentum));
  if (schedule == update_schedule::online && threads != 1)
    throw parameter_error(fmt::format(
        "microcircuit: parameter 'threads' is {}; expected 1 with schedule 'online' (every "
        "update depends on all earlier events)",
        threads));
  if (schedule == update_schedule::online && processes && processes->size() > 1)
    throw parameter_error(fmt::format(
        "microcircuit: schedule 'online' runs on one process, not {} (every update depends on "
        "all earlier events); use schedule 'mini_batch'",
        processes->size()));
}

}  // namespace apical::learning
