#include "apical/models/softmax_population.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::models {
namespace {

using params_t = softmax_population::parameters;

constexpr std::array<std::pair<std::string_view, double params_t::*>, 5> parameter_table{{
    {"tau_ms", &params_t::tau_ms},
    {"e_l_mv", &params_t::e_l_mv},
    {"beta_per_mv", &params_t::beta_per_mv},
    {"rate_hz", &params_t::rate_hz},
    {"regular", &params_t::regular},
}};

double params_t::*member(std::string_view name) {
  for (const auto& [n, m] : parameter_table)
    if (n == name) return m;
  std::string known;
  for (const auto& [n, m] : parameter_table) known += (known.empty() ? "" : ", ") + std::string(n);
  throw parameter_error(
      fmt::format("{}: unknown parameter '{}'; known: {}", softmax_population::model, name, known));
}

void check(bool ok, std::string_view field, double value, std::string_view expected) {
  if (!ok)
    throw parameter_error(fmt::format("{}: parameter '{}' is {}; expected {}",
                                      softmax_population::model, field, value, expected));
}

void validate(const params_t& p) {
  check(p.tau_ms > 0 && std::isfinite(p.tau_ms), "tau_ms", p.tau_ms, "a finite value > 0 ms");
  check(std::isfinite(p.e_l_mv), "e_l_mv", p.e_l_mv, "a finite potential");
  check(p.beta_per_mv >= 0 && std::isfinite(p.beta_per_mv), "beta_per_mv", p.beta_per_mv,
        "a finite value >= 0 per mV");
  check(p.rate_hz > 0 && p.rate_hz <= 100000, "rate_hz", p.rate_hz, "a rate in (0, 100000] Hz");
  check(p.regular == 0.0 || p.regular == 1.0, "regular", p.regular, "0 or 1");
}

}  // namespace

softmax_population::softmax_population(std::string label, std::size_t size, const parameters& p)
    : population(std::move(label), size), p_(p) {
  validate(p_);
  if (size == 0) throw parameter_error(fmt::format("{}: size is 0; expected >= 1", this->name()));
  u_.assign(size, 0.0);
  pending_.assign(size, 0);
  version_.assign(size, 0);
  scratch_.resize(size);
}

void softmax_population::set_params(const parameters& p) {
  validate(p);
  p_ = p;
}

void softmax_population::advance(double t_ms) {
  if (t_ms == t_) return;
  const double f = std::exp(-(t_ms - t_) / p_.tau_ms);
  for (double& u : u_) u *= f;
  t_ = t_ms;
}

double softmax_population::softmax_weights(double decay, std::span<double> out) const {
  double top = -std::numeric_limits<double>::infinity();
  for (double u : u_) top = std::max(top, p_.beta_per_mv * u * decay);
  double sum = 0.0;
  for (std::size_t k = 0; k < u_.size(); ++k)
    sum += out[k] = std::exp(p_.beta_per_mv * u_[k] * decay - top);
  return sum;
}

std::vector<double> softmax_population::probabilities(double t_ms) const {
  std::vector<double> out(u_.size());
  const double sum = softmax_weights(std::exp(-(t_ms - t_) / p_.tau_ms), out);
  for (double& x : out) x /= sum;
  return out;
}

double softmax_population::next_tick(double t_ms) {
  if (p_.regular != 0.0) return (static_cast<double>(ticks_) + 0.5) * 1000.0 / p_.rate_hz;
  return t_ms + rng_.exponential(1000.0 / p_.rate_hz);
}

void softmax_population::reset(std::uint64_t seed) {
  std::fill(u_.begin(), u_.end(), 0.0);
  t_ = 0.0;
  std::fill(pending_.begin(), pending_.end(), 0);
  for (auto& v : version_) v = (v + 1) & ~clock_bit;  // events of a previous run become stale
  clock_version_ = (clock_version_ + 1) & ~clock_bit;
  rng_.reseed(derive_seed(seed, stream::neuron_noise, id()));
  ticks_ = 0;
  next_tick_ms_ = next_tick(0.0);
}

void softmax_population::predict(std::uint32_t begin, std::uint32_t end, double, scheduler& s) {
  // The clock belongs to neuron 0's event slot.
  if (begin == 0 && end > 0)
    s.schedule_crossing(id(), 0, clock_version_ | clock_bit, next_tick_ms_);
}

template <class Weight>
void softmax_population::deliver_basal(double t_ms, std::span<const std::uint32_t> targets,
                                       Weight weight_of) {
  advance(t_ms);
  for (std::size_t k = 0; k < targets.size(); ++k) u_[targets[k]] += weight_of(k);
}

void softmax_population::deliver(double t_ms, int compartment,
                                 std::span<const std::uint32_t> targets,
                                 std::span<const float> weights, scheduler&) {
  if (compartment == basal) deliver_basal(t_ms, targets, [&](std::size_t k) { return weights[k]; });
}

void softmax_population::deliver(double t_ms, int compartment,
                                 std::span<const std::uint32_t> targets, float weight, scheduler&) {
  if (compartment == basal) deliver_basal(t_ms, targets, [weight](std::size_t) { return weight; });
}

bool softmax_population::fire_if_current(std::uint32_t i, std::uint32_t version, double t_ms,
                                         scheduler& s) {
  if ((version & clock_bit) != 0) {
    if (version != (clock_version_ | clock_bit) || t_ms != next_tick_ms_) return false;
    // A tick: draw the winner from the potentials now.
    advance(t_ms);
    double x = rng_.uniform() * softmax_weights(1.0, scratch_);
    std::size_t winner = u_.size() - 1;
    for (std::size_t k = 0; k < u_.size(); ++k) {
      if (x < scratch_[k]) {
        winner = k;
        break;
      }
      x -= scratch_[k];
    }
    pending_[winner] = 1;
    s.schedule_crossing(id(), static_cast<std::uint32_t>(winner), version_[winner], t_ms);
    ++ticks_;
    next_tick_ms_ = next_tick(t_ms);
    s.schedule_crossing(id(), 0, clock_version_ | clock_bit, next_tick_ms_);
    return false;
  }
  if (version != version_[i] || !pending_[i]) return false;
  pending_[i] = 0;
  return true;
}

std::vector<std::string_view> softmax_population::state_names() const {
  return {"v_mv"};
}

double softmax_population::state_value(std::uint32_t i, std::size_t, double t_ms) const {
  return p_.e_l_mv + u_[i] * std::exp(-(t_ms - t_) / p_.tau_ms);
}

std::vector<std::string_view> softmax_population::parameter_names() const {
  std::vector<std::string_view> names;
  for (const auto& [n, m] : parameter_table) names.push_back(n);
  return names;
}

double softmax_population::parameter(std::string_view key) const {
  return p_.*member(key);
}

void softmax_population::set_parameters(std::span<const std::pair<std::string, double>> values) {
  parameters p = p_;
  for (const auto& [n, v] : values) p.*member(n) = v;
  set_params(p);
}

}  // namespace apical::models
