#pragma once
// A network: populations and the projections between them. Populations and
// projections are numbered in the order they are added (their ids).
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apical/engine/population.hpp"
#include "apical/engine/projection.hpp"

namespace apical {

// An independent Poisson spike train for every neuron of a population,
// applied as inputs of `weight` into `compartment` at exact times in
// [start_ms, stop_ms): the external drive of Brunel's networks, or a kick.
// It is generated inside the simulator from one random stream per neuron
// (derive_seed(seed, stream::poisson_input, input id << 32 | neuron)), with
// no population or synapses of its own.
struct poisson_input {
  std::string name;
  std::uint16_t population = 0;
  int compartment = 0;
  double rate_hz = 0.0;
  float weight = 0.0f;
  double start_ms = 0.0;
  double stop_ms = std::numeric_limits<double>::infinity();
};

class network {
 public:
  // Takes ownership; returns the population (its id() is its index).
  population& add(std::unique_ptr<population> p);

  template <neuron_model M>
  model_population<M>& add_population(std::string name, std::size_t size,
                                      typename M::parameters params = {}) {
    auto p = std::make_unique<model_population<M>>(std::move(name), size, params);
    auto& ref = *p;
    add(std::move(p));
    return ref;
  }

  // Freezes `synapses` into a projection into `compartment` of `post`.
  // Throws parameter_error if the compartment does not exist in post's model.
  projection& connect(std::string name, const population& pre, const population& post,
                      int compartment, std::vector<synapse> synapses);
  // Streams the synapses of a re-runnable generator (two passes; see
  // projection.hpp): for projections too large to list.
  projection& connect(std::string name, const population& pre, const population& post,
                      int compartment, const synapse_generator& generate);
  projection& connect(const population& pre, const population& post, int compartment,
                      std::vector<synapse> synapses) {
    return connect(pre.name() + "->" + post.name(), pre, post, compartment, std::move(synapses));
  }

  // Adds a Poisson input to `target`. Throws parameter_error (naming the
  // input and the field) for a negative or non-finite rate, a non-finite
  // weight, start_ms < 0, stop_ms < start_ms, a missing compartment or a
  // name used twice.
  const poisson_input& add_poisson_input(poisson_input input);
  std::span<const poisson_input> poisson_inputs() const { return inputs_; }

  // This process's share of a distributed run (communicator.hpp): from
  // here on connect() keeps only the synapses onto this process's neurons
  // (rank_block of the target population), drawn from the same rules, so
  // the processes together hold the network of one process. Throws
  // parameter_error for rank >= ranks, or after a connect().
  void distribute(unsigned ranks, unsigned rank);
  unsigned ranks() const { return ranks_; }
  unsigned rank() const { return rank_; }

  std::size_t population_count() const { return populations_.size(); }
  std::size_t projection_count() const { return projections_.size(); }
  population& pop(std::size_t id) { return *populations_[id]; }
  const population& pop(std::size_t id) const { return *populations_[id]; }
  projection& proj(std::size_t id) { return *projections_[id]; }
  const projection& proj(std::size_t id) const { return *projections_[id]; }
  population& pop(std::string_view name);
  const population& pop(std::string_view name) const;

  // Projections whose source is population `id`, in id order.
  const std::vector<std::uint16_t>& outgoing(std::size_t id) const { return outgoing_[id]; }

  std::size_t neurons() const;
  std::size_t synapses() const;
  std::size_t synapse_memory_bytes() const;
  double min_delay_ms() const;

 private:
  std::vector<std::unique_ptr<population>> populations_;
  std::vector<std::unique_ptr<projection>> projections_;
  std::vector<std::vector<std::uint16_t>> outgoing_;
  std::vector<poisson_input> inputs_;
  unsigned ranks_ = 1, rank_ = 0;
};

}  // namespace apical
