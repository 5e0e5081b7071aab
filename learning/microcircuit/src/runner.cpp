#include "apical/learning/microcircuit/runner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "apical/datasets/encoders.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"

namespace apical::learning {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// The state of every neuron of `pop` at time t_ms, read through the model's
// field table (the population keeps each neuron at its own last update).
template <class M>
void read_states(const model_population<M>& pop, double t_ms, std::vector<typename M::state>& out) {
  const auto fields = M::state_fields();
  out.resize(pop.size());
  for (std::uint32_t i = 0; i < pop.size(); ++i)
    for (std::size_t f = 0; f < fields.size(); ++f)
      out[i].*(fields[f].member) = pop.state_value(i, f, t_ms);
}

}  // namespace

microcircuit_runner::microcircuit_runner(const microcircuit_params& p)
    : circuit_(p),
      input_raster_(std::make_shared<spike_raster>()),
      teacher_raster_(std::make_shared<spike_raster>()) {
  const auto& params = circuit_.params();
  const auto& lay = circuit_.layout();
  const std::size_t L = params.num_layers();
  sim_ = std::make_unique<simulator>(circuit_.net(), simulation_options{params.seed});
  pyramidal_.reserve(L);
  error_.reserve(L);
  for (std::size_t w = 0; w < L; ++w) {
    rules_.push_back(std::make_unique<apical_hebbian_rule>(
        circuit_.net().proj(lay.forward[w]), params.tau_x_ms, params.gate, params.tau_g_ms,
        w + 1 < L || params.output_gate));
    if (w == 0 && params.first_layer.enabled()) rules_.back()->restrict_to(params.first_layer);
    pyramidal_.emplace_back(params.layer_sizes[w + 1]);
    error_.emplace_back(2 * params.layer_sizes[w + 1]);
  }
  // The vectors are complete: their elements no longer move.
  for (std::size_t w = 0; w < L; ++w) {
    sim_->on_spike(lay.pyramidal[w])
        .connect(simulator::spike_signal::slot::bind<&spike_counter::on_spike>(pyramidal_[w]));
    sim_->on_spike(lay.error[w])
        .connect(simulator::spike_signal::slot::bind<&spike_counter::on_spike>(error_[w]));
  }
  target_counts_.assign(params.layer_sizes[L], 0);
}

void microcircuit_runner::load(std::span<const matrix> weights,
                               std::span<const matrix> signed_feedback,
                               std::span<const std::vector<double>> threshold_offsets) {
  for (std::size_t w = 0; w < weights.size(); ++w) circuit_.set_forward(w, weights[w]);
  for (std::size_t w = 0; w < signed_feedback.size(); ++w)
    circuit_.set_feedback(w, signed_feedback[w]);
  for (std::size_t w = 0; w < threshold_offsets.size(); ++w)
    circuit_.pyramidal(w).set_threshold_offsets(threshold_offsets[w]);
}

void microcircuit_runner::connect_learning(bool on) {
  if (on == learning_connected_) return;
  const auto& lay = circuit_.layout();
  using delivery_slot = simulator::delivery_signal::slot;
  using spike_slot = simulator::spike_signal::slot;
  for (std::size_t w = 0; w < rules_.size(); ++w) {
    auto& rule = *rules_[w];
    const auto pre = spike_slot::bind<&apical_hebbian_rule::on_pre_spike>(rule);
    const auto soma = spike_slot::bind<&apical_hebbian_rule::on_somatic_spike>(rule);
    const auto apical = delivery_slot::bind<&apical_hebbian_rule::on_apical_arrival>(rule);
    const std::uint16_t pre_population = w == 0 ? lay.input : lay.pyramidal[w - 1];
    if (on) {
      sim_->on_spike(pre_population).connect(pre);
      sim_->on_spike(lay.pyramidal[w]).connect(soma);
      sim_->on_delivery(lay.apical[w]).connect(apical);
    } else {
      sim_->on_spike(pre_population).disconnect(pre);
      sim_->on_spike(lay.pyramidal[w]).disconnect(soma);
      sim_->on_delivery(lay.apical[w]).disconnect(apical);
    }
  }
  learning_connected_ = on;
}

