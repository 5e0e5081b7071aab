#include "apical/engine/expression.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numbers>
#include <string>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {
namespace {

// numpy's element-wise functions, where the C library's differ.
double floor_divide(double a, double b) {
  if (b == 0.0) return a / b;
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0.0 && ((b < 0.0) != (mod < 0.0))) div -= 1.0;
  if (div == 0.0) return std::copysign(0.0, a / b);
  double floored = std::floor(div);
  if (div - floored > 0.5) floored += 1.0;
  return floored;
}
double remainder_of(double a, double b) {  // Python's %: the sign of b
  if (b == 0.0) return std::fmod(a, b);
  double mod = std::fmod(a, b);
  if (mod != 0.0) {
    if ((b < 0.0) != (mod < 0.0)) mod += b;
  } else {
    mod = std::copysign(0.0, b);
  }
  return mod;
}
double maximum(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
}
double minimum(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
}
double fmax_of(double a, double b) {
  return std::fmax(a, b);
}
double fmin_of(double a, double b) {
  return std::fmin(a, b);
}
double sign_of(double x) {
  return std::isnan(x) ? x : static_cast<double>((x > 0.0) - (x < 0.0));
}
double square(double x) {
  return x * x;
}

double add(double a, double b) {
  return a + b;
}
double subtract(double a, double b) {
  return a - b;
}
double multiply(double a, double b) {
  return a * b;
}
double divide(double a, double b) {
  return a / b;
}
double power(double a, double b) {
  return std::pow(a, b);
}
double less(double a, double b) {
  return a < b ? 1.0 : 0.0;
}
double less_equal(double a, double b) {
  return a <= b ? 1.0 : 0.0;
}
double greater(double a, double b) {
  return a > b ? 1.0 : 0.0;
}
double greater_equal(double a, double b) {
  return a >= b ? 1.0 : 0.0;
}
double equal(double a, double b) {
  return a == b ? 1.0 : 0.0;
}
double not_equal(double a, double b) {
  return a != b ? 1.0 : 0.0;
}
// Booleans are 1 or 0: numpy's + and * of two boolean arrays are `or` and
// `and`, & | ^ are the logical operations.
double logical_or(double a, double b) {
  return (a != 0.0 || b != 0.0) ? 1.0 : 0.0;
}
double logical_and(double a, double b) {
  return (a != 0.0 && b != 0.0) ? 1.0 : 0.0;
}
double logical_xor(double a, double b) {
  return ((a != 0.0) != (b != 0.0)) ? 1.0 : 0.0;
}
double logical_not(double a) {
  return a != 0.0 ? 0.0 : 1.0;
}
double negate(double a) {
  return -a;
}
constexpr double (*negate_value)(double) = negate;

struct function1 {
  std::string_view name;
  double (*f)(double);
};
struct function2 {
  std::string_view name;
  double (*f)(double, double);
};

double f_exp(double x) {
  return std::exp(x);
}
double f_log(double x) {
  return std::log(x);
}
double f_log10(double x) {
  return std::log10(x);
}
double f_log2(double x) {
  return std::log2(x);
}
double f_sqrt(double x) {
  return std::sqrt(x);
}
double f_sin(double x) {
  return std::sin(x);
}
double f_cos(double x) {
  return std::cos(x);
}
double f_tan(double x) {
  return std::tan(x);
}
double f_asin(double x) {
  return std::asin(x);
}
double f_acos(double x) {
  return std::acos(x);
}
double f_atan(double x) {
  return std::atan(x);
}
double f_sinh(double x) {
  return std::sinh(x);
}
double f_cosh(double x) {
  return std::cosh(x);
}
double f_tanh(double x) {
  return std::tanh(x);
}
double f_fabs(double x) {
  return std::fabs(x);
}
double f_floor(double x) {
  return std::floor(x);
}
double f_ceil(double x) {
  return std::ceil(x);
}
double f_expm1(double x) {
  return std::expm1(x);
}
double f_log1p(double x) {
  return std::log1p(x);
}
double f_exp2(double x) {
  return std::exp2(x);
}
double f_atan2(double y, double x) {
  return std::atan2(y, x);
}
double f_hypot(double x, double y) {
  return std::hypot(x, y);
}
double f_fmod(double x, double y) {
  return std::fmod(x, y);
}

