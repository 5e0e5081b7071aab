// apical train: train a network on MNIST, Fashion-MNIST or CIFAR-10 with the
// spiking microcircuit or a reference trainer; write metrics, checkpoints and
// pictures to the output folder (docs/training.md).
//
// options -> configuration -> training run (learning/training/run.hpp) ->
// writers (checkpoint, metrics, pictures).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"
#include "apical/learning/training/run.hpp"
#include "commands.hpp"
#include "processes.hpp"
#include "progress_display.hpp"
#include "train_checkpoint.hpp"
#include "train_config.hpp"
#include "train_files.hpp"
#include "train_metrics.hpp"
#include "train_model.hpp"
#include "train_plots.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace apical::app {
namespace {

std::string epochs_text(std::size_t n) {
  return fmt::format("{} epoch{}", n, n == 1 ? "" : "s");
}

// One line per finished epoch on stdout, whether or not it is a terminal.
void print_epoch(const epoch_record& r, std::size_t epochs) {
  std::string line =
      fmt::format("epoch {}/{}: train accuracy {:.4f}, test accuracy {:.4f}, loss {:.4g}", r.epoch,
                  epochs, r.train_accuracy, r.test_accuracy, r.train_loss);
  if (std::isfinite(r.spikes_per_sample))
    line += fmt::format(", {:.0f} spikes/sample", r.spikes_per_sample);
  for (std::size_t l = 0; l < r.alignment_deg.size(); ++l)
    line += fmt::format("{}{:.1f}", l == 0 ? ", angle to BP " : "/", r.alignment_deg[l]);
  if (!r.alignment_deg.empty()) line += " deg";
  for (std::size_t l = 0; l < r.dead_fraction.size(); ++l)
    line += fmt::format("{}{:.0f}/{:.0f} %", l == 0 ? ", hidden dead/quiet " : ", ",
                        100.0 * r.dead_fraction[l],
                        l < r.quiet_fraction.size() ? 100.0 * r.quiet_fraction[l] : not_measured);
  line += fmt::format(", {:.1f} s ({:.0f} samples/s)", r.wall_s, r.samples_per_s);
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

// --resume with no value, or --resume FILE.
struct resume_request {
  bool requested = false;
  fs::path file;  // empty: OUTPUT/checkpoint.bin
};

void check_identity(const train_config& run, const train_config& stored, const std::string& file) {
  const auto a = identity_entries(run), b = identity_entries(stored);
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i].second != b[i].second)
      throw parameter_error(fmt::format(
          "{}: field '{}': the checkpoint was trained with {} = {}, this run asks for {} (resume "
          "with the checkpoint's settings, or start afresh with --overwrite)",
          file, a[i].first, a[i].first, b[i].second, a[i].second));
}

run_summary summary_of(const train_config& c, const prepared_data& d) {
  run_summary s;
  s.dataset = c.dataset;
  s.algo = std::string(to_string(c.algo));
  s.arch = arch_to_string(c.arch);
  s.train_samples = d.train_labels.size();
  s.test_samples = d.test_labels.size();
  s.layers = c.arch.size() - 1;
  return s;
}

// First-layer weights with one column per image value: with on-off input,
// the weight of a pixel's ON input minus that of its OFF input (what a
// brighter pixel does to the unit).
learning::matrix as_images(const learning::matrix& w, input_scaling input) {
  if (input != input_scaling::on_off) return w;
  return {w.rows(), w.cols() / 2,
          datasets::merge_on_off({w.data(), w.rows() * w.cols()}, w.cols())};
}

// A reference trainer trained on the same data as the main run, with the
// rate settings of the run when it is a rate run, else the dataset's rate
// defaults (and the run's learning-rate decay); spec.learning_rate, when
// set, replaces the step.
comparison_run compare_run(const train_config& main, const comparison_spec& spec,
                           const datasets::loaded_dataset& data) {
  const train_algo algo = spec.algo;
  train_config c = is_rate(main.algo) ? main : default_config(main.dataset, algo);
  c.algo = algo;
  if (spec.learning_rate != 0.0) c.learning_rate = spec.learning_rate;
  c.feedback = implied_feedback(algo);
  c.arch = main.arch;
  c.seed = main.seed;
  c.threads = main.threads;
  c.epochs = main.epochs;
  c.lr_decay = main.lr_decay;  // the same schedule, relative to each one's step
  // On-off input changes the architecture's first size: keep it.
  if (main.input == input_scaling::on_off) c.input = main.input;
  c.train_samples = main.train_samples;
  c.test_samples = main.test_samples;
  validate(c);
  const prepared_data d{datasets::prepare_inputs(data, c.input)};
  auto model = make_model(c);
  comparison_run run;
  run.algo = std::string(to_string(algo));
  run.label = spec.label();
  run.learning_rate = c.learning_rate;
  training_history history;
  learning::training_run training(*model, d.train(), d.test(), history);
  training.test_initial();
  learning::run_observer observer;
  observer.end_epoch = [&](const epoch_record& r) {
    fmt::print("  {} epoch {}/{}: test accuracy {:.4f} ({:.1f} s)\n", run.label, r.epoch, c.epochs,
               r.test_accuracy, r.wall_s);
    std::fflush(stdout);
  };
  training.train_until(c.epochs,
                       {fmt::format("comparison run {}", run.label),
                        [](std::size_t) { return std::string("the main run's results are saved"); },
                        c.learning_rate},
                       observer);
  run.initial_test_accuracy = history.initial_test_accuracy;
  run.epochs = std::move(history.epochs);
  run.train_curve = std::move(history.train_curve);
  return run;
}

