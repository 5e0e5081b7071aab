// apical train without data: the configuration keys and their checks, the
// checkpoint format (round trip, truncation, corruption), the SVG helpers,
// and the rate model's epoch loop against reference_trainer::train.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/reference_trainer.hpp"
#include "svg_plot.hpp"
#include "train_checkpoint.hpp"
#include "train_config.hpp"
#include "train_model.hpp"

namespace app = apical::app;
namespace learning = apical::learning;

namespace {

app::train_config resolved(const app::key_values& given) {
  auto c = app::resolve_config(given);
  app::validate(c);
  return c;
}

app::checkpoint sample_checkpoint() {
  app::checkpoint c;
  c.kind = "rate";
  c.dataset = "mnist";
  c.algo = "bp";
  c.arch = "4-3-2";
  c.config_hash = 42;
  c.config_ini = "arch = 4-3-2\n";
  c.seed = 7;
  c.epochs_done = 1;
  c.input_means = {0.5f, 0.25f};
  c.weights.emplace_back(3, 4, 0.125f);
  c.weights.emplace_back(2, 3, -1.5f);
  c.biases = {{1, 2, 3}, {4, 5}};
  c.velocity.emplace_back(3, 4, 0.5f);
  c.velocity.emplace_back(2, 3, 0.25f);
  c.bias_velocity = {{0, 0, 1}, {1, 0}};
  app::epoch_record e;
  e.epoch = 1;
  e.train_accuracy = 0.5;
  e.test_accuracy = 0.75;
  e.alignment_deg = {10.0, 20.0};
  c.history.epochs.push_back(e);
  c.history.initial_test_accuracy = 0.1;
  c.history.alignment.push_back({0.5, {1.0, 2.0}});
  c.history.train_curve.push_back({0.02, 0.25});
  return c;
}

// Two Gaussian blobs per class in 6 dimensions, 3 classes.
struct blobs {
  std::vector<float> inputs;
  std::vector<std::uint8_t> labels;
  explicit blobs(std::size_t n) {
    apical::rng g(11);
    for (std::size_t s = 0; s < n; ++s) {
      const auto label = static_cast<std::uint8_t>(g.below(3));
      labels.push_back(label);
      for (int j = 0; j < 6; ++j)
        inputs.push_back(static_cast<float>((j % 3 == label ? 1.0 : 0.0) + 0.3 * g.normal()));
    }
  }
  learning::dataset_view view() const { return {inputs, labels, 6}; }
};

}  // namespace

TEST_CASE("train defaults depend on the dataset and the algorithm") {
  const auto mnist = resolved({});
  CHECK(mnist.dataset == "mnist");
  CHECK(mnist.algo == app::default_algo);
  CHECK(app::arch_to_string(mnist.arch) == "784-800-10");
  const auto cifar = resolved({{"dataset", "cifar10"}});
  CHECK(cifar.arch.front() == 3072);
  CHECK(cifar.input == app::input_scaling::centred);
  const auto mc = resolved({{"algo", "microcircuit"}});
  CHECK(mc.feedback == learning::feedback_mode::sign_concordant);
  CHECK(mc.input == app::input_scaling::unit);
  CHECK(mc.microcircuit_settings().momentum == 0.9);
  CHECK(mc.microcircuit_settings().learning_rate == 0.005);
  const auto mc_cifar = resolved({{"algo", "microcircuit"}, {"dataset", "cifar10"}});
  CHECK(mc_cifar.input == app::input_scaling::on_off);
  CHECK(mc_cifar.microcircuit_settings().momentum == 0.0);
  CHECK(resolved({{"algo", "bp"}}).rate_trainer_settings().momentum == 0.0);
  CHECK(app::arch_to_string(mc_cifar.arch) == "6144-1000-10");
  CHECK_NOTHROW(app::check_against_data(mc_cifar, 3072, 10));
  const auto fa = resolved({{"algo", "fa"}});
  CHECK(fa.feedback == learning::feedback_mode::random);
  CHECK(fa.rate_trainer_settings().algo == learning::algorithm::fa);
}