constexpr function1 functions1[] = {
    {"exp", f_exp},       {"log", f_log},     {"log10", f_log10}, {"log2", f_log2},
    {"sqrt", f_sqrt},     {"sin", f_sin},     {"cos", f_cos},     {"tan", f_tan},
    {"arcsin", f_asin},   {"arccos", f_acos}, {"arctan", f_atan}, {"sinh", f_sinh},
    {"cosh", f_cosh},     {"tanh", f_tanh},   {"fabs", f_fabs},   {"abs", f_fabs},
    {"absolute", f_fabs}, {"floor", f_floor}, {"ceil", f_ceil},   {"expm1", f_expm1},
    {"log1p", f_log1p},   {"exp2", f_exp2},   {"square", square}, {"sign", sign_of},
};
constexpr function2 functions2[] = {
    {"arctan2", f_atan2}, {"hypot", f_hypot}, {"fmod", f_fmod},
    {"power", power},     {"pow", power},     {"maximum", maximum},
    {"minimum", minimum}, {"fmax", fmax_of},  {"fmin", fmin_of},
};

std::string known_functions() {
  std::string out;
  for (const auto& f : functions1) out += fmt::format("{}{}", out.empty() ? "" : ", ", f.name);
  for (const auto& f : functions2) out += fmt::format(", {}", f.name);
  return out + ", where";
}

// Recursive descent over Python's precedence levels, emitting postfix code.
// Each level returns whether its value is a boolean.
class compiler {
 public:
  compiler(std::string_view text, std::string_view variable, std::vector<expression::op>& code)
      : text_(text), variable_(variable), code_(code) {}

  std::size_t depth() const { return max_depth_; }

  bool run() {
    skip_space();
    if (pos_ == text_.size()) fail(0, "expected an expression, got nothing");
    const bool b = comparison();
    skip_space();
    if (pos_ != text_.size()) unexpected();
    return b;
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw parameter_error(fmt::format("expression '{}': column {}: {}", text_, at + 1, what));
  }

