#include "apical/config/key_table.hpp"

#include <limits>

#include <doctest/doctest.h>

#include "apical/engine/error.hpp"

namespace config = apical::config;
using apical::parameter_error;

namespace {

enum class colour { red, green };

std::string_view to_string(colour c) {
  return c == colour::red ? "red" : "green";
}

colour parse_colour(std::string_view text, std::string_view where) {
  if (text == "red") return colour::red;
  if (text == "green") return colour::green;
  throw parameter_error(std::string(where) + ": expected red or green");
}

struct inner {
  double gain = 1.0;
};

struct settings {
  double rate_hz = 10.0;
  std::size_t count = 3;
  int compartment = 0;
  bool on = false;
  std::string name = "x";
  std::vector<double> scale;
  colour c = colour::red;
  inner nested;
};

const std::vector<config::key<settings>>& keys() {
  using s = settings;
  static const std::vector<config::key<s>> table{
      config::field<s>("rate_hz", "rate (Hz)", &s::rate_hz, config::as_real),
      config::field<s>("count", "how many", &s::count, config::as_count),
      config::field<s>("compartment", "", &s::compartment, config::as_count),
      config::field<s>("on", "", &s::on, config::as_flag, false),
      config::field<s>("name", "", &s::name, config::as_text),
      config::field<s>("scale", "", &s::scale, config::as_reals),
      config::field<s>(
          "colour", "", &s::c,
          config::named([](colour v) { return std::string(to_string(v)); }, parse_colour)),
      config::field<s>(
          "nested.gain", "", [](auto& x) -> auto& { return x.nested.gain; }, config::as_real),
  };
  return table;
}

}  // namespace

TEST_CASE("a key table reads and writes every field it names") {
  settings s;
  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{{"rate_hz", " 2.5 "},
                                                        {"count", "7"},
                                                        {"compartment", "1"},
                                                        {"on", "true"},
                                                        {"name", " abc "},
                                                        {"scale", "1,0.5"},
                                                        {"colour", "green"},
                                                        {"nested.gain", "inf"}}) {
    const auto* k = config::find(keys(), name);
    REQUIRE(k != nullptr);
    k->assign(s, text);
  }
  CHECK(s.rate_hz == 2.5);
  CHECK(s.count == 7);
  CHECK(s.compartment == 1);
  CHECK(s.on);
  CHECK(s.name == "abc");
  CHECK(s.scale == std::vector<double>{1.0, 0.5});
  CHECK(s.c == colour::green);
  CHECK(s.nested.gain == std::numeric_limits<double>::infinity());
  std::vector<std::string> written;
  for (const auto& k : keys()) written.push_back(k.get(s));
  CHECK(written ==
        std::vector<std::string>{"2.5", "7", "1", "true", "abc", "1,0.5", "green", "inf"});
  CHECK(config::names(keys()).front() == "rate_hz");
  CHECK_FALSE(config::find(keys(), "on")->identity);
  CHECK(config::find(keys(), "speed") == nullptr);
}

TEST_CASE("a key's errors name the place the caller gives, or the key") {
  settings s;
  const auto* rate = config::find(keys(), "rate_hz");
  CHECK_THROWS_WITH_AS(rate->assign(s, "fast"), "rate_hz: 'fast' is not a number", parameter_error);
  CHECK_THROWS_WITH_AS(rate->set(s, "fast", "f.ini:3: [a] rate_hz"),
                       "f.ini:3: [a] rate_hz: 'fast' is not a number", parameter_error);
  CHECK_THROWS_WITH_AS(config::find(keys(), "colour")->assign(s, "blue"),
                       "colour: expected red or green", parameter_error);
  CHECK(s.rate_hz == 10.0);
}
