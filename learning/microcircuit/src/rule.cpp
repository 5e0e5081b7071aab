#include "apical/learning/microcircuit/rule.hpp"

#include <algorithm>
#include <string>

#include "apical/engine/error.hpp"
#include "apical/models/detail/pyramidal_kernels.hpp"

namespace apical::learning {
namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
}  // namespace

apical_hebbian_rule::apical_hebbian_rule(const projection& basal, double tau_x_ms,
                                         somatic_gate gate, double tau_g_ms, bool gated)
    : n_pre_(basal.pre_size()),
      n_post_(basal.post_size()),
      run_length_(n_pre_),
      inv_tau_x_(1.0 / tau_x_ms),
      gate_kind_(gate),
      tau_g_ms_(tau_g_ms),
      inv_tau_g_(1.0 / tau_g_ms),
      gated_(gated),
      delay_ms_(basal.size() > 0 ? basal.delay_of(0) : 0.0),
      y_(n_pre_, 0.0f),
      queue_(64),
      last_spike_ms_(n_post_, -inf),
      gate_value_(n_post_, 0.0),
      gate_time_ms_(n_post_, 0.0) {
  for (std::uint32_t g = 0; g < basal.groups(); ++g)
    if (basal.group_delay_ms(g) != delay_ms_)
      throw parameter_error("apical_hebbian_rule: projection '" + basal.name() + "' has delays " +
                            std::to_string(delay_ms_) + " and " +
                            std::to_string(basal.group_delay_ms(g)) +
                            " ms; expected one delay for all basal synapses");
}

void apical_hebbian_rule::begin_sample(std::span<float> dw, std::span<float> weights, double eta) {
  std::fill(y_.begin(), y_.end(), 0.0f);
  t_ref_ms_ = 0.0;
  head_ = count_ = 0;
  std::fill(last_spike_ms_.begin(), last_spike_ms_.end(), -inf);
  std::fill(gate_value_.begin(), gate_value_.end(), 0.0);
  std::fill(gate_time_ms_.begin(), gate_time_ms_.end(), 0.0);
  continue_sample(dw, weights, eta, 0.0);
}

void apical_hebbian_rule::continue_sample(std::span<float> dw, std::span<float> weights, double eta,
                                          double shift_ms) {
  // The clock restarts at 0: move every stored time back by shift_ms.
  if (shift_ms != 0.0) {
    t_ref_ms_ -= shift_ms;
    for (std::size_t k = 0; k < count_; ++k)
      queue_[(head_ + k) & (queue_.size() - 1)].t_ms -= shift_ms;
    for (auto& t : last_spike_ms_) t -= shift_ms;
    for (auto& t : gate_time_ms_) t -= shift_ms;
  }
  dw_ = dw;
  weights_ = weights;
  eta_ = eta;
}

void apical_hebbian_rule::restrict_to(const local_fields& fields) {
  fields.validate(n_pre_, n_post_, "first_layer");
  run_length_ = fields.size;
  runs_per_cell_ = fields.fan_in() / fields.size;
  cell_stride_ = runs_per_cell_;
  run_start_.clear();
  run_start_.reserve(n_post_ * runs_per_cell_);
  for (std::size_t i = 0; i < n_post_; ++i) {
    const auto field = receptive_field(fields, n_post_, i);
    for (std::size_t k = 0; k < field.size(); k += run_length_)
      run_start_.push_back(static_cast<std::uint32_t>(field[k]));
  }
}

void apical_hebbian_rule::rebase(double t_ms) {
  const auto f = static_cast<float>(std::exp(-(t_ms - t_ref_ms_) * inv_tau_x_));
  for (float& y : y_) y *= f;
  t_ref_ms_ = t_ms;
}

void apical_hebbian_rule::take_arrivals(double t_ms) {
  const std::size_t mask = queue_.size() - 1;
  while (count_ > 0 && queue_[head_].t_ms <= t_ms) {
    const arrival a = queue_[head_];
    head_ = (head_ + 1) & mask;
    --count_;
    if ((a.t_ms - t_ref_ms_) * inv_tau_x_ > rebase_exponent) rebase(a.t_ms);
    y_[a.pre] += static_cast<float>(std::exp((a.t_ms - t_ref_ms_) * inv_tau_x_));
  }
}