  // A token that cannot continue the expression here.
  [[noreturn]] void unexpected() {
    const std::string_view token = rest_token();
    if (token == "and" || token == "or" || token == "not") keyword(token);
    if (token == "if" || token == "else" || token == "lambda" || token == "for")
      fail(pos_, fmt::format("'{}' is not supported (use where(condition, a, b))", token));
    fail(pos_, fmt::format("unexpected '{}'", token));
  }
  [[noreturn]] void keyword(std::string_view token) {
    fail(pos_, fmt::format("'{}' takes the truth value of an array, which numpy refuses; use {} "
                           "on parenthesised comparisons",
                           token,
                           token == "and"  ? "&"
                           : token == "or" ? "|"
                                           : "~"));
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  std::string_view rest_token() const {
    std::size_t end = pos_ + 1;
    const auto word = [&](std::size_t i) {
      return std::isalnum(static_cast<unsigned char>(text_[i])) || text_[i] == '_';
    };
    if (word(pos_))
      while (end < text_.size() && word(end)) ++end;
    return text_.substr(pos_, end - pos_);
  }
  // Consumes `s` if the text continues with it (after spaces).
  bool accept(std::string_view s) {
    skip_space();
    if (text_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  bool peek(std::string_view s) {
    skip_space();
    return text_.substr(pos_, s.size()) == s;
  }
  void expect(std::string_view s) {
    if (!accept(s))
      fail(pos_, pos_ < text_.size() ? fmt::format("expected '{}', got '{}'", s, rest_token())
                                     : fmt::format("expected '{}' before the end", s));
  }

  void emit(expression::op o, int stack_change) {
    code_.push_back(o);
    depth_ = static_cast<std::size_t>(static_cast<long>(depth_) + stack_change);
    max_depth_ = std::max(max_depth_, depth_);
  }
  void emit_constant(double v) {
    expression::op o;
    o.k = expression::op::kind::constant;
    o.value = v;
    emit(o, +1);
  }
  bool last_is_constant() const {
    return !code_.empty() && code_.back().k == expression::op::kind::constant;
  }
  // Constants are folded: an operation on constants becomes its value, a
  // binary operation with a constant right operand takes it as immediate.
  void emit_unary(double (*f)(double)) {
    if (last_is_constant()) {
      code_.back().value = f(code_.back().value);
      return;
    }
    expression::op o;
    o.k = expression::op::kind::unary;
    o.f1 = f;
    emit(o, 0);
  }
  void emit_binary(double (*f)(double, double)) {
    expression::op o;
    o.k = expression::op::kind::binary;
    o.f2 = f;
    if (last_is_constant()) {
      o.immediate = true;
      o.value = code_.back().value;
      code_.pop_back();
      --depth_;
      if (last_is_constant()) {
        code_.back().value = f(code_.back().value, o.value);
        return;
      }
      emit(o, 0);
      return;
    }
    emit(o, -1);
  }
  // comparison := bit_or [cmp bit_or]; a second comparison is refused (numpy
  // cannot chain them on arrays).
  bool comparison() {
    bool b = bit_or();
    struct cmp {
      std::string_view s;
      double (*f)(double, double);
    };
    static constexpr cmp ops[] = {{"<=", less_equal}, {">=", greater_equal}, {"==", equal},
                                  {"!=", not_equal},  {"<", less},           {">", greater}};
    if (peek("<<") || peek(">>")) fail(pos_, "shifts are not supported");
    for (const auto& c : ops) {
      if (!accept(c.s)) continue;
      bit_or();
      emit_binary(c.f);
      for (const auto& d : ops)
        if (peek(d.s))
          fail(pos_,
               "a chained comparison (a < b < c) takes the truth value of an array; "
               "write (a < b) & (b < c)");
      return true;
    }
    if (peek("=") && !peek("==")) fail(pos_, "'=' is an assignment; compare with '=='");
    return b;
  }

  bool logical(std::string_view symbol, double (*f)(double, double), bool (compiler::*next)()) {
    bool b = (this->*next)();
    while (peek(symbol)) {
      const std::size_t at = pos_;
      accept(symbol);
      const bool rhs = (this->*next)();
      if (!b || !rhs)
        fail(at, fmt::format("'{}' needs booleans on both sides (numpy's {} is bitwise, undefined "
                             "for floats); put each comparison in parentheses: (d > 1) {} (d < 3)",
                             symbol, symbol, symbol));
      emit_binary(f);
      b = true;
    }
    return b;
  }
  bool bit_or() { return logical("|", logical_or, &compiler::bit_xor); }
  bool bit_xor() { return logical("^", logical_xor, &compiler::bit_and); }
  bool bit_and() { return logical("&", logical_and, &compiler::arith); }

  bool arith() {
    bool b = term();
    while (true) {
      if (peek("+")) {
        accept("+");
        const bool rhs = term();
        emit_binary(b && rhs ? logical_or : add);
        b = b && rhs;
      } else if (peek("-")) {
        const std::size_t at = pos_;
        accept("-");
        const bool rhs = term();
        if (b && rhs) fail(at, "'-' of two booleans is undefined in numpy; use ^ or ~");
        emit_binary(subtract);
        b = false;
      } else {
        return b;
      }
    }
  }

  bool term() {
    bool b = factor();
    while (true) {
      if (peek("**")) return b;  // handled by power()
      if (accept("//")) {
        factor();
        emit_binary(floor_divide);
        b = false;
      } else if (accept("*")) {
        const bool rhs = factor();
        emit_binary(b && rhs ? logical_and : multiply);
        b = b && rhs;
      } else if (accept("/")) {
        factor();
        emit_binary(divide);
        b = false;
      } else if (accept("%")) {
        factor();
        emit_binary(remainder_of);
        b = false;
      } else {
        return b;
      }
    }
  }

  // Every level of nesting (parentheses, arguments, unary operators,
  // exponents) passes here: deep text is refused before the recursion
  // could exhaust the stack.
  bool factor() {
    skip_space();
    const std::size_t at = pos_;
    if (++nesting_ > max_nesting)
      fail(at, fmt::format("nested more than {} levels deep", max_nesting));
    const bool b = unary();
    --nesting_;
    return b;
  }

  bool unary() {
    const std::size_t at = pos_;
    if (accept("-")) {
      if (factor()) fail(at, "unary '-' of a boolean is undefined in numpy; use ~");
      emit_unary(negate);
      return false;
    }
    if (accept("+")) return factor();
    if (accept("~")) {
      if (!factor()) fail(at, "'~' needs a boolean (numpy's ~ is bitwise, undefined for floats)");
      emit_unary(logical_not);
      return true;
    }
    return power_of();
  }

  // power := primary ['**' factor]: right-associative, and tighter than a
  // unary minus on its left (-2**2 == -4) but not on its right (2**-1).
  bool power_of() {
    const bool b = primary();
    if (accept("**")) {
      factor();
      emit_binary(power);
      return false;
    }
    return b;
  }

  bool primary() {
    skip_space();
    if (pos_ == text_.size()) fail(pos_, "expected a value before the end");
    const char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos_ + 1 < text_.size() &&
         std::isdigit(static_cast<unsigned char>(text_[pos_ + 1]))))
      return number();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return name();
    if (accept("(")) {
      const bool b = comparison();
      expect(")");
      return b;
    }
    fail(pos_, fmt::format("expected a value, got '{}'", rest_token()));
  }

  bool number() {
    const std::size_t start = pos_;
    std::string digits;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      const bool exponent_sign = (c == '+' || c == '-') && !digits.empty() &&
                                 (digits.back() == 'e' || digits.back() == 'E');
      if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          exponent_sign) {
        digits += c;
      } else if (c != '_') {
        break;
      }
      ++pos_;
    }
    double v = 0.0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size())
      fail(start, fmt::format("'{}' is not a number", text_.substr(start, pos_ - start)));
    if (pos_ < text_.size() &&
        (std::isalpha(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
      fail(start, fmt::format("'{}' is not a number", rest_token_from(start)));
    emit_constant(v);
    return false;
  }
  std::string_view rest_token_from(std::size_t start) const {
    std::size_t end = start;
    while (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) ||
                                  text_[end] == '_' || text_[end] == '.'))
      ++end;
    return text_.substr(start, end - start);
  }

  std::string_view identifier() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
      ++pos_;
    return text_.substr(start, pos_ - start);
  }

  bool name() {
    const std::size_t at = pos_;
    std::string_view id = identifier();
    bool qualified = false;
    if ((id == "np" || id == "numpy") && pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      id = identifier();
      qualified = true;
      if (id.empty()) fail(pos_, "expected a numpy function after '.'");
    }
    if (!qualified) {
      if (id == variable_) {
        expression::op o;
        o.k = expression::op::kind::variable;
        emit(o, +1);
        return false;
      }
      if (id == "True" || id == "False") {
        emit_constant(id == "True" ? 1.0 : 0.0);
        return true;
      }
      if (id == "and" || id == "or" || id == "not" || id == "if" || id == "else" ||
          id == "lambda" || id == "for") {
        pos_ = at;
        unexpected();
      }
    }
    if (id == "e" || id == "pi") {
      emit_constant(id == "e" ? std::numbers::e : std::numbers::pi);
      return false;
    }
    if (!peek("("))
      fail(at, fmt::format("unknown name '{}': the variable is '{}', the constants e and pi",
                           text_.substr(at, pos_ - at), variable_));
    return call(at, id);
  }

  // Every function may be written bare or as np.NAME (abs and pow are
  // Python's built-ins, the others numpy's).
  bool call(std::size_t at, std::string_view id) {
    expect("(");
    std::size_t arguments = 0;
    std::vector<bool> types;
    if (!accept(")")) {
      while (true) {
        types.push_back(comparison());
        ++arguments;
        if (accept(")")) break;
        if (!accept(","))
          fail(pos_, pos_ < text_.size()
                         ? fmt::format("expected ',' or ')', got '{}'", rest_token())
                         : std::string("expected ')' before the end"));
      }
    }
    const auto arity = [&](std::size_t n) {
      if (arguments != n)
        fail(at,
             fmt::format("{}() takes {} argument{}, got {}", id, n, n == 1 ? "" : "s", arguments));
    };
    for (const auto& f : functions1)
      if (f.name == id) {
        arity(1);
        emit_unary(f.f);
        return false;
      }
    for (const auto& f : functions2)
      if (f.name == id) {
        arity(2);
        emit_binary(f.f);
        return id == "maximum" || id == "minimum" || id == "fmax" || id == "fmin"
                   ? types[0] && types[1]
                   : false;
      }
    if (id == "where") {
      arity(3);
      expression::op o;
      o.k = expression::op::kind::where;
      emit(o, -2);
      return types[1] && types[2];
    }
    fail(at, fmt::format("unknown function '{}'; known: {}", id, known_functions()));
  }

  std::string_view text_;
  std::string_view variable_;
  std::vector<expression::op>& code_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t max_depth_ = 0;
  static constexpr std::size_t max_nesting = 200;
  std::size_t nesting_ = 0;
};

