#pragma once
// softmax_population: an output layer whose spikes are drawn from a softmax
// of its potentials (a stochastic winner-take-all).
//
// Every cell integrates its basal input like a pyramidal soma without a
// threshold: u_k(t) = sum of w exp(-(t - t_s) / tau) over its inputs, the
// potential V_k = e_l + u_k. The population shares one clock that ticks at
// rate_hz (evenly spaced ticks at (n + 1/2) / rate_hz, or a Poisson process);
// at each tick exactly one cell fires, cell k with probability
//
//   p_k(t) = exp(beta u_k(t)) / sum_j exp(beta u_j(t)).
//
// Over a window of N ticks the expected count of cell k is N p_k (averaged
// over the ticks), so the microcircuit's output error n_target - n with
// n_target = N for the label is N (y - p): the gradient of the softmax
// cross-entropy with respect to the potentials, where a threshold output
// gives that of a squared error on counts. The counts always sum to the
// number of ticks.
//
// Exact and event driven: the clock's ticks do not depend on the input, and
// the draw uses the potentials at the tick. A tick is a crossing event of
// neuron 0 whose version has the top bit set; it draws the winner k and
// schedules k's crossing at the same instant, which fires it.
//
// Compartments: 0 basal (integrated), 1 apical (accepted and ignored: the
// learning rule listens to these deliveries; the soma does not see them).
// One partition only: the clock schedules every cell's events on its own
// queue (the microcircuit runs one simulator per thread).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apical/engine/population.hpp"
#include "apical/engine/random.hpp"

namespace apical::models {

// clang-format off
// name          | unit | default | meaning
// tau_ms        | ms   | 20      | potential decay
// e_l_mv        | mV   | -70     | resting potential (V = e_l + u)
// beta_per_mv   | 1/mV | 1       | inverse temperature of the softmax
// rate_hz       | Hz   | 200     | clock rate: spikes of the whole population
// regular       | -    | 1       | 1: evenly spaced ticks; 0: Poisson ticks
// clang-format on
struct softmax_parameters {
  double tau_ms = 20.0;
  double e_l_mv = -70.0;
  double beta_per_mv = 1.0;
  double rate_hz = 200.0;
  double regular = 1.0;
};

class softmax_population final : public population {
 public:
  using parameters = softmax_parameters;
  static constexpr std::string_view model = "softmax_output";
  static constexpr int basal = 0;
  static constexpr int apical = 1;

  // Throws parameter_error naming the first invalid field.
  softmax_population(std::string label, std::size_t size, const parameters& p = {});

  std::string_view model_name() const override { return model; }
  int compartments() const override { return 2; }

  const parameters& params() const { return p_; }
  void set_params(const parameters& p);
  // The firing probabilities at time t_ms (>= the last input).
  std::vector<double> probabilities(double t_ms) const;

  void reset(std::uint64_t seed) override;
  void predict(std::uint32_t begin, std::uint32_t end, double t_ms, scheduler& s) override;
  void deliver(double t_ms, int compartment, std::span<const std::uint32_t> targets,
               std::span<const float> weights, scheduler& s) override;
  void deliver(double t_ms, int compartment, std::span<const std::uint32_t> targets, float weight,
               scheduler& s) override;
  bool fire_if_current(std::uint32_t i, std::uint32_t version, double t_ms, scheduler& s) override;

  std::vector<std::string_view> state_names() const override;
  double state_value(std::uint32_t i, std::size_t variable, double t_ms) const override;
  std::vector<std::string_view> parameter_names() const override;
  double parameter(std::string_view key) const override;
  void set_parameters(std::span<const std::pair<std::string, double>> values) override;

 private:
  static constexpr std::uint32_t clock_bit = 0x80000000u;

  void advance(double t_ms);  // decays every u_k to t_ms
  template <class Weight>
  void deliver_basal(double t_ms, std::span<const std::uint32_t> targets, Weight weight_of);
  double next_tick(double t_ms);
  // exp(beta u_k decay - max) into out; returns their sum (u_k decayed by `decay`).
  double softmax_weights(double decay, std::span<double> out) const;

  parameters p_;
  std::vector<double> u_;  // potentials above rest at t_
  double t_ = 0.0;
  std::vector<std::uint8_t> pending_;  // a winner's crossing is queued
  std::vector<std::uint32_t> version_;
  std::uint32_t clock_version_ = 0;  // lower 31 bits
  double next_tick_ms_ = 0.0;
  std::uint64_t ticks_ = 0;  // ticks since reset (regular clock)
  rng rng_;
  std::vector<double> scratch_;
};

}  // namespace apical::models
