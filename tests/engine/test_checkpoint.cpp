// Checkpoints (checkpoint.hpp, simulator::save / restore): a run saved at a
// run boundary and continued in a fresh simulator, with the same or another
// number of threads and on either delivery path, gives the spikes and state
// samples of the uninterrupted run, bit for bit; damaged, truncated,
// oversized and foreign checkpoints are refused with a message saying what
// is wrong.
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/checkpoint.hpp"
#include "apical/engine/connectivity.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/models/lif_delta.hpp"
#include "apical/models/lif_exp.hpp"

using namespace apical;

namespace {

// E (lif_delta, model A) and I (lif_exp) with random weights and delays of
// 1-3 ms, a dense Poisson drive onto E, a sparse one onto I, and a long
// projection E -> I of 25 ms delay (spikes in flight over any checkpoint).
std::unique_ptr<network> make_net(std::size_t n_e = 240) {
  auto net = std::make_unique<network>();
  auto& e = net->add_population<models::lif_delta>(
      "E", n_e,
      {.tau_m_ms = 20, .e_l_mv = 0, .v_th_mv = 20, .v_reset_mv = 10, .t_ref_ms = 2,
       .v_init_min_mv = 0, .v_init_max_mv = 20});
  auto& i = net->add_population<models::lif_exp>(
      "I", 60,
      {.tau_m_ms = 20, .tau_e_ms = 5, .tau_i_ms = 10, .e_l_mv = -55, .v_th_mv = -50,
       .v_reset_mv = -60, .t_ref_ms = 2, .v_init_min_mv = -60, .v_init_max_mv = -50});
  const population* pops[2] = {&e, &i};
  connection_options o;
  o.delay_ms = value_spec::uniform(1.0, 3.0);
  std::uint64_t k = 0;
  for (; k < 4; ++k) {  // EE, EI, IE, II
    const population& pre = *pops[k / 2];
    const population& post = *pops[k % 2];
    o.weight = k < 2 ? value_spec::uniform(0.1, 0.5) : value_spec::uniform(-2.0, -0.5);
    o.same_population = &pre == &post;
    net->connect(pre.name() + post.name(), pre, post, 0,
                 make_generator(connection_rule::fixed_probability, pre.size(), post.size(), 0.15,
                                0, o, derive_seed(7, stream::connectivity, k)));
  }
  o.delay_ms = value_spec::constant(25.0);
  o.weight = value_spec::constant(2.0);
  o.same_population = false;
  net->connect("E_late_I", e, i, 0,
               make_generator(connection_rule::fixed_probability, e.size(), i.size(), 0.05, 0, o,
                              derive_seed(7, stream::connectivity, k)));
  net->add_poisson_input({"drive", e.id(), 0, 10000.0, 0.12f, 0.0, 1e9});
  net->add_poisson_input({"kick", i.id(), 0, 200.0, 3.0f, 4.0, 80.0});
  return net;
}

// What a run leaves: its spikes and the sampled V of three I cells.
using outcome = std::pair<std::vector<recorded_spike>, std::vector<double>>;

simulation_options opts(unsigned threads, delivery_path path) {
  simulation_options o;
  o.seed = 11;
  o.threads = threads;
  o.delivery = path;
  return o;
}

// Runs to `end` in runs of 10 ms; with a checkpoint time, saves there and
// continues in a fresh network and simulator with `threads_after` threads
// on `path_after`.
outcome run(double end, unsigned threads, delivery_path path, double checkpoint_ms = -1,
            unsigned threads_after = 0, delivery_path path_after = delivery_path::automatic) {
  auto net = make_net();
  auto sim = std::make_unique<simulator>(*net, opts(threads, path));
  auto rec = std::make_unique<spike_recorder>(*sim);
  sim->record_state(1, "v_mv", {0, 3, 59}, time_ms{0.7});
  std::stringstream file;
  std::vector<recorded_spike> before;
  for (double t = 0; t < end;) {
    const double next = checkpoint_ms > t && checkpoint_ms < t + 10 ? checkpoint_ms : t + 10;
    sim->run_until(time_ms{std::min(next, end)});
    t = sim->now().count();
    if (t == checkpoint_ms) {
      std::string extra = "recorded so far";
      sim->save(file, extra);
      before = rec->spikes();
      rec.reset();
      sim.reset();
      net = make_net();
      sim = std::make_unique<simulator>(*net, opts(threads_after ? threads_after : threads,
                                                    threads_after ? path_after : path));
      rec = std::make_unique<spike_recorder>(*sim);
      sim->record_state(1, "v_mv", {0, 3, 59}, time_ms{0.7});
      CHECK(sim->restore(file, "memory") == extra);
      CHECK(sim->now().count() == checkpoint_ms);
      rec->add(before);
    }
  }
  return {rec->spikes(), sim->state_recording(0).values};
}

void check_same(const outcome& a, const outcome& b) {
  REQUIRE(a.first.size() == b.first.size());
  CHECK(a.first == b.first);
  CHECK(a.second == b.second);
}

std::string saved(simulator& sim) {
  std::stringstream out;
  sim.save(out);
  return out.str();
}

}  // namespace

