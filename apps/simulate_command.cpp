// apical simulate: run a network described in an INI file.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "apical/engine/analysis.hpp"
#include "apical/engine/checkpoint.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/files.hpp"
#include "apical/engine/plugin.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/learning/plasticity/plasticity.hpp"
#include "apical/learning/plasticity/plasticity_checkpoint.hpp"
#include "apical/learning/plasticity/stdp.hpp"
#include "apical/learning/plasticity/weight_recorder.hpp"
#include "apical/models/builtin.hpp"
#include "commands.hpp"
#include "json_writer.hpp"
#include "network_config.hpp"
#include "presets.hpp"
#include "processes.hpp"
#include "run_resources.hpp"
#include "simulate_report.hpp"
#include "spike_files.hpp"
#include "spike_output.hpp"

namespace po = boost::program_options;

namespace apical::app {
namespace {

bool is_source(const population& p) {
  return p.model_name().find("source") != std::string_view::npos;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}


// Final weights of one plastic projection, as summary.json reports them.
struct weight_summary {
  double mean = 0.0, min = 0.0, max = 0.0;
  std::uint64_t at_w_min = 0, at_w_max = 0;  // synapses on a bound
};

// Collective in a run of several processes: each holds the synapses onto
// its neurons, and the figures are those of all.
weight_summary summarize_weights(const learning::plastic_projection_base& plastic) {
  const auto w = plastic.weights();
  double lo = -std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& [name, value] : plastic.parameters()) {
    if (name == "w_min") lo = value;
    if (name == "w_max") hi = value;
  }
  // sum, count, min, max, at w_min, at w_max
  struct part {
    double sum = 0.0, count = 0.0;
    double min = std::numeric_limits<double>::infinity(), max = -min;
    double at_w_min = 0.0, at_w_max = 0.0;
  } mine;
  for (const double x : w) {
    mine.sum += x;
    mine.min = std::min(mine.min, x);
    mine.max = std::max(mine.max, x);
    mine.at_w_min += x <= lo ? 1.0 : 0.0;
    mine.at_w_max += x >= hi ? 1.0 : 0.0;
  }
  mine.count = static_cast<double>(w.size());
  const std::vector<part> parts = world() ? world()->all_values(mine) : std::vector<part>{mine};
  part total;
  for (const auto& q : parts) {
    total.sum += q.sum;
    total.count += q.count;
    total.min = std::min(total.min, q.min);
    total.max = std::max(total.max, q.max);
    total.at_w_min += q.at_w_min;
    total.at_w_max += q.at_w_max;
  }
  weight_summary s;
  if (total.count == 0) return s;
  s.mean = total.sum / total.count;
  s.min = total.min;
  s.max = total.max;
  s.at_w_min = static_cast<std::uint64_t>(total.at_w_min);
  s.at_w_max = static_cast<std::uint64_t>(total.at_w_max);
  return s;
}

// Up to `count` synapses of the projection, evenly spaced in synapse order
// (none when count is 0: the recorder then takes all).
std::vector<std::uint64_t> weight_sample(const learning::plastic_projection_base& plastic,
                                         std::uint64_t count) {
  const std::uint64_t n = plastic.proj().size();
  const std::uint64_t m = std::min(n, count);
  std::vector<std::uint64_t> out(m);
  for (std::uint64_t i = 0; i < m; ++i) out[i] = i * n / m;
  return out;
}

// time_ms,projection,synapse,pre,post,weight as write_weights_csv writes it,
// the recorders one after another.
std::string weights_csv(const std::vector<std::unique_ptr<learning::weight_recorder>>& recorders) {
  std::string out = "time_ms,projection,synapse,pre,post,weight\n";
  for (const auto& r : recorders) {
    const auto& proj = r->plastic().proj();
    for (const auto& s : r->samples())
      out += fmt::format("{:.17g},{},{},{},{},{:.17g}\n", s.time_ms, proj.name(), s.synapse,
                         proj.pre_of(s.synapse), proj.targets()[s.synapse], s.weight);
  }
  return out;
}

// The command line of `apical simulate`.
struct simulate_options {
  std::string config, preset, output = "out", queue, delivery = "auto", spikes_format = "csv";
  double scale = 1.0;
  std::vector<std::string> overrides, plugin_files, record_state;
  unsigned record_neurons = 10;
  double record_interval_ms = 0.1;
  double duration = -1;
  std::uint64_t seed = 0;
  unsigned threads = 1;
  double record_weights_ms = -1;
  std::uint64_t weight_synapses = 1000;
  std::string checkpoint, resume;
  double checkpoint_every_ms = std::numeric_limits<double>::infinity();
  po::variables_map given;

