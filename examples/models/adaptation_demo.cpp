// A program with lif_adaptive compiled in: one neuron under a constant drive,
// then a small network whose populations name the model through a registry.
// Prints the interspike intervals, which lengthen as w builds up.
//
//   adaptation_demo [duration_ms]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/model_registry.hpp"
#include "apical/engine/network.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/models/builtin.hpp"
#include "lif_adaptive.hpp"

int main(int argc, char** argv) try {
  const double duration_ms = argc > 1 ? std::stod(argv[1]) : 300.0;
  using apical::examples::lif_adaptive;

  // 1. The model type used directly.
  apical::network single;
  lif_adaptive::parameters p;
  p.i_e_mv = 20.0;  // V_inf = -50 mV, above the -55 mV threshold
  p.b_mv = 2.0;
  single.add_population<lif_adaptive>("A", 1, p);
  apical::simulator sim(single);
  apical::spike_recorder spikes(sim);
  sim.run(apical::time_ms{duration_ms});
  std::printf("lif_adaptive under a constant drive: %zu spikes\n  ISIs (ms):",
              spikes.spikes().size());
  for (std::size_t k = 1; k < spikes.spikes().size(); ++k)
    std::printf(" %.3f", spikes.spikes()[k].time_ms - spikes.spikes()[k - 1].time_ms);
  std::printf("\n");

  // 2. The model by name, next to the built-ins, as a configuration would.
  apical::model_registry models;
  apical::models::register_builtin(models);
  models.add<lif_adaptive>();
  apical::network net;
  auto& drive = net.add(models.make("poisson_source", "drive", 100));
  drive.set_parameter("rate_hz", 20.0);
  auto& cells = net.add(models.make("lif_adaptive", "cells", 100));
  cells.set_parameters(
      std::vector<std::pair<std::string, double>>{{"e_l_mv", -60.0}, {"b_mv", 1.5}});
  apical::rng r(1);
  apical::connection_options o;
  o.weight = apical::value_spec::constant(4.0);
  o.delay_ms = apical::value_spec::constant(1.0);
  net.connect(drive, cells, 0, apical::fixed_indegree(100, 100, 10, o, r));
  apical::simulator net_sim(net);
  apical::spike_recorder net_spikes(net_sim);
  net_sim.run(apical::time_ms{duration_ms});
  const auto counts = net_spikes.counts(cells.id());
  std::size_t total = 0;
  for (auto c : counts) total += c;
  std::printf("network of %zu lif_adaptive neurons: %zu spikes in %.0f ms\n", counts.size(), total,
              duration_ms);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