void microcircuit_runner::set_mode(bool training) {
  if (mode_ == (training ? 1 : 0)) return;
  const double open_from = training ? params().error_start_ms() : inf;
  for (std::size_t w = 0; w < rules_.size(); ++w) {
    auto e = circuit_.error(w).params();
    e.open_from_ms = open_from;
    circuit_.error(w).set_params(e);
  }
  connect_learning(training);
  mode_ = training ? 1 : 0;
}

void microcircuit_runner::encode(std::span<const float> input, std::uint64_t seed,
                                 std::uint64_t sample_index) {
  const auto& p = params();
  auto& r = *input_raster_;
  if (input.size() != p.layer_sizes[0])
    throw parameter_error(fmt::format("microcircuit: sample {} has {} input values; expected {}",
                                      sample_index, input.size(), p.layer_sizes[0]));
  if (p.encoder) {
    p.encoder(input, seed, sample_index, r);
    if (r.channels() != p.layer_sizes[0])
      throw parameter_error(fmt::format(
          "microcircuit: the input encoder made {} channels for sample {}; expected {} (one per "
          "input value, layer_sizes[0])",
          r.channels(), sample_index, p.layer_sizes[0]));
  } else {
    // The datasets encoder input_coding names, on values clamped to [0, 1]
    // (NaN: 0, a silent input); copied only when a value is out of range.
    const auto in_range = [](float x) { return x >= 0.0f && x <= 1.0f; };
    std::vector<float> clamped;
    if (!std::all_of(input.begin(), input.end(), in_range))
      for (const float x : input) clamped.push_back(x >= 0.0f ? std::min(x, 1.0f) : 0.0f);
    const std::span<const float> values = clamped.empty() ? input : clamped;
    if (p.coding == input_coding::regular)
      datasets::regular_encoder{window_ms_, p.input_rate_hz, 0.0,
                                true,       false,           datasets::spacing::rate}
          .encode(values, seed, sample_index, r);
    else
      datasets::poisson_encoder{window_ms_, p.input_rate_hz, false}.encode(values, seed,
                                                                           sample_index, r);
  }
  circuit_.input().set_params({input_raster_});
}

void microcircuit_runner::make_teacher(int label, std::uint64_t seed, std::uint64_t sample_index) {
  const auto& p = params();
  auto& r = *teacher_raster_;
  r.clear();
  const double t0 = p.error_start_ms();
  rng gen(derive_seed(seed, stream::neuron_noise, sample_index));
  for (std::size_t k = 0; k < target_counts_.size(); ++k) {
    const std::size_t before = r.times_ms.size();
    const double rate_hz =
        label < 0 ? 0.0 : (static_cast<int>(k) == label ? p.teacher_on_hz : p.teacher_off_hz);
    if (rate_hz > 0) {
      const double interval = 1000.0 / rate_hz;
      if (p.teacher_regular) {
        for (std::size_t m = 0;; ++m) {
          const double t = t0 + (static_cast<double>(m) + 0.5) * interval;
          if (t >= window_ms_) break;
          r.times_ms.push_back(t);
        }
      } else {
        for (double t = t0 + gen.exponential(interval); t < window_ms_;
             t += gen.exponential(interval))
          r.times_ms.push_back(t);
      }
    }
    r.offsets.push_back(r.times_ms.size());
    target_counts_[k] = static_cast<std::uint32_t>(r.times_ms.size() - before);
  }
  circuit_.teacher().set_params({teacher_raster_});
}

void microcircuit_runner::save_state() {
  const double t = window_ms_;
  saved_end_ms_ = t;
  saved_pyramidal_.resize(rules_.size());
  saved_error_.resize(rules_.size());
  for (std::size_t w = 0; w < rules_.size(); ++w) {
    const auto& pyr = circuit_.pyramidal(w);
    saved_pyramidal_[w].resize(pyr.size());
    for (std::uint32_t i = 0; i < pyr.size(); ++i) saved_pyramidal_[w][i] = pyr.state_at(i, t);
    read_states(circuit_.error(w), t, saved_error_[w]);
  }
}