TEST_CASE("every key round-trips through config.ini") {
  const auto c = resolved({{"algo", "microcircuit"},
                           {"arch", "784-30-20-10"},
                           {"feedback", "direct"},
                           {"learning-rate", "0.25"},
                           {"microcircuit.window_ms", "75"},
                           {"microcircuit.layer_rate_scale", "1,0.5,0.25"},
                           {"microcircuit.w_max_mv", "inf"},
                           {"microcircuit.output_cells", "softmax"},
                           {"microcircuit.softmax_beta_per_mv", "0.5"},
                           {"compare", "bp,scfa@0.01"}});
  std::istringstream ini(app::to_ini(c));
  const auto again = app::resolve_config(app::read_ini_values(ini, "config.ini"));
  CHECK(app::to_ini(again) == app::to_ini(c));
  CHECK(app::identity_hash(again) == app::identity_hash(c));
  CHECK(again.circuit.window_ms == 75.0);
  CHECK(again.circuit.layer_rate_scale == std::vector<double>{1.0, 0.5, 0.25});
  CHECK(std::isinf(again.circuit.w_max_mv));
  CHECK(again.circuit.output == learning::output_cells::softmax);
  CHECK(again.circuit.softmax_beta_per_mv == 0.5);
  CHECK(again.compare == std::vector<app::comparison_spec>{{app::train_algo::bp, 0.0},
                                                           {app::train_algo::scfa, 0.01}});
  CHECK(again.compare[1].label() == "scfa@0.01");
  // Run keys do not change the identity; identity keys do.
  auto other = c;
  other.epochs = 9;
  other.threads = 3;
  CHECK(app::identity_hash(other) == app::identity_hash(c));
  other.seed = 2;
  CHECK(app::identity_hash(other) != app::identity_hash(c));
}

TEST_CASE("identity hashes leave out keys at their neutral value (older checkpoints stay valid)") {
  // Nothing differs from a default-constructed configuration: nothing hashed.
  CHECK(app::identity_hash(app::train_config{}) == 0xcbf29ce484222325ULL);
  // A key at its neutral value changes nothing; moved off it, it counts.
  auto c = resolved({{"algo", "microcircuit"}});
  const auto base = app::identity_hash(c);
  c.circuit.coding = apical::learning::input_coding::regular;
  CHECK(app::identity_hash(c) != base);
  c.circuit.coding = apical::learning::input_coding::poisson;
  CHECK(app::identity_hash(c) == base);
  // Recorded values: checkpoints store this hash, so a change here means
  // checkpoints written by earlier versions no longer load. Adding a key
  // whose neutral value is the old behaviour must leave them as they are.
  CHECK(base == 0x65d346794936a251ULL);
  CHECK(app::identity_hash(resolved({})) == 0x50c06e690839dbaaULL);
}

