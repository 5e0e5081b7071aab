#pragma once
// Errors a user can act on: every message names the file, parameter or field
// at fault and what was expected. Thrown by builders and readers; the apps
// catch them at the top and print `error: <what>`.
#include <stdexcept>
#include <string>

namespace apical {

// A parameter, option or configuration value that is out of its domain.
class parameter_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A file that cannot be read, or whose contents are malformed.
class file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Another process of a distributed run failed (communicator.hpp); the
// message names its rank and its error.
class distributed_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace apical
