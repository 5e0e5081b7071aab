// apical dataset: look at a dataset as the loaders and encoders see it.
//   apical dataset info --dataset NAME [--data-dir D]
//   apical dataset show --dataset NAME --index N --output F.svg [--encode ...]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "apical/datasets/encoders.hpp"
#include "apical/datasets/loader.hpp"
#include "apical/engine/error.hpp"
#include "commands.hpp"
#include "svg_plot.hpp"

namespace po = boost::program_options;
namespace ds = apical::datasets;

namespace apical::app {
namespace {

constexpr std::string_view dataset_usage =
    "usage: apical dataset <command> [options]\n\n"
    "  info   where a dataset was found, its counts, shape, classes and label histogram\n"
    "  show   one image, and with --encode its spike raster, as an SVG file\n\n"
    "apical dataset <command> --help for the options of each. Datasets: mnist, fashion-mnist,\n"
    "cifar10 (see docs/datasets.md for where they are looked up).\n";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

ds::data_search make_search(const std::string& data_dir) {
  return ds::data_search{data_dir, ds::build_source_dir(), true};
}

// Parses argv (argv[0] is the subcommand); returns false when --help was shown.
bool parse(int argc, char** argv, const po::options_description& opts, po::variables_map& vm) {
  po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
  if (vm.count("help") != 0) {
    std::cout << opts << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? std::string(sep) : "") + parts[i];
  return out;
}

int run_info(int argc, char** argv) {
  po::options_description opts(
      "apical dataset info: where a dataset was found, its counts, shape, classes and label\n"
      "histogram per split, and how long it took to load\n\n"
      "usage: apical dataset info --dataset NAME [--data-dir DIR]\n\noptions");
  std::string name;
  std::string data_dir;
  opts.add_options()("help,h", "show this help")("dataset,d", po::value(&name)->required(),
                                                 "mnist, fashion-mnist or cifar10")(
      "data-dir", po::value(&data_dir),
      "directory holding <dataset>/ (default: search $APICAL_DATA, ../shared/datasets, ./data)");
  po::variables_map vm;
  if (!parse(argc, argv, opts, vm)) return 0;

  const auto id = ds::parse_dataset_id(name);
  const auto t0 = std::chrono::steady_clock::now();
  const auto location = ds::locate_dataset(id, make_search(data_dir));
  const auto loaded = ds::load_dataset(location);
  const double load_s = seconds_since(t0);

  const auto& train = loaded.train;
  const auto& test = loaded.test;
  const auto shape = train.shape();
  std::vector<std::string> files;
  for (const auto& f : location.files) files.push_back(f.filename().string());
  std::string out;
  out += fmt::format("{}\n", ds::to_string(id));
  out += fmt::format("  found in   {} ({})\n", location.folder.string(), location.place.origin);
  out += fmt::format("  files      {}\n", join(files, ", "));
  out += fmt::format("  shape      {} x {} x {} (channels x height x width), {} bytes per image\n",
                     shape.channels, shape.height, shape.width, shape.size());
  out += fmt::format("  classes    {}: {}\n", train.class_count(), join(train.class_names(), ", "));
  out += fmt::format("  samples    train {}, test {}\n", train.size(), test.size());
  out += "  label histogram\n";
  out += fmt::format("    {:>5}  {:<12} {:>8} {:>8}\n", "label", "class", "train", "test");
  const auto train_counts = train.label_histogram();
  const auto test_counts = test.label_histogram();
  for (std::size_t c = 0; c < train.class_count(); ++c) {
    out += fmt::format("    {:>5}  {:<12} {:>8} {:>8}\n", c, train.class_names()[c],
                       train_counts[c], test_counts[c]);
  }
  out += fmt::format("    {:>5}  {:<12} {:>8} {:>8}\n", "", "total", train.size(), test.size());
  out += fmt::format("  loaded in  {:.2f} s\n", load_s);
  std::cout << out << std::flush;
  return 0;
}

// --- show -----------------------------------------------------------------

struct svg_options {
  std::string title;
  const spike_raster* raster = nullptr;
  double duration_ms = 0.0;
  bool on_off = false;
};

std::string colour(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return fmt::format("#{:02x}{:02x}{:02x}", r, g, b);
}

// The image as one rect per pixel (grey, or RGB from the three planes), and
// beside it the raster: one tick per spike, channels top to bottom.
// The image, px units a pixel, its top left corner at (x0, y0).
std::string image_svg(std::span<const std::uint8_t> image, ds::image_shape shape, double px,
                      double x0, double y0) {
  const double img_w = px * static_cast<double>(shape.width);
  const double img_h = px * static_cast<double>(shape.height);
  const std::size_t plane = shape.height * shape.width;
  std::string svg = fmt::format(
      "<g shape-rendering=\"crispEdges\" transform=\"translate({},{})\">\n", x0, y0);
  for (std::size_t y = 0; y < shape.height; ++y) {
    for (std::size_t x = 0; x < shape.width; ++x) {
      const std::size_t p = y * shape.width + x;
      const std::string fill = shape.channels >= 3
                                   ? colour(image[p], image[plane + p], image[2 * plane + p])
                                   : colour(image[p], image[p], image[p]);
      svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n",
                         static_cast<double>(x) * px, static_cast<double>(y) * px, px, px, fill);
    }
  }
  svg += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n</g>\n",
                     img_w, img_h);
  return svg;
}

