#include "apical/engine/projection.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {

projection::projection(std::string name, std::uint16_t pre_population, std::size_t pre_size,
                       std::uint16_t post_population, std::size_t post_size, int compartment,
                       std::vector<synapse> synapses)
    : name_(std::move(name)),
      pre_population_(pre_population),
      pre_size_(pre_size),
      post_population_(post_population),
      post_size_(post_size),
      compartment_(compartment) {
  if (pre_size > std::numeric_limits<std::uint32_t>::max() ||
      post_size > std::numeric_limits<std::uint32_t>::max())
    throw parameter_error(
        fmt::format("projection '{}': populations are limited to 2^32 neurons", name_));
  for (const auto& s : synapses) {
    if (s.pre >= pre_size)
      throw parameter_error(fmt::format("projection '{}': presynaptic index {} out of range [0, {})",
                                        name_, s.pre, pre_size));
    if (s.post >= post_size)
      throw parameter_error(fmt::format(
          "projection '{}': postsynaptic index {} out of range [0, {})", name_, s.post, post_size));
    if (!(s.delay_ms >= 0.0) || !std::isfinite(s.delay_ms))
      throw parameter_error(fmt::format(
          "projection '{}': delay_ms must be finite and >= 0, got {} (synapse {} -> {})", name_,
          s.delay_ms, s.pre, s.post));
    if (!std::isfinite(s.weight))
      throw parameter_error(fmt::format("projection '{}': weight must be finite, got {} "
                                        "(synapse {} -> {})",
                                        name_, s.weight, s.pre, s.post));
  }
  // Stable counting sort by presynaptic neuron (linear time), then each row
  // by (delay, post) where it is not already in that order.
  {
    std::vector<std::uint64_t> start(pre_size + 1, 0);
    for (const auto& s : synapses) ++start[s.pre + 1];
    for (std::size_t i = 0; i < pre_size; ++i) start[i + 1] += start[i];
    std::vector<synapse> sorted(synapses.size());
    std::vector<std::uint64_t> cursor(start.begin(), start.end() - 1);
    for (const auto& s : synapses) sorted[cursor[s.pre]++] = s;
    synapses = std::vector<synapse>();  // release before the rows are sorted
    const auto by_delay_post = [](const synapse& a, const synapse& b) {
      return a.delay_ms != b.delay_ms ? a.delay_ms < b.delay_ms : a.post < b.post;
    };
    for (std::size_t i = 0; i < pre_size; ++i) {
      const auto b = sorted.begin() + static_cast<std::ptrdiff_t>(start[i]);
      const auto e = sorted.begin() + static_cast<std::ptrdiff_t>(start[i + 1]);
      if (!std::is_sorted(b, e, by_delay_post)) std::sort(b, e, by_delay_post);
    }
    synapses = std::move(sorted);
  }

  targets_.resize(synapses.size());
  weights_.resize(synapses.size());
  row_groups_.assign(pre_size + 1, 0);
  std::size_t k = 0;
  for (std::uint32_t pre = 0; pre < pre_size; ++pre) {
    row_groups_[pre] = static_cast<std::uint32_t>(group_delay_ms_.size());
    while (k < synapses.size() && synapses[k].pre == pre) {
      if (group_delay_ms_.size() == row_groups_[pre] ||
          group_delay_ms_.back() != synapses[k].delay_ms) {
        if (group_delay_ms_.size() == std::numeric_limits<std::uint32_t>::max())
          throw parameter_error(
              fmt::format("projection '{}': more than 2^32 delay groups", name_));
        group_delay_ms_.push_back(synapses[k].delay_ms);
        group_start_.push_back(k);
      }
      targets_[k] = synapses[k].post;
      weights_[k] = synapses[k].weight;
      ++k;
    }
  }
  row_groups_[pre_size] = static_cast<std::uint32_t>(group_delay_ms_.size());
  group_start_.push_back(k);
}

std::uint32_t projection::pre_of(std::uint64_t k) const {
  // The group holding k, then the row holding the group.
  const auto g = static_cast<std::uint32_t>(
      std::upper_bound(group_start_.begin(), group_start_.end(), k) - group_start_.begin() - 1);
  return static_cast<std::uint32_t>(
      std::upper_bound(row_groups_.begin(), row_groups_.end(), g) - row_groups_.begin() - 1);
}

double projection::delay_of(std::uint64_t k) const {
  const auto g =
      std::upper_bound(group_start_.begin(), group_start_.end(), k) - group_start_.begin() - 1;
  return group_delay_ms_[static_cast<std::size_t>(g)];
}

double projection::min_delay_ms() const {
  if (group_delay_ms_.empty()) return std::numeric_limits<double>::infinity();
  return *std::min_element(group_delay_ms_.begin(), group_delay_ms_.end());
}

void projection::build_incoming_index() const {
  if (!incoming_start_.empty()) return;
  incoming_start_.assign(post_size_ + 1, 0);
  for (auto t : targets_) ++incoming_start_[t + 1];
  for (std::size_t j = 0; j < post_size_; ++j) incoming_start_[j + 1] += incoming_start_[j];
  incoming_.resize(targets_.size());
  std::vector<std::uint64_t> cursor(incoming_start_.begin(), incoming_start_.end() - 1);
  for (std::uint64_t k = 0; k < targets_.size(); ++k) incoming_[cursor[targets_[k]]++] = k;
}

std::span<const std::uint64_t> projection::incoming(std::uint32_t post) const {
  build_incoming_index();
  return {incoming_.data() + incoming_start_[post], incoming_.data() + incoming_start_[post + 1]};
}

std::size_t projection::memory_bytes() const {
  return row_groups_.size() * sizeof(std::uint32_t) + group_delay_ms_.size() * sizeof(double) +
         group_start_.size() * sizeof(std::uint64_t) + targets_.size() * sizeof(std::uint32_t) +
         weights_.size() * sizeof(float);
}

}  // namespace apical
