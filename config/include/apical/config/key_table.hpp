#pragma once
// A settings struct's keys as data: one row per key, naming the key, its
// help text, and the field it reads and writes with the text format of that
// field. A command builds its options, its INI reader and its INI writer
// from one table, so a key cannot be readable and not writable, or listed
// in --help and unknown to the file reader.
//
//   const std::vector<key<my_settings>> keys{
//       field<my_settings>("rate_hz", "input rate (Hz)", &my_settings::rate_hz, as_real),
//       field<my_settings>("seed", "master seed", &my_settings::seed, as_count),
//   };
//
// A field is reached by a member pointer or by a callable returning a
// reference to it (for nested fields: [](auto& s) -> auto& { return s.a.b; }).
// A format is a pair of functions: write(value) -> text, read(text, key) ->
// value; as_real, as_count, as_flag, as_text and as_reals cover the plain types, and
// named(write, read) an enumeration with its own names.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "apical/config/values.hpp"

namespace apical::config {

template <class Settings>
struct key {
  std::string name;
  std::string help;
  // Whether the value decides a result (must match when a run resumes)
  // rather than only how a run goes; the command gives it its meaning.
  bool identity = true;
  std::function<std::string(const Settings&)> get;
  // Reads `text` into the field; throws parameter_error naming `where` (the
  // key, or the file, line and key) and what was expected.
  std::function<void(Settings&, std::string_view text, std::string_view where)> set;

  // set() with the key's name as `where`.
  void assign(Settings& s, std::string_view text) const { set(s, text, name); }
};

template <class Write, class Read>
struct format {
  Write write;
  Read read;
};

template <class Write, class Read>
constexpr format<Write, Read> named(Write write, Read read) {
  return {write, read};
}

inline constexpr auto as_real =
    named([](double v) { return format_real(v); },
          [](std::string_view t, std::string_view k) { return parse_real(t, k); });
inline constexpr auto as_count =
    named([](std::uint64_t v) { return std::to_string(v); },
          [](std::string_view t, std::string_view k) { return parse_count(t, k); });
inline constexpr auto as_flag =
    named([](bool v) { return format_flag(v); },
          [](std::string_view t, std::string_view k) { return parse_flag(t, k); });
inline constexpr auto as_text = named([](const std::string& v) { return v; },
                                      [](std::string_view t, std::string_view) { return trim(t); });
inline constexpr auto as_reals =
    named([](const std::vector<double>& v) { return format_reals(v); },
          [](std::string_view t, std::string_view k) { return parse_reals(t, k); });

// The key `name` of the field `at` reaches, written and read with `f`
// (whose read gets the text without surrounding blanks, and `where`).
template <class Settings, class At, class Write, class Read>
key<Settings> field(std::string name, std::string help, At at, format<Write, Read> f,
                    bool identity = true) {
  return {std::move(name), std::move(help), identity,
          [at, f](const Settings& s) { return std::string(f.write(std::invoke(at, s))); },
          [at, f](Settings& s, std::string_view text, std::string_view where) {
            using value = std::remove_cvref_t<decltype(std::invoke(at, s))>;
            std::invoke(at, s) = static_cast<value>(f.read(trim(text), where));
          }};
}

// The names of `keys`, in table order.
template <class Settings>
std::vector<std::string_view> names(const std::vector<key<Settings>>& keys) {
  std::vector<std::string_view> out;
  for (const auto& k : keys) out.push_back(k.name);
  return out;
}

// The row named `name`, or nullptr.
template <class Settings>
const key<Settings>* find(const std::vector<key<Settings>>& keys, std::string_view name) {
  for (const auto& k : keys)
    if (k.name == name) return &k;
  return nullptr;
}

}  // namespace apical::config
