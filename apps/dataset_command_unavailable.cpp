#include "apical/engine/error.hpp"
#include "commands.hpp"

namespace apical::app {
int run_dataset(int, char**) {
  throw parameter_error("dataset: this build has no datasets module");
}
}  // namespace apical::app
