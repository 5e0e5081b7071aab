#include "network_config.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "apical/config/ini.hpp"
#include "apical/config/key_table.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"

namespace apical::app {
namespace {

using config::as_count;
using config::as_flag;
using config::as_real;
using config::as_text;

constexpr auto as_optional_real = config::named(
    [](const std::optional<double>& v) { return v ? config::format_real(*v) : std::string(); },
    [](std::string_view t, std::string_view where) -> std::optional<double> {
      return config::parse_real(t, where);
    });
constexpr auto as_duration = config::named(
    [](double v) { return config::format_real(v); },
    [](std::string_view t, std::string_view where) {
      const double d = config::parse_real(t, where);
      if (!(d >= 0) || !std::isfinite(d))
        throw parameter_error(fmt::format("{}: must be finite and >= 0, got {}", where, t));
      return d;
    });
constexpr auto as_queue =
    config::named([](const std::string& v) { return v; },
                  [](std::string_view t, std::string_view where) {
                    try {
                      parse_queue_kind(t);
                    } catch (const parameter_error& e) {
                      throw parameter_error(fmt::format("{}: {}", where, e.what()));
                    }
                    return std::string(t);
                  });

// The fixed keys of [simulation], [projection.NAME] and [input.NAME].
const std::vector<config::key<network_spec>>& simulation_keys() {
  using s = network_spec;
  static const std::vector<config::key<network_spec>> keys{
      config::field<s>("duration_ms", "", &s::duration_ms, as_duration),
      config::field<s>("seed", "", &s::seed, as_count),
      config::field<s>("queue", "", &s::queue, as_queue),
  };
  return keys;
}

const std::vector<config::key<projection_spec>>& projection_keys() {
  using p = projection_spec;
  static const std::vector<config::key<projection_spec>> keys{
      config::field<p>("pre", "", &p::pre, as_text),
      config::field<p>("post", "", &p::post, as_text),
      config::field<p>("rule", "", &p::rule, as_text),
      config::field<p>("p", "", &p::p, as_real),
      config::field<p>("k", "", &p::k, as_count),
      config::field<p>("probability", "", &p::probability, as_text),
      config::field<p>("period", "", &p::period, config::as_reals),
      config::field<p>("weight", "", &p::weight, as_real),
      config::field<p>("weight_max", "", &p::weight_max, as_optional_real),
      config::field<p>("delay_ms", "", &p::delay_ms, as_real),
      config::field<p>("delay_max_ms", "", &p::delay_max_ms, as_optional_real),
      config::field<p>("compartment", "", &p::compartment, as_count),
      config::field<p>("autapses", "", &p::autapses, as_flag),
      config::field<p>("multapses", "", &p::multapses, as_flag),
  };
  return keys;
}

const std::vector<config::key<positions_spec>>& positions_keys() {
  using p = positions_spec;
  static const std::vector<config::key<positions_spec>> keys{
      config::field<p>("layout", "", &p::layout, as_text),
      config::field<p>("spacing", "", &p::spacing, as_real),
      config::field<p>("columns", "", &p::columns, as_count),
      config::field<p>("box", "", &p::box, config::as_reals),
      config::field<p>("file", "", &p::file, as_text),
      config::field<p>("points", "", &p::points, config::as_reals),
  };
  return keys;
}

const std::vector<config::key<input_spec>>& input_keys() {
  using i = input_spec;
  static const std::vector<config::key<input_spec>> keys{
      config::field<i>("target", "", &i::target, as_text),
      config::field<i>("rate_hz", "", &i::rate_hz, as_real),
      config::field<i>("weight", "", &i::weight, as_real),
      config::field<i>("compartment", "", &i::compartment, as_count),
      config::field<i>("start_ms", "", &i::start_ms, as_real),
      config::field<i>("stop_ms", "", &i::stop_ms, as_real),
  };
  return keys;
}

// Sets `key` of `target` from its table; `at` locates it for messages.
template <class Spec>
void set_from_table(const std::vector<config::key<Spec>>& keys, Spec& target,
                    const std::string& key, const std::string& value, const std::string& at) {
  const auto* k = config::find(keys, key);
  if (k == nullptr)
    throw parameter_error(
        fmt::format("{}: unknown key; known: {}", at, config::join(config::names(keys))));
  k->set(target, value, at);
}

// Sets `key` in a list of named values, keeping the first position of a key.
void set_named(std::vector<std::pair<std::string, double>>& values, const std::string& key,
               double value) {
  for (auto& [k, old] : values)
    if (k == key) {
      old = value;
      return;
    }
  values.emplace_back(key, value);
}

population_spec& population_named(network_spec& spec, const std::string& name) {
  for (auto& p : spec.populations)
    if (p.name == name) return p;
  spec.populations.push_back({name, "", 0, {}});
  return spec.populations.back();
}

projection_spec& projection_named(network_spec& spec, const std::string& name) {
  for (auto& p : spec.projections)
    if (p.name == name) return p;
  spec.projections.push_back({});
  spec.projections.back().name = name;
  return spec.projections.back();
}

input_spec& input_named(network_spec& spec, const std::string& name) {
  for (auto& p : spec.inputs)
    if (p.name == name) return p;
  spec.inputs.push_back({});
  spec.inputs.back().name = name;
  return spec.inputs.back();
}

plasticity_spec& plasticity_named(network_spec& spec, const std::string& name,
                                  const std::string& where) {
  for (auto& p : spec.plasticity)
    if (p.name == name) return p;
  spec.plasticity.push_back({name, "", "", {}, where});
  return spec.plasticity.back();
}

positions_spec& positions_named(network_spec& spec, const std::string& name,
                                const std::string& where) {
  for (auto& p : spec.positions)
    if (p.population == name) return p;
  spec.positions.push_back({});
  spec.positions.back().population = name;
  spec.positions.back().origin = where;
  return spec.positions.back();
}

// A relative file named in an INI file is relative to that file's folder
// (`where` is "FILE:LINE"; overrides from the command line keep it as is).
std::string beside(const std::string& path, const std::string& where) {
  const auto colon = where.rfind(':');
  if (path.empty() || path.front() == '/' || colon == std::string::npos) return path;
  const std::string ini = where.substr(0, colon);
  const auto slash = ini.rfind('/');
  return slash == std::string::npos ? path : ini.substr(0, slash + 1) + path;
}

short_term_spec& short_term_named(network_spec& spec, const std::string& name,
                                  const std::string& where) {
  for (auto& p : spec.short_term)
    if (p.projection == name) return p;
  spec.short_term.push_back({name, {}, where});
  return spec.short_term.back();
}

std::vector<std::string_view> rule_names(const learning::plasticity_registry& rules) {
  std::vector<std::string_view> names;
  for (const auto& r : rules.rules()) names.push_back(r.name);
  return names;
}

// Sets one key of one section; `where` locates it for messages.
void set_key(network_spec& spec, const std::string& section, const std::string& key,
             const std::string& value, const std::string& where) {
  const std::string at = fmt::format("{}: [{}] {}", where, section, key);
  if (section == "simulation") return set_from_table(simulation_keys(), spec, key, value, at);
  const auto dot = section.find('.');
  const std::string kind = section.substr(0, dot);
  const std::string name = dot == std::string::npos ? "" : section.substr(dot + 1);
  if (name.empty() || (kind != "population" && kind != "projection" && kind != "plasticity" &&
                       kind != "input" && kind != "short_term" && kind != "positions"))
    throw parameter_error(
        fmt::format("{}: unknown section [{}]; expected [simulation], [population.NAME], "
                    "[positions.POPULATION], [projection.NAME], [input.NAME], "
                    "[plasticity.NAME] or [short_term.PROJECTION]",
                    where, section));
  if (kind == "positions") {
    auto& p = positions_named(spec, name, where);
    set_from_table(positions_keys(), p, key, value, at);
    if (key == "file") p.file = beside(p.file, where);
    return;
  }
  if (kind == "short_term")
    return short_term_named(spec, name, where)
        .parameters.set(key, config::parse_real(value, at), at);
  if (kind == "input") return set_from_table(input_keys(), input_named(spec, name), key, value, at);
  if (kind == "projection")
    return set_from_table(projection_keys(), projection_named(spec, name), key, value, at);
  if (kind == "plasticity") {
    auto& p = plasticity_named(spec, name, where);
    if (key == "projection")
      p.projection = value;
    else if (key == "rule")
      p.rule = value;
    else  // checked against the rule by check_plasticity, once every key is known
      set_named(p.parameters, key, config::parse_real(value, at));
    return;
  }
  auto& p = population_named(spec, name);
  if (key == "model")
    p.model = value;
  else if (key == "size")
    p.size = config::parse_count(value, at);
  else  // checked against the model when built
    set_named(p.parameters, key, config::parse_real(value, at));
}

}  // namespace

network_spec parse_network_config(std::istream& in, const std::string& source) {
  network_spec spec;
  for (const auto& e : config::read_ini(in, source)) {
    if (e.section.empty())
      throw parameter_error(fmt::format("{}: key outside of any [section]", e.where));
    set_key(spec, e.section, e.key, e.value, e.where);
  }
  return spec;
}

network_spec load_network_config(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw file_error(fmt::format("{}: cannot open the network configuration", file));
  return parse_network_config(in, file);
}

void apply_override(network_spec& spec, const std::string& assignment) {
  const auto eq = assignment.find('=');
  const auto last_dot = assignment.rfind('.', eq);
  if (eq == std::string::npos || last_dot == std::string::npos || last_dot == 0)
    throw parameter_error(fmt::format(
        "--set '{}': expected section.key=value, e.g. population.E.tau_m_ms=10", assignment));
  set_key(spec, config::trim(assignment.substr(0, last_dot)),
          config::trim(assignment.substr(last_dot + 1, eq - last_dot - 1)),
          config::trim(assignment.substr(eq + 1)), "--set");
}

namespace {

std::string write_ini(const network_spec& spec, const model_registry& models,
                      const learning::plasticity_registry* rules) {
  std::string out;
  out += fmt::format("[simulation]\nduration_ms = {}\nseed = {}\nqueue = {}\n", spec.duration_ms,
                     spec.seed, spec.queue);
  for (const auto& p : spec.populations) {
    out += fmt::format("\n[population.{}]\nmodel = {}\nsize = {}\n", p.name, p.model, p.size);
    // Every parameter of the model, resolved (defaults included).
    auto pop = models.make(p.model, p.name, 1);
    pop->set_parameters(p.parameters);
    for (auto name : pop->parameter_names())
      out += fmt::format("{} = {}\n", name, pop->parameter(name));
  }
  for (const auto& p : spec.positions) {
    out += fmt::format("\n[positions.{}]\nlayout = {}\n", p.population, p.layout);
    if (p.layout == "line" || p.layout == "grid") out += fmt::format("spacing = {}\n", p.spacing);
    if (p.layout == "grid") out += fmt::format("columns = {}\n", p.columns);
    if (p.layout == "box") out += fmt::format("box = {}\n", config::format_reals(p.box));
    if (p.layout == "file") out += fmt::format("file = {}\n", p.file);
    if (p.layout == "points") out += fmt::format("points = {}\n", config::format_reals(p.points));
  }
  for (const auto& p : spec.projections) {
    out += fmt::format("\n[projection.{}]\npre = {}\npost = {}\nrule = {}\n", p.name, p.pre, p.post,
                       p.rule);
    if (p.rule == "fixed_probability") out += fmt::format("p = {}\n", p.p);
    if (p.rule == "fixed_indegree" || p.rule == "fixed_outdegree")
      out += fmt::format("k = {}\n", p.k);
    if (p.rule == "distance_dependent") {
      out += fmt::format("probability = {}\n", p.probability);
      if (!p.period.empty()) out += fmt::format("period = {}\n", config::format_reals(p.period));
    }
    out += fmt::format("weight = {}\n", p.weight);
    if (p.weight_max) out += fmt::format("weight_max = {}\n", *p.weight_max);
    out += fmt::format("delay_ms = {}\n", p.delay_ms);
    if (p.delay_max_ms) out += fmt::format("delay_max_ms = {}\n", *p.delay_max_ms);
    out += fmt::format("compartment = {}\nautapses = {}\nmultapses = {}\n", p.compartment,
                       p.autapses, p.multapses);
  }
  for (const auto& p : spec.inputs)
    out += fmt::format(
        "\n[input.{}]\ntarget = {}\nrate_hz = {}\nweight = {}\ncompartment = {}\nstart_ms = {}\n"
        "stop_ms = {}\n",
        p.name, p.target, p.rate_hz, p.weight, p.compartment, p.start_ms, p.stop_ms);
  for (const auto& p : spec.plasticity) {
    out += fmt::format("\n[plasticity.{}]\nprojection = {}\nrule = {}\n", p.name, p.projection,
                       p.rule);
    auto given = p.parameters;
    const auto emit_given = [&out, &given](std::string_view name) {
      for (auto it = given.begin(); it != given.end(); ++it)
        if (it->first == name) {
          out += fmt::format("{} = {}\n", it->first, it->second);
          given.erase(it);
          return true;
        }
      return false;
    };
    // Every parameter of the rule, in the order of its table, defaults
    // included; then any the rule does not know (check_plasticity rejects
    // them, but the text shows what was given).
    if (rules != nullptr && rules->contains(p.rule))
      for (const auto& r : rules->rules())
        if (r.name == p.rule)
          for (const auto& f : r.parameters)
            if (!emit_given(f.name) && !f.required)
              out += fmt::format("{} = {}\n", f.name, f.default_value);
    for (const auto& [name, value] : given) out += fmt::format("{} = {}\n", name, value);
  }
  for (const auto& p : spec.short_term)
    out += fmt::format(
        "\n[short_term.{}]\nU = {}\ntau_rec_ms = {}\ntau_facil_ms = {}\n"
        "tau_psc_ms = {}\nu0 = {}\n",
        p.projection, p.parameters.U, p.parameters.tau_rec_ms, p.parameters.tau_facil_ms,
        p.parameters.tau_psc_ms, p.parameters.u0);
  return out;
}

}  // namespace

std::string to_ini(const network_spec& spec, const model_registry& models) {
  return write_ini(spec, models, nullptr);
}

std::string to_ini(const network_spec& spec, const model_registry& models,
                   const learning::plasticity_registry& rules) {
  return write_ini(spec, models, &rules);
}

connection_options connection_options_of(const projection_spec& p, bool same_population) {
  connection_options o;
  o.weight =
      p.weight_max ? value_spec::uniform(p.weight, *p.weight_max) : value_spec::constant(p.weight);
  o.delay_ms = p.delay_max_ms ? value_spec::uniform(p.delay_ms, *p.delay_max_ms)
                              : value_spec::constant(p.delay_ms);
  o.autapses = p.autapses;
  o.multapses = p.multapses;
  o.same_population = same_population;
  return o;
}

namespace {

// Reads `size` positions from a CSV file: one "x, y, z" line per neuron;
// blank lines and lines starting with '#' are skipped.
std::vector<position> read_positions(const std::string& file, std::size_t size,
                                     const std::string& where) {
  std::ifstream in(file);
  if (!in) throw file_error(fmt::format("{}: cannot open the positions file '{}'", where, file));
  std::vector<position> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    const std::string text = config::trim(line);
    if (text.empty() || text.front() == '#') continue;
    const std::string at = fmt::format("{}:{}", file, n);
    std::vector<double> xyz;
    try {
      xyz = config::parse_reals(text, at);
    } catch (const parameter_error& e) {
      throw file_error(e.what());
    }
    if (xyz.size() != 3)
      throw file_error(fmt::format("{}: expected x, y, z (3 numbers), got {}", at, xyz.size()));
    if (out.size() == size)
      throw file_error(fmt::format("{}: more positions than the {} neurons", at, size));
    out.push_back({xyz[0], xyz[1], xyz[2]});
  }
  if (out.size() != size)
    throw file_error(fmt::format("{}: {} positions for the {} neurons of the population", file,
                                 out.size(), size));
  return out;
}

}  // namespace

