// `apical train` configurations as INI text (config.ini, --config, a
// checkpoint's stored copy) and the hash of their identity keys.
#include <fmt/format.h>

#include "apical/config/ini.hpp"
#include "apical/config/key_table.hpp"
#include "apical/config/values.hpp"
#include "apical/engine/error.hpp"
#include "apical/learning/checksum.hpp"
#include "train_config.hpp"

namespace apical::app {

std::string to_ini(const train_config& c) {
  std::string top, rate, circuit;
  const auto width = [](const std::string& s) { return s.size() < 22 ? 22 - s.size() : 1; };
  for (const auto& k : config_keys()) {
    const auto dot = k.name.find('.');
    const std::string name = dot == std::string::npos ? k.name : k.name.substr(dot + 1);
    const std::string line =
        fmt::format("{}{}= {}\n", name, std::string(width(name), ' '), k.get(c));
    if (dot == std::string::npos)
      top += line;
    else if (k.name.rfind("rate.", 0) == 0)
      rate += line;
    else
      circuit += line;
  }
  return "# apical train: the resolved configuration (apical train --config FILE reads it)\n" +
         top + "\n[rate]\n" + rate + "\n[microcircuit]\n" + circuit;
}

std::vector<std::pair<std::string, std::string>> identity_entries(const train_config& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : config_keys())
    if (k.identity) out.emplace_back(k.name, k.get(c));
  return out;
}

key_values read_ini_values(std::istream& in, const std::string& source) {
  key_values out;
  for (const auto& e : config::read_ini(in, source)) {
    // Keys of a [section] are named section.key, as on the command line.
    const std::string name = e.section.empty() ? e.key : e.section + "." + e.key;
    if (config::find(config_keys(), name) == nullptr)
      throw parameter_error(
          fmt::format("{}: unknown key '{}' on line {} (apical train --help lists the keys)",
                      source, name, e.line));
    if (!out.emplace(name, e.value).second)
      throw parameter_error(
          fmt::format("{}: '{}' is given a second time; expected each key once", e.where, name));
  }
  return out;
}

train_config resolve_config(const key_values& given) {
  const auto dataset = given.find("dataset");
  const auto algo = given.find("algo");
  train_config c = default_config(
      dataset == given.end() ? "mnist" : config::trim(dataset->second),
      algo == given.end() ? default_algo : parse_train_algo(config::trim(algo->second), "algo"));
  for (const auto& k : config_keys()) {
    const auto v = given.find(k.name);
    if (v != given.end()) k.assign(c, v->second);
  }
  return c;
}

std::uint64_t identity_hash(const train_config& c) {
  // Entries at the value a default-constructed train_config holds are left
  // out, so a key added later (at that value) leaves the hashes of existing
  // configurations, and so their checkpoints, valid.
  static const auto neutral = identity_entries(train_config{});
  const auto entries = identity_entries(c);
  std::uint64_t h = learning::fnv1a_basis;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& [k, v] = entries[i];
    if (v != neutral[i].second) h = learning::fnv1a(k + "=" + v + "\n", h);
  }
  return h;
}

}  // namespace apical::app
