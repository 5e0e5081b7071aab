// Short-term plasticity (short_term.hpp): the closed form against a direct
// integration of its equations and against the steady state of a regular
// train; in the simulator, each delivery's weight against that reference,
// on one and two threads, across a checkpoint, and the refusals.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <sstream>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/short_term.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"

using namespace apical;

namespace {

// The model's equations integrated directly (classical Runge-Kutta in long
// double, steps of at most h_ms) between arrivals; jumps as in the header.
struct reference_synapse {
  short_term_parameters p;
  long double x = 1, y = 0, z = 0, u = 0, t = 0;

  explicit reference_synapse(const short_term_parameters& q) : p(q), u(q.u0) {}

  void advance(long double to, long double h_ms) {
    const long double tp = p.tau_psc_ms, tr = p.tau_rec_ms, tf = p.tau_facil_ms;
    const auto rate = [&](long double yy, long double zz, long double uu, long double out[3]) {
      out[0] = -yy / tp;
      out[1] = yy / tp - zz / tr;
      out[2] = tf > 0 ? -uu / tf : 0;
    };
    while (t < to) {
      const long double dt = std::min(h_ms, to - t);
      long double k1[3], k2[3], k3[3], k4[3];
      rate(y, z, u, k1);
      rate(y + dt / 2 * k1[0], z + dt / 2 * k1[1], u + dt / 2 * k1[2], k2);
      rate(y + dt / 2 * k2[0], z + dt / 2 * k2[1], u + dt / 2 * k2[2], k3);
      rate(y + dt * k3[0], z + dt * k3[1], u + dt * k3[2], k4);
      y += dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
      z += dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
      u += dt / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2]);
      t += dt;
    }
    x = 1 - y - z;
  }

  long double arrival(long double at) {
    advance(at, 0.002L);
    if (p.tau_facil_ms == 0) u = 0;
    u += p.U * (1 - u);
    const long double r = u * x;
    x -= r;
    y += r;
    return r;
  }
};

const std::vector<double> irregular_train{0.0, 1.5, 3.0, 3.2, 10.0, 11.0, 40.0, 41.0, 41.5,
                                          42.0, 42.5, 120.0, 121.0, 300.0, 301.7};

}  // namespace

TEST_CASE("short-term efficacies equal a direct integration of the equations") {
  const short_term_parameters cases[] = {
      {.U = 0.5, .tau_rec_ms = 100, .tau_facil_ms = 0, .tau_psc_ms = 3},       // depression
      {.U = 0.1, .tau_rec_ms = 100, .tau_facil_ms = 500, .tau_psc_ms = 5},     // facilitation
      {.U = 0.3, .tau_rec_ms = 20, .tau_facil_ms = 50, .tau_psc_ms = 20},      // tau_psc = tau_rec
      {.U = 0.3, .tau_rec_ms = 20, .tau_facil_ms = 0, .tau_psc_ms = 20 * (1 + 1e-9)},
      {.U = 0.3, .tau_rec_ms = 20, .tau_facil_ms = 0, .tau_psc_ms = 19.5},
      {.U = 0.2, .tau_rec_ms = 50, .tau_facil_ms = 30, .tau_psc_ms = 2, .u0 = 0.4},
  };
  for (const auto& p : cases) {
    CAPTURE(p.describe());
    short_term_state s = initial_short_term(p);
    reference_synapse ref(p);
    for (const double t : irregular_train) {
      CAPTURE(t);
      const double r = short_term_arrival(p, s, t);
      const auto expected = static_cast<double>(ref.arrival(t));
      CHECK(std::abs(r - expected) <= 1e-12 * expected);
      CHECK(std::abs(s.x - static_cast<double>(ref.x)) <= 1e-12);
      CHECK(std::abs(s.y - static_cast<double>(ref.y)) <= 1e-12);
    }
  }
}

TEST_CASE("tau_psc = 0: the two-state model, whose steady state is known in closed form") {
  // Depression only: x recovers from its own depletion, x_next = 1 - (1 -
  // x (1 - U)) e^{-T/tau_rec}; a regular train of period T converges to the
  // efficacy U (1 - e) / (1 - (1 - U) e), e = e^{-T/tau_rec}.
  const short_term_parameters p{.U = 0.4, .tau_rec_ms = 300, .tau_psc_ms = 0};
  const double period_ms = 25.0, e = std::exp(-period_ms / p.tau_rec_ms);
  short_term_state s = initial_short_term(p);
  double x = 1.0, r = 0.0;
  for (int n = 0; n < 400; ++n) {
    const double t = n * period_ms;
    if (n > 0) x = 1 - (1 - x * (1 - p.U)) * e;
    r = short_term_arrival(p, s, t);
    CHECK(r == doctest::Approx(p.U * x).epsilon(1e-13));
  }
  CHECK(r == doctest::Approx(p.U * (1 - e) / (1 - (1 - p.U) * e)).epsilon(1e-13));
  // Without facilitation the first spike uses U, whatever came before.
  CHECK(initial_short_term(p).x == 1.0);
}

