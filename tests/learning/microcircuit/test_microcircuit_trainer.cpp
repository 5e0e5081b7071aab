// microcircuit_trainer: learning a small task, determinism across threads,
// update schedules and stabilisers, weights in and out, and validation.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "apical/engine/communicator.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/microcircuit/trainer.hpp"

namespace {

namespace learning = apical::learning;
using learning::matrix;

// Two Gaussian classes in 20 dimensions (unit variance, means +-0.75 in
// every coordinate; Bayes accuracy 99.96 %), each coordinate v given to the
// network as an ON and an OFF channel, clamp(+-v / 2.5, 0, 1): 40 inputs.
struct gaussian_task {
  std::vector<float> inputs;
  std::vector<std::uint8_t> labels;
  gaussian_task(std::size_t count, std::uint64_t seed) {
    apical::rng g(seed);
    for (std::size_t s = 0; s < count; ++s) {
      const auto label = static_cast<std::uint8_t>(g.below(2));
      labels.push_back(label);
      for (int j = 0; j < 20; ++j) {
        const double v = (label == 1 ? 0.75 : -0.75) + g.normal();
        inputs.push_back(static_cast<float>(std::clamp(v / 2.5, 0.0, 1.0)));
        inputs.push_back(static_cast<float>(std::clamp(-v / 2.5, 0.0, 1.0)));
      }
    }
  }
  learning::dataset_view view() const { return {inputs, labels, 40}; }
};

learning::microcircuit_params task_params() {
  learning::microcircuit_params p;
  p.layer_sizes = {40, 20, 2};
  p.window_ms = 100.0;
  p.input_rate_hz = 200.0;
  p.teacher_on_hz = 100.0;
  p.learning_rate = 0.2;
  p.init_gain = 1.5;
  p.feedback_weight_mv = 0.5;
  p.batch_size = 16;
  p.pyramidal.v_init_min_mv = -70.0;
  p.pyramidal.v_init_max_mv = -60.0;
  p.seed = 3;
  return p;
}

#ifdef NDEBUG
constexpr std::size_t train_count = 800, test_count = 400;
#else
constexpr std::size_t train_count = 400, test_count = 200;
#endif

bool same_weights(const learning::microcircuit_trainer& a,
                  const learning::microcircuit_trainer& b) {
  for (std::size_t w = 0; w < a.num_layers(); ++w)
    if (!(a.weights(w) == b.weights(w))) return false;
  return true;
}

}  // namespace

TEST_CASE("the microcircuit learns two Gaussian classes from chance to > 95 %") {
  const gaussian_task train(train_count, 1), test(test_count, 2);
  learning::microcircuit_trainer t(task_params());
  const auto start = std::chrono::steady_clock::now();
  const auto before = t.evaluate(test.view());
  CHECK(before.accuracy < 0.65);  // chance (silent outputs count as wrong)
  const auto metrics = t.train(train.view(), test.view(), 2);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("accuracy " << before.accuracy << " -> " << metrics[0].test_accuracy << " -> "
                      << metrics[1].test_accuracy << " in " << seconds << " s; train error "
                      << metrics[0].train_error << " -> " << metrics[1].train_error);
  CHECK(metrics[1].test_accuracy > 0.95);
  CHECK(metrics[1].train_error < metrics[0].train_error);
  CHECK(metrics[0].epoch == 0);
  CHECK(metrics[1].epoch == 1);
  CHECK(metrics[0].samples == train_count);
  CHECK(metrics[0].samples_per_second > 0);
  CHECK(metrics[0].hidden_spikes > 0);
  CHECK(metrics[0].error_spikes > 0);
  CHECK(metrics[0].apical_updates > 0);
}