void apical_hebbian_rule::on_pre_spike(time_ms t, std::uint32_t pre) {
  const double now = t.count();
  take_arrivals(now);  // keeps the queue to the spikes still in flight
  if (count_ == queue_.size()) {
    std::vector<arrival> bigger(2 * queue_.size());
    for (std::size_t k = 0; k < count_; ++k) bigger[k] = queue_[(head_ + k) & (queue_.size() - 1)];
    queue_ = std::move(bigger);
    head_ = 0;
  }
  queue_[(head_ + count_) & (queue_.size() - 1)] = {now + delay_ms_, pre};
  ++count_;
}

void apical_hebbian_rule::on_somatic_spike(time_ms t, std::uint32_t neuron) {
  const double now = t.count();
  if (gate_kind_ == somatic_gate::window) {
    last_spike_ms_[neuron] = now;
  } else {
    gate_value_[neuron] =
        gate_value_[neuron] * std::exp(-(now - gate_time_ms_[neuron]) * inv_tau_g_) + 1.0;
    gate_time_ms_[neuron] = now;
  }
}

double apical_hebbian_rule::gate(std::uint32_t post, double t_ms) const {
  if (!gated_) return 1.0;
  if (gate_kind_ == somatic_gate::window)
    return t_ms - last_spike_ms_[post] <= tau_g_ms_ ? 1.0 : 0.0;
  return gate_value_[post] * std::exp(-(t_ms - gate_time_ms_[post]) * inv_tau_g_);
}

double apical_hebbian_rule::trace(std::uint32_t pre, double t_ms) {
  take_arrivals(t_ms);
  return static_cast<double>(y_[pre]) * std::exp(-(t_ms - t_ref_ms_) * inv_tau_x_);
}

void apical_hebbian_rule::on_apical_arrival(const delivery& d) {
  ++apical_events_;
  const std::uint32_t i = d.post;
  const double t = d.time.count();
  take_arrivals(t);
  const double g = gate(i, t);
  if (g == 0.0) return;
  ++updates_;
  const double sign = d.pre < n_post_ ? 1.0 : -1.0;
  const double c = sign * g * std::exp(-(t - t_ref_ms_) * inv_tau_x_);
  const float* y = y_.data();
  const std::uint32_t* start = run_start_.data() + i * cell_stride_;
  if (!dw_.empty()) {
    float* row = dw_.data() + i * n_pre_;
    const auto& kernel = models::detail::kernels();
    for (std::size_t r = 0; r < runs_per_cell_; ++r)
      kernel.axpy(row + start[r], y + start[r], static_cast<float>(c), run_length_);
  } else if (!weights_.empty()) {
    const auto cf = static_cast<float>(eta_ * c);
    float* w = weights_.data() + i;
    const std::size_t stride = n_post_;
    for (std::size_t r = 0; r < runs_per_cell_; ++r)
      for (std::size_t j = start[r]; j < start[r] + run_length_; ++j) w[j * stride] += cf * y[j];
  }
}

spike_counter::spike_counter(std::size_t size)
    : counts_(size, 0), late_counts_(size, 0), first_ms_(size, inf) {}

void spike_counter::begin_sample(double late_from_ms) {
  late_from_ms_ = late_from_ms;
  std::fill(counts_.begin(), counts_.end(), 0u);
  std::fill(late_counts_.begin(), late_counts_.end(), 0u);
  std::fill(first_ms_.begin(), first_ms_.end(), inf);
  total_ = 0;
}

void spike_counter::on_spike(time_ms t, std::uint32_t neuron) {
  const double now = t.count();
  ++counts_[neuron];
  if (now >= late_from_ms_) ++late_counts_[neuron];
  if (now < first_ms_[neuron]) first_ms_[neuron] = now;
  ++total_;
}

}  // namespace apical::learning
