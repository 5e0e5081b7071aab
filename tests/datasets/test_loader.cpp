#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"
#include "fixtures.hpp"

namespace ds = apical::datasets;
namespace fs = std::filesystem;
using namespace apical::datasets::testing;

namespace {

// Searches only `dir` (no environment, no defaults).
ds::data_search only(const fs::path& dir) {
  return ds::data_search{dir, {}, false};
}

// The shared datasets, when this machine has them: the usual search from the
// source tree (which includes $APICAL_DATA).
std::optional<ds::data_location> shared(ds::dataset_id id) {
  try {
    return ds::locate_dataset(id, ds::data_search{{}, APICAL_SOURCE_DIR, true});
  } catch (const apical::file_error& e) {
    MESSAGE("skipping the full-set check: " << e.what());
    return std::nullopt;
  }
}

// Restores an environment variable on scope exit.
class env_guard {
 public:
  explicit env_guard(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~env_guard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::vector<std::size_t> counts(std::initializer_list<std::size_t> c) {
  return c;
}

}  // namespace

TEST_CASE("dataset names parse, and unknown names list the valid ones") {
  CHECK(ds::parse_dataset_id("mnist") == ds::dataset_id::mnist);
  CHECK(ds::parse_dataset_id("fashion-mnist") == ds::dataset_id::fashion_mnist);
  CHECK(ds::parse_dataset_id("cifar10") == ds::dataset_id::cifar10);
  CHECK(ds::to_string(ds::dataset_id::fashion_mnist) == "fashion-mnist");
  CHECK(message_of<apical::parameter_error>([] { ds::parse_dataset_id("imagenet"); }) ==
        "dataset: unknown name 'imagenet'; expected mnist, fashion-mnist or cifar10");
  CHECK(ds::default_class_names(ds::dataset_id::fashion_mnist)[9] == "Ankle boot");
}

TEST_CASE("data_places: --data-dir alone, else $APICAL_DATA, shared folders, ./data") {
  env_guard guard("APICAL_DATA");
  ::setenv("APICAL_DATA", "/tmp/apical-env-data", 1);

  const auto explicit_only = ds::data_places({"/some/dir", "/src", true});
  REQUIRE(explicit_only.size() == 1);
  CHECK(explicit_only[0].dir == "/some/dir");
  CHECK(explicit_only[0].origin == "--data-dir");

  const auto searched = ds::data_places({{}, "/src/apical", true});
  REQUIRE(searched.size() >= 5);
  CHECK(searched[0].dir == "/tmp/apical-env-data");
  CHECK(searched[0].origin == "$APICAL_DATA");
  CHECK(searched[1].dir == (fs::current_path().parent_path() / "shared" / "datasets"));
  CHECK(searched[2].dir == "/src/shared/datasets");
  CHECK(searched[3].dir == fs::current_path() / "data");
  CHECK(searched[4].dir == "/usr/share/datasets");

  const auto no_env = ds::data_places({{}, {}, false});
  CHECK(no_env[0].origin == "../shared/datasets from the current directory");

  // The same directory reached two ways is searched once.
  ::setenv("APICAL_DATA", "data/", 1);
  const auto dedup = ds::data_places({{}, {}, true});
  CHECK(std::count_if(dedup.begin(), dedup.end(),
                      [](const auto& p) { return p.dir == fs::current_path() / "data"; }) == 1);
}

TEST_CASE("locate_dataset finds <dir>/<name>/, plain or gzip, or the dataset folder itself") {
  temp_dir dir;
  write_mnist(dir / "mnist", 3, 2, true);
  write_mnist(dir / "fashion-mnist", 3, 2, false);

  const auto m = ds::locate_dataset(ds::dataset_id::mnist, only(dir.path()));
  CHECK(m.folder == dir / "mnist");
  CHECK(m.kind == ds::storage::idx_files);
  CHECK(m.files[0] == dir / "mnist" / "train-images-idx3-ubyte.gz");
  CHECK(m.files[3] == dir / "mnist" / "t10k-labels-idx1-ubyte.gz");
  CHECK(m.place.origin == "--data-dir");

  const auto f = ds::locate_dataset(ds::dataset_id::fashion_mnist, only(dir.path()));
  CHECK(f.files[1] == dir / "fashion-mnist" / "train-labels-idx1-ubyte");

  // Pointing at the dataset folder itself works when its name says which one.
  CHECK(ds::locate_dataset(ds::dataset_id::mnist, only(dir / "mnist")).folder == dir / "mnist");
  CHECK_THROWS_AS(ds::locate_dataset(ds::dataset_id::fashion_mnist, only(dir / "mnist")),
                  apical::file_error);

  // The "train-images.idx3-ubyte" spelling.
  temp_dir dotted;
  write_mnist(dotted / "mnist", 1, 1, false);
  fs::rename(dotted / "mnist" / "t10k-images-idx3-ubyte",
             dotted / "mnist" / "t10k-images.idx3-ubyte");
  CHECK(ds::locate_dataset(ds::dataset_id::mnist, only(dotted.path())).files[2].filename() ==
        "t10k-images.idx3-ubyte");
}

TEST_CASE(
    "locate_dataset: nothing found lists every place searched, a partial set names what is "
    "missing") {
  temp_dir dir;
  const auto msg = message_of<apical::file_error>(
      [&] { ds::locate_dataset(ds::dataset_id::mnist, only(dir.path())); });
  CHECK_CONTAINS(msg, "mnist not found: looked for train-images-idx3-ubyte[.gz]");
  CHECK_CONTAINS(msg, (dir / "mnist").string() + " (--data-dir)");
  CHECK_CONTAINS(msg, "scripts/fetch-data.sh mnist");

  {
    env_guard guard("APICAL_DATA");
    ::setenv("APICAL_DATA", dir.path().c_str(), 1);
    const auto searched = message_of<apical::file_error>([&] {
      ds::locate_dataset(ds::dataset_id::cifar10, ds::data_search{{}, "/nonexistent/src", true});
    });
    CHECK_CONTAINS(searched,
                   "cifar10 not found: looked for cifar-10-binary.tar.gz or cifar-10-batches-bin/");
    CHECK_CONTAINS(searched, (dir / "cifar10").string() + " ($APICAL_DATA)");
    CHECK_CONTAINS(searched,
                   "/shared/datasets/cifar10 (../shared/datasets from the current directory)");
    CHECK_CONTAINS(
        searched, "/nonexistent/shared/datasets/cifar10 (../shared/datasets from the source tree)");
    CHECK_CONTAINS(searched, "/data/cifar10 (./data)");
  }

  write_mnist(dir / "mnist", 2, 2, true);
  fs::remove(dir / "mnist" / "t10k-labels-idx1-ubyte.gz");
  const auto partial = message_of<apical::file_error>(
      [&] { ds::locate_dataset(ds::dataset_id::mnist, only(dir.path())); });
  CHECK_CONTAINS(partial, (dir / "mnist").string() +
                              ": mnist is incomplete: missing "
                              "t10k-labels-idx1-ubyte[.gz]");
}

TEST_CASE("load_dataset reads MNIST-style IDX files into train and test splits") {
  temp_dir dir;
  write_mnist(dir / "mnist", 12, 5, true);
  const auto loaded = ds::load_dataset("mnist", dir.path());
  CHECK(loaded.train.size() == 12);
  CHECK(loaded.test.size() == 5);
  CHECK(loaded.train.name() == "mnist train");
  CHECK(loaded.train.shape() == ds::image_shape{1, 28, 28});
  CHECK(loaded.train.class_names()[3] == "3");
  CHECK(loaded.train.label(11) == 1);
  CHECK(loaded.train.image(2)[5] == (2 * 31 + 5) % 256);
  CHECK(loaded.test.label_histogram() == counts({1, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
  CHECK(loaded.location.folder == dir / "mnist");

  ds::load_options first;
  first.max_train = 4;
  first.max_test = 0;
  const auto head = ds::load_dataset("mnist", dir.path(), first);
  CHECK(head.train.size() == 4);
  CHECK(head.test.empty());
  CHECK(std::equal(head.train.pixels().begin(), head.train.pixels().end(),
                   loaded.train.pixels().begin()));

  write_mnist(dir / "fashion-mnist", 2, 2, false);
  CHECK(ds::load_dataset("fashion-mnist", dir.path()).train.class_names()[0] == "T-shirt/top");
}

TEST_CASE("load_dataset: mismatched counts, labels out of range and wrong image sizes are errors") {
  temp_dir dir;
  const fs::path m = dir / "mnist";
  write_mnist(m, 5, 3, false);

  SUBCASE("count mismatch") {
    write_file(m / "train-labels-idx1-ubyte", mnist_labels(4));
    const auto msg = message_of<apical::file_error>([&] { ds::load_dataset("mnist", dir.path()); });
    CHECK_CONTAINS(msg, (m / "train-images-idx3-ubyte").string() +
                            ": offset 4: dimension 0 declares 5 images, but " +
                            (m / "train-labels-idx1-ubyte").string() + " declares 4 labels");
  }
  SUBCASE("label out of range") {
    bytes labels = mnist_labels(3);
    labels[8 + 2] = 11;
    write_file(m / "t10k-labels-idx1-ubyte", labels);
    CHECK(message_of<apical::file_error>([&] { ds::load_dataset("mnist", dir.path()); }) ==
          (m / "t10k-labels-idx1-ubyte").string() + ": offset 10: label 2 is 11; expected 0 to 9");
  }
  SUBCASE("image size") {
    write_file(m / "t10k-images-idx3-ubyte", idx_file({3, 32, 28}, bytes(3 * 32 * 28)));
    CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::load_dataset("mnist", dir.path()); }),
                   "t10k-images-idx3-ubyte: offset 8: dimension 1 (rows) is 32; expected 28");
  }
  SUBCASE("swapped files") {
    fs::rename(m / "train-images-idx3-ubyte", m / "tmp");
    fs::rename(m / "train-labels-idx1-ubyte", m / "train-images-idx3-ubyte");
    fs::rename(m / "tmp", m / "train-labels-idx1-ubyte");
    CHECK_CONTAINS(message_of<apical::file_error>([&] { ds::load_dataset("mnist", dir.path()); }),
                   "train-labels-idx1-ubyte: offset 0: magic number is 0x00000803");
  }
}

TEST_CASE("load_dataset reads CIFAR-10 from the unpacked directory and from the tarball alike") {
  temp_dir dir;
  const auto members = cifar_members(4);
  for (const auto& m : members) {
    if (m.type == '0') write_file(dir / "cifar10" / m.path, m.content);
  }
  temp_dir tarred;
  write_file(tarred / "cifar10" / "cifar-10-binary.tar.gz", gzip(tar_archive(members)));

  ds::load_options any;
  any.cifar_records_per_file = 0;
  const auto from_dir = ds::load_dataset(ds::dataset_id::cifar10, only(dir.path()), any);
  const auto from_tar = ds::load_dataset(ds::dataset_id::cifar10, only(tarred.path()), any);
  CHECK(from_dir.location.kind == ds::storage::cifar_directory);
  CHECK(from_tar.location.kind == ds::storage::cifar_tarball);
  for (const auto* loaded : {&from_dir, &from_tar}) {
    CHECK(loaded->train.size() == 20);
    CHECK(loaded->test.size() == 4);
    CHECK(loaded->train.shape() == ds::image_shape{3, 32, 32});
    CHECK(loaded->train.class_names()[9] == "truck");
    // Batches in order 1..5: batch k's labels start at k - 1.
    CHECK(loaded->train.label(0) == 0);
    CHECK(loaded->train.label(4) == 1);
    CHECK(loaded->train.label(16) == 4);
    CHECK(loaded->test.label(0) == 5);
    CHECK(loaded->train.image(5)[10] == (1 * 7 + 10) % 256);
  }
  CHECK(std::equal(from_dir.train.pixels().begin(), from_dir.train.pixels().end(),
                   from_tar.train.pixels().begin(), from_tar.train.pixels().end()));
  CHECK(std::equal(from_dir.test.labels().begin(), from_dir.test.labels().end(),
                   from_tar.test.labels().begin(), from_tar.test.labels().end()));

  // The first N samples span batch files in order.
  ds::load_options first = any;
  first.max_train = 6;
  first.max_test = 1;
  for (const auto* d : {&dir, &tarred}) {
    const auto head = ds::load_dataset(ds::dataset_id::cifar10, only(d->path()), first);
    CHECK(head.train.size() == 6);
    CHECK(head.test.size() == 1);
    CHECK(std::vector<std::uint8_t>(head.train.labels().begin(), head.train.labels().end()) ==
          bytes{0, 1, 2, 3, 1, 2});
  }

  // An archive whose members come in another order loads the same.
  auto shuffled = members;
  std::reverse(shuffled.begin() + 1, shuffled.end());
  write_file(tarred / "cifar10" / "cifar-10-binary.tar.gz", gzip(tar_archive(shuffled)));
  const auto reordered = ds::load_dataset(ds::dataset_id::cifar10, only(tarred.path()), first);
  CHECK(std::vector<std::uint8_t>(reordered.train.labels().begin(),
                                  reordered.train.labels().end()) == bytes{0, 1, 2, 3, 1, 2});
}

TEST_CASE("load_dataset: CIFAR-10 errors name the archive member, record, offset and expectation") {
  temp_dir dir;
  const fs::path tarball = dir / "cifar10" / "cifar-10-binary.tar.gz";
  auto members = cifar_members(3);
  ds::load_options any;
  any.cifar_records_per_file = 0;
  const auto load = [&](const ds::load_options& o) {
    return message_of<apical::file_error>(
        [&] { ds::load_dataset(ds::dataset_id::cifar10, only(dir.path()), o); });
  };

  SUBCASE("official size expected by default") {
    write_file(tarball, gzip(tar_archive(members)));
    CHECK_CONTAINS(load({}), tarball.string() +
                                 ": cifar-10-batches-bin/data_batch_1.bin: holds 3 "
                                 "records (9219 bytes); expected 10000 records");
  }
  SUBCASE("missing member") {
    members.pop_back();  // test_batch.bin
    write_file(tarball, gzip(tar_archive(members)));
    CHECK_CONTAINS(load(any), tarball.string() +
                                  ": the archive has no member "
                                  "cifar-10-batches-bin/test_batch.bin");
  }
  SUBCASE("bad label inside the archive") {
    members[3].content[3073 * 2] = 10;  // data_batch_2.bin, record 2
    write_file(tarball, gzip(tar_archive(members)));
    CHECK_CONTAINS(load(any), tarball.string() +
                                  ": cifar-10-batches-bin/data_batch_2.bin: record "
                                  "2 (offset 6146): label is 10; expected 0 to 9");
  }
  SUBCASE("truncated download") {
    const bytes z = gzip(tar_archive(members));
    write_file(tarball, bytes(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(z.size() / 2)));
    const auto msg = load(any);
    CHECK_CONTAINS(msg, tarball.string() + ": gzip data ends early at compressed offset");
    CHECK_CONTAINS(msg, "the file is truncated");
  }
  SUBCASE("not gzip, not tar") {
    write_file(tarball, bytes(5000, 'x'));
    CHECK_CONTAINS(load(any), tarball.string() + ": tar header at offset 0: field 'chksum'");
  }
  SUBCASE("duplicate member") {
    members.insert(members.begin() + 3, members[2]);
    write_file(tarball, gzip(tar_archive(members)));
    CHECK_CONTAINS(load(any), "member cifar-10-batches-bin/data_batch_1.bin (header at offset");
  }
  SUBCASE("partly unpacked directory") {
    for (const auto& m : members) {
      if (m.type == '0' && m.path.find("data_batch_3") == std::string::npos) {
        write_file(dir / "cifar10" / m.path, m.content);
      }
    }
    CHECK_CONTAINS(load(any),
                   "cifar-10-batches-bin: CIFAR-10 directory is incomplete: missing "
                   "data_batch_3.bin");
    // With the tarball beside it, the tarball is read instead.
    write_file(tarball, gzip(tar_archive(members)));
    const auto loaded = ds::load_dataset(ds::dataset_id::cifar10, only(dir.path()), any);
    CHECK(loaded.location.kind == ds::storage::cifar_tarball);
    CHECK(loaded.train.size() == 15);
  }
}

TEST_CASE("full MNIST: 60,000 / 10,000 with the known label histogram") {
  const auto where = shared(ds::dataset_id::mnist);
  if (!where) return;
  const auto loaded = ds::load_dataset(*where);
  MESSAGE("MNIST from " << where->folder.string());
  CHECK(loaded.train.size() == 60000);
  CHECK(loaded.test.size() == 10000);
  CHECK(loaded.train.label_histogram() ==
        counts({5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  CHECK(loaded.test.label_histogram() ==
        counts({980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
  CHECK(loaded.train.label(0) == 5);  // the famous first digit
  CHECK(loaded.test.label(0) == 7);
}

TEST_CASE("full Fashion-MNIST: 60,000 / 10,000, balanced classes") {
  const auto where = shared(ds::dataset_id::fashion_mnist);
  if (!where) return;
  const auto loaded = ds::load_dataset(*where);
  MESSAGE("Fashion-MNIST from " << where->folder.string());
  CHECK(loaded.train.label_histogram() == std::vector<std::size_t>(10, 6000));
  CHECK(loaded.test.label_histogram() == std::vector<std::size_t>(10, 1000));
}

TEST_CASE("full CIFAR-10: 50,000 / 10,000, 5,000 / 1,000 per class") {
  const auto where = shared(ds::dataset_id::cifar10);
  if (!where) return;
  const auto t0 = std::chrono::steady_clock::now();
  const auto loaded = ds::load_dataset(*where);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("CIFAR-10 from " << where->files[0].string() << " in " << seconds << " s");
  CHECK(loaded.train.size() == 50000);
  CHECK(loaded.test.size() == 10000);
  CHECK(loaded.train.label_histogram() == std::vector<std::size_t>(10, 5000));
  CHECK(loaded.test.label_histogram() == std::vector<std::size_t>(10, 1000));
  CHECK(loaded.train.class_names()[0] == "airplane");
  // The original training order starts 6 9 9 4 1 1 2 7 8 3.
  const std::vector<std::uint8_t> first(loaded.train.labels().begin(),
                                        loaded.train.labels().begin() + 10);
  CHECK(first == bytes{6, 9, 9, 4, 1, 1, 2, 7, 8, 3});
  const auto means = loaded.train.channel_means();
  CHECK(means[0] == doctest::Approx(0.4914).epsilon(0.002));
  CHECK(means[2] == doctest::Approx(0.4465).epsilon(0.002));
}