TEST_CASE("same seed, same weights after training, for 1 and 2 threads") {
  const gaussian_task train(train_count / 4, 1);
  for (const auto transition :
       {learning::sample_transition::reset, learning::sample_transition::decay}) {
    CAPTURE(learning::to_string(transition));
    auto p = task_params();
    p.between_samples = transition;
    p.threads = 1;
    learning::microcircuit_trainer one(p);
    p.threads = 2;
    learning::microcircuit_trainer two(p);
    const auto m1 = one.train_epoch(train.view());
    const auto m2 = two.train_epoch(train.view());
    CHECK(same_weights(one, two));
    CHECK(m1.train_error == m2.train_error);
    CHECK(m1.error_spikes == m2.error_spikes);
    CHECK(!(one.weights(0) == learning::initial_weights(p)[0]));  // it did learn
    CHECK(one.evaluate(train.view()).correct == two.evaluate(train.view()).correct);
  }
}

TEST_CASE("same weights when processes share the batches, for 2 and 3 processes") {
  // Processes as threads of this one (local_group), each with a trainer of
  // its own, as MPI ranks would be; homeostasis on, so that the spike
  // tallies travel too.
  const gaussian_task train(train_count / 4, 1), test(test_count / 4, 2);
  auto p = task_params();
  p.homeostasis_rate_mv = 0.05;
  p.chunks = 5;  // more pieces than processes, not a multiple
  learning::microcircuit_trainer one(p);
  const auto m1 = one.train(train.view(), test.view(), 1);
  for (const unsigned ranks : {2u, 3u}) {
    CAPTURE(ranks);
    apical::local_group group(ranks);
    std::vector<std::unique_ptr<learning::microcircuit_trainer>> trainers(ranks);
    std::vector<learning::microcircuit_epoch_metrics> metrics(ranks);
    {
      std::vector<std::jthread> workers;
      for (unsigned r = 0; r < ranks; ++r)
        workers.emplace_back([&, r] {
          auto q = p;
          q.processes = &group.member(r);
          trainers[r] = std::make_unique<learning::microcircuit_trainer>(q);
          metrics[r] = trainers[r]->train(train.view(), test.view(), 1)[0];
        });
    }
    for (unsigned r = 0; r < ranks; ++r) {
      CHECK(same_weights(one, *trainers[r]));
      CHECK(trainers[r]->threshold_offsets() == one.threshold_offsets());
      CHECK(metrics[r].train_error == m1[0].train_error);
      CHECK(metrics[r].test_accuracy == m1[0].test_accuracy);
      CHECK(metrics[r].hidden_spikes == m1[0].hidden_spikes);
    }
  }
  auto q = p;
  apical::local_group pair(2);
  q.processes = &pair.member(0);
  q.schedule = learning::update_schedule::online;
  q.momentum = 0.0;
  CHECK_THROWS_WITH_AS(learning::microcircuit_trainer{q}, doctest::Contains("runs on one process"),
                       apical::parameter_error);
}

TEST_CASE("per-sample and online schedules learn the task too") {
  const gaussian_task train(train_count / 2, 1), test(test_count, 2);
  for (const auto schedule :
       {learning::update_schedule::per_sample, learning::update_schedule::online}) {
    CAPTURE(learning::to_string(schedule));
    auto p = task_params();
    p.schedule = schedule;
    p.learning_rate = 0.02;  // one sample (or one event) per step
    learning::microcircuit_trainer t(p);
    const auto m = t.train(train.view(), test.view(), 1);
    MESSAGE(learning::to_string(schedule) << ": test accuracy " << m[0].test_accuracy);
    CHECK(m[0].test_accuracy > 0.85);
  }
}