TEST_CASE("checkpoint and resume: the spikes and samples of the uninterrupted run") {
  const outcome whole = run(120, 1, delivery_path::ordered);
  REQUIRE(whole.first.size() > 500);
  // Spikes of I caused by E spikes 25 ms earlier cross every checkpoint
  // below; some arrive after it.
  for (const double at : {0.0, 13.7, 50.0, 100.0}) {
    CAPTURE(at);
    check_same(whole, run(120, 1, delivery_path::ordered, at));
    check_same(whole, run(120, 1, delivery_path::windowed, at));
    check_same(whole, run(120, 2, delivery_path::automatic, at));
    check_same(whole, run(120, 2, delivery_path::automatic, at, 1));
    check_same(whole, run(120, 1, delivery_path::windowed, at, 2));
    // The dense drive queues no wake-ups on the windowed path; the ordered
    // one needs them.
    check_same(whole, run(120, 2, delivery_path::windowed, at, 1, delivery_path::ordered));
    check_same(whole, run(120, 1, delivery_path::ordered, at, 2, delivery_path::windowed));
  }
}

TEST_CASE("checkpoint: spikes in flight over a long delay are part of the saved future") {
  // A neuron E0 fires once, driven by a strong constant input; its spike
  // reaches I0 25 ms later and makes it fire. The checkpoint falls between.
  auto make = [] {
    auto net = std::make_unique<network>();
    auto& e = net->add_population<models::lif_delta>(
        "E", 1, {.tau_m_ms = 10, .e_l_mv = 0, .v_th_mv = 20, .v_reset_mv = 0, .t_ref_ms = 1000,
                 .v_init_min_mv = 0, .v_init_max_mv = 0});
    auto& i = net->add_population<models::lif_delta>(
        "I", 1, {.tau_m_ms = 10, .e_l_mv = 0, .v_th_mv = 20, .v_reset_mv = 0, .t_ref_ms = 2,
                 .v_init_min_mv = 0, .v_init_max_mv = 0});
    net->connect("EI", e, i, 0, std::vector<synapse>{{0, 0, 30.0f, 25.0}});
    net->add_poisson_input({"kick", e.id(), 0, 1e6, 25.0f, 1.0, 1.5});
    return net;
  };
  auto net = make();
  simulator sim(*net);
  spike_recorder rec(sim);
  sim.run_until(time_ms{2.0});
  REQUIRE(rec.spikes().size() == 1);  // E0 fired; its spike is in flight
  const double fired = rec.spikes()[0].time_ms;
  std::stringstream file;
  sim.save(file);
  auto net2 = make();
  simulator resumed(*net2);
  spike_recorder rec2(resumed);
  resumed.restore(file, "memory");
  resumed.run_until(time_ms{40.0});
  REQUIRE(rec2.spikes().size() == 1);
  CHECK(rec2.spikes()[0].population == 1);
  CHECK(rec2.spikes()[0].time_ms == fired + 25.0);
}

