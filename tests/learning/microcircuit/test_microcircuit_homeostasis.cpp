// The homeostatic thresholds of the hidden pyramidal cells and the dead-unit
// count: a cell without input drive starts firing within the time its
// threshold needs to fall to its initial potentials, an active cell's rate
// settles at the target, and an epoch's dead fraction is the fraction of
// cells that fired in none of its samples. The weights are frozen
// (learning_rate 0) so that only the thresholds move.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/microcircuit/trainer.hpp"

namespace {

namespace learning = apical::learning;
using learning::matrix;

// Random patterns of 40 inputs, 60 % of them on at 0.3 to 1, two classes.
struct patterns {
  std::vector<float> inputs;
  std::vector<std::uint8_t> labels;
  patterns(std::size_t count, std::uint64_t seed) {
    apical::rng r(seed);
    for (std::size_t s = 0; s < count; ++s) {
      labels.push_back(static_cast<std::uint8_t>(r.below(2)));
      for (int j = 0; j < 40; ++j)
        inputs.push_back(r.bernoulli(0.6) ? static_cast<float>(r.uniform(0.3, 1.0)) : 0.0f);
    }
  }
  learning::dataset_view view() const { return {inputs, labels, 40}; }
};

// 40-20-2, 50 ms windows, frozen weights; thresholds 15 mV above rest.
learning::microcircuit_params frozen_params() {
  learning::microcircuit_params p;
  p.layer_sizes = {40, 20, 2};
  p.window_ms = 50.0;
  p.input_rate_hz = 200.0;
  p.init_gain = 1.5;
  p.learning_rate = 0.0;
  p.batch_size = 16;
  p.pyramidal.v_init_min_mv = -70.0;
  p.pyramidal.v_init_max_mv = -60.0;
  p.seed = 5;
  return p;
}

// The weights of the trainer with hidden unit `unit`'s incoming row at 0.
void silence(learning::microcircuit_trainer& t, std::size_t unit) {
  auto w = t.all_weights();
  for (std::size_t j = 0; j < w[0].cols(); ++j) w[0](unit, j) = 0.0f;
  t.set_weights(w);
}

// Index of the first batch of an epoch in which hidden unit `unit` fired
// (-1: none), from the batches' measured counts.
long first_batch_firing(learning::microcircuit_trainer& t, learning::dataset_view data,
                        std::size_t unit) {
  long first = -1;
  t.train_epoch(data, [&](std::size_t batch, const learning::batch_measurement& m) {
    if (first >= 0) return;
    const auto& counts = m.activity.counts[1];
    for (std::size_t s = 0; s < counts.rows(); ++s)
      if (counts(s, unit) > 0) first = static_cast<long>(batch);
  });
  return first;
}

}  // namespace

TEST_CASE("homeostasis: a hidden cell without input drive starts firing within 25 batches") {
  // Unit 0 gets no input (its weights are 0), so its potential only relaxes
  // from the initial V0 ~ U[-70, -60] mV towards rest, reaching at most
  // 10 e^(-1/20) = 9.5 mV above rest by the first input (1 ms feed-forward
  // delay): at the initial threshold (15 mV) it never fires. Silent, its
  // threshold falls by eta_h (target T) = 0.5 mV a batch; after 20 batches
  // it is 5 mV above rest, below V0 in about 40 % of the samples, so the
  // cell fires at the first input of such a sample: within 25 batches.
  const patterns data(800, 1);
  auto p = frozen_params();
  p.homeostasis_target_hz = 20.0;  // one spike per 50 ms window
  p.homeostasis_rate_mv = 0.5;
  learning::microcircuit_trainer fixed(frozen_params());
  silence(fixed, 0);
  learning::microcircuit_trainer adaptive(p);
  silence(adaptive, 0);
  const long never = first_batch_firing(fixed, data.view(), 0);
  const long first = first_batch_firing(adaptive, data.view(), 0);
  MESSAGE("the undriven cell fires first in batch " << first << " (fixed threshold: " << never
                                                    << ")");
  CHECK(never == -1);
  REQUIRE(first >= 0);
  CHECK(first <= 25);
  CHECK(first >= 10);  // not before its threshold can reach the initial potentials
  // Then it keeps firing: it is not dead in the next epoch.
  const auto m = adaptive.train_epoch(data.view());
  CHECK(m.dead_fraction.at(0) == 0.0);
  CHECK(adaptive.threshold_offsets()[0][0] < -5.0);
}