TEST_CASE("short-term parameters are checked, naming the field") {
  const auto message = [](const short_term_parameters& p) {
    try {
      p.validate("projection 'EE'");
    } catch (const parameter_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(message({}).empty());
  CHECK(message({.U = 0}).find("'U' must be in (0, 1]") != std::string::npos);
  CHECK(message({.U = 1.5}).find("projection 'EE'") != std::string::npos);
  CHECK(message({.tau_rec_ms = 0}).find("tau_rec_ms") != std::string::npos);
  CHECK(message({.tau_facil_ms = -1}).find("tau_facil_ms") != std::string::npos);
  CHECK(message({.tau_psc_ms = std::nan("")}).find("tau_psc_ms") != std::string::npos);
  CHECK(message({.u0 = 2}).find("u0") != std::string::npos);
  short_term_parameters p;
  p.set("tau_rec_ms", 800, "here");
  CHECK(p.tau_rec_ms == 800);
  CHECK_THROWS_WITH_AS(p.set("tau", 1, "[short_term.EE]"),
                       doctest::Contains("unknown short-term plasticity parameter 'tau'"),
                       parameter_error);
}

namespace {

// A target that adds up its inputs and never fires.
struct summing {
  static constexpr std::string_view name = "summing";
  static constexpr int compartments = 1;
  struct parameters {};
  struct derived {};
  struct state {
    double v = 0.0;
  };
  static std::span<const field<parameters>> parameter_fields() { return {}; }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {{"v", &state::v, "1", ""}};
    return f;
  }
  static derived derive(const parameters&) { return {}; }
  static void init(state& s, const derived&, rng&) { s.v = 0; }
  static void advance(state&, const derived&, double, double) {}
  static void receive(state& s, const derived&, int, double w, double) { s.v += w; }
  static double next_spike(const state&, const derived&, double) {
    return std::numeric_limits<double>::infinity();
  }
  static void fire(state&, const derived&, double) {}
};
static_assert(neuron_model<summing>);

const short_term_parameters facilitating{
    .U = 0.15, .tau_rec_ms = 80, .tau_facil_ms = 300, .tau_psc_ms = 4};

// Two presynaptic neurons with irregular trains; neuron 0 reaches targets
// 0-3 with delay 1 ms (per-synapse weights) and targets 4-5 with 2.5 ms.
std::unique_ptr<network> small_network() {
  auto net = std::make_unique<network>();
  auto raster = std::make_shared<spike_raster>();
  raster->add_channel(irregular_train);
  const double other[] = {2.0, 2.1, 7.0, 90.0};
  raster->add_channel(other);
  auto& src = net->add_population<spike_time_source>("S", 2, {raster});
  auto& tgt = net->add_population<summing>("T", 6, {});
  std::vector<synapse> syn;
  for (std::uint32_t j = 0; j < 4; ++j) syn.push_back({0, j, 1.0f + 0.5f * static_cast<float>(j), 1.0});
  for (std::uint32_t j = 4; j < 6; ++j) syn.push_back({0, j, 2.0f, 2.5});
  for (std::uint32_t j = 0; j < 6; ++j) syn.push_back({1, j, -0.75f, 1.0});
  net->connect("ST", src, tgt, 0, std::move(syn)).set_short_term(facilitating);
  return net;
}

struct seen_delivery {
  double t;
  std::uint32_t pre, post;
  float weight;
  friend bool operator==(const seen_delivery&, const seen_delivery&) = default;
};

// One buffer per partition: listeners run on the threads of the targets.
struct log {
  std::vector<seen_delivery> seen[2];
  void on(const delivery& d) {
    seen[simulator::current_partition()].push_back({d.time.count(), d.pre, d.post, d.weight});
  }
  std::vector<seen_delivery> all() const {
    auto v = seen[0];
    v.insert(v.end(), seen[1].begin(), seen[1].end());
    return v;
  }
};

std::vector<seen_delivery> sorted(std::vector<seen_delivery> v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return std::tie(a.t, a.pre, a.post) < std::tie(b.t, b.pre, b.post);
  });
  return v;
}

