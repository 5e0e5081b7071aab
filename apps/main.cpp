// apical: exact event-driven spiking network simulator.
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <boost/program_options/errors.hpp>

#include "apical/engine/communicator.hpp"
#include "apical/engine/error.hpp"
#include "commands.hpp"
#include "processes.hpp"
#ifdef APICAL_WITH_MPI
#include "apical/engine/mpi.hpp"
#endif

namespace {

struct command {
  std::string_view name;
  int (*run)(int, char**);
  std::string_view summary;
};

constexpr command commands[] = {
    {"simulate", apical::app::run_simulate, "run a network described in a configuration file"},
    {"dataset", apical::app::run_dataset, "inspect a dataset (info, show)"},
    {"train", apical::app::run_train, "train a network on MNIST, Fashion-MNIST or CIFAR-10"},
    {"evaluate", apical::app::run_evaluate, "test accuracy and confusion matrix of a checkpoint"},
};

void usage(std::FILE* out) {
  fmt::print(out, "usage: apical <command> [options]   (apical <command> --help for details)\n\n");
  for (const auto& c : commands) fmt::print(out, "  {:<10} {}\n", c.name, c.summary);
  fmt::print(out, "\n  --version  print the version\n");
}

// "error: " and, in a run of several processes, the rank: an error ends
// every rank, and its message says which one failed.
std::string error_prefix() {
  using namespace apical::app;
  return world_size() > 1 ? fmt::format("error: rank {}: ", world_rank()) : "error: ";
}

// Runs one command; prints its error and returns the exit status.
int dispatch(int argc, char** argv) {
  const std::string_view name = argv[1];
  for (const auto& c : commands) {
    if (c.name != name) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const boost::program_options::error& e) {
      fmt::print(stderr, "{}{}: {}\n", error_prefix(), name, e.what());
      return 2;
    } catch (const apical::parameter_error& e) {
      fmt::print(stderr, "{}{}\n", error_prefix(), e.what());
      return 2;
    } catch (const std::bad_alloc&) {
      fmt::print(stderr,
                 "{}{}: out of memory (an allocation failed: std::bad_alloc); the run needs "
                 "more memory than is available\n",
                 error_prefix(), name);
      return 1;
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}{}\n", error_prefix(), e.what());
      return 1;
    }
  }
  fmt::print(stderr, "error: unknown command '{}'\n\n", name);
  usage(stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  if (name == "--version") {
    fmt::print("apical {}\n", APICAL_VERSION);
    return 0;
  }
  const unsigned launched = apical::launched_processes();
#ifdef APICAL_WITH_MPI
  // Under mpirun: MPI from here to the end of main.
  std::unique_ptr<apical::mpi_session> mpi;
  if (launched > 1) {
    try {
      mpi = std::make_unique<apical::mpi_session>(argc, argv);
    } catch (const std::exception& e) {
      fmt::print(stderr, "error: {}\n", e.what());
      return 1;
    }
    apical::app::set_world(&mpi->world());
  }
  const int status = dispatch(argc, argv);
  // A failed rank ends every rank: none is left waiting for it.
  if (status != 0 && mpi) mpi->abort(status);
  apical::app::set_world(nullptr);
  return status;
#else
  if (launched > 1) {
    fmt::print(stderr,
               "error: started as {} processes (mpirun), but this apical was built without MPI; "
               "install libopenmpi-dev and rebuild (CMake option APICAL_MPI), or run one "
               "process\n",
               launched);
    return 2;
  }
  return dispatch(argc, argv);
#endif
}