TEST_CASE(
    "softmax output cells learn the task, thread-invariant, their counts summing to the ticks") {
  const gaussian_task train(train_count, 1), test(test_count, 2);
  auto p = task_params();
  p.output = learning::output_cells::softmax;
  p.softmax_beta_per_mv = 1.0;
  learning::microcircuit_trainer t(p);
  const auto before = t.evaluate(test.view());
  CHECK(before.accuracy < 0.7);
  CHECK(before.silent == 0);  // a softmax layer always fires
  const auto m = t.train(train.view(), test.view(), 2);
  // Every presentation has exactly teacher_on_hz x window = 10 ticks, one
  // spike each.
  CHECK(m[0].output_spikes == 10.0);
  MESSAGE("softmax output: test accuracy " << before.accuracy << " -> " << m[0].test_accuracy
                                           << " -> " << m[1].test_accuracy);
  CHECK(m[1].test_accuracy > 0.9);

  const gaussian_task small(train_count / 4, 1);
  p.threads = 1;
  learning::microcircuit_trainer one(p);
  p.threads = 2;
  learning::microcircuit_trainer two(p);
  one.train_epoch(small.view());
  two.train_epoch(small.view());
  CHECK(same_weights(one, two));
}

TEST_CASE("stabilisers: weight bounds, normalisation, sign steps") {
  const gaussian_task train(train_count / 4, 1);
  SUBCASE("bounds") {
    auto p = task_params();
    p.w_min_mv = -0.5;
    p.w_max_mv = 0.5;
    learning::microcircuit_trainer t(p);
    t.train_epoch(train.view());
    for (std::size_t w = 0; w < t.num_layers(); ++w)
      for (const float x : t.weights(w).values()) {
        CHECK(x >= -0.5f);
        CHECK(x <= 0.5f);
      }
  }
  SUBCASE("normalisation keeps each layer's norm") {
    auto p = task_params();
    p.normalise = true;
    learning::microcircuit_trainer t(p);
    const auto initial = learning::initial_weights(p);
    t.train_epoch(train.view());
    for (std::size_t w = 0; w < t.num_layers(); ++w) {
      double a = 0.0, b = 0.0;
      for (const float x : initial[w].values()) a += static_cast<double>(x) * x;
      for (const float x : t.weights(w).values()) b += static_cast<double>(x) * x;
      CHECK(std::sqrt(b) == doctest::Approx(std::sqrt(a)).epsilon(1e-5));
    }
  }
  SUBCASE("Manhattan steps move every weight by 0 or +-eta per batch") {
    auto p = task_params();
    p.manhattan = true;
    p.learning_rate = 0.01;
    p.batch_size = train_count / 4;  // one batch
    learning::microcircuit_trainer t(p);
    const auto initial = learning::initial_weights(p);
    t.train_epoch(train.view());
    std::size_t moved = 0;
    for (std::size_t w = 0; w < t.num_layers(); ++w)
      for (std::size_t k = 0; k < initial[w].size(); ++k) {
        const double d = std::abs(t.weights(w).data()[k] - initial[w].data()[k]);
        CHECK((d == 0.0 || std::abs(d - 0.01) < 1e-6));
        moved += d > 0 ? 1 : 0;
      }
    CHECK(moved > 0);
  }
}

TEST_CASE("weights in and out (checkpoints)") {
  auto p = task_params();
  learning::microcircuit_trainer a(p), b(p);
  auto w = a.all_weights();
  w[0](3, 4) = 1.25f;
  b.set_weights(w);
  CHECK(b.weights(0)(3, 4) == 1.25f);
  CHECK(b.weights(1) == a.weights(1));
  // A trained state moved to another trainer evaluates the same.
  const gaussian_task data(train_count / 4, 1);
  a.train_epoch(data.view());
  b.set_weights(a.all_weights());
  CHECK(a.evaluate(data.view()).correct == b.evaluate(data.view()).correct);

  auto bad = a.all_weights();
  bad[1] = matrix(3, 20);
  CHECK_THROWS_WITH_AS(b.set_weights(bad),
                       doctest::Contains("weights of layer 2: 3x20; expected 2x20"),
                       apical::parameter_error);
  bad = a.all_weights();
  bad[0](1, 2) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(b.set_weights(bad), doctest::Contains("entry (1, 2)"),
                       apical::parameter_error);
  CHECK_THROWS_AS(b.set_weights({}), apical::parameter_error);
}

