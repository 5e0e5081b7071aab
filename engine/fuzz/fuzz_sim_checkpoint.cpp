// libFuzzer target: simulation checkpoints (simulator::restore). Three
// kinds of input, chosen by the first byte:
//   0: the bytes as a checkpoint file (magic, version, sizes, checksum);
//   1: the bytes as the payload after this network's description, in a
//      valid header (valid checksum: the structure itself is parsed);
//   2: a valid checkpoint of this network with some of its payload bytes
//      overwritten (offset from bytes 1-4, new bytes after), in a valid
//      header.
// Each must be restored and then run on, or refused with file_error naming
// the source, never crash, hang or allocate what its sizes claim.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>

#include "apical/engine/checkpoint.hpp"
#include "apical/engine/connectivity.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/models/lif_delta.hpp"

namespace {

struct fixture {
  apical::network net;
  std::unique_ptr<apical::simulator> sim;
  std::string description;  // the payload's first field, as written
  std::string rest;         // a valid payload after it

  fixture() {
    using namespace apical;
    const models::lif_delta::parameters p{.tau_m_ms = 20, .e_l_mv = 0, .v_th_mv = 20,
                                          .v_reset_mv = 10, .t_ref_ms = 2,
                                          .v_init_min_mv = 0, .v_init_max_mv = 20};
    auto& e = net.add_population<models::lif_delta>("E", 80, p);
    auto& i = net.add_population<models::lif_delta>("I", 20, p);
    connection_options o;
    o.delay_ms = value_spec::uniform(1.0, 8.0);
    std::uint64_t k = 0;
    for (auto* pre : {&e, &i})
      for (auto* post : {&e, &i}) {
        o.weight = pre == &e ? value_spec::uniform(0.1, 0.5) : value_spec::uniform(-2.0, -0.5);
        o.same_population = pre == post;
        net.connect(pre->name() + post->name(), *pre, *post, 0,
                    make_generator(connection_rule::fixed_probability, pre->size(), post->size(),
                                   0.2, 0, o, derive_seed(5, stream::connectivity, k++)));
      }
    net.add_poisson_input({"drive", e.id(), 0, 8000.0, 0.2f, 0.0, 1e9});
    sim = std::make_unique<simulator>(net, simulation_options{.seed = 3});
    sim->record_state(0, "v_mv", {0, 7}, time_ms{0.5});
    sim->run_until(time_ms{20});
    std::ostringstream out;
    sim->save(out, "extra");
    const std::string file = out.str();
    const std::string payload = file.substr(checkpoint_header_bytes);
    std::uint64_t length = 0;
    std::memcpy(&length, payload.data(), sizeof length);
    description = payload.substr(0, sizeof length + length);
    rest = payload.substr(description.size());
  }

  void attempt(const std::string& file) {
    std::istringstream in(file);
    try {
      sim->restore(in, "fuzz.ckpt");
      sim->run_until(sim->now() + apical::time_ms{2});
    } catch (const apical::file_error& e) {
      if (std::string(e.what()).find("fuzz.ckpt") == std::string::npos) __builtin_trap();
    }
    sim->reset();
  }
  std::string wrapped(const std::string& payload_rest) const {
    std::ostringstream out;
    const std::string text = description.substr(sizeof(std::uint64_t));
    apical::write_checkpoint(out, apical::checkpoint_checksum(text), description + payload_rest);
    return out.str();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      f.attempt(bytes);
      break;
    case 1:
      f.attempt(f.wrapped(bytes));
      break;
    default: {
      if (bytes.size() < 4) return 0;
      std::uint32_t offset = 0;
      std::memcpy(&offset, bytes.data(), sizeof offset);
      std::string rest = f.rest;
      offset %= static_cast<std::uint32_t>(rest.size());
      const std::string patch = bytes.substr(4);
      rest.replace(offset, std::min(patch.size(), rest.size() - offset), patch);
      f.attempt(f.wrapped(rest));
    }
  }
  return 0;
}
