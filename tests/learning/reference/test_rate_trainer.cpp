// reference_trainer: the algorithms against each other, learning on a small
// synthetic item, determinism across threads, SGD details and validation.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/alignment.hpp"
#include "apical/learning/reference/reference_trainer.hpp"

namespace {

namespace learning = apical::learning;
using learning::algorithm;
using learning::matrix;

// Two Gaussian classes in `dims` dimensions: unit variance, means +-0.75 in
// every coordinate, so 1.5 sqrt(dims) apart (Bayes accuracy 99.96 % for 20
// dims). Every algorithm passes 97.5 % on ten seeds with the settings below.
struct gaussian_problem {
  std::vector<float> inputs;
  std::vector<std::uint8_t> labels;
  std::size_t dims = 0;

  gaussian_problem(std::size_t count, std::size_t dimensions, std::uint64_t seed)
      : dims(dimensions) {
    apical::rng gen(seed);
    for (std::size_t s = 0; s < count; ++s) {
      const auto label = static_cast<std::uint8_t>(gen.below(2));
      labels.push_back(label);
      for (std::size_t j = 0; j < dims; ++j) {
        inputs.push_back(static_cast<float>((label == 1 ? 0.75 : -0.75) + gen.normal()));
      }
    }
  }
  learning::dataset_view view() const { return {inputs, labels, dims}; }
};

learning::rate_network_params network_params(std::vector<std::size_t> sizes) {
  learning::rate_network_params p;
  p.layer_sizes = std::move(sizes);
  p.seed = 7;
  return p;
}

matrix random_inputs(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  apical::rng gen(seed);
  matrix m(rows, cols);
  for (float& x : m.values()) x = static_cast<float>(gen.uniform(-1, 1));
  return m;
}

std::vector<std::uint8_t> labels_for(std::size_t count, std::size_t classes) {
  std::vector<std::uint8_t> labels(count);
  for (std::size_t s = 0; s < count; ++s) labels[s] = static_cast<std::uint8_t>((s * 7) % classes);
  return labels;
}

bool same_weights(const learning::rate_network& a, const learning::rate_network& b) {
  for (std::size_t w = 0; w < a.num_layers(); ++w) {
    if (!(a.weights(w) == b.weights(w)) || a.biases(w) != b.biases(w)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("symmetric feedback gives exactly the numbers of bp") {
  const gaussian_problem item(300, 20, 1);
  learning::rate_network_params p = network_params({20, 16, 12, 2});
  learning::rate_network by_bp(p);
  learning::rate_network by_symmetric(p);
  learning::trainer_params tp;
  tp.learning_rate = 0.1;
  tp.momentum = 0.5;
  tp.batch_size = 25;
  learning::reference_trainer bp(by_bp, tp);
  tp.algo = algorithm::symmetric;
  learning::reference_trainer symmetric(by_symmetric, tp);

  const matrix inputs(40, 20, std::vector<float>(item.inputs.begin(), item.inputs.begin() + 800));
  const std::span<const std::uint8_t> labels(item.labels.data(), 40);
  const learning::weight_updates a = bp.compute_updates(by_bp, inputs, labels);
  const learning::weight_updates b = symmetric.compute_updates(by_symmetric, inputs, labels);
  for (std::size_t w = 0; w < 3; ++w) {
    CHECK(a.weights[w] == b.weights[w]);
    CHECK(a.biases[w] == b.biases[w]);
  }
  bp.train(by_bp, item.view(), {}, 3);
  symmetric.train(by_symmetric, item.view(), {}, 3);
  CHECK(same_weights(by_bp, by_symmetric));
}

TEST_CASE("fa, scfa and dfa update the output layer exactly as bp does") {
  const learning::rate_network net(network_params({10, 12, 9, 4}));
  const matrix inputs = random_inputs(30, 10, 2);
  const std::vector<std::uint8_t> labels = labels_for(30, 4);
  learning::trainer_params tp;
  const learning::weight_updates reference =
      learning::reference_trainer(net, tp).compute_updates(net, inputs, labels);
  for (const algorithm a : {algorithm::fa, algorithm::scfa, algorithm::dfa}) {
    CAPTURE(learning::to_string(a));
    tp.algo = a;
    const learning::weight_updates up =
        learning::reference_trainer(net, tp).compute_updates(net, inputs, labels);
    CHECK(up.weights[2] == reference.weights[2]);
    CHECK(up.biases[2] == reference.biases[2]);
    // Hidden layers differ, but not completely: the angle is in (0, 180).
    const double angle = learning::alignment_angle_deg(up.weights[0], reference.weights[0]);
    CHECK(angle > 0.0);
    CHECK(angle < 180.0);
  }
}

TEST_CASE("every algorithm learns two Gaussian classes from chance to > 95 %") {
  const gaussian_problem train_set(1000, 20, 3);
  const gaussian_problem test_set(1000, 20, 4);
  struct setting {
    algorithm algo;
    learning::sign_magnitude magnitude;
  };
  for (const setting s :
       {setting{algorithm::bp, {}}, setting{algorithm::symmetric, {}}, setting{algorithm::fa, {}},
        setting{algorithm::dfa, {}}, setting{algorithm::scfa, learning::sign_magnitude::uniform},
        setting{algorithm::scfa, learning::sign_magnitude::random}}) {
    CAPTURE(learning::to_string(s.algo));
    CAPTURE(learning::to_string(s.magnitude));
    learning::rate_network net(network_params({20, 32, 16, 2}));
    const double before = learning::evaluate(net, test_set.view()).accuracy;
    learning::trainer_params tp;
    tp.algo = s.algo;
    tp.magnitude = s.magnitude;
    tp.learning_rate = 0.02;
    tp.batch_size = 10;
    tp.seed = 8;
    learning::reference_trainer trainer(net, tp);
    const auto start = std::chrono::steady_clock::now();
    const std::vector<learning::epoch_metrics> history =
        trainer.train(net, train_set.view(), test_set.view(), 5);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE(learning::to_string(s.algo), " ", learning::to_string(s.magnitude), ": test accuracy ",
            before, " -> ", history.back().test_accuracy, " in ", seconds, " s");
    CHECK(before < 0.8);
    CHECK(history.back().test_accuracy > 0.95);
    CHECK(history.back().train_loss < history.front().train_loss);
  }
}

TEST_CASE("training gives identical weights on 1, 2 and 4 threads") {
  const gaussian_problem item(333, 20, 5);  // the last batch is partial
  for (const algorithm a : {algorithm::bp, algorithm::scfa, algorithm::dfa}) {
    CAPTURE(learning::to_string(a));
    std::vector<learning::rate_network> nets;
    std::vector<std::vector<learning::epoch_metrics>> histories;
    for (const std::size_t threads : {1, 2, 4}) {
      learning::rate_network& net = nets.emplace_back(network_params({20, 70, 40, 2}));
      learning::trainer_params tp;
      tp.algo = a;
      tp.learning_rate = 0.01;
      tp.momentum = 0.9;
      tp.weight_decay = 1e-3;
      tp.batch_size = 37;
      tp.threads = threads;
      learning::reference_trainer trainer(net, tp);
      histories.push_back(trainer.train(net, item.view(), item.view(), 2));
    }
    for (const float x : nets[0].weights(0).values()) REQUIRE(std::isfinite(x));
    CHECK(same_weights(nets[0], nets[1]));
    CHECK(same_weights(nets[0], nets[2]));
    CHECK(histories[0][1].train_loss == histories[2][1].train_loss);
    CHECK(histories[0][1].test_accuracy == histories[1][1].test_accuracy);
  }
}

TEST_CASE("hidden count noise: the next layer learns from the drawn counts, seeded per sample") {
  learning::rate_network net(network_params({6, 40, 3}));
  learning::trainer_params tp;
  tp.hidden_count_noise = 2.0;
  learning::reference_trainer trainer(net, tp);
  const matrix inputs = random_inputs(2, 6, 3);
  const auto labels = labels_for(2, 3);
  const matrix targets = net.targets_for(labels);
  const std::vector<std::uint64_t> seeds{learning::sample_noise_seed(1, 0, 10),
                                         learning::sample_noise_seed(1, 0, 11)};
  const auto noisy = trainer.compute_updates(net, inputs, targets, seeds);

  // Naive reference: the exact hidden activity, resampled with the same
  // seeds, is what the output layer's update multiplies (dW = delta^T r
  // over the batch, divided by 2): every column j of dW is
  // sum_s delta_s r~_sj / 2, and a unit drawn silent in both samples has a
  // zero column, although its exact activity may be positive.
  const auto exact = net.forward(inputs);
  matrix drawn = exact.r[0];
  for (std::size_t s = 0; s < 2; ++s)
    learning::resample_counts({drawn.row(s), drawn.cols()}, 2.0,
                              apical::derive_seed(seeds[s], apical::stream::neuron_noise, 0));
  std::size_t zeroed = 0;
  for (std::size_t j = 0; j < 40; ++j) {
    if (drawn(0, j) == 0.0f && drawn(1, j) == 0.0f) {
      for (std::size_t k = 0; k < 3; ++k) CHECK(noisy.weights[1](k, j) == 0.0f);
      if (exact.r[0](0, j) > 0.0f || exact.r[0](1, j) > 0.0f) ++zeroed;
    }
  }
  CHECK(zeroed > 0);
  // One sample alone: the column ratios of dW are the ratios of its counts.
  const auto one =
      trainer.compute_updates(net, inputs.view().row_block(0, 1), targets.view().row_block(0, 1),
                              std::span(seeds).first(1));
  std::size_t j0 = 40;
  for (std::size_t j = 0; j < 40 && j0 == 40; ++j)
    if (drawn(0, j) > 0.0f) j0 = j;
  REQUIRE(j0 < 40);
  for (std::size_t j = 0; j < 40; ++j)
    for (std::size_t k = 0; k < 3; ++k)
      CHECK(one.weights[1](k, j) ==
            doctest::Approx(one.weights[1](k, j0) * drawn(0, j) / drawn(0, j0)).epsilon(1e-4));

  // The same seeds give the same updates; other seeds or no noise differ.
  CHECK(trainer.compute_updates(net, inputs, targets, seeds).weights[1] == noisy.weights[1]);
  const std::vector<std::uint64_t> other{seeds[1], seeds[0]};
  CHECK_FALSE(trainer.compute_updates(net, inputs, targets, other).weights[1] == noisy.weights[1]);
  learning::reference_trainer plain(net, {});
  CHECK_FALSE(plain.compute_updates(net, inputs, targets).weights[1] == noisy.weights[1]);

  // Training with it is thread-invariant.
  const gaussian_problem item(200, 20, 5);
  std::vector<learning::rate_network> nets;
  for (const std::size_t threads : {1, 3}) {
    learning::rate_network& n = nets.emplace_back(network_params({20, 30, 2}));
    tp.threads = threads;
    tp.batch_size = 16;
    learning::reference_trainer t(n, tp);
    t.train(n, item.view(), {}, 2);
  }
  CHECK(same_weights(nets[0], nets[1]));
}

TEST_CASE("the epoch order is seeded and epochs count on across train calls") {
  const gaussian_problem item(200, 20, 6);
  learning::trainer_params tp;
  tp.learning_rate = 0.05;
  learning::rate_network a(network_params({20, 8, 2}));
  learning::rate_network b(network_params({20, 8, 2}));
  learning::rate_network c(network_params({20, 8, 2}));
  learning::reference_trainer ta(a, tp);
  learning::reference_trainer tb(b, tp);
  tp.seed = 2;
  learning::reference_trainer tc(c, tp);
  const auto first = ta.train(a, item.view(), {}, 1);
  const auto second = ta.train(a, item.view(), {}, 1);
  CHECK(first[0].epoch == 0);
  CHECK(second[0].epoch == 1);
  tb.train(b, item.view(), {}, 2);
  tc.train(c, item.view(), {}, 2);
  CHECK(same_weights(a, b));
  CHECK_FALSE(same_weights(a, c));
}

TEST_CASE("SGD applies learning rate, momentum and weight decay as documented") {
  learning::rate_network net(network_params({2, 1}));
  net.weights(0)(0, 0) = 1.0f;
  net.weights(0)(0, 1) = -2.0f;
  learning::trainer_params tp;
  tp.learning_rate = 0.5;
  tp.momentum = 0.5;
  tp.weight_decay = 0.1;
  learning::reference_trainer trainer(net, tp);
  learning::weight_updates up;
  up.weights.emplace_back(1, 2, std::vector<float>{1.0f, 0.0f});
  up.biases.push_back({0.2f});
  trainer.apply_updates(net, up);
  // v = 0 + (1 - 0.1 * 1) = 0.9, W = 1 + 0.5 * 0.9; v = 0.2 (no decay), b = 0.1
  CHECK(net.weights(0)(0, 0) == doctest::Approx(1.45));
  // v = 0 - 0.1 * -2 = 0.2, W = -2 + 0.1
  CHECK(net.weights(0)(0, 1) == doctest::Approx(-1.9));
  CHECK(net.biases(0)[0] == doctest::Approx(0.1));
  trainer.apply_updates(net, up);
  // v = 0.5 * 0.9 + (1 - 0.145) = 1.305, W = 1.45 + 0.6525
  CHECK(net.weights(0)(0, 0) == doctest::Approx(2.1025));
  // v = 0.5 * 0.2 + 0.2 = 0.3, b = 0.1 + 0.15
  CHECK(net.biases(0)[0] == doctest::Approx(0.25));
}

TEST_CASE("a network without bias keeps zero biases") {
  learning::rate_network_params p = network_params({20, 8, 2});
  p.bias = false;
  learning::rate_network net(p);
  const gaussian_problem item(100, 20, 9);
  learning::reference_trainer trainer(net, {});
  trainer.train(net, item.view(), {}, 1);
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    for (const float b : net.biases(w)) CHECK(b == 0.0f);
  }
}

TEST_CASE("invalid trainer settings and inputs name the field") {
  const learning::rate_network net(network_params({4, 3, 2}));
  const auto rejects = [&](learning::trainer_params tp, const char* field) {
    CAPTURE(field);
    CHECK_THROWS_WITH_AS(learning::reference_trainer(net, tp), doctest::Contains(field),
                         apical::parameter_error);
  };
  learning::trainer_params tp;
  tp.learning_rate = 0.0;
  rejects(tp, "learning_rate");
  tp = {};
  tp.learning_rate = -1.0;
  rejects(tp, "learning_rate: is -1");
  tp = {};
  tp.batch_size = 0;
  rejects(tp, "batch_size: is 0, expected >= 1");
  tp = {};
  tp.threads = 0;
  rejects(tp, "threads");
  tp = {};
  tp.momentum = 1.0;
  rejects(tp, "momentum");
  tp = {};
  tp.weight_decay = -0.1;
  rejects(tp, "weight_decay");
  tp = {};
  tp.feedback_scale = -1.0;
  rejects(tp, "feedback_scale");
  tp = {};
  tp.hidden_count_noise = -1.0;
  rejects(tp, "hidden_count_noise");
  {
    learning::trainer_params noisy;
    noisy.hidden_count_noise = 2.0;
    learning::reference_trainer t(net, noisy);
    CHECK_THROWS_WITH_AS(t.compute_updates(net, matrix(2, 4), matrix(2, 2)),
                         doctest::Contains("noise_seeds: 0 given"), apical::parameter_error);
    auto sp = network_params({4, 3, 2});
    sp.hidden_activation = learning::activation::sigmoid;
    const learning::rate_network sig(sp);
    learning::reference_trainer ts(sig, noisy);
    const std::vector<std::uint64_t> two{1, 2};
    CHECK_THROWS_WITH_AS(ts.compute_updates(sig, matrix(2, 4), matrix(2, 2), two),
                         doctest::Contains("relu or clipped_relu"), apical::parameter_error);
  }
  tp = {};
  tp.count_noise = -1.0;
  rejects(tp, "count_noise");

  learning::reference_trainer trainer(net, {});
  const learning::rate_network other(network_params({4, 5, 2}));
  CHECK_THROWS_WITH_AS(trainer.compute_updates(other, matrix(2, 4), matrix(2, 2)),
                       doctest::Contains("layer_sizes 4-5-2, expected 4-3-2"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(trainer.compute_updates(net, matrix(2, 5), matrix(2, 2)),
                       doctest::Contains("inputs: shape 2x5, expected 2x4"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(trainer.compute_updates(net, matrix(2, 4), matrix(3, 2)),
                       doctest::Contains("targets"), apical::parameter_error);
  CHECK_THROWS_AS(trainer.compute_updates(net, matrix(0, 4), matrix(0, 2)),
                  apical::parameter_error);

  learning::rate_network mutable_net(network_params({4, 3, 2}));
  const std::vector<float> inputs(8, 0.5f);
  const std::vector<std::uint8_t> bad_labels{0, 2};
  CHECK_THROWS_WITH_AS(trainer.train(mutable_net, {inputs, bad_labels, 4}, {}, 1),
                       doctest::Contains("train_set: label of sample 1 is 2, expected < 2"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(trainer.train(mutable_net, {}, {}, 1), doctest::Contains("train_set"),
                       apical::parameter_error);
  const std::vector<std::uint8_t> labels{0, 1};
  const std::vector<float> wide(10, 0.5f);
  CHECK_THROWS_WITH_AS(trainer.train(mutable_net, {inputs, labels, 4}, {wide, labels, 5}, 1),
                       doctest::Contains("test_set: input_size is 5, expected 4"),
                       apical::parameter_error);
}