TEST_CASE("bad train options are rejected with a message naming the key") {
  using apical::parameter_error;
  CHECK_THROWS_WITH_AS(resolved({{"algo", "hebb"}}),
                       doctest::Contains("algo: unknown algorithm 'hebb'"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"dataset", "imagenet"}}), doctest::Contains("dataset"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"epochs", "0"}}), doctest::Contains("epochs: is 0"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"epochs", "-3"}}), doctest::Contains("epochs"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"learning-rate", "-0.1"}}),
                       doctest::Contains("learning-rate: is -0.1"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"learning-rate", "fast"}}),
                       doctest::Contains("learning-rate: 'fast' is not a number"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"momentum", "1"}}), doctest::Contains("momentum"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"weight-decay", "-1"}}), doctest::Contains("weight-decay"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"algo", "microcircuit"}, {"weight-decay", "0.001"}}),
                       doctest::Contains("weight-decay: applies to the rate trainers only"),
                       parameter_error);
  CHECK(
      resolved({{"algo", "microcircuit"}, {"momentum", "0.5"}}).microcircuit_settings().momentum ==
      0.5);
  CHECK_THROWS_WITH_AS(resolved({{"lr-decay", "0"}}), doctest::Contains("lr-decay: is 0"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"lr-decay", "1.5"}}), doctest::Contains("lr-decay"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"algo", "microcircuit"}, {"microcircuit.test_window_ms", "-1"}}),
                       doctest::Contains("test_window_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"batch-size", "0"}}), doctest::Contains("batch-size"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"arch", "784"}}), doctest::Contains("arch"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"arch", "784-ten-10"}}), doctest::Contains("arch"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"algo", "fa"}, {"feedback", "direct"}}),
                       doctest::Contains("feedback: 'direct' does not fit algo 'fa'"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"algo", "microcircuit"}, {"input", "centred"}}),
                       doctest::Contains("input"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"algo", "microcircuit"}, {"microcircuit.window_ms", "-5"}}),
                       doctest::Contains("window_ms"), parameter_error);
  CHECK_THROWS_WITH_AS(
      resolved({{"algo", "microcircuit"}, {"microcircuit.output_cells", "lif"}}),
      doctest::Contains("microcircuit.output_cells: unknown value 'lif'; expected one of "
                        "pyramidal, softmax"),
      parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"compare", "bp,microcircuit"}}),
                       doctest::Contains("compare: 'microcircuit' is not a reference trainer"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"compare", "bp@0"}}),
                       doctest::Contains("compare: 'bp@0' has the step 0; expected a finite "
                                         "learning rate > 0 after '@'"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"compare", "fa@fast"}}), doctest::Contains("compare"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"compare", "bp@inf"}}), doctest::Contains("'bp@inf'"),
                       parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"rate.count_noise", "-1"}}),
                       doctest::Contains("rate.count_noise: is -1"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"dataset", "cifar10"}, {"rate.count_noise", "40"}}),
                       doctest::Contains("rate.count_noise: needs inputs >= 0"), parameter_error);
  CHECK_NOTHROW(
      resolved({{"dataset", "cifar10"}, {"input", "on-off"}, {"rate.count_noise", "40"}}));
  CHECK_THROWS_WITH_AS(resolved({{"rate.hidden_count_noise", "nan"}}),
                       doctest::Contains("rate.hidden_count_noise"), parameter_error);
  CHECK_THROWS_WITH_AS(
      resolved({{"rate.hidden_count_noise", "3"}, {"rate.hidden_activation", "sigmoid"}}),
      doctest::Contains("needs rate.hidden_activation relu or clipped_relu"), parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"rate.hidden_activation", "tanh"}}),
                       doctest::Contains("rate.hidden_activation"), parameter_error);
  // An architecture that does not fit the data.
  const auto c = resolved({{"arch", "100-10"}});
  CHECK_THROWS_WITH_AS(app::check_against_data(c, 784, 10),
                       doctest::Contains("arch: 100-10 does not fit mnist"), parameter_error);
  // Unknown keys in a configuration file name the file and the key.
  std::istringstream ini("epochs = 2\nlearning_rate = 0.1\n");
  CHECK_THROWS_WITH_AS(app::read_ini_values(ini, "my.ini"),
                       doctest::Contains("my.ini: unknown key 'learning_rate'"), parameter_error);
  std::istringstream section("[rate]\nactivation = relu\n");
  CHECK_THROWS_WITH_AS(app::read_ini_values(section, "my.ini"),
                       doctest::Contains("unknown key 'rate.activation'"), parameter_error);
}

