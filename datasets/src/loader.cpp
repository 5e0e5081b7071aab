#include "apical/datasets/loader.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "apical/datasets/cifar.hpp"
#include "apical/datasets/tar.hpp"
#include "apical/engine/error.hpp"

namespace apical::datasets {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t mnist_side = 28;

// The four IDX files, in data_location::files order.
constexpr std::array<std::string_view, 4> idx_bases{
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte"};

constexpr std::array<std::string_view, 7> cifar_members{
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
    "data_batch_5.bin", "test_batch.bin",   "batches.meta.txt"};
constexpr std::string_view cifar_dir_name = "cifar-10-batches-bin";
constexpr std::string_view cifar_tarball_name = "cifar-10-binary.tar.gz";

std::vector<std::string_view> folder_names(dataset_id id) {
  switch (id) {
    case dataset_id::mnist:
      return {"mnist"};
    case dataset_id::fashion_mnist:
      return {"fashion-mnist", "fashion_mnist"};
    case dataset_id::cifar10:
      return {"cifar10", "cifar-10"};
  }
  return {};
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}
bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// One of "name", "name.gz", and the "train-images.idx3-ubyte" spelling.
std::optional<fs::path> find_idx_file(const fs::path& folder, std::string_view base) {
  std::string dotted(base);
  dotted[dotted.find("-idx")] = '.';
  for (const std::string& name :
       {std::string(base) + ".gz", std::string(base), dotted + ".gz", dotted}) {
    if (is_file(folder / name)) return folder / name;
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// Folders of `place` that may hold the dataset: <place>/<name>, and the
// place itself when its own name says it is that dataset's folder.
std::vector<fs::path> candidate_folders(dataset_id id, const fs::path& place) {
  std::vector<fs::path> out;
  const auto names = folder_names(id);
  for (const auto name : names) out.push_back(place / name);
  const std::string own = place.filename().string();
  if (std::find(names.begin(), names.end(), own) != names.end() ||
      (id == dataset_id::cifar10 && own == cifar_dir_name)) {
    out.push_back(place);
  }
  return out;
}

// nullopt: nothing of the dataset here. Throws when only part of it is.
std::optional<data_location> probe_idx(dataset_id id, const data_place& place,
                                       const fs::path& folder) {
  data_location loc{id, place, folder, storage::idx_files, {}};
  std::vector<std::string> missing;
  for (const auto base : idx_bases) {
    if (auto f = find_idx_file(folder, base)) {
      loc.files.push_back(*f);
    } else {
      missing.push_back(std::string(base) + "[.gz]");
    }
  }
  if (missing.empty()) return loc;
  if (missing.size() == idx_bases.size()) return std::nullopt;
  throw file_error(
      fmt::format("{}: {} is incomplete: missing {}; expected all four IDX files (fetch them with "
                  "scripts/fetch-data.sh {})",
                  folder.string(), to_string(id), join(missing, ", "), to_string(id)));
}

std::optional<data_location> probe_cifar(const data_place& place, const fs::path& folder) {
  const fs::path tarball = folder / cifar_tarball_name;
  for (const fs::path& dir : {folder / cifar_dir_name, folder}) {
    if (!is_dir(dir)) continue;
    data_location loc{dataset_id::cifar10, place, dir, storage::cifar_directory, {}};
    std::vector<std::string> missing;
    for (const auto member : cifar_members) {
      if (is_file(dir / member)) {
        loc.files.push_back(dir / member);
      } else {
        missing.emplace_back(member);
      }
    }
    if (missing.empty()) return loc;
    // A partly unpacked directory: fall back on the tarball beside it.
    if (missing.size() < cifar_members.size() && !is_file(tarball)) {
      throw file_error(fmt::format(
          "{}: CIFAR-10 directory is incomplete: missing {}; expected {} (unpack "
          "cifar-10-binary.tar.gz again, or fetch it with scripts/fetch-data.sh cifar10)",
          dir.string(), join(missing, ", "),
          join(std::vector<std::string>(cifar_members.begin(), cifar_members.end()), ", ")));
    }
  }
  if (is_file(tarball)) {
    return data_location{dataset_id::cifar10, place, folder, storage::cifar_tarball, {tarball}};
  }
  return std::nullopt;
}

void check_idx_count(const idx_array& images, const fs::path& images_file, const idx_array& labels,
                     const fs::path& labels_file) {
  if (images.dims[0] != labels.dims[0]) {
    throw file_error(fmt::format(
        "{}: offset 4: dimension 0 declares {} images, but {} declares {} labels; expected the "
        "same count in both files",
        images_file.string(), images.dims[0], labels_file.string(), labels.dims[0]));
  }
  for (std::size_t d = 1; d < 3; ++d) {
    if (images.dims[d] != mnist_side) {
      throw file_error(fmt::format("{}: offset {}: dimension {} ({}) is {}; expected {}",
                                   images_file.string(), 4 + 4 * d, d, d == 1 ? "rows" : "columns",
                                   images.dims[d], mnist_side));
    }
  }
}

void check_labels(const idx_array& labels, const fs::path& file, std::size_t classes) {
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= classes) {
      throw file_error(fmt::format("{}: offset {}: label {} is {}; expected 0 to {}", file.string(),
                                   8 + i, i, labels.data[i], classes - 1));
    }
  }
}

loaded_dataset load_idx(const data_location& loc, const load_options& options) {
  const auto classes = default_class_names(loc.id);
  const std::string name(to_string(loc.id));
  const auto load_split = [&](const fs::path& images_file, const fs::path& labels_file,
                              std::size_t max_items, std::string_view split) {
    idx_array labels = read_idx(labels_file, 1, max_items);
    check_labels(labels, labels_file, classes.size());
    idx_array images = read_idx(images_file, 3, max_items);
    check_idx_count(images, images_file, labels, labels_file);
    return dataset(fmt::format("{} {}", name, split),
                   image_shape{1, images.dims[1], images.dims[2]}, classes, std::move(images.data),
                   std::move(labels.data));
  };
  return {load_split(loc.files[0], loc.files[1], options.max_train, "train"),
          load_split(loc.files[2], loc.files[3], options.max_test, "test"), loc};
}

dataset concatenate_cifar(std::vector<cifar_batch>& batches, std::size_t max_records,
                          std::vector<std::string> classes, std::string name) {
  std::vector<std::uint8_t> pixels;
  std::vector<std::uint8_t> labels;
  std::size_t total = 0;
  for (const auto& b : batches) total += b.labels.size();
  total = std::min(total, max_records);
  pixels.reserve(total * cifar10_shape.size());
  labels.reserve(total);
  for (auto& b : batches) {
    const std::size_t take = std::min(b.labels.size(), total - labels.size());
    if (take == 0) break;
    if (labels.empty() && take == b.labels.size()) {
      pixels = std::move(b.pixels);  // the common single-batch case: no copy
      labels = std::move(b.labels);
      pixels.reserve(total * cifar10_shape.size());
      labels.reserve(total);
      continue;
    }
    pixels.insert(pixels.end(), b.pixels.begin(),
                  b.pixels.begin() + static_cast<std::ptrdiff_t>(take * cifar10_shape.size()));
    labels.insert(labels.end(), b.labels.begin(),
                  b.labels.begin() + static_cast<std::ptrdiff_t>(take));
    b = {};
  }
  return {std::move(name), cifar10_shape, std::move(classes), std::move(pixels), std::move(labels)};
}

// Records still wanted from training batch k (0-based), given those before it.
std::size_t train_records_wanted(const std::vector<std::optional<cifar_batch>>& train,
                                 std::size_t k, std::size_t max_train) {
  std::size_t before = 0;
  for (std::size_t j = 0; j < k; ++j) {
    if (!train[j]) return max_train;  // not read yet (archive order): cannot tell
    before += train[j]->labels.size();
  }
  return before >= max_train ? 0 : max_train - before;
}

// True when batches 1..5 in order already cover the first max_train records.
bool train_complete(const std::vector<std::optional<cifar_batch>>& train, std::size_t max_train) {
  std::size_t before = 0;
  for (const auto& batch : train) {
    if (before >= max_train) return true;
    if (!batch) return false;
    before += batch->labels.size();
  }
  return true;
}

loaded_dataset load_cifar_directory(const data_location& loc, const load_options& options) {
  auto classes = read_cifar_class_names(*open_file(loc.files[6]));
  std::vector<std::optional<cifar_batch>> train(5);
  for (std::size_t k = 0; k < 5; ++k) {
    const std::size_t want = train_records_wanted(train, k, options.max_train);
    train[k] = want == 0 ? cifar_batch{}
                         : read_cifar_batch(loc.files[k], options.cifar_records_per_file, want);
  }
  std::vector<cifar_batch> test(1);
  if (options.max_test > 0) {
    test[0] = read_cifar_batch(loc.files[5], options.cifar_records_per_file, options.max_test);
  }
  std::vector<cifar_batch> train_batches;
  for (auto& b : train) train_batches.push_back(std::move(*b));
  return {concatenate_cifar(train_batches, options.max_train, classes, "cifar10 train"),
          concatenate_cifar(test, options.max_test, classes, "cifar10 test"), loc};
}

loaded_dataset load_cifar_tarball(const data_location& loc, const load_options& options) {
  const auto archive = open_file(loc.files[0]);
  tar_reader tar(*archive);
  std::vector<std::optional<cifar_batch>> train(5);
  std::optional<cifar_batch> test;
  std::optional<std::vector<std::string>> classes;
  std::vector<bool> seen(cifar_members.size(), false);
  while (const auto entry = tar.next()) {
    if (!entry->is_file()) continue;
    const std::string file = fs::path(entry->path).filename().string();
    const auto it = std::find(cifar_members.begin(), cifar_members.end(), file);
    if (it == cifar_members.end()) continue;
    const auto m = static_cast<std::size_t>(it - cifar_members.begin());
    if (seen[m]) {
      throw file_error(
          fmt::format("{}: member {} (header at offset {}) appears twice; expected "
                      "one {} in the archive",
                      archive->name(), entry->path, entry->offset, file));
    }
    seen[m] = true;
    if (m < 5) {
      const std::size_t want = train_records_wanted(train, m, options.max_train);
      train[m] = want == 0 ? cifar_batch{}
                           : read_cifar_batch(tar.contents(), options.cifar_records_per_file, want);
    } else if (m == 5) {
      test =
          options.max_test == 0
              ? cifar_batch{}
              : read_cifar_batch(tar.contents(), options.cifar_records_per_file, options.max_test);
    } else {
      classes = read_cifar_class_names(tar.contents());
    }
    // Stop decoding once everything asked for is in (e.g. the first images
    // only), rather than inflating the rest of the archive.
    if (classes && (test || options.max_test == 0) && train_complete(train, options.max_train)) {
      for (std::size_t k = 0; k < 5; ++k) {
        if (!train[k]) train[k] = cifar_batch{};
      }
      if (!test) test = cifar_batch{};
      seen.assign(seen.size(), true);
      break;
    }
  }
  std::vector<std::string> missing;
  for (std::size_t m = 0; m < cifar_members.size(); ++m) {
    if (!seen[m]) missing.push_back(fmt::format("{}/{}", cifar_dir_name, cifar_members[m]));
  }
  if (!missing.empty()) {
    throw file_error(
        fmt::format("{}: the archive has no member {}; expected the CIFAR-10 binary version "
                    "(data_batch_1..5.bin, test_batch.bin, batches.meta.txt)",
                    archive->name(), join(missing, ", ")));
  }
  std::vector<cifar_batch> train_batches;
  for (auto& b : train) train_batches.push_back(std::move(*b));
  std::vector<cifar_batch> test_batches;
  test_batches.push_back(std::move(*test));
  return {concatenate_cifar(train_batches, options.max_train, *classes, "cifar10 train"),
          concatenate_cifar(test_batches, options.max_test, *classes, "cifar10 test"), loc};
}

}  // namespace

std::string_view to_string(dataset_id id) {
  switch (id) {
    case dataset_id::mnist:
      return "mnist";
    case dataset_id::fashion_mnist:
      return "fashion-mnist";
    case dataset_id::cifar10:
      return "cifar10";
  }
  return "unknown";
}

dataset_id parse_dataset_id(std::string_view name) {
  if (name == "mnist") return dataset_id::mnist;
  if (name == "fashion-mnist" || name == "fashion_mnist") return dataset_id::fashion_mnist;
  if (name == "cifar10" || name == "cifar-10") return dataset_id::cifar10;
  throw parameter_error(
      fmt::format("dataset: unknown name '{}'; expected mnist, fashion-mnist or cifar10", name));
}

std::vector<std::string> default_class_names(dataset_id id) {
  switch (id) {
    case dataset_id::mnist:
      return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    case dataset_id::fashion_mnist:
      return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    case dataset_id::cifar10:
      return {"airplane", "automobile", "bird",  "cat",  "deer",
              "dog",      "frog",       "horse", "ship", "truck"};
  }
  return {};
}

image_shape standard_shape(dataset_id id) {
  return id == dataset_id::cifar10 ? cifar10_shape : image_shape{1, 28, 28};
}

std::filesystem::path build_source_dir() {
#ifdef APICAL_DATASETS_SOURCE_DIR
  return APICAL_DATASETS_SOURCE_DIR;
#else
  return {};
#endif
}

std::vector<data_place> data_places(const data_search& search) {
  std::vector<data_place> raw;
  if (!search.data_dir.empty()) {
    raw.push_back({search.data_dir, "--data-dir"});
  } else {
    if (search.use_environment) {
      if (const char* env = std::getenv("APICAL_DATA"); env != nullptr && *env != '\0') {
        raw.push_back({env, "$APICAL_DATA"});
      }
    }
    raw.push_back(
        {fs::path("..") / "shared" / "datasets", "../shared/datasets from the current directory"});
    if (!search.source_dir.empty()) {
      raw.push_back({search.source_dir / ".." / "shared" / "datasets",
                     "../shared/datasets from the source tree"});
    }
    raw.push_back({"data", "./data"});
    raw.push_back({"/usr/share/datasets", "Debian dataset packages"});
  }
  std::vector<data_place> out;
  for (auto& p : raw) {
    std::error_code ec;
    fs::path abs = fs::absolute(p.dir, ec);
    p.dir = (ec ? p.dir : abs).lexically_normal();
    // "dir/" and "dir" are the same place.
    if (!p.dir.has_filename() && p.dir != p.dir.root_path()) p.dir = p.dir.parent_path();
    const bool dup = std::any_of(out.begin(), out.end(), [&](const data_place& q) {
      std::error_code e1;
      std::error_code e2;
      return q.dir == p.dir ||
             (fs::exists(q.dir, e1) && fs::exists(p.dir, e2) && fs::equivalent(q.dir, p.dir, e1));
    });
    if (!dup) out.push_back(std::move(p));
  }
  return out;
}

data_location locate_dataset(dataset_id id, const data_search& search) {
  std::vector<std::string> searched;
  for (const auto& place : data_places(search)) {
    for (const auto& folder : candidate_folders(id, place.dir)) {
      const auto found =
          id == dataset_id::cifar10 ? probe_cifar(place, folder) : probe_idx(id, place, folder);
      if (found) return *found;
      searched.push_back(fmt::format("  {} ({})", folder.string(), place.origin));
    }
  }
  const std::string wanted =
      id == dataset_id::cifar10
          ? fmt::format(
                "{} or {}/ with {}", cifar_tarball_name, cifar_dir_name,
                join(std::vector<std::string>(cifar_members.begin(), cifar_members.end()), ", "))
          : join(std::vector<std::string>{"train-images-idx3-ubyte[.gz]",
                                          "train-labels-idx1-ubyte[.gz]",
                                          "t10k-images-idx3-ubyte[.gz]",
                                          "t10k-labels-idx1-ubyte[.gz]"},
                 ", ");
  throw file_error(fmt::format(
      "{} not found: looked for {} in\n{}\nfetch it with `scripts/fetch-data.sh {} DIR` and pass "
      "--data-dir DIR (or set APICAL_DATA=DIR)",
      to_string(id), wanted, join(searched, "\n"), to_string(id)));
}

loaded_dataset load_dataset(const data_location& location, const load_options& options) {
  switch (location.kind) {
    case storage::idx_files:
      return load_idx(location, options);
    case storage::cifar_directory:
      return load_cifar_directory(location, options);
    case storage::cifar_tarball:
      return load_cifar_tarball(location, options);
  }
  throw parameter_error("load_dataset: unknown storage kind");
}

loaded_dataset load_dataset(dataset_id id, const data_search& search, const load_options& options) {
  return load_dataset(locate_dataset(id, search), options);
}

loaded_dataset load_dataset(std::string_view name, const fs::path& data_dir,
                            const load_options& options) {
  return load_dataset(parse_dataset_id(name), data_search{data_dir, {}, true}, options);
}

}  // namespace apical::datasets
