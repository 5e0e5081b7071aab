// bench_microcircuit: trains the spiking microcircuit on MNIST and, on the
// same data and architecture, the rate-based reference trainers (BP, FA,
// DFA, SC-FA); reports test accuracies, samples per second, and the
// per-layer alignment angle between the microcircuit's update and BP's over
// training (CSV, and an SVG line plot).
//
// See bench/microcircuit/README.md for what it measures and the figures.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "apical/datasets/encoders.hpp"
#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"
#include "apical/learning/microcircuit/trainer.hpp"
#include "apical/learning/reference/alignment.hpp"
#include "apical/learning/reference/rate_data.hpp"
#include "apical/learning/reference/reference_trainer.hpp"

namespace po = boost::program_options;
namespace learning = apical::learning;
namespace datasets = apical::datasets;

namespace {

std::vector<std::size_t> parse_sizes(const std::string& text, std::string_view option) {
  std::vector<std::size_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    std::size_t pos = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(item, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos != item.size() || v == 0)
      throw apical::parameter_error(fmt::format(
          "--{}: '{}' is not a positive integer (expected e.g. 800 or 800,400)", option, item));
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

struct alignment_row {
  std::size_t epoch;
  std::size_t batch;
  std::size_t samples_seen;
  std::vector<double> angle_deg;      // microcircuit vs BP at the measured activity
  std::vector<double> own_angle_deg;  // microcircuit vs its own rate-level target
  double batch_accuracy;
};

// A line plot of the per-layer angles against samples seen, by hand.
void write_svg(const std::filesystem::path& path, const std::vector<alignment_row>& rows,
               std::size_t layers, std::string_view title) {
  const double width = 760, height = 420, left = 70, right = 190, top = 40, bottom = 55;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  double x_max = 1;
  for (const auto& r : rows) x_max = std::max(x_max, static_cast<double>(r.samples_seen));
  // Round the axis up to 5 ticks of 1, 2 or 5 times a power of ten.
  const double raw_step = x_max / 5.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw_step) {
      step = m * magnitude;
      break;
    }
  x_max = 5.0 * step;
  const double y_max = 90;
  const auto X = [&](double x) { return left + plot_w * x / x_max; };
  const auto Y = [&](double y) { return top + plot_h * (1.0 - std::min(y, y_max) / y_max); };
  static constexpr const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c",
                                            "#9467bd", "#ff7f0e", "#8c564b"};
  std::ofstream out(path);
  out << fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height);
  out << fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", width, height);
  out << fmt::format("<text x=\"{}\" y=\"22\" font-size=\"14\">{}</text>\n", left, title);
  for (int y = 0; y <= 90; y += 15) {
    out << fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        left, Y(y), left + plot_w, left - 6, Y(y) + 4, y);
  }
  for (int k = 0; k <= 5; ++k) {
    const double x = x_max * k / 5.0;
    out << fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4:.0f}</text>\n",
        X(x), top, top + plot_h, top + plot_h + 18, x);
  }
  out << fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
      "stroke=\"black\"/>\n",
      left, top, plot_w, plot_h);
  out << fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">training samples seen</text>\n",
      left + plot_w / 2, height - 12);
  out << fmt::format(
      "<text x=\"18\" y=\"{0}\" transform=\"rotate(-90 18 {0})\" "
      "text-anchor=\"middle\">angle to BP (degrees)</text>\n",
      top + plot_h / 2);
  for (std::size_t w = 0; w < layers; ++w) {
    const char* colour = colours[w % 6];
    for (const bool own : {false, true}) {
      std::string points;
      for (const auto& r : rows) {
        const double a = own ? r.own_angle_deg[w] : r.angle_deg[w];
        if (std::isfinite(a))
          points += fmt::format("{:.1f},{:.1f} ", X(static_cast<double>(r.samples_seen)), Y(a));
      }
      out << fmt::format(
          "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{} points=\"{}\"/>\n", colour,
          own ? 1.0 : 1.5, own ? " stroke-dasharray=\"4 3\" opacity=\"0.7\"" : "", points);
    }
    const double ly = top + 16 + 36.0 * static_cast<double>(w);
    out << fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"{3}\" "
        "stroke-width=\"2\"/>\n<text x=\"{4}\" y=\"{5:.1f}\">W{6} vs BP</text>\n"
        "<line x1=\"{0}\" y1=\"{7:.1f}\" x2=\"{2}\" y2=\"{7:.1f}\" stroke=\"{3}\" "
        "stroke-dasharray=\"4 3\"/>\n<text x=\"{4}\" y=\"{8:.1f}\">W{6} vs own rate</text>\n",
        left + plot_w + 10, ly, left + plot_w + 30, colour, left + plot_w + 36, ly + 4, w + 1,
        ly + 16, ly + 20);
  }
  out << "</svg>\n";
}

