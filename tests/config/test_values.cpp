#include "apical/config/values.hpp"

#include <cmath>
#include <limits>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"

namespace config = apical::config;
using apical::parameter_error;

TEST_CASE("values read back to what was written, blanks ignored") {
  CHECK(config::trim("  a b\t\r") == "a b");
  CHECK(config::trim(" \t ").empty());
  CHECK(config::parse_real(" 0.1 ", "k") == 0.1);
  CHECK(config::parse_real("inf", "k") == std::numeric_limits<double>::infinity());
  CHECK(config::parse_real("-inf", "k") == -std::numeric_limits<double>::infinity());
  for (const double v : {0.1, -3.5e-7, 1.0 / 3.0, 2.0e300})
    CHECK(config::parse_real(config::format_real(v), "k") == v);
  CHECK(config::format_real(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(config::parse_count("42", "k") == 42);
  CHECK(config::parse_flag("yes", "k"));
  CHECK_FALSE(config::parse_flag("off", "k"));
  CHECK(config::format_flag(true) == "true");
  CHECK(config::parse_reals("1, 0.5,2", "k") == std::vector<double>{1.0, 0.5, 2.0});
  CHECK(config::parse_reals("", "k").empty());
  CHECK(config::format_reals({1.0, 0.5}) == "1,0.5");
  CHECK(config::join({"a", "b", "c"}) == "a, b, c");
}

TEST_CASE("a malformed value names where it is and what was expected") {
  CHECK_THROWS_WITH_AS(config::parse_real("fast", "learning-rate"),
                       "learning-rate: 'fast' is not a number", parameter_error);
  CHECK_THROWS_WITH_AS(config::parse_real("", "net.ini:3: [simulation] duration_ms"),
                       doctest::Contains("net.ini:3: [simulation] duration_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(config::parse_count("-3", "epochs"),
                       "epochs: '-3' is not a whole number; expected an integer >= 0",
                       parameter_error);
  CHECK_THROWS_WITH_AS(config::parse_count("2.5", "k"), doctest::Contains("whole number"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(config::parse_flag("maybe", "autapses"),
                       "autapses: 'maybe' is not a boolean; expected true or false",
                       parameter_error);
  CHECK_THROWS_WITH_AS(config::parse_reals("1,x", "scale"), doctest::Contains("scale: 'x'"),
                       parameter_error);
}