std::vector<position> positions_of(const network_spec& spec, const std::string& population,
                                   std::size_t size) {
  const auto it = std::find_if(spec.positions.begin(), spec.positions.end(),
                               [&](const auto& p) { return p.population == population; });
  if (it == spec.positions.end())
    throw parameter_error(
        fmt::format("population '{}' has no positions; give them in a [positions.{}] section",
                    population, population));
  const auto& p = *it;
  const std::string where = fmt::format("{}: [positions.{}]", p.origin, population);
  std::vector<position> out(size);
  if (p.layout == "line" || p.layout == "grid") {
    if (!(p.spacing > 0) || !std::isfinite(p.spacing))
      throw parameter_error(
          fmt::format("{} spacing: expected a finite value > 0, got {}", where, p.spacing));
    std::size_t columns = p.layout == "line" ? size : p.columns;
    if (columns == 0)
      while (columns * columns < size) ++columns;
    for (std::size_t i = 0; i < size; ++i)
      out[i] = {p.spacing * static_cast<double>(i % columns),
                p.spacing * static_cast<double>(i / columns), 0.0};
  } else if (p.layout == "box") {
    if (p.box.size() != 3 || std::any_of(p.box.begin(), p.box.end(),
                                         [](double x) { return !(x >= 0) || !std::isfinite(x); }))
      throw parameter_error(
          fmt::format("{} box: expected three finite extents >= 0 (x, y, z)", where));
    const auto at = std::find_if(spec.populations.begin(), spec.populations.end(),
                                 [&](const auto& q) { return q.name == population; });
    rng r(derive_seed(spec.seed, stream::positions,
                      static_cast<std::uint64_t>(at - spec.populations.begin())));
    for (auto& x : out)
      for (std::size_t a = 0; a < 3; ++a) x[a] = p.box[a] * r.uniform();
  } else if (p.layout == "file") {
    out = read_positions(p.file, size, where);
  } else if (p.layout == "points") {
    if (p.points.size() != 3 * size)
      throw parameter_error(
          fmt::format("{} points: expected x, y, z for each of the {} neurons "
                      "({} numbers), got {}",
                      where, size, 3 * size, p.points.size()));
    for (std::size_t i = 0; i < size; ++i)
      out[i] = {p.points[3 * i], p.points[3 * i + 1], p.points[3 * i + 2]};
  } else {
    throw parameter_error(fmt::format(
        "{} layout: expected line, grid, box, file or points, got '{}'", where, p.layout));
  }
  return out;
}

