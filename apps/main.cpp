// apical: exact event-driven spiking network simulator.
#include <cstring>
#include <exception>
#include <new>
#include <string_view>

#include <fmt/format.h>
#include <boost/program_options/errors.hpp>

#include "apical/engine/error.hpp"
#include "commands.hpp"

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
  for (const auto& c : commands) {
    if (c.name != name) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const boost::program_options::error& e) {
      fmt::print(stderr, "error: {}: {}\n", name, e.what());
      return 2;
    } catch (const apical::parameter_error& e) {
      fmt::print(stderr, "error: {}\n", e.what());
      return 2;
    } catch (const std::bad_alloc&) {
      fmt::print(stderr,
                 "error: {}: out of memory (an allocation failed: std::bad_alloc); the run needs "
                 "more memory than is available\n",
                 name);
      return 1;
    } catch (const std::exception& e) {
      fmt::print(stderr, "error: {}\n", e.what());
      return 1;
    }
  }
  fmt::print(stderr, "error: unknown command '{}'\n\n", name);
  usage(stderr);
  return 2;
}
