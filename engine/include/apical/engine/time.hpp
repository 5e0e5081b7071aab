#pragma once
// Biological time in milliseconds as a strong type.
//
// Spike times in apical are exact real numbers, not steps of a grid. A
// `time_ms` cannot be mixed up with a plain double (a rate, a voltage) by
// accident: construction is explicit and `count()` names the unit.
#include <compare>
#include <limits>

namespace apical {

class time_ms {
 public:
  constexpr time_ms() = default;
  constexpr explicit time_ms(double ms) : ms_(ms) {}

  constexpr double count() const { return ms_; }

  static constexpr time_ms zero() { return time_ms{0.0}; }
  static constexpr time_ms infinity() { return time_ms{std::numeric_limits<double>::infinity()}; }
  constexpr bool is_finite() const { return ms_ < std::numeric_limits<double>::infinity(); }

  constexpr auto operator<=>(const time_ms&) const = default;

  constexpr time_ms& operator+=(time_ms d) {
    ms_ += d.ms_;
    return *this;
  }
  constexpr time_ms& operator-=(time_ms d) {
    ms_ -= d.ms_;
    return *this;
  }
  friend constexpr time_ms operator+(time_ms a, time_ms b) { return time_ms{a.ms_ + b.ms_}; }
  friend constexpr time_ms operator-(time_ms a, time_ms b) { return time_ms{a.ms_ - b.ms_}; }
  friend constexpr time_ms operator*(time_ms a, double k) { return time_ms{a.ms_ * k}; }
  friend constexpr time_ms operator*(double k, time_ms a) { return time_ms{a.ms_ * k}; }

 private:
  double ms_ = 0.0;
};

namespace literals {
constexpr time_ms operator""_ms(long double ms) {
  return time_ms{static_cast<double>(ms)};
}
constexpr time_ms operator""_ms(unsigned long long ms) {
  return time_ms{static_cast<double>(ms)};
}
}  // namespace literals

}  // namespace apical