// The command line: the options of `apical train`, and the configuration
// keys it gives, in order of precedence (command line, then --config).
struct train_options {
  key_values given;
  resume_request resume;
  bool overwrite = false;
  bool print_config = false;
};

// Parses argv; nothing when --help printed the help.
std::optional<train_options> parse_options(int argc, char** argv) {
  po::options_description keys(
      "configuration keys (also INI keys; [rate] and [microcircuit] keys "
      "are written rate.KEY / microcircuit.KEY here)");
  for (const auto& k : config_keys())
    keys.add_options()(k.name.c_str(), po::value<std::string>()->value_name("V"), k.help.c_str());
  std::string config_file, resume_file;
  po::options_description general(
      "apical train: train a network on MNIST, Fashion-MNIST or CIFAR-10\n\n"
      "usage: apical train [--config FILE] [--dataset D] [--arch 784-800-10] [--algo A] "
      "[--epochs N] [options]\n"
      "       apical train --resume [FILE] [--epochs N]   continue an interrupted run\n\n"
      "options");
  general.add_options()("help,h", "show this help")(
      "config,c", po::value(&config_file)->value_name("FILE"),
      "read keys from an INI file (command-line keys win)")(
      "resume", po::value(&resume_file)->implicit_value("")->value_name("FILE"),
      "continue from FILE, or from OUTPUT/checkpoint.bin; --epochs is the total to reach")(
      "overwrite", "start afresh even if the output folder holds a checkpoint")(
      "print-config", "print the resolved configuration and exit");
  po::options_description all;
  all.add(general).add(keys);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
  if (vm.count("help")) {
    std::cout << general << "\n"
              << keys
              << "\nDefaults depend on the dataset and algo (docs/training.md); --print-config "
                 "shows them.\n";
    return std::nullopt;
  }
  po::notify(vm);

  train_options o;
  for (const auto& k : config_keys())
    if (vm.count(k.name)) o.given.emplace(k.name, vm[k.name].as<std::string>());
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) throw file_error(fmt::format("{}: cannot be opened (--config)", config_file));
    for (auto& [k, v] : read_ini_values(in, config_file)) o.given.emplace(k, v);
  }
  o.resume.requested = vm.count("resume") > 0;
  o.resume.file = resume_file;
  o.overwrite = vm.count("overwrite") > 0;
  o.print_config = vm.count("print-config") > 0;
  if (o.resume.requested && o.overwrite)
    throw parameter_error("--resume and --overwrite: give one of them, not both");
  return o;
}

// The configuration of the run, and the checkpoint it resumes from.
struct resolved_run {
  train_config config;
  std::optional<checkpoint> saved;
  fs::path checkpoint_file;
};

// The checkpoint's configuration fills the keys the options leave out
// (precedence: command line, then --config, then the checkpoint).
resolved_run resolve_run(train_options& o) {
  resolved_run r;
  std::optional<train_config> saved_config;
  if (o.resume.requested) {
    if (!o.resume.file.empty()) {
      r.checkpoint_file = o.resume.file;
      // A checkpoint continues in its own folder unless told otherwise.
      if (!o.given.count("output"))
        o.given.emplace("output", r.checkpoint_file.has_parent_path()
                                      ? r.checkpoint_file.parent_path().string()
                                      : ".");
    } else {
      r.checkpoint_file = fs::path(resolve_config(o.given).output) / "checkpoint.bin";
    }
    if (!fs::exists(r.checkpoint_file))
      throw file_error(
          fmt::format("{}: no checkpoint to resume from (train without --resume to "
                      "start a run)",
                      r.checkpoint_file.string()));
    r.saved = load_checkpoint(r.checkpoint_file);
    std::istringstream ini(r.saved->config_ini);
    key_values stored =
        read_ini_values(ini, r.checkpoint_file.string() + " (stored configuration)");
    saved_config = resolve_config(stored);
    if (identity_hash(*saved_config) != r.saved->config_hash)
      throw file_error(
          fmt::format("{}: field 'config_hash': does not match the stored "
                      "configuration; the checkpoint is corrupt or from another version of apical",
                      r.checkpoint_file.string()));
    stored.erase("output");
    for (auto& [k, v] : stored) o.given.emplace(k, v);
  }
  r.config = resolve_config(o.given);
  // A changed identity key is named as such, before the checks of the
  // values together (a changed algo would otherwise read as a feedback
  // that does not fit it).
  if (saved_config) check_identity(r.config, *saved_config, r.checkpoint_file.string());
  validate(r.config);
  return r;
}

