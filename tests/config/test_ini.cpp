#include "apical/config/ini.hpp"

#include <sstream>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"

namespace config = apical::config;
using apical::parameter_error;

namespace {

std::vector<config::ini_entry> read(const std::string& text) {
  std::istringstream in(text);
  return config::read_ini(in, "f.ini");
}

}  // namespace

TEST_CASE("INI text: entries in file order with their section and line") {
  const auto e = read(
      "# a comment\n"
      "top = 1   # trailing comment\n"
      "\n"
      "[ rate ]\n"
      "  loss=mse ; another comment\n"
      "empty =\n"
      "[population.E]\n"
      "size = 10\r\n");
  REQUIRE(e.size() == 4);
  CHECK(e[0].section.empty());
  CHECK(e[0].key == "top");
  CHECK(e[0].value == "1");
  CHECK(e[0].where == "f.ini:2");
  CHECK(e[1].section == "rate");
  CHECK(e[1].key == "loss");
  CHECK(e[1].value == "mse");
  CHECK(e[1].line == 5);
  CHECK(e[2].key == "empty");
  CHECK(e[2].value.empty());
  CHECK(e[3].section == "population.E");
  CHECK(e[3].value == "10");
}

TEST_CASE("INI syntax errors name the file and line") {
  CHECK_THROWS_WITH_AS(read("[population.E\n"), "f.ini:1: expected ']' to close the section name",
                       parameter_error);
  CHECK_THROWS_WITH_AS(read("\n[ ]\n"), "f.ini:2: empty section name", parameter_error);
  CHECK_THROWS_WITH_AS(read("[p]\nweight\n"), "f.ini:2: expected 'key = value', got 'weight'",
                       parameter_error);
}
