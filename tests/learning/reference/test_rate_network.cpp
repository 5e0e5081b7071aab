// rate_network: initialisation, the forward pass against a naive double
// reference, targets and scores, and the BP gradient against finite
// differences of that reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/rate_network.hpp"
#include "apical/learning/reference/reference_trainer.hpp"

namespace {

namespace learning = apical::learning;
using learning::activation;
using learning::loss_kind;
using learning::matrix;

matrix random_inputs(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  apical::rng gen(seed);
  matrix m(rows, cols);
  for (float& x : m.values()) x = static_cast<float>(gen.uniform(-1, 1));
  return m;
}

double apply(activation f, double u) {
  switch (f) {
    case activation::identity:
      return u;
    case activation::relu:
      return std::max(u, 0.0);
    case activation::sigmoid:
      return 1.0 / (1.0 + std::exp(-u));
    case activation::clipped_relu:
      return std::clamp(u, 0.0, 1.0);
  }
  return 0.0;
}

// The network's parameters in double, laid out layer by layer (W then b).
struct double_params {
  std::vector<std::vector<double>> weights;
  std::vector<std::vector<double>> biases;
};

double_params to_double(const learning::rate_network& net) {
  double_params p;
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    p.weights.emplace_back(net.weights(w).values().begin(), net.weights(w).values().end());
    p.biases.emplace_back(net.biases(w).begin(), net.biases(w).end());
  }
  return p;
}

// Naive forward pass of one sample, in double, written from the equations.
std::vector<double> naive_output(const learning::rate_network& net, const double_params& p,
                                 const float* input, std::vector<double>* potential = nullptr) {
  std::vector<double> r(input, input + net.input_size());
  std::vector<double> u;
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    const std::size_t rows = net.layer_sizes()[w + 1];
    const std::size_t cols = net.layer_sizes()[w];
    u.assign(rows, 0.0);
    for (std::size_t i = 0; i < rows; ++i) {
      double sum = net.has_bias() ? p.biases[w][i] : 0.0;
      for (std::size_t j = 0; j < cols; ++j) sum += p.weights[w][i * cols + j] * r[j];
      u[i] = sum;
    }
    r.assign(rows, 0.0);
    const bool softmax =
        w + 1 == net.num_layers() && net.params().loss == loss_kind::softmax_cross_entropy;
    if (softmax) {
      const double top = *std::max_element(u.begin(), u.end());
      double z = 0.0;
      for (std::size_t i = 0; i < rows; ++i) z += std::exp(u[i] - top);
      for (std::size_t i = 0; i < rows; ++i) r[i] = std::exp(u[i] - top) / z;
    } else {
      for (std::size_t i = 0; i < rows; ++i) r[i] = apply(net.layer_activation(w), u[i]);
    }
  }
  if (potential) *potential = u;
  return r;
}

// Mean loss over the batch, in double.
double naive_loss(const learning::rate_network& net, const double_params& p, const matrix& inputs,
                  const matrix& targets) {
  double total = 0.0;
  for (std::size_t s = 0; s < inputs.rows(); ++s) {
    const std::vector<double> r = naive_output(net, p, inputs.row(s));
    for (std::size_t k = 0; k < r.size(); ++k) {
      if (net.params().loss == loss_kind::mse) {
        total += 0.5 * (r[k] - targets(s, k)) * (r[k] - targets(s, k));
      } else if (targets(s, k) != 0.0f) {
        total -= targets(s, k) * std::log(r[k]);
      }
    }
  }
  return total / static_cast<double>(inputs.rows());
}

learning::rate_network_params small_params() {
  learning::rate_network_params p;
  p.layer_sizes = {6, 7, 5, 3};
  p.seed = 11;
  return p;
}

}  // namespace

TEST_CASE("initialisation is seeded, bounded and uses the configured scheme") {
  learning::rate_network_params p = small_params();
  const learning::rate_network a(p);
  const learning::rate_network b(p);
  for (std::size_t w = 0; w < a.num_layers(); ++w) {
    CHECK(a.weights(w) == b.weights(w));
    CHECK(a.weights(w).rows() == p.layer_sizes[w + 1]);
    CHECK(a.weights(w).cols() == p.layer_sizes[w]);
    const double bound = std::sqrt(6.0 / static_cast<double>(p.layer_sizes[w]));
    for (const float x : a.weights(w).values()) CHECK(std::abs(x) < bound);
    for (const float x : a.biases(w)) CHECK(x == 0.0f);
  }
  p.seed = 12;
  CHECK_FALSE(learning::rate_network(p).weights(0) == a.weights(0));

  p.init = learning::weight_init::glorot_uniform;
  p.init_gain = 0.5;
  const learning::rate_network g(p);
  CHECK(learning::init_bound(p, 6, 7) == doctest::Approx(0.5 * std::sqrt(6.0 / 13.0)));
  for (const float x : g.weights(0).values()) CHECK(std::abs(x) < learning::init_bound(p, 6, 7));
}