// a[i] = f(a[i], b[i]), or f(a[i], value) where b is null (an immediate).
template <class F>
void binary_loop(double* a, const double* b, double value, std::size_t n, F f) {
  if (b)
    for (std::size_t i = 0; i < n; ++i) a[i] = f(a[i], b[i]);
  else
    for (std::size_t i = 0; i < n; ++i) a[i] = f(a[i], value);
}

}  // namespace

expression::expression(std::string_view text, std::string_view variable) : text_(text) {
  compiler c(text, variable, code_);
  boolean_ = c.run();
  depth_ = c.depth();
}

void expression::evaluate(std::span<const double> x, std::span<double> out,
                          std::vector<double>& scratch) const {
  const std::size_t n = x.size();
  if (out.size() != n)
    throw parameter_error(
        fmt::format("expression '{}': {} values in, room for {} out", text_, n, out.size()));
  if (scratch.size() < depth_ * n) scratch.resize(depth_ * n);
  std::size_t top = 0;  // blocks on the stack; block b is scratch[b*n, (b+1)*n)
  const auto block = [&](std::size_t b) { return scratch.data() + b * n; };
  for (const op& o : code_) {
    switch (o.k) {
      case op::kind::constant: {
        std::fill_n(block(top), n, o.value);
        ++top;
        break;
      }
      case op::kind::variable: {
        std::copy_n(x.data(), n, block(top));
        ++top;
        break;
      }
      case op::kind::unary: {
        double* a = block(top - 1);
        // Negation and + - * / run inline (vectorised), the others through
        // their function pointer.
        if (o.f1 == &negate)
          for (std::size_t i = 0; i < n; ++i) a[i] = -a[i];
        else
          for (std::size_t i = 0; i < n; ++i) a[i] = o.f1(a[i]);
        break;
      }
      case op::kind::binary: {
        if (!o.immediate) --top;
        double* a = block(top - 1);
        const double* b = o.immediate ? nullptr : block(top);
        if (o.f2 == &add)
          binary_loop(a, b, o.value, n, [](double u, double v) { return u + v; });
        else if (o.f2 == &subtract)
          binary_loop(a, b, o.value, n, [](double u, double v) { return u - v; });
        else if (o.f2 == &multiply)
          binary_loop(a, b, o.value, n, [](double u, double v) { return u * v; });
        else if (o.f2 == &divide)
          binary_loop(a, b, o.value, n, [](double u, double v) { return u / v; });
        else
          binary_loop(a, b, o.value, n, o.f2);
        break;
      }
      case op::kind::where: {
        double* c = block(top - 3);
        const double* a = block(top - 2);
        const double* b = block(top - 1);
        for (std::size_t i = 0; i < n; ++i) c[i] = c[i] != 0.0 ? a[i] : b[i];
        top -= 2;
        break;
      }
    }
  }
  std::copy_n(block(0), n, out.data());
}

double expression::operator()(double x) const {
  std::vector<double> scratch;
  double out = 0.0;
  evaluate(std::span<const double>(&x, 1), std::span<double>(&out, 1), scratch);
  return out;
}

}  // namespace apical
