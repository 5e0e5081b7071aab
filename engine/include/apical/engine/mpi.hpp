#pragma once
// MPI for distributed runs (communicator.hpp): the library apical_mpi,
// built when CMake finds MPI (option APICAL_MPI). The engine itself never
// calls MPI; a program that runs under mpirun opens an mpi_session and
// hands its world() to simulation_options::comm.
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "apical/engine/communicator.hpp"

namespace apical {

// MPI_Init_thread (funnelled: only the thread that opened the session
// calls MPI; the simulator's partition 0 runs on it) until destruction
// (MPI_Finalize). One per process.
class mpi_session {
 public:
  mpi_session(int& argc, char**& argv);
  ~mpi_session();
  mpi_session(const mpi_session&) = delete;
  mpi_session& operator=(const mpi_session&) = delete;

  // Every process of MPI_COMM_WORLD.
  communicator& world();
  // Ends every process of the run (MPI_Abort), with exit status `code`.
  [[noreturn]] void abort(int code);

 private:
  class world_comm;
  std::unique_ptr<world_comm> world_;
};

}  // namespace apical
