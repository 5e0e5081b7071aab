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
    : projection(std::move(name), pre_population, pre_size, post_population, post_size, compartment,
                 [&synapses](const synapse_sink& emit) {
                   for (const auto& s : synapses) emit(s);
                 }) {}

projection::projection(std::string name, std::uint16_t pre_population, std::size_t pre_size,
                       std::uint16_t post_population, std::size_t post_size, int compartment,
                       const synapse_generator& generate)
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

  // Pass 1: validate and count the synapses of each presynaptic row.
  std::vector<std::uint64_t> start(pre_size + 1, 0);
  bool one_delay = true, one_weight = true;
  double first_delay = 0.0;
  float first_weight = 0.0f;
  std::uint64_t count = 0;
  generate([&](const synapse& s) {
    if (s.pre >= pre_size)
      throw parameter_error(fmt::format(
          "projection '{}': presynaptic index {} out of range [0, {})", name_, s.pre, pre_size));
    if (s.post >= post_size)
      throw parameter_error(fmt::format(
          "projection '{}': postsynaptic index {} out of range [0, {})", name_, s.post, post_size));
    if (!(s.delay_ms >= 0.0) || !std::isfinite(s.delay_ms))
      throw parameter_error(fmt::format(
          "projection '{}': delay_ms must be finite and >= 0, got {} (synapse {} -> {})", name_,
          s.delay_ms, s.pre, s.post));
    if (!std::isfinite(s.weight))
      throw parameter_error(
          fmt::format("projection '{}': weight must be finite, got {} "
                      "(synapse {} -> {})",
                      name_, s.weight, s.pre, s.post));
    if (count == 0) first_delay = s.delay_ms, first_weight = s.weight;
    one_delay = one_delay && s.delay_ms == first_delay;
    one_weight = one_weight && s.weight == first_weight;
    ++start[s.pre + 1];
    ++count;
  });
  for (std::size_t i = 0; i < pre_size; ++i) start[i + 1] += start[i];

  // Pass 2: place every synapse in its row (a stable counting sort: the
  // arrays never hold more than the final 8 bytes per synapse, plus 8 for
  // the delays when they differ).
  targets_.resize(count);
  uniform_ = one_weight && count > 0;
  uniform_value_ = first_weight;
  weights_.resize(uniform_ ? 0 : count);
  std::vector<double> delays(one_delay ? 0 : count);
  {
    std::vector<std::uint64_t> cursor(start.begin(), start.end() - 1);
    std::uint64_t seen = 0;
    generate([&](const synapse& s) {
      if (++seen > count || cursor[s.pre] >= start[s.pre + 1])
        throw parameter_error(fmt::format(
            "projection '{}': the synapse generator produced a different list on its second pass",
            name_));
      const auto k = cursor[s.pre]++;
      targets_[k] = s.post;
      if (!uniform_) weights_[k] = s.weight;
      if (!one_delay) delays[k] = s.delay_ms;
    });
    if (seen != count)
      throw parameter_error(fmt::format(
          "projection '{}': the synapse generator produced a different list on its second pass",
          name_));
  }

  // Each row in (delay, post) order, and its delay groups counted, so that
  // the group arrays are allocated once at their final size (no growth by
  // doubling: their memory is what memory_bytes says, and no more).
  const auto delay_at = [&](std::uint64_t k) { return one_delay ? first_delay : delays[k]; };
  std::vector<std::pair<std::pair<double, std::uint32_t>, float>> row;
  std::uint64_t groups = 0;
  for (std::size_t i = 0; i < pre_size; ++i) {
    const std::uint64_t b = start[i], e = start[i + 1];
    bool sorted = true;
    for (std::uint64_t k = b + 1; sorted && k < e; ++k) {
      const double d0 = delay_at(k - 1), d1 = delay_at(k);
      sorted = d0 < d1 || (d0 == d1 && targets_[k - 1] <= targets_[k]);
    }
    if (!sorted) {
      row.clear();
      for (std::uint64_t k = b; k < e; ++k) row.push_back({{delay_at(k), targets_[k]}, weight(k)});
      std::stable_sort(row.begin(), row.end(),
                       [](const auto& x, const auto& y) { return x.first < y.first; });
      for (std::uint64_t k = b; k < e; ++k) {
        const auto& r = row[k - b];
        if (!one_delay) delays[k] = r.first.first;
        targets_[k] = r.first.second;
        if (!uniform_) weights_[k] = r.second;
      }
    }
    for (std::uint64_t k = b; k < e; ++k)
      if (k == b || delay_at(k) != delay_at(k - 1)) ++groups;
  }
  if (groups > std::numeric_limits<std::uint32_t>::max())
    throw parameter_error(fmt::format("projection '{}': more than 2^32 delay groups", name_));
  // Then cut into delay groups.
  group_delay_ms_.reserve(groups);
  group_start_.reserve(groups + 1);
  row_groups_.assign(pre_size + 1, 0);
  for (std::size_t i = 0; i < pre_size; ++i) {
    row_groups_[i] = static_cast<std::uint32_t>(group_delay_ms_.size());
    for (std::uint64_t k = start[i]; k < start[i + 1]; ++k) {
      if (k == start[i] || delay_at(k) != delay_at(k - 1)) {
        group_delay_ms_.push_back(delay_at(k));
        group_start_.push_back(k);
      }
    }
  }
  row_groups_[pre_size] = static_cast<std::uint32_t>(group_delay_ms_.size());
  group_start_.push_back(count);

  // Groups that are runs of consecutive targets (sorted, so last - first + 1
  // equals the size) can share one identity array.
  bool consecutive = !group_delay_ms_.empty();
  for (std::size_t g = 0; consecutive && g < group_delay_ms_.size(); ++g) {
    const std::uint64_t b = group_start_[g], e = group_start_[g + 1];
    for (std::uint64_t k = b + 1; consecutive && k < e; ++k)
      consecutive = targets_[k] == targets_[k - 1] + 1;
  }
  if (consecutive) {
    group_first_.resize(group_delay_ms_.size());
    for (std::size_t g = 0; g < group_first_.size(); ++g)
      group_first_[g] = targets_[group_start_[g]];
    ids_.resize(post_size);
    for (std::uint32_t j = 0; j < ids_.size(); ++j) ids_[j] = j;
  }
}

