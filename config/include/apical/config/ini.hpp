#pragma once
// INI text as a list of entries, the one reader behind every configuration
// file of apical (network files, training files, a checkpoint's stored
// configuration).
//
//   # a comment; so is everything from '#' or ';' to the end of a line
//   key = value          # before any section: section ""
//   [section]            # "population.E", "rate", ...
//   key = value
//
// Keys and values lose their surrounding blanks; a value may be empty.
// The reader knows no keys: what a key means, and whether it may appear
// twice, is for the caller, which names the entry's `where` in its errors.
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace apical::config {

struct ini_entry {
  std::string section;  // "" before the first [section]
  std::string key;
  std::string value;
  std::string where;  // "file:line"
  std::size_t line = 0;
};

// Reads every entry in file order. `source` names the text in messages.
// Throws parameter_error "<source>:<line>: ..." on a line that is neither a
// [section], a key = value nor blank.
std::vector<ini_entry> read_ini(std::istream& in, std::string_view source);

}  // namespace apical::config
