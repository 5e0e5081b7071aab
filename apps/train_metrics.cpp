#include "train_metrics.hpp"

#include <cmath>

#include <fmt/format.h>

#include "json_writer.hpp"
#include "train_files.hpp"

namespace apical::app {
namespace {

// An empty CSV field for what was not measured.
std::string field(double v) {
  return std::isfinite(v) ? fmt::format("{}", v) : std::string();
}

void array_or_null(json_writer& j, std::string_view name, const std::vector<double>& values) {
  if (values.empty()) {
    j.null(name);
    return;
  }
  j.begin_array(name);
  for (const double v : values) j.value({}, v);
  j.end_array();
}

void epochs_json(json_writer& j, const std::vector<epoch_record>& epochs) {
  for (const auto& e : epochs) {
    j.begin_object();
    j.value("epoch", std::uint64_t{e.epoch});
    j.value("samples", std::uint64_t{e.samples});
    j.value("train_accuracy", e.train_accuracy);
    j.value("test_accuracy", e.test_accuracy);
    j.value("train_loss", e.train_loss);
    j.value("test_loss", e.test_loss);
    j.value("spikes_per_sample", e.spikes_per_sample);
    j.value("input_spikes_per_sample", e.input_spikes_per_sample);
    j.value("wall_s", e.wall_s);
    j.value("samples_per_s", e.samples_per_s);
    array_or_null(j, "alignment_deg", e.alignment_deg);
    array_or_null(j, "dead_fraction", e.dead_fraction);
    array_or_null(j, "quiet_fraction", e.quiet_fraction);
    array_or_null(j, "hidden_rate_hz", e.hidden_rate_hz);
    j.end_object();
  }
}

}  // namespace

void write_metrics_csv(const std::filesystem::path& file, const run_summary& run,
                       const training_history& h) {
  std::string out =
      "epoch,train_accuracy,test_accuracy,train_loss,test_loss,spikes_per_sample,"
      "input_spikes_per_sample,wall_s,samples_per_s";
  for (std::size_t l = 0; l < run.layers; ++l) out += fmt::format(",alignment_layer{}_deg", l + 1);
  for (std::size_t l = 1; l < run.layers; ++l)
    out += fmt::format(",dead_fraction_layer{0},quiet_fraction_layer{0},rate_layer{0}_hz", l);
  out += '\n';
  for (const auto& e : h.epochs) {
    out += fmt::format("{},{},{},{},{},{},{},{},{}", e.epoch, field(e.train_accuracy),
                       field(e.test_accuracy), field(e.train_loss), field(e.test_loss),
                       field(e.spikes_per_sample), field(e.input_spikes_per_sample),
                       field(e.wall_s), field(e.samples_per_s));
    for (std::size_t l = 0; l < run.layers; ++l)
      out += "," + (l < e.alignment_deg.size() ? field(e.alignment_deg[l]) : std::string());
    const auto at = [](const std::vector<double>& v, std::size_t l) {
      return l < v.size() ? field(v[l]) : std::string();
    };
    for (std::size_t l = 0; l + 1 < run.layers; ++l)
      out += fmt::format(",{},{},{}", at(e.dead_fraction, l), at(e.quiet_fraction, l),
                         at(e.hidden_rate_hz, l));
    out += '\n';
  }
  write_file_atomically(file, out);
}

void write_metrics_json(const std::filesystem::path& file, const run_summary& run,
                        const training_history& h, const std::vector<comparison_run>& compare) {
  json_writer j;
  j.begin_object();
  j.value("dataset", run.dataset);
  j.value("algo", run.algo);
  j.value("arch", run.arch);
  j.value("train_samples", std::uint64_t{run.train_samples});
  j.value("test_samples", std::uint64_t{run.test_samples});
  j.value("epochs_done", std::uint64_t{h.epochs.size()});
  j.value("initial_test_accuracy", h.initial_test_accuracy);
  j.value("final_test_accuracy", h.epochs.empty() ? not_measured : h.epochs.back().test_accuracy);
  j.value("final_train_accuracy", h.epochs.empty() ? not_measured : h.epochs.back().train_accuracy);
  j.begin_array("epochs");
  epochs_json(j, h.epochs);
  j.end_array();
  j.begin_array("compare");
  for (const auto& c : compare) {
    j.begin_object();
    j.value("algo", c.algo);
    j.value("label", c.label);
    j.value("learning_rate", c.learning_rate);
    j.value("initial_test_accuracy", c.initial_test_accuracy);
    j.value("final_test_accuracy", c.epochs.empty() ? not_measured : c.epochs.back().test_accuracy);
    j.begin_array("epochs");
    epochs_json(j, c.epochs);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
  write_file_atomically(file, j.str());
}

}  // namespace apical::app
