#include "apical/learning/microcircuit/network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/training/optimizer.hpp"
#include "apical/models/softmax_population.hpp"

namespace apical::learning {
namespace {

// A dense projection's synapses in (pre, post) order, so that synapse (a, b)
// has index a * post_size + b once frozen (freeze orders by (pre, delay,
// post); one delay keeps this order). Streamed: 784 x 800 synapse structs
// are never held at once.
synapse_generator dense(std::size_t pre_size, std::size_t post_size, double delay_ms) {
  return [=](const synapse_sink& sink) {
    for (std::size_t a = 0; a < pre_size; ++a)
      for (std::size_t b = 0; b < post_size; ++b)
        sink({static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(b), 0.0f, delay_ms});
  };
}

void check_dense(const projection& pr) {
  const std::size_t n = pr.post_size();
  bool ok = pr.size() == pr.pre_size() * n;
  for (std::size_t a = 0; ok && a < pr.pre_size(); ++a) {
    ok = pr.row_begin(static_cast<std::uint32_t>(a)) == a * n;
    for (std::size_t b = 0; ok && b < n; ++b) ok = pr.targets()[a * n + b] == b;
  }
  if (!ok)
    throw std::logic_error("microcircuit: projection '" + pr.name() +
                           "' is not laid out as dense (pre, post) rows");
}

}  // namespace

double init_bound_mv(const microcircuit_params& p, std::size_t w) {
  const double gap = p.pyramidal.v_th_mv - p.pyramidal.e_l_mv;
  const std::size_t fan_in =
      w == 0 && p.first_layer.enabled() ? p.first_layer.fan_in() : p.layer_sizes[w];
  return p.init_gain * std::abs(gap) * std::sqrt(3.0 / static_cast<double>(fan_in));
}

std::vector<matrix> initial_weights(const microcircuit_params& p) {
  p.validate();
  std::vector<matrix> out;
  for (std::size_t w = 0; w < p.num_layers(); ++w) {
    matrix m(p.layer_sizes[w + 1], p.layer_sizes[w]);
    rng r(derive_seed(p.seed, stream::initial_state, w));
    const double a = init_bound_mv(p, w);
    for (float& x : m.values()) x = static_cast<float>(r.uniform(-a, a));
    if (w == 0 && p.first_layer.enabled())
      zero_where_masked(connection_mask(p.first_layer, p.layer_sizes[1]).values(), m.values());
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<matrix> draw_feedback(const microcircuit_params& p) {
  p.validate();
  std::vector<matrix> out;
  const std::size_t L = p.num_layers();
  for (std::size_t w = 0; w + 1 < L; ++w) {
    if (p.feedback == feedback_mode::symmetric) {
      out.emplace_back();
      continue;
    }
    const std::size_t n_src =
        p.feedback == feedback_mode::direct ? p.layer_sizes[L] : p.layer_sizes[w + 2];
    matrix m(n_src, p.layer_sizes[w + 1]);
    rng r(derive_seed(p.seed, stream::connectivity, w));
    const double f = p.feedback_weight_mv;
    for (float& x : m.values()) {
      if (p.feedback == feedback_mode::sign_concordant) {
        x = static_cast<float>(p.magnitude == sign_magnitude::uniform ? f
                                                                      : r.uniform(0.0, 2.0 * f));
      } else {  // random (FA) and direct (DFA): random magnitude, random sign
        const double magnitude = r.uniform(0.0, 2.0 * f);
        x = static_cast<float>(r.below(2) == 0 ? magnitude : -magnitude);
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

void signed_feedback(const microcircuit_params& p, const matrix& fixed, const matrix& w_above,
                     matrix& out) {
  switch (p.feedback) {
    case feedback_mode::sign_concordant:
      out.resize(fixed.rows(), fixed.cols());
      for (std::size_t k = 0; k < fixed.size(); ++k) {
        const float w = w_above.data()[k];
        out.data()[k] = w > 0 ? fixed.data()[k] : (w < 0 ? -fixed.data()[k] : 0.0f);
      }
      break;
    case feedback_mode::symmetric:
      out.resize(w_above.rows(), w_above.cols());
      for (std::size_t k = 0; k < w_above.size(); ++k)
        out.data()[k] = static_cast<float>(p.symmetric_gain * w_above.data()[k]);
      break;
    case feedback_mode::random:
    case feedback_mode::direct:
      out = fixed;
      break;
  }
}

microcircuit_network::microcircuit_network(const microcircuit_params& p) : params_(p) {
  params_.validate();
  const std::size_t L = p.num_layers();
  const auto& n = p.layer_sizes;
  const double t_e = p.error_start_ms();

  input_ = &net_.add_population<spike_time_source>("input", n[0]);
  layout_.input = input_->id();
  for (std::size_t w = 0; w < L; ++w) {
    const auto name = fmt::format("P{}", w + 1);
    if (w + 1 == L && p.output == output_cells::softmax) {
      models::softmax_population::parameters sp;
      sp.tau_ms = p.pyramidal.tau_s_ms;
      sp.e_l_mv = p.pyramidal.e_l_mv;
      sp.beta_per_mv = p.softmax_beta_per_mv;
      sp.rate_hz = p.teacher_on_hz;
      sp.regular = p.teacher_regular ? 1.0 : 0.0;
      const auto& out = net_.add(std::make_unique<models::softmax_population>(name, n[w + 1], sp));
      layout_.pyramidal.push_back(out.id());
      pyramidal_.push_back(nullptr);
    } else {
      auto& pyr = static_cast<models::pyramidal_population&>(
          net_.add(std::make_unique<models::pyramidal_population>(name, n[w + 1], p.pyramidal)));
      layout_.pyramidal.push_back(pyr.id());
      pyramidal_.push_back(&pyr);
    }
    models::error_cell::parameters e;
    e.theta_mv = p.error_theta_mv;
    e.tau_m_ms = p.error_tau_m_ms;
    e.gated = p.layer_gated(w) ? 1.0 : 0.0;
    e.gate_ms = p.tau_g_ms;
    e.open_from_ms = t_e;
    e.dither = p.error_dither ? 1.0 : 0.0;
    e.pair_size = static_cast<double>(n[w + 1]);
    auto& err = net_.add_population<models::error_cell>(fmt::format("E{}", w + 1), 2 * n[w + 1], e);
    layout_.error.push_back(err.id());
    error_.push_back(&err);
  }
  teacher_ = &net_.add_population<spike_time_source>("teacher", n[L]);
  layout_.teacher = teacher_->id();

  // Forward W^l first: at equal times deliveries are ordered by projection,
  // so a presynaptic arrival is in the trace before an error spike of the
  // same instant reads it.
  for (std::size_t w = 0; w < L; ++w) {
    const population& pre = net_.pop(w == 0 ? layout_.input : layout_.pyramidal[w - 1]);
    const population& post = net_.pop(layout_.pyramidal[w]);
    if (w == 0 && p.first_layer.enabled()) {
      // Only the synapses of the receptive fields, rows by input.
      std::vector<synapse> local;
      local.reserve(n[1] * p.first_layer.fan_in());
      for (std::uint32_t i = 0; i < n[1]; ++i)
        for (const std::size_t j : receptive_field(p.first_layer, n[1], i))
          local.push_back({static_cast<std::uint32_t>(j), i, 0.0f, p.feedforward_delay_ms});
      std::ranges::sort(local, {}, [](const synapse& s) { return std::pair(s.pre, s.post); });
      layout_.forward.push_back(
          net_.connect("forward1", pre, post, models::pyramidal_cell::basal, std::move(local))
              .id());
      continue;
    }
    auto& pr =
        net_.connect(fmt::format("forward{}", w + 1), pre, post, models::pyramidal_cell::basal,
                     dense(n[w], n[w + 1], p.feedforward_delay_ms));
    check_dense(pr);
    layout_.forward.push_back(pr.id());
  }
  for (std::size_t w = 0; w < L; ++w) {
    const auto m = n[w + 1];
    const population& pyr = net_.pop(layout_.pyramidal[w]);
    const population& err = net_.pop(layout_.error[w]);
    std::vector<synapse> apical, gate, coupling;
    for (std::uint32_t i = 0; i < m; ++i) {
      const auto minus = static_cast<std::uint32_t>(m + i);
      apical.push_back({i, i, 1.0f, p.local_delay_ms});
      apical.push_back({minus, i, -1.0f, p.local_delay_ms});
      gate.push_back({i, i, 1.0f, p.local_delay_ms});
      gate.push_back({i, minus, 1.0f, p.local_delay_ms});
      const auto theta = static_cast<float>(p.error_theta_mv);
      coupling.push_back({i, minus, theta, p.local_delay_ms});
      coupling.push_back({minus, i, theta, p.local_delay_ms});
    }
    layout_.apical.push_back(net_.connect(fmt::format("apical{}", w + 1), err, pyr,
                                          models::pyramidal_cell::apical, std::move(apical))
                                 .id());
    layout_.gate.push_back(p.layer_gated(w)
                               ? net_.connect(fmt::format("gate{}", w + 1), pyr, err,
                                              models::error_cell::gate, std::move(gate))
                                     .id()
                               : microcircuit_layout::none);
    layout_.coupling.push_back(p.pair_coupling
                                   ? net_.connect(fmt::format("coupling{}", w + 1), err, err,
                                                  models::error_cell::ungated, std::move(coupling))
                                         .id()
                                   : microcircuit_layout::none);
  }
  for (std::size_t w = 0; w + 1 < L; ++w) {
    const std::size_t src_w = p.feedback == feedback_mode::direct ? L - 1 : w + 1;
    const population& src = net_.pop(layout_.error[src_w]);
    const population& dst = net_.pop(layout_.error[w]);
    auto& pr = net_.connect(fmt::format("feedback{}", w + 1), src, dst, models::error_cell::drive,
                            dense(src.size(), dst.size(), p.error_delay_ms));
    check_dense(pr);
    layout_.feedback.push_back(pr.id());
  }
  {
    const auto m = n[L];
    const auto wo = static_cast<float>(p.output_error_weight_mv);
    std::vector<synapse> teach, compare;
    for (std::uint32_t k = 0; k < m; ++k) {
      const auto minus = static_cast<std::uint32_t>(m + k);
      teach.push_back({k, k, wo, p.error_delay_ms});
      teach.push_back({k, minus, -wo, p.error_delay_ms});
      compare.push_back({k, k, -wo, p.error_delay_ms});
      compare.push_back({k, minus, wo, p.error_delay_ms});
    }
    const population& out_err = net_.pop(layout_.error[L - 1]);
    layout_.teach =
        net_.connect("teach", *teacher_, out_err, models::error_cell::drive, std::move(teach)).id();
    layout_.compare = net_.connect("compare", net_.pop(layout_.pyramidal[L - 1]), out_err,
                                   models::error_cell::drive, std::move(compare))
                          .id();
  }
}

void microcircuit_network::set_forward(std::size_t w, const_matrix_view weights) {
  auto& pr = net_.proj(layout_.forward.at(w));
  const std::size_t n_post = pr.post_size(), n_pre = pr.pre_size();
  if (weights.rows != n_post || weights.cols != n_pre)
    throw parameter_error(
        fmt::format("microcircuit: weights of layer {} are {}x{}; expected {}x{} (post x pre)",
                    w + 1, weights.rows, weights.cols, n_post, n_pre));
  if (pr.size() != n_pre * n_post) {  // local fields: the synapses of the patches
    auto out = pr.weights();
    const auto targets = pr.targets();
    for (std::uint32_t j = 0; j < n_pre; ++j)
      for (std::uint64_t k = pr.row_begin(j); k < pr.row_end(j); ++k)
        out[k] = weights(targets[k], j);
    return;
  }
  // The projection's rows are presynaptic (check_dense): a blocked transpose.
  transpose_rows(weights, matrix_view{pr.weights().data(), n_pre, n_post}, 0, n_post);
}

void microcircuit_network::get_forward(std::size_t w, matrix& out) const {
  const auto& pr = net_.proj(layout_.forward.at(w));
  const std::size_t n_post = pr.post_size(), n_pre = pr.pre_size();
  out.resize(n_post, n_pre);
  const auto in = pr.weights();
  if (pr.size() != n_pre * n_post) {
    std::fill(out.values().begin(), out.values().end(), 0.0f);
    const auto targets = pr.targets();
    for (std::uint32_t j = 0; j < n_pre; ++j)
      for (std::uint64_t k = pr.row_begin(j); k < pr.row_end(j); ++k) out(targets[k], j) = in[k];
    return;
  }
  for (std::size_t j = 0; j < n_pre; ++j)
    for (std::size_t i = 0; i < n_post; ++i) out(i, j) = in[j * n_post + i];
}

void microcircuit_network::set_feedback(std::size_t w, const_matrix_view s) {
  auto& pr = net_.proj(layout_.feedback.at(w));
  const std::size_t n_src = pr.pre_size() / 2, n_dst = pr.post_size() / 2;
  if (s.rows != n_src || s.cols != n_dst)
    throw parameter_error(fmt::format(
        "microcircuit: feedback of hidden layer {} is {}x{}; expected {}x{} (source x target)",
        w + 1, s.rows, s.cols, n_src, n_dst));
  auto out = pr.weights();
  const bool inhibit = params_.feedback_inhibition;
  const std::size_t row = 2 * n_dst;
  for (std::size_t a = 0; a < 2 * n_src; ++a) {
    const float sigma = a < n_src ? 1.0f : -1.0f;
    const float* s_row = s.row(a % n_src);
    float* o = out.data() + a * row;
    for (std::size_t i = 0; i < n_dst; ++i) {
      const float plus = sigma * s_row[i];  // onto E+_i; E-_i gets the negative
      o[i] = inhibit || plus > 0 ? plus : 0.0f;
      o[n_dst + i] = inhibit || plus < 0 ? -plus : 0.0f;
    }
  }
}

}  // namespace apical::learning
