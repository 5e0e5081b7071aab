#pragma once
// optimizer: the one SGD every trainer steps its weights with (the rate
// reference trainers, the microcircuit's mini-batches, `apical train`).
//
// A trainer hands it, per parameter array (a weight matrix, a bias vector),
// the update g of a batch of `samples` samples: a descent direction, summed
// over the samples (the microcircuit's Hebbian dW) or already their mean
// (the rate trainers, samples = 1). With eta the array's learning rate:
//
//   no velocity:    w += (eta / samples) g         manhattan: w += eta sign(g)
//   with velocity:  v <- mu v + (g / samples - lambda w),  w += eta v
//                   manhattan: v <- mu v + sign(g)
//
// lambda is weight_decay on arrays stepped with `decays` (weights of the
// rate trainers), else absent. An array has a velocity when the optimizer
// was made `stateful` (momentum or decay), or when it was added with
// `always_velocity` (the rate trainers' biases). The arithmetic is float,
// with the scalars rounded to float once per step in the order written
// above, so the weights of a run are the same bit for bit on every trainer
// that uses it.
//
// A mask (set_mask) keeps the entries of an array where it is 0 at 0, and
// their velocity with them: step() and stabilise() end by zeroing them, so
// a masked array is stepped as if its gradient had been masked (a locally
// connected layer's absent synapses).
//
// Stabilisers, after a step (stabilise()): a clamp to [w_min, w_max], and
// normalisation (each array's Frobenius norm kept at the value it had when
// remember_norm() was called). Learning-rate schedule: the step of epoch e
// (0-based, counted over resumptions) is base * decay^e.
//
// The velocities are state: a checkpoint keeps them (velocity(),
// set_velocity()).
//
// Parameters (sgd_params)
//   name         | default | meaning
//   momentum     | 0       | mu in [0, 1)
//   weight_decay | 0       | lambda >= 0, on arrays stepped with `decays`
//   manhattan    | false   | sign(g) instead of g / samples
//   w_min, w_max | -inf, inf | clamp bounds (stabilise)
//   normalise    | false   | keep each array's norm (stabilise)
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

namespace apical::learning {

// Zeroes values[k] wherever mask[k] is 0 (an absent synapse); an empty mask
// changes nothing. mask.size() must be values.size() otherwise.
void zero_where_masked(std::span<const float> mask, std::span<float> values);

struct sgd_params {
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool manhattan = false;
  double w_min = -std::numeric_limits<double>::infinity();
  double w_max = std::numeric_limits<double>::infinity();
  bool normalise = false;

  // Momentum or decay: the velocity is state.
  bool stateful() const { return momentum != 0.0 || weight_decay != 0.0; }
};

// The step of epoch e: base * decay^e.
struct learning_rate_schedule {
  double base = 0.0;
  double decay = 1.0;
  double at(std::size_t epoch) const;
};

class optimizer {
 public:
  optimizer() = default;
  explicit optimizer(sgd_params params) : params_(params) {}

  const sgd_params& params() const { return params_; }

  // Registers a parameter array of `size` values and returns its index.
  // It gets a velocity when params().stateful() or always_velocity.
  std::size_t add(std::size_t size, bool always_velocity = false);
  std::size_t arrays() const { return velocity_.size(); }
  bool has_velocity(std::size_t array) const { return has_velocity_.at(array); }

  // One SGD step of `array` (see the top of this file); w.size() is the
  // array's size and g.size() equals it.
  void step(std::size_t array, std::span<float> w, std::span<const float> g, double eta,
            std::size_t samples = 1, bool decays = false);

  // Keeps the entries of `array` where mask is 0 at 0 from now on (see the
  // top of this file); mask.size() must be the array's size.
  void set_mask(std::size_t array, std::vector<float> mask);
  bool has_mask(std::size_t array) const { return !mask_.at(array).empty(); }
  // The mask of `array` (empty without one).
  std::span<const float> mask(std::size_t array) const { return mask_.at(array); }

  // Records w's norm as the one normalisation keeps.
  void remember_norm(std::size_t array, std::span<const float> w);
  // Whether stabilise() changes anything.
  bool stabilises() const;
  // Clamps w to [w_min, w_max], then rescales it to the remembered norm
  // (when normalise).
  void stabilise(std::size_t array, std::span<float> w) const;

  // The velocity of `array` (empty without one); zero at the start.
  std::span<const float> velocity(std::size_t array) const { return velocity_.at(array); }
  // Replaces it; the caller checks sizes and values first.
  void set_velocity(std::size_t array, std::span<const float> v);
  void reset_velocity();

 private:
  sgd_params params_;
  std::vector<std::vector<float>> velocity_;
  std::vector<bool> has_velocity_;
  std::vector<double> norm_;
  std::vector<std::size_t> size_;
  std::vector<std::vector<float>> mask_;  // empty: no mask

  void unmasked_step(std::size_t array, std::span<float> w, std::span<const float> g, double eta,
                     std::size_t samples, bool decays);
  // Zeroes the masked entries of w and of the array's velocity.
  void apply_mask(std::size_t array, std::span<float> w);
};

}  // namespace apical::learning
