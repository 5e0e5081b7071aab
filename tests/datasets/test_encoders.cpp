#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "apical/datasets/encoders.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "fixtures.hpp"

namespace ds = apical::datasets;
using namespace apical::datasets::testing;
using apical::spike_raster;

namespace {

spike_raster run(const ds::encoder& e, const std::vector<float>& values, std::uint64_t seed = 1,
                 std::uint64_t sample = 0) {
  return ds::encode(e, values, seed, sample);
}

std::vector<double> times(const spike_raster& r, std::size_t c) {
  const auto s = r.channel(c);
  return {s.begin(), s.end()};
}

bool well_formed(const spike_raster& r, double duration_ms) {
  for (std::size_t c = 0; c < r.channels(); ++c) {
    const auto s = r.channel(c);
    if (!std::is_sorted(s.begin(), s.end())) return false;
    for (const double t : s) {
      if (!(t >= 0.0 && t < duration_ms)) return false;
    }
  }
  return r.offsets.back() == r.times_ms.size();
}

}  // namespace

TEST_CASE("poisson_encoder: counts have mean and variance rate x T, intervals are exponential") {
  const ds::poisson_encoder e{1000.0, 100.0, false};
  const std::vector<float> values(4000, 0.5f);  // 50 Hz for 1 s: 50 spikes expected
  const auto r = run(e, values, 3, 0);
  REQUIRE(r.channels() == 4000);
  CHECK(well_formed(r, 1000.0));
  double sum = 0;
  double sum_sq = 0;
  for (std::size_t c = 0; c < r.channels(); ++c) {
    const auto s = r.channel(c);
    const auto n = static_cast<double>(s.size());
    sum += n;
    sum_sq += n * n;
  }
  const double mean = sum / 4000.0;
  const double var = sum_sq / 4000.0 - mean * mean;
  CHECK(mean == doctest::Approx(50.0).epsilon(0.012));     // sd of the mean is 0.11 (0.2 %)
  CHECK(var / mean == doctest::Approx(1.0).epsilon(0.1));  // Fano factor 1
}