// The pictures of a finished run; returns their file names.
std::vector<std::string> write_pictures(const fs::path& dir, const train_config& cfg,
                                        const run_summary& run, const prepared_data& prepared,
                                        learning::trainer& model, const training_history& history,
                                        const std::vector<comparison_run>& comparisons) {
  std::vector<std::string> pictures{"accuracy.svg"};
  write_accuracy_chart(dir / "accuracy.svg", run, history, comparisons);
  if (cfg.weight_images > 0 && cfg.arch.size() > 2) {
    write_weight_images(dir / "weights.svg", as_images(model.first_layer_weights(), cfg.input),
                        prepared.shape, cfg.weight_images,
                        fmt::format("incoming weights of the first {} hidden units ({}, {})",
                                    std::min(cfg.weight_images, cfg.arch[1]), run.algo,
                                    epochs_text(model.epochs_done())));
    pictures.emplace_back("weights.svg");
    // What training changed: the initial weights are a function of the seed.
    learning::matrix change = as_images(model.first_layer_weights(), cfg.input);
    const auto fresh = make_model(cfg);
    const learning::matrix initial = as_images(fresh->first_layer_weights(), cfg.input);
    for (std::size_t i = 0; i < change.size(); ++i) change.data()[i] -= initial.data()[i];
    write_weight_images(dir / "weight_changes.svg", change, prepared.shape, cfg.weight_images,
                        fmt::format("learned change of the first {} hidden units' weights ({}, {})",
                                    std::min(cfg.weight_images, cfg.arch[1]), run.algo,
                                    epochs_text(model.epochs_done())));
    pictures.emplace_back("weight_changes.svg");
  }
  if (cfg.algo != train_algo::microcircuit) return pictures;
  if (cfg.alignment && !history.alignment.empty()) {
    write_alignment_chart(dir / "alignment.svg", history, run.layers);
    pictures.emplace_back("alignment.svg");
  }
  if (run.layers > 1 && !history.epochs.empty() && !history.epochs.back().dead_fraction.empty()) {
    write_dead_units_chart(dir / "dead_units.svg", history, run.layers);
    pictures.emplace_back("dead_units.svg");
  }
  if (!prepared.test_labels.empty()) {
    const std::size_t s = std::min(cfg.raster_sample, prepared.test_labels.size() - 1);
    const int label = prepared.test_labels[s];
    const auto groups = model.record(
        {prepared.test_inputs.data() + s * prepared.input_size, prepared.input_size}, label, s);
    if (!groups.empty()) {
      write_raster(dir / "raster.svg", groups, cfg.circuit.window_ms,
                   fmt::format("test sample {} (label {}) presented with its teacher", s,
                               prepared.class_names.at(static_cast<std::size_t>(label))));
      pictures.emplace_back("raster.svg");
    }
  }
  return pictures;
}

void print_results(const fs::path& dir, const run_summary& run, const training_history& history,
                   const std::vector<comparison_run>& comparisons,
                   const std::vector<std::string>& pictures) {
  if (!history.epochs.empty()) {
    const auto& last = history.epochs.back();
    fmt::print("test accuracy {:.4f} after {} ({} test samples)\n", last.test_accuracy,
               epochs_text(last.epoch), run.test_samples);
  }
  for (const auto& c : comparisons)
    if (!c.epochs.empty())
      fmt::print("  {} test accuracy {:.4f}\n", c.algo, c.epochs.back().test_accuracy);
  std::string list;
  for (const auto& p : pictures) list += " " + p;
  fmt::print("wrote {}/: metrics.csv metrics.json config.ini checkpoint.bin{}\n", dir.string(),
             list);
}

