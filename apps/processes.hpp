#pragma once
// The processes `apical` runs as: this one alone, or the ranks that mpirun
// started (in a build with MPI; see docs/parallel.md). main() opens them;
// the commands read them here.
#include "apical/engine/communicator.hpp"

namespace apical::app {

// Every process of the run; null when this one runs alone.
communicator* world();
void set_world(communicator* comm);
// Processes, and this one's rank (1 and 0 when alone).
unsigned world_size();
unsigned world_rank();
// Whether this process writes the run's files and prints its report
// (rank 0, or the only process).
bool is_root();

// Collective: refuses ranks started with another program file, other
// arguments, or other contents of the files the arguments name (a
// configuration, a plugin), which would build different networks. Compares
// a hash of the three across ranks; throws parameter_error naming the
// first rank that differs from rank 0. Nothing to do when alone.
void check_same_start(int argc, char** argv);

}  // namespace apical::app