TEST_CASE("poisson_encoder: intervals are exponential (exact times, not a grid)") {
  // A long window, so that cutting the trains at T does not bias the intervals.
  const ds::poisson_encoder e{100'000.0, 100.0, false};
  const auto r = run(e, std::vector<float>(20, 0.5f), 4, 0);
  std::vector<double> isi;
  for (std::size_t c = 0; c < r.channels(); ++c) {
    const auto s = r.channel(c);
    for (std::size_t k = 1; k < s.size(); ++k) isi.push_back(s[k] - s[k - 1]);
  }
  REQUIRE(isi.size() > 90'000);
  const double n = static_cast<double>(isi.size());
  const double mean = std::accumulate(isi.begin(), isi.end(), 0.0) / n;
  double sq = 0;
  for (const double d : isi) sq += (d - mean) * (d - mean);
  const double cv = std::sqrt(sq / n) / mean;
  CHECK(mean == doctest::Approx(20.0).epsilon(0.01));  // sd of the mean: 0.3 %
  CHECK(cv == doctest::Approx(1.0).epsilon(0.02));
  // Survival function of the exponential: P(ISI > m) = e^-1, P(ISI > 3m) = e^-3.
  const auto above = [&](double t) {
    return static_cast<double>(
               std::count_if(isi.begin(), isi.end(), [&](double d) { return d > t; })) /
           n;
  };
  CHECK(above(20.0) == doctest::Approx(std::exp(-1.0)).epsilon(0.02));
  CHECK(above(60.0) == doctest::Approx(std::exp(-3.0)).epsilon(0.06));
  // No grid: the spike times of a channel take distinct, unrounded values.
  const auto first = r.channel(0);
  std::size_t on_grid = 0;
  for (const double t : first) on_grid += (t * 10.0 == std::round(t * 10.0)) ? 1 : 0;
  CHECK(on_grid < 5);
}

TEST_CASE("poisson_encoder: rate proportional to intensity, over many samples") {
  const ds::poisson_encoder e{200.0, 150.0, false};
  const std::vector<float> values{0.0f, 0.2f, 0.6f, 1.0f};
  std::vector<double> totals(4, 0.0);
  const std::size_t samples = 2000;
  for (std::size_t s = 0; s < samples; ++s) {
    const auto r = run(e, values, 11, s);
    for (std::size_t c = 0; c < 4; ++c) totals[c] += static_cast<double>(r.channel(c).size());
  }
  CHECK(totals[0] == 0.0);
  // Expected per sample: x * 150 Hz * 0.2 s = 30 x.
  CHECK(totals[1] / samples == doctest::Approx(6.0).epsilon(0.04));
  CHECK(totals[2] / samples == doctest::Approx(18.0).epsilon(0.025));
  CHECK(totals[3] / samples == doctest::Approx(30.0).epsilon(0.02));
}

TEST_CASE("poisson_encoder matches a naive reference drawn from the documented stream") {
  const ds::poisson_encoder e{50.0, 400.0, false};
  const std::vector<float> values{0.25f, 0.0f, 1.0f};
  const auto r = run(e, values, 99, 123);
  apical::rng ref(apical::derive_seed(99, apical::stream::encoder, 123));
  std::vector<std::vector<double>> expected(3);
  for (std::size_t c = 0; c < 3; ++c) {
    const double rate_hz = values[c] * 400.0;
    if (rate_hz == 0.0) continue;
    double t = 0.0;
    while (true) {
      t += ref.exponential(1000.0 / rate_hz);
      if (t >= 50.0) break;
      expected[c].push_back(t);
    }
  }
  for (std::size_t c = 0; c < 3; ++c) {
    const auto got = times(r, c);
    REQUIRE(got.size() == expected[c].size());
    for (std::size_t k = 0; k < got.size(); ++k)
      CHECK(got[k] == doctest::Approx(expected[c][k]).epsilon(1e-12));
  }
}

TEST_CASE("encoders are seeded per sample: same spikes whatever the order, different per sample") {
  const ds::poisson_encoder e{100.0, 100.0, false};
  const std::vector<float> values(50, 0.7f);
  const auto s7 = run(e, values, 5, 7);
  for (std::uint64_t s = 0; s < 7; ++s) run(e, values, 5, s);  // other samples first
  const auto again = run(e, values, 5, 7);
  CHECK(again.times_ms == s7.times_ms);
  CHECK(again.offsets == s7.offsets);
  CHECK(run(e, values, 5, 8).times_ms != s7.times_ms);
  CHECK(run(e, values, 6, 7).times_ms != s7.times_ms);

  const ds::regular_encoder random_phase{100.0, 50.0, 0.0, true, false};
  CHECK(run(random_phase, values, 5, 7).times_ms == run(random_phase, values, 5, 7).times_ms);
  CHECK(run(random_phase, values, 5, 7).times_ms != run(random_phase, values, 5, 8).times_ms);
}

TEST_CASE("regular_encoder: evenly spaced spikes, exact, with an optional phase") {
  const ds::regular_encoder e{100.0, 100.0, 0.0, false, false};
  const auto r = run(e, {1.0f, 0.25f, 0.0f});
  CHECK(times(r, 0) == std::vector<double>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90});
  CHECK(times(r, 1) == std::vector<double>{0, 40, 80});  // 25 Hz
  CHECK(times(r, 2).empty());

  const ds::regular_encoder shifted{100.0, 100.0, 0.5, false, false};
  CHECK(times(run(shifted, {1.0f}), 0) ==
        std::vector<double>{5, 15, 25, 35, 45, 55, 65, 75, 85, 95});

  // A long train keeps exact spacing (no accumulated rounding).
  const ds::regular_encoder fast{10000.0, 1000.0, 0.25, false, false};
  const auto train = times(run(fast, {0.7f}), 0);
  const double step = 1.0 / (0.7f * 1000.0 / 1000.0);
  for (std::size_t k = 0; k < train.size(); ++k)
    CHECK(train[k] == (0.25 + static_cast<double>(k)) * step);

  const ds::regular_encoder random_phase{100.0, 40.0, 0.0, true, false};
  const auto rr = run(random_phase, std::vector<float>(200, 1.0f), 3, 0);
  std::size_t distinct_first = 0;
  for (std::size_t c = 0; c < rr.channels(); ++c) {
    const auto s = rr.channel(c);
    REQUIRE(s.size() >= 4);
    CHECK(s[0] < 25.0);
    CHECK(s[1] - s[0] == doctest::Approx(25.0));
    if (c > 0 && s[0] != rr.channel(c - 1)[0]) ++distinct_first;
  }
  CHECK(distinct_first == 199);
}

TEST_CASE("latency_encoder: brighter fires earlier, one spike, none at or below threshold") {
  const ds::latency_encoder linear{100.0, ds::latency_scale::linear, 0.0, 20.0, false};
  const auto r = run(linear, {1.0f, 0.75f, 0.5f, 0.1f, 0.0f});
  CHECK(times(r, 0) == std::vector<double>{0.0});
  CHECK(times(r, 1)[0] == doctest::Approx(25.0));
  CHECK(times(r, 2)[0] == doctest::Approx(50.0));
  CHECK(times(r, 3)[0] == doctest::Approx(90.0));
  CHECK(times(r, 4).empty());

  const ds::latency_encoder thresholded{100.0, ds::latency_scale::linear, 0.25, 20.0, false};
  const auto t = run(thresholded, {0.25f, 0.625f, 1.0f});
  CHECK(times(t, 0).empty());
  CHECK(times(t, 1) == std::vector<double>{50.0});  // 100 (1 - 0.625) / (1 - 0.25)
  CHECK(times(t, 2) == std::vector<double>{0.0});

  const ds::latency_encoder log{100.0, ds::latency_scale::logarithmic, 0.25, 20.0, false};
  const auto l = run(log, {1.0f, 0.5f, 0.26f, 0.25f});
  CHECK(times(l, 0)[0] == doctest::Approx(20.0 * std::log(1.0 / 0.75)));
  CHECK(times(l, 1)[0] == doctest::Approx(20.0 * std::log(2.0)));
  CHECK(times(l, 2)[0] == doctest::Approx(20.0 * std::log(0.26 / 0.01)).epsilon(1e-5));
  CHECK(times(l, 3).empty());
  const auto late = run(log, {0.2501f});  // would fire at 156 ms, after T: dropped
  CHECK(times(late, 0).empty());

  // Ordering over a ramp.
  std::vector<float> ramp;
  for (int i = 1; i <= 100; ++i) ramp.push_back(static_cast<float>(i) / 100.0f);
  for (const auto& e : {ds::encoder{linear}, ds::encoder{log}}) {
    const auto rr = run(e, ramp);
    double previous = std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < rr.channels(); ++c) {
      if (rr.channel(c).empty()) continue;
      CHECK(rr.channel(c).size() == 1);
      CHECK(rr.channel(c)[0] < previous);
      previous = rr.channel(c)[0];
    }
  }
}