  bool has(const char* option) const { return given.count(option) != 0; }
  bool plastic() const { return !has("no-plasticity"); }
};

po::options_description simulate_option_table(simulate_options& o) {
  po::options_description opts(
      "apical simulate: run a network described in an INI file or a preset\n\n"
      "usage: apical simulate --config FILE [options]\n"
      "       apical simulate --preset NAME [options]\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "config,c", po::value(&o.config), "network configuration (INI; see docs/network-config.md)")(
      "preset,p", po::value(&o.preset), "a reference network (see below and docs/presets.md)")(
      "scale", po::value(&o.scale)->default_value(1.0), "size factor of --preset brunel-scaled")(
      "set", po::value(&o.overrides)->composing(),
      "override one key: section.key=value (repeatable), e.g. population.E.tau_m_ms=10")(
      "plugin", po::value(&o.plugin_files)->composing(),
      "load neuron models from a shared library (repeatable); configs then name them like "
      "built-in models (see docs/custom-models.md)")(
      "duration", po::value(&o.duration), "biological time to simulate in ms (overrides the file)")(
      "seed", po::value(&o.seed), "master seed (overrides the file)")(
      "threads", po::value(&o.threads)->default_value(1),
      "worker threads; results are identical for any number (needs delays > 0). More than "
      "the CPUs the process may run on, or than the network's windows can keep busy, is "
      "reduced to that (with a notice; see --force-threads), and so is more than the neurons "
      "of the largest population or than 4096")(
      "force-threads",
      "keep --threads even beyond the CPUs or for windows too small to share (to study "
      "parallel runs)")("queue", po::value(&o.queue), "event queue: radix (default), heap or calendar")(
      "delivery", po::value(&o.delivery)->default_value("auto"),
      "delivery path: auto (the faster where both apply), ordered or windowed; the spikes are "
      "the same (see engine/README.md)")("output,o", po::value(&o.output)->default_value("out"),
                                         "output directory for spikes.csv and summary.json")(
      "no-spikes", "do not write the spike file")(
      "spikes-format", po::value(&o.spikes_format)->default_value("csv"),
      "spike file: csv (DIR/spikes.csv) or sonata (DIR/spikes.h5, HDF5 as the SONATA format "
      "gives it: /spikes/POPULATION/timestamps and node_ids)")(
      "record-state", po::value(&o.record_state)->composing(),
      "sample a state variable, POPULATION.VARIABLE (repeatable), e.g. E.v_mv; written to "
      "DIR/state_POPULATION_VARIABLE.csv")(
      "record-neurons", po::value(&o.record_neurons)->default_value(10),
      "how many neurons (the first ones) --record-state samples")(
      "record-interval", po::value(&o.record_interval_ms)->default_value(0.1),
      "sampling interval of --record-state in ms")(
      "record-sources", "also record the spikes of source populations (Poisson drives, ...)")(
      "print-config", "print the fully resolved configuration and exit")(
      "no-plasticity", "ignore the [plasticity.*] sections: the same network with static weights")(
      "record-weights", po::value(&o.record_weights_ms),
      "write DIR/weights.csv: the weights of a sample of each plastic projection's synapses "
      "every INTERVAL ms (0: at every change)")(
      "weight-synapses", po::value(&o.weight_synapses)->default_value(1000),
      "synapses per plastic projection that --record-weights samples (evenly spaced; 0: all)")(
      "checkpoint", po::value(&o.checkpoint),
      "write the whole run state to FILE (atomically) at the end, and every "
      "--checkpoint-every ms; continue it with --resume FILE (see docs/simulate.md)")(
      "checkpoint-every", po::value(&o.checkpoint_every_ms),
      "biological time between checkpoints in ms (needs --checkpoint)")(
      "resume", po::value(&o.resume),
      "continue the run saved in FILE by --checkpoint, with the same configuration options, to "
      "--duration (the total, from 0); outputs then cover the whole run")(
      "no-memory-check",
      "build the network even when its estimated memory exceeds the memory available (the "
      "run then stops with an out-of-memory error, or the system ends it)");
  return opts;
}

// The options, or nothing after --help.
std::optional<simulate_options> parse_simulate_options(int argc, char** argv) {
  simulate_options o;
  const auto opts = simulate_option_table(o);
  po::store(po::command_line_parser(argc, argv).options(opts).run(), o.given);
  if (o.has("help")) {
    std::cout << opts << "\npresets:\n";
    for (const auto& p : presets()) std::cout << fmt::format("  {:<14} {}\n", p.name, p.summary);
    return std::nullopt;
  }
  po::notify(o.given);
  if (o.config.empty() == o.preset.empty())
    throw parameter_error("simulate: give either --config FILE or --preset NAME (see --help)");
  if (o.threads == 0) throw parameter_error("simulate: --threads must be >= 1");
  parse_spikes_format(o.spikes_format, "--spikes-format");
  if (o.has("checkpoint-every") && !o.has("checkpoint"))
    throw parameter_error("simulate: --checkpoint-every needs --checkpoint FILE");
  if (o.has("checkpoint-every") && !(o.checkpoint_every_ms > 0 && std::isfinite(o.checkpoint_every_ms)))
    throw parameter_error(fmt::format(
        "--checkpoint-every: expected an interval in ms, finite and > 0, got {}",
        o.checkpoint_every_ms));
  return o;
}

// The configuration file or preset with the command line's overrides.
network_spec resolve_spec(const simulate_options& o) {
  network_spec spec =
      o.preset.empty() ? load_network_config(o.config) : make_preset(o.preset, o.scale);
  for (const auto& a : o.overrides) apply_override(spec, a);
  if (o.duration >= 0)
    spec.duration_ms = o.duration;
  else if (o.has("duration"))
    throw parameter_error("--duration: must be >= 0 ms");
  if (o.has("seed")) spec.seed = o.seed;
  if (!o.queue.empty()) {
    parse_queue_kind(o.queue);
    spec.queue = o.queue;
  }
  return spec;
}

void check_weight_recording(const simulate_options& o, const network_spec& spec) {
  if (!o.has("record-weights")) return;
  if (!(o.record_weights_ms >= 0 && std::isfinite(o.record_weights_ms)))
    throw parameter_error(
        fmt::format("--record-weights: expected an interval in ms, finite and >= 0, got {}",
                    o.record_weights_ms));
  if (!o.plastic() || spec.plasticity.empty())
    throw parameter_error(
        "--record-weights: no plastic projection to record (the configuration has no "
        "[plasticity.NAME] section, or --no-plasticity is given)");
}

// Checkpoints hold the engine's state and the plastic weights and traces;
// the weight recorder's samples are not saved, so --record-weights is
// refused rather than resumed with a gap.
void check_checkpointing(const simulate_options& o) {
  if (!o.has("checkpoint") && !o.has("resume")) return;
  const char* option = o.has("resume") ? "--resume" : "--checkpoint";
  if (o.has("record-weights"))
    throw parameter_error(fmt::format(
        "{}: --record-weights is not checkpointed (its samples are not saved); record the "
        "weights of a run without checkpoints",
        option));
  if (o.has("checkpoint") && o.checkpoint != o.resume && std::filesystem::exists(o.checkpoint))
    throw parameter_error(fmt::format(
        "--checkpoint {}: the file exists; continue it with --resume {} or remove it", o.checkpoint,
        o.checkpoint));
}

// What a run on several processes does not do yet.
void check_processes(const simulate_options& o) {
  if (world_size() <= 1) return;
  for (const char* option : {"checkpoint", "resume", "record-weights"})
    if (o.has(option))
      throw parameter_error(fmt::format(
          "--{}: not available in a run on {} processes (checkpoints and weight recordings "
          "hold one process's synapses); run on one process for it",
          option, world_size()));
}

run_extras extras_of(const simulate_options& o) {
  run_extras extras;
  extras.plasticity = o.plastic();
  extras.threads = o.threads;
  extras.record_state = o.record_state;
  extras.record_neurons = o.record_neurons;
  extras.record_interval_ms = o.record_interval_ms;
  if (o.has("record-weights")) extras.record_weights_ms = o.record_weights_ms;
  extras.weight_synapses = o.weight_synapses;
  return extras;
}

// A checkpoint being written on a thread of its own.
class checkpoint_writer_thread {
 public:
  checkpoint_image image;  // filled by simulator::save, then written