// The main run: its training run, a checkpoint and the metrics after every
// epoch.
void train_main(const resolved_run& r, const fs::path& dir, const prepared_data& prepared,
                const run_summary& run, learning::trainer& model, training_history& history) {
  const train_config& cfg = r.config;
  const fs::path own_checkpoint = dir / "checkpoint.bin";
  const std::vector<comparison_run> no_comparison;
  progress_display progress(cfg.epochs, prepared.train_labels.size());
  learning::training_run training(model, prepared.train(), prepared.test(), history);
  learning::run_observer observer;
  observer.begin_epoch = [&](std::size_t epoch) { progress.begin_epoch(epoch); };
  observer.training = [&](std::size_t done, std::size_t correct) {
    progress.update(done, correct);
  };
  observer.testing = [&](std::size_t samples) { return progress.testing(samples); };
  if (!r.saved && !prepared.test_labels.empty()) {
    training.test_initial(observer);
    progress.clear();
  }
  if (model.epochs_done() >= cfg.epochs)
    fmt::print("already trained {} of {} epochs; raise --epochs to train further\n",
               model.epochs_done(), cfg.epochs);
  observer.end_epoch = [&](const epoch_record& e) {
    checkpoint c;
    model.save(c);
    c.dataset = cfg.dataset;
    c.algo = std::string(to_string(cfg.algo));
    c.arch = arch_to_string(cfg.arch);
    c.config_hash = identity_hash(cfg);
    c.config_ini = to_ini(cfg);
    c.seed = cfg.seed;
    c.input_means = prepared.input_means;
    c.history = history;
    if (is_root()) {  // (every process holds the same weights)
      save_checkpoint(c, own_checkpoint);
      write_metrics_csv(dir / "metrics.csv", run, history);
      write_metrics_json(dir / "metrics.json", run, history, no_comparison);
      write_accuracy_chart(dir / "accuracy.svg", run, history, no_comparison);
    }
    progress.clear();
    print_epoch(e, cfg.epochs);
  };
  const auto kept = [&](std::size_t epoch) {
    return epoch > 1 ? fmt::format(
                           "the checkpoint and metrics of epoch {} in {} are "
                           "kept (not overwritten)",
                           epoch - 1, dir.string())
                     : std::string("no checkpoint was written");
  };
  training.train_until(cfg.epochs, {"train", kept, cfg.learning_rate}, observer);
}

}  // namespace

int run_train(int argc, char** argv) {
  auto options = parse_options(argc, argv);
  if (!options) return 0;
  check_same_start(argc, argv);
  // Several processes: rank 0 prints and writes the files; the others
  // print their errors only.
  if (!is_root() && std::freopen("/dev/null", "w", stdout) == nullptr)
    throw file_error("cannot silence the standard output of a process other than rank 0");
  const resolved_run r = resolve_run(*options);
  const train_config& cfg = r.config;
  if (world_size() > 1 && (is_rate(cfg.algo) || !cfg.compare.empty()))
    throw parameter_error(fmt::format(
        "train: on {} processes only the microcircuit trains (its batches are shared between "
        "processes); train {} on one process",
        world_size(), is_rate(cfg.algo) ? "the reference algorithms" : "the --compare runs"));
  if (options->print_config) {
    std::cout << to_ini(cfg);
    return 0;
  }

  const fs::path dir = cfg.output;
  const fs::path own_checkpoint = dir / "checkpoint.bin";
  if (!options->resume.requested && !options->overwrite && fs::exists(own_checkpoint))
    throw parameter_error(fmt::format(
        "{}: holds the checkpoint of an earlier run; continue it with --resume, or replace it "
        "with --overwrite",
        own_checkpoint.string()));

  const auto t_load = std::chrono::steady_clock::now();
  const datasets::loaded_dataset data = load_training_data(cfg);
  const prepared_data prepared{datasets::prepare_inputs(
      data, cfg.input, r.saved ? r.saved->input_means : std::vector<float>{})};
  const run_summary run = summary_of(cfg, prepared);
  if (is_root()) fs::create_directories(dir);
  fmt::print("{} {} on {}: {} training, {} test samples from {} ({:.1f} s)\n", run.algo, run.arch,
             run.dataset, run.train_samples, run.test_samples, data.location.folder.string(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());

  auto model = make_model(cfg);
  training_history history;
  if (r.saved) {
    model->restore(*r.saved, r.checkpoint_file.string());
    history = r.saved->history;
    fmt::print("resuming after epoch {} from {}\n", model->epochs_done(),
               r.checkpoint_file.string());
  }
  if (is_root()) write_file_atomically(dir / "config.ini", to_ini(cfg));
  train_main(r, dir, prepared, run, *model, history);

  std::vector<comparison_run> comparisons;
  if (!cfg.compare.empty()) fmt::print("training the comparison runs on the same data\n");
  for (const auto& spec : cfg.compare) comparisons.push_back(compare_run(cfg, spec, data));

  if (!is_root()) return 0;
  write_metrics_csv(dir / "metrics.csv", run, history);
  write_metrics_json(dir / "metrics.json", run, history, comparisons);
  const auto pictures = write_pictures(dir, cfg, run, prepared, *model, history, comparisons);
  print_results(dir, run, history, comparisons, pictures);
  return 0;
}

}  // namespace apical::app
