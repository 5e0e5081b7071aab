#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"
#include "apical/engine/expression.hpp"

using namespace apical;

namespace {

double eval(const char* text, double d) {
  return expression(text)(d);
}

// The message of the parameter_error compiling `text` throws ("" if none).
std::string error_of(const char* text) {
  try {
    expression e(text);
  } catch (const parameter_error& err) {
    return err.what();
  }
  return "";
}

}  // namespace

TEST_CASE("expression: arithmetic follows Python's precedence") {
  CHECK(eval("1 + 2 * d", 3) == 7);
  CHECK(eval("(1 + 2) * d", 3) == 9);
  CHECK(eval("-d**2", 3) == -9);      // ** binds tighter than unary minus
  CHECK(eval("2**-1", 0) == 0.5);     // but not on its right
  CHECK(eval("2**3**2", 0) == 512);   // right-associative
  CHECK(eval("d / 4 / 2", 16) == 2);  // left-associative
  CHECK(eval("d - 1 - 1", 5) == 3);
  CHECK(eval("7 // 2", 0) == 3);
  CHECK(eval("-7 // 2", 0) == -4);  // floor division
  CHECK(eval("-7 % 3", 0) == 2);    // the sign of the divisor
  CHECK(eval("7 % -3", 0) == -2);
  CHECK(eval("1.5e2 + .5 + 5. + 1_000", 0) == 1155.5);
  CHECK(eval("+d", -2) == -2);
}

TEST_CASE("expression: functions and constants as PyNN's namespace names them") {
  const double d = 0.7;
  CHECK(eval("exp(-d / 50)", d) == std::exp(-d / 50));
  CHECK(eval("np.exp(-abs(d))", -d) == std::exp(-d));
  CHECK(eval("numpy.sqrt(d)", d) == std::sqrt(d));
  CHECK(eval("arctan2(d, 2)", d) == std::atan2(d, 2));
  CHECK(eval("hypot(d, 1)", d) == std::hypot(d, 1.0));
  CHECK(eval("power(d, 3)", d) == std::pow(d, 3));
  CHECK(eval("pow(d, 0.5)", d) == std::pow(d, 0.5));
  CHECK(eval("fmod(-d, 0.3)", d) == std::fmod(-d, 0.3));
  CHECK(eval("maximum(d, 1) + minimum(d, 1)", d) == 1.7);
  CHECK(eval("e * pi", 0) == std::numbers::e * std::numbers::pi);
  CHECK(eval("log10(d) + log(d) + tanh(d) + arccos(d) + floor(d) + ceil(d)", d) ==
        std::log10(d) + std::log(d) + std::tanh(d) + std::acos(d) + 0.0 + 1.0);
  CHECK(eval("where(d < 1, 0.25, 0.5)", d) == 0.25);
  CHECK(eval("where(d < 1, 0.25, 0.5)", 2) == 0.5);
  CHECK(std::isnan(eval("maximum(d, 1)", NAN)));  // numpy's maximum propagates nan
}

TEST_CASE("expression: comparisons give booleans that count as 1 or 0") {
  CHECK(eval("d < 3", 2) == 1);
  CHECK(eval("d < 3", 3) == 0);
  CHECK(eval("d <= 3", 3) == 1);
  CHECK(eval("(d >= 1) & (d < 2)", 1.5) == 1);
  CHECK(eval("(d >= 1) & (d < 2)", 2.5) == 0);
  CHECK(eval("(d < 1) | (d > 2)", 2.5) == 1);
  CHECK(eval("(d < 1) ^ (d < 2)", 1.5) == 1);
  CHECK(eval("~(d < 1)", 0.5) == 0);
  CHECK(eval("(d < 3) * 0.5", 1) == 0.5);
  CHECK(eval("(d == 2) + (d != 2)", 2) == 1);
  // numpy's + and * of two boolean arrays are `or` and `and`.
  CHECK(eval("(d < 3) + (d < 5)", 1) == 1);
  CHECK(eval("((d < 3) + (d < 5)) * 0.3", 1) == 0.3);
  CHECK(eval("(d < 3) * (d < 5)", 4) == 0);
  CHECK(expression("d < 3").is_boolean());
  CHECK_FALSE(expression("(d < 3) * 0.5").is_boolean());
}