  checkpoint_writer_thread() = default;
  checkpoint_writer_thread(const checkpoint_writer_thread&) = delete;
  checkpoint_writer_thread& operator=(const checkpoint_writer_thread&) = delete;
  ~checkpoint_writer_thread() {
    if (worker_.joinable()) worker_.join();  // (its error, if any, unreported)
  }

  // Writes `image` to `file` (after an fsync of `spike_file`, if >= 0).
  void start(std::filesystem::path file, int spike_file) {
    worker_ = std::thread([this, file = std::move(file), spike_file] {
      try {
        if (spike_file >= 0 && ::fsync(spike_file) != 0)
          throw file_error(fmt::format("{}: the spike file could not be flushed to disk: {}",
                                       file.string(), std::strerror(errno)));
        write_file_atomically(file, {image.header(), image.payload});
      } catch (...) {
        error_ = std::current_exception();
      }
    });
  }
  // Waits for the write in progress; rethrows its error.
  void wait() {
    if (worker_.joinable()) worker_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  std::thread worker_;
  std::exception_ptr error_;
};

// A built network, its simulator and everything that listens to it. The
// members are destroyed in reverse order: listeners before the simulator,
// the simulator before the network.
struct simulation_run {
  std::unique_ptr<network> net;
  std::unique_ptr<simulator> sim;
  std::vector<std::size_t> recorded;  // populations whose spikes are recorded
  std::unique_ptr<spike_recorder> spikes;  // since the last step of the run
  std::unique_ptr<spike_output> output;    // the spike file and activity figures
  std::vector<std::pair<std::string, std::size_t>> samplers;  // file stem, recorder
  std::vector<std::unique_ptr<learning::plastic_projection_base>> plastic;
  std::unique_ptr<learning::plasticity_checkpoint> plastic_parts;  // their part of checkpoints
  std::vector<weight_summary> initial_weights;
  std::vector<std::unique_ptr<learning::weight_recorder>> weight_recorders;
  double build_s = 0.0, sim_s = 0.0, sim_cpu_s = 0.0;
  double resumed_from_ms = 0.0;  // where the run started (a checkpoint's time)
  double checkpoint_s = 0.0;     // the run waited for checkpoints (within sim_s)
  std::uint64_t checkpoints = 0;
  // The latest checkpoint, on its way to disk (last: destroyed, so joined,
  // first).
  std::unique_ptr<checkpoint_writer_thread> writer = std::make_unique<checkpoint_writer_thread>();
  unsigned threads = 1;  // used
};

void add_state_samplers(simulation_run& run, const simulate_options& o) {
  for (const auto& what : o.record_state) {
    const auto dot = what.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == what.size())
      throw parameter_error(
          fmt::format("--record-state '{}': expected POPULATION.VARIABLE, e.g. E.v_mv", what));
    const auto& pop = run.net->pop(std::string_view(what).substr(0, dot));
    std::vector<std::uint32_t> neurons;
    for (std::uint32_t i = 0; i < std::min<std::size_t>(o.record_neurons, pop.size()); ++i)
      neurons.push_back(i);
    try {
      run.samplers.emplace_back(fmt::format("state_{}_{}", pop.name(), what.substr(dot + 1)),
                                run.sim->record_state(pop.id(), what.substr(dot + 1), neurons,
                                                      time_ms{o.record_interval_ms}));
    } catch (const parameter_error& e) {
      throw parameter_error(fmt::format("--record-state '{}': {}", what, e.what()));
    }
  }
}

simulation_run build_run(const simulate_options& o, const network_spec& spec,
                         const model_registry& models, const learning::plasticity_registry& rules) {
  const auto t_build = std::chrono::steady_clock::now();
  simulation_run run;
  // Each process builds the synapses onto its own neurons.
  run.net = build_network(spec, models, world_size(), world_rank());
  apply_short_term(*run.net, spec);
  run.threads = o.threads;
  if (!o.has("force-threads")) {
    const auto share = share_threads(o.threads, *run.net);
    if (!share.notice.empty() && is_root()) fmt::print(stderr, "{}\n", share.notice);
    run.threads = share.threads;
  }
  run.sim = std::make_unique<simulator>(
      *run.net, simulation_options{spec.seed, parse_queue_kind(spec.queue), run.threads,
                                   parse_delivery_path(o.delivery), world()});
  // Spikes of neurons are recorded; those of input sources (e.g. a Poisson
  // drive of 20 kHz per neuron) only with --record-sources.
  for (std::size_t p = 0; p < run.net->population_count(); ++p)
    if (o.has("record-sources") || !is_source(run.net->pop(p))) run.recorded.push_back(p);
  run.spikes = std::make_unique<spike_recorder>(*run.sim, run.recorded);
  // Rank 0 writes the spikes of every process (gathered step by step).
  run.output = std::make_unique<spike_output>(
      *run.net, run.recorded,
      o.has("no-spikes") || !is_root()
          ? std::nullopt
          : std::optional(parse_spikes_format(o.spikes_format, "--spikes-format")),
      o.output);
  add_state_samplers(run, o);
  // Attached to the simulator, not built into the network: --no-plasticity
  // runs the very same network.
  if (o.plastic()) run.plastic = attach_plasticity(*run.sim, spec, rules);
  for (const auto& p : run.plastic) run.initial_weights.push_back(summarize_weights(*p));
  run.plastic_parts = std::make_unique<learning::plasticity_checkpoint>(run.plastic);
  if (o.has("record-weights"))
    for (const auto& p : run.plastic)
      run.weight_recorders.push_back(std::make_unique<learning::weight_recorder>(
          *p, time_ms{o.record_weights_ms}, weight_sample(*p, o.weight_synapses)));
  run.build_s = seconds_since(t_build);
  return run;
}

// The command line's part of a checkpoint: which populations' spikes are
// recorded, and the spike file's length and activity sums (spike_output),
// so that the spike file and summary.json of a resumed run cover the whole
// run.
constexpr std::uint32_t recording_format = 2;

std::string recording_state(const simulation_run& run) {
  checkpoint_writer w;
  w.put(recording_format);
  std::vector<std::uint64_t> recorded(run.recorded.begin(), run.recorded.end());
  w.array(std::span<const std::uint64_t>(recorded));
  run.output->save(w);
  return w.bytes();
}

// Restores the run from o.resume; throws naming the file and what differs.
void resume_run(simulation_run& run, const simulate_options& o, double duration_ms) {
  const std::string extra =
      run.sim->restore(std::filesystem::path(o.resume), run.plastic_parts->parts());
  checkpoint_reader r(extra, o.resume);
  if (const auto v = r.get<std::uint32_t>("recording format"); v != recording_format)
    throw file_error(fmt::format("{}: recording format {}, expected {} (a checkpoint of "
                                 "another version of apical)",
                                 o.resume, v, recording_format));
  std::vector<std::uint64_t> recorded;
  r.array(recorded, "recorded populations");
  if (!std::equal(recorded.begin(), recorded.end(), run.recorded.begin(), run.recorded.end()))
    throw parameter_error(fmt::format(
        "--resume {}: the checkpoint records the spikes of {} populations, this run of {} (give "
        "--record-sources as the checkpointed run did)",
        o.resume, recorded.size(), run.recorded.size()));
  if (duration_ms < run.sim->now().count())
    throw parameter_error(fmt::format(
        "--duration {}: the checkpoint {} is already at {} ms (--duration is the total from 0)",
        duration_ms, o.resume, run.sim->now().count()));
  run.output->resume(r, o.resume);
  r.expect_end();
  run.resumed_from_ms = run.sim->now().count();
}

// Takes the checkpoint's image (the run waits for that), then writes it on
// a thread of its own while the run goes on: the spike file made durable
// first (the checkpoint refers to its length), then the checkpoint,
// atomically. The previous write is waited for before the next image.
void write_checkpoint_file(simulation_run& run, const simulate_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  run.writer->wait();
  const int spike_file = run.output->flush();
  run.sim->save(run.writer->image, recording_state(run), run.plastic_parts->parts());
  run.writer->start(std::filesystem::path(o.checkpoint), spike_file);
  run.checkpoint_s += seconds_since(t0);
  ++run.checkpoints;
}

// Collective in a run of several processes: the recorder's spikes replaced
// by those of every process (16 bytes a spike), in the single process's
// order.
void gather_spikes(spike_recorder& recorder) {
  if (world_size() <= 1) return;
  const auto spikes =
      world()->all_gather_values(std::span<const recorded_spike>(recorder.spikes()));
  recorder.clear();
  recorder.add(spikes);
}

// Runs to the end in 100 steps, with a progress line on a terminal, and
// writes checkpoints at multiples of --checkpoint-every and at the end.
void simulate(simulation_run& run, double duration_ms, const simulate_options& o) {
  auto& sim = *run.sim;
  const bool tty = isatty(STDERR_FILENO) != 0 && is_root();
  const auto t_sim = std::chrono::steady_clock::now();
  const double cpu_sim0 = process_cpu_seconds();
  const double chunk_ms = std::max(1.0, duration_ms / 100.0);
  const bool checkpointing = o.has("checkpoint");
  double next_checkpoint = std::numeric_limits<double>::infinity();
  if (checkpointing && std::isfinite(o.checkpoint_every_ms))
    next_checkpoint =
        (std::floor(sim.now().count() / o.checkpoint_every_ms) + 1) * o.checkpoint_every_ms;
  while (sim.now().count() < duration_ms) {
    sim.run_until(time_ms{
        std::min({duration_ms, sim.now().count() + chunk_ms, next_checkpoint})});
    gather_spikes(*run.spikes);
    run.output->append(*run.spikes);
    if (sim.now().count() == next_checkpoint && sim.now().count() < duration_ms) {
      write_checkpoint_file(run, o);
      next_checkpoint += o.checkpoint_every_ms;
    }
    if (tty) {
      const double wall = seconds_since(t_sim);
      const double done = sim.now().count() / duration_ms;
      fmt::print(stderr, "\r{:.0f}/{:.0f} ms  {:.3g} events/s  ETA {:.1f} s   ", sim.now().count(),
                 duration_ms,
                 static_cast<double>(sim.counters().synaptic_events) / std::max(wall, 1e-9),
                 done > 0 ? wall * (1 - done) / done : 0.0);
    }
  }
  if (checkpointing) {
    write_checkpoint_file(run, o);
    const auto t0 = std::chrono::steady_clock::now();
    run.writer->wait();
    run.checkpoint_s += seconds_since(t0);
  }
  run.sim_s = seconds_since(t_sim);
  run.sim_cpu_s = process_cpu_seconds() - cpu_sim0;
  if (tty) fmt::print(stderr, "\n");
}

// weights.csv, spikes.csv and the state samples.
void write_recordings(simulation_run& run, const simulate_options& o) {
  const std::filesystem::path dir(o.output);
  if (!run.weight_recorders.empty()) {
    for (auto& r : run.weight_recorders) r->flush(run.sim->now());
    write_file_atomically(dir / "weights.csv", weights_csv(run.weight_recorders));
  }
  // SONATA: its records stay beside it while checkpoints refer to them.
  run.output->finish(o.has("checkpoint") || o.has("resume"));
  for (const auto& [stem, recorder] : run.samplers) {
    const auto& samples = run.sim->state_recording(recorder);  // (collective)
    if (is_root()) write_state_csv(dir / (stem + ".csv"), *run.net, samples);
  }
}

// Rates and CVs of every population; E/I figures when populations are so named.
struct activity_summary {
  std::vector<population_activity> populations;
  double rate_e_hz = std::numeric_limits<double>::quiet_NaN();
  double rate_i_hz = std::numeric_limits<double>::quiet_NaN();
  double cv_isi = std::numeric_limits<double>::quiet_NaN();
};

activity_summary summarize_activity(const simulation_run& run, double duration_ms) {
  activity_summary a;
  double cv_sum = 0.0;
  std::size_t cv_n = 0;
  const auto& net = *run.net;
  for (std::size_t p = 0; p < net.population_count(); ++p) {
    const auto& act = a.populations.emplace_back(run.output->activity(p, duration_ms));
    if (net.pop(p).name() == "E") a.rate_e_hz = act.rate_hz;
    if (net.pop(p).name() == "I") a.rate_i_hz = act.rate_hz;
    if (act.neurons_with_cv > 0 && !is_source(net.pop(p))) {
      cv_sum += act.cv_isi * static_cast<double>(act.neurons_with_cv);
      cv_n += act.neurons_with_cv;
    }
  }
  if (cv_n > 0) a.cv_isi = cv_sum / static_cast<double>(cv_n);
  return a;
}

// The figures of the whole run, over every process (collective): counts
// summed, times and memory per process.
struct run_totals {
  simulation_counters counters;
  std::uint64_t synapses = 0, synapse_bytes = 0;
  std::vector<double> build_s, sim_s, sim_cpu_s;  // per process
  std::vector<std::uint64_t> peak_rss_bytes;      // per process
  std::vector<weight_summary> weights;            // per plastic projection
  std::vector<learning::plasticity_counters> plasticity;
  std::vector<std::uint64_t> plastic_synapses;
  std::uint64_t exchanges = 0, exchanged_bytes = 0;  // as rank 0 received them
};

run_totals total_figures(const simulation_run& run) {
  run_totals t;
  const auto sum = [](std::uint64_t v) { return world() ? world()->all_sum(v) : v; };
  const auto each = [](auto v) {
    return world() ? world()->all_values(v) : std::vector<decltype(v)>{v};
  };
  const auto c = run.sim->counters();
  t.counters.events = sum(c.events);
  t.counters.stale_predictions = sum(c.stale_predictions);
  t.counters.spikes = sum(c.spikes);
  t.counters.synaptic_events = sum(c.synaptic_events);
  t.counters.drive_inputs = sum(c.drive_inputs);
  t.counters.settled = sum(c.settled);
  t.counters.settled_in_part = sum(c.settled_in_part);
  t.counters.windows = c.windows;  // the same windows on every process
  t.synapses = sum(run.net->synapses());
  t.synapse_bytes = sum(run.net->synapse_memory_bytes());
  t.build_s = each(run.build_s);
  t.sim_s = each(run.sim_s);
  t.sim_cpu_s = each(run.sim_cpu_s);
  t.peak_rss_bytes = each(std::uint64_t{peak_rss_bytes()});
  for (const auto& p : run.plastic) {
    t.weights.push_back(summarize_weights(*p));
    const auto pc = p->counters();
    t.plasticity.push_back({sum(pc.arrivals), sum(pc.post_spikes), sum(pc.third_factors),
                            sum(pc.updates)});
    t.plastic_synapses.push_back(sum(p->proj().size()));
  }
  t.exchanges = run.sim->exchanges();
  t.exchanged_bytes = run.sim->exchanged_bytes();
  return t;
}

double largest(const std::vector<double>& v) {
  return *std::max_element(v.begin(), v.end());
}

void write_run_figures(json_writer& j, const simulation_run& run, const network_spec& spec,
                       const activity_summary& act, const memory_estimate& memory,
                       unsigned threads, const run_totals& totals) {
  const auto& net = *run.net;
  const auto& counters = totals.counters;
  j.value("neurons", std::uint64_t{net.neurons()});
  j.value("synapses", totals.synapses);
  j.value("spikes", std::uint64_t{counters.spikes});
  j.value("duration_ms", spec.duration_ms);
  j.value("seed", spec.seed);
  j.value("queue", spec.queue);
  j.value("threads", std::uint64_t{threads});
  j.value("processes", std::uint64_t{world_size()});
  j.value("delivery", run.sim->path() == delivery_path::windowed ? "windowed" : "ordered");
  j.value("rate_e_hz", act.rate_e_hz);
  j.value("rate_i_hz", act.rate_i_hz);
  j.value("cv_isi", act.cv_isi);
  // Several processes: the slowest one's build and simulation, the CPU time
  // of all; per process in the process_* fields.
  j.value("build_s", largest(totals.build_s));
  j.value("sim_s", largest(totals.sim_s));
  // CPU time of all threads: on a shared machine a steadier figure than wall time.
  double cpu = 0.0;
  for (const double x : totals.sim_cpu_s) cpu += x;
  j.value("sim_cpu_s", cpu);
  // A resumed run: sim_s covers the part from resumed_from_ms on; the
  // spike figures cover the whole run from 0.
  j.value("resumed_from_ms", run.resumed_from_ms);
  j.value("checkpoints_written", run.checkpoints);
  j.value("checkpoint_s", run.checkpoint_s);
  j.value("events_per_s", static_cast<double>(counters.synaptic_events) /
                              std::max(largest(totals.sim_s), 1e-12));
  j.value("synaptic_events", std::uint64_t{counters.synaptic_events});
  // Of which Poisson-input spikes ([input.NAME] sections).
  j.value("poisson_input_events", std::uint64_t{counters.drive_inputs});
  // Queue traffic: events popped, and those that did not lead to a spike
  // or delivery (superseded or provisional predictions).
  j.value("queue_events", std::uint64_t{counters.events});
  j.value("stale_predictions", std::uint64_t{counters.stale_predictions});
  // Neuron windows settled from a bound without merging their inputs.
  j.value("settled_neuron_windows", std::uint64_t{counters.settled});
  // And those settled up to some cell, then merged from there.
  j.value("settled_in_part_neuron_windows", std::uint64_t{counters.settled_in_part});
  j.value("peak_rss_bytes",
          *std::max_element(totals.peak_rss_bytes.begin(), totals.peak_rss_bytes.end()));
  // The estimate the memory check compared with the memory available.
  j.value("estimated_memory_bytes", std::uint64_t{memory.peak_bytes()});
  j.value("bytes_per_synapse", totals.synapses > 0 ? static_cast<double>(totals.synapse_bytes) /
                                                         static_cast<double>(totals.synapses)
                                                   : 0.0);
  // Per process (rank order), and the spike exchange between them: the
  // bytes each process received per window (every process's spikes of the
  // window, 16 bytes a spike, plus 8 bytes a process).
  j.begin_array("process_build_s");
  for (const double x : totals.build_s) j.value({}, x);
  j.end_array();
  j.begin_array("process_sim_s");
  for (const double x : totals.sim_s) j.value({}, x);
  j.end_array();
  j.begin_array("process_peak_rss_bytes");
  for (const auto x : totals.peak_rss_bytes) j.value({}, x);
  j.end_array();
  j.value("exchanges", totals.exchanges);
  j.value("exchange_bytes_per_window",
          totals.exchanges > 0 ? static_cast<double>(totals.exchanged_bytes) /
                                     static_cast<double>(totals.exchanges)
                               : 0.0);
}

void write_population_figures(json_writer& j, const simulation_run& run,
                              const activity_summary& act) {
  const auto& net = *run.net;
  j.begin_object("populations");
  for (std::size_t p = 0; p < net.population_count(); ++p) {
    j.begin_object(net.pop(p).name());
    j.value("model", net.pop(p).model_name());
    j.value("size", std::uint64_t{net.pop(p).size()});
    const bool was_recorded =
        std::find(run.recorded.begin(), run.recorded.end(), p) != run.recorded.end();
    j.value("recorded", was_recorded);
    if (was_recorded) {
      j.value("spikes", act.populations[p].spikes);
      j.value("rate_hz", act.populations[p].rate_hz);
      j.value("cv_isi", act.populations[p].cv_isi);
    } else {
      j.null("spikes").null("rate_hz").null("cv_isi");
    }
    j.end_object();
  }
  j.end_object();
}

// One entry per attached rule, by section name (empty with --no-plasticity).
void write_plasticity_figures(json_writer& j, const simulation_run& run, const network_spec& spec,
                              bool plastic, const run_totals& totals) {
  j.value("plasticity_enabled", plastic);
  j.begin_object("plasticity");
  for (std::size_t r = 0; r < run.plastic.size(); ++r) {
    const auto& p = *run.plastic[r];
    const auto& c = totals.plasticity[r];
    const auto& w = totals.weights[r];
    j.begin_object(spec.plasticity[r].name);
    j.value("projection", p.proj().name());
    j.value("rule", p.rule_name());
    j.value("synapses", totals.plastic_synapses[r]);
    // Deliveries on the plastic projection (each one an on_pre trigger).
    j.value("plastic_synaptic_events", std::uint64_t{c.arrivals});
    j.value("post_spikes", std::uint64_t{c.post_spikes});
    j.value("updates", std::uint64_t{c.updates});
    j.value("weight_initial_mean", run.initial_weights[r].mean);
    j.value("weight_mean", w.mean);
    j.value("weight_min", w.min);
    j.value("weight_max", w.max);
    j.value("synapses_at_w_min", w.at_w_min);
    j.value("synapses_at_w_max", w.at_w_max);
    j.begin_object("parameters");
    for (const auto& [name, value] : p.parameters()) j.value(name, value);
    j.end_object();
    j.end_object();
  }
  j.end_object();
}

void print_report(const simulation_run& run, const network_spec& spec, const activity_summary& act,
                  const std::string& output, const run_totals& totals) {
  const auto& net = *run.net;
  fmt::print("{} neurons, {} synapses, {:.0f} ms simulated{}\n", net.neurons(), totals.synapses,
             spec.duration_ms,
             world_size() > 1 ? fmt::format(" on {} processes", world_size()) : std::string());
  for (const auto p : run.recorded)
    fmt::print("{}", activity_line(net.pop(p).name(), act.populations[p]));
  for (std::size_t r = 0; r < run.plastic.size(); ++r) {
    const auto& p = *run.plastic[r];
    const auto& w = totals.weights[r];
    fmt::print(
        "  plasticity {} ({} on {}): {} updates, weight mean {:.6g} (initially {:.6g}), "
        "range [{:.6g}, {:.6g}]\n",
        spec.plasticity[r].name, p.rule_name(), p.proj().name(), totals.plasticity[r].updates,
        w.mean, run.initial_weights[r].mean, w.min, w.max);
  }
  const double sim_s = largest(totals.sim_s);
  fmt::print("build {:.3f} s, simulate {:.3f} s, {:.3g} synaptic events/s, peak RSS {:.1f} MiB{}\n",
             largest(totals.build_s), sim_s,
             static_cast<double>(totals.counters.synaptic_events) / std::max(sim_s, 1e-12),
             static_cast<double>(*std::max_element(totals.peak_rss_bytes.begin(),
                                                   totals.peak_rss_bytes.end())) /
                 (1 << 20),
             world_size() > 1 ? " (the largest process)" : "");
  fmt::print("wrote {}/summary.json\n", output);
}

}  // namespace