TEST_CASE("microcircuit parameters are validated, naming the field") {
  auto p = task_params();
  p.layer_sizes = {40};
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'layer_sizes'"), apical::parameter_error);
  p = task_params();
  p.pyramidal.kappa = 0.3;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'pyramidal.kappa'"),
                       apical::parameter_error);
  p = task_params();
  p.threads = 2;
  p.schedule = learning::update_schedule::online;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'threads'"), apical::parameter_error);
  p = task_params();
  p.layer_rate_scale = {1.0};
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("expected 0 or 2"), apical::parameter_error);
  p = task_params();
  p.phase = learning::error_phase::after_settle;
  p.settle_ms = 100.0;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'settle_ms'"), apical::parameter_error);
  p = task_params();
  p.tau_x_ms = 0.0;
  CHECK_THROWS_WITH_AS(learning::microcircuit_trainer{p}, doctest::Contains("'tau_x_ms'"),
                       apical::parameter_error);
  p = task_params();
  p.output = learning::output_cells::softmax;
  p.teacher_off_hz = 5.0;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'teacher_off_hz'"),
                       apical::parameter_error);
  p.teacher_off_hz = 0.0;
  p.between_samples = learning::sample_transition::decay;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'between_samples'"),
                       apical::parameter_error);
  p.between_samples = learning::sample_transition::reset;
  p.softmax_beta_per_mv = -1.0;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'softmax_beta_per_mv'"),
                       apical::parameter_error);
  CHECK(learning::parse_output_cells("softmax") == learning::output_cells::softmax);
  CHECK(learning::to_string(learning::output_cells::pyramidal) == "pyramidal");

  CHECK(learning::parse_feedback_mode("sign-concordant") ==
        learning::feedback_mode::sign_concordant);
  CHECK(learning::parse_feedback_mode("sign_concordant") ==
        learning::feedback_mode::sign_concordant);
  CHECK(learning::parse_feedback_mode("direct") == learning::feedback_mode::direct);
  CHECK(learning::to_string(learning::feedback_mode::symmetric) == "symmetric");
  CHECK_THROWS_WITH_AS(learning::parse_feedback_mode("bp", "--feedback"),
                       doctest::Contains("--feedback: unknown value 'bp'; expected one of "
                                         "sign-concordant, random, symmetric, direct"),
                       apical::parameter_error);
  CHECK(learning::parse_update_schedule("mini-batch") == learning::update_schedule::mini_batch);
  CHECK(learning::parse_somatic_gate("trace") == learning::somatic_gate::trace);
  CHECK(learning::parse_error_phase("after-settle") == learning::error_phase::after_settle);
  CHECK(learning::parse_sample_transition("decay") == learning::sample_transition::decay);
}

TEST_CASE("data that does not fit the network is rejected") {
  learning::microcircuit_trainer t(task_params());
  const std::vector<float> inputs(30, 0.5f);
  const std::vector<std::uint8_t> labels{0};
  CHECK_THROWS_AS(t.train_epoch({inputs, labels, 30}), apical::parameter_error);
  const std::vector<float> ok(40, 0.5f);
  const std::vector<std::uint8_t> bad_label{5};
  CHECK_THROWS_AS(t.evaluate({ok, bad_label, 40}), apical::parameter_error);
}

