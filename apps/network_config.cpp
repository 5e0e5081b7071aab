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
                        kind != "input" && kind != "short_term"))
    throw parameter_error(
        fmt::format("{}: unknown section [{}]; expected [simulation], [population.NAME], "
                    "[projection.NAME], [input.NAME], [plasticity.NAME] or "
                    "[short_term.PROJECTION]",
                    where, section));
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
  for (const auto& p : spec.projections) {
    out += fmt::format("\n[projection.{}]\npre = {}\npost = {}\nrule = {}\n", p.name, p.pre, p.post,
                       p.rule);
    if (p.rule == "fixed_probability") out += fmt::format("p = {}\n", p.p);
    if (p.rule == "fixed_indegree" || p.rule == "fixed_outdegree")
      out += fmt::format("k = {}\n", p.k);
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
    out += fmt::format("\n[short_term.{}]\nU = {}\ntau_rec_ms = {}\ntau_facil_ms = {}\n"
                       "tau_psc_ms = {}\nu0 = {}\n",
                       p.projection, p.parameters.U, p.parameters.tau_rec_ms,
                       p.parameters.tau_facil_ms, p.parameters.tau_psc_ms, p.parameters.u0);
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

std::unique_ptr<network> build_network(const network_spec& spec, const model_registry& models,
                                       unsigned ranks, unsigned rank) {
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
      net->connect(p.name, pre, post, p.compartment,
                   make_generator(rule, pre.size(), post.size(), p.p, p.k,
                                  connection_options_of(p, &pre == &post),
                                  derive_seed(spec.seed, stream::connectivity, k),
                                  rank_block(post.size(), ranks, rank)));
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
