#pragma once
// Pieces shared by the leaky integrate-and-fire models: parameter checks and
// the closed-form response of a leaky membrane to an exponentially decaying
// drive.
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "apical/engine/error.hpp"

namespace apical::models {

inline constexpr double inf = std::numeric_limits<double>::infinity();

inline void require(bool ok, std::string_view model, std::string_view field, double value,
                    std::string_view expected) {
  if (!ok)
    throw parameter_error(std::string(model) + ": parameter '" + std::string(field) + "' " +
                          std::string(expected) + ", got " + std::to_string(value));
}

// Membrane response at time dt to a unit drive x(s) = exp(-s / tau_x) under
// tau_m v' = -v + x, v(0) = 0:
//   k(dt) = tau_x / (tau_x - tau_m) * (exp(-dt/tau_x) - exp(-dt/tau_m)),
// written with expm1 so it stays accurate when tau_x is close to tau_m.
// Precondition: tau_x != tau_m (the models validate this).
inline double drive_kernel(double tau_x, double tau_m, double dt) {
  return tau_x / (tau_x - tau_m) * std::exp(-dt / tau_m) * std::expm1(dt / tau_m - dt / tau_x);
}

// The same from exponentials already computed (e_x = exp(-dt/tau_x), e_m =
// exp(-dt/tau_m)): the plain difference, unless the time constants are so
// close (`close`) that it would cancel.
inline double drive_kernel(double e_x, double e_m, bool close, double tau_x, double tau_m,
                           double dt) {
  return close ? drive_kernel(tau_x, tau_m, dt) : tau_x / (tau_x - tau_m) * (e_x - e_m);
}

// The coefficient of exp(-s/tau_x) in the membrane trajectory contributed
// by a drive of initial value x0.
inline double drive_amplitude(double x0, double tau_x, double tau_m) {
  return x0 * tau_x / (tau_x - tau_m);
}

}  // namespace apical::models