TEST_CASE("ON/OFF split: two channels per signed input, ON plane then OFF plane") {
  const std::vector<float> values{0.5f, -0.5f, 0.0f, -1.0f};
  const ds::latency_encoder e{100.0, ds::latency_scale::linear, 0.0, 20.0, true};
  const auto r = run(e, values);
  REQUIRE(r.channels() == 8);
  CHECK(ds::channel_count(ds::encoder{e}, 4) == 8);
  CHECK(times(r, 0) == std::vector<double>{50.0});  // ON of +0.5
  CHECK(times(r, 1).empty());
  CHECK(times(r, 2).empty());
  CHECK(times(r, 3).empty());
  CHECK(times(r, 4).empty());
  CHECK(times(r, 5) == std::vector<double>{50.0});  // OFF of -0.5
  CHECK(times(r, 6).empty());
  CHECK(times(r, 7) == std::vector<double>{0.0});  // OFF of -1

  const ds::poisson_encoder p{1000.0, 100.0, true};
  const auto pr = run(p, std::vector<float>(500, -0.8f));
  std::size_t on = 0;
  std::size_t off = 0;
  for (std::size_t c = 0; c < 500; ++c) on += pr.channel(c).size();
  for (std::size_t c = 500; c < 1000; ++c) off += pr.channel(c).size();
  CHECK(on == 0);
  CHECK(static_cast<double>(off) / 500.0 == doctest::Approx(80.0).epsilon(0.03));
}