// Every delivery of a run on `threads`, optionally through a checkpoint at
// `at_ms` restored on a new simulator with `then_threads`.
std::vector<seen_delivery> run(unsigned threads, double at_ms = -1, unsigned then_threads = 1) {
  auto net = small_network();
  log l;
  simulator sim(*net, {.threads = threads});
  sim.on_delivery(0).connect(simulator::delivery_signal::slot::bind<&log::on>(l));
  if (at_ms < 0) {
    sim.run_until(time_ms{400});
    return sorted(l.all());
  }
  sim.run_until(time_ms{at_ms});
  std::stringstream file;
  // A delivery listener needs a part that saves it; this one keeps nothing.
  sim.on_delivery(0).disconnect(simulator::delivery_signal::slot::bind<&log::on>(l));
  sim.save(file);
  auto net2 = small_network();
  simulator resumed(*net2, {.threads = then_threads});
  resumed.restore(file, "memory");
  resumed.on_delivery(0).connect(simulator::delivery_signal::slot::bind<&log::on>(l));
  resumed.run_until(time_ms{400});
  return sorted(l.all());
}

}  // namespace

TEST_CASE("each delivery is scaled by its delay group's efficacy") {
  const auto seen = run(1);
  REQUIRE(seen.size() == irregular_train.size() * 6 + 4 * 6);
  const auto nominal = [](std::uint32_t pre, std::uint32_t post) {
    return pre == 1 ? -0.75f : post < 4 ? 1.0f + 0.5f * static_cast<float>(post) : 2.0f;
  };
  // One state per (presynaptic neuron, delay group): targets [first, last).
  struct group {
    std::uint32_t pre, first, last;
  };
  for (const auto g : {group{0, 0, 4}, group{0, 4, 6}, group{1, 0, 6}}) {
    CAPTURE(g.pre);
    CAPTURE(g.first);
    short_term_state s = initial_short_term(facilitating);
    std::vector<double> efficacies;
    for (const auto& d : seen) {
      if (d.pre != g.pre || d.post != g.first) continue;
      efficacies.push_back(short_term_arrival(facilitating, s, d.t));
      for (const auto& o : seen)
        if (o.pre == g.pre && o.t == d.t && o.post >= g.first && o.post < g.last)
          CHECK(o.weight ==
                static_cast<float>(static_cast<double>(nominal(o.pre, o.post)) * efficacies.back()));
    }
    REQUIRE(efficacies.size() >= 4);
    // Facilitation first raises the efficacy of close spikes.
    CHECK(efficacies[1] > efficacies[0]);
  }
}

TEST_CASE("short-term plasticity: the same deliveries on two threads and across a checkpoint") {
  const auto whole = run(1);
  CHECK(run(2) == whole);
  for (const double at : {0.0, 3.1, 41.2, 150.0}) {
    CAPTURE(at);
    CHECK(run(1, at, 1) == whole);
    CHECK(run(2, at, 1) == whole);
    CHECK(run(1, at, 2) == whole);
  }
}

TEST_CASE("short-term plasticity runs on the ordered path; the windowed one is refused") {
  auto net = small_network();
  simulator sim(*net);
  CHECK(sim.path() == delivery_path::ordered);
  CHECK_THROWS_WITH_AS(sim.set_delivery(delivery_path::windowed),
                       doctest::Contains("projection 'ST' has short-term plasticity"),
                       parameter_error);
}

TEST_CASE("a checkpoint with short-term states refuses impossible states") {
  auto net = small_network();
  simulator sim(*net);
  sim.run_until(time_ms{5});
  std::stringstream file;
  sim.save(file);
  const std::string bytes = file.str();
  // A resumed run restores the states it saved...
  {
    std::stringstream in(bytes);
    auto net2 = small_network();
    simulator resumed(*net2);
    CHECK_NOTHROW(resumed.restore(in, "memory"));
  }
  // ...and another network's parameters are another network.
  auto other = small_network();
  auto p = facilitating;
  p.U = 0.2;
  other->proj(0).set_short_term(p);
  simulator resumed(*other);
  std::stringstream in(bytes);
  CHECK_THROWS_WITH_AS(resumed.restore(in, "memory"), doctest::Contains("short-term plasticity"),
                       file_error);
}
