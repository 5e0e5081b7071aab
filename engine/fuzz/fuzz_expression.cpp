// libFuzzer target: the expression compiler (probabilities of distance-
// dependent connections) on any text, and the compiled program on a few
// values. Malformed text must end in apical::parameter_error naming the
// expression and a column, never in a crash, a hang or an out-of-bounds
// access while evaluating.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "apical/engine/error.hpp"
#include "apical/engine/expression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const apical::expression e(text, "d");
    const std::vector<double> x{0.0, 1.0, -2.5, 1e300, 3.0};
    std::vector<double> out(x.size()), scratch;
    e.evaluate(x, out, scratch);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double one = e(x[i]);
      // The block and the single value agree (nan with nan).
      if (!(one == out[i] || (one != one && out[i] != out[i]))) __builtin_trap();
    }
  } catch (const apical::parameter_error& err) {
    if (std::string_view(err.what()).rfind("expression '", 0) != 0) __builtin_trap();
  }
  return 0;
}
