#pragma once
// Checkpoint files of `apical train`: the library's one checkpoint format
// (apical/learning/training/checkpoint.hpp), written atomically.
#include <filesystem>

#include "apical/learning/training/checkpoint.hpp"
#include "train_metrics.hpp"

namespace apical::app {

using learning::checkpoint;
using learning::checkpoint_version;
using learning::decode_checkpoint;
using learning::encode_checkpoint;

// Written atomically (train_files.hpp).
void save_checkpoint(const checkpoint& c, const std::filesystem::path& file);
checkpoint load_checkpoint(const std::filesystem::path& file);

}  // namespace apical::app
