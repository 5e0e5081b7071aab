#include "apical/learning/plasticity/plasticity_checkpoint.hpp"

#include <cmath>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::learning {

void plastic_projection_base::save_weights(checkpoint_writer& w) const {
  w.array(std::span<const double>(w_));
  w.put(counters());
}

void plastic_projection_base::load_weights(checkpoint_reader& r) {
  const std::string field = fmt::format("weights of plastic projection '{}'", proj_->name());
  r.array(w_, w_.size(), field);
  for (std::uint64_t k = 0; k < w_.size(); ++k) {
    if (!std::isfinite(w_[k]))
      throw file_error(fmt::format("{}: checkpoint field '{}': synapse {} has weight {}",
                                   r.source(), field, k, w_[k]));
    network_weights_[k] = static_cast<float>(w_[k]);
  }
  for (auto& part : counters_) part.c = {};
  counters_[0].c = r.get<plasticity_counters>("plasticity counters");
}

std::size_t plastic_projection_base::group_partition(std::uint32_t g) const {
  if (proj_->group_begin(g) == proj_->group_end(g)) return 0;
  return owner_of(proj_->group_begin(g));
}

std::string plastic_checkpoint_part::checkpoint_description() const {
  std::string d = fmt::format("plasticity {}", plastic_->rule_name());
  for (const auto& [name, value] : plastic_->parameters())
    d += fmt::format(", {}={:.17g}", name, value);
  return d;
}

plasticity_checkpoint::plasticity_checkpoint(
    std::span<const std::unique_ptr<plastic_projection_base>> plastic) {
  for (const auto& p : plastic) {
    parts_.push_back(std::make_unique<plastic_checkpoint_part>(*p));
    pointers_.push_back(parts_.back().get());
  }
}

}  // namespace apical::learning
