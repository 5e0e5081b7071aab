#pragma once
// Processes of one distributed run, and what the simulator asks of them.
//
// A run on R processes (ranks) gives every rank a contiguous block of each
// population's neurons (rank_block): the rank holds the synapses onto its
// neurons only, advances only them, and splits its block among its threads
// as a run on one process does. The windows of the windowed and parallel
// paths are the same on every rank (the minimum delay of the whole
// network); at the end of each window the ranks exchange the window's
// spikes, every rank receiving every spike, and each schedules the
// deliveries to its own neurons. Because events are ordered by what they
// are (event.hpp), every neuron sees the same inputs in the same order for
// any R and any number of threads: the spikes are those of one process.
//
// The engine talks to the other ranks only through `communicator`, so it
// does not depend on MPI: mpi_communicator (apical/engine/mpi.hpp, built
// with APICAL_MPI) carries it over MPI, and local_group below runs R ranks
// as threads of one process (for tests, and for checking a distributed
// run without mpirun).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

namespace apical {

// The neurons [begin, end) of a population of n that rank r of R holds:
// blocks of ceil(n / R), the last ones shorter or empty.
struct neuron_block {
  std::uint32_t begin = 0, end = 0;
  bool contains(std::uint32_t i) const { return i >= begin && i < end; }
};
neuron_block rank_block(std::size_t n, unsigned ranks, unsigned rank);
// The rank holding neuron i of a population of n.
unsigned rank_of(std::size_t n, unsigned ranks, std::uint32_t i);

// The number of processes a launcher (mpirun of Open MPI or MPICH, or a
// PMI launcher such as srun) started this program as, read from the
// environment; 1 when none did.
unsigned launched_processes();

class communicator {
 public:
  virtual ~communicator() = default;
  virtual unsigned rank() const = 0;
  virtual unsigned size() const = 0;

  // Collective: every rank passes its bytes; every rank receives all of
  // them, concatenated in rank order, with offsets[r]..offsets[r + 1] the
  // part of rank r (offsets has size() + 1 entries).
  virtual void all_gather(std::span<const std::byte> mine, std::vector<std::byte>& all,
                          std::vector<std::size_t>& offsets) = 0;

  // Collective helpers built on all_gather.
  // Every rank's values of a plain type, concatenated in rank order.
  template <class T>
  std::vector<T> all_gather_values(std::span<const T> mine) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::vector<std::byte> all;
    std::vector<std::size_t> offsets;
    all_gather(std::as_bytes(mine), all, offsets);
    std::vector<T> out(all.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), all.data(), out.size() * sizeof(T));
    return out;
  }
  // Every rank's value, in rank order.
  template <class T>
  std::vector<T> all_values(T value) {
    return all_gather_values(std::span<const T>(&value, 1));
  }
  double all_min(double value);
  std::uint64_t all_sum(std::uint64_t value);
};

// In-process ranks: R simulators on R threads of one process share a
// local_group, each through its own member(r). Spikes and results are
// those of an MPI run with R processes (the same exchange, through memory).
class local_group {
 public:
  explicit local_group(unsigned ranks);
  ~local_group();
  local_group(const local_group&) = delete;
  local_group& operator=(const local_group&) = delete;
  communicator& member(unsigned rank);
  unsigned size() const;

 private:
  struct shared;
  class member_comm;
  std::unique_ptr<shared> shared_;
  std::vector<std::unique_ptr<member_comm>> members_;
};

}  // namespace apical