TEST_CASE("a checkpoint round-trips and truncation or corruption is reported by field") {
  const auto c = sample_checkpoint();
  const std::string bytes = app::encode_checkpoint(c);
  const auto back = app::decode_checkpoint(bytes, "ck.bin");
  CHECK(back.kind == c.kind);
  CHECK(back.config_ini == c.config_ini);
  CHECK(back.weights == c.weights);
  CHECK(back.biases == c.biases);
  CHECK(back.velocity == c.velocity);
  CHECK(back.bias_velocity == c.bias_velocity);
  CHECK(back.input_means == c.input_means);
  CHECK(back.history.epochs.size() == 1);
  CHECK(back.history.epochs[0].alignment_deg == c.history.epochs[0].alignment_deg);
  CHECK(back.history.alignment[0].angles_deg == c.history.alignment[0].angles_deg);
  CHECK(back.history.train_curve.size() == 1);
  CHECK(back.history.train_curve[0].accuracy == 0.25);
  CHECK(std::isnan(back.history.epochs[0].test_loss));

  using apical::file_error;
  CHECK_THROWS_WITH_AS(app::decode_checkpoint(bytes.substr(0, bytes.size() - 10), "ck.bin"),
                       doctest::Contains("ck.bin: field 'payload_bytes'"), file_error);
  CHECK_THROWS_WITH_AS(app::decode_checkpoint(bytes.substr(0, 10), "ck.bin"),
                       doctest::Contains("truncated"), file_error);
  CHECK_THROWS_WITH_AS(app::decode_checkpoint("not a checkpoint at all", "ck.bin"),
                       doctest::Contains("field 'magic'"), file_error);
  for (const std::size_t at : {std::size_t{30}, bytes.size() / 2, bytes.size() - 9}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    CHECK_THROWS_WITH_AS(app::decode_checkpoint(bad, "ck.bin"),
                         doctest::Contains("ck.bin: field 'checksum'"), file_error);
  }
  std::string version = bytes;
  version[8] = 9;
  CHECK_THROWS_WITH_AS(app::decode_checkpoint(version, "ck.bin"),
                       doctest::Contains("field 'version'"), file_error);
}

TEST_CASE("SVG charts: lines and heatmap and raster and an embedded PNG") {
  app::svg::chart_options o;
  o.title = "a < b & c";
  const std::string chart =
      app::svg::line_chart(o, {{"test", {0, 1, 2}, {0.1, 0.5, NAN}, "", false, true}});
  CHECK(chart.rfind("<svg", 0) == 0);
  CHECK(chart.find("a &lt; b &amp; c") != std::string::npos);
  CHECK(chart.find("<path d=\"M") != std::string::npos);
  CHECK(chart.find("</svg>") != std::string::npos);
  const std::string map = app::svg::heatmap(
      {"confusion", "true", "predicted", {"0", "1"}, {"0", "1"}}, {{5, 1}, {0, 4}});
  CHECK(map.find(">5</text>") != std::string::npos);
  const std::string r = app::svg::raster("sample", 50, {{"P1", 3, {{1.0, 0}, {20.0, 2}}, 60}});
  CHECK(r.find("M") != std::string::npos);
  const std::vector<std::uint8_t> rgb(2 * 3 * 3, 128);
  const std::string png = app::svg::png_rgb(rgb, 2, 3);
  CHECK(png.substr(1, 3) == "PNG");
  CHECK(png.find("IEND") != std::string::npos);
  const std::string grid = app::svg::image_grid({"w", "", 1, 2, 2, 8, 2}, {{1, -1, 0, 0.5f}});
  CHECK(grid.find("data:image/png;base64,") != std::string::npos);
}

TEST_CASE("the rate model's epochs are reference_trainer::train's with and without momentum") {
  const blobs data(300);
  for (const double momentum : {0.0, 0.9}) {
    CAPTURE(momentum);
    auto c = resolved({{"dataset", "mnist"},
                       {"arch", "6-8-3"},
                       {"algo", "scfa"},
                       {"batch-size", "16"},
                       {"learning-rate", "0.05"},
                       {"momentum", std::to_string(momentum)},
                       {"threads", "2"}});
    auto model = app::make_model(c);
    std::vector<app::alignment_point> unused;
    model->train_epoch(data.view(), {}, unused);
    model->train_epoch(data.view(), {}, unused);

    learning::rate_network net(c.rate_network_settings());
    learning::reference_trainer trainer(net, c.rate_trainer_settings());
    const auto m = trainer.train(net, data.view(), {}, 2);
    CHECK(model->first_layer_weights() == net.weights(0));
    CHECK(m[1].train_accuracy > 0.6);  // chance: 1/3

    // Save, restore into a fresh model, train on: the same as going on.
    app::checkpoint saved;
    model->save(saved);
    saved.history.epochs.resize(2);  // one record per epoch, as apical train keeps them
    auto resumed = app::make_model(c);
    resumed->restore(app::decode_checkpoint(app::encode_checkpoint(saved), "ck"), "ck");
    CHECK(resumed->epochs_done() == 2);
    resumed->train_epoch(data.view(), {}, unused);
    model->train_epoch(data.view(), {}, unused);
    CHECK(resumed->first_layer_weights() == model->first_layer_weights());

    // A checkpoint of another architecture is rejected by field.
    auto other = c;
    other.arch = {6, 5, 3};
    auto wrong = app::make_model(other);
    CHECK_THROWS_WITH_AS(wrong->restore(saved, "ck.bin"),
                         doctest::Contains("ck.bin: field 'weights[0]'"), apical::file_error);
  }
}

