#include "apical/learning/plasticity/plasticity.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/learning/plasticity/stdp.hpp"

namespace apical::learning {

namespace {

constexpr std::string_view dendritic_field = "dendritic_delay_fraction";

void check_dendritic_fraction(std::string_view who, double f) {
  if (!(f >= 0.0 && f <= 1.0))
    throw parameter_error(fmt::format(
        "{}: parameter '{}' must be in [0, 1] (the dendritic part of each synapse's delay), got {}",
        who, dendritic_field, f));
}

// The rule's own parameters, and the projection's dendritic delay fraction.
std::pair<parameter_list, double> split_parameters(std::string_view rule,
                                                   const parameter_list& values) {
  std::pair<parameter_list, double> out{{}, 0.0};
  bool given = false;
  for (const auto& [name, value] : values) {
    if (name != dendritic_field) {
      out.first.emplace_back(name, value);
      continue;
    }
    if (given)
      throw parameter_error(
          fmt::format("{}: parameter '{}' is given twice; expected once", rule, name));
    given = true;
    check_dendritic_fraction(rule, value);
    out.second = value;
  }
  return out;
}

}  // namespace

plastic_projection_base::plastic_projection_base(simulator& sim, std::size_t projection_id,
                                                 double dendritic_fraction)
    : sim_(&sim), projection_id_(projection_id), dendritic_fraction_(dendritic_fraction) {
  check_dendritic_fraction("plasticity", dendritic_fraction);
  if (projection_id >= sim.net().projection_count())
    throw parameter_error(fmt::format("plasticity: projection id {} out of range [0, {})",
                                      projection_id, sim.net().projection_count()));
  proj_ = &sim.net().proj(projection_id);
  network_weights_ = proj_->weights();
  w_.assign(network_weights_.begin(), network_weights_.end());
  group_of_.resize(proj_->size());
  for (std::uint32_t g = 0; g < proj_->groups(); ++g)
    for (auto k = proj_->group_begin(g); k < proj_->group_end(g); ++k) group_of_[k] = g;
  proj_->build_incoming_index();
  incoming_start_.assign(proj_->post_size() + 1, 0);
  incoming_group_.reserve(proj_->size());
  for (std::uint32_t j = 0; j < proj_->post_size(); ++j) {
    for (const auto k : proj_->incoming(j)) incoming_group_.push_back(group_of_[k]);
    incoming_start_[j + 1] = incoming_group_.size();
  }
  const std::size_t parts = sim.partitions();
  counters_.resize(parts);
  post_begin_.resize(parts + 1);
  for (std::size_t p = 0; p < parts; ++p) post_begin_[p] = sim.owned(proj_->post_population(), p).first;
  post_begin_[parts] = sim.owned(proj_->post_population(), parts - 1).second;
}

plasticity_counters plastic_projection_base::counters() const {
  plasticity_counters sum;
  for (const auto& part : counters_) {
    sum.arrivals += part.c.arrivals;
    sum.post_spikes += part.c.post_spikes;
    sum.third_factors += part.c.third_factors;
    sum.updates += part.c.updates;
  }
  return sum;
}

void plastic_projection_base::check_bounds(std::string_view rule, double w_min,
                                           double w_max) const {
  for (std::uint64_t k = 0; k < w_.size(); ++k)
    if (!(w_[k] >= w_min && w_[k] <= w_max))
      throw parameter_error(fmt::format(
          "{} on projection '{}': synapse {} ({} -> {}) has weight {}; expected a weight in "
          "[w_min, w_max] = [{}, {}]",
          rule, proj_->name(), k, proj_->pre_of(k), proj_->targets()[k], w_[k], w_min, w_max));
}

void plastic_projection_base::check_third_factor_source(std::size_t projection_id) const {
  const auto& net = sim_->net();
  if (projection_id >= net.projection_count())
    throw parameter_error(fmt::format("connect_third_factor: projection id {} out of range [0, {})",
                                      projection_id, net.projection_count()));
  const auto& source = net.proj(projection_id);
  if (source.post_population() != proj_->post_population())
    throw parameter_error(fmt::format(
        "connect_third_factor: projection '{}' targets population '{}'; expected '{}', the "
        "postsynaptic population of '{}'",
        source.name(), net.pop(source.post_population()).name(),
        net.pop(proj_->post_population()).name(), proj_->name()));
}

void plasticity_registry::add(plasticity_rule_info info, factory maker, checker checker_fn) {
  if (contains(info.name))
    throw parameter_error(
        fmt::format("plasticity registry: rule '{}' is registered twice", info.name));
  info_.push_back(std::move(info));
  make_.push_back(maker);
  check_.push_back(checker_fn);
}

bool plasticity_registry::contains(std::string_view rule) const {
  for (const auto& r : info_)
    if (r.name == rule) return true;
  return false;
}

std::size_t plasticity_registry::find(std::string_view rule) const {
  for (std::size_t i = 0; i < info_.size(); ++i)
    if (info_[i].name == rule) return i;
  std::string known;
  for (const auto& r : info_) known += (known.empty() ? "" : ", ") + std::string(r.name);
  throw parameter_error(
      fmt::format("unknown plasticity rule '{}'; expected one of: {}", rule, known));
}

void plasticity_registry::validate(std::string_view rule, const parameter_list& values) const {
  const auto i = find(rule);
  check_[i](split_parameters(rule, values).first);
}

std::unique_ptr<plastic_projection_base> plasticity_registry::make(
    simulator& sim, std::size_t projection_id, std::string_view rule,
    const parameter_list& values) const {
  const auto i = find(rule);
  const auto [own, dendritic_fraction] = split_parameters(rule, values);
  return make_[i](sim, projection_id, own, dendritic_fraction);
}

void register_stdp(plasticity_registry& registry) {
  registry.add<stdp_additive>("pair STDP, all-to-all, additive, hard bounds");
  registry.add<stdp_additive_nearest>("pair STDP, nearest spikes, additive, hard bounds");
  registry.add<stdp_multiplicative>("pair STDP, all-to-all, weight-dependent (soft bounds)");
  registry.add<stdp_multiplicative_nearest>(
      "pair STDP, nearest spikes, weight-dependent (soft bounds)");
  registry.add<stdp_triplet>("triplet STDP (Pfister & Gerstner 2006), all-to-all");
  registry.add<stdp_triplet_nearest>("triplet STDP (Pfister & Gerstner 2006), nearest spikes");
}

std::unique_ptr<plastic_projection_base> make_plasticity(simulator& sim, std::size_t projection_id,
                                                         std::string_view rule,
                                                         const parameter_list& values) {
  plasticity_registry registry;
  register_stdp(registry);
  return registry.make(sim, projection_id, rule, values);
}

}  // namespace apical::learning
