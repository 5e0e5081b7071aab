// apical evaluate: accuracy and confusion matrix of a training checkpoint on
// the test set, or on the training set to see how well it fits
// (docs/training.md).
#include <filesystem>
#include <iostream>
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

int run_evaluate(int argc, char** argv) {
  po::options_description opts(
      "apical evaluate: test accuracy and confusion matrix of a checkpoint\n\n"
      "usage: apical evaluate --checkpoint FILE [--data-dir DIR] [--split test|train] "
      "[--test-samples N] [--test-window-ms MS] [--output DIR]\n\noptions");
  std::string checkpoint_file, data_dir, output, split = "test";
  std::size_t test_samples = 0, threads = 0;
  double test_window_ms = 0.0;
  opts.add_options()("help,h", "show this help")("checkpoint",
                                                 po::value(&checkpoint_file)->value_name("FILE"),
                                                 "checkpoint.bin written by apical train")(
      "data-dir", po::value(&data_dir)->value_name("DIR"),
      "folder holding the dataset (default: the training run's, else the usual search)")(
      "split", po::value(&split)->value_name("S"),
      "the samples to evaluate: test, or train (how well the network fits its training "
      "set)")("test-samples", po::value(&test_samples)->value_name("N"),
              "evaluate the first N samples of the split (default: all)")(
      "threads", po::value(&threads)->value_name("N"), "worker threads (default: the run's)")(
      "test-window-ms", po::value(&test_window_ms)->value_name("MS"),
      "microcircuit: present each test sample for MS ms (default: the run's "
      "microcircuit.test_window_ms)")(
      "output,o", po::value(&output)->value_name("DIR"),
      "folder for confusion.csv, confusion.svg and evaluation.json (default: the checkpoint's)");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  po::notify(vm);
  if (checkpoint_file.empty())
    throw parameter_error("evaluate: --checkpoint FILE is required (see --help)");
  if (!fs::exists(checkpoint_file))
    throw file_error(fmt::format("{}: no such checkpoint (--checkpoint)", checkpoint_file));
  if (split != "test" && split != "train")
    throw parameter_error(fmt::format("evaluate: --split is '{}'; expected test or train", split));
  const bool on_train = split == "train";

  const checkpoint saved = load_checkpoint(checkpoint_file);
  std::istringstream ini(saved.config_ini);
  key_values given = read_ini_values(ini, checkpoint_file + " (stored configuration)");
  given["test-samples"] = std::to_string(test_samples);
  if (vm.count("data-dir")) given["data-dir"] = data_dir;
  if (vm.count("threads")) given["threads"] = std::to_string(threads);
  if (vm.count("test-window-ms"))
    given["microcircuit.test_window_ms"] = fmt::format("{}", test_window_ms);
  const train_config cfg = resolve_config(given);
  validate(cfg);
  if (identity_hash(cfg) != saved.config_hash)
    throw file_error(
        fmt::format("{}: field 'config_hash': does not match the stored "
                    "configuration; the checkpoint is corrupt or from another version of apical",
                    checkpoint_file));

  datasets::load_options load;
  // One split is enough: centred inputs use the stored means.
  const std::size_t count = test_samples ? test_samples : datasets::all_items;
  load.max_train = on_train ? count : 0;
  load.max_test = on_train ? 0 : count;
  datasets::data_search search;
  search.data_dir = cfg.data_dir;
  search.source_dir = datasets::build_source_dir();
  const auto data = datasets::load_dataset(datasets::parse_dataset_id(cfg.dataset), search, load);
  const auto& set = on_train ? data.train : data.test;
  check_against_data(cfg, set.shape().size(), set.class_count());
  const prepared_data prepared = prepare_data(data, cfg.input, saved.input_means);

  auto model = make_model(cfg);
  model->restore(saved, checkpoint_file);
  const learning::dataset_view samples = on_train ? prepared.train() : prepared.test();
  progress_display progress(0, 0);
  const auto predicted = model->predict(samples, progress.testing(samples.count));
  progress.clear();
  const confusion_matrix m =
      make_confusion({samples.labels, samples.count}, predicted, prepared.class_names);

  const fs::path dir = output.empty() ? fs::path(checkpoint_file).parent_path() : fs::path(output);
  if (!dir.empty()) fs::create_directories(dir);
  write_file_atomically(dir / "confusion.csv", confusion_csv(m));
  write_confusion_svg(
      dir / "confusion.svg", m,
      fmt::format("{} {} after {} epoch(s): {} accuracy {:.2f}%", to_string(cfg.algo),
                  arch_to_string(cfg.arch), saved.epochs_done, split, 100.0 * m.accuracy()));
  json_writer j;
  j.begin_object();
  j.value("checkpoint", checkpoint_file);
  j.value("dataset", cfg.dataset);
  j.value("algo", to_string(cfg.algo));
  j.value("arch", arch_to_string(cfg.arch));
  j.value("epochs", std::uint64_t{saved.epochs_done});
  j.value("split", split);
  j.value(split + "_samples", std::uint64_t{m.total});
  j.value("correct", std::uint64_t{m.correct});
  j.value(split + "_accuracy", m.accuracy());
  j.end_object();
  write_file_atomically(dir / "evaluation.json", j.str());

  fmt::print("{} {} on {} after {} epoch(s): {} accuracy {:.4f} ({}/{})\n\n", to_string(cfg.algo),
             arch_to_string(cfg.arch), cfg.dataset, saved.epochs_done, split, m.accuracy(),
             m.correct, m.total);
  fmt::print("{}\n", confusion_text(m));
  fmt::print("wrote {0}/confusion.csv {0}/confusion.svg {0}/evaluation.json\n",
             dir.empty() ? "." : dir.string());
  return 0;
}

}  // namespace apical::app
