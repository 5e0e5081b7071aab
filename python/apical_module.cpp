// apical._apical: the compiled part of the Python module. A Network holds
// the same description `apical simulate` reads from an INI file
// (network_config.hpp's network_spec); it is built, with the command line's
// code, at the first run, and run in C++ with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "apical/engine/checkpoint.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/files.hpp"
#include "apical/engine/plugin.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "apical/learning/plasticity/plasticity.hpp"
#include "apical/learning/plasticity/plasticity_checkpoint.hpp"
#include "apical/learning/plasticity/stdp.hpp"
#include "apical/models/builtin.hpp"
#include "network_config.hpp"
#include "presets.hpp"
#include "python_training.hpp"
#include "run_resources.hpp"
#include "spike_files.hpp"
#include "synapse_lists.hpp"

namespace py = pybind11;

namespace apical::python {
namespace {

using app::network_spec;

// The models and plasticity rules every Network uses: the built-in ones and
// those of the plugins loaded. Never destroyed, so that plugin code outlives
// every population made from it whatever order the interpreter frees things
// in at exit.
struct registries {
  model_registry models;
  learning::plasticity_registry rules;
  std::vector<plugin_library> plugins;
};

registries& shared() {
  static registries* r = [] {
    auto* made = new registries;
    models::register_builtin(made->models);
    learning::register_stdp(made->rules);
    return made;
  }();
  return *r;
}

// Raises `type` with `message` (an exception pybind11 passes on as it is).
[[noreturn]] void raise(PyObject* type, const std::string& message) {
  PyErr_SetString(type, message.c_str());
  throw py::error_already_set();
}

// Calls f(); a file_error about `file` becomes FileNotFoundError when the
// file does not exist (the message is the command line's).
template <class F>
auto reading(const std::filesystem::path& file, F&& f) {
  try {
    return f();
  } catch (const file_error& e) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) raise(PyExc_FileNotFoundError, e.what());
    throw;
  }
}

// A notice of the command line's thread choice, in the words of run()'s
// keywords ("--threads 4" -> "threads=4", "--force-threads" ->
// "force_threads=True").
std::string in_keywords(std::string notice) {
  const auto replace_all = [&notice](std::string_view from, std::string_view to) {
    for (auto at = notice.find(from); at != std::string::npos;
         at = notice.find(from, at + to.size()))
      notice.replace(at, from.size(), to);
  };
  replace_all("--force-threads", "force_threads=True");
  replace_all("--threads ", "threads=");
  return notice;
}

void warn(const std::string& message) {
  if (PyErr_WarnEx(PyExc_RuntimeWarning, message.c_str(), 2) != 0) throw py::error_already_set();
}