void microcircuit_runner::restore_state() {
  // Called right after simulator::reset(): every neuron is at time 0 with a
  // subthreshold initial state and no predicted crossing. The carried
  // states are subthreshold too (a cell at threshold has fired), so with
  // kappa = 0 and error cells that cross only at inputs, "no crossing"
  // stays the right prediction.
  const auto& p = params();
  const double end = saved_end_ms_, start = saved_end_ms_ + p.gap_ms;
  for (std::size_t w = 0; w < rules_.size(); ++w) {
    auto& pyr = circuit_.pyramidal(w);
    for (std::uint32_t i = 0; i < pyr.size(); ++i) {
      auto s = saved_pyramidal_[w][i];
      models::pyramidal_cell::advance(s, pyr.constants(), end, start);
      s.t_a_ms -= start;
      s.ref_until_ms -= start;
      pyr.set_state(i, s, 0.0);
    }
    auto& err = circuit_.error(w);
    for (std::uint32_t i = 0; i < err.size(); ++i) {
      auto s = saved_error_[w][i];
      models::error_cell::advance(s, err.constants(), end, start);
      s.gate_until_ms -= start;
      err.state_of(i) = s;
    }
  }
}

sample_outcome microcircuit_runner::present(std::span<const float> input, int label,
                                            std::uint64_t seed, std::uint64_t sample_index,
                                            std::span<matrix> dw, bool online) {
  const auto& p = params();
  const std::size_t L = rules_.size();
  const bool training = label >= 0;
  if (training && static_cast<std::size_t>(label) >= p.layer_sizes[L])
    throw parameter_error(fmt::format("microcircuit: sample {} has label {}; expected 0 to {}",
                                      sample_index, label, p.layer_sizes[L] - 1));
  if (!dw.empty() && dw.size() != L)
    throw parameter_error(
        fmt::format("microcircuit: {} update buffers; expected {}", dw.size(), L));
  set_mode(training);
  window_ms_ = p.presentation_ms(training);
  encode(input, seed, sample_index);
  make_teacher(label, seed, sample_index);

  sim_->reset(derive_seed(seed, stream::initial_state, sample_index));
  const bool carry = p.between_samples == sample_transition::decay && carry_;
  if (carry) restore_state();
  const double shift = saved_end_ms_ + p.gap_ms;
  for (std::size_t w = 0; w < L; ++w) {
    std::span<float> target, weights;
    double eta = 0.0;
    if (training && !dw.empty()) {
      auto& m = dw[w];
      if (m.rows() != p.layer_sizes[w + 1] || m.cols() != p.layer_sizes[w])
        throw parameter_error(fmt::format("microcircuit: update buffer {} is {}x{}; expected {}x{}",
                                          w, m.rows(), m.cols(), p.layer_sizes[w + 1],
                                          p.layer_sizes[w]));
      target = m.values();
    } else if (training && online) {
      weights = circuit_.net().proj(circuit_.layout().forward[w]).weights();
      eta = p.layer_rate(w);
    }
    if (carry)
      rules_[w]->continue_sample(target, weights, eta, shift);
    else
      rules_[w]->begin_sample(target, weights, eta);
  }
  const double t_e = p.error_start_ms();
  for (auto& c : pyramidal_) c.begin_sample(t_e);
  for (auto& c : error_) c.begin_sample(t_e);

  sim_->run_until(time_ms{window_ms_});

  if (p.between_samples == sample_transition::decay) {
    save_state();
    carry_ = true;
  }

  sample_outcome out;
  out.label = label;
  const auto counts = pyramidal_[L - 1].counts();
  const auto first = pyramidal_[L - 1].first_spike_ms();
  std::uint32_t best = 0;
  double best_first = inf;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] == 0) continue;
    if (counts[k] > best || (counts[k] == best && first[k] < best_first)) {
      best = counts[k];
      best_first = first[k];
      out.predicted = static_cast<int>(k);
    }
  }
  if (training) {
    const auto late = pyramidal_[L - 1].late_counts();
    double e = 0.0;
    for (std::size_t k = 0; k < late.size(); ++k) {
      const double d = static_cast<double>(late[k]) - static_cast<double>(target_counts_[k]);
      e += d * d;
    }
    out.error = 0.5 * e;
  }
  return out;
}

}  // namespace apical::learning