// The spike raster of o.raster, raster_w x raster_h, its top left corner at
// (x0, y0): one path per group of channels (colour planes, ON / OFF halves).
std::string raster_svg(const svg_options& o, ds::image_shape shape, double raster_w,
                       double raster_h, double x0, double y0) {
  const std::size_t channels = o.raster->channels();
  const double row = raster_h / static_cast<double>(std::max<std::size_t>(channels, 1));
  const double tick = std::max(row, 1.5);
  const double scale = raster_w / o.duration_ms;
  std::string svg = fmt::format("<g transform=\"translate({},{})\">\n", x0, y0);
  svg += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n",
                     raster_w, raster_h);
  const std::size_t planes = std::max<std::size_t>(shape.channels, 1);
  const std::size_t groups = o.on_off ? 2 * planes : planes;
  const std::size_t per_group = std::max<std::size_t>(channels / groups, 1);
  static const char* plane_names[] = {"red", "green", "blue"};
  static const char* plane_colours[] = {"#d7191c", "#1a9641", "#2b83ba"};
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t plane_of_group = g % planes;
    const bool off = o.on_off && g >= planes;
    const std::string stroke = o.on_off      ? (off ? "#d7191c" : "#1a9641")
                               : planes >= 3 ? plane_colours[plane_of_group % 3]
                                             : "#000000";
    std::string label = o.on_off ? (off ? "OFF" : "ON") : "";
    if (planes >= 3)
      label += (label.empty() ? "" : " ") + std::string(plane_names[plane_of_group % 3]);
    const std::size_t first = g * per_group;
    const std::size_t last = g + 1 == groups ? channels : std::min(channels, first + per_group);
    std::string d;
    for (std::size_t c = first; c < last; ++c) {
      for (const double t : o.raster->channel(c)) {
        d += fmt::format("M{:.2f} {:.2f}v{:.2f}", t * scale, static_cast<double>(c) * row, tick);
      }
    }
    if (!d.empty()) {
      svg += fmt::format("<path d=\"{}\" stroke=\"{}\" stroke-width=\"1.2\" fill=\"none\"/>\n", d,
                         stroke);
    }
    if (g > 0) {
      svg += fmt::format("<line x1=\"0\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#ccc\"/>\n",
                         static_cast<double>(first) * row, raster_w);
    }
    if (!label.empty()) {
      svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", raster_w + 6,
                         (static_cast<double>(first + last) / 2.0) * row + 4, stroke, label);
    }
  }
  for (int k = 0; k <= 4; ++k) {
    const double t = o.duration_ms * k / 4.0;
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#888\"/>"
        "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4:g}</text>\n",
        t * scale, raster_h, raster_h + 5, raster_h + 18, t);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time (ms)</text>\n",
                     raster_w / 2, raster_h + 36);
  svg += fmt::format(
      "<text transform=\"translate(-10,{}) rotate(-90)\" text-anchor=\"middle\">channel "
      "(0 to {})</text>\n",
      raster_h / 2, channels > 0 ? channels - 1 : 0);
  svg += "</g>\n";
  return svg;
}

