#pragma once
// The spikes of `apical simulate`, written as the run goes: after every
// step of the run, the spikes recorded since the previous one are appended
// to the spike file and added to the activity figures of summary.json, and
// the recorder is emptied. Memory and checkpoints then hold no spikes: a
// checkpoint keeps the file's length and a hash of its bytes, and a resumed
// run cuts the file back to that length and appends.
//
// CSV: DIR/spikes.csv grows row by row; a run without checkpoints writes
// it as DIR/spikes.csv.part and renames it at the end, so that a run that
// stops early leaves no spikes.csv that looks complete. SONATA (HDF5) is written whole at
// the end, from DIR/spikes.h5.records, 16-byte records (time_ms as double,
// population as u32, neuron as u32) appended as the run goes; the records
// file is removed at the end unless checkpoints refer to it.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apical/engine/analysis.hpp"
#include "apical/engine/checkpoint.hpp"
#include "apical/engine/network.hpp"
#include "apical/engine/recorders.hpp"
#include "spike_files.hpp"

namespace apical::app {

class spike_output {
 public:
  // `format` nothing: no spike file (the activity figures are kept).
  // `populations`: those recorded.
  spike_output(const network& net, std::vector<std::size_t> populations,
               std::optional<spikes_format> format, std::filesystem::path dir);
  ~spike_output();
  spike_output(const spike_output&) = delete;
  spike_output& operator=(const spike_output&) = delete;

  // Starts a new file (an existing one is replaced). `staged`: written
  // under a temporary name until finish() (runs without checkpoints).
  void start(bool staged);
  // Appends the recorder's spikes and empties it.
  void append(spike_recorder& recorder);
  // Hands what was appended to the system (flush; throws file_error), and
  // returns the file's descriptor (-1 without a file), whose fsync, from
  // any thread, then makes it durable (for a checkpoint).
  int flush();
  // The file's length, a hash of its bytes and the activity sums.
  void save(checkpoint_writer& w) const;
  // Continues the file a checkpoint saved (cut back to its saved length
  // after checking its bytes) with the saved activity sums. Throws
  // file_error naming the file and the checkpoint `source`.
  void resume(checkpoint_reader& r, const std::string& source);
  // Closes the file; SONATA: writes DIR/spikes.h5 from the records (and
  // removes them unless `keep_records`).
  void finish(bool keep_records);

  // The activity of population p in [0, duration_ms).
  population_activity activity(std::size_t p, double duration_ms) const;
  // Spikes appended so far (from 0, a resumed run's included).
  std::uint64_t spikes() const { return spikes_; }

 private:
  std::filesystem::path file() const;
  std::uint8_t kind() const;  // 0 no file, 1 CSV, 2 SONATA (as saved)
  void open(const char* mode);
  void write(const std::string& bytes);

  const network* net_;
  std::vector<std::size_t> populations_;
  std::optional<spikes_format> format_;
  std::filesystem::path dir_;
  std::FILE* f_ = nullptr;
  bool staged_ = false;
  std::uint64_t length_ = 0, hash_ = 0, spikes_ = 0;
  std::vector<activity_accumulator> activity_;  // per population of the network
  std::string buffer_;
};

}  // namespace apical::app