void projection::set_short_term(const short_term_parameters& p) {
  p.validate(fmt::format("projection '{}'", name_));
  short_term_ = p;
}

std::uint32_t projection::pre_of(std::uint64_t k) const {
  // The group holding k, then the row holding the group.
  const auto g = static_cast<std::uint32_t>(
      std::upper_bound(group_start_.begin(), group_start_.end(), k) - group_start_.begin() - 1);
  return static_cast<std::uint32_t>(std::upper_bound(row_groups_.begin(), row_groups_.end(), g) -
                                    row_groups_.begin() - 1);
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
  // Capacities: what is allocated, not only what is used.
  return row_groups_.capacity() * sizeof(std::uint32_t) +
         group_delay_ms_.capacity() * sizeof(double) +
         group_start_.capacity() * sizeof(std::uint64_t) +
         targets_.capacity() * sizeof(std::uint32_t) + weights_.capacity() * sizeof(float) +
         (group_first_.capacity() + ids_.capacity()) * sizeof(std::uint32_t);
}

projection_shape projection::shape() const {
  return {.pre_size = pre_size_,
          .post_size = post_size_,
          .synapses = targets_.size(),
          .groups = group_delay_ms_.size(),
          .uniform_weight = uniform_,
          .consecutive_targets = !group_first_.empty()};
}

std::size_t memory_bytes(const projection_shape& s) {
  // The arrays of projection's private members, at the sizes the
  // constructor gives them.
  const std::size_t row_groups = (s.pre_size + 1) * sizeof(std::uint32_t);
  const std::size_t groups = s.groups * sizeof(double) + (s.groups + 1) * sizeof(std::uint64_t);
  const std::size_t targets = s.synapses * sizeof(std::uint32_t);
  const std::size_t weights = s.uniform_weight ? 0 : s.synapses * sizeof(float);
  const std::size_t runs =
      s.consecutive_targets ? (s.groups + s.post_size) * sizeof(std::uint32_t) : 0;
  return row_groups + groups + targets + weights + runs;
}

std::size_t build_extra_bytes(const projection_shape& s, bool one_delay) {
  // Row starts (pre_size + 1) and cursors (pre_size), and the delays.
  return (2 * s.pre_size + 1) * sizeof(std::uint64_t) +
         (one_delay ? 0 : s.synapses * sizeof(double));
}

}  // namespace apical