// Reads an alignment.csv written by this program.
std::vector<alignment_row> read_alignment_csv(const std::filesystem::path& path,
                                              std::size_t& layers) {
  std::ifstream in(path);
  if (!in) throw apical::file_error(fmt::format("{}: cannot open", path.string()));
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  if (header.size() < 6 || (header.size() - 4) % 2 != 0)
    throw apical::file_error(fmt::format(
        "{}: header has {} columns; expected epoch,batch,samples_seen,batch_accuracy and two "
        "angle columns per layer",
        path.string(), header.size()));
  layers = (header.size() - 4) / 2;
  std::vector<alignment_row> rows;
  while (std::getline(in, line)) {
    const auto f = split(line);
    if (f.size() != header.size()) continue;
    alignment_row r{std::stoul(f[0]), std::stoul(f[1]), std::stoul(f[2]), {}, {}, std::stod(f[3])};
    for (std::size_t w = 0; w < layers; ++w) {
      r.angle_deg.push_back(std::stod(f[4 + 2 * w]));
      r.own_angle_deg.push_back(std::stod(f[5 + 2 * w]));
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

struct reference_result {
  std::string name;
  double accuracy;
  double seconds;
};

reference_result run_reference(const std::string& name, const std::vector<std::size_t>& sizes,
                               learning::dataset_view train, learning::dataset_view test,
                               std::size_t epochs, double lr, std::size_t threads,
                               std::uint64_t seed) {
  learning::rate_network_params np;
  np.layer_sizes = sizes;
  np.seed = seed;
  learning::rate_network net(np);
  learning::trainer_params tp;
  tp.learning_rate = lr;
  tp.momentum = 0.9;
  tp.batch_size = 32;
  tp.threads = threads;
  tp.seed = seed;
  if (name == "bp") {
    tp.algo = learning::algorithm::bp;
  } else if (name == "fa") {
    tp.algo = learning::algorithm::fa;
  } else if (name == "dfa") {
    tp.algo = learning::algorithm::dfa;
  } else if (name == "scfa") {
    tp.algo = learning::algorithm::scfa;
    tp.magnitude = learning::sign_magnitude::random;
  } else {
    throw apical::parameter_error(
        fmt::format("--references: unknown trainer '{}'; expected bp, fa, dfa or scfa", name));
  }
  learning::reference_trainer trainer(net, tp);
  const auto start = std::chrono::steady_clock::now();
  const auto metrics = trainer.train(net, train, test, epochs);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {name, metrics.back().test_accuracy, seconds};
}

}  // namespace

int main(int argc, char** argv) try {
  const learning::microcircuit_params d;  // the library's defaults
  po::options_description opts("bench_microcircuit options");
  // clang-format off
  opts.add_options()
    ("help", "this text")
    ("data-dir", po::value<std::string>()->default_value(""), "MNIST folder (empty: search)")
    ("train", po::value<std::size_t>()->default_value(10000), "training samples (first N)")
    ("test", po::value<std::size_t>()->default_value(10000), "test samples (first N)")
    ("epochs", po::value<std::size_t>()->default_value(1), "training epochs")
    ("hidden", po::value<std::string>()->default_value("800"), "hidden sizes, e.g. 800 or 500,300")
    ("threads", po::value<std::size_t>()->default_value(2), "worker threads")
    ("chunks", po::value<std::size_t>()->default_value(d.chunks), "accumulation chunks per batch")
    ("batch", po::value<std::size_t>()->default_value(d.batch_size), "mini-batch size")
    ("feedback", po::value<std::string>()->default_value("sign-concordant"),
     "sign-concordant, random, symmetric or direct")
    ("magnitude", po::value<std::string>()->default_value("random"), "random or uniform")
    ("window", po::value<double>()->default_value(d.window_ms), "presentation window (ms)")
    ("phase", po::value<std::string>()->default_value("concurrent"), "concurrent or after-settle")
    ("settle", po::value<double>()->default_value(d.settle_ms), "settle time (ms) with after-settle")
    ("encoder", po::value<std::string>()->default_value("poisson"), "poisson or regular (datasets encoders)")
    ("rate", po::value<double>()->default_value(d.input_rate_hz), "input rate for intensity 1 (Hz)")
    ("teacher-on", po::value<double>()->default_value(d.teacher_on_hz), "teacher rate of the label (Hz)")
    ("teacher-off", po::value<double>()->default_value(d.teacher_off_hz), "teacher rate of the others (Hz)")
    ("eta", po::value<double>()->default_value(d.learning_rate), "learning rate per apical event (mV)")
    ("eta-scale", po::value<std::string>()->default_value(""), "per-layer eta multipliers, e.g. 1,0.5")
    ("tau-x", po::value<double>()->default_value(d.tau_x_ms), "presynaptic trace time constant (ms)")
    ("tau-g", po::value<double>()->default_value(d.tau_g_ms), "somatic gate time (ms)")
    ("tau-s", po::value<double>()->default_value(d.pyramidal.tau_s_ms), "P somatic membrane time constant (ms)")
    ("t-ref", po::value<double>()->default_value(d.pyramidal.t_ref_ms), "P refractory period (ms)")
    ("init-gain", po::value<double>()->default_value(d.init_gain), "forward initialisation gain")
    ("feedback-weight", po::value<double>()->default_value(d.feedback_weight_mv), "mean feedback magnitude (mV)")
    ("symmetric-gain", po::value<double>()->default_value(d.symmetric_gain), "symmetric feedback gain")
    ("theta", po::value<double>()->default_value(d.error_theta_mv), "error cell threshold (mV)")
    ("output-weight", po::value<double>()->default_value(d.output_error_weight_mv), "teacher / output -> error weight (mV)")
    ("manhattan", po::bool_switch(), "sign (Manhattan) steps")
    ("w-max", po::value<double>()->default_value(std::numeric_limits<double>::infinity()), "weight bound |W| <= w-max (mV)")
    ("seed", po::value<std::uint64_t>()->default_value(1), "seed")
    ("align-every", po::value<std::size_t>()->default_value(10), "alignment every N batches (0: never)")
    ("out", po::value<std::string>()->default_value(""), "folder for alignment.csv, alignment.svg, epochs.csv")
    ("references", po::value<std::string>()->default_value(""), "reference trainers to run: bp,fa,dfa,scfa")
    ("ref-lr", po::value<double>()->default_value(0.01), "reference trainers' learning rate")
    ("ref-epochs", po::value<std::size_t>()->default_value(0), "reference epochs (0: same as --epochs)")
    ("skip-microcircuit", po::bool_switch(), "run only the references")
    ("replot", po::value<std::string>(), "only redraw DIR/alignment.svg from DIR/alignment.csv");
  // clang-format on
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (vm.count("replot")) {
    const std::filesystem::path dir = vm["replot"].as<std::string>();
    std::size_t layers = 0;
    const auto rows = read_alignment_csv(dir / "alignment.csv", layers);
    write_svg(dir / "alignment.svg", rows, layers,
              fmt::format("microcircuit ({}) update vs BP, MNIST", dir.filename().string()));
    return 0;
  }

  datasets::load_options lo;
  lo.max_train = vm["train"].as<std::size_t>();
  lo.max_test = vm["test"].as<std::size_t>();
  const auto data = datasets::load_dataset("mnist", vm["data-dir"].as<std::string>(), lo);
  const auto train_inputs = datasets::intensities(data.train.pixels());
  const auto test_inputs = datasets::intensities(data.test.pixels());
  const std::size_t n_in = data.train.shape().size();
  const learning::dataset_view train(train_inputs, data.train.labels(), n_in);
  const learning::dataset_view test(test_inputs, data.test.labels(), n_in);
  fmt::print("data: {} training and {} test samples of {} values ({})\n", train.count, test.count,
             n_in, data.location.folder.string());
  std::fflush(stdout);

  std::vector<std::size_t> sizes{n_in};
  for (auto h : parse_sizes(vm["hidden"].as<std::string>(), "hidden")) sizes.push_back(h);
  sizes.push_back(data.train.class_count());
  const std::size_t epochs = vm["epochs"].as<std::size_t>();
  const std::size_t threads = vm["threads"].as<std::size_t>();
  const std::uint64_t seed = vm["seed"].as<std::uint64_t>();
  std::string arch;
  for (auto s : sizes) arch += (arch.empty() ? "" : "-") + std::to_string(s);

  const std::filesystem::path out_dir = vm["out"].as<std::string>();
  if (!out_dir.empty()) std::filesystem::create_directories(out_dir);

  if (!vm["skip-microcircuit"].as<bool>()) {
    learning::microcircuit_params p;
    p.layer_sizes = sizes;
    p.threads = threads;
    p.chunks = vm["chunks"].as<std::size_t>();
    p.batch_size = vm["batch"].as<std::size_t>();
    p.feedback = learning::parse_feedback_mode(vm["feedback"].as<std::string>(), "--feedback");
    p.magnitude = learning::parse_sign_magnitude(vm["magnitude"].as<std::string>(), "--magnitude");
    p.window_ms = vm["window"].as<double>();
    p.phase = learning::parse_error_phase(vm["phase"].as<std::string>(), "--phase");
    p.settle_ms = vm["settle"].as<double>();
    p.input_rate_hz = vm["rate"].as<double>();
    p.teacher_on_hz = vm["teacher-on"].as<double>();
    p.teacher_off_hz = vm["teacher-off"].as<double>();
    p.learning_rate = vm["eta"].as<double>();
    for (const auto& s : split(vm["eta-scale"].as<std::string>()))
      p.layer_rate_scale.push_back(std::stod(s));
    p.tau_x_ms = vm["tau-x"].as<double>();
    p.tau_g_ms = vm["tau-g"].as<double>();
    p.pyramidal.tau_s_ms = vm["tau-s"].as<double>();
    p.pyramidal.t_ref_ms = vm["t-ref"].as<double>();
    p.init_gain = vm["init-gain"].as<double>();
    p.feedback_weight_mv = vm["feedback-weight"].as<double>();
    p.symmetric_gain = vm["symmetric-gain"].as<double>();
    p.error_theta_mv = vm["theta"].as<double>();
    p.output_error_weight_mv = vm["output-weight"].as<double>();
    p.manhattan = vm["manhattan"].as<bool>();
    p.w_max_mv = vm["w-max"].as<double>();
    p.w_min_mv = -p.w_max_mv;
    p.seed = seed;
    const std::string enc = vm["encoder"].as<std::string>();
    if (enc == "poisson") {
      datasets::poisson_encoder e;
      e.duration_ms = p.window_ms;
      e.max_rate_hz = p.input_rate_hz;
      p.encoder = [e](std::span<const float> v, std::uint64_t s, std::uint64_t i,
                      apical::spike_raster& out) { e.encode(v, s, i, out); };
    } else if (enc == "regular") {
      datasets::regular_encoder e;
      e.duration_ms = p.window_ms;
      e.max_rate_hz = p.input_rate_hz;
      e.random_phase = true;
      p.encoder = [e](std::span<const float> v, std::uint64_t s, std::uint64_t i,
                      apical::spike_raster& out) { e.encode(v, s, i, out); };
    } else {
      throw apical::parameter_error(
          fmt::format("--encoder: unknown encoder '{}'; expected poisson or regular", enc));
    }

    learning::microcircuit_trainer trainer(p);
    const std::size_t L = trainer.num_layers();
    const std::size_t align_every = vm["align-every"].as<std::size_t>();
    std::vector<alignment_row> rows;
    std::ofstream epochs_csv;
    if (!out_dir.empty()) {
      epochs_csv.open(out_dir / "epochs.csv");
      epochs_csv << "epoch,samples,train_error,train_accuracy,test_accuracy,seconds,"
                    "samples_per_second,input_spikes,hidden_spikes,output_spikes,error_spikes,"
                    "apical_updates\n";
    }
    std::size_t seen = 0;
    fmt::print(
        "microcircuit {} feedback={} window={} ms, rate={} Hz, eta={}, batch={}, threads={}\n",
        arch, learning::to_string(p.feedback), p.window_ms, p.input_rate_hz, p.learning_rate,
        p.batch_size, threads);
    for (std::size_t e = 0; e < epochs; ++e) {
      learning::microcircuit_trainer::batch_callback on_batch;
      if (align_every > 0) {
        on_batch = [&](std::size_t b, const learning::batch_measurement& m) {
          if (b % align_every != 0) return;
          alignment_row r{e, b, seen + b * p.batch_size, trainer.alignment_with_bp(m), {}, 0.0};
          const auto own = learning::rate_updates_at(m.activity, trainer.feedback_signed(),
                                                     p.feedback == learning::feedback_mode::direct,
                                                     p.output_gate);
          r.own_angle_deg = learning::alignment_angles_deg(m.microcircuit, own);
          std::size_t correct = 0;
          for (const auto& o : m.outcomes) correct += o.correct() ? 1 : 0;
          r.batch_accuracy = static_cast<double>(correct) / static_cast<double>(m.outcomes.size());
          rows.push_back(std::move(r));
        };
      }
      auto m = trainer.train_epoch(train, on_batch);
      seen += m.samples;
      const auto ev = trainer.evaluate(test);
      m.test_accuracy = ev.accuracy;
      fmt::print(
          "epoch {}: train error {:.3f}, train acc {:.4f}, test acc {:.4f} ({} silent), {:.1f} s, "
          "{:.1f} samples/s (test {:.1f} samples/s)\n"
          "  per sample: input {:.0f}, hidden {:.0f}, output {:.1f}, error {:.1f} spikes, {:.1f} "
          "apical updates\n",
          m.epoch, m.train_error, m.train_accuracy, m.test_accuracy, ev.silent, m.seconds,
          m.samples_per_second, static_cast<double>(ev.count) / ev.seconds, m.input_spikes,
          m.hidden_spikes, m.output_spikes, m.error_spikes, m.apical_updates);
      std::fflush(stdout);
      if (!rows.empty()) {
        std::string last;
        for (std::size_t w = 0; w < L; ++w)
          last += fmt::format(" W{}: {:.1f} deg (own target {:.1f})", w + 1,
                              rows.back().angle_deg[w], rows.back().own_angle_deg[w]);
        fmt::print("  last alignment with BP:{}\n", last);
      }
      if (epochs_csv)
        epochs_csv << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", m.epoch, m.samples,
                                  m.train_error, m.train_accuracy, m.test_accuracy, m.seconds,
                                  m.samples_per_second, m.input_spikes, m.hidden_spikes,
                                  m.output_spikes, m.error_spikes, m.apical_updates);
    }
    if (!out_dir.empty() && !rows.empty()) {
      std::ofstream csv(out_dir / "alignment.csv");
      csv << "epoch,batch,samples_seen,batch_accuracy";
      for (std::size_t w = 0; w < L; ++w)
        csv << fmt::format(",angle_bp_w{0},angle_own_w{0}", w + 1);
      csv << "\n";
      for (const auto& r : rows) {
        csv << fmt::format("{},{},{},{}", r.epoch, r.batch, r.samples_seen, r.batch_accuracy);
        for (std::size_t w = 0; w < L; ++w)
          csv << fmt::format(",{:.3f},{:.3f}", r.angle_deg[w], r.own_angle_deg[w]);
        csv << "\n";
      }
      write_svg(out_dir / "alignment.svg", rows, L,
                fmt::format("microcircuit ({}) update vs BP, MNIST {}",
                            learning::to_string(p.feedback), arch));
    }
  }

  const auto refs = split(vm["references"].as<std::string>());
  if (!refs.empty()) {
    const std::size_t ref_epochs =
        vm["ref-epochs"].as<std::size_t>() ? vm["ref-epochs"].as<std::size_t>() : epochs;
    for (const auto& name : refs) {
      const auto r = run_reference(name, sizes, train, test, ref_epochs, vm["ref-lr"].as<double>(),
                                   threads, seed);
      fmt::print("reference {} {}: test acc {:.4f} after {} epochs ({:.1f} s)\n", r.name, arch,
                 r.accuracy, ref_epochs, r.seconds);
      std::fflush(stdout);
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
