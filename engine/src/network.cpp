#include "apical/engine/network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "apical/engine/communicator.hpp"
#include "apical/engine/error.hpp"

namespace apical {

population& network::add(std::unique_ptr<population> p) {
  if (populations_.size() >= std::numeric_limits<std::uint16_t>::max())
    throw parameter_error("network: too many populations (at most 65535)");
  for (const auto& q : populations_)
    if (q->name() == p->name())
      throw parameter_error(fmt::format("network: population name '{}' is used twice", p->name()));
  p->set_id(static_cast<std::uint16_t>(populations_.size()));
  populations_.push_back(std::move(p));
  outgoing_.emplace_back();
  return *populations_.back();
}

projection& network::connect(std::string name, const population& pre, const population& post,
                             int compartment, std::vector<synapse> synapses) {
  return connect(std::move(name), pre, post, compartment, [&synapses](const synapse_sink& emit) {
    for (const auto& s : synapses) emit(s);
  });
}

projection& network::connect(std::string name, const population& pre, const population& post,
                             int compartment, const synapse_generator& generate) {
  if (projections_.size() + inputs_.size() >= std::numeric_limits<std::uint16_t>::max())
    throw parameter_error("network: too many projections and poisson inputs (at most 65535)");
  if (pre.id() >= populations_.size() || populations_[pre.id()].get() != &pre ||
      post.id() >= populations_.size() || populations_[post.id()].get() != &post)
    throw parameter_error(fmt::format("projection '{}': population not in this network", name));
  if (compartment < 0 || compartment >= post.compartments())
    throw parameter_error(
        fmt::format("projection '{}': compartment {} does not exist in model '{}' (it has {})",
                    name, compartment, post.model_name(), post.compartments()));
  std::unique_ptr<projection> p;
  if (ranks_ > 1) {
    const neuron_block mine = rank_block(post.size(), ranks_, rank_);
    p = std::make_unique<projection>(std::move(name), pre.id(), pre.size(), post.id(), post.size(),
                                     compartment, [&](const synapse_sink& emit) {
                                       generate([&](const synapse& s) {
                                         if (mine.contains(s.post)) emit(s);
                                       });
                                     });
  } else {
    p = std::make_unique<projection>(std::move(name), pre.id(), pre.size(), post.id(), post.size(),
                                     compartment, generate);
  }
  p->set_id(static_cast<std::uint16_t>(projections_.size()));
  outgoing_[pre.id()].push_back(p->id());
  projections_.push_back(std::move(p));
  return *projections_.back();
}

void network::distribute(unsigned ranks, unsigned rank) {
  if (ranks == 0 || rank >= ranks)
    throw parameter_error(
        fmt::format("network: rank {} of {} processes; expected 0 <= rank < ranks", rank, ranks));
  if (!projections_.empty())
    throw parameter_error("network: distribute() must come before the first projection");
  ranks_ = ranks;
  rank_ = rank;
}

const poisson_input& network::add_poisson_input(poisson_input in) {
  const auto fail = [&in](std::string_view field, auto value, std::string_view expected) {
    throw parameter_error(
        fmt::format("poisson input '{}': {} {}, got {}", in.name, field, expected, value));
  };
  if (in.population >= populations_.size())
    fail("population", in.population, fmt::format("must be < {}", populations_.size()));
  const population& target = *populations_[in.population];
  if (in.compartment < 0 || in.compartment >= target.compartments())
    fail("compartment", in.compartment,
         fmt::format("must exist in model '{}' (it has {})", target.model_name(),
                     target.compartments()));
  if (!(in.rate_hz >= 0.0) || !std::isfinite(in.rate_hz))
    fail("rate_hz", in.rate_hz, "must be finite and >= 0");
  if (!std::isfinite(in.weight)) fail("weight", in.weight, "must be finite");
  if (!(in.start_ms >= 0.0) || !std::isfinite(in.start_ms))
    fail("start_ms", in.start_ms, "must be finite and >= 0");
  if (!(in.stop_ms >= in.start_ms)) fail("stop_ms", in.stop_ms, "must be >= start_ms");
  for (const auto& other : inputs_)
    if (other.name == in.name)
      throw parameter_error(fmt::format("network: poisson input name '{}' is used twice", in.name));
  if (inputs_.size() + projections_.size() >= std::numeric_limits<std::uint16_t>::max())
    throw parameter_error("network: too many projections and poisson inputs (at most 65535)");
  inputs_.push_back(std::move(in));
  return inputs_.back();
}

population& network::pop(std::string_view name) {
  return const_cast<population&>(static_cast<const network&>(*this).pop(name));
}

const population& network::pop(std::string_view name) const {
  for (const auto& p : populations_)
    if (p->name() == name) return *p;
  throw parameter_error(fmt::format("network: no population named '{}'", name));
}

std::size_t network::neurons() const {
  std::size_t n = 0;
  for (const auto& p : populations_) n += p->size();
  return n;
}

std::size_t network::synapses() const {
  std::size_t n = 0;
  for (const auto& p : projections_) n += p->size();
  return n;
}

std::size_t network::synapse_memory_bytes() const {
  std::size_t n = 0;
  for (const auto& p : projections_) n += p->memory_bytes();
  return n;
}

double network::min_delay_ms() const {
  double d = std::numeric_limits<double>::infinity();
  for (const auto& p : projections_) d = std::min(d, p->min_delay_ms());
  return d;
}

}  // namespace apical