TEST_CASE("encoders reject parameters and values out of their domain, naming them") {
  const auto err = [](const ds::encoder& e, std::vector<float> values = {0.5f}) {
    return message_of<apical::parameter_error>([&] { ds::encode(e, values, 1, 0); });
  };
  CHECK_CONTAINS(err(ds::poisson_encoder{0.0, 100.0, false}), "poisson_encoder.duration_ms is 0");
  CHECK_CONTAINS(err(ds::poisson_encoder{std::nan(""), 100.0, false}), "duration_ms is nan");
  CHECK_CONTAINS(err(ds::poisson_encoder{100.0, -1.0, false}), "poisson_encoder.max_rate_hz is -1");
  CHECK_CONTAINS(err(ds::poisson_encoder{1e6, 1e6, false}), "spikes per channel; expected at most");
  CHECK_CONTAINS(err(ds::regular_encoder{100.0, 10.0, 1.0, false, false}),
                 "regular_encoder.phase is 1; expected a fraction of the interval in [0, 1)");
  CHECK_CONTAINS(err(ds::latency_encoder{100.0, ds::latency_scale::linear, 1.0, 20.0, false}),
                 "latency_encoder.threshold is 1");
  CHECK_CONTAINS(err(ds::latency_encoder{100.0, ds::latency_scale::logarithmic, 0.0, 20.0, false}),
                 "the logarithmic scale expects an intensity in (0, 1)");
  CHECK_CONTAINS(err(ds::latency_encoder{100.0, ds::latency_scale::logarithmic, 0.1, 0.0, false}),
                 "latency_encoder.tau_ms is 0");
  CHECK_CONTAINS(err(ds::poisson_encoder{}, {0.1f, 1.5f}),
                 "poisson_encoder: values[1] is 1.5; expected 0 to 1");
  CHECK_CONTAINS(err(ds::poisson_encoder{}, {-0.1f}), "set on_off for signed");
  CHECK_CONTAINS(err(ds::latency_encoder{}, {std::nanf("")}), "values[0] is nan");
  CHECK_CONTAINS(err(ds::poisson_encoder{100.0, 100.0, true}, {-1.5f}), "expected -1 to 1");
  CHECK_NOTHROW(ds::encode(ds::poisson_encoder{100.0, 0.0, false}, std::vector<float>{1.0f}, 1, 0));
}

TEST_CASE("colour images: one channel per pixel per plane - centred intensities for ON/OFF") {
  // 3 x 1 x 2 image: R plane {255, 0}, G plane {0, 0}, B plane {0, 255}.
  const ds::dataset d("rgb", {3, 1, 2}, {"a"}, bytes{255, 0, 0, 0, 0, 255}, bytes{0});
  const ds::latency_encoder e{10.0, ds::latency_scale::linear, 0.0, 20.0, false};
  const auto r = ds::encode_image(e, d, 0, 1);
  REQUIRE(r.channels() == 6);
  CHECK(times(r, 0) == std::vector<double>{0.0});  // red, pixel 0
  CHECK(times(r, 1).empty());
  CHECK(times(r, 5) == std::vector<double>{0.0});  // blue, pixel 1

  const std::vector<double> means{0.5, 0.0, 0.5};
  const auto centred = ds::centred_intensities(d.image(0), d.shape(), means);
  CHECK(centred == std::vector<float>{0.5f, -0.5f, 0.0f, 0.0f, -0.5f, 0.5f});
  const ds::latency_encoder on_off{10.0, ds::latency_scale::linear, 0.0, 20.0, true};
  const auto s = ds::encode_image(on_off, d, 0, 1, means);
  CHECK(s.channels() == 12);
  CHECK(times(s, 0) == std::vector<double>{5.0});      // ON, red pixel 0
  CHECK(times(s, 6 + 1) == std::vector<double>{5.0});  // OFF, red pixel 1
  CHECK_CONTAINS(message_of<apical::parameter_error>([&] { ds::encode_image(on_off, d, 0, 1); }),
                 "channel_means has 0 values; expected one per channel (3)");
  CHECK_CONTAINS(message_of<apical::parameter_error>([&] { ds::encode_image(e, d, 1, 1); }),
                 "index 1 is out of range");
  CHECK(ds::intensities(bytes{0, 51, 255}) == std::vector<float>{0.0f, 0.2f, 1.0f});
}

TEST_CASE("regular_encoder: spacing::rate places spike k at (phase + k) / rate, rounded once") {
  ds::regular_encoder e{10000.0, 1000.0, 0.25, false, false, ds::spacing::rate};
  const auto train = times(run(e, {0.7f}), 0);
  const double rate_per_ms = 0.7f * (1000.0 / 1000.0);
  REQUIRE(train.size() == 7000);
  for (std::size_t k = 0; k < train.size(); ++k)
    CHECK(train[k] == (0.25 + static_cast<double>(k)) / rate_per_ms);
  // The same trains as spacing::interval but for the last bit of some times.
  e.times = ds::spacing::interval;
  const auto by_interval = times(run(e, {0.7f}), 0);
  REQUIRE(by_interval.size() == train.size());
  for (std::size_t k = 0; k < train.size(); ++k)
    CHECK(by_interval[k] == doctest::Approx(train[k]).epsilon(1e-15));
}