std::string render_svg(std::span<const std::uint8_t> image, ds::image_shape shape,
                       const svg_options& o) {
  const double margin = 20.0;
  const double title_h = 28.0;
  const double px =
      std::max(4.0, std::floor(256.0 / static_cast<double>(std::max(shape.height, shape.width))));
  const double img_w = px * static_cast<double>(shape.width);
  const double img_h = px * static_cast<double>(shape.height);
  const double raster_x = margin + img_w + 60.0;
  const double raster_w = 640.0;
  const std::size_t channels = o.raster != nullptr ? o.raster->channels() : 0;
  const double raster_h =
      o.raster != nullptr ? std::clamp(static_cast<double>(channels), img_h, 800.0) : 0.0;
  const double width = o.raster != nullptr ? raster_x + raster_w + 70.0 : margin * 2 + img_w;
  const double height = title_h + margin + std::max(img_h, raster_h) + 50.0;

  std::string svg;
  svg += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height);
  svg += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", width, height);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"15\">{}</text>\n", margin, margin,
                     svg::escape(o.title));

  const double top = title_h + margin;
  svg += image_svg(image, shape, px, margin, top);
  if (o.raster != nullptr) svg += raster_svg(o, shape, raster_w, raster_h, raster_x, top);
  svg += "</svg>\n";
  return svg;
}

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw file_error(fmt::format("{}: cannot write the SVG file", file.string()));
}

// The command line of `apical dataset show`.
struct show_options {
  std::string name, data_dir, split, output, encoding, latency_scale;
  std::size_t index = 0;
  double duration = 0, max_rate = 0, phase = 0, threshold = 0, tau = 0;
  std::uint64_t seed = 0;
  bool random_phase = false, on_off = false;
};

po::options_description show_option_table(show_options& o) {
  po::options_description opts(
      "apical dataset show: one image, and with --encode its spike raster, as an SVG file\n\n"
      "usage: apical dataset show --dataset NAME --index N --output FILE.svg [options]\n\noptions");
  opts.add_options()("help,h", "show this help")("dataset,d", po::value(&o.name)->required(),
                                                 "mnist, fashion-mnist or cifar10")(
      "data-dir", po::value(&o.data_dir), "directory holding <dataset>/ (default: search)")(
      "index,i", po::value(&o.index)->required(), "sample index within the split")(
      "split", po::value(&o.split)->default_value("train"), "train or test")(
      "output,o", po::value(&o.output)->required(), "SVG file to write")(
      "encode", po::value(&o.encoding), "also draw the spike raster: poisson, regular or latency")(
      "duration-ms", po::value(&o.duration)->default_value(100.0), "encoding window T in ms")(
      "max-rate-hz", po::value(&o.max_rate)->default_value(100.0),
      "rate of a full-intensity pixel (poisson, regular)")(
      "seed", po::value(&o.seed)->default_value(1),
      "master seed (poisson; regular with --random-phase)")(
      "phase", po::value(&o.phase)->default_value(0.0),
      "regular: first spike at phase x interval, in [0, 1)")("random-phase",
                                                             "regular: a random phase per channel")(
      "latency-scale", po::value(&o.latency_scale)->default_value("linear"),
      "latency: linear or log")("threshold", po::value(&o.threshold)->default_value(0.0),
                                "latency: intensities at or below it never fire, in [0, 1)")(
      "tau-ms", po::value(&o.tau)->default_value(20.0), "latency, log scale: time constant in ms")(
      "on-off", "ON/OFF channels for the mean-subtracted image (means of the training set)");
  return opts;
}

