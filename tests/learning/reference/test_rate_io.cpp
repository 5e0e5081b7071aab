// Checkpoints: round trips and rejection of damaged or mismatched streams.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"
#include "apical/learning/reference/rate_io.hpp"

namespace {

namespace learning = apical::learning;

learning::rate_network make_network(bool bias = true) {
  learning::rate_network_params p;
  p.layer_sizes = {7, 5, 3};
  p.hidden_activation = learning::activation::clipped_relu;
  p.loss = learning::loss_kind::softmax_cross_entropy;
  p.bias = bias;
  p.init_gain = 0.7;
  p.target_on = 0.9;
  p.seed = 42;
  learning::rate_network net(p);
  apical::rng gen(1);
  for (std::size_t w = 0; w < net.num_layers(); ++w) {
    for (auto& b : net.biases(w)) b = bias ? static_cast<float>(gen.normal()) : 0.0f;
  }
  return net;
}

std::string saved(const learning::rate_network& net) {
  std::ostringstream out;
  learning::save_network(net, out);
  return out.str();
}

}  // namespace

TEST_CASE("a saved network loads back identical") {
  for (const bool bias : {true, false}) {
    const learning::rate_network net = make_network(bias);
    std::istringstream in(saved(net));
    const learning::rate_network back = learning::load_network(in);
    CHECK(back.layer_sizes() == net.layer_sizes());
    CHECK(back.params().hidden_activation == net.params().hidden_activation);
    CHECK(back.params().loss == net.params().loss);
    CHECK(back.params().bias == bias);
    CHECK(back.params().init_gain == net.params().init_gain);
    CHECK(back.params().target_on == net.params().target_on);
    CHECK(back.params().seed == net.params().seed);
    for (std::size_t w = 0; w < net.num_layers(); ++w) {
      CHECK(back.weights(w) == net.weights(w));
      CHECK(back.biases(w) == net.biases(w));
    }
  }
}

TEST_CASE("weights load into a network of the same shape") {
  const learning::rate_network source = make_network();
  learning::rate_network_params p = source.params();
  p.seed = 1;
  learning::rate_network target(p);
  std::istringstream in(saved(source));
  learning::load_weights(target, in);
  CHECK(target.weights(1) == source.weights(1));
  CHECK(target.biases(0) == source.biases(0));
}

TEST_CASE("mismatched sizes are rejected and leave the network unchanged") {
  const learning::rate_network source = make_network();
  learning::rate_network_params p = source.params();
  p.layer_sizes = {7, 6, 3};
  learning::rate_network target(p);
  const learning::matrix before = target.weights(0);
  std::istringstream in(saved(source));
  CHECK_THROWS_WITH_AS(learning::load_weights(target, in),
                       doctest::Contains("layer_sizes[1] is 5, expected 6"), apical::file_error);
  CHECK(target.weights(0) == before);

  p.layer_sizes = {7, 5, 3};
  p.bias = false;
  learning::rate_network no_bias(p);
  std::istringstream again(saved(source));
  CHECK_THROWS_WITH_AS(learning::load_weights(no_bias, again),
                       doctest::Contains("bias is on, expected off"), apical::file_error);
}

TEST_CASE("corrupt streams are rejected with a clear error") {
  const std::string good = saved(make_network());
  const auto rejects = [](std::string bytes, const char* what) {
    CAPTURE(what);
    std::istringstream in(bytes);
    CHECK_THROWS_WITH_AS(learning::load_network(in), doctest::Contains(what), apical::file_error);
  };
  rejects("", "bad magic");
  rejects("NOTANETWORKFILE", "bad magic");

  std::string version = good;
  version[8] = 2;
  rejects(version, "version is 2, expected 1");

  rejects(good.substr(0, good.size() / 2), "truncated while reading weights");
  rejects(good.substr(0, good.size() - 3), "truncated while reading checksum");

  std::string flipped = good;
  flipped[good.size() - 20] = static_cast<char>(flipped[good.size() - 20] ^ 0x10);
  rejects(flipped, "checksum mismatch");

  std::string huge = good;
  huge[16] = static_cast<char>(0xff);  // layer_sizes[0], low byte
  huge[19] = static_cast<char>(0x7f);  // makes it about 2^31
  rejects(huge, "layer_sizes[0] is");

  std::string bad_activation = good;
  bad_activation[8 + 4 + 4 + 3 * 8] = 9;  // hidden_activation
  rejects(bad_activation, "hidden_activation");
}
