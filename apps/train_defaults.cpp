// The defaults of `apical train` per dataset and algorithm.
#include "apical/datasets/loader.hpp"
#include "train_config.hpp"

namespace apical::app {
namespace {

std::size_t input_size_of(std::string_view dataset) {
  return dataset == "cifar10" ? 3072 : 784;
}

}  // namespace

// Defaults, measured (docs/training.md, "How the defaults were chosen"). Rate
// trainers on MNIST: plain SGD, 32-sample batches, softmax output; lr 0.1 is
// the best common step of the grid 0.02..0.2 (BP would take 0.2, where SC-FA
// with unit-magnitude feedback starts to overshoot). CIFAR-10 needs centred
// inputs and a smaller step (0.03 of 0.005..0.1). The microcircuit: 784-100-10 (a full MNIST
// epoch in well under a minute on two cores), a 200 Hz teacher, and the step
// eta 0.05 mV (the best tried on 10,000 samples) given as momentum 0.9 with
// eta 0.005, the same long-run step (93.32 % against 92.44 % after 3
// epochs). On CIFAR-10: on-off inputs (unit inputs hardly learn: 13.8 %
// against 21.8 % after 2,000 samples), 1000 hidden units, init gain 3 and
// eta 0.01 without momentum (39.55 % with it against 39.82 % after an epoch).
train_config default_config(std::string_view dataset, train_algo algo) {
  train_config c;
  c.dataset = std::string(datasets::to_string(datasets::parse_dataset_id(dataset)));
  c.algo = algo;
  const std::size_t n_in = input_size_of(c.dataset);
  c.feedback = implied_feedback(algo);
  c.magnitude = algo == train_algo::microcircuit ? learning::sign_magnitude::random
                                                 : learning::sign_magnitude::uniform;
  c.rate_net.hidden_activation = learning::activation::relu;
  c.rate_net.loss = learning::loss_kind::softmax_cross_entropy;
  if (is_rate(algo)) {
    c.arch = {n_in, 800, 10};
    c.epochs = 5;
    c.batch_size = 32;
    c.momentum = 0.0;
    if (c.dataset == "cifar10") {
      c.learning_rate = 0.03;
      c.input = input_scaling::centred;
    } else {
      c.learning_rate = 0.1;
      c.input = input_scaling::unit;
    }
  } else {
    c.arch = {n_in, 100, 10};
    c.epochs = 1;
    c.batch_size = 16;
    c.learning_rate = 0.005;
    c.momentum = 0.9;
    c.input = input_scaling::unit;
    c.circuit.window_ms = 50.0;
    c.circuit.input_rate_hz = 200.0;
    c.circuit.teacher_on_hz = 200.0;
    c.circuit.init_gain = 1.5;
    c.circuit.feedback_weight_mv = 0.5;
    c.circuit.pyramidal.v_init_min_mv = -70.0;
    c.circuit.pyramidal.v_init_max_mv = -60.0;
    if (c.dataset == "cifar10") {
      // Centred contrast as ON/OFF rates, more drive per input, a smaller step.
      c.input = input_scaling::on_off;
      c.arch = {2 * n_in, 1000, 10};
      c.learning_rate = 0.01;
      c.momentum = 0.0;
      c.circuit.init_gain = 3.0;
    }
  }
  return c;
}

}  // namespace apical::app