TEST_CASE("expression: division by zero is inf or nan, as in numpy") {
  CHECK(std::isinf(eval("1 / d", 0)));
  CHECK(std::isnan(eval("d / d", 0)));
  CHECK(std::isinf(eval("1 // d", 0)));
}

TEST_CASE("expression: evaluate over a block equals one value at a time") {
  const expression e("where(d < 100, exp(-d / 50) * (1 + sin(d)), 0.1 * (d < 300))");
  std::vector<double> x, out(500), scratch;
  for (int i = 0; i < 500; ++i) x.push_back(i * 0.77);
  e.evaluate(x, out, scratch);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = x[i];
    const double want = d < 100 ? std::exp(-d / 50) * (1 + std::sin(d)) : 0.1 * (d < 300);
    CHECK(out[i] == want);
    CHECK(e(d) == want);
  }
}

TEST_CASE("expression: what numpy refuses on arrays is refused, naming the column") {
  CHECK(error_of("d < 3 and d > 1").find("column 7: 'and'") != std::string::npos);
  CHECK(error_of("not d < 3").find("column 1: 'not' takes the truth value of an array") !=
        std::string::npos);
  CHECK(error_of("1 < d < 3").find("chained comparison") != std::string::npos);
  CHECK(error_of("d < 3 & d > 1").find("'&' needs booleans") != std::string::npos);
  CHECK(error_of("-(d < 3)").find("unary '-' of a boolean") != std::string::npos);
  CHECK(error_of("(d < 3) - (d < 1)").find("'-' of two booleans") != std::string::npos);
  CHECK(error_of("~d").find("'~' needs a boolean") != std::string::npos);
  CHECK(error_of("1 if d < 3 else 0").find("'if' is not supported") != std::string::npos);
}

TEST_CASE("expression: malformed text is refused, naming the column and what was expected") {
  CHECK(error_of("") == "expression '': column 1: expected an expression, got nothing");
  CHECK(error_of("exp(-x)") ==
        "expression 'exp(-x)': column 6: unknown name 'x': the variable is 'd', the constants "
        "e and pi");
  CHECK(error_of("gauss(d)").find("column 1: unknown function 'gauss'; known: exp,") !=
        std::string::npos);
  CHECK(error_of("exp(d, 2)").find("exp() takes 1 argument, got 2") != std::string::npos);
  CHECK(error_of("exp(-d").find("expected ')' before the end") != std::string::npos);
  CHECK(error_of("d +").find("expected a value before the end") != std::string::npos);
  CHECK(error_of("d = 3").find("'=' is an assignment") != std::string::npos);
  CHECK(error_of("d 3").find("column 3: unexpected '3'") != std::string::npos);
  CHECK(error_of("1e").find("'1e' is not a number") != std::string::npos);
  CHECK(error_of("2d").find("'2d' is not a number") != std::string::npos);
  CHECK(error_of("d << 2").find("shifts") != std::string::npos);
  CHECK(error_of("np.").find("expected a numpy function") != std::string::npos);
}

TEST_CASE("expression: nesting deeper than 200 levels is refused, not a stack overflow") {
  const auto nested = [](std::size_t n) { return std::string(n, '(') + "d" + std::string(n, ')'); };
  CHECK(expression(nested(190))(2.5) == 2.5);
  CHECK(error_of(nested(100000).c_str()).find("nested more than 200 levels deep") !=
        std::string::npos);
  CHECK(error_of(std::string(100000, '-').append("d").c_str()).find("nested more than") !=
        std::string::npos);
  std::string powers = "2";
  for (int k = 0; k < 5000; ++k) powers += "**2";
  CHECK(error_of(powers.c_str()).find("nested more than") != std::string::npos);
}

TEST_CASE("expression: another variable name") {
  CHECK(expression("2 * t", "t")(4) == 8);
  CHECK_THROWS_AS(expression("2 * d", "t"), parameter_error);
}
