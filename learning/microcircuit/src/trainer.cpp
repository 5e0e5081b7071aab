#include "apical/learning/microcircuit/trainer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <numeric>
#include <string_view>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/alignment.hpp"
#include "apical/learning/worker_pool.hpp"

namespace apical::learning {
namespace {

// Evaluation splits the data into pieces of this many samples (the unit of
// work of a thread, and, with between_samples = decay, the run of samples
// that share their state).
constexpr std::size_t evaluation_piece = 64;
constexpr std::uint64_t evaluation_epoch = ~std::uint64_t{0};

std::uint64_t encoder_seed(std::uint64_t seed, std::uint64_t epoch) {
  return derive_seed(seed, stream::encoder, epoch);
}

struct sample_stats {
  std::uint64_t input = 0;
  std::uint64_t hidden = 0;
  std::uint64_t output = 0;
  std::uint64_t error = 0;
  std::uint64_t updates = 0;
};

}  // namespace

struct microcircuit_trainer::batch_result {
  std::vector<sample_outcome> outcomes;
  std::vector<sample_stats> stats;
  batch_activity* activity = nullptr;  // filled when set
};

weight_updates rate_updates_at(const batch_activity& activity, std::span<const matrix> paths,
                               bool direct, bool output_gate, double gate_ms) {
  const std::size_t L = activity.counts.size() - 1;
  if (paths.size() + 1 != L)
    throw parameter_error(
        fmt::format("rate_updates_at: {} feedback paths; expected {}", paths.size(), L - 1));
  if (!std::isinf(gate_ms) && !(activity.window_ms > 0))
    throw parameter_error(fmt::format(
        "rate_updates_at: activity.window_ms is {}; expected > 0 ms with a finite gate_ms",
        activity.window_ms));
  const std::size_t B = activity.output_error.rows();
  std::vector<matrix> delta(L);
  delta[L - 1] = activity.output_error;
  const auto gate_by = [&](matrix& d, const matrix& counts) {
    for (std::size_t k = 0; k < d.size(); ++k) {
      const double n = counts.data()[k];
      const double f = std::isinf(gate_ms) ? (n > 0 ? 1.0 : 0.0)
                                           : -std::expm1(-n / activity.window_ms * gate_ms);
      d.data()[k] = static_cast<float>(d.data()[k] * f);
    }
  };
  if (output_gate) gate_by(delta[L - 1], activity.counts[L]);
  for (std::size_t w = L - 1; w-- > 0;) {
    const matrix& upper = direct ? delta[L - 1] : delta[w + 1];
    const matrix& path = paths[w];
    if (path.rows() != upper.cols() || path.cols() != activity.counts[w + 1].cols())
      throw parameter_error(fmt::format("rate_updates_at: path {} is {}x{}; expected {}x{}", w,
                                        path.rows(), path.cols(), upper.cols(),
                                        activity.counts[w + 1].cols()));
    delta[w] = matrix(B, path.cols());
    matmul(upper, path, delta[w]);
    gate_by(delta[w], activity.counts[w + 1]);
  }
  weight_updates out;
  for (std::size_t w = 0; w < L; ++w) {
    matrix dw(delta[w].cols(), activity.counts[w].cols());
    matmul_at_b(delta[w], activity.counts[w], dw);
    out.weights.push_back(std::move(dw));
    out.biases.emplace_back();
  }
  return out;
}

microcircuit_trainer::microcircuit_trainer(microcircuit_params params)
    : params_(std::move(params)) {
  params_.validate();
  weights_ = initial_weights(params_);
  feedback_fixed_ = draw_feedback(params_);
  feedback_signed_.resize(feedback_fixed_.size());
  refresh_feedback();
  sgd_ = optimizer({.momentum = params_.momentum,
                    .manhattan = params_.manhattan,
                    .w_min = params_.w_min_mv,
                    .w_max = params_.w_max_mv,
                    .normalise = params_.normalise});
  for (const auto& w : weights_) sgd_.remember_norm(sgd_.add(w.size()), w.values());
  if (params_.first_layer.enabled()) {
    const matrix mask = connection_mask(params_.first_layer, params_.layer_sizes[1]);
    sgd_.set_mask(0, {mask.values().begin(), mask.values().end()});
  }
  for (std::size_t t = 0; t < params_.threads; ++t)
    runners_.push_back(std::make_unique<microcircuit_runner>(params_));
  runner_version_.assign(params_.threads, 0);
  const std::size_t L = num_layers();
  chunk_dw_.resize(params_.chunks);
  for (auto& c : chunk_dw_)
    for (std::size_t w = 0; w < L; ++w)
      c.emplace_back(params_.layer_sizes[w + 1], params_.layer_sizes[w]);
  for (std::size_t w = 0; w < L; ++w)
    sum_dw_.emplace_back(params_.layer_sizes[w + 1], params_.layer_sizes[w]);
  for (std::size_t w = 0; w + 1 < L; ++w) {
    batch_tally_.emplace_back(params_.layer_sizes[w + 1]);
    thresholds_.emplace_back(params_.layer_sizes[w + 1], 0.0);
  }
  epoch_tally_ = batch_tally_;
  chunk_tally_.assign(params_.chunks, batch_tally_);
  pool_ = std::make_unique<detail::worker_pool>(params_.threads);
}

microcircuit_trainer::~microcircuit_trainer() = default;

void microcircuit_trainer::refresh_feedback() {
  for (std::size_t w = 0; w < feedback_fixed_.size(); ++w)
    signed_feedback(params_, feedback_fixed_[w], weights_[w + 1], feedback_signed_[w]);
}

namespace {

// Throws parameter_error unless `given` has the count and shapes of
// `expected` and only finite entries; `what` names the matrices ("weights",
// "velocity") and `note` is added to a count mismatch.
void check_like(std::string_view what, const std::vector<matrix>& given,
                const std::vector<matrix>& expected, std::string_view note = {}) {
  if (given.size() != expected.size())
    throw parameter_error(fmt::format("microcircuit: {} {} layers given; expected {}{}",
                                      given.size(), what, expected.size(), note));
  for (std::size_t w = 0; w < given.size(); ++w) {
    const matrix& m = given[w];
    if (m.rows() != expected[w].rows() || m.cols() != expected[w].cols())
      throw parameter_error(
          fmt::format("microcircuit: {} of layer {}: {}x{}; expected {}x{} (post x pre)", what,
                      w + 1, m.rows(), m.cols(), expected[w].rows(), expected[w].cols()));
    for (std::size_t k = 0; k < m.size(); ++k)
      if (!std::isfinite(m.data()[k]))
        throw parameter_error(fmt::format(
            "microcircuit: {} of layer {} entry ({}, {}) is {}; expected a finite value", what,
            w + 1, k / m.cols(), k % m.cols(), m.data()[k]));
  }
}

}  // namespace

void microcircuit_trainer::set_weights(std::vector<matrix> weights) {
  check_like("weights", weights, weights_);
  if (const auto mask = sgd_.mask(0); !mask.empty()) {
    std::size_t outside = 0;
    for (std::size_t k = 0; k < mask.size(); ++k)
      outside += mask[k] == 0.0f && weights[0].data()[k] != 0.0f ? 1 : 0;
    if (outside != 0)
      throw parameter_error(fmt::format(
          "microcircuit: weights of layer 1 hold {} non-zero values outside the local fields "
          "(first_layer); expected 0 there, where the layer has no synapse",
          outside));
  }
  weights_ = std::move(weights);
  ++weights_version_;
  refresh_feedback();
}

std::vector<matrix> microcircuit_trainer::velocity() const {
  std::vector<matrix> out;
  for (std::size_t w = 0; w < weights_.size(); ++w) {
    if (!sgd_.has_velocity(w)) continue;
    const auto v = sgd_.velocity(w);
    out.emplace_back(weights_[w].rows(), weights_[w].cols(),
                     std::vector<float>(v.begin(), v.end()));
  }
  return out;
}

void microcircuit_trainer::set_threshold_offsets(std::vector<std::vector<double>> offsets) {
  if (offsets.size() != thresholds_.size())
    throw parameter_error(fmt::format(
        "microcircuit: {} layers of threshold offsets given; expected {} (one per hidden layer)",
        offsets.size(), thresholds_.size()));
  const double lowest = lowest_threshold_offset();
  for (std::size_t w = 0; w < offsets.size(); ++w) {
    if (offsets[w].size() != thresholds_[w].size())
      throw parameter_error(
          fmt::format("microcircuit: threshold offsets of layer {}: {} values; expected {}", w + 1,
                      offsets[w].size(), thresholds_[w].size()));
    for (std::size_t i = 0; i < offsets[w].size(); ++i)
      if (!std::isfinite(offsets[w][i]) || offsets[w][i] < lowest ||
          offsets[w][i] > params_.homeostasis_ceiling_mv)
        throw parameter_error(fmt::format(
            "microcircuit: threshold offset of layer {} cell {} is {} mV; expected a finite value "
            "in [{}, {}] mV (homeostasis_floor_mv above rest, homeostasis_ceiling_mv)",
            w + 1, i, offsets[w][i], lowest, params_.homeostasis_ceiling_mv));
  }
  thresholds_ = std::move(offsets);
  ++weights_version_;
}

void microcircuit_trainer::set_velocity(std::vector<matrix> velocity) {
  check_like("velocity", velocity, this->velocity(),
             fmt::format(" (momentum {})", params_.momentum));
  for (std::size_t w = 0; w < velocity.size(); ++w) sgd_.set_velocity(w, velocity[w].values());
}

void microcircuit_trainer::run_batch(dataset_view data, std::span<const std::size_t> indices,
                                     std::uint64_t seed, bool learn, batch_result& out,
                                     const progress_callback& on_progress) {
  const std::size_t B = indices.size();
  const std::size_t L = num_layers();
  const std::size_t n0 = params_.layer_sizes[0];
  const std::size_t pieces =
      learn ? std::min(params_.chunks, B) : (B + evaluation_piece - 1) / evaluation_piece;
  out.outcomes.assign(B, {});
  out.stats.assign(B, {});
  if (out.activity) {
    auto& a = *out.activity;
    a.counts.clear();
    for (std::size_t l = 0; l <= L; ++l) a.counts.emplace_back(B, params_.layer_sizes[l]);
    a.output_error = matrix(B, params_.layer_sizes[L]);
    a.net_error.clear();
    for (std::size_t w = 0; w < L; ++w) a.net_error.emplace_back(B, params_.layer_sizes[w + 1]);
    a.window_ms = params_.window_ms;
  }
  // Of several processes, this one simulates its share of the pieces.
  const auto [first_piece, last_piece] = my_pieces(pieces);
  const std::size_t my_samples = last_piece * B / pieces - first_piece * B / pieces;
  std::atomic<std::size_t> next{first_piece};
  std::mutex progress_mutex;
  std::size_t done = 0, correct = 0;  // guarded by progress_mutex
  pool_->run(pool_->threads(), [&](std::size_t, std::size_t worker) {
    auto& runner = *runners_[worker];
    if (runner_version_[worker] != weights_version_) {
      runner.load(weights_, feedback_signed_, thresholds_);
      runner_version_[worker] = weights_version_;
    }
    for (std::size_t c; (c = next.fetch_add(1)) < last_piece;) {
      const std::size_t begin = c * B / pieces, end = (c + 1) * B / pieces;
      std::span<matrix> dw;
      if (learn) {
        for (auto& m : chunk_dw_[c]) m.fill(0.0f);
        dw = chunk_dw_[c];
        for (auto& t : chunk_tally_[c]) t.clear();
      }
      runner.restart();
      for (std::size_t s = begin; s < end; ++s) {
        const std::size_t idx = indices[s];
        const int label = data.labels[idx];
        std::uint64_t updates_before = 0;
        for (std::size_t w = 0; w < L; ++w) updates_before += runner.rule(w).updates();
        auto outcome = runner.present({data.input(idx), n0}, learn ? label : -1, seed, idx, dw);
        outcome.label = label;
        out.outcomes[s] = outcome;
        auto& st = out.stats[s];
        st.input = runner.input_raster().total_spikes();
        for (std::size_t w = 0; w < L; ++w) {
          (w + 1 < L ? st.hidden : st.output) += runner.pyramidal_spikes(w);
          st.error += runner.error_spikes(w);
          st.updates += runner.rule(w).updates();
        }
        st.updates -= updates_before;
        if (learn)
          for (std::size_t w = 0; w + 1 < L; ++w) chunk_tally_[c][w].add(runner.counts(w));
        if (out.activity) {
          auto& a = *out.activity;
          const auto& raster = runner.input_raster();
          for (std::size_t j = 0; j < n0; ++j) {
            std::size_t n = 0;
            for (const double t : raster.channel(j)) n += t < params_.window_ms ? 1 : 0;
            a.counts[0](s, j) = static_cast<float>(n);
          }
          for (std::size_t w = 0; w < L; ++w) {
            const auto cnt = runner.counts(w);
            const auto err = runner.error_counts(w);
            const std::size_t m = cnt.size();
            for (std::size_t i = 0; i < m; ++i) {
              a.counts[w + 1](s, i) = static_cast<float>(cnt[i]);
              a.net_error[w](s, i) = static_cast<float>(err[i]) - static_cast<float>(err[m + i]);
            }
          }
          const auto late = runner.late_counts(L - 1);
          const auto target = runner.target_counts();
          for (std::size_t k = 0; k < late.size(); ++k)
            a.output_error(s, k) = static_cast<float>(target[k]) - static_cast<float>(late[k]);
        }
      }
      if (on_progress) {
        const std::lock_guard lock(progress_mutex);
        done += end - begin;
        for (std::size_t s = begin; s < end; ++s) correct += out.outcomes[s].correct() ? 1 : 0;
        // Several processes: this one's share, scaled to the batch.
        on_progress(done * B / std::max<std::size_t>(my_samples, 1),
                    correct * B / std::max<std::size_t>(my_samples, 1));
      }
    }
  });
  share_pieces(pieces, learn, out);
  if (!learn) return;
  for (std::size_t w = 0; w + 1 < L; ++w) {
    batch_tally_[w].clear();
    for (std::size_t c = 0; c < pieces; ++c) batch_tally_[w].add(chunk_tally_[c][w]);
  }
  // Sum the pieces in piece order; rows are split over the workers, and
  // every element's sum has the same order whatever the split.
  pool_->run(pool_->threads(), [&](std::size_t part, std::size_t) {
    const std::size_t T = pool_->threads();
    for (std::size_t w = 0; w < L; ++w) {
      const std::size_t rows = sum_dw_[w].rows(), cols = sum_dw_[w].cols();
      for (std::size_t r = part * rows / T; r < (part + 1) * rows / T; ++r) {
        float* o = sum_dw_[w].row(r);
        std::copy(chunk_dw_[0][w].row(r), chunk_dw_[0][w].row(r) + cols, o);
        for (std::size_t c = 1; c < pieces; ++c) {
          const float* in = chunk_dw_[c][w].row(r);
          for (std::size_t j = 0; j < cols; ++j) o[j] += in[j];
        }
      }
    }
  });
}

std::pair<std::size_t, std::size_t> microcircuit_trainer::my_pieces(std::size_t pieces) const {
  if (!params_.processes) return {0, pieces};
  const std::size_t r = params_.processes->rank(), n = params_.processes->size();
  return {r * pieces / n, (r + 1) * pieces / n};
}

namespace {
// Appends the bytes of `values` to `out`, or reads them back from `in`.
template <class T>
void put(std::vector<std::byte>& out, std::span<const T> values) {
  const auto bytes = std::as_bytes(values);
  out.insert(out.end(), bytes.begin(), bytes.end());
}
template <class T>
void take(const std::byte*& in, std::span<T> values) {
  if (values.empty()) return;
  std::memcpy(values.data(), in, values.size_bytes());
  in += values.size_bytes();
}
}  // namespace

void microcircuit_trainer::share_pieces(std::size_t pieces, bool learn, batch_result& out) {
  communicator* comm = params_.processes;
  if (!comm || comm->size() <= 1) return;
  const std::size_t B = out.outcomes.size();
  const std::size_t L = num_layers();
  // One piece's part, written or read in this order by every process.
  const auto visit = [&](std::size_t c, auto&& f) {
    const std::size_t begin = c * B / pieces, end = (c + 1) * B / pieces;
    if (learn) {
      for (auto& m : chunk_dw_[c]) f(m.values());
      for (auto& t : chunk_tally_[c]) {
        f(std::span(t.spikes));
        f(std::span(t.samples_fired));
      }
    }
    f(std::span(out.outcomes).subspan(begin, end - begin));
    f(std::span(out.stats).subspan(begin, end - begin));
    if (out.activity) {
      auto& a = *out.activity;
      const auto rows = [&](matrix& m) {
        f(std::span(m.row(begin), (end - begin) * m.cols()));
      };
      for (auto& m : a.counts) rows(m);
      rows(a.output_error);
      for (std::size_t w = 0; w < L; ++w) rows(a.net_error[w]);
    }
  };
  std::vector<std::byte> mine, all;
  std::vector<std::size_t> offsets;
  const auto [first, last] = my_pieces(pieces);
  for (std::size_t c = first; c < last; ++c)
    visit(c, [&mine](auto values) {
      put(mine, std::span<const typename decltype(values)::element_type>(values));
    });
  comm->all_gather(mine, all, offsets);
  for (unsigned r = 0; r < comm->size(); ++r) {
    if (r == comm->rank()) continue;
    const std::byte* in = all.data() + offsets[r];
    const std::size_t from = r * pieces / comm->size(), to = (r + 1) * pieces / comm->size();
    for (std::size_t c = from; c < to; ++c) visit(c, [&in](auto values) { take(in, values); });
    if (in != all.data() + offsets[r + 1])
      throw std::logic_error("microcircuit: a process sent a batch of another shape");
  }
}

void microcircuit_trainer::set_learning_rate(double eta) {
  if (!(eta >= 0.0) || !std::isfinite(eta))
    throw parameter_error(
        fmt::format("microcircuit: learning rate {}; expected a finite value >= 0", eta));
  params_.learning_rate = eta;
  for (auto& r : runners_) r->set_learning_rate(eta);
}

void microcircuit_trainer::apply_update(std::size_t batch_samples) {
  for (std::size_t w = 0; w < weights_.size(); ++w)
    sgd_.step(w, weights_[w].values(), sum_dw_[w].values(), params_.layer_rate(w), batch_samples);
  stabilise();
}

void microcircuit_trainer::hidden_tally::clear() {
  std::ranges::fill(spikes, 0);
  std::ranges::fill(samples_fired, 0);
}

void microcircuit_trainer::hidden_tally::add(std::span<const std::uint32_t> counts) {
  for (std::size_t i = 0; i < spikes.size(); ++i) {
    spikes[i] += counts[i];
    samples_fired[i] += counts[i] > 0 ? 1 : 0;
  }
}

void microcircuit_trainer::hidden_tally::add(const hidden_tally& other) {
  for (std::size_t i = 0; i < spikes.size(); ++i) {
    spikes[i] += other.spikes[i];
    samples_fired[i] += other.samples_fired[i];
  }
}

double microcircuit_trainer::lowest_threshold_offset() const {
  const auto& cell = params_.pyramidal;
  return params_.homeostasis_floor_mv + cell.e_l_mv - cell.v_th_mv;
}

void microcircuit_trainer::note_activity(std::size_t samples) {
  const double eta = params_.homeostasis_rate_mv;
  const double target = params_.homeostasis_target_hz * params_.window_ms / 1000.0;
  const double lowest = lowest_threshold_offset();
  const double per_sample = 1.0 / static_cast<double>(samples);
  for (std::size_t w = 0; w < batch_tally_.size(); ++w) {
    epoch_tally_[w].add(batch_tally_[w]);
    const auto& n = batch_tally_[w].spikes;
    if (eta == 0.0) continue;
    auto& d = thresholds_[w];
    for (std::size_t i = 0; i < n.size(); ++i)
      d[i] = std::clamp(d[i] + eta * (static_cast<double>(n[i]) * per_sample - target), lowest,
                        params_.homeostasis_ceiling_mv);
  }
  if (eta != 0.0) ++weights_version_;
}

void microcircuit_trainer::stabilise() {
  if (sgd_.stabilises())
    for (std::size_t w = 0; w < weights_.size(); ++w) sgd_.stabilise(w, weights_[w].values());
  ++weights_version_;
  refresh_feedback();
}

void microcircuit_trainer::train_online(dataset_view data, std::span<const std::size_t> order,
                                        std::uint64_t seed, microcircuit_epoch_metrics& m) {
  auto& runner = *runners_[0];
  const std::size_t L = num_layers();
  const std::size_t n0 = params_.layer_sizes[0];
  runner.restart();
  for (const std::size_t idx : order) {
    if (runner_version_[0] != weights_version_) {
      runner.load(weights_, feedback_signed_, thresholds_);
      runner_version_[0] = weights_version_;
    }
    std::uint64_t updates_before = 0;
    for (std::size_t w = 0; w < L; ++w) updates_before += runner.rule(w).updates();
    const auto outcome =
        runner.present({data.input(idx), n0}, data.labels[idx], seed, idx, {}, true);
    m.train_error += outcome.error;
    m.train_accuracy += outcome.correct() ? 1.0 : 0.0;
    m.input_spikes += static_cast<double>(runner.input_raster().total_spikes());
    for (std::size_t w = 0; w < L; ++w) {
      (w + 1 < L ? m.hidden_spikes : m.output_spikes) +=
          static_cast<double>(runner.pyramidal_spikes(w));
      m.error_spikes += static_cast<double>(runner.error_spikes(w));
      m.apical_updates += static_cast<double>(runner.rule(w).updates());
    }
    m.apical_updates -= static_cast<double>(updates_before);
    for (std::size_t w = 0; w < batch_tally_.size(); ++w) {
      batch_tally_[w].clear();
      batch_tally_[w].add(runner.counts(w));
    }
    note_activity(1);
    // The network's weights changed during the sample: read them back, apply
    // the stabilisers, and reload (the sign-following feedback too).
    for (std::size_t w = 0; w < L; ++w) runner.circuit().get_forward(w, weights_[w]);
    stabilise();
    ++m.samples;
  }
}

microcircuit_epoch_metrics microcircuit_trainer::train_epoch(dataset_view data,
                                                             const batch_callback& on_batch) {
  const std::size_t L = num_layers();
  data.check(params_.layer_sizes[0], params_.layer_sizes[L], "training set");
  const auto start = std::chrono::steady_clock::now();
  microcircuit_epoch_metrics m;
  m.epoch = epochs_done_;
  const auto order = epoch_order(data.count, params_.seed, epochs_done_);
  for (auto& t : epoch_tally_) t.clear();
  const std::uint64_t seed = encoder_seed(params_.seed, epochs_done_);
  if (params_.schedule == update_schedule::online) {
    train_online(data, order, seed, m);
  } else {
    const std::size_t B = params_.schedule == update_schedule::per_sample ? 1 : params_.batch_size;
    batch_result result;
    batch_measurement measured;
    if (on_batch) result.activity = &measured.activity;
    std::size_t batch = 0;
    for (std::size_t first = 0; first < order.size(); first += B, ++batch) {
      const std::size_t n = std::min(B, order.size() - first);
      run_batch(data, std::span(order).subspan(first, n), seed, true, result);
      if (on_batch) {
        measured.outcomes = result.outcomes;
        measured.microcircuit.weights = sum_dw_;
        measured.microcircuit.biases.assign(sum_dw_.size(), {});
        on_batch(batch, measured);
      }
      apply_update(n);
      note_activity(n);
      for (std::size_t s = 0; s < n; ++s) {
        const auto& o = result.outcomes[s];
        const auto& st = result.stats[s];
        m.train_error += o.error;
        m.train_accuracy += o.correct() ? 1.0 : 0.0;
        m.input_spikes += static_cast<double>(st.input);
        m.hidden_spikes += static_cast<double>(st.hidden);
        m.output_spikes += static_cast<double>(st.output);
        m.error_spikes += static_cast<double>(st.error);
        m.apical_updates += static_cast<double>(st.updates);
      }
      m.samples += n;
    }
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (std::size_t w = 0; w < epoch_tally_.size(); ++w) {
    const auto& t = epoch_tally_[w];
    const auto units = static_cast<double>(t.spikes.size());
    const auto samples = static_cast<double>(m.samples);
    const auto below = [&](double fraction) {
      return static_cast<double>(std::ranges::count_if(
                 t.samples_fired,
                 [&](std::uint64_t n) {
                   return static_cast<double>(n) < fraction * samples || n == 0;
                 })) /
             units;
    };
    m.dead_fraction.push_back(below(0.0));
    m.quiet_fraction.push_back(below(0.01));
    const double spikes = std::accumulate(t.spikes.begin(), t.spikes.end(), 0.0);
    m.hidden_rate_hz.push_back(
        m.samples > 0 ? spikes / (units * samples * params_.window_ms / 1000.0) : 0.0);
    m.mean_threshold_offset_mv.push_back(
        std::accumulate(thresholds_[w].begin(), thresholds_[w].end(), 0.0) / units);
  }
  if (m.samples > 0) {
    const auto n = static_cast<double>(m.samples);
    m.train_error /= n;
    m.train_accuracy /= n;
    m.input_spikes /= n;
    m.hidden_spikes /= n;
    m.output_spikes /= n;
    m.error_spikes /= n;
    m.apical_updates /= n;
    m.samples_per_second = m.seconds > 0 ? n / m.seconds : 0.0;
  }
  ++epochs_done_;
  return m;
}

microcircuit_evaluation microcircuit_trainer::evaluate(dataset_view data,
                                                       const progress_callback& on_progress) {
  const std::size_t L = num_layers();
  data.check(params_.layer_sizes[0], params_.layer_sizes[L], "evaluation set");
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::size_t> indices(data.count);
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  batch_result result;
  run_batch(data, indices, encoder_seed(params_.seed, evaluation_epoch), false, result,
            on_progress);
  microcircuit_evaluation e;
  e.count = data.count;
  e.predicted.resize(data.count);
  for (std::size_t s = 0; s < data.count; ++s) {
    e.correct += result.outcomes[s].correct() ? 1 : 0;
    e.silent += result.outcomes[s].predicted < 0 ? 1 : 0;
    e.predicted[s] = result.outcomes[s].predicted;
  }
  e.accuracy = e.count ? static_cast<double>(e.correct) / static_cast<double>(e.count) : 0.0;
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

std::vector<microcircuit_epoch_metrics> microcircuit_trainer::train(
    dataset_view train_set, dataset_view test_set, std::size_t epochs,
    const std::function<void(const microcircuit_epoch_metrics&)>& on_epoch) {
  std::vector<microcircuit_epoch_metrics> all;
  for (std::size_t e = 0; e < epochs; ++e) {
    auto m = train_epoch(train_set);
    if (!test_set.empty()) m.test_accuracy = evaluate(test_set).accuracy;
    if (on_epoch) on_epoch(m);
    all.push_back(m);
  }
  return all;
}

batch_measurement microcircuit_trainer::measure_batch(dataset_view data,
                                                      std::span<const std::size_t> indices,
                                                      std::uint64_t seed) {
  const std::size_t L = num_layers();
  data.check(params_.layer_sizes[0], params_.layer_sizes[L], "measured batch");
  for (const std::size_t i : indices)
    if (i >= data.count)
      throw parameter_error(fmt::format(
          "measure_batch: index {} is out of range; the data has {} samples", i, data.count));
  batch_measurement m;
  batch_result result;
  result.activity = &m.activity;
  run_batch(data, indices, seed, true, result);
  m.outcomes = std::move(result.outcomes);
  for (std::size_t w = 0; w < L; ++w) {
    m.microcircuit.weights.push_back(sum_dw_[w]);
    m.microcircuit.biases.emplace_back();
  }
  return m;
}

std::vector<double> microcircuit_trainer::alignment_with_bp(const batch_measurement& m) const {
  std::vector<matrix> paths(weights_.begin() + 1, weights_.end());
  auto bp = rate_updates_at(m.activity, paths, false, params_.output_gate);
  // BP of a locally connected layer changes only the synapses it has.
  zero_where_masked(sgd_.mask(0), bp.weights[0].values());
  return alignment_angles_deg(m.microcircuit, bp);
}

}  // namespace apical::learning
