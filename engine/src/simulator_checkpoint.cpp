// simulator::save and simulator::restore (checkpoint.hpp has the format).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "apical/engine/checkpoint.hpp"
#include "apical/engine/files.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/simulator.hpp"

namespace apical {
namespace {

// An event as saved: every byte defined (no padding), so the checksum of
// equal states is equal.
struct saved_event {
  double time_ms;
  std::uint32_t index, payload;
  std::uint16_t target;
  std::uint8_t kind, unused0 = 0;
  std::uint32_t unused1 = 0;
};
static_assert(sizeof(saved_event) == 24);
static_assert(std::is_trivially_copyable_v<rng> && sizeof(rng) == 32);

std::uint64_t bytes_hash(const void* data, std::size_t bytes) {
  return checkpoint_checksum(std::string_view(static_cast<const char*>(data), bytes));
}

// The first line where two descriptions differ, for the message.
std::string first_difference(const std::string& saved, const std::string& here) {
  std::istringstream a(saved), b(here);
  std::string la, lb;
  for (;;) {
    const bool ga = static_cast<bool>(std::getline(a, la));
    const bool gb = static_cast<bool>(std::getline(b, lb));
    if (!ga && !gb) return "the descriptions hash differently";
    if (!ga) la = "(nothing)";
    if (!gb) lb = "(nothing)";
    if (!ga || !gb || la != lb) return fmt::format("the checkpoint has {}; this network has {}", la, lb);
  }
}

// The part that keeps projection k's weights, if any.
checkpoint_part* part_of(std::span<checkpoint_part* const> parts, std::size_t k) {
  for (auto* part : parts)
    if (part->checkpoint_projection() == k) return part;
  return nullptr;
}
}  // namespace

std::string simulator::checkpoint_description(std::span<checkpoint_part* const> parts) const {
  // The seed too: a resumed run draws nothing from it, but reports it.
  std::string d = fmt::format("checkpoint of an apical network, seed {}\n", options_.seed);
  for (std::size_t k = 0; k < net_->population_count(); ++k) {
    const auto& pop = net_->pop(k);
    d += fmt::format("population {} '{}': model {}, {} neurons", k, pop.name(), pop.model_name(),
                     pop.size());
    for (const auto name : pop.parameter_names())
      d += fmt::format(", {}={:.17g}", name, pop.parameter(name));
    d += '\n';
  }
  for (std::size_t k = 0; k < net_->projection_count(); ++k) {
    const auto& pr = net_->proj(k);
    // The synapses' structure does not change: hashed once.
    if (structure_hashes_.size() <= k) {
      std::uint64_t h = bytes_hash(pr.targets().data(), pr.targets().size_bytes());
      for (std::uint32_t g = 0; g < pr.groups(); ++g) {
        const double delay = pr.group_delay_ms(g);
        const std::uint64_t begin = pr.group_begin(g);
        h = h * 31 + bytes_hash(&delay, sizeof delay) + bytes_hash(&begin, sizeof begin);
      }
      for (std::uint32_t i = 0; i < pr.pre_size(); ++i) h = h * 31 + pr.first_group(i);
      structure_hashes_.push_back(h);
    }
    std::uint64_t h = structure_hashes_[k];
    const checkpoint_part* part = part_of(parts, k);
    if (part != nullptr) {
      // (weights that change: the part saves them)
    } else if (pr.uniform_weight()) {
      const float w = pr.weight(0);
      h = h * 31 + bytes_hash(&w, sizeof w);
    } else {
      h = h * 31 + bytes_hash(pr.weights().data(), pr.weights().size_bytes());
    }
    d += fmt::format(
        "projection {} '{}': population {} -> {}, compartment {}, {} synapses in {} delay groups, "
        "synapse hash {:016x}\n",
        k, pr.name(), pr.pre_population(), pr.post_population(), pr.compartment(), pr.size(),
        pr.groups(), h);
    if (part != nullptr)
      d += fmt::format("projection {} '{}' weights: {}\n", k, pr.name(),
                       part->checkpoint_description());
    if (const auto& stp = pr.short_term())
      d += fmt::format("projection {} '{}' short-term plasticity: {}\n", k, pr.name(),
                       stp->describe());
  }
  for (const auto& in : net_->poisson_inputs())
    d += fmt::format(
        "input '{}': population {}, compartment {}, rate_hz={:.17g}, weight={:.9g}, "
        "start_ms={:.17g}, stop_ms={:.17g}\n",
        in.name, in.population, in.compartment, in.rate_hz, in.weight, in.start_ms, in.stop_ms);
  for (std::size_t r = 0; r < samplers_.size(); ++r) {
    const auto& s = samplers_[r];
    d += fmt::format("state recorder {}: population {}, variable {}, interval {:.17g} ms, {} neurons",
                     r, s.population, s.variable_name, s.interval.count(), s.neurons.size());
    d += fmt::format(", neuron hash {:016x}\n",
                     bytes_hash(s.neurons.data(), s.neurons.size() * sizeof(std::uint32_t)));
  }
  return d;
}

std::string simulator::checkpoint_payload(std::string_view description, std::string_view extra,
                                          std::span<checkpoint_part* const> parts,
                                          std::string buffer) {
  if (ranks() > 1)
    throw parameter_error(fmt::format(
        "checkpoint: a run on {} processes cannot be saved (checkpoints hold one process's "
        "network; run on one process to save it)",
        ranks()));
  for (std::size_t k = 0; k < net_->population_count(); ++k)
    if (!net_->pop(k).checkpointable())
      throw parameter_error(fmt::format(
          "checkpoint: population '{}' ({}) cannot be checkpointed (its state is not plain data)",
          net_->pop(k).name(), net_->pop(k).model_name()));
  for (std::size_t k = 0; k < net_->projection_count(); ++k) {
    const auto saved = static_cast<std::size_t>(
        std::count_if(parts.begin(), parts.end(),
                      [k](const checkpoint_part* p) { return p->checkpoint_projection() == k; }));
    if (delivery_signals_[k].size() != saved)
      throw parameter_error(fmt::format(
          "checkpoint: projection '{}' has {} delivery listeners, of which {} keep their state "
          "in the checkpoint (plastic projections do; learning rules and other listeners, whose "
          "weights and traces a checkpoint does not hold, are refused)",
          net_->proj(k).name(), delivery_signals_[k].size(), saved));
    if (saved > 1)
      throw parameter_error(fmt::format(
          "checkpoint: projection '{}' has {} parts that save its weights; expected one",
          net_->proj(k).name(), saved));
  }
  checkpoint_writer w(std::move(buffer));
  w.text(description);
  w.put(now_.count());
  const simulation_counters c = counters();
  w.put(c);
  for (std::size_t k = 0; k < net_->population_count(); ++k) net_->pop(k).save(w);
  // Poisson inputs: next spikes and streams; whether their wake-ups are
  // queued (not for dense inputs on the windowed path).
  const auto inputs = net_->poisson_inputs();
  for (std::size_t d = 0; d < inputs.size(); ++d) {
    const drive_view& v = parts_[0].pops[inputs[d].population].drives[drive_slot_[d]];
    w.put(std::uint8_t{path_ == delivery_path::windowed && !v.sparse});
    w.array(std::span<const double>(drives_[d].next_ms));
    w.array(std::span<const rng>(drives_[d].generators));
  }
  // Pending events of every partition, once each (a spike's delivery to
  // several partitions is one event; so is a sampling instant).
  std::vector<event> all;
  for (auto& part : parts_) {
    auto& q = *part.queue;
    const std::size_t first = all.size();
    while (!q.empty()) all.push_back(q.pop());
    q.clear();
    for (std::size_t k = first; k < all.size(); ++k) q.push(all[k]);
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<saved_event> saved;
  saved.reserve(all.size());
  for (const event& e : all)
    saved.push_back({e.time.count(), e.index, e.payload, e.target,
                     static_cast<std::uint8_t>(e.kind)});
  w.array(std::span<const saved_event>(saved));
  for (std::size_t r = 0; r < samplers_.size(); ++r) {
    std::vector<sample_value> values;
    for (const auto& part : parts_)
      values.insert(values.end(), part.samples[r].begin(), part.samples[r].end());
    w.array(std::span<const sample_value>(values));
  }
  // Short-term states: each delay group's from a partition it delivers to
  // (every such partition holds the same state).
  for (std::size_t k = 0; k < net_->projection_count(); ++k) {
    const projection& pr = net_->proj(k);
    if (!pr.short_term()) continue;
    std::vector<short_term_state> states(pr.groups(), initial_short_term(*pr.short_term()));
    for (std::uint32_t g = 0; g < pr.groups(); ++g)
      for (std::size_t p = 0; p < parts_.size(); ++p)
        if (owns_target(k, g, p)) {
          states[g] = parts_[p].short_term[k][g];
          break;
        }
    w.array(std::span<const short_term_state>(states));
  }
  for (const auto* part : parts) part->save(w);
  w.text(extra);
  return w.release();
}

void simulator::save(std::ostream& out, std::string_view extra,
                     std::span<checkpoint_part* const> parts) {
  save(save_image_, extra, parts);
  const std::string header = save_image_.header();
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(save_image_.payload.data(), static_cast<std::streamsize>(save_image_.payload.size()));
  if (!out) throw file_error("checkpoint: writing the stream failed");
}

void simulator::save(const std::filesystem::path& file, std::string_view extra,
                     std::span<checkpoint_part* const> parts) {
  save(save_image_, extra, parts);
  write_file_atomically(file, {save_image_.header(), save_image_.payload});
}

void simulator::save(checkpoint_image& image, std::string_view extra,
                     std::span<checkpoint_part* const> parts) {
  const std::string description = checkpoint_description(parts);
  image.payload = checkpoint_payload(description, extra, parts, std::move(image.payload));
  image.network_hash = checkpoint_checksum(description);
}

std::string simulator::restore(const std::filesystem::path& file,
                               std::span<checkpoint_part* const> parts) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw file_error(fmt::format("{}: cannot open the checkpoint", file.string()));
  return restore(in, file.string(), parts);
}

std::string simulator::restore(std::istream& in, std::string_view source,
                               std::span<checkpoint_part* const> parts) {
  if (ranks() > 1)
    throw parameter_error(fmt::format(
        "{}: a run on {} processes cannot restore a checkpoint (checkpoints hold one process's "
        "network; restore it on one process)",
        source, ranks()));
  std::uint64_t hash = 0;
  const std::string payload = read_checkpoint(in, source, hash);
  checkpoint_reader r(payload, std::string(source));
  const std::string description = r.text("description");
  const std::string here = checkpoint_description(parts);
  if (description != here || hash != checkpoint_checksum(here))
    throw file_error(fmt::format("{}: the checkpoint is of another network: {}", source,
                                 first_difference(description, here)));
  const double now = r.get<double>("time");
  if (!std::isfinite(now) || now < 0)
    throw file_error(fmt::format("{}: checkpoint time {} ms is not a time", source, now));
  now_ = time_ms{now};
  const auto c = r.get<simulation_counters>("counters");
  for (auto& part : parts_) {
    part.counters = {};
    part.queue->clear();
    part.samples.assign(samplers_.size(), {});
    part.outbox[0].clear();
    part.outbox[1].clear();
  }
  parts_[0].counters = c;
  for (std::size_t k = 0; k < net_->population_count(); ++k) net_->pop(k).load(r);

  const auto inputs = net_->poisson_inputs();
  std::vector<std::uint8_t> unqueued(inputs.size());
  for (std::size_t d = 0; d < inputs.size(); ++d) {
    const std::string f = fmt::format("input '{}' ", inputs[d].name);
    unqueued[d] = r.get<std::uint8_t>(f + "queued flag");
    r.array(drives_[d].next_ms, drives_[d].next_ms.size(), f + "next spikes");
    r.array(drives_[d].generators, drives_[d].generators.size(), f + "streams");
    for (std::size_t i = 0; i < drives_[d].generators.size(); ++i)
      if (!drives_[d].generators[i].usable())
        throw file_error(fmt::format("{}: checkpoint input '{}' has an all-zero random stream "
                                     "for neuron {} (no state of the generator)",
                                     source, inputs[d].name, i));
    for (const double t : drives_[d].next_ms)
      if (!(t >= now))  // (infinity: no further spike)
        throw file_error(fmt::format("{}: checkpoint input '{}' has a next spike at {} ms, before "
                                     "the checkpoint's time {} ms",
                                     source, inputs[d].name, t, now));
  }

  std::vector<saved_event> saved;
  r.array(saved, "events");
  for (const auto& s : saved) {
    const auto bad = [&](std::string_view why) {
      return file_error(fmt::format("{}: checkpoint event at {} ms (kind {}, target {}, index {}) "
                                    "{}",
                                    source, s.time_ms, s.kind, s.target, s.index, why));
    };
    if (!(s.time_ms >= now) || !std::isfinite(s.time_ms))
      throw bad("is not a finite time at or after the checkpoint's time");
    const event e{time_ms{s.time_ms}, s.index, s.payload, s.target,
                  static_cast<event_kind>(s.kind)};
    if (e.kind == event_kind::crossing) {
      if (s.target >= net_->population_count() || s.index >= net_->pop(s.target).size())
        throw bad("names no neuron");
      parts_[owner(s.target, s.index)].sched.schedule(e);
    } else if (e.kind == event_kind::sample) {
      if (s.target >= samplers_.size()) throw bad("names no state recorder");
      for (auto& part : parts_) part.sched.schedule(e);
    } else if (e.kind != event_kind::delivery) {
      throw bad("has an unknown kind");
    } else if (s.target >= first_drive_target_) {
      if (std::size_t{s.target} - first_drive_target_ >= inputs.size()) throw bad("names no input");
      const auto pop = inputs[s.target - first_drive_target_].population;
      if (s.index >= net_->pop(pop).size()) throw bad("names no neuron");
      parts_[owner(pop, s.index)].sched.schedule(e);
    } else {
      const projection& pr = net_->proj(s.target);
      if (s.index >= pr.pre_size() || s.payload < pr.first_group(s.index) ||
          s.payload >= pr.last_group(s.index))
        throw bad("names no delay group of its projection");
      // To every partition owning one of the group's targets, as
      // schedule_deliveries does.
      for (std::size_t p = 0; p < parts_.size(); ++p)
        if (owns_target(s.target, s.payload, p)) parts_[p].sched.schedule(e);
    }
  }
  // Dense inputs saved on the windowed path queued no wake-ups: queue
  // them, as a switch to the ordered path does; the restored run then
  // starts on the ordered path's footing, which either path continues.
  for (std::size_t d = 0; d < inputs.size(); ++d) {
    if (!unqueued[d]) continue;
    const auto& st = drives_[d];
    const auto target = static_cast<std::uint16_t>(first_drive_target_ + d);
    for (std::uint32_t i = 0; i < st.next_ms.size(); ++i)
      if (st.next_ms[i] < std::numeric_limits<double>::infinity())
        parts_[owner(inputs[d].population, i)].sched.schedule(
            event{time_ms{st.next_ms[i]}, i, 0, target, event_kind::delivery});
  }
  path_ = delivery_path::ordered;

  for (std::size_t k = 0; k < samplers_.size(); ++k) {
    r.array(parts_[0].samples[k], fmt::format("state recorder {} samples", k));
    for (const auto& v : parts_[0].samples[k])
      if (v.column >= samplers_[k].neurons.size())
        throw file_error(fmt::format("{}: checkpoint sample of state recorder {} names column {} "
                                     "of {}",
                                     source, k, v.column, samplers_[k].neurons.size()));
  }
  for (std::size_t k = 0; k < net_->projection_count(); ++k) {
    const projection& pr = net_->proj(k);
    if (!pr.short_term()) continue;
    std::vector<short_term_state> states;
    r.array(states, pr.groups(), fmt::format("projection '{}' short-term states", pr.name()));
    for (std::uint32_t g = 0; g < pr.groups(); ++g) {
      const short_term_state& st = states[g];
      // x, y and 1 - x - y are fractions; u too; arrivals are not in the future.
      const bool fractions = st.x >= 0 && st.y >= 0 && st.x + st.y <= 1 + 1e-12 && st.u >= 0 &&
                             st.u <= 1 && st.t_ms >= 0 && st.t_ms <= now;
      if (!fractions)
        throw file_error(fmt::format(
            "{}: checkpoint short-term state of projection '{}', delay group {} (x={}, y={}, u={}, "
            "t={} ms) is not a state (fractions in [0, 1], time at or before {} ms)",
            source, pr.name(), g, st.x, st.y, st.u, st.t_ms, now));
    }
    for (auto& part : parts_) part.short_term[k] = states;
  }
  for (auto* part : parts) part->load(r);
  std::string extra = r.text("extra");
  r.expect_end();
  return extra;
}

}  // namespace apical