TEST_CASE("the example training configurations are valid") {
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(APICAL_SOURCE_DIR) + "/examples/train")) {
    if (entry.path().extension() != ".ini") continue;
    CAPTURE(entry.path().string());
    std::ifstream in(entry.path());
    const auto c = app::resolve_config(app::read_ini_values(in, entry.path().string()));
    CHECK_NOTHROW(app::validate(c));
  }
}

TEST_CASE("on-off input: the architecture starts with two inputs per pixel") {
  // For both kinds of algo (the values themselves: tests/datasets/test_preprocess.cpp).
  for (const char* algo : {"bp", "microcircuit"}) {
    CAPTURE(algo);
    const auto c = resolved({{"algo", algo}, {"input", "on-off"}, {"arch", "1568-100-10"}});
    CHECK_NOTHROW(app::check_against_data(c, 784, 10));
    const auto wrong = resolved({{"algo", algo}, {"input", "on-off"}, {"arch", "784-100-10"}});
    CHECK_THROWS_WITH_AS(app::check_against_data(wrong, 784, 10),
                         doctest::Contains("with on-off input: 2 x 784"), apical::parameter_error);
  }
  CHECK_THROWS_WITH_AS(resolved({{"input", "polar"}}),
                       doctest::Contains("expected unit, centred or on-off"),
                       apical::parameter_error);
}

TEST_CASE("local fields: the keys describe the first layer on the dataset's image") {
  for (const char* algo : {"bp", "microcircuit"}) {
    CAPTURE(algo);
    const auto c = resolved({{"algo", algo},
                             {"dataset", "cifar10"},
                             {"input", "on-off"},
                             {"arch", "6144-98-10"},
                             {"local-field", "8"},
                             {"local-stride", "4"}});
    const learning::local_fields expected{
        .size = 8, .stride = 4, .channels = 3, .height = 32, .width = 32, .planes = 2};
    CHECK(c.rate_network_settings().first_layer == expected);
    CHECK(c.microcircuit_settings().first_layer == expected);
    // Not the neutral value: part of the run's identity.
    CHECK(app::identity_hash(c) != app::identity_hash(resolved({{"algo", algo},
                                                                {"dataset", "cifar10"},
                                                                {"input", "on-off"},
                                                                {"arch", "6144-98-10"}})));
    CHECK_THROWS_WITH_AS(resolved({{"algo", algo}, {"arch", "784-50-10"}, {"local-field", "7"}}),
                         doctest::Contains("local-field: patches of 7 pixels every 7 give 16 "
                                           "positions (4 x 4); the first hidden layer has 50 "
                                           "cells, expected a multiple of 16"),
                         apical::parameter_error);
  }
  CHECK_FALSE(resolved({{"arch", "784-50-10"}}).rate_network_settings().first_layer.enabled());
  CHECK_THROWS_WITH_AS(resolved({{"local-stride", "2"}}),
                       doctest::Contains("local-stride: is 2; it applies to local fields only"),
                       apical::parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"arch", "784-10"}, {"local-field", "7"}}),
                       doctest::Contains("the network has none"), apical::parameter_error);
  CHECK_THROWS_WITH_AS(resolved({{"algo", "microcircuit"},
                                 {"arch", "784-32-10"},
                                 {"local-field", "7"},
                                 {"microcircuit.schedule", "online"}}),
                       doctest::Contains("online"), apical::parameter_error);
}