TEST_CASE("test_window_ms lengthens evaluation presentations only") {
  auto p = task_params();
  p.test_window_ms = 4 * p.window_ms;
  learning::microcircuit_runner runner(p);
  const std::vector<float> input(40, 0.5f);
  // Evaluation: inputs over [0, 4 T), 4 x the spikes of a training window.
  runner.present(input, -1, 1, 0);
  const double evaluation = static_cast<double>(runner.input_raster().total_spikes());
  for (std::size_t c = 0; c < runner.input_raster().channels(); ++c)
    for (const double t : runner.input_raster().channel(c)) CHECK(t < p.test_window_ms);
  // Training: the training window.
  runner.present(input, 1, 1, 0);
  const double training = static_cast<double>(runner.input_raster().total_spikes());
  for (std::size_t c = 0; c < runner.input_raster().channels(); ++c)
    for (const double t : runner.input_raster().channel(c)) CHECK(t < p.window_ms);
  // 40 channels at 100 Hz: 400 expected spikes in T = 100 ms, 1600 in 4 T.
  CHECK(training == doctest::Approx(400).epsilon(0.2));
  CHECK(evaluation == doctest::Approx(1600).epsilon(0.1));

  p.test_window_ms = -1.0;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'test_window_ms'"),
                       apical::parameter_error);
  p.test_window_ms = 200.0;
  p.encoder = [](std::span<const float>, std::uint64_t, std::uint64_t, apical::spike_raster&) {};
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("built-in encoder"),
                       apical::parameter_error);
}

TEST_CASE("regular input coding: evenly spaced spikes, counts within one of rate x window") {
  auto p = task_params();
  p.coding = learning::input_coding::regular;
  learning::microcircuit_runner runner(p);
  std::vector<float> input(40);
  for (std::size_t j = 0; j < input.size(); ++j) input[j] = static_cast<float>(j) / 39.0f;
  input[5] = 1.7f;  // clamped to 1, as the Poisson coding does
  std::vector<double> mean_count(input.size(), 0.0);
  const int presentations = 400;
  for (int s = 0; s < presentations; ++s) {
    runner.present(input, -1, 11, static_cast<std::uint64_t>(s));
    const auto& raster = runner.input_raster();
    REQUIRE(raster.channels() == input.size());
    for (std::size_t j = 0; j < input.size(); ++j) {
      const auto times = raster.channel(j);
      const double rate_per_ms = std::clamp(input[j], 0.0f, 1.0f) * p.input_rate_hz / 1000.0;
      const double expected = rate_per_ms * p.window_ms;
      // floor(rate T + U) spikes: within one of rate T.
      CHECK(std::abs(static_cast<double>(times.size()) - expected) < 1.0);
      if (!times.empty()) {
        CHECK(times.front() >= 0.0);
        CHECK(times.front() < 1.0 / rate_per_ms);
        CHECK(times.back() < p.window_ms);
      }
      for (std::size_t k = 1; k < times.size(); ++k)
        CHECK(times[k] - times[k - 1] == doctest::Approx(1.0 / rate_per_ms));
      mean_count[j] += static_cast<double>(times.size()) / presentations;
    }
  }
  // The random phase makes the counts unbiased: mean rate x T.
  for (std::size_t j = 0; j < input.size(); ++j) {
    const double expected =
        std::clamp(input[j], 0.0f, 1.0f) * p.input_rate_hz / 1000.0 * p.window_ms;
    CHECK(mean_count[j] == doctest::Approx(expected).epsilon(0.02).scale(1.0));
  }
  // Same seed and index, same trains; the Poisson coding differs.
  runner.present(input, -1, 11, 3);
  const auto first = runner.input_raster().times_ms;
  runner.present(input, -1, 11, 3);
  CHECK(runner.input_raster().times_ms == first);
  auto poisson = task_params();
  learning::microcircuit_runner poisson_runner(poisson);
  poisson_runner.present(input, -1, 11, 3);
  CHECK(poisson_runner.input_raster().times_ms != first);

  CHECK(learning::parse_input_coding("regular") == learning::input_coding::regular);
  CHECK_THROWS_WITH_AS(learning::parse_input_coding("bursty", "microcircuit.input_coding"),
                       doctest::Contains("microcircuit.input_coding: unknown value 'bursty'"),
                       apical::parameter_error);
  p.encoder = [](std::span<const float>, std::uint64_t, std::uint64_t, apical::spike_raster&) {};
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'input_coding'"), apical::parameter_error);
}

