#pragma once
// Values of configuration keys as text: reading them with errors a user can
// act on, and writing them so that they read back to the same value.
//
// `where` names the value in messages: a key ("learning-rate"), or a file,
// line, section and key ("net.ini:4: [population.E] size"). Every reader
// ignores surrounding blanks and throws parameter_error
// "<where>: '<text>' is not ...; expected ...".
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace apical::config {

// `text` without leading and trailing blanks (spaces, tabs, carriage returns).
std::string trim(std::string_view text);

// A double; "inf", "+inf" and "-inf" are the infinities.
double parse_real(std::string_view text, std::string_view where);
// A whole number >= 0.
std::uint64_t parse_count(std::string_view text, std::string_view where);
// true / 1 / yes / on, or false / 0 / no / off.
bool parse_flag(std::string_view text, std::string_view where);
// Comma-separated doubles ("1,0.5"); empty text is the empty list.
std::vector<double> parse_reals(std::string_view text, std::string_view where);

// The shortest text that reads back to the same double ("inf", "-inf").
std::string format_real(double value);
std::string format_flag(bool value);
std::string format_reals(const std::vector<double>& values);

// The names joined with `separator` ("a, b, c").
std::string join(const std::vector<std::string_view>& names, std::string_view separator = ", ");

}  // namespace apical::config