namespace {

// The mean rate (Hz) of every hidden cell of `t` over the samples of `probe`.
std::vector<double> probe_rates(learning::microcircuit_trainer& t, const patterns& probe) {
  std::vector<std::size_t> all(probe.labels.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const auto m = t.measure_batch(probe.view(), all, 77);
  const auto& c = m.activity.counts[1];
  std::vector<double> hz(c.cols(), 0.0);
  for (std::size_t s = 0; s < c.rows(); ++s)
    for (std::size_t i = 0; i < c.cols(); ++i) hz[i] += c(s, i);
  for (auto& r : hz) r *= 1000.0 / (t.params().window_ms * static_cast<double>(c.rows()));
  return hz;
}

}  // namespace

TEST_CASE("homeostasis: an active cell's rate converges to its target") {
  // Frozen weights: the input statistics are stationary, so the thresholds
  // move until every cell's mean count per window is target T (here 1 or 2
  // spikes in 50 ms), from below (quiet cells) and, with no ceiling, from
  // above (busy ones).
  const patterns data(1600, 2), probe(400, 3);
  for (const double target_hz : {20.0, 40.0}) {
    CAPTURE(target_hz);
    auto p = frozen_params();
    p.homeostasis_target_hz = target_hz;
    p.homeostasis_rate_mv = 0.2;
    p.homeostasis_ceiling_mv = std::numeric_limits<double>::infinity();
    learning::microcircuit_trainer t(p);
    const auto rates = [&] { return probe_rates(t, probe); };
    const auto before = rates();
    t.train_epoch(data.view());
    t.train_epoch(data.view());
    const auto after = rates();
    double worst_before = 0.0, worst_after = 0.0, mean_after = 0.0;
    for (std::size_t i = 0; i < after.size(); ++i) {
      worst_before = std::max(worst_before, std::abs(before[i] - target_hz));
      worst_after = std::max(worst_after, std::abs(after[i] - target_hz));
      mean_after += std::abs(after[i] - target_hz) / static_cast<double>(after.size());
    }
    MESSAGE("|rate - target| over the 20 cells: largest "
            << worst_before << " Hz -> " << worst_after << " Hz, mean " << mean_after << " Hz");
    CHECK(worst_before > 0.5 * target_hz);  // the rates did have somewhere to go
    // The probe's 400 windows estimate a rate to about 5 % (a count's noise
    // over 400 windows at 1 to 2 spikes each), and the thresholds keep
    // stepping by 0.2 mV times the batch's deviation (a few %): the worst of
    // 20 cells lies within 25 %, the mean within 10 %.
    CHECK(worst_after < 0.25 * target_hz);
    CHECK(mean_after < 0.1 * target_hz);
  }
}

TEST_CASE("homeostasis with the default ceiling: only cells below the target move") {
  // Ceiling 0: a threshold never rises above v_th, so a cell already above
  // the target keeps its threshold; one below it rises to the target.
  const patterns data(1600, 2), probe(400, 3);
  auto p = frozen_params();
  p.homeostasis_target_hz = 40.0;
  p.homeostasis_rate_mv = 0.2;
  learning::microcircuit_trainer t(p);
  const auto before = probe_rates(t, probe);
  t.train_epoch(data.view());
  t.train_epoch(data.view());
  const auto after = probe_rates(t, probe);
  const auto& d = t.threshold_offsets()[0];
  std::size_t raised = 0, kept = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(d[i] <= 0.0);
    if (before[i] < 0.5 * p.homeostasis_target_hz) {
      ++raised;
      CHECK(after[i] > 0.75 * p.homeostasis_target_hz);
    } else if (before[i] > 2.0 * p.homeostasis_target_hz) {
      ++kept;
      CHECK(d[i] == 0.0);
      CHECK(after[i] == before[i]);  // the same threshold, weights and inputs
    }
  }
  MESSAGE(raised << " quiet cells raised to the target, " << kept << " busy cells left alone");
  CHECK(raised >= 2);
  CHECK(kept >= 2);
}

TEST_CASE("the dead fraction counts the cells that fired in no sample of the epoch") {
  const patterns data(160, 4);
  auto p = frozen_params();
  learning::microcircuit_trainer t(p);
  for (const std::size_t unit : {0u, 3u, 7u}) silence(t, unit);
  std::vector<double> total(20, 0.0);
  const auto m = t.train_epoch(data.view(), [&](std::size_t, const learning::batch_measurement& b) {
    const auto& c = b.activity.counts[1];
    for (std::size_t s = 0; s < c.rows(); ++s)
      for (std::size_t i = 0; i < c.cols(); ++i) total[i] += c(s, i);
  });
  const auto silent = std::count(total.begin(), total.end(), 0.0);
  MESSAGE("silent cells: " << silent << " of 20");
  CHECK(silent >= 3);  // the three without input at least
  REQUIRE(m.dead_fraction.size() == 1);
  CHECK(m.dead_fraction[0] == doctest::Approx(static_cast<double>(silent) / 20.0));
  CHECK(m.mean_threshold_offset_mv.at(0) == 0.0);  // homeostasis off: thresholds fixed
}

TEST_CASE("homeostasis parameters and threshold offsets are validated") {
  auto p = frozen_params();
  p.homeostasis_rate_mv = -1.0;
  CHECK_THROWS_WITH_AS(learning::microcircuit_trainer{p}, doctest::Contains("homeostasis_rate_mv"),
                       apical::parameter_error);
  p = frozen_params();
  p.homeostasis_floor_mv = 20.0;  // above v_th - e_l = 15 mV
  CHECK_THROWS_WITH_AS(learning::microcircuit_trainer{p}, doctest::Contains("homeostasis_floor_mv"),
                       apical::parameter_error);
  learning::microcircuit_trainer t(frozen_params());
  std::vector<std::vector<double>> offsets{std::vector<double>(20, 0.0)};
  offsets[0][4] = -14.5;  // 0.5 mV above rest, below the 1 mV floor
  CHECK_THROWS_WITH_AS(t.set_threshold_offsets(offsets), doctest::Contains("layer 1 cell 4"),
                       apical::parameter_error);
  CHECK(t.threshold_offsets()[0][4] == 0.0);
  offsets[0][4] = -3.0;
  t.set_threshold_offsets(offsets);
  CHECK(t.threshold_offsets()[0][4] == -3.0);
}