TEST_CASE("built-in input coding: the trains of a naive reference, bit for bit") {
  // The reference draws from the documented stream, channel after channel:
  // rate = clamp(x, 0, 1) x (input_rate_hz / 1000) per ms (a NaN input is
  // silent); Poisson intervals of mean 1 / rate, or regular times
  // (phase + k) / rate with a phase drawn for every channel, firing or not.
  std::vector<float> input(40);
  for (std::size_t j = 0; j < input.size(); ++j) input[j] = static_cast<float>(j) / 39.0f;
  input[5] = 1.7f;
  input[6] = -0.3f;
  input[7] = std::numeric_limits<float>::quiet_NaN();
  for (const auto coding : {learning::input_coding::poisson, learning::input_coding::regular}) {
    auto p = task_params();
    p.coding = coding;
    learning::microcircuit_runner runner(p);
    for (const std::uint64_t sample : {0U, 7U}) {
      CAPTURE(sample);
      runner.present(input, -1, 11, sample);
      apical::rng gen(apical::derive_seed(11, apical::stream::encoder, sample));
      const double rate_per_ms = p.input_rate_hz / 1000.0;
      const double window_ms = p.window_ms;
      REQUIRE(runner.input_raster().channels() == input.size());
      for (std::size_t j = 0; j < input.size(); ++j) {
        const double x = std::isnan(input[j]) ? 0.0 : std::clamp<double>(input[j], 0.0, 1.0);
        const double rate = x * rate_per_ms;
        std::vector<double> expected;
        if (coding == learning::input_coding::regular) {
          const double phase = gen.uniform();
          for (std::uint64_t k = 0; rate > 0; ++k) {
            const double t = (phase + static_cast<double>(k)) / rate;
            if (t >= window_ms) break;
            expected.push_back(t);
          }
        } else if (rate > 0) {
          for (double t = gen.exponential(1.0 / rate); t < window_ms;
               t += gen.exponential(1.0 / rate))
            expected.push_back(t);
        }
        const auto got = runner.input_raster().channel(j);
        CAPTURE(j);
        CHECK(std::vector<double>(got.begin(), got.end()) == expected);
      }
    }
  }
}

TEST_CASE("set_learning_rate: eta 0 leaves the weights alone, bad values are refused") {
  const gaussian_task data(64, 9);
  learning::microcircuit_trainer t(task_params());
  const auto before = t.all_weights();
  t.set_learning_rate(0.0);
  t.train_epoch(data.view());
  CHECK(t.all_weights() == before);
  t.set_learning_rate(0.2);
  t.train_epoch(data.view());
  CHECK_FALSE(t.all_weights() == before);
  CHECK(t.params().learning_rate == 0.2);
  CHECK_THROWS_AS(t.set_learning_rate(-1.0), apical::parameter_error);
  CHECK_THROWS_AS(t.set_learning_rate(std::numeric_limits<double>::infinity()),
                  apical::parameter_error);
}

