#include "apical/config/ini.hpp"

#include <fmt/format.h>

#include "apical/config/values.hpp"
#include "apical/engine/error.hpp"

namespace apical::config {

std::vector<ini_entry> read_ini(std::istream& in, std::string_view source) {
  std::vector<ini_entry> entries;
  std::string line, section;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto comment = line.find_first_of("#;");
    const std::string text = trim(std::string_view(line).substr(0, comment));
    if (text.empty()) continue;
    std::string where = fmt::format("{}:{}", source, number);
    if (text.front() == '[') {
      if (text.back() != ']')
        throw parameter_error(fmt::format("{}: expected ']' to close the section name", where));
      section = trim(std::string_view(text).substr(1, text.size() - 2));
      if (section.empty()) throw parameter_error(fmt::format("{}: empty section name", where));
      continue;
    }
    const auto eq = text.find('=');
    if (eq == std::string::npos)
      throw parameter_error(fmt::format("{}: expected 'key = value', got '{}'", where, text));
    entries.push_back({section, trim(std::string_view(text).substr(0, eq)),
                       trim(std::string_view(text).substr(eq + 1)), std::move(where), number});
  }
  return entries;
}

}  // namespace apical::config