TEST_CASE("checkpoint: damaged, truncated and foreign files are refused") {
  auto net = make_net();
  simulator sim(*net, opts(1, delivery_path::automatic));
  sim.run_until(time_ms{20.0});
  const std::string good = saved(sim);
  auto restore = [](const std::string& bytes, std::size_t n_e = 240) {
    auto other = make_net(n_e);
    simulator s(*other, opts(2, delivery_path::automatic));
    std::stringstream in(bytes);
    s.restore(in, "ck.bin");
  };
  restore(good);  // the untouched file is fine

  std::string flipped = good;
  flipped[checkpoint_header_bytes + flipped.size() / 2] ^= 0x10;
  CHECK_THROWS_WITH_AS(restore(flipped), doctest::Contains("ck.bin: checkpoint corrupt"),
                       file_error);
  CHECK_THROWS_WITH_AS(restore(good.substr(0, good.size() - 100)),
                       doctest::Contains("ck.bin: checkpoint truncated"), file_error);
  CHECK_THROWS_WITH_AS(restore(good.substr(0, 20)), doctest::Contains("ck.bin: not a checkpoint"),
                       file_error);
  CHECK_THROWS_WITH_AS(restore("XPICALCK" + good.substr(8)),
                       doctest::Contains("no 'APICALCK' magic"), file_error);
  std::string later = good;
  later[8] = 9;  // format version 9
  CHECK_THROWS_WITH_AS(restore(later), doctest::Contains("format version 9"), file_error);
  CHECK_THROWS_WITH_AS(
      restore(good, 250),
      doctest::Contains("of another network: the checkpoint has population 0 'E': model "
                        "lif_delta, 240 neurons"),
      file_error);
}

TEST_CASE("checkpoint: absurd sizes with a valid checksum are refused before allocating") {
  checkpoint_writer w;
  w.put(std::uint64_t{1} << 60);  // an array count no file can hold
  checkpoint_reader r(w.bytes(), "ck.bin");
  std::vector<double> out;
  CHECK_THROWS_WITH_AS(r.array(out, "events"),
                       doctest::Contains("'events' claims 1152921504606846976 elements"),
                       file_error);
  CHECK(out.capacity() == 0);

  // A whole checkpoint: the right description, then a huge event count.
  auto net = make_net();
  simulator sim(*net);
  checkpoint_writer p;
  p.text(sim.checkpoint_description());
  p.put(0.0);
  p.put(std::uint64_t{1} << 62);
  std::stringstream file;
  write_checkpoint(file, checkpoint_checksum(sim.checkpoint_description()), p.bytes());
  CHECK_THROWS_WITH_AS(sim.restore(file, "ck.bin"), doctest::Contains("ck.bin: checkpoint ends"),
                       file_error);

  std::stringstream header;
  write_checkpoint(header, 0, "");
  std::string huge = header.str();
  huge[24 + 7] = 0x7f;  // payload size near 2^63
  std::stringstream in(huge);
  std::uint64_t hash = 0;
  CHECK_THROWS_WITH_AS(read_checkpoint(in, "ck.bin", hash),
                       doctest::Contains("payload size 9151314442816847872 bytes exceeds"),
                       file_error);
}

TEST_CASE("checkpoint: delivery listeners that no part saves are refused, naming the projection") {
  auto net = make_net();
  simulator sim(*net);
  struct counter {
    int n = 0;
    void on(const delivery&) { ++n; }
  } c;
  sim.on_delivery(0).connect(simulator::delivery_signal::slot::bind<&counter::on>(c));
  std::stringstream out;
  CHECK_THROWS_WITH_AS(sim.save(out),
                       doctest::Contains("projection 'EE' has 1 delivery listeners, of which 0 "
                                         "keep their state in the checkpoint"),
                       parameter_error);
  CHECK(out.str().empty());
}

TEST_CASE("checkpoint: changed bytes under a valid checksum are restored or refused, never crash") {
  auto net = make_net();
  simulator sim(*net, opts(1, delivery_path::automatic));
  sim.record_state(1, "v_mv", {0, 3}, time_ms{0.7});
  sim.run_until(time_ms{30.0});
  std::stringstream file;
  sim.save(file, "extra");
  const std::string payload = file.str().substr(checkpoint_header_bytes);
  const std::uint64_t hash = checkpoint_checksum(sim.checkpoint_description());
  rng r(5);
  int refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string changed = payload;
    // Past the description (which is compared as a whole): sizes, times,
    // event fields, states.
    const std::size_t at = sim.checkpoint_description().size() + 8 +
                           r.below(payload.size() - sim.checkpoint_description().size() - 8);
    changed[at] = static_cast<char>(r.below(256));
    if (trial % 3 == 0) changed[at + 7 < changed.size() ? at + 7 : at] = '\x7f';
    std::stringstream bad;
    write_checkpoint(bad, hash, changed);
    auto other = make_net();
    simulator s(*other, opts(2, delivery_path::automatic));
    s.record_state(1, "v_mv", {0, 3}, time_ms{0.7});
    try {
      s.restore(bad, "fuzzed");
    } catch (const file_error& e) {
      ++refused;
      CHECK(std::string(e.what()).starts_with("fuzzed: "));
    }
  }
  MESSAGE(refused << " of 300 changed checkpoints refused");
  CHECK(refused > 0);
}

