#pragma once
// An arithmetic expression of one variable, compiled once and evaluated
// over blocks of values: the probability of a distance-dependent
// connection, "exp(-d / 50)" or "(d < 3) * 0.5".
//
// The syntax is Python's, with numpy's element-wise meaning (as PyNN
// evaluates such strings): numbers, the variable, True, False, e, pi,
// + - * / // % ** (power binds tighter than unary minus), comparisons
// (< <= > >= == !=, which give booleans, 1 or 0 in arithmetic), & | ^ ~ on
// booleans, parentheses, and the functions
//   exp log log10 log2 sqrt sin cos tan arcsin arccos arctan sinh cosh tanh
//   fabs abs floor ceil expm1 log1p exp2 square sign
//   arctan2 hypot fmod power pow maximum minimum fmax fmin
//   where(condition, a, b)
// also spelled np.NAME or numpy.NAME. Division by zero gives inf or nan as
// in numpy. What numpy would refuse on arrays is refused here, with the
// column at fault: `and`/`or`/`not` (take the truth value of an array),
// chained comparisons, & | ^ ~ of non-booleans, unary minus of a boolean.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apical {

class expression {
 public:
  // Compiles `text` in the variable `variable`. Throws parameter_error
  // naming the column and what was expected there.
  explicit expression(std::string_view text, std::string_view variable = "d");

  // out[n] = f(x[n]) for every n (out.size() == x.size()). `scratch` is
  // working space, resized as needed: keep one per thread and reuse it.
  void evaluate(std::span<const double> x, std::span<double> out,
                std::vector<double>& scratch) const;
  // One value.
  double operator()(double x) const;

  const std::string& text() const { return text_; }
  // Whether the value is a boolean (a comparison, & | ^ ~ of them).
  bool is_boolean() const { return boolean_; }

  // One step of the postfix program (public for the compiler in the .cpp).
  struct op {
    enum class kind : unsigned char {
      constant,
      variable,
      unary,   // f1(top)
      binary,  // f2(below, top)
      where,   // top three: condition, a, b
    };
    kind k = kind::constant;
    bool immediate = false;  // binary: the right operand is `value`
    double value = 0.0;
    double (*f1)(double) = nullptr;
    double (*f2)(double, double) = nullptr;
  };

 private:
  std::string text_;
  std::vector<op> code_;
  std::size_t depth_ = 0;  // the most blocks on the stack at once
  bool boolean_ = false;
};

}  // namespace apical