expression probability_of(const projection_spec& p) {
  if (config::trim(p.probability).empty())
    throw parameter_error(
        "'probability' is missing: an expression of the distance d, e.g. exp(-d / 100)");
  return expression(p.probability, "d");
}

metric_space space_of(const projection_spec& p) {
  metric_space space;
  if (p.period.empty()) return space;
  if (p.period.size() != 3)
    throw parameter_error(
        fmt::format("period: expected one length per axis (x, y, z; 0 for an "
                    "axis that does not wrap), got {} values",
                    p.period.size()));
  for (std::size_t a = 0; a < 3; ++a)
    if (p.period[a] != 0) space.period[a] = p.period[a];
  return space;
}

std::unique_ptr<network> build_network(const network_spec& spec, const model_registry& models,
                                       unsigned ranks, unsigned rank) {
  for (const auto& p : spec.positions)
    if (std::none_of(spec.populations.begin(), spec.populations.end(),
                     [&](const auto& q) { return q.name == p.population; }))
      throw parameter_error(fmt::format("{}: [positions.{}]: no population named '{}'", p.origin,
                                        p.population, p.population));
  auto net = std::make_unique<network>();
  net->distribute(ranks, rank);
  for (const auto& p : spec.populations) {
    const std::string where = fmt::format("[population.{}]", p.name);
    if (p.model.empty()) throw parameter_error(where + ": 'model' is missing");
    if (p.size == 0) throw parameter_error(where + ": 'size' is missing or 0");
    std::unique_ptr<population> pop;
    try {
      pop = models.make(p.model, p.name, p.size);
      pop->set_parameters(p.parameters);
    } catch (const parameter_error& e) {
      throw parameter_error(where + ": " + e.what());
    }
    net->add(std::move(pop));
  }
  for (std::size_t k = 0; k < spec.projections.size(); ++k) {
    const auto& p = spec.projections[k];
    const std::string where = fmt::format("[projection.{}]", p.name);
    try {
      if (p.pre.empty() || p.post.empty()) throw parameter_error("'pre' and 'post' are required");
      const auto& pre = net->pop(p.pre);
      const auto& post = net->pop(p.post);
      const auto rule = parse_connection_rule(p.rule);
      const auto seed = derive_seed(spec.seed, stream::connectivity, k);
      const auto o = connection_options_of(p, &pre == &post);
      if (rule == connection_rule::distance_dependent) {
        const auto a = positions_of(spec, p.pre, pre.size());
        const auto b = &pre == &post ? a : positions_of(spec, p.post, post.size());
        net->connect(p.name, pre, post, p.compartment,
                     distance_dependent(a, b, probability_of(p), space_of(p), o, seed,
                                        rank_block(post.size(), ranks, rank)));
      } else {
        net->connect(p.name, pre, post, p.compartment,
                     make_generator(rule, pre.size(), post.size(), p.p, p.k, o, seed,
                                    rank_block(post.size(), ranks, rank)));
      }
    } catch (const parameter_error& e) {
      throw parameter_error(where + ": " + e.what());
    }
  }
  for (const auto& p : spec.inputs) {
    const std::string where = fmt::format("[input.{}]", p.name);
    try {
      if (p.target.empty()) throw parameter_error("'target' is missing");
      poisson_input in;
      in.name = p.name;
      in.population = net->pop(p.target).id();
      in.compartment = p.compartment;
      in.rate_hz = p.rate_hz;
      in.weight = static_cast<float>(p.weight);
      in.start_ms = p.start_ms;
      in.stop_ms = p.stop_ms;
      net->add_poisson_input(std::move(in));
    } catch (const parameter_error& e) {
      throw parameter_error(where + ": " + e.what());
    }
  }
  return net;
}

