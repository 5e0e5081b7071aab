#include "apical/learning/plasticity/stdp.hpp"

#include <cmath>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::learning {

namespace {

void require(bool ok, std::string_view rule, std::string_view field, double value,
             std::string_view expected) {
  if (!ok)
    throw parameter_error(
        fmt::format("{}: parameter '{}' must be {}, got {}", rule, field, expected, value));
}
void require_time_constant(std::string_view rule, std::string_view field, double tau_ms) {
  require(std::isfinite(tau_ms) && tau_ms > 0.0, rule, field, tau_ms, "finite and > 0 (ms)");
}
void require_amplitude(std::string_view rule, std::string_view field, double a) {
  require(std::isfinite(a) && a >= 0.0, rule, field, a,
          "finite and >= 0 (depression is subtracted, potentiation added)");
}
void require_bounds(std::string_view rule, double w_min, double w_max) {
  require(std::isfinite(w_min), rule, "w_min", w_min, "finite");
  require(std::isfinite(w_max) && w_max > w_min, rule, "w_max", w_max,
          fmt::format("finite and > w_min ({})", w_min));
}

}  // namespace

void validate_stdp_pair(std::string_view rule, const stdp_pair_parameters& p) {
  require_time_constant(rule, "tau_plus_ms", p.tau_plus_ms);
  require_time_constant(rule, "tau_minus_ms", p.tau_minus_ms);
  require_amplitude(rule, "a_plus", p.a_plus);
  require_amplitude(rule, "a_minus", p.a_minus);
  require_bounds(rule, p.w_min, p.w_max);
}

void validate_stdp_triplet(std::string_view rule, const stdp_triplet_parameters& p) {
  require_time_constant(rule, "tau_plus_ms", p.tau_plus_ms);
  require_time_constant(rule, "tau_minus_ms", p.tau_minus_ms);
  require_time_constant(rule, "tau_x_ms", p.tau_x_ms);
  require_time_constant(rule, "tau_y_ms", p.tau_y_ms);
  require_amplitude(rule, "a2_plus", p.a2_plus);
  require_amplitude(rule, "a3_plus", p.a3_plus);
  require_amplitude(rule, "a2_minus", p.a2_minus);
  require_amplitude(rule, "a3_minus", p.a3_minus);
  require_bounds(rule, p.w_min, p.w_max);
}

std::span<const rule_field<stdp_pair_parameters>> additive_dependence::fields() {
  using p = stdp_pair_parameters;
  static constexpr rule_field<p> f[] = {
      {"tau_plus_ms", &p::tau_plus_ms, "ms", false, "potentiation time constant"},
      {"tau_minus_ms", &p::tau_minus_ms, "ms", false, "depression time constant"},
      {"a_plus", &p::a_plus, "w", true, "potentiation amplitude"},
      {"a_minus", &p::a_minus, "w", true, "depression amplitude"},
      {"w_min", &p::w_min, "w", false, "lower weight bound"},
      {"w_max", &p::w_max, "w", true, "upper weight bound"}};
  return f;
}

std::span<const rule_field<stdp_pair_parameters>> multiplicative_dependence::fields() {
  using p = stdp_pair_parameters;
  static constexpr rule_field<p> f[] = {
      {"tau_plus_ms", &p::tau_plus_ms, "ms", false, "potentiation time constant"},
      {"tau_minus_ms", &p::tau_minus_ms, "ms", false, "depression time constant"},
      {"a_plus", &p::a_plus, "1", true, "potentiation rate, times (w_max - w)"},
      {"a_minus", &p::a_minus, "1", true, "depression rate, times (w - w_min)"},
      {"w_min", &p::w_min, "w", false, "lower weight bound"},
      {"w_max", &p::w_max, "w", true, "upper weight bound"}};
  return f;
}

std::span<const rule_field<stdp_triplet_parameters>> stdp_triplet_fields() {
  using p = stdp_triplet_parameters;
  static constexpr rule_field<p> f[] = {
      {"tau_plus_ms", &p::tau_plus_ms, "ms", false, "r1: pair potentiation time constant"},
      {"tau_minus_ms", &p::tau_minus_ms, "ms", false, "o1: pair depression time constant"},
      {"tau_x_ms", &p::tau_x_ms, "ms", false, "r2: presynaptic triplet time constant"},
      {"tau_y_ms", &p::tau_y_ms, "ms", false, "o2: postsynaptic triplet time constant"},
      {"a2_plus", &p::a2_plus, "w", true, "pair potentiation amplitude"},
      {"a3_plus", &p::a3_plus, "w", true, "triplet potentiation amplitude"},
      {"a2_minus", &p::a2_minus, "w", true, "pair depression amplitude"},
      {"a3_minus", &p::a3_minus, "w", true, "triplet depression amplitude"},
      {"w_min", &p::w_min, "w", false, "lower weight bound"},
      {"w_max", &p::w_max, "w", true, "upper weight bound"}};
  return f;
}

template class plastic_projection<stdp_additive>;
template class plastic_projection<stdp_additive_nearest>;
template class plastic_projection<stdp_multiplicative>;
template class plastic_projection<stdp_multiplicative_nearest>;
template class plastic_projection<stdp_triplet>;
template class plastic_projection<stdp_triplet_nearest>;

}  // namespace apical::learning