TEST_CASE("the forward pass matches a naive double-precision reference") {
  for (const activation hidden :
       {activation::relu, activation::sigmoid, activation::clipped_relu, activation::identity}) {
    for (const loss_kind loss : {loss_kind::mse, loss_kind::softmax_cross_entropy}) {
      CAPTURE(learning::to_string(hidden));
      CAPTURE(learning::to_string(loss));
      learning::rate_network_params p = small_params();
      p.hidden_activation = hidden;
      p.output_activation = activation::sigmoid;
      p.loss = loss;
      learning::rate_network net(p);
      apical::rng gen(3);
      for (auto& b : net.biases(0)) b = static_cast<float>(gen.uniform(-0.5, 0.5));
      const matrix inputs = random_inputs(9, 6, 4);
      const learning::activations acts = net.forward(inputs);
      const double_params dp = to_double(net);
      for (std::size_t s = 0; s < inputs.rows(); ++s) {
        const std::vector<double> r = naive_output(net, dp, inputs.row(s));
        for (std::size_t k = 0; k < r.size(); ++k) {
          CHECK(acts.r.back()(s, k) == doctest::Approx(r[k]).epsilon(1e-5));
        }
      }
    }
  }
}

TEST_CASE("softmax outputs are probabilities and score counts argmax hits") {
  learning::rate_network_params p = small_params();
  p.loss = loss_kind::softmax_cross_entropy;
  const learning::rate_network net(p);
  const matrix inputs = random_inputs(20, 6, 5);
  const learning::activations acts = net.forward(inputs);
  std::vector<std::uint8_t> labels;
  for (std::size_t s = 0; s < 20; ++s) {
    const float* row = acts.r.back().row(s);
    double sum = 0.0;
    for (std::size_t k = 0; k < 3; ++k) sum += row[k];
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
    // Label even samples with their argmax, odd ones with another class.
    const auto best = static_cast<std::uint8_t>(std::max_element(row, row + 3) - row);
    labels.push_back(s % 2 == 0 ? best : static_cast<std::uint8_t>((best + 1) % 3));
  }
  const learning::batch_stats stats = net.score(acts, net.targets_for(labels));
  CHECK(stats.count == 20);
  CHECK(stats.correct == 10);
  CHECK(stats.loss_sum > 0.0);
}

TEST_CASE("targets are one-hot with target_on and target_off") {
  learning::rate_network_params p = small_params();
  p.target_on = 0.8;
  p.target_off = 0.1;
  const learning::rate_network net(p);
  const std::vector<std::uint8_t> labels{2, 0};
  const matrix t = net.targets_for(labels);
  CHECK(t(0, 2) == doctest::Approx(0.8));
  CHECK(t(0, 0) == doctest::Approx(0.1));
  CHECK(t(1, 0) == doctest::Approx(0.8));
  const std::vector<std::uint8_t> bad{3};
  CHECK_THROWS_WITH_AS(net.targets_for(bad), doctest::Contains("labels[0]"),
                       apical::parameter_error);
}

// The BP update must be minus the gradient of the mean batch loss. The
// reference gradient is a central difference of the naive double loss with
// h = 1e-5 (truncation ~1e-10, rounding ~1e-11); the trainer computes in
// float, so the bound is: |g - g_fd| <= 1e-4 max|g_fd| + 1e-6 per parameter.
TEST_CASE("the BP update is minus the gradient (finite differences)") {
  struct config {
    activation hidden;
    activation output;
    loss_kind loss;
  };
  for (const config c :
       {config{activation::sigmoid, activation::identity, loss_kind::mse},
        config{activation::sigmoid, activation::sigmoid, loss_kind::mse},
        config{activation::relu, activation::identity, loss_kind::mse},
        config{activation::sigmoid, activation::identity, loss_kind::softmax_cross_entropy}}) {
    CAPTURE(learning::to_string(c.hidden));
    CAPTURE(learning::to_string(c.output));
    CAPTURE(learning::to_string(c.loss));
    learning::rate_network_params p = small_params();
    p.hidden_activation = c.hidden;
    p.output_activation = c.output;
    p.loss = c.loss;
    learning::rate_network net(p);
    apical::rng gen(21);
    for (std::size_t w = 0; w < net.num_layers(); ++w) {
      for (auto& b : net.biases(w)) b = static_cast<float>(gen.uniform(-0.3, 0.3));
    }
    const matrix inputs = random_inputs(8, 6, 22);
    const std::vector<std::uint8_t> labels{0, 1, 2, 0, 1, 2, 2, 1};
    const matrix targets = net.targets_for(labels);
    learning::reference_trainer trainer(net, {});
    const learning::weight_updates updates = trainer.compute_updates(net, inputs, targets);

    const double_params base = to_double(net);
    const double h = 1e-5;
    for (std::size_t w = 0; w < net.num_layers(); ++w) {
      std::vector<double> analytic;
      std::vector<double> numeric;
      auto difference = [&](std::vector<std::vector<double>> double_params::*member,
                            std::size_t i) {
        double_params plus = base;
        double_params minus = base;
        ((plus.*member)[w])[i] += h;
        ((minus.*member)[w])[i] -= h;
        return (naive_loss(net, plus, inputs, targets) - naive_loss(net, minus, inputs, targets)) /
               (2 * h);
      };
      for (std::size_t i = 0; i < net.weights(w).size(); ++i) {
        analytic.push_back(-static_cast<double>(updates.weights[w].data()[i]));
        numeric.push_back(difference(&double_params::weights, i));
      }
      for (std::size_t i = 0; i < net.biases(w).size(); ++i) {
        analytic.push_back(-static_cast<double>(updates.biases[w][i]));
        numeric.push_back(difference(&double_params::biases, i));
      }
      double scale = 0.0;
      for (const double g : numeric) scale = std::max(scale, std::abs(g));
      CAPTURE(w);
      CHECK(scale > 1e-4);  // the check is not vacuous
      for (std::size_t i = 0; i < numeric.size(); ++i) {
        CAPTURE(i);
        CHECK(std::abs(analytic[i] - numeric[i]) <= 1e-4 * scale + 1e-6);
      }
    }
  }
}

