#include "apical/models/pyramidal_population.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <type_traits>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/models/detail/pyramidal_kernels.hpp"

namespace apical::models {
namespace {

// g = exp(epochs_per_rebase) at the end of an epoch: far from overflow even
// for potentials of 1e6 mV.
constexpr double tau_per_epoch = 200.0;

pyramidal_cell::derived checked(const pyramidal_cell::parameters& p) {
  auto d = pyramidal_cell::derive(p);  // validates, rejects kappa != 0
  if (!d.rest_below_threshold)
    throw parameter_error(fmt::format(
        "pyramidal_population: parameter 'e_l_mv' must be below v_th_mv ({}), got {} (a resting "
        "potential above threshold needs two_compartment's root search)",
        p.v_th_mv, p.e_l_mv));
  return d;
}

}  // namespace

pyramidal_population::pyramidal_population(std::string name, std::size_t size, const parameters& p)
    : population(std::move(name), size), derived_(checked(p)) {
  epoch_ms_ = tau_per_epoch * p.tau_s_ms;
  u_.assign(size, 0.0);
  epoch_.assign(size, 0);
  ref_until_ms_.assign(size, -inf);
  v_a_mv_.assign(size, p.e_a_mv);
  t_a_ms_.assign(size, 0.0);
  pending_.assign(size, 0);
  version_.assign(size, 0);
  threshold_offset_mv_.assign(size, 0.0);
  theta_.assign(size, p.v_th_mv - p.e_l_mv);
}

void pyramidal_population::set_params(const parameters& p) {
  const auto d = checked(p);
  check_offsets(p, threshold_offset_mv_);
  // u_i is V_s - E_L at the neuron's reference time: keep V_s there.
  const double shift = derived_.p.e_l_mv - p.e_l_mv;
  for (auto& u : u_) u += shift;
  derived_ = d;
  epoch_ms_ = tau_per_epoch * p.tau_s_ms;
  refresh_theta();
}

void pyramidal_population::check_offsets(const parameters& p,
                                         std::span<const double> offsets_mv) const {
  if (offsets_mv.size() != size())
    throw parameter_error(
        fmt::format("pyramidal_population '{}': {} threshold offsets; expected {} (one per cell)",
                    name(), offsets_mv.size(), size()));
  for (std::size_t i = 0; i < size(); ++i)
    if (!(p.v_th_mv + offsets_mv[i] > p.e_l_mv) || !std::isfinite(offsets_mv[i]))
      throw parameter_error(fmt::format(
          "pyramidal_population '{}': threshold offset of cell {} is {} mV; expected a finite "
          "value > e_l_mv - v_th_mv = {} mV (the threshold must stay above rest)",
          name(), i, offsets_mv[i], p.e_l_mv - p.v_th_mv));
}

void pyramidal_population::set_threshold_offsets(std::span<const double> offsets_mv) {
  check_offsets(derived_.p, offsets_mv);
  threshold_offset_mv_.assign(offsets_mv.begin(), offsets_mv.end());
  refresh_theta();
}

void pyramidal_population::refresh_theta() {
  const auto& p = derived_.p;
  for (std::size_t i = 0; i < size(); ++i)
    theta_[i] = (p.v_th_mv + threshold_offset_mv_[i]) - p.e_l_mv;
  uniform_threshold_ = std::ranges::all_of(threshold_offset_mv_, [](double d) { return d == 0.0; });
}

std::uint32_t pyramidal_population::epoch_of(double t_ms) const {
  return t_ms <= 0 ? 0u : static_cast<std::uint32_t>(t_ms / epoch_ms_);
}

double pyramidal_population::scale(double t_ms, std::uint32_t epoch) const {
  return std::exp((t_ms - epoch * epoch_ms_) / derived_.p.tau_s_ms);
}

void pyramidal_population::rebase(std::uint32_t i, std::uint32_t epoch) {
  // u refers to t0 = epoch_[i] E; the same potential over t0' = epoch E.
  u_[i] *= std::exp(-(static_cast<double>(epoch) - epoch_[i]) * epoch_ms_ / derived_.p.tau_s_ms);
  epoch_[i] = epoch;
  note_epoch(epoch);
}

void pyramidal_population::note_epoch(std::uint32_t epoch) {
  auto seen = max_epoch_.load(std::memory_order_relaxed);
  while (epoch > seen &&
         !max_epoch_.compare_exchange_weak(seen, epoch, std::memory_order_relaxed)) {
  }
}

void pyramidal_population::schedule_now(std::uint32_t i, double t_ms, scheduler& s) {
  pending_[i] = 1;
  s.schedule_crossing(id(), i, ++version_[i], t_ms);
}

void pyramidal_population::reset(std::uint64_t seed) {
  // The same stream and order as model_population<pyramidal_cell>.
  rng r(derive_seed(seed, stream::initial_state, id()));
  for (std::uint32_t i = 0; i < size(); ++i) {
    pyramidal_cell::state s;
    pyramidal_cell::init(s, derived_, r);
    u_[i] = s.v_s_mv - derived_.p.e_l_mv;  // g(0) = 1 in epoch 0
    epoch_[i] = 0;
    ref_until_ms_[i] = s.ref_until_ms;
    v_a_mv_[i] = s.v_a_mv;
    t_a_ms_[i] = s.t_a_ms;
    pending_[i] = 0;
    ++version_[i];  // events of a previous run become stale
  }
  max_epoch_.store(0, std::memory_order_relaxed);
}

void pyramidal_population::predict(std::uint32_t begin, std::uint32_t end, double t_ms,
                                   scheduler& s) {
  const std::uint32_t k = epoch_of(t_ms);
  const double g = scale(t_ms, k);
  for (std::uint32_t i = begin; i < end; ++i) {
    if (epoch_[i] != k) rebase(i, k);
    if (!pending_[i] && t_ms >= ref_until_ms_[i] && u_[i] >= theta_[i] * g)
      schedule_now(i, t_ms, s);
  }
}

template <class Weights>
void pyramidal_population::deliver_basal(double t_ms, std::span<const std::uint32_t> targets,
                                         scheduler& s, Weights weights) {
  if (targets.empty()) return;
  const std::uint32_t k = epoch_of(t_ms);
  const double g = scale(t_ms, k);
  double* const u = u_.data();
  const double* const ref_until = ref_until_ms_.data();
  const double* const theta = theta_.data();
  // Without offsets the kernel compares with one threshold for all.
  const double* const theta_per_cell = uniform_threshold_ ? nullptr : theta;
  const double theta_all = derived_.p.v_th_mv - derived_.p.e_l_mv;
  // Targets are sorted. A run of consecutive targets (a dense projection's
  // whole list, a locally connected layer's cells of one patch row) is a
  // loop over plain arrays; a short run is taken target by target.
  const auto& kernel = detail::kernels();
  const bool any_stale = k != 0 || max_epoch_.load(std::memory_order_relaxed) != 0;
  const std::size_t count = targets.size();
  const bool one_run = targets.back() - targets.front() + 1 == count;
  for (std::size_t begin = 0, end = 0; begin < count; begin = end) {
    const std::uint32_t lo = targets[begin];
    end = one_run ? count : begin + 1;
    while (end < count && targets[end] == lo + (end - begin)) ++end;
    const std::size_t n = end - begin;
    if (!one_run && n < detail::basal_block) {
      for (std::size_t m = begin; m < end; ++m) {
        const std::uint32_t i = targets[m];
        if (epoch_[i] != k) rebase(i, k);
        if (t_ms < ref_until[i]) continue;  // refractory: the input is dropped
        if constexpr (std::is_same_v<Weights, float>)
          u[i] += static_cast<double>(weights) * g;
        else
          u[i] += static_cast<double>(weights[m]) * g;
        if (u[i] >= theta[i] * g && !pending_[i]) schedule_now(i, t_ms, s);
      }
      continue;
    }
    if (any_stale) {
      const std::uint32_t* const ep = epoch_.data() + lo;
      std::uint32_t stale = 0;  // (integer reductions vectorise; bool ones do not)
      for (std::size_t m = 0; m < n; ++m) stale |= ep[m] ^ k;
      if (stale != 0)
        for (std::size_t m = 0; m < n; ++m)
          if (ep[m] != k) rebase(lo + static_cast<std::uint32_t>(m), k);
    }
    // Chunks of 64 blocks of 16: the common block has no crossing and costs
    // only its vector loop.
    for (std::size_t c = 0; c < n; c += detail::basal_chunk) {
      const std::size_t len = std::min(detail::basal_chunk, n - c);
      const std::size_t at = lo + c;
      std::uint64_t crossed;
      if constexpr (std::is_same_v<Weights, float>)
        crossed = kernel.basal_uniform(u + at, ref_until + at,
                                       theta_per_cell ? theta_per_cell + at : nullptr, theta_all,
                                       len, t_ms, g, weights);
      else
        crossed = kernel.basal_rows(u + at, ref_until + at,
                                    theta_per_cell ? theta_per_cell + at : nullptr, theta_all, len,
                                    t_ms, g, weights + begin + c);
      for (; crossed != 0; crossed &= crossed - 1) {
        const std::size_t first =
            at + static_cast<std::size_t>(std::countr_zero(crossed)) * detail::basal_block;
        const std::size_t last = std::min(first + detail::basal_block, lo + n);
        for (std::size_t m = first; m < last; ++m) {
          const auto i = static_cast<std::uint32_t>(m);
          if (u[i] >= theta[i] * g && !pending_[i] && !(t_ms < ref_until[i]))
            schedule_now(i, t_ms, s);
        }
      }
    }
  }
}

void pyramidal_population::deliver_apical(double t_ms, std::span<const std::uint32_t> targets,
                                          scheduler&, auto weight_of) {
  const auto& p = derived_.p;
  for (std::size_t n = 0; n < targets.size(); ++n) {
    const std::uint32_t i = targets[n];
    v_a_mv_[i] = p.e_a_mv + (v_a_mv_[i] - p.e_a_mv) * std::exp(-(t_ms - t_a_ms_[i]) / p.tau_a_ms) +
                 static_cast<double>(weight_of(n));
    t_a_ms_[i] = t_ms;
  }
}

void pyramidal_population::deliver(double t_ms, int compartment,
                                   std::span<const std::uint32_t> targets,
                                   std::span<const float> weights, scheduler& s) {
  if (compartment == pyramidal_cell::apical)
    deliver_apical(t_ms, targets, s, [&weights](std::size_t n) { return weights[n]; });
  else
    deliver_basal(t_ms, targets, s, weights.data());
}

void pyramidal_population::deliver(double t_ms, int compartment,
                                   std::span<const std::uint32_t> targets, float weight,
                                   scheduler& s) {
  if (compartment == pyramidal_cell::apical)
    deliver_apical(t_ms, targets, s, [weight](std::size_t) { return weight; });
  else
    deliver_basal(t_ms, targets, s, weight);
}

bool pyramidal_population::fire_if_current(std::uint32_t i, std::uint32_t version, double t_ms,
                                           scheduler&) {
  if (version != version_[i]) return false;
  pending_[i] = 0;
  const auto& p = derived_.p;
  const std::uint32_t k = epoch_of(t_ms);
  if (epoch_[i] != k) rebase(i, k);
  // An input of the same instant may have brought the soma back down.
  if (t_ms < ref_until_ms_[i] || u_[i] < theta_[i] * scale(t_ms, k)) return false;
  ref_until_ms_[i] = t_ms + p.t_ref_ms;
  u_[i] = (p.v_reset_mv - p.e_l_mv) * scale(ref_until_ms_[i], k);
  return true;
}

pyramidal_cell::state pyramidal_population::state_at(std::uint32_t i, double t_ms) const {
  const auto& p = derived_.p;
  pyramidal_cell::state s;
  s.ref_until_ms = ref_until_ms_[i];
  s.t_a_ms = t_a_ms_[i];
  s.v_a_mv = v_a_mv_[i];
  s.v_s_mv = t_ms < ref_until_ms_[i]
                 ? p.v_reset_mv
                 : p.e_l_mv + u_[i] * std::exp(-(t_ms - epoch_[i] * epoch_ms_) / p.tau_s_ms);
  return s;
}

void pyramidal_population::set_state(std::uint32_t i, const pyramidal_cell::state& s, double t_ms) {
  const auto& p = derived_.p;
  const std::uint32_t k = epoch_of(t_ms);
  const double g = t_ms < s.ref_until_ms ? scale(s.ref_until_ms, k) : scale(t_ms, k);
  const double v = t_ms < s.ref_until_ms ? p.v_reset_mv : s.v_s_mv;
  u_[i] = (v - p.e_l_mv) * g;
  epoch_[i] = k;
  note_epoch(k);
  ref_until_ms_[i] = s.ref_until_ms;
  v_a_mv_[i] = s.v_a_mv;
  t_a_ms_[i] = s.t_a_ms;
}

std::vector<std::string_view> pyramidal_population::state_names() const {
  std::vector<std::string_view> names;
  for (const auto& f : pyramidal_cell::state_fields()) names.push_back(f.name);
  return names;
}

double pyramidal_population::state_value(std::uint32_t i, std::size_t variable, double t_ms) const {
  const auto s = state_at(i, t_ms);
  return s.*(pyramidal_cell::state_fields()[variable].member);
}

std::vector<std::string_view> pyramidal_population::parameter_names() const {
  std::vector<std::string_view> names;
  for (const auto& f : pyramidal_cell::parameter_fields()) names.push_back(f.name);
  return names;
}

double pyramidal_population::parameter(std::string_view name) const {
  return derived_.p.*
         (find_field(pyramidal_cell::parameter_fields(), name, pyramidal_cell::name).member);
}

void pyramidal_population::set_parameters(std::span<const std::pair<std::string, double>> values) {
  parameters p = derived_.p;
  for (const auto& [name, value] : values)
    p.*(find_field(pyramidal_cell::parameter_fields(), name, pyramidal_cell::name).member) = value;
  set_params(p);
}

}  // namespace apical::models