namespace {
// A checkpoint of make_net() at 20 ms (no state recorder, empty extra) and
// where its last fields lie: the payload ends with the input "kick"'s next
// spikes (60 doubles) and streams (60 of 32 bytes), the events (24 bytes
// each) and the extra text's length.
struct dissected {
  std::string payload;
  std::uint64_t hash = 0;
  std::size_t next_spikes = 0, streams = 0, events = 0, event_count = 0;
  double now = 0;
};

dissected dissect() {
  auto net = make_net();
  simulator sim(*net, opts(1, delivery_path::ordered));
  sim.run_until(time_ms{20.0});
  std::stringstream file;
  sim.save(file);
  dissected d;
  d.now = 20.0;
  d.payload = file.str().substr(checkpoint_header_bytes);
  d.hash = checkpoint_checksum(sim.checkpoint_description());
  const std::size_t end = d.payload.size() - 8;  // before the extra text's length
  const auto u64_at = [&d](std::size_t at) {
    std::uint64_t v = 0;
    std::memcpy(&v, d.payload.data() + at, 8);
    return v;
  };
  // The event count n is where the events' bytes begin, preceded by the
  // 60 streams and next spikes, each array after its count.
  for (std::uint64_t n = 1; n * 24 + 8 + 60 * 40 + 16 < end; ++n) {
    const std::size_t events = end - n * 24;
    const std::size_t streams = events - 8 - 60 * 32;
    const std::size_t next_spikes = streams - 8 - 60 * 8;
    if (u64_at(events - 8) == n && u64_at(streams - 8) == 60 && u64_at(next_spikes - 8) == 60) {
      d.event_count = n;
      d.events = events;
      d.streams = streams;
      d.next_spikes = next_spikes;
      break;
    }
  }
  REQUIRE(d.event_count > 0);
  return d;
}

void restore_payload(const dissected& d, const std::string& payload) {
  std::stringstream file;
  write_checkpoint(file, d.hash, payload);
  auto net = make_net();
  simulator sim(*net, opts(1, delivery_path::ordered));
  sim.restore(file, "ck.bin");
}
}  // namespace

TEST_CASE("checkpoint: an all-zero random stream is refused") {
  const dissected d = dissect();
  restore_payload(d, d.payload);  // untouched: restored
  std::string bad = d.payload;
  std::memset(bad.data() + d.streams + 5 * 32, 0, 32);  // neuron 5's generator
  CHECK_THROWS_WITH_AS(restore_payload(d, bad),
                       doctest::Contains("ck.bin: checkpoint input 'kick' has an all-zero random "
                                         "stream for neuron 5"),
                       file_error);
}

TEST_CASE("checkpoint: a Poisson input's next spike before the checkpoint's time is refused") {
  const dissected d = dissect();
  std::string bad = d.payload;
  const double early = d.now - 0.5;
  std::memcpy(bad.data() + d.next_spikes + 7 * 8, &early, 8);
  CHECK_THROWS_WITH_AS(restore_payload(d, bad),
                       doctest::Contains("checkpoint input 'kick' has a next spike at 19.5 ms, "
                                         "before the checkpoint's time 20 ms"),
                       file_error);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::memcpy(bad.data() + d.next_spikes + 7 * 8, &nan, 8);
  CHECK_THROWS_WITH_AS(restore_payload(d, bad), doctest::Contains("has a next spike at nan ms"),
                       file_error);
}

TEST_CASE("checkpoint: an event at a time that is not finite, or before the checkpoint, is refused") {
  const dissected d = dissect();
  for (const double t : {std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN(), d.now - 1}) {
    CAPTURE(t);
    std::string bad = d.payload;
    std::memcpy(bad.data() + d.events + (d.event_count / 2) * 24, &t, 8);
    CHECK_THROWS_WITH_AS(restore_payload(d, bad),
                         doctest::Contains("is not a finite time at or after the checkpoint's time"),
                         file_error);
  }
}