namespace {
// The id of the built network's projection `name`; projection_count() if none.
std::size_t projection_id(const network& net, std::string_view name) {
  std::size_t id = 0;
  while (id < net.projection_count() && net.proj(id).name() != name) ++id;
  return id;
}
}  // namespace

void apply_short_term(network& net, const network_spec& spec) {
  for (const auto& p : spec.short_term) {
    const std::string where = fmt::format("{}: [short_term.{}]", p.origin, p.projection);
    const std::size_t id = projection_id(net, p.projection);
    if (id == net.projection_count())
      throw parameter_error(
          fmt::format("{}: the network has no projection '{}'", where, p.projection));
    p.parameters.validate(where);
    net.proj(id).set_short_term(p.parameters);
  }
}

void check_plasticity(const network_spec& spec, const learning::plasticity_registry& rules,
                      std::span<const std::string> other_projections) {
  for (std::size_t i = 0; i < spec.plasticity.size(); ++i) {
    const auto& p = spec.plasticity[i];
    const std::string section = fmt::format("{}: [plasticity.{}]", p.origin, p.name);
    if (p.projection.empty())
      throw parameter_error(section +
                            ": 'projection' is missing; expected the NAME of a [projection.NAME]");
    const auto proj = std::find_if(spec.projections.begin(), spec.projections.end(),
                                   [&p](const auto& q) { return q.name == p.projection; });
    const bool other = std::find(other_projections.begin(), other_projections.end(),
                                 p.projection) != other_projections.end();
    if (proj == spec.projections.end() && !other) {
      std::vector<std::string_view> known;
      for (const auto& q : spec.projections) known.push_back(q.name);
      for (const auto& q : other_projections) known.push_back(q);
      throw parameter_error(
          fmt::format("{} projection: no [projection.{}] in this "
                      "configuration; expected one of: {}",
                      section, p.projection, config::join(known)));
    }
    for (std::size_t e = 0; e < i; ++e)
      if (spec.plasticity[e].projection == p.projection)
        throw parameter_error(fmt::format(
            "{} projection: '{}' is already plastic under [plasticity.{}]; expected at most "
            "one rule per projection",
            section, p.projection, spec.plasticity[e].name));
    if (p.rule.empty())
      throw parameter_error(fmt::format("{}: 'rule' is missing; expected one of: {}", section,
                                        config::join(rule_names(rules))));
    if (!rules.contains(p.rule))
      throw parameter_error(
          fmt::format("{} rule: unknown plasticity rule '{}'; expected one of: {}", section, p.rule,
                      config::join(rule_names(rules))));
    try {
      rules.validate(p.rule, p.parameters);
    } catch (const parameter_error& e) {
      // The registry's message names the rule and the parameter (the key).
      throw parameter_error(fmt::format("{}: {}", section, e.what()));
    }
  }
}

std::vector<std::unique_ptr<learning::plastic_projection_base>> attach_plasticity(
    simulator& sim, const network_spec& spec, const learning::plasticity_registry& rules,
    std::span<const std::string> other_projections) {
  check_plasticity(spec, rules, other_projections);
  const auto& net = sim.net();
  std::vector<std::unique_ptr<learning::plastic_projection_base>> out;
  for (const auto& p : spec.plasticity) {
    const std::size_t id = projection_id(net, p.projection);
    if (id == net.projection_count())
      throw parameter_error(fmt::format(
          "{}: [plasticity.{}] projection: the simulated network has no projection '{}'", p.origin,
          p.name, p.projection));
    try {
      out.push_back(rules.make(sim, id, p.rule, p.parameters));
    } catch (const parameter_error& e) {
      throw parameter_error(fmt::format("{}: [plasticity.{}]: {}", p.origin, p.name, e.what()));
    }
  }
  return out;
}

}  // namespace apical::app
