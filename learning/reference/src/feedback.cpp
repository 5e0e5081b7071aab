#include "apical/learning/reference/feedback.hpp"

#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "rate_kernels.hpp"

namespace apical::learning {
namespace {

constexpr std::array algorithm_names{"bp", "symmetric", "fa", "scfa", "dfa"};
constexpr std::array magnitude_names{"uniform", "random"};

// Rows of the path matrix of hidden layer w: the deltas it reads.
std::size_t source_size(const rate_network& net, algorithm algo, std::size_t w) {
  return algo == algorithm::dfa ? net.output_size() : net.layer_sizes()[w + 2];
}

bool uses_fixed(algorithm algo) {
  return algo == algorithm::fa || algo == algorithm::scfa || algo == algorithm::dfa;
}

float sign_of(float x) {
  return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
}

}  // namespace

std::string_view to_string(algorithm a) {
  return algorithm_names.at(static_cast<std::size_t>(a));
}
std::string_view to_string(sign_magnitude m) {
  return magnitude_names.at(static_cast<std::size_t>(m));
}

algorithm parse_algorithm(std::string_view name, std::string_view field) {
  return detail::parse_name<algorithm>(name, field, algorithm_names);
}
sign_magnitude parse_sign_magnitude(std::string_view name, std::string_view field) {
  return detail::parse_name<sign_magnitude>(name, field, magnitude_names);
}

void feedback_params::validate() const {
  if (static_cast<std::size_t>(algo) >= algorithm_names.size()) {
    throw parameter_error("algorithm: invalid value " + std::to_string(static_cast<int>(algo)));
  }
  if (static_cast<std::size_t>(magnitude) >= magnitude_names.size()) {
    throw parameter_error("scfa_magnitude: invalid value " +
                          std::to_string(static_cast<int>(magnitude)));
  }
  if (!(feedback_scale > 0.0) || !std::isfinite(feedback_scale)) {
    throw parameter_error("feedback_scale: is " + std::to_string(feedback_scale) +
                          ", expected a finite value > 0");
  }
}

feedback::feedback(const rate_network& net, const feedback_params& params)
    : algo_(params.algo), num_hidden_(net.num_layers() - 1) {
  params.validate();
  fixed_.resize(num_hidden_);
  current_.resize(num_hidden_);
  for (std::size_t w = 0; w < num_hidden_; ++w) {
    const std::size_t rows = source_size(net, algo_, w);
    const std::size_t cols = net.layer_sizes()[w + 1];
    const double a = params.feedback_scale * init_bound(net.params(), cols, rows);
    rng gen(derive_seed(params.seed, stream::connectivity, w));
    matrix& fixed = fixed_[w];
    switch (algo_) {
      case algorithm::bp:
      case algorithm::symmetric:
        break;
      case algorithm::fa:
      case algorithm::dfa:
        fixed.resize(rows, cols);
        for (float& x : fixed.values()) x = static_cast<float>(gen.uniform(-a, a));
        break;
      case algorithm::scfa:
        fixed.resize(rows, cols);
        if (params.magnitude == sign_magnitude::uniform) {
          fixed.fill(static_cast<float>(params.feedback_scale));
        } else {
          for (float& x : fixed.values()) x = static_cast<float>(gen.uniform(0.0, a));
        }
        break;
    }
  }
  refresh(net);
}

feedback::feedback(const rate_network& net, algorithm algo, std::vector<matrix> fixed)
    : algo_(algo), num_hidden_(net.num_layers() - 1) {
  feedback_params{algo, sign_magnitude::uniform, 1.0, 0}.validate();
  if (uses_fixed(algo_)) {
    if (fixed.size() != num_hidden_) {
      throw parameter_error("feedback: " + std::to_string(fixed.size()) +
                            " fixed matrices given, expected " + std::to_string(num_hidden_) +
                            " (one per hidden layer)");
    }
    fixed_ = std::move(fixed);
  } else {
    fixed_.assign(num_hidden_, matrix{});
  }
  current_.resize(num_hidden_);
  for (std::size_t w = 0; w < num_hidden_ && uses_fixed(algo_); ++w) {
    for (const float x : fixed_[w].values()) {
      if (!std::isfinite(x) || (algo_ == algorithm::scfa && x < 0.0f)) {
        throw parameter_error("feedback fixed[" + std::to_string(w) + "]: entry " +
                              std::to_string(x) + ", expected a finite value" +
                              (algo_ == algorithm::scfa ? " >= 0 (a magnitude)" : ""));
      }
    }
  }
  refresh(net);
}

void feedback::check_shapes(const rate_network& net) const {
  if (net.num_layers() - 1 != num_hidden_) {
    throw parameter_error("feedback: network has " + std::to_string(net.num_layers() - 1) +
                          " hidden layers, expected " + std::to_string(num_hidden_));
  }
  if (!uses_fixed(algo_)) return;
  for (std::size_t w = 0; w < num_hidden_; ++w) {
    const std::size_t rows = source_size(net, algo_, w);
    const std::size_t cols = net.layer_sizes()[w + 1];
    if (fixed_[w].rows() != rows || fixed_[w].cols() != cols) {
      throw parameter_error("feedback fixed[" + std::to_string(w) + "]: shape " +
                            std::to_string(fixed_[w].rows()) + "x" +
                            std::to_string(fixed_[w].cols()) + ", expected " +
                            std::to_string(rows) + "x" + std::to_string(cols));
    }
  }
}

void feedback::refresh(const rate_network& net) {
  check_shapes(net);
  if (algo_ == algorithm::symmetric) {
    for (std::size_t w = 0; w < num_hidden_; ++w) current_[w] = net.weights(w + 1);
  } else if (algo_ == algorithm::scfa) {
    for (std::size_t w = 0; w < num_hidden_; ++w) {
      const matrix& weights = net.weights(w + 1);
      const matrix& magnitude = fixed_[w];
      matrix& b = current_[w];
      b.resize(weights.rows(), weights.cols());
      const float* wv = weights.data();
      const float* mv = magnitude.data();
      float* bv = b.data();
      for (std::size_t i = 0; i < b.size(); ++i) bv[i] = mv[i] * sign_of(wv[i]);
    }
  }
}

const matrix& feedback::path(const rate_network& net, std::size_t w) const {
  if (w >= num_hidden_) {
    throw parameter_error("feedback path: hidden layer " + std::to_string(w) + ", expected < " +
                          std::to_string(num_hidden_));
  }
  switch (algo_) {
    case algorithm::bp:
      return net.weights(w + 1);
    case algorithm::symmetric:
    case algorithm::scfa:
      return current_[w];
    case algorithm::fa:
    case algorithm::dfa:
      break;
  }
  return fixed_[w];
}

matrix feedback::b_matrix(const rate_network& net, std::size_t w) const {
  matrix b;
  transpose(path(net, w), b);
  return b;
}

}  // namespace apical::learning
