#include "apical/config/values.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::config {

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

double parse_real(std::string_view text, std::string_view where) {
  const std::string t = trim(text);
  if (t == "inf" || t == "+inf") return std::numeric_limits<double>::infinity();
  if (t == "-inf") return -std::numeric_limits<double>::infinity();
  double v = 0.0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size())
    throw parameter_error(fmt::format("{}: '{}' is not a number", where, text));
  return v;
}

std::uint64_t parse_count(std::string_view text, std::string_view where) {
  const std::string t = trim(text);
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size())
    throw parameter_error(
        fmt::format("{}: '{}' is not a whole number; expected an integer >= 0", where, text));
  return v;
}

bool parse_flag(std::string_view text, std::string_view where) {
  const std::string t = trim(text);
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  throw parameter_error(
      fmt::format("{}: '{}' is not a boolean; expected true or false", where, text));
}

std::vector<double> parse_reals(std::string_view text, std::string_view where) {
  std::vector<double> out;
  const std::string t = trim(text);
  if (t.empty()) return out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = t.find(',', start);
    const std::size_t stop = comma == std::string::npos ? t.size() : comma;
    out.push_back(parse_real(std::string_view(t).substr(start, stop - start), where));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string format_real(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format("{}", value);
}

std::string format_flag(bool value) {
  return value ? "true" : "false";
}

std::string format_reals(const std::vector<double>& values) {
  std::string s;
  for (const double x : values) s += (s.empty() ? "" : ",") + format_real(x);
  return s;
}

std::string join(const std::vector<std::string_view>& names, std::string_view separator) {
  std::string out;
  for (const auto n : names) {
    if (!out.empty()) out += separator;
    out += n;
  }
  return out;
}

}  // namespace apical::config
