#pragma once
// Finding and loading the standard datasets.
//
// Where data is looked up, in order (the first place holding the dataset
// wins; an explicit directory is the only place searched):
//   1. the explicit directory (--data-dir)
//   2. $APICAL_DATA
//   3. ../shared/datasets from the current directory
//   4. <source tree>/../shared/datasets, when the source tree is known
//   5. ./data (where scripts/fetch-data.sh puts files by default)
//   6. /usr/share/datasets (Debian's dataset-* packages)
// In each place a dataset lives in its own folder, or the place may be that
// folder itself:
//   mnist/          train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
//                   t10k-images-idx3-ubyte[.gz],  t10k-labels-idx1-ubyte[.gz]
//                   (also the "train-images.idx3-ubyte" spelling)
//   fashion-mnist/  the same four files
//   cifar10/        cifar-10-batches-bin/ (unpacked, read first) or
//                   cifar-10-binary.tar.gz (read without unpacking)
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "apical/datasets/dataset.hpp"
#include "apical/datasets/idx.hpp"

namespace apical::datasets {

enum class dataset_id { mnist, fashion_mnist, cifar10 };

// "mnist", "fashion-mnist", "cifar10"
std::string_view to_string(dataset_id id);
// Accepts the names above (and "fashion_mnist", "cifar-10"); throws
// parameter_error listing the valid names otherwise.
dataset_id parse_dataset_id(std::string_view name);
// The class names, in label order.
std::vector<std::string> default_class_names(dataset_id id);
// The image shape of the standard release: 1 x 28 x 28 (MNIST,
// Fashion-MNIST) or 3 x 32 x 32 (CIFAR-10).
image_shape standard_shape(dataset_id id);

struct data_search {
  std::filesystem::path data_dir;    // explicit directory; empty: search
  std::filesystem::path source_dir;  // the source tree, for <source>/../shared/datasets
  bool use_environment = true;       // consult $APICAL_DATA
};

struct data_place {
  std::filesystem::path dir;
  std::string origin;  // why it is searched, e.g. "$APICAL_DATA" or "--data-dir"
};

// The source tree this library was built from, or empty if unknown: the
// default data_search::source_dir of the command-line tools.
std::filesystem::path build_source_dir();

// The places searched, in order, duplicates removed.
std::vector<data_place> data_places(const data_search& search);

enum class storage { idx_files, cifar_directory, cifar_tarball };

struct data_location {
  dataset_id id = dataset_id::mnist;
  data_place place;              // the searched place where it was found
  std::filesystem::path folder;  // the folder holding the files
  storage kind = storage::idx_files;
  // idx_files: train images, train labels, test images, test labels.
  // cifar_directory: data_batch_1..5.bin, test_batch.bin, batches.meta.txt.
  // cifar_tarball: the .tar.gz.
  std::vector<std::filesystem::path> files;
};

// Finds the dataset; throws file_error listing every folder searched and the
// files looked for when it is nowhere, or naming the missing files when a
// folder holds only part of it.
data_location locate_dataset(dataset_id id, const data_search& search);

struct load_options {
  std::size_t max_train = all_items;  // load only the first N training samples
  std::size_t max_test = all_items;   // load only the first N test samples
  // Records each CIFAR-10 batch file must hold (0: any whole number).
  std::size_t cifar_records_per_file = 10000;
};

struct loaded_dataset {
  dataset train;
  dataset test;
  data_location location;
};

// Reads the dataset at `location`. Throws file_error naming the file, offset
// or field, and what was expected, on anything malformed or missing.
loaded_dataset load_dataset(const data_location& location, const load_options& options = {});
// locate_dataset, then load.
loaded_dataset load_dataset(dataset_id id, const data_search& search,
                            const load_options& options = {});
// By name, with an explicit data directory (empty: search).
loaded_dataset load_dataset(std::string_view name, const std::filesystem::path& data_dir,
                            const load_options& options = {});

}  // namespace apical::datasets