double number(const py::handle& value, const std::string& what) {
  try {
    return value.cast<double>();
  } catch (const py::cast_error&) {
    raise(PyExc_TypeError, fmt::format("{}: expected a number, got {}", what,
                                       std::string(py::str(py::type::of(value).attr("__name__")))));
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A population of a Network, by name (what connect() and the recorders take).
struct population_ref {
  std::string name;
  std::size_t size = 0;
  std::string model;
};

struct spike_request {
  std::string population;
};
struct state_request {
  std::string population, variable;
  std::vector<std::uint32_t> neurons;
  double interval_ms = 0.1;
  std::size_t recorder = 0;  // the simulator's, once built
};

class py_network;

constexpr std::string_view python_magic = "APICALPY";

class spike_recording {
 public:
  spike_recording(std::shared_ptr<py_network> net, std::string population)
      : net_(std::move(net)), population_(std::move(population)) {}
  const std::string& population() const { return population_; }
  py::array_t<double> times_ms() const;
  py::array_t<std::int64_t> ids() const;
  std::size_t size() const;

 private:
  std::shared_ptr<py_network> net_;
  std::string population_;
};

class state_recording {
 public:
  state_recording(std::shared_ptr<py_network> net, std::size_t request)
      : net_(std::move(net)), request_(request) {}
  py::array_t<double> times_ms() const;
  py::array_t<double> values() const;
  py::array_t<std::int64_t> neurons() const;
  std::string variable() const;
  std::string population() const;

 private:
  std::shared_ptr<py_network> net_;
  std::size_t request_;
};

class py_network : public std::enable_shared_from_this<py_network> {
 public:
  explicit py_network(network_spec spec) : spec_(std::move(spec)) {}

  // --- description ---------------------------------------------------------
  population_ref add_population(const std::string& name, std::size_t size, const std::string& model,
                                const py::kwargs& params) {
    check_unbuilt("population");
    app::population_spec p{name, model, size, {}};
    for (const auto& [key, value] : params) {
      const auto k = py::str(key).cast<std::string>();
      p.parameters.emplace_back(k, number(value, fmt::format("[population.{}] {}", name, k)));
    }
    // The checks of the command line's build, on one neuron: unknown model,
    // unknown or invalid parameters, size 0.
    network_spec one;
    one.populations.push_back(p);
    if (one.populations.back().size > 0) one.populations.back().size = 1;
    app::build_network(one, shared().models);
    for (const auto& q : spec_.populations)
      if (q.name == name)
        raise(PyExc_ValueError,
              fmt::format("[population.{}]: a population of this name exists already", name));
    spec_.populations.push_back(std::move(p));
    return ref(spec_.populations.back());
  }

  void set_positions(
      const py::object& population, std::optional<std::string> layout,
      std::optional<py::array_t<double, py::array::c_style | py::array::forcecast>> points,
      double spacing, std::size_t columns, std::optional<std::vector<double>> box,
      std::optional<std::string> file) {
    check_unbuilt("positions");
    const auto name = population_name(population);
    const auto& pop = find(name);
    app::positions_spec s;
    s.population = name;
    s.origin = "Network.positions";
    if (points) {
      if (layout && *layout != "points")
        raise(PyExc_TypeError, "positions(): give points= or a layout, not both");
      if (points->ndim() != 2 || points->shape(1) != 3)
        raise(PyExc_ValueError, fmt::format("[positions.{}] points: expected an array of shape "
                                            "(n, 3), one row per neuron",
                                            name));
      s.layout = "points";
      s.points.assign(points->data(), points->data() + points->size());
    } else {
      if (!layout)
        raise(PyExc_TypeError,
              "positions(): give a layout (line, grid, box, file) or points= (an (n, 3) array)");
      s.layout = *layout;
    }
    s.spacing = spacing;
    s.columns = columns;
    if (box) s.box = *box;
    if (file) s.file = *file;
    if (s.layout == "file" && s.file.empty())
      raise(PyExc_TypeError, "positions(layout='file'): give file=");
    // Checked as the build reads them (a file is read here too): the
    // populations and seed of the description, with this section alone.
    network_spec trial;
    trial.seed = spec_.seed;
    trial.populations = spec_.populations;
    trial.positions.push_back(s);
    app::positions_of(trial, name, pop.size);
    std::erase_if(spec_.positions, [&](const auto& q) { return q.population == name; });
    spec_.positions.push_back(std::move(s));
  }

  py::array_t<double> positions_array(const py::object& population) const {
    const auto name = population_name(population);
    const auto at = app::positions_of(spec_, name, find(name).size);
    py::array_t<double> out({static_cast<py::ssize_t>(at.size()), py::ssize_t{3}});
    auto v = out.mutable_unchecked<2>();
    for (std::size_t i = 0; i < at.size(); ++i)
      for (std::size_t a = 0; a < 3; ++a)
        v(static_cast<py::ssize_t>(i), static_cast<py::ssize_t>(a)) = at[i][a];
    return out;
  }

  std::string add_projection(const py::object& pre, const py::object& post, const std::string& rule,
                             std::optional<double> p, std::optional<std::size_t> k,
                             std::optional<double> weight, std::optional<double> weight_mv,
                             std::optional<double> weight_max, double delay_ms,
                             std::optional<double> delay_max_ms, int compartment, bool autapses,
                             bool multapses, std::optional<std::string> name,
                             std::optional<std::string> probability,
                             std::optional<std::vector<double>> period) {
    check_unbuilt("connect");
    if (weight && weight_mv)
      raise(PyExc_TypeError, "connect(): give weight or weight_mv (the same), not both");
    const app::projection_spec defaults;
    const auto pre_name = population_name(pre), post_name = population_name(post);
    const app::projection_spec s{.name = name ? *name : pre_name + post_name,
                                 .pre = pre_name,
                                 .post = post_name,
                                 .rule = rule,
                                 .p = p.value_or(defaults.p),
                                 .k = k.value_or(defaults.k),
                                 .probability = probability.value_or(""),
                                 .period = period.value_or(std::vector<double>{}),
                                 .weight = weight_mv.value_or(weight.value_or(defaults.weight)),
                                 .weight_max = weight_max,
                                 .delay_ms = delay_ms,
                                 .delay_max_ms = delay_max_ms,
                                 .compartment = compartment,
                                 .autapses = autapses,
                                 .multapses = multapses};
    check_new_projection_name(s.name);
    spec_.projections.push_back(s);
    // The rule and its parameters, checked as the build checks them, without
    // drawing a synapse.
    try {
      app::estimate_memory(spec_, shared().models, {});
    } catch (...) {
      spec_.projections.pop_back();
      throw;
    }
    return s.name;
  }

  std::string add_poisson_input(const py::object& target, double rate_hz, double weight,
                                int compartment, double start_ms, double stop_ms,
                                std::optional<std::string> name) {
    check_unbuilt("poisson_input");
    app::input_spec in;
    in.target = population_name(target);
    in.name = name ? *name : "ext_" + in.target;
    in.rate_hz = rate_hz;
    in.weight = weight;
    in.compartment = compartment;
    in.start_ms = start_ms;
    in.stop_ms = stop_ms;
    spec_.inputs.push_back(std::move(in));
    return spec_.inputs.back().name;
  }

  void add_plasticity(const std::string& projection, const std::string& rule,
                      const py::kwargs& params) {
    check_unbuilt("plasticity");
    app::plasticity_spec s;
    s.name = projection;
    s.projection = projection;
    s.rule = rule;
    s.origin = "Network.plasticity";
    for (const auto& [key, value] : params) {
      const auto k = py::str(key).cast<std::string>();
      s.parameters.emplace_back(k, number(value, fmt::format("[plasticity.{}] {}", projection, k)));
    }
    spec_.plasticity.push_back(std::move(s));
    try {
      app::check_plasticity(spec_, shared().rules, list_names());
    } catch (...) {
      spec_.plasticity.pop_back();
      throw;
    }
  }

  void add_short_term(const std::string& projection, const py::kwargs& params) {
    check_unbuilt("short_term");
    const bool known = std::any_of(spec_.projections.begin(), spec_.projections.end(),
                                   [&](const auto& p) { return p.name == projection; }) ||
                       std::any_of(lists_.begin(), lists_.end(),
                                   [&](const auto& p) { return p.name == projection; });
    const std::string where = fmt::format("[short_term.{}]", projection);
    if (!known) raise(PyExc_KeyError, fmt::format("{}: no projection '{}'", where, projection));
    app::short_term_spec s{projection, {}, "Network.short_term"};
    for (const auto& [key, value] : params) {
      const auto k = py::str(key).cast<std::string>();
      s.parameters.set(k, number(value, fmt::format("{} {}", where, k)), where);
    }
    s.parameters.validate(where);
    std::erase_if(spec_.short_term, [&](const auto& e) { return e.projection == projection; });
    spec_.short_term.push_back(std::move(s));
  }

  // Synapses given as arrays (apical.pynn's lists and rules over parts of
  // populations); frozen at the build, after the projections of the
  // description, as projection `name`.
  std::string add_synapses(const py::object& pre, const py::object& post,
                           const py::array_t<std::int64_t>& pre_ids,
                           const py::array_t<std::int64_t>& post_ids,
                           const py::array_t<double>& weights, const py::array_t<double>& delays_ms,
                           int compartment, const std::string& name) {
    check_unbuilt("connect_synapses");
    check_new_projection_name(name);
    const auto& a = find(population_name(pre));
    const auto& b = find(population_name(post));
    lists_.push_back({name, a.name, b.name, compartment,
                      synapses_from_arrays(pre_ids, post_ids, weights, delays_ms, a.size, b.size,
                                           fmt::format("connect_synapses '{}'", name))});
    return name;
  }

  // The spike times neuron i of a spike_time_source population replays.
  void set_spike_times(const py::object& pop, const std::vector<std::vector<double>>& trains) {
    check_unbuilt("set_spike_times");
    const auto& p = find(population_name(pop));
    if (p.model != "spike_time_source")
      raise(PyExc_ValueError, fmt::format("set_spike_times: population '{}' has model '{}'; "
                                          "expected spike_time_source",
                                          p.name, p.model));
    if (trains.size() != p.size)
      raise(PyExc_ValueError, fmt::format("set_spike_times '{}': {} spike trains for {} neurons",
                                          p.name, trains.size(), p.size));
    auto raster = std::make_shared<spike_raster>();
    for (const auto& t : trains) raster->add_channel(t);
    spike_time_source::derive({raster});  // the times' checks, now
    rasters_.emplace_back(p.name, std::move(raster));
  }

  // Replaces the weights of a built projection (one per synapse, in the
  // order connections() gives them).
  void set_weights(const std::string& projection, const py::array_t<double>& weights) {
    auto& proj = built_projection(projection, "set_weights");
    if (weights.ndim() != 1 || static_cast<std::size_t>(weights.shape(0)) != proj.size())
      raise(PyExc_ValueError, fmt::format("set_weights '{}': expected {} weights, got {}",
                                          projection, proj.size(), weights.size()));
    for (const auto& p : plastic_)
      if (p->projection_id() == proj.id())
        raise(PyExc_RuntimeError,
              fmt::format("set_weights '{}': the projection is plastic", projection));
    const auto w = weights.unchecked<1>();
    auto out = proj.weights();
    for (std::size_t k = 0; k < out.size(); ++k) {
      const double v = w(static_cast<py::ssize_t>(k));
      if (!std::isfinite(v))
        raise(PyExc_ValueError, fmt::format("set_weights '{}': weight {} is {}", projection, k, v));
      out[k] = static_cast<float>(v);
    }
  }

  void set(const std::string& assignment) {
    check_unbuilt("set");
    app::apply_override(spec_, assignment);
  }

  std::shared_ptr<spike_recording> record_spikes(const py::object& pop) {
    const auto name = population_name(pop);
    // A built network (a restored one) gives back what it records.
    if (!sim_ || std::none_of(spikes_.begin(), spikes_.end(),
                              [&](const spike_request& r) { return r.population == name; })) {
      check_unbuilt("record_spikes");
      spikes_.push_back({name});
    }
    return std::make_shared<spike_recording>(shared_from_this(), name);
  }

  std::shared_ptr<state_recording> record_state(const py::object& pop, const std::string& variable,
                                                std::optional<std::vector<std::uint32_t>> neurons,
                                                double interval_ms) {
    state_request r;
    r.population = population_name(pop);
    r.variable = variable;
    r.interval_ms = interval_ms;
    if (neurons) {
      r.neurons = *neurons;
    } else {
      const auto size = find(r.population).size;
      for (std::uint32_t i = 0; i < std::min<std::size_t>(10, size); ++i) r.neurons.push_back(i);
    }
    // A built network (a restored one) gives back what it samples.
    for (std::size_t k = 0; sim_ && k < states_.size(); ++k)
      if (states_[k].population == r.population && states_[k].variable == r.variable &&
          states_[k].neurons == r.neurons && states_[k].interval_ms == r.interval_ms)
        return std::make_shared<state_recording>(shared_from_this(), k);
    check_unbuilt("record_state");
    states_.push_back(std::move(r));
    return std::make_shared<state_recording>(shared_from_this(), states_.size() - 1);
  }

  // --- running ---------------------------------------------------------------
  py::dict run(std::optional<double> duration, unsigned threads, const std::string& delivery,
               bool force_threads, bool memory_check) {
    const double duration_ms = duration ? *duration : spec_.duration_ms;
    if (!(duration_ms >= 0) || !std::isfinite(duration_ms))
      raise(PyExc_ValueError,
            fmt::format("run: duration_ms must be finite and >= 0 ms, got {}", duration_ms));
    if (threads == 0) raise(PyExc_ValueError, "run: threads must be >= 1");
    if (!sim_) {
      build(threads, delivery, force_threads, memory_check);
    } else if (threads != requested_threads_) {
      raise(PyExc_ValueError,
            fmt::format("run: threads={}: the network was built for threads={} at its first run "
                        "(the spikes do not depend on it)",
                        threads, requested_threads_));
    }
    const auto before = sim_->counters();
    const auto t0 = std::chrono::steady_clock::now();
    advance(sim_->now().count() + duration_ms);
    const double sim_s = seconds_since(t0);
    const auto after = sim_->counters();
    py::dict d;
    d["neurons"] = net_->neurons();
    d["synapses"] = net_->synapses();
    d["spikes"] = after.spikes - before.spikes;
    d["time_ms"] = sim_->now().count();
    d["duration_ms"] = duration_ms;
    d["seed"] = spec_.seed;
    d["queue"] = spec_.queue;
    d["threads"] = threads_;
    d["delivery"] = sim_->path() == delivery_path::windowed ? "windowed" : "ordered";
    d["build_s"] = build_s_;
    d["sim_s"] = sim_s;
    const auto events = after.synaptic_events - before.synaptic_events;
    d["synaptic_events"] = events;
    d["poisson_input_events"] = after.drive_inputs - before.drive_inputs;
    d["events_per_s"] = static_cast<double>(events) / std::max(sim_s, 1e-12);
    return d;
  }

  // Builds the network now (run() does it at the first run); the seconds it took.
  double build_now(unsigned threads, const std::string& delivery, bool force_threads,
                   bool memory_check) {
    if (threads == 0) raise(PyExc_ValueError, "build: threads must be >= 1");
    if (!sim_) build(threads, delivery, force_threads, memory_check);
    return build_s_;
  }

  void write_spikes(const std::string& file, const std::string& format) {
    const auto f = app::parse_spikes_format(format, "write_spikes format");
    if (!recorder_)
      raise(PyExc_RuntimeError,
            "write_spikes: nothing recorded yet (record_spikes() before the first run)");
    const auto pops = recorded_populations();
    std::vector<recorded_spike> spikes;
    for (const auto& s : recorder_->spikes())
      if (std::binary_search(pops.begin(), pops.end(), std::size_t{s.population}))
        spikes.push_back(s);
    if (f == app::spikes_format::csv)
      write_spikes_csv(file, *net_, spikes);
    else
      app::write_spikes_sonata(file, *net_, spikes, pops);
  }

  // pre, post, weight (and delay_ms) of every synapse of a projection; the
  // plastic weights where a rule is attached.
  py::dict connections(const std::string& projection) const {
    const auto& proj = built_projection(projection, "connections");
    const auto id = proj.id();
    const auto n = proj.size();
    py::array_t<std::int64_t> pre(static_cast<py::ssize_t>(n)), post(static_cast<py::ssize_t>(n));
    py::array_t<double> weight(static_cast<py::ssize_t>(n)), delay(static_cast<py::ssize_t>(n));
    auto a = pre.mutable_unchecked<1>();
    auto b = post.mutable_unchecked<1>();
    auto w = weight.mutable_unchecked<1>();
    auto dl = delay.mutable_unchecked<1>();
    const learning::plastic_projection_base* plastic = nullptr;
    for (const auto& p : plastic_)
      if (p->projection_id() == id) plastic = p.get();
    const auto targets = proj.targets();
    for (std::size_t k = 0; k < n; ++k) {
      const auto i = static_cast<py::ssize_t>(k);
      a(i) = proj.pre_of(k);
      b(i) = targets[k];
      w(i) = plastic ? plastic->weight(k) : static_cast<double>(proj.weight(k));
      dl(i) = proj.delay_of(k);
    }
    py::dict d;
    d["pre"] = pre;
    d["post"] = post;
    d["weight"] = weight;
    d["delay_ms"] = delay;
    return d;
  }

  // --- checkpoints -------------------------------------------------------------
  // The file: "APICALPY", the length of the description block, the block
  // (a checkpoint whose payload is the INI text and the recording requests),
  // then the simulator's checkpoint (its extra: the spikes recorded so far).
  void save(const std::string& file) {
    if (!sim_)
      raise(PyExc_RuntimeError,
            "save: the network is built at its first run (or build()); "
            "there is nothing to save before");
    checkpoint_writer head;
    head.text(to_ini());
    head.put(std::uint64_t{spikes_.size()});
    for (const auto& r : spikes_) head.text(r.population);
    head.put(std::uint64_t{states_.size()});
    for (const auto& r : states_) {
      head.text(r.population);
      head.text(r.variable);
      head.array(std::span<const std::uint32_t>(r.neurons));
      head.put(r.interval_ms);
    }
    std::ostringstream block;
    write_checkpoint(block, checkpoint_checksum(head.bytes()), head.bytes());
    checkpoint_writer spikes;
    std::vector<double> times;
    std::vector<std::uint16_t> pops;
    std::vector<std::uint32_t> neurons;
    for (const auto& sp : recorder_->spikes()) {
      times.push_back(sp.time_ms);
      pops.push_back(sp.population);
      neurons.push_back(sp.neuron);
    }
    spikes.array(std::span<const double>(times));
    spikes.array(std::span<const std::uint16_t>(pops));
    spikes.array(std::span<const std::uint32_t>(neurons));
    std::ostringstream out;
    out.write(python_magic.data(), python_magic.size());
    const std::uint64_t length = block.view().size();
    out.write(reinterpret_cast<const char*>(&length), sizeof length);
    out << block.view();
    learning::plasticity_checkpoint parts(plastic_);
    sim_->save(out, spikes.bytes(), parts.parts());
    write_file_atomically(file, out.view());
  }

  // A network saved by save(), built with these options and continued.
  static std::shared_ptr<py_network> restore(const std::string& file, unsigned threads,
                                             const std::string& delivery, bool force_threads,
                                             bool memory_check) {
    const std::string bytes = reading(file, [&] {
      std::ifstream in(file, std::ios::binary);
      if (!in) throw file_error(fmt::format("{}: cannot open the checkpoint", file));
      return std::string(std::istreambuf_iterator<char>(in), {});
    });
    std::uint64_t length = 0;
    if (bytes.size() < python_magic.size() + sizeof length ||
        bytes.compare(0, python_magic.size(), python_magic.data(), python_magic.size()) != 0)
      throw file_error(
          fmt::format("{}: not a checkpoint of apical's Python module (no "
                      "'APICALPY' magic at its start; Network.save writes them)",
                      file));
    std::memcpy(&length, bytes.data() + python_magic.size(), sizeof length);
    const std::size_t start = python_magic.size() + sizeof length;
    if (length > bytes.size() - start)
      throw file_error(
          fmt::format("{}: checkpoint truncated: its description block announces {} "
                      "bytes, {} are present",
                      file, length, bytes.size() - start));
    std::istringstream block(bytes.substr(start, length));
    std::uint64_t hash = 0;
    const std::string head = read_checkpoint(block, file, hash);
    checkpoint_reader r(head, file);
    std::istringstream ini(r.text("description"));
    auto net = std::make_shared<py_network>(app::parse_network_config(ini, file));
    const auto spike_requests = r.get<std::uint64_t>("spike recordings");
    for (std::uint64_t k = 0; k < spike_requests; ++k)
      net->record_spikes(py::str(r.text("spike recording")));
    const auto state_requests = r.get<std::uint64_t>("state recordings");
    for (std::uint64_t k = 0; k < state_requests; ++k) {
      const std::string pop = r.text("state recording population");
      const std::string variable = r.text("state recording variable");
      std::vector<std::uint32_t> neurons;
      r.array(neurons, "state recording neurons");
      net->record_state(py::str(pop), variable, neurons, r.get<double>("state recording interval"));
    }
    r.expect_end();
    net->build_now(threads, delivery, force_threads, memory_check);
    std::istringstream rest(bytes.substr(start + length));
    learning::plasticity_checkpoint parts(net->plastic_);
    const std::string extra = net->sim_->restore(rest, file, parts.parts());
    checkpoint_reader x(extra, file);
    std::vector<double> times;
    std::vector<std::uint16_t> pops;
    std::vector<std::uint32_t> neurons;
    x.array(times, "spike times");
    x.array(pops, times.size(), "spike populations");
    x.array(neurons, times.size(), "spike neurons");
    x.expect_end();
    std::vector<recorded_spike> spikes;
    for (std::size_t k = 0; k < times.size(); ++k) {
      if (pops[k] >= net->net_->population_count() || neurons[k] >= net->net_->pop(pops[k]).size())
        throw file_error(fmt::format("{}: recorded spike {} names no neuron", file, k));
      spikes.push_back({times[k], pops[k], neurons[k]});
    }
    net->recorder_->add(spikes);
    return net;
  }

  // --- views -----------------------------------------------------------------
  std::vector<population_ref> populations() const {
    std::vector<population_ref> out;
    for (const auto& p : spec_.populations) out.push_back(ref(p));
    return out;
  }
  population_ref get(const std::string& name) const { return ref(find(name)); }
  std::string to_ini() const { return app::to_ini(spec_, shared().models, shared().rules); }
  network_spec& spec() { return spec_; }
  bool built() const { return sim_ != nullptr; }
  double now_ms() const { return sim_ ? sim_->now().count() : 0.0; }

  // What the recordings read.
  const std::vector<recorded_spike>& recorded() const {
    static const std::vector<recorded_spike> none;
    return recorder_ ? recorder_->spikes() : none;
  }
  std::optional<std::size_t> population_id(const std::string& name) const {
    if (!net_) return std::nullopt;
    return net_->pop(name).id();
  }
  const state_request& state(std::size_t r) const { return states_[r]; }
  const simulator::state_samples* samples(std::size_t r) const {
    return sim_ ? &sim_->state_recording(states_[r].recorder) : nullptr;
  }

 private:
  void check_unbuilt(const char* what) const {
    if (sim_)
      raise(PyExc_RuntimeError,
            fmt::format("{}: the network was built at its first run; describe it (populations, "
                        "connections, inputs, plasticity, recordings) before that",
                        what));
  }

  projection& built_projection(const std::string& name, const char* what) const {
    if (!net_)
      raise(PyExc_RuntimeError,
            fmt::format("{}: the network is built at its first run (or build())", what));
    for (std::size_t id = 0; id < net_->projection_count(); ++id)
      if (net_->proj(id).name() == name) return net_->proj(id);
    raise(PyExc_KeyError, fmt::format("{}: no projection '{}'", what, name));
  }

  // The projections given as synapse lists (connect_synapses).
  std::vector<std::string> list_names() const {
    std::vector<std::string> names;
    for (const auto& l : lists_) names.push_back(l.name);
    return names;
  }

  void check_new_projection_name(const std::string& name) const {
    const auto taken = [&name](const auto& q) { return q.name == name; };
    if (std::any_of(spec_.projections.begin(), spec_.projections.end(), taken) ||
        std::any_of(lists_.begin(), lists_.end(), taken))
      raise(PyExc_ValueError,
            fmt::format("[projection.{}]: a projection of this name exists already; give "
                        "another name=",
                        name));
  }

  const app::population_spec& find(const std::string& name) const {
    for (const auto& p : spec_.populations)
      if (p.name == name) return p;
    std::vector<std::string> names;
    for (const auto& p : spec_.populations) names.push_back(p.name);
    raise(PyExc_KeyError, fmt::format("no population named '{}'; expected one of: {}", name,
                                      fmt::join(names, ", ")));
  }
  static population_ref ref(const app::population_spec& p) { return {p.name, p.size, p.model}; }
  std::string population_name(const py::object& pop) const {
    const auto name = py::isinstance<population_ref>(pop) ? pop.cast<population_ref>().name
                                                          : pop.cast<std::string>();
    find(name);
    return name;
  }

  // The ids of the populations record_spikes() asked for, ascending.
  std::vector<std::size_t> recorded_populations() const {
    std::vector<std::size_t> pops;
    for (const auto& r : spikes_) pops.push_back(net_->pop(r.population).id());
    std::sort(pops.begin(), pops.end());
    pops.erase(std::unique(pops.begin(), pops.end()), pops.end());
    return pops;
  }

  void build(unsigned threads, const std::string& delivery, bool force_threads, bool memory_check) {
    auto& reg = shared();
    app::check_plasticity(spec_, reg.rules, list_names());
    const auto path = parse_delivery_path(delivery);
    requested_threads_ = threads;
    const auto choice = force_threads ? app::clamp_threads(threads, spec_, app::max_threads)
                                      : app::clamp_threads(threads, spec_);
    if (!choice.notice.empty()) warn(in_keywords(choice.notice));
    app::run_extras extras;
    extras.threads = choice.threads;
    const auto memory = app::estimate_memory(spec_, reg.models, extras);
    if (memory_check)
      if (const auto available = app::query_available_memory())
        app::check_memory(memory, *available);
    const auto t0 = std::chrono::steady_clock::now();
    {
      py::gil_scoped_release nogil;
      net_ = app::build_network(spec_, reg.models);
      for (const auto& l : lists_)
        net_->connect(l.name, net_->pop(l.pre), net_->pop(l.post), l.compartment, l.synapses);
      app::apply_short_term(*net_, spec_);
      for (const auto& [name, raster] : rasters_)
        if (auto* p = dynamic_cast<model_population<spike_time_source>*>(&net_->pop(name)))
          p->set_params({raster});
    }
    threads_ = choice.threads;
    if (!force_threads) {
      const auto share = app::share_threads(threads_, *net_);
      if (!share.notice.empty()) warn(in_keywords(share.notice));
      threads_ = share.threads;
    }
    sim_ = std::make_unique<simulator>(
        *net_, simulation_options{spec_.seed, parse_queue_kind(spec_.queue), threads_, path});
    recorder_ = std::make_unique<spike_recorder>(*sim_, recorded_populations());
    for (auto& r : states_) {
      try {
        r.recorder = sim_->record_state(net_->pop(r.population).id(), r.variable, r.neurons,
                                        time_ms{r.interval_ms});
      } catch (const parameter_error& e) {
        throw parameter_error(
            fmt::format("record_state '{}.{}': {}", r.population, r.variable, e.what()));
      }
    }
    plastic_ = app::attach_plasticity(*sim_, spec_, reg.rules, list_names());
    build_s_ = seconds_since(t0);
  }

  // Runs to `end_ms` in pieces, releasing the GIL in each, and checks for
  // signals (Ctrl-C) between them. A piece starts at one window (the
  // smallest delay) and doubles while it takes under 20 ms of wall time, so
  // an interrupt is answered within a fraction of a second at little cost.
  void advance(double end_ms) {
    double piece = sim_->window_ms();
    if (!(piece >= 0.1) || !std::isfinite(piece)) piece = 0.1;
    while (sim_->now().count() < end_ms) {
      const double stop = std::min(end_ms, sim_->now().count() + piece);
      const auto t0 = std::chrono::steady_clock::now();
      {
        py::gil_scoped_release nogil;
        sim_->run_until(time_ms{stop});
      }
      const double took = seconds_since(t0);
      if (took < 0.02)
        piece *= 2;
      else if (took > 0.2 && piece > 0.2)
        piece /= 2;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
  }

  struct synapse_list {
    std::string name, pre, post;
    int compartment = 0;
    std::vector<synapse> synapses;
  };

  network_spec spec_;
  std::vector<synapse_list> lists_;
  std::vector<std::pair<std::string, std::shared_ptr<const spike_raster>>> rasters_;
  std::vector<spike_request> spikes_;
  std::vector<state_request> states_;
  // Destroyed in reverse order: listeners, then the simulator, then the network.
  std::unique_ptr<network> net_;
  std::unique_ptr<simulator> sim_;
  std::unique_ptr<spike_recorder> recorder_;
  std::vector<std::unique_ptr<learning::plastic_projection_base>> plastic_;
  unsigned requested_threads_ = 1, threads_ = 1;
  double build_s_ = 0.0;
};

// Spikes of one population: times in ms and neuron indices, in time order.
template <class T, class F>
py::array_t<T> spike_column(const py_network& net, const std::string& population, F value) {
  const auto id = net.population_id(population);
  std::vector<T> out;
  if (id)
    for (const auto& s : net.recorded())
      if (s.population == *id) out.push_back(value(s));
  return py::array_t<T>(static_cast<py::ssize_t>(out.size()), out.data());
}

py::array_t<double> spike_recording::times_ms() const {
  return spike_column<double>(*net_, population_,
                              [](const recorded_spike& s) { return s.time_ms; });
}
py::array_t<std::int64_t> spike_recording::ids() const {
  return spike_column<std::int64_t>(*net_, population_,
                                    [](const recorded_spike& s) { return s.neuron; });
}
std::size_t spike_recording::size() const {
  const auto id = net_->population_id(population_);
  if (!id) return 0;
  const auto& all = net_->recorded();
  return static_cast<std::size_t>(std::count_if(
      all.begin(), all.end(), [&](const recorded_spike& s) { return s.population == *id; }));
}

py::array_t<double> state_recording::times_ms() const {
  const auto* s = net_->samples(request_);
  if (!s) return py::array_t<double>(0);
  return py::array_t<double>(static_cast<py::ssize_t>(s->times_ms.size()), s->times_ms.data());
}
py::array_t<double> state_recording::values() const {
  const auto* s = net_->samples(request_);
  const auto cols = static_cast<py::ssize_t>(net_->state(request_).neurons.size());
  const auto rows = s ? static_cast<py::ssize_t>(s->times_ms.size()) : py::ssize_t{0};
  const std::vector<py::ssize_t> shape{rows, cols};
  return s ? py::array_t<double>(shape, s->values.data()) : py::array_t<double>(shape);
}
py::array_t<std::int64_t> state_recording::neurons() const {
  const auto& n = net_->state(request_).neurons;
  std::vector<std::int64_t> out(n.begin(), n.end());
  return py::array_t<std::int64_t>(static_cast<py::ssize_t>(out.size()), out.data());
}
std::string state_recording::variable() const {
  return net_->state(request_).variable;
}
std::string state_recording::population() const {
  return net_->state(request_).population;
}

std::shared_ptr<py_network> make_network(std::uint64_t seed, const std::string& queue) {
  network_spec spec;
  spec.seed = seed;
  parse_queue_kind(queue);
  spec.queue = queue;
  return std::make_shared<py_network>(std::move(spec));
}

std::shared_ptr<py_network> from_config(const std::string& file,
                                        const std::vector<std::string>& overrides) {
  auto spec = reading(file, [&] { return app::load_network_config(file); });
  for (const auto& a : overrides) app::apply_override(spec, a);
  return std::make_shared<py_network>(std::move(spec));
}

std::shared_ptr<py_network> preset(const std::string& name, double scale,
                                   const std::vector<std::string>& overrides) {
  auto spec = app::make_preset(name, scale);
  for (const auto& a : overrides) app::apply_override(spec, a);
  return std::make_shared<py_network>(std::move(spec));
}

std::vector<std::string> load_plugin(const std::string& file) {
  auto& reg = shared();
  plugin_library lib = reading(file, [&] { return plugin_library(file); });
  lib.register_models(reg.models);
  reg.plugins.push_back(lib);
  return lib.model_names();
}

}  // namespace
}  // namespace apical::python

PYBIND11_MODULE(_apical, m) {
  using namespace apical;
  using namespace apical::python;
  m.doc() = "apical: exact event-driven spiking network simulation (compiled core)";
  m.attr("__version__") = APICAL_VERSION;
  m.attr("sonata_available") = app::sonata_available();

  // The command line's errors, as Python's: a bad value is a ValueError, a
  // bad file an OSError (FileNotFoundError when it is missing, see
  // reading()), a network too large a MemoryError. The message is the one
  // `apical` prints after "error: ".
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const parameter_error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const file_error& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const app::insufficient_memory& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });

  py::class_<population_ref>(m, "Population", "A population of a Network (by name).")
      .def_readonly("name", &population_ref::name)
      .def_readonly("size", &population_ref::size)
      .def_readonly("model", &population_ref::model)
      .def("__len__", [](const population_ref& p) { return p.size; })
      .def("__repr__", [](const population_ref& p) {
        return fmt::format("Population('{}', {}, model='{}')", p.name, p.size, p.model);
      });

  py::class_<spike_recording, std::shared_ptr<spike_recording>>(
      m, "SpikeRecording", "The spikes of one population, filled by Network.run().")
      .def_property_readonly("population", &spike_recording::population)
      .def_property_readonly("times_ms", &spike_recording::times_ms,
                             "spike times in ms (float64), in time order")
      .def_property_readonly("ids", &spike_recording::ids,
                             "the neuron (index in its population, int64) of each spike")
      .def("__len__", &spike_recording::size);

  py::class_<state_recording, std::shared_ptr<state_recording>>(
      m, "StateRecording", "Samples of a state variable, filled by Network.run().")
      .def_property_readonly("population", &state_recording::population)
      .def_property_readonly("variable", &state_recording::variable)
      .def_property_readonly("times_ms", &state_recording::times_ms, "sample times (float64)")
      .def_property_readonly("values", &state_recording::values,
                             "float64 array: a row per sample time, a column per neuron")
      .def_property_readonly("neurons", &state_recording::neurons, "the neurons sampled");

  py::class_<py_network, std::shared_ptr<py_network>>(m, "Network", R"(A spiking network.

Describe it (population, connect, poisson_input, plasticity, record_*), then
run it; it is built in C++ at the first run, as `apical simulate` builds the
same description from an INI file.)")
      .def(py::init(&make_network), py::arg("seed") = 1, py::arg("queue") = "radix")
      .def_static("from_config", &from_config, py::arg("path"),
                  py::arg("overrides") = std::vector<std::string>{},
                  "A network from an INI file (docs/network-config.md); overrides are "
                  "'section.key=value' as apical simulate --set takes them.")
      .def("population", &py_network::add_population, py::arg("name"), py::arg("n"),
           py::arg("model") = "lif_delta",
           "Adds n neurons of `model`; keyword arguments set its parameters (tau_m_ms=20, ...).")
      .def("connect", &py_network::add_projection, py::arg("pre"), py::arg("post"),
           py::arg("rule") = "fixed_probability", py::kw_only(), py::arg("p") = py::none(),
           py::arg("k") = py::none(), py::arg("weight") = py::none(),
           py::arg("weight_mv") = py::none(), py::arg("weight_max") = py::none(),
           py::arg("delay_ms") = 1.0, py::arg("delay_max_ms") = py::none(),
           py::arg("compartment") = 0, py::arg("autapses") = false, py::arg("multapses") = false,
           py::arg("name") = py::none(), py::arg("probability") = py::none(),
           py::arg("period") = py::none(),
           "Connects two populations by a rule (all_to_all, one_to_one, fixed_probability p=, "
           "fixed_indegree k=, fixed_outdegree k=, distance_dependent probability= an "
           "expression of the distance d and optional period=(x, y, z) between populations "
           "with positions()); returns the projection's name (PREPOST unless name= is given).")
      .def("positions", &py_network::set_positions, py::arg("population"),
           py::arg("layout") = py::none(), py::kw_only(), py::arg("points") = py::none(),
           py::arg("spacing") = 1.0, py::arg("columns") = 0, py::arg("box") = py::none(),
           py::arg("file") = py::none(),
           "Where the neurons of a population lie, for distance_dependent projections: "
           "points= an (n, 3) array, or a layout: 'line' or 'grid' (spacing=, columns=), 'box' "
           "(box=(x, y, z): uniform, drawn from the seed), 'file' (file=: one 'x, y, z' line "
           "per neuron).")
      .def("neuron_positions", &py_network::positions_array, py::arg("population"),
           "The positions of a population's neurons, an (n, 3) array.")
      .def("poisson_input", &py_network::add_poisson_input, py::arg("target"), py::kw_only(),
           py::arg("rate_hz"), py::arg("weight"), py::arg("compartment") = 0,
           py::arg("start_ms") = 0.0, py::arg("stop_ms") = std::numeric_limits<double>::infinity(),
           py::arg("name") = py::none(),
           "An independent Poisson train of rate_hz into every neuron of target.")
      .def("plasticity", &py_network::add_plasticity, py::arg("projection"),
           py::arg("rule") = "stdp_multiplicative",
           "Makes a projection plastic; keyword arguments are the rule's parameters "
           "(and dendritic_delay_fraction, docs/plasticity.md).")
      .def("short_term", &py_network::add_short_term, py::arg("projection"),
           "Gives a projection short-term plasticity (Tsodyks-Markram; docs/network-config.md); "
           "keyword arguments U, tau_rec_ms, tau_facil_ms, tau_psc_ms, u0.")
      .def("set", &py_network::set, py::arg("assignment"),
           "Overrides one key, 'section.key=value', as apical simulate --set.")
      .def("record_spikes", &py_network::record_spikes, py::arg("population"))
      .def("record_state", &py_network::record_state, py::arg("population"), py::arg("variable"),
           py::arg("neurons") = py::none(), py::arg("interval_ms") = 0.1,
           "Samples a state variable (e.g. 'v_mv') of some neurons (the first 10 by default).")
      .def("run", &py_network::run, py::arg("duration_ms") = py::none(), py::kw_only(),
           py::arg("threads") = 1, py::arg("delivery") = "auto", py::arg("force_threads") = false,
           py::arg("memory_check") = true,
           "Simulates duration_ms more (the configuration's duration by default), with the GIL "
           "released; Ctrl-C stops it between pieces of the run. Returns a summary dict.")
      .def("build", &py_network::build_now, py::kw_only(), py::arg("threads") = 1,
           py::arg("delivery") = "auto", py::arg("force_threads") = false,
           py::arg("memory_check") = true,
           "Builds the network now (run() does it at the first run); returns the seconds it "
           "took.")
      .def("write_spikes", &py_network::write_spikes, py::arg("path"), py::arg("format") = "csv",
           "Writes the recorded spikes: format 'csv' (as apical simulate's spikes.csv) or "
           "'sonata' (HDF5).")
      .def("connections", &py_network::connections, py::arg("projection"),
           "pre, post, weight and delay_ms arrays of a built projection's synapses.")
      .def("connect_synapses", &py_network::add_synapses, py::arg("pre"), py::arg("post"),
           py::arg("pre_ids"), py::arg("post_ids"), py::arg("weights"), py::arg("delays_ms"),
           py::kw_only(), py::arg("compartment") = 0, py::arg("name"),
           "Adds the synapses pre_ids[i] -> post_ids[i] (arrays; weights and delays_ms of the "
           "same length, or of length 1) as projection `name`.")
      .def("set_spike_times", &py_network::set_spike_times, py::arg("population"),
           py::arg("trains"),
           "The spike times (ms, ascending) neuron i of a spike_time_source population fires.")
      .def("set_weights", &py_network::set_weights, py::arg("projection"), py::arg("weights"),
           "Replaces the weights of a built projection (in the order of connections()).")
      .def("save", &py_network::save, py::arg("path"),
           "Saves the whole run (description, recordings, state, pending events, plastic "
           "weights) between runs, atomically; Network.restore continues it (docs/python.md).")
      .def_static("restore", &py_network::restore, py::arg("path"), py::kw_only(),
                  py::arg("threads") = 1, py::arg("delivery") = "auto",
                  py::arg("force_threads") = false, py::arg("memory_check") = true,
                  "The network Network.save wrote, built (with these run options) and at the "
                  "saved time: run() continues it with the spikes of an uninterrupted run. "
                  "record_spikes/record_state give back its recordings.")
      .def("to_ini", &py_network::to_ini, "The description as an INI file.")
      .def("__getitem__", &py_network::get)
      .def_property_readonly("populations", &py_network::populations)
      .def_property_readonly("built", &py_network::built)
      .def_property_readonly("time_ms", &py_network::now_ms)
      .def_property(
          "duration_ms", [](py_network& n) { return n.spec().duration_ms; },
          [](py_network& n, double d) { n.set(fmt::format("simulation.duration_ms={:.17g}", d)); })
      .def_property_readonly("seed", [](py_network& n) { return n.spec().seed; });

  m.def("preset", &preset, py::arg("name"), py::arg("scale") = 1.0,
        py::arg("overrides") = std::vector<std::string>{},
        "A reference network (docs/presets.md), as apical simulate --preset.");
  m.def("presets", [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& p : app::presets()) out.emplace_back(p.name, p.summary);
    return out;
  });
  m.def(
      "models", [] { return shared().models.names(); }, "The neuron models by name.");
  m.def("load_plugin", &load_plugin, py::arg("path"),
        "Loads neuron models from a shared library (docs/custom-models.md); returns their names.");
  bind_training(m);
  bind_synapse_lists(m);
}