// The encoder --encode names (validated), or none.
std::optional<ds::encoder> encoder_of(const show_options& o) {
  if (o.encoding.empty()) return std::nullopt;
  std::optional<ds::encoder> enc;
  if (o.encoding == "poisson") {
    enc = ds::poisson_encoder{o.duration, o.max_rate, o.on_off};
  } else if (o.encoding == "regular") {
    enc = ds::regular_encoder{o.duration, o.max_rate, o.phase, o.random_phase, o.on_off};
  } else if (o.encoding == "latency") {
    ds::latency_scale scale = ds::latency_scale::linear;
    if (o.latency_scale == "log" || o.latency_scale == "logarithmic") {
      scale = ds::latency_scale::logarithmic;
    } else if (o.latency_scale != "linear") {
      throw parameter_error(fmt::format(
          "dataset show: --latency-scale is '{}'; expected linear or log", o.latency_scale));
    }
    enc = ds::latency_encoder{o.duration, scale, o.threshold, o.tau, o.on_off};
  } else {
    throw parameter_error(fmt::format(
        "dataset show: --encode is '{}'; expected poisson, regular or latency", o.encoding));
  }
  ds::validate(*enc);  // before the (possibly long) load
  return enc;
}

// Reads only up to the wanted image (but the whole training set for the
// ON/OFF channel means).
ds::loaded_dataset load_for_show(const show_options& o, bool encoded) {
  const auto id = ds::parse_dataset_id(o.name);
  const auto location = ds::locate_dataset(id, make_search(o.data_dir));
  ds::load_options load;
  const bool want_train = o.split == "train";
  load.max_train = want_train ? o.index + 1 : 0;
  load.max_test = want_train ? 0 : o.index + 1;
  if (encoded && o.on_off) load.max_train = ds::all_items;
  return ds::load_dataset(location, load);
}

int run_show(int argc, char** argv) {
  show_options so;
  const auto opts = show_option_table(so);
  po::variables_map vm;
  if (!parse(argc, argv, opts, vm)) return 0;
  so.random_phase = vm.count("random-phase") != 0;
  so.on_off = vm.count("on-off") != 0;
  if (so.split != "train" && so.split != "test") {
    throw parameter_error(
        fmt::format("dataset show: --split is '{}'; expected train or test", so.split));
  }
  const auto enc = encoder_of(so);
  const auto loaded = load_for_show(so, enc.has_value());
  const ds::dataset& data = so.split == "train" ? loaded.train : loaded.test;
  const std::size_t index = so.index;
  if (index >= data.size()) {
    throw parameter_error(fmt::format("dataset show: --index {} is out of range; {} has {} images",
                                      index, data.name(), data.size()));
  }

  svg_options o;
  const std::uint8_t label = data.label(index);
  o.title =
      fmt::format("{} #{}: label {} ({})", data.name(), index, label, data.class_names()[label]);
  spike_raster raster;
  std::string summary;
  if (enc) {
    const auto means = so.on_off ? loaded.train.channel_means() : std::vector<double>{};
    raster = ds::encode_image(*enc, data, index, so.seed, means);
    o.raster = &raster;
    o.duration_ms = ds::duration_ms(*enc);
    o.on_off = so.on_off;
    o.title += fmt::format(", {} encoding{}: {} spikes in {} ms", so.encoding,
                           so.on_off ? " (ON/OFF)" : "", raster.total_spikes(), o.duration_ms);
    summary = fmt::format(", {} encoding: {} spikes in {} channels over {} ms", so.encoding,
                          raster.total_spikes(), raster.channels(), o.duration_ms);
  }
  write_file(so.output, render_svg(data.image(index), data.shape(), o));
  std::cout << fmt::format("wrote {}: {} image {} (label {} '{}'){}\n", so.output, data.name(),
                           index, label, data.class_names()[label], summary)
            << std::flush;
  return 0;
}

}  // namespace

int run_dataset(int argc, char** argv) {
  if (argc < 2) {
    throw parameter_error(
        "dataset: missing command; expected info or show (apical dataset --help)");
  }
  const std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << dataset_usage;
    return 0;
  }
  if (command == "info") return run_info(argc - 1, argv + 1);
  if (command == "show") return run_show(argc - 1, argv + 1);
  throw parameter_error(
      fmt::format("dataset: unknown command '{}'; expected info or show", command));
}

}  // namespace apical::app
