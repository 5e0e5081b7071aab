#include "apical/learning/training/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "apical/engine/error.hpp"

namespace apical::learning {
namespace {

// The Manhattan step of one update: +1, -1 or 0.
float sign_of(float s) {
  return s > 0 ? 1.0f : (s < 0 ? -1.0f : 0.0f);
}

}  // namespace

double learning_rate_schedule::at(std::size_t epoch) const {
  return base * std::pow(decay, static_cast<double>(epoch));
}

std::size_t optimizer::add(std::size_t size, bool always_velocity) {
  const bool with = always_velocity || params_.stateful();
  velocity_.emplace_back(with ? size : 0, 0.0f);
  has_velocity_.push_back(with);
  norm_.push_back(0.0);
  size_.push_back(size);
  mask_.emplace_back();
  return velocity_.size() - 1;
}

void optimizer::set_mask(std::size_t array, std::vector<float> mask) {
  if (mask.size() != size_.at(array))
    throw parameter_error(fmt::format("optimizer: a mask of {} values for an array of {}",
                                      mask.size(), size_.at(array)));
  mask_.at(array) = std::move(mask);
}

void zero_where_masked(std::span<const float> mask, std::span<float> values) {
  const float* m = mask.data();
  float* x = values.data();
  for (std::size_t k = 0; k < mask.size(); ++k) x[k] = m[k] != 0.0f ? x[k] : 0.0f;
}

void optimizer::apply_mask(std::size_t array, std::span<float> w) {
  const std::vector<float>& mask = mask_[array];
  if (mask.empty()) return;
  zero_where_masked(mask, w);
  if (!velocity_[array].empty()) zero_where_masked(mask, velocity_[array]);
}

void optimizer::step(std::size_t array, std::span<float> w, std::span<const float> g, double eta,
                     std::size_t samples, bool decays) {
  unmasked_step(array, w, g, eta, samples, decays);
  apply_mask(array, w);
}

void optimizer::unmasked_step(std::size_t array, std::span<float> w, std::span<const float> g,
                              double eta, std::size_t samples, bool decays) {
  float* W = w.data();
  const float* G = g.data();
  const std::size_t n = w.size();
  if (!has_velocity_.at(array)) {
    if (params_.manhattan) {
      const auto step = static_cast<float>(eta);
      for (std::size_t k = 0; k < n; ++k) W[k] += step * sign_of(G[k]);
    } else {
      const auto step = static_cast<float>(eta / static_cast<double>(samples));
      for (std::size_t k = 0; k < n; ++k) W[k] += step * G[k];
    }
    return;
  }
  float* v = velocity_[array].data();
  const auto mu = static_cast<float>(params_.momentum);
  const auto e = static_cast<float>(eta);
  if (params_.manhattan) {
    for (std::size_t k = 0; k < n; ++k) {
      v[k] = mu * v[k] + sign_of(G[k]);
      W[k] += e * v[k];
    }
    return;
  }
  const auto inv = static_cast<float>(1.0 / static_cast<double>(samples));
  if (decays) {
    const auto lambda = static_cast<float>(params_.weight_decay);
    for (std::size_t k = 0; k < n; ++k) {
      v[k] = mu * v[k] + (inv * G[k] - lambda * W[k]);
      W[k] += e * v[k];
    }
  } else {
    for (std::size_t k = 0; k < n; ++k) {
      v[k] = mu * v[k] + inv * G[k];
      W[k] += e * v[k];
    }
  }
}

void optimizer::remember_norm(std::size_t array, std::span<const float> w) {
  double s = 0.0;
  for (const float x : w) s += static_cast<double>(x) * x;
  norm_.at(array) = std::sqrt(s);
}

bool optimizer::stabilises() const {
  return std::isfinite(params_.w_min) || std::isfinite(params_.w_max) || params_.normalise;
}

void optimizer::stabilise(std::size_t array, std::span<float> w) const {
  const bool bounded = std::isfinite(params_.w_min) || std::isfinite(params_.w_max);
  const auto lo = static_cast<float>(std::max(params_.w_min, -1e30));
  const auto hi = static_cast<float>(std::min(params_.w_max, 1e30));
  float* W = w.data();
  const std::size_t n = w.size();
  if (bounded) {
    for (std::size_t k = 0; k < n; ++k) W[k] = std::clamp(W[k], lo, hi);
    zero_where_masked(mask_[array], w);
  }
  if (params_.normalise) {
    double s = 0.0;
    for (std::size_t k = 0; k < n; ++k) s += static_cast<double>(W[k]) * W[k];
    if (s > 0) {
      const auto f = static_cast<float>(norm_.at(array) / std::sqrt(s));
      for (std::size_t k = 0; k < n; ++k) W[k] *= f;
    }
  }
}

void optimizer::set_velocity(std::size_t array, std::span<const float> v) {
  velocity_.at(array).assign(v.begin(), v.end());
}

void optimizer::reset_velocity() {
  for (auto& v : velocity_) std::fill(v.begin(), v.end(), 0.0f);
}

}  // namespace apical::learning