// The duty of the command, step by step: options, configuration, checks,
// build, run, outputs.
int run_simulate(int argc, char** argv) {
  auto parsed = parse_simulate_options(argc, argv);
  if (!parsed) return 0;
  auto& o = *parsed;
  check_same_start(argc, argv);
  check_processes(o);
  // Declared before the registry and the network, so that plugin code
  // outlives every population made from it.
  std::vector<plugin_library> plugins;
  model_registry models;
  models::register_builtin(models);
  for (const auto& file : o.plugin_files) plugins.emplace_back(file).register_models(models);
  const network_spec spec = resolve_spec(o);
  // Rules by name: an explicit list, checked before the network is built.
  learning::plasticity_registry rules;
  learning::register_stdp(rules);
  check_plasticity(spec, rules);
  check_weight_recording(o, spec);
  check_checkpointing(o);
  if (o.has("print-config")) {
    std::cout << to_ini(spec, models, rules);
    return 0;
  }

  const auto thread_count = o.has("force-threads")
                                ? clamp_threads(o.threads, spec, max_threads)
                                : clamp_threads(o.threads, spec);
  if (!thread_count.notice.empty()) fmt::print(stderr, "{}\n", thread_count.notice);
  o.threads = thread_count.threads;
  // Before anything is allocated: a network too large is refused with the
  // figures, rather than ending in std::bad_alloc or the system's OOM killer.
  const auto memory = estimate_memory(spec, models, extras_of(o));
  if (!o.has("no-memory-check"))
    if (const auto available = query_available_memory()) check_memory(memory, *available);

  auto run = build_run(o, spec, models, rules);
  // The checkpoint's directory exists before the run, not only when the
  // first checkpoint is due.
  if (const auto dir = std::filesystem::path(o.checkpoint).parent_path();
      o.has("checkpoint") && !dir.empty())
    std::filesystem::create_directories(dir);
  if (is_root()) std::filesystem::create_directories(o.output);
  if (o.has("resume"))
    resume_run(run, o, spec.duration_ms);
  else
    run.output->start(!o.has("checkpoint"));
  simulate(run, spec.duration_ms, o);
  write_recordings(run, o);
  const auto act = summarize_activity(run, spec.duration_ms);
  const run_totals totals = total_figures(run);
  if (!is_root()) return 0;
  json_writer j;
  j.begin_object();
  write_run_figures(j, run, spec, act, memory, run.threads, totals);
  write_population_figures(j, run, act);
  write_plasticity_figures(j, run, spec, o.plastic(), totals);
  j.end_object();
  write_file_atomically(std::filesystem::path(o.output) / "summary.json", j.str());
  print_report(run, spec, act, o.output, totals);
  return 0;
}

}  // namespace apical::app