TEST_CASE("evaluate reports the mean loss and accuracy, independent of threads") {
  learning::rate_network_params p = small_params();
  p.loss = loss_kind::softmax_cross_entropy;
  const learning::rate_network net(p);
  const matrix inputs = random_inputs(700, 6, 30);
  std::vector<std::uint8_t> labels(700);
  for (std::size_t s = 0; s < labels.size(); ++s) labels[s] = static_cast<std::uint8_t>(s % 3);
  const learning::dataset_view data(inputs.values(), labels, 6);
  const learning::evaluation one = learning::evaluate(net, data, 1);
  const learning::evaluation three = learning::evaluate(net, data, 3);
  CHECK(one.loss == three.loss);
  CHECK(one.accuracy == three.accuracy);
  CHECK(one.count == 700);
  const learning::batch_stats direct = net.score(net.forward(inputs), net.targets_for(labels));
  CHECK(one.loss == doctest::Approx(direct.loss_sum / 700));
  CHECK(one.accuracy == doctest::Approx(static_cast<double>(direct.correct) / 700));
}

TEST_CASE("invalid network parameters name the field") {
  learning::rate_network_params p;
  CHECK_THROWS_WITH_AS(learning::rate_network{p}, doctest::Contains("layer_sizes"),
                       apical::parameter_error);
  p.layer_sizes = {4};
  CHECK_THROWS_WITH_AS(learning::rate_network{p}, doctest::Contains("at least 2"),
                       apical::parameter_error);
  p.layer_sizes = {4, 0, 2};
  CHECK_THROWS_WITH_AS(learning::rate_network{p}, doctest::Contains("layer_sizes[1]"),
                       apical::parameter_error);
  p.layer_sizes = {4, 2};
  p.init_gain = 0.0;
  CHECK_THROWS_WITH_AS(learning::rate_network{p}, doctest::Contains("init_gain"),
                       apical::parameter_error);
  p.init_gain = 1.0;
  p.layer_sizes = {4, 1};
  p.loss = loss_kind::softmax_cross_entropy;
  CHECK_THROWS_AS(learning::rate_network{p}, apical::parameter_error);
  CHECK_THROWS_WITH_AS(learning::parse_activation("tanh", "hidden_activation"),
                       doctest::Contains("hidden_activation: unknown value 'tanh'"),
                       apical::parameter_error);
  CHECK(learning::parse_activation("clipped_relu") == activation::clipped_relu);
  CHECK(learning::parse_loss("softmax_cross_entropy") == loss_kind::softmax_cross_entropy);
  CHECK_THROWS_AS(learning::parse_weight_init("zeros"), apical::parameter_error);
  learning::rate_network net(small_params());
  CHECK_THROWS_WITH_AS(net.forward(matrix(2, 5)), doctest::Contains("expected 6"),
                       apical::parameter_error);
  net.biases(1).push_back(0.0f);
  CHECK_THROWS_WITH_AS(net.forward(matrix(2, 6)),
                       doctest::Contains("biases(1): 6 entries, expected 5"),
                       apical::parameter_error);
  net.biases(1).pop_back();
  net.weights(0) = matrix(7, 5);
  CHECK_THROWS_WITH_AS(net.forward(matrix(2, 6)),
                       doctest::Contains("weights(0): shape 7x5, expected 7x6"),
                       apical::parameter_error);
}
