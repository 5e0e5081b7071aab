// apical train and apical evaluate on MNIST, run in-process: a smoke
// training well above chance, metrics.json, resume equal to an uninterrupted
// run, refused and rejected checkpoints, the confusion matrix. Skipped, with a
// message, when MNIST is nowhere to be found.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"
#include "commands.hpp"
#include "train_checkpoint.hpp"
#include "train_files.hpp"

namespace app = apical::app;
namespace fs = std::filesystem;

namespace {

// Instrumented builds run the same assertions on smaller networks.
#if defined(APICAL_SANITIZED) || !defined(NDEBUG)
constexpr const char* hidden_arch = "784-40-10";
constexpr const char* train_samples = "1000";
constexpr double smoke_accuracy = 0.5;
#else
constexpr const char* hidden_arch = "784-100-10";
constexpr const char* train_samples = "2000";
constexpr double smoke_accuracy = 0.7;  // measured 0.778 (seed 3); chance is 0.1
#endif

bool have_mnist() {
  try {
    apical::datasets::data_search search;
    search.source_dir = apical::datasets::build_source_dir();
    apical::datasets::locate_dataset(apical::datasets::dataset_id::mnist, search);
    return true;
  } catch (const apical::file_error& e) {
    MESSAGE("MNIST not found, test skipped: " << e.what());
    return false;
  }
}

int train(std::vector<std::string> args, const char* command = "train") {
  args.insert(args.begin(), command);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return command == std::string("train")
             ? app::run_train(static_cast<int>(argv.size()), argv.data())
             : app::run_evaluate(static_cast<int>(argv.size()), argv.data());
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::current_path() / "train_test_out" / name;
  fs::remove_all(dir);
  return dir;
}

// A JSON number after "key": in the top level of metrics.json.
double json_number(const std::string& text, const std::string& key) {
  const auto at = text.find("\"" + key + "\": ");
  REQUIRE(at != std::string::npos);
  return std::stod(text.substr(at + key.size() + 4));
}

std::vector<std::string> base_args(const fs::path& dir, const char* arch = hidden_arch) {
  return {"--dataset",   "mnist",          "--arch",    arch,     "--train-samples",
          train_samples, "--test-samples", "1000",      "--seed", "3",
          "--output",    dir.string(),     "--threads", "2"};
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

}  // namespace

TEST_CASE("smoke: BP on MNIST learns well above chance in one epoch and writes metrics.json") {
  if (!have_mnist()) return;
  const fs::path dir = fresh_dir("smoke");
  CHECK(train(with(base_args(dir), {"--algo", "bp", "--epochs", "1"})) == 0);
  const std::string json = app::read_file(dir / "metrics.json");
  const double acc = json_number(json, "final_test_accuracy");
  MESSAGE("BP " << std::string(hidden_arch) << ", " << std::string(train_samples)
                << " samples, 1 epoch: test accuracy " << acc);
  CHECK(acc >= 0.0);
  CHECK(acc <= 1.0);
  CHECK(acc > smoke_accuracy);
  CHECK(json_number(json, "initial_test_accuracy") < 0.3);
  for (const char* f :
       {"metrics.csv", "config.ini", "checkpoint.bin", "accuracy.svg", "weights.svg"})
    CHECK_MESSAGE(fs::exists(dir / f), f);
  CHECK(app::read_file(dir / "metrics.csv").find("epoch,train_accuracy,test_accuracy") == 0);

  // evaluate: the checkpoint's accuracy, and a confusion matrix.
  CHECK(train({"--checkpoint", (dir / "checkpoint.bin").string(), "--test-samples", "1000"},
              "evaluate") == 0);
  const std::string eval = app::read_file(dir / "evaluation.json");
  CHECK(json_number(eval, "test_accuracy") == doctest::Approx(acc));
  const std::string confusion = app::read_file(dir / "confusion.csv");
  CHECK(confusion.find("true\\predicted,0,1,2,3,4,5,6,7,8,9\n") == 0);
  CHECK(fs::exists(dir / "confusion.svg"));

  // ... and on the first 500 training samples, which it has seen: the same
  // files, keyed by the split.
  const fs::path on_train = fresh_dir("smoke_train_split");
  CHECK(train({"--checkpoint", (dir / "checkpoint.bin").string(), "--split", "train",
               "--test-samples", "500", "--output", on_train.string()},
              "evaluate") == 0);
  const std::string train_eval = app::read_file(on_train / "evaluation.json");
  CHECK(train_eval.find("\"split\": \"train\"") != std::string::npos);
  CHECK(json_number(train_eval, "train_samples") == 500);
  CHECK(json_number(train_eval, "train_accuracy") > smoke_accuracy);
  CHECK_THROWS_WITH_AS(
      train({"--checkpoint", (dir / "checkpoint.bin").string(), "--split", "val"}, "evaluate"),
      doctest::Contains("--split is 'val'; expected test or train"), apical::parameter_error);
}

TEST_CASE("resume: 1 epoch + 1 resumed epoch equals 2 epochs bit for bit") {
  if (!have_mnist()) return;
  // Momentum makes the optimiser state part of what must be carried over.
  for (const char* momentum : {"0", "0.5"}) {
    CAPTURE(momentum);
    const fs::path whole = fresh_dir(std::string("whole") + momentum);
    const fs::path split = fresh_dir(std::string("split") + momentum);
    const auto args = [&](const fs::path& d) {
      return with(base_args(d), {"--algo", "fa", "--momentum", momentum, "--learning-rate", "0.02",
                                 "--weight-images", "0"});
    };
    CHECK(train(with(args(whole), {"--epochs", "2"})) == 0);
    CHECK(train(with(args(split), {"--epochs", "1"})) == 0);
    // Another thread count may continue the run: results do not depend on it.
    CHECK(train({"--resume", "--output", split.string(), "--epochs", "2", "--threads", "1"}) == 0);
    const auto a = app::load_checkpoint(whole / "checkpoint.bin");
    const auto b = app::load_checkpoint(split / "checkpoint.bin");
    CHECK(b.epochs_done == 2);
    CHECK(a.weights == b.weights);
    CHECK(a.biases == b.biases);
    CHECK(a.velocity == b.velocity);
    CHECK(a.bias_velocity == b.bias_velocity);
    CHECK(a.config_hash == b.config_hash);
    REQUIRE(b.history.epochs.size() == 2);
    for (std::size_t e = 0; e < 2; ++e) {
      CHECK(a.history.epochs[e].train_accuracy == b.history.epochs[e].train_accuracy);
      CHECK(a.history.epochs[e].train_loss == b.history.epochs[e].train_loss);
      CHECK(a.history.epochs[e].test_accuracy == b.history.epochs[e].test_accuracy);
      CHECK(a.history.epochs[e].test_loss == b.history.epochs[e].test_loss);
    }
    CHECK(json_number(app::read_file(whole / "metrics.json"), "final_test_accuracy") ==
          json_number(app::read_file(split / "metrics.json"), "final_test_accuracy"));
  }
}

TEST_CASE("checkpoints are never overwritten silently and bad ones are rejected by field") {
  if (!have_mnist()) return;
  const fs::path dir = fresh_dir("guard");
  const auto args = with(base_args(dir), {"--algo", "bp", "--epochs", "1", "--weight-images", "0"});
  CHECK(train(args) == 0);
  const std::string good = app::read_file(dir / "checkpoint.bin");

  // A fresh run into a folder holding a checkpoint.
  CHECK_THROWS_WITH_AS(train(args),
                       doctest::Contains("checkpoint.bin: holds the checkpoint of an earlier run"),
                       apical::parameter_error);
  CHECK(app::read_file(dir / "checkpoint.bin") == good);

  // Resuming with another architecture, algorithm or dataset.
  CHECK_THROWS_WITH_AS(
      train({"--resume", "--output", dir.string(), "--arch", "784-20-10", "--epochs", "2"}),
      doctest::Contains("field 'arch'"), apical::parameter_error);
  CHECK_THROWS_WITH_AS(
      train({"--resume", "--output", dir.string(), "--algo", "dfa", "--epochs", "2"}),
      doctest::Contains("field 'algo'"), apical::parameter_error);
  CHECK_THROWS_WITH_AS(
      train({"--resume", "--output", dir.string(), "--dataset", "fashion-mnist", "--epochs", "2"}),
      doctest::Contains("field 'dataset'"), apical::parameter_error);
  CHECK(app::read_file(dir / "checkpoint.bin") == good);

  // A truncated and a corrupted checkpoint.
  const fs::path bad = dir / "bad.bin";
  apical::write_file_atomically(bad, good.substr(0, good.size() / 2));
  CHECK_THROWS_WITH_AS(train({"--resume", bad.string(), "--epochs", "2"}),
                       doctest::Contains("bad.bin: field 'payload_bytes'"), apical::file_error);
  std::string flipped = good;
  flipped[good.size() / 3] = static_cast<char>(flipped[good.size() / 3] ^ 1);
  apical::write_file_atomically(bad, flipped);
  CHECK_THROWS_WITH_AS(train({"--resume", bad.string(), "--epochs", "2"}),
                       doctest::Contains("bad.bin: field 'checksum'"), apical::file_error);
  CHECK_THROWS_WITH_AS(train({"--checkpoint", bad.string()}, "evaluate"),
                       doctest::Contains("field 'checksum'"), apical::file_error);
  CHECK(app::read_file(dir / "checkpoint.bin") == good);

  // --overwrite starts afresh.
  CHECK(train(with(args, {"--overwrite"})) == 0);
  // Bad options are rejected before anything is written.
  CHECK_THROWS_WITH_AS(train(base_args(fresh_dir("bad"), "784-100-9")),
                       doctest::Contains("arch: 784-100-9 does not fit mnist"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(train(with(base_args(fresh_dir("bad")), {"--epochs", "0"})),
                       doctest::Contains("epochs: is 0"), apical::parameter_error);
}

// Every "key": number in metrics.json, in the order written (the main run's
// first, then one per comparison run).
std::vector<double> json_numbers(const std::string& text, const std::string& key) {
  std::vector<double> out;
  const std::string tag = "\"" + key + "\": ";
  for (auto at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1))
    out.push_back(std::stod(text.substr(at + tag.size())));
  return out;
}

TEST_CASE("compare: a reference trainer with its own step trains as a run with that step") {
  if (!have_mnist()) return;
  const fs::path dir = fresh_dir("compare_step");
  CHECK(train(with(base_args(dir), {"--algo", "bp", "--epochs", "1", "--learning-rate", "0.1",
                                    "--compare", "bp,bp@0.02"})) == 0);
  const std::string json = app::read_file(dir / "metrics.json");
  const auto finals = json_numbers(json, "final_test_accuracy");
  REQUIRE(finals.size() == 3);
  CHECK(json.find("\"label\": \"bp@0.02\"") != std::string::npos);
  CHECK(json_numbers(json, "learning_rate") == std::vector<double>{0.1, 0.02});
  // "bp" takes the main run's settings, "bp@0.02" only changes the step.
  CHECK(finals[1] == finals[0]);
  const fs::path alone = fresh_dir("compare_step_alone");
  CHECK(train(with(base_args(alone),
                   {"--algo", "bp", "--epochs", "1", "--learning-rate", "0.02"})) == 0);
  CHECK(finals[2] == json_number(app::read_file(alone / "metrics.json"), "final_test_accuracy"));
  CHECK(finals[2] != finals[0]);  // the step mattered, so the check above could fail
}

TEST_CASE("a diverging run stops with a message instead of training on NaN") {
  if (!have_mnist()) return;
  // Squared error at learning rate 50: the weights overflow in the first epoch.
  const fs::path dir = fresh_dir("diverge");
  const auto args = with(base_args(dir), {"--algo", "bp", "--rate.loss", "mse"});
  CHECK_THROWS_WITH_AS(train(with(args, {"--epochs", "1", "--learning-rate", "50"})),
                       doctest::Contains("train: training diverged in epoch 1 (the training "
                                         "loss is not a number); no checkpoint was written; "
                                         "expected a smaller learning-rate (is 50)"),
                       apical::parameter_error);
  CHECK_FALSE(fs::exists(dir / "checkpoint.bin"));
}

TEST_CASE(
    "smoke: the spiking microcircuit on MNIST learns well above chance and draws its pictures") {
  if (!have_mnist()) return;
#if defined(APICAL_SANITIZED) || !defined(NDEBUG)
  const std::vector<std::string> size{"--arch", "784-30-10",      "--train-samples",
                                      "1000",   "--test-samples", "300"};
  constexpr double expected = 0.35;
#else
  const std::vector<std::string> size{"--arch", "784-100-10",     "--train-samples",
                                      "2000",   "--test-samples", "1000"};
  constexpr double expected = 0.5;
#endif
  const fs::path dir = fresh_dir("microcircuit");
  CHECK(train(with(size, {"--algo", "microcircuit", "--epochs", "1", "--seed", "3", "--threads",
                          "2", "--output", dir.string(), "--weight-images", "16"})) == 0);
  const std::string json = app::read_file(dir / "metrics.json");
  const double acc = json_number(json, "final_test_accuracy");
  MESSAGE("microcircuit, 1 epoch: test accuracy " << acc << " (chance 0.1)");
  CHECK(acc > expected);
  CHECK(acc <= 1.0);
  CHECK(json.find("\"spikes_per_sample\": null") == std::string::npos);
  for (const char* f : {"accuracy.svg", "alignment.svg", "raster.svg", "weights.svg",
                        "weight_changes.svg", "dead_units.svg"})
    CHECK_MESSAGE(fs::exists(dir / f), f);
  // One hidden layer: its dead fraction, a fraction.
  const auto dead_at = json.find("\"dead_fraction\": [");
  REQUIRE(dead_at != std::string::npos);
  const double dead = std::stod(json.substr(dead_at + 18));
  CHECK(dead >= 0.0);
  CHECK(dead <= 1.0);
  const std::string raster = app::read_file(dir / "raster.svg");
  for (const char* pop : {">input<", ">P1<", ">E1<", ">P2<", ">E2<", ">teacher<"})
    CHECK_MESSAGE(raster.find(pop) != std::string::npos, pop);

  // evaluate reproduces the training run's final test accuracy (the same
  // evaluation protocol and seed), with its confusion matrix.
  CHECK(train({"--checkpoint", (dir / "checkpoint.bin").string(), "--test-samples", size[5]},
              "evaluate") == 0);
  CHECK(json_number(app::read_file(dir / "evaluation.json"), "test_accuracy") == acc);
  CHECK(fs::exists(dir / "confusion.csv"));
}

// With a decaying learning rate: the resumed epoch must take the second
// epoch's step, not the first's; with momentum the velocity must come back
// from the checkpoint too.
TEST_CASE("resume: the microcircuit continues to exactly the uninterrupted weights") {
  if (!have_mnist()) return;
  const auto args = [](const fs::path& d) {
    return std::vector<std::string>{"--algo",
                                    "microcircuit",
                                    "--arch",
                                    "784-20-10",
                                    "--train-samples",
                                    "300",
                                    "--test-samples",
                                    "100",
                                    "--seed",
                                    "5",
                                    "--threads",
                                    "2",
                                    "--output",
                                    d.string(),
                                    "--weight-images",
                                    "0",
                                    "--lr-decay",
                                    "0.5",
                                    "--momentum",
                                    "0.5",
                                    "--microcircuit.homeostasis_rate_mv",
                                    "0.05",
                                    "--microcircuit.homeostasis_target_hz",
                                    "40"};
  };
  const fs::path whole = fresh_dir("mc_whole"), split = fresh_dir("mc_split");
  CHECK(train(with(args(whole), {"--epochs", "2"})) == 0);
  CHECK(train(with(args(split), {"--epochs", "1"})) == 0);
  CHECK(train({"--resume", (split / "checkpoint.bin").string(), "--epochs", "2"}) == 0);
  const auto a = app::load_checkpoint(whole / "checkpoint.bin");
  const auto b = app::load_checkpoint(split / "checkpoint.bin");
  CHECK(a.weights == b.weights);
  REQUIRE(a.velocity.size() == 2);
  CHECK(a.velocity == b.velocity);
  // The homeostatic thresholds moved, and continue bit for bit.
  REQUIRE(a.thresholds.size() == 1);
  CHECK(a.thresholds == b.thresholds);
  CHECK(std::ranges::any_of(a.thresholds[0], [](double d) { return d != 0.0; }));
  REQUIRE(b.history.epochs.size() == 2);
  CHECK(a.history.epochs[1].dead_fraction == b.history.epochs[1].dead_fraction);
  CHECK(a.history.epochs[1].train_accuracy == b.history.epochs[1].train_accuracy);
  CHECK(a.history.epochs[1].train_loss == b.history.epochs[1].train_loss);
  CHECK(a.history.epochs[1].spikes_per_sample == b.history.epochs[1].spikes_per_sample);
  CHECK(a.history.epochs[1].test_accuracy == b.history.epochs[1].test_accuracy);
  CHECK(a.history.epochs[1].alignment_deg == b.history.epochs[1].alignment_deg);
  CHECK(a.history.alignment.size() == b.history.alignment.size());
}
