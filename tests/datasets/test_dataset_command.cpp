// `apical dataset` run in-process: what it prints, the SVG it writes, and the
// errors it reports.
#include <doctest/doctest.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"
#include "commands.hpp"
#include "fixtures.hpp"

using namespace apical::datasets::testing;

namespace {

struct result {
  int status;
  std::string out;
};

// Runs `apical dataset ARGS...`, capturing standard output.
result run_dataset(std::vector<std::string> args) {
  args.insert(args.begin(), "dataset");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  try {
    const int status = apical::app::run_dataset(static_cast<int>(argv.size()), argv.data());
    std::cout.rdbuf(old);
    return {status, captured.str()};
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("dataset info prints where, counts, shape, classes and the label histogram") {
  temp_dir dir;
  write_mnist(dir / "mnist", 20, 10, true);
  const auto r = run_dataset({"info", "--dataset", "mnist", "--data-dir", dir.path().string()});
  CHECK(r.status == 0);
  CHECK_CONTAINS(r.out, "found in   " + (dir / "mnist").string() + " (--data-dir)");
  CHECK_CONTAINS(r.out, "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz");
  CHECK_CONTAINS(r.out, "shape      1 x 28 x 28 (channels x height x width), 784 bytes per image");
  CHECK_CONTAINS(r.out, "classes    10: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9");
  CHECK_CONTAINS(r.out, "samples    train 20, test 10");
  CHECK_CONTAINS(r.out, "        0  0                   2        1\n");
  CHECK_CONTAINS(r.out, "           total              20       10\n");
  CHECK_CONTAINS(r.out, "loaded in");
}

TEST_CASE("dataset info: help, bad names and malformed files") {
  CHECK_CONTAINS(run_dataset({"--help"}).out, "info   where a dataset was found");
  const auto help = run_dataset({"info", "--help"});
  CHECK(help.status == 0);
  CHECK_CONTAINS(help.out, "--data-dir");
  CHECK_CONTAINS(run_dataset({"show", "--help"}).out, "--encode");

  CHECK_CONTAINS(message_of<apical::parameter_error>([] { run_dataset({}); }), "missing command");
  CHECK_CONTAINS(message_of<apical::parameter_error>([] { run_dataset({"list"}); }),
                 "unknown command 'list'; expected info or show");
  CHECK_CONTAINS(message_of<apical::parameter_error>([] {
                   run_dataset({"info", "--dataset", "svhn"});
                 }),
                 "unknown name 'svhn'");
  CHECK_THROWS(run_dataset({"info"}));  // --dataset is required

  temp_dir dir;
  write_mnist(dir / "mnist", 4, 2, false);
  write_file(dir / "mnist" / "t10k-labels-idx1-ubyte", mnist_labels(3));
  CHECK_CONTAINS(message_of<apical::file_error>([&] {
                   run_dataset({"info", "-d", "mnist", "--data-dir", dir.path().string()});
                 }),
                 "declares 2 images, but");
}

TEST_CASE("dataset show writes the image, and with --encode its raster, as SVG") {
  temp_dir dir;
  write_mnist(dir / "mnist", 3, 2, true);
  const auto svg = dir / "img.svg";
  const auto r = run_dataset({"show", "--dataset", "mnist", "--data-dir", dir.path().string(),
                              "--index", "1", "--split", "test", "--output", svg.string()});
  CHECK(r.status == 0);
  CHECK_CONTAINS(r.out, "wrote " + svg.string() + ": mnist test image 1 (label 1 '1')");
  const auto plain = read_file(svg);
  const std::string text(plain.begin(), plain.end());
  CHECK(text.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(occurrences(text, "<rect x=") == 784);
  CHECK_CONTAINS(text, "mnist test #1: label 1 (1)");
  CHECK(text.find("<path") == std::string::npos);

  const auto enc = dir / "enc.svg";
  const auto e = run_dataset({"show", "-d", "mnist", "--data-dir", dir.path().string(), "-i", "2",
                              "-o", enc.string(), "--encode", "latency", "--duration-ms", "50"});
  CHECK_CONTAINS(e.out, "latency encoding: ");
  CHECK_CONTAINS(e.out, "spikes in 784 channels over 50 ms");
  const auto encoded = read_file(enc);
  const std::string etext(encoded.begin(), encoded.end());
  CHECK_CONTAINS(etext, "<path d=\"M");
  CHECK_CONTAINS(etext, "time (ms)");
  CHECK(etext.substr(etext.size() - 7) == "</svg>\n");

  const auto on_off = run_dataset({"show", "-d", "mnist", "--data-dir", dir.path().string(), "-i",
                                   "0", "-o", enc.string(), "--encode", "poisson", "--on-off",
                                   "--max-rate-hz", "200", "--seed", "3"});
  CHECK_CONTAINS(on_off.out, "spikes in 1568 channels over 100 ms");

  CHECK_CONTAINS(message_of<apical::parameter_error>([&] {
                   run_dataset({"show", "-d", "mnist", "--data-dir", dir.path().string(), "-i", "5",
                                "-o", enc.string()});
                 }),
                 "--index 5 is out of range; mnist train has 3 images");
  CHECK_CONTAINS(message_of<apical::parameter_error>([&] {
                   run_dataset({"show", "-d", "mnist", "--data-dir", dir.path().string(), "-i", "0",
                                "-o", enc.string(), "--encode", "burst"});
                 }),
                 "--encode is 'burst'; expected poisson, regular or latency");
  CHECK_CONTAINS(message_of<apical::parameter_error>([&] {
                   run_dataset({"show", "-d", "mnist", "--data-dir", dir.path().string(), "-i", "0",
                                "-o", enc.string(), "--encode", "poisson", "--duration-ms", "-1"});
                 }),
                 "poisson_encoder.duration_ms is -1");
  CHECK_CONTAINS(message_of<apical::file_error>([&] {
                   run_dataset({"show", "-d", "mnist", "--data-dir", dir.path().string(), "-i", "0",
                                "-o", (dir / "no" / "such" / "dir.svg").string()});
                 }),
                 "cannot write the SVG file");
}

TEST_CASE("dataset show on CIFAR-10: the official size is required - colour from three planes") {
  temp_dir dir;
  for (const auto& m : cifar_members(2)) {
    if (m.type == '0') write_file(dir / "cifar10" / m.path, m.content);
  }
  CHECK_CONTAINS(message_of<apical::file_error>([&] {
                   run_dataset({"show", "-d", "cifar10", "--data-dir", dir.path().string(), "-i",
                                "0", "-o", (dir / "c.svg").string()});
                 }),
                 "holds 2 records (6146 bytes); expected 10000 records");

  // The real set, when this machine has it (found from the source tree).
  try {
    apical::datasets::locate_dataset(apical::datasets::dataset_id::cifar10,
                                     {{}, apical::datasets::build_source_dir(), true});
  } catch (const apical::file_error& e) {
    MESSAGE("skipping the CIFAR-10 SVG check: " << e.what());
    return;
  }
  const auto svg = dir / "cifar.svg";
  const auto r = run_dataset({"show", "-d", "cifar10", "-i", "0", "-o", svg.string(), "--encode",
                              "regular", "--random-phase"});
  CHECK_CONTAINS(r.out, "cifar10 train image 0 (label 6 'frog')");
  CHECK_CONTAINS(r.out, "in 3072 channels over 100 ms");
  const auto content = read_file(svg);
  const std::string text(content.begin(), content.end());
  CHECK(occurrences(text, "<rect x=") == 1024);
  CHECK(occurrences(text, "<path d=") == 3);  // one per colour plane
}
