#include "apical/engine/short_term.hpp"

#include <array>
#include <cmath>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {

namespace {

struct field {
  std::string_view name;
  double short_term_parameters::*member;
};
constexpr std::array<field, 5> fields{{{"U", &short_term_parameters::U},
                                       {"tau_rec_ms", &short_term_parameters::tau_rec_ms},
                                       {"tau_facil_ms", &short_term_parameters::tau_facil_ms},
                                       {"tau_psc_ms", &short_term_parameters::tau_psc_ms},
                                       {"u0", &short_term_parameters::u0}}};
constexpr auto names = [] {
  std::array<std::string_view, fields.size()> n{};
  for (std::size_t k = 0; k < fields.size(); ++k) n[k] = fields[k].name;
  return n;
}();

// expm1(v) / v, 1 at v = 0.
double relative_expm1(double v) { return v == 0.0 ? 1.0 : std::expm1(v) / v; }

}  // namespace

void short_term_parameters::set(std::string_view name, double value, std::string_view where) {
  for (const auto& f : fields)
    if (f.name == name) {
      this->*f.member = value;
      return;
    }
  throw parameter_error(fmt::format("{}: unknown short-term plasticity parameter '{}'; known: {}",
                                    where, name, fmt::join(names, ", ")));
}

void short_term_parameters::validate(std::string_view where) const {
  const auto require = [where](bool ok, std::string_view field, double value,
                               std::string_view expected) {
    if (!ok)
      throw parameter_error(
          fmt::format("{}: short-term plasticity parameter '{}' {}, got {}", where, field,
                      expected, value));
  };
  require(U > 0.0 && U <= 1.0, "U", U, "must be in (0, 1]");
  require(std::isfinite(tau_rec_ms) && tau_rec_ms > 0.0, "tau_rec_ms", tau_rec_ms,
          "must be a finite time > 0 ms");
  require(std::isfinite(tau_facil_ms) && tau_facil_ms >= 0.0, "tau_facil_ms", tau_facil_ms,
          "must be a finite time >= 0 ms (0: no facilitation)");
  require(std::isfinite(tau_psc_ms) && tau_psc_ms >= 0.0, "tau_psc_ms", tau_psc_ms,
          "must be a finite time >= 0 ms (0: active resources become inactive at once)");
  require(u0 >= 0.0 && u0 <= 1.0, "u0", u0, "must be in [0, 1]");
}

std::string short_term_parameters::describe() const {
  return fmt::format("U={:.17g}, tau_rec_ms={:.17g}, tau_facil_ms={:.17g}, tau_psc_ms={:.17g}, "
                     "u0={:.17g}",
                     U, tau_rec_ms, tau_facil_ms, tau_psc_ms, u0);
}

double short_term_arrival(const short_term_parameters& p, short_term_state& s, double t_ms) {
  const double dt = t_ms - s.t_ms;
  const double decay_rec = std::exp(-dt / p.tau_rec_ms);
  const double z = 1.0 - s.x - s.y;
  double y = 0.0, z_now = 0.0;
  if (p.tau_psc_ms == 0.0) {
    // Active resources were inactive at once: all of y joins z.
    z_now = (z + s.y) * decay_rec;
  } else {
    const double decay_psc = std::exp(-dt / p.tau_psc_ms);
    // z gains y (exp(-dt/tau_psc) - exp(-dt/tau_rec)) / (tau_psc/tau_rec - 1);
    // written with expm1 where the two exponentials nearly cancel
    // (tau_psc close to tau_rec, or a short interval).
    const double b = 1.0 / p.tau_rec_ms - 1.0 / p.tau_psc_ms;
    const double transfer =
        std::abs(b * dt) <= 1.0
            ? decay_rec * (dt / p.tau_psc_ms) * relative_expm1(b * dt)
            : (decay_psc - decay_rec) / (p.tau_psc_ms / p.tau_rec_ms - 1.0);
    y = s.y * decay_psc;
    z_now = z * decay_rec + s.y * transfer;
  }
  double x = 1.0 - y - z_now;
  double u = p.tau_facil_ms > 0.0 ? s.u * std::exp(-dt / p.tau_facil_ms) : 0.0;
  u += p.U * (1.0 - u);
  const double efficacy = u * x;
  x -= efficacy;
  y += efficacy;
  s = {x, y, u, t_ms};
  return efficacy;
}

}  // namespace apical
