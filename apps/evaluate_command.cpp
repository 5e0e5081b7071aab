// apical evaluate: accuracy and confusion matrix of a training checkpoint on
// the test set, or on the training set to see how well it fits
// (docs/training.md).
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"
#include "commands.hpp"
#include "json_writer.hpp"
#include "progress_display.hpp"
#include "train_checkpoint.hpp"
#include "train_config.hpp"
#include "train_files.hpp"
#include "train_model.hpp"
#include "train_plots.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace apical::app {

namespace {

// The command line of `apical evaluate`.
struct evaluate_options {
  std::string checkpoint_file, data_dir, output, split = "test";
  std::size_t test_samples = 0, threads = 0;
  double test_window_ms = 0.0;
  po::variables_map given;

  bool on_train() const { return split == "train"; }
};

// The options, or nothing after --help.
std::optional<evaluate_options> parse_evaluate_options(int argc, char** argv) {
  evaluate_options o;
  po::options_description opts(
      "apical evaluate: test accuracy and confusion matrix of a checkpoint\n\n"
      "usage: apical evaluate --checkpoint FILE [--data-dir DIR] [--split test|train] "
      "[--test-samples N] [--test-window-ms MS] [--output DIR]\n\noptions");
  opts.add_options()("help,h", "show this help")("checkpoint",
                                                 po::value(&o.checkpoint_file)->value_name("FILE"),
                                                 "checkpoint.bin written by apical train")(
      "data-dir", po::value(&o.data_dir)->value_name("DIR"),
      "folder holding the dataset (default: the training run's, else the usual search)")(
      "split", po::value(&o.split)->value_name("S"),
      "the samples to evaluate: test, or train (how well the network fits its training "
      "set)")("test-samples", po::value(&o.test_samples)->value_name("N"),
              "evaluate the first N samples of the split (default: all)")(
      "threads", po::value(&o.threads)->value_name("N"), "worker threads (default: the run's)")(
      "test-window-ms", po::value(&o.test_window_ms)->value_name("MS"),
      "microcircuit: present each test sample for MS ms (default: the run's "
      "microcircuit.test_window_ms)")(
      "output,o", po::value(&o.output)->value_name("DIR"),
      "folder for confusion.csv, confusion.svg and evaluation.json (default: the checkpoint's)");
  po::store(po::command_line_parser(argc, argv).options(opts).run(), o.given);
  if (o.given.count("help")) {
    std::cout << opts;
    return std::nullopt;
  }
  po::notify(o.given);
  if (o.checkpoint_file.empty())
    throw parameter_error("evaluate: --checkpoint FILE is required (see --help)");
  if (!fs::exists(o.checkpoint_file))
    throw file_error(fmt::format("{}: no such checkpoint (--checkpoint)", o.checkpoint_file));
  if (o.split != "test" && o.split != "train")
    throw parameter_error(
        fmt::format("evaluate: --split is '{}'; expected test or train", o.split));
  return o;
}

// The checkpoint's stored configuration with the options of this command.
train_config evaluation_config(const checkpoint& saved, const evaluate_options& o) {
  std::istringstream ini(saved.config_ini);
  key_values given = read_ini_values(ini, o.checkpoint_file + " (stored configuration)");
  given["test-samples"] = std::to_string(o.test_samples);
  if (o.given.count("data-dir")) given["data-dir"] = o.data_dir;
  if (o.given.count("threads")) given["threads"] = std::to_string(o.threads);
  if (o.given.count("test-window-ms"))
    given["microcircuit.test_window_ms"] = fmt::format("{}", o.test_window_ms);
  const train_config cfg = resolve_config(given);
  validate(cfg);
  if (identity_hash(cfg) != saved.config_hash)
    throw file_error(
        fmt::format("{}: field 'config_hash': does not match the stored "
                    "configuration; the checkpoint is corrupt or from another version of apical",
                    o.checkpoint_file));
  return cfg;
}

// One split is enough: centred inputs use the stored means.
datasets::loaded_dataset load_split(const train_config& cfg, const evaluate_options& o) {
  datasets::load_options load;
  const std::size_t count = o.test_samples ? o.test_samples : datasets::all_items;
  load.max_train = o.on_train() ? count : 0;
  load.max_test = o.on_train() ? 0 : count;
  datasets::data_search search;
  search.data_dir = cfg.data_dir;
  search.source_dir = datasets::build_source_dir();
  return datasets::load_dataset(datasets::parse_dataset_id(cfg.dataset), search, load);
}

void write_evaluation(const fs::path& dir, const confusion_matrix& m, const train_config& cfg,
                      const checkpoint& saved, const evaluate_options& o) {
  if (!dir.empty()) fs::create_directories(dir);
  write_file_atomically(dir / "confusion.csv", confusion_csv(m));
  write_confusion_svg(
      dir / "confusion.svg", m,
      fmt::format("{} {} after {} epoch(s): {} accuracy {:.2f}%", to_string(cfg.algo),
                  arch_to_string(cfg.arch), saved.epochs_done, o.split, 100.0 * m.accuracy()));
  json_writer j;
  j.begin_object();
  j.value("checkpoint", o.checkpoint_file);
  j.value("dataset", cfg.dataset);
  j.value("algo", to_string(cfg.algo));
  j.value("arch", arch_to_string(cfg.arch));
  j.value("epochs", std::uint64_t{saved.epochs_done});
  j.value("split", o.split);
  j.value(o.split + "_samples", std::uint64_t{m.total});
  j.value("correct", std::uint64_t{m.correct});
  j.value(o.split + "_accuracy", m.accuracy());
  j.end_object();
  write_file_atomically(dir / "evaluation.json", j.str());
}

}  // namespace

int run_evaluate(int argc, char** argv) {
  const auto parsed = parse_evaluate_options(argc, argv);
  if (!parsed) return 0;
  const auto& o = *parsed;
  const checkpoint saved = load_checkpoint(o.checkpoint_file);
  const train_config cfg = evaluation_config(saved, o);
  const auto data = load_split(cfg, o);
  const auto& set = o.on_train() ? data.train : data.test;
  check_against_data(cfg, set.shape().size(), set.class_count());
  const prepared_data prepared{datasets::prepare_inputs(data, cfg.input, saved.input_means)};

  auto model = make_model(cfg);
  model->restore(saved, o.checkpoint_file);
  const learning::dataset_view samples = o.on_train() ? prepared.train() : prepared.test();
  progress_display progress(0, 0);
  const auto predicted = model->predict(samples, progress.testing(samples.count));
  progress.clear();
  const confusion_matrix m =
      make_confusion({samples.labels, samples.count}, predicted, prepared.class_names);

  const fs::path dir =
      o.output.empty() ? fs::path(o.checkpoint_file).parent_path() : fs::path(o.output);
  write_evaluation(dir, m, cfg, saved, o);
  fmt::print("{} {} on {} after {} epoch(s): {} accuracy {:.4f} ({}/{})\n\n", to_string(cfg.algo),
             arch_to_string(cfg.arch), cfg.dataset, saved.epochs_done, o.split, m.accuracy(),
             m.correct, m.total);
  fmt::print("{}\n", confusion_text(m));
  fmt::print("wrote {0}/confusion.csv {0}/confusion.svg {0}/evaluation.json\n",
             dir.empty() ? "." : dir.string());
  return 0;
}

}  // namespace apical::app