TEST_CASE("momentum: v <- mu v + mean dW, W += eta v, against a step-by-step reference") {
  // Two batches of one epoch; each batch's summed dW is measured at the
  // weights the reference has reached, and the momentum step is redone by
  // hand in the trainer's float arithmetic.
  const gaussian_task data(32, 4);
  auto p = task_params();
  p.batch_size = 16;
  p.momentum = 0.75;
  learning::microcircuit_trainer t(p);
  auto plain = p;
  plain.momentum = 0.0;
  learning::microcircuit_trainer probe(plain);
  REQUIRE(t.velocity().size() == t.num_layers());
  CHECK(probe.velocity().empty());

  const auto order = learning::epoch_order(data.view().count, p.seed, 0);
  const std::uint64_t seed = apical::derive_seed(p.seed, apical::stream::encoder, 0);
  auto weights = t.all_weights();
  std::vector<matrix> velocity;
  for (const auto& w : weights) velocity.emplace_back(w.rows(), w.cols());
  for (std::size_t b = 0; b < 2; ++b) {
    probe.set_weights(weights);
    const auto m = probe.measure_batch(data.view(), std::span(order).subspan(16 * b, 16), seed);
    for (std::size_t w = 0; w < weights.size(); ++w)
      for (std::size_t k = 0; k < weights[w].size(); ++k) {
        float& v = velocity[w].data()[k];
        v = 0.75f * v + static_cast<float>(1.0 / 16.0) * m.microcircuit.weights[w].data()[k];
        weights[w].data()[k] += static_cast<float>(p.learning_rate) * v;
      }
  }
  t.train_epoch(data.view());
  CHECK(t.all_weights() == weights);
  CHECK(t.velocity() == velocity);

  SUBCASE("the velocity moves between trainers (checkpoints) and is validated") {
    learning::microcircuit_trainer u(p);
    u.set_weights(t.all_weights());
    u.set_velocity(t.velocity());
    u.set_epochs_done(1);
    t.train_epoch(data.view());
    u.train_epoch(data.view());
    CHECK(same_weights(t, u));
    auto bad = t.velocity();
    bad[0] = matrix(2, 2);
    CHECK_THROWS_WITH_AS(u.set_velocity(bad),
                         doctest::Contains("velocity of layer 1: 2x2; expected 20x40"),
                         apical::parameter_error);
    CHECK_THROWS_WITH_AS(u.set_velocity({}), doctest::Contains("0 velocity layers given"),
                         apical::parameter_error);
    CHECK_THROWS_AS(probe.set_velocity(t.velocity()), apical::parameter_error);
  }
  SUBCASE("momentum is validated") {
    p.momentum = 1.0;
    CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'momentum'"), apical::parameter_error);
    p.momentum = 0.5;
    p.schedule = learning::update_schedule::online;
    p.threads = 1;
    CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("expected 0 with schedule 'online'"),
                         apical::parameter_error);
  }
}

TEST_CASE("evaluate keeps every sample's prediction, consistent with its counts") {
  const gaussian_task data(100, 6);
  learning::microcircuit_trainer t(task_params());
  t.train_epoch(data.view());
  const auto e = t.evaluate(data.view());
  REQUIRE(e.predicted.size() == 100);
  std::size_t correct = 0, silent = 0;
  for (std::size_t s = 0; s < 100; ++s) {
    CHECK(e.predicted[s] >= -1);
    CHECK(e.predicted[s] < 2);
    correct += e.predicted[s] == data.labels[s] ? 1 : 0;
    silent += e.predicted[s] < 0 ? 1 : 0;
  }
  CHECK(correct == e.correct);
  CHECK(silent == e.silent);
  CHECK(e.correct > 50);  // learned something: the predictions are not all one class
}

TEST_CASE("evaluation progress counts every sample once and changes nothing") {
  const gaussian_task data(300, 7);  // several evaluation pieces
  for (const std::size_t threads : {1u, 2u}) {
    CAPTURE(threads);
    auto p = task_params();
    p.threads = threads;
    learning::microcircuit_trainer t(p);
    t.train_epoch(data.view());
    const auto quiet = t.evaluate(data.view());
    std::vector<std::pair<std::size_t, std::size_t>> calls;  // serialised by evaluate
    const auto heard = t.evaluate(data.view(), [&](std::size_t done, std::size_t correct) {
      calls.emplace_back(done, correct);
    });
    CHECK(heard.predicted == quiet.predicted);
    REQUIRE(calls.size() > 1);
    for (std::size_t i = 1; i < calls.size(); ++i) {
      CHECK(calls[i].first > calls[i - 1].first);
      CHECK(calls[i].second >= calls[i - 1].second);
    }
    CHECK(calls.back().first == 300);
    CHECK(calls.back().second == quiet.correct);
  }
}
