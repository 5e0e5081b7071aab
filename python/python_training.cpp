#include "python_training.hpp"

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/learning/training/run.hpp"
#include "train_config.hpp"
#include "train_model.hpp"

namespace py = pybind11;

namespace apical::python {
namespace {

// Thrown through the training loop when Ctrl-C was pressed; Python's error
// indicator holds the KeyboardInterrupt meanwhile.
struct interrupted {};

py::object measured(double x) { return std::isnan(x) ? py::none() : py::cast(x); }

py::dict epoch_dict(const learning::epoch_record& r) {
  py::dict d;
  d["epoch"] = r.epoch;
  d["samples"] = r.samples;
  d["train_accuracy"] = r.train_accuracy;
  d["train_loss"] = r.train_loss;
  d["test_accuracy"] = measured(r.test_accuracy);
  d["test_loss"] = measured(r.test_loss);
  d["spikes_per_sample"] = measured(r.spikes_per_sample);
  d["wall_s"] = r.wall_s;
  d["samples_per_s"] = r.samples_per_s;
  d["alignment_deg"] = r.alignment_deg;
  d["dead_fraction"] = r.dead_fraction;
  d["quiet_fraction"] = r.quiet_fraction;
  d["hidden_rate_hz"] = r.hidden_rate_hz;
  return d;
}

// A key's value as the command line would read it: True -> "true".
std::string key_text(const py::handle& value) {
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "true" : "false";
  return py::str(value).cast<std::string>();
}

// Keys by their command-line names; Python's train_samples is train-samples.
app::key_values given_keys(const py::dict& keys) {
  std::vector<std::string> known;
  for (const auto& k : app::config_keys()) known.push_back(k.name);
  app::key_values given;
  for (const auto& [key, value] : keys) {
    std::string name = py::str(key).cast<std::string>();
    std::replace(name.begin(), name.end(), '_', '-');
    const auto dot = name.find('.');  // rate.KEY, microcircuit.KEY keep their underscores
    if (dot != std::string::npos) name = py::str(key).cast<std::string>();
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw parameter_error(fmt::format("train: unknown key '{}'; expected one of: {}",
                                        py::str(key).cast<std::string>(), fmt::join(known, ", ")));
    given.emplace(name, key_text(value));
  }
  return given;
}

py::dict train(const py::dict& keys, const py::object& on_epoch) {
  const app::train_config cfg = app::resolve_config(given_keys(keys));
  app::validate(cfg);
  py::dict out;
  std::unique_ptr<app::prepared_data> prepared;
  {
    py::gil_scoped_release nogil;
    const auto data = app::load_training_data(cfg);
    prepared = std::make_unique<app::prepared_data>(
        app::prepared_data{datasets::prepare_inputs(data, cfg.input)});
  }
  auto model = app::make_model(cfg);
  learning::training_history history;
  learning::training_run run(*model, prepared->train(), prepared->test(), history);
  const auto main_thread = std::this_thread::get_id();
  learning::run_observer observer;
  // Ctrl-C is looked for as training progresses (on the calling thread).
  observer.training = [&](std::size_t, std::size_t) {
    if (std::this_thread::get_id() != main_thread) return;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw interrupted{};
  };
  observer.end_epoch = [&](const learning::epoch_record& r) {
    if (on_epoch.is_none()) return;
    py::gil_scoped_acquire gil;
    try {
      on_epoch(epoch_dict(r));
    } catch (py::error_already_set& e) {
      e.restore();  // back into the error indicator, raised once the run unwinds
      throw interrupted{};
    }
  };
  try {
    py::gil_scoped_release nogil;
    if (!prepared->test_labels.empty()) run.test_initial(observer);
    const auto kept = [](std::size_t) { return std::string("nothing was written"); };
    run.train_until(cfg.epochs, {"train", kept, cfg.learning_rate}, observer);
  } catch (const interrupted&) {
    throw py::error_already_set();
  }
  out["dataset"] = cfg.dataset;
  out["algo"] = std::string(app::to_string(cfg.algo));
  out["arch"] = app::arch_to_string(cfg.arch);
  out["train_samples"] = prepared->train_labels.size();
  out["test_samples"] = prepared->test_labels.size();
  out["initial_test_accuracy"] = measured(history.initial_test_accuracy);
  py::list epochs;
  for (const auto& r : history.epochs) epochs.append(epoch_dict(r));
  out["epochs"] = epochs;
  out["final_test_accuracy"] =
      history.epochs.empty() ? py::none() : measured(history.epochs.back().test_accuracy);
  return out;
}

}  // namespace

void bind_training(py::module_& m) {
  m.def(
      "_train", &train, py::arg("keys"), py::arg("on_epoch") = py::none(),
      "Trains as `apical train` with these keys (command-line names, '-' or '_'); returns the "
      "metrics. on_epoch(record) is called after every epoch.");
}

}  // namespace apical::python
