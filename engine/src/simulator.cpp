#include "apical/engine/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "spin_barrier.hpp"

namespace apical {
namespace {
thread_local std::size_t this_partition = 0;
}

delivery_path parse_delivery_path(std::string_view name) {
  if (name == "auto") return delivery_path::automatic;
  if (name == "ordered") return delivery_path::ordered;
  if (name == "windowed") return delivery_path::windowed;
  throw parameter_error(
      fmt::format("unknown delivery path '{}'; expected auto, ordered or windowed", name));
}

std::size_t simulator::current_partition() {
  return this_partition;
}

simulator::simulator(network& net, simulation_options options)
    : net_(&net),
      options_(options),
      spike_signals_(net.population_count()),
      delivery_signals_(net.projection_count()),
      arrival_signals_(net.projection_count()),
      window_listeners_(net.projection_count(), nullptr),
      followed_(net.population_count(), 0) {
  if (options.threads == 0) throw parameter_error("simulator: threads must be >= 1, got 0");
  comm_ = options.comm;
  if (net.ranks() != ranks() || net.rank() != rank())
    throw parameter_error(fmt::format(
        "simulator: the network holds the synapses of rank {} of {} processes, but this run is "
        "rank {} of {} (network::distribute)",
        net.rank(), net.ranks(), rank(), ranks()));
  split_ = options.threads > 1 || ranks() > 1;
  for (unsigned p = 0; p < options.threads; ++p) parts_.emplace_back(options.queue);
  for (std::size_t k = 0; k < net.population_count(); ++k) {
    const neuron_block b = rank_block(net.pop(k).size(), ranks(), rank());
    blocks_.push_back(b);
    const std::size_t n = b.end - b.begin;
    chunk_.push_back(static_cast<std::uint32_t>(
        std::max<std::size_t>(1, (n + options.threads - 1) / options.threads)));
  }
  // Projections whose delays are all zero are delivered inline, at the
  // spike, when every synapse stays inside one partition (always so for one
  // thread; for one-to-one links between equally sized populations, such as
  // a Poisson drive, with any number). They cost no queue traffic and do
  // not shorten the parallel window.
  window_ms_ = std::numeric_limits<double>::infinity();
  inline_.assign(net.projection_count(), 0);
  for (std::size_t k = 0; k < net.projection_count(); ++k) {
    const projection& pr = net.proj(k);
    bool local = pr.size() > 0 && pr.min_delay_ms() == 0.0;
    for (std::uint32_t g = 0; local && g < pr.groups(); ++g) local = pr.group_delay_ms(g) == 0.0;
    for (std::uint32_t i = 0; local && split_ && i < pr.pre_size(); ++i)
      for (std::uint64_t s = pr.row_begin(i); local && s < pr.row_end(i); ++s)
        local = global_owner(pr.pre_population(), i) ==
                global_owner(pr.post_population(), pr.targets()[s]);
    if (comm_) local = comm_->all_min(local ? 1.0 : 0.0) == 1.0;  // every process's synapses
    inline_[k] = local;
    if (!local) window_ms_ = std::min(window_ms_, pr.min_delay_ms());
  }
  // Every process steps the same windows: the minimum over all synapses.
  if (comm_) window_ms_ = comm_->all_min(window_ms_);
  if (split_ && !(window_ms_ > 0.0))
    throw parameter_error(fmt::format(
        "simulator: {} needs every synaptic delay between partitions to be > 0 ms "
        "(parallel windows are as long as the minimum delay); a projection here has delay 0",
        ranks() > 1 ? fmt::format("a run on {} processes", ranks())
                    : fmt::format("threads = {}", options.threads)));
  first_drive_target_ = static_cast<std::uint16_t>(net.projection_count());
  for (const auto& in : net.poisson_inputs()) {
    const std::size_t n = net.pop(in.population).size();
    drives_.push_back({std::vector<double>(n), std::vector<rng>(n)});
  }
  setup_cuts();
  setup_windowed();
  set_delivery(options.delivery);
  reset();
}

void simulator::setup_windowed() {
  const auto inputs = net_->poisson_inputs();
  for (std::size_t p = 0; p < parts_.size(); ++p) {
    auto& part = parts_[p];
    part.pops.resize(net_->population_count());
    part.arrivals.resize(net_->projection_count());
    for (std::size_t k = 0; k < net_->population_count(); ++k) {
      auto& wp = part.pops[k];
      const auto [lo, hi] = range(k, p);
      wp.lo = lo;
      wp.hi = hi;
      wp.active_bits.assign((hi - lo + 63) / 64, 0);
      wp.count.assign(hi - lo, 0);
    }
    for (std::size_t d = 0; d < inputs.size(); ++d) {
      const auto& in = inputs[d];
      drive_view v;
      v.compartment = in.compartment;
      v.weight = in.weight;
      v.mean_interval_ms = in.rate_hz > 0 ? 1000.0 / in.rate_hz : 0.0;
      v.stop_ms = in.rate_hz > 0 ? in.stop_ms : -std::numeric_limits<double>::infinity();
      v.next_ms = drives_[d].next_ms.data();
      v.generators = drives_[d].generators.data();
      v.event_target = static_cast<std::uint16_t>(first_drive_target_ + d);
      // About one spike per neuron and window or more: cheaper to look at
      // every neuron each window than to queue a wake-up per spike.
      v.sparse = in.rate_hz * window_ms_ / 1000.0 < 0.5;
      auto& wp = part.pops[in.population];
      if (p == 0) drive_slot_.push_back(wp.drives.size());
      wp.drives.push_back(v);
      if (!v.sparse) wp.dense_until_ms = std::max(wp.dense_until_ms, in.stop_ms);
    }
  }
}

std::string simulator::windowed_obstacle() const {
  for (std::size_t k = 0; k < net_->population_count(); ++k)
    if (!net_->pop(k).windowed())
      return fmt::format("population '{}' ({}) runs on the ordered path only",
                         net_->pop(k).name(), net_->pop(k).model_name());
  for (std::size_t k = 0; k < net_->projection_count(); ++k) {
    if (inline_[k])
      return fmt::format("projection '{}' has delay 0 ms (windows need a minimum delay > 0)",
                         net_->proj(k).name());
    if (net_->proj(k).short_term())
      return fmt::format("projection '{}' has short-term plasticity (its efficacy follows the "
                         "arrivals one by one)",
                         net_->proj(k).name());
    const window_listener* l = window_listeners_[k];
    if (l)
      if (auto why = l->windowed_obstacle(); !why.empty())
        return fmt::format("projection '{}': {}", net_->proj(k).name(), why);
    if (!arrival_signals_[k].empty())
      return fmt::format(
          "projection '{}' has arrival listeners, which see every delivery before it is applied",
          net_->proj(k).name());
    if (delivery_signals_[k].empty()) continue;
    if (!l || delivery_signals_[k].size() > 1)
      return fmt::format(
          "projection '{}' has delivery listeners (learning, third factors), which see every "
          "synapse's input in global time order",
          net_->proj(k).name());
  }
  return {};
}

void simulator::set_window_listener(std::size_t projection_id, window_listener* listener) {
  if (projection_id >= window_listeners_.size())
    throw parameter_error(fmt::format("set_window_listener: projection id {} out of range [0, {})",
                                      projection_id, window_listeners_.size()));
  window_listeners_[projection_id] = listener;
  std::fill(followed_.begin(), followed_.end(), 0);
  for (std::size_t k = 0; k < window_listeners_.size(); ++k)
    if (window_listeners_[k]) followed_[net_->proj(k).post_population()] = 1;
}

void simulator::set_delivery(delivery_path path) {
  if (path == delivery_path::windowed)
    if (const auto why = windowed_obstacle(); !why.empty())
      throw parameter_error("simulator: the windowed delivery path does not apply: " + why);
  options_.delivery = path;
}

delivery_path simulator::path() const {
  if (options_.delivery != delivery_path::automatic) return options_.delivery;
  if (!windowed_obstacle().empty()) return delivery_path::ordered;
  // Both give the same spikes; which is faster depends on the work per
  // window. On one thread, windows as short as 0.1 ms (benchmark 4, cuba)
  // hold a few spikes each, and the ordered loop measured 20-30 % faster
  // there; long windows and dense Poisson inputs favour the windowed path
  // by far. With threads, the windowed path needs one barrier per window,
  // the ordered one two.
  if (split_ || window_ms_ >= 1.0) return delivery_path::windowed;
  for (const auto& wp : parts_[0].pops)
    if (wp.dense_until_ms > 0.0) return delivery_path::windowed;
  return delivery_path::ordered;
}

simulator::~simulator() = default;

void simulator::setup_cuts() {
  cuts_.assign(net_->projection_count(), {});
  if (!split_) return;
  const std::size_t n = parts_.size();
  for (std::size_t k = 0; k < net_->projection_count(); ++k) {
    const projection& pr = net_->proj(k);
    auto& cuts = cuts_[k];
    if (std::size_t{pr.groups()} * (n + 1) * 8 > pr.size()) continue;
    cuts.resize(std::size_t{pr.groups()} * (n + 1));
    for (std::uint32_t g = 0; g < pr.groups(); ++g) {
      for (std::size_t p = 0; p < n; ++p)
        cuts[std::size_t{g} * (n + 1) + p] = search_own_targets(k, g, p).first;
      cuts[std::size_t{g} * (n + 1) + n] = search_own_targets(k, g, n - 1).second;
    }
  }
}

std::pair<std::uint32_t, std::uint32_t> simulator::search_own_targets(std::size_t k,
                                                                      std::uint32_t g,
                                                                      std::size_t p) const {
  const projection& pr = net_->proj(k);
  const auto targets = pr.group_targets(g);
  const auto [lo, hi] = range(pr.post_population(), p);
  const auto b = std::lower_bound(targets.begin(), targets.end(), lo);
  const auto e = std::lower_bound(b, targets.end(), hi);
  return {static_cast<std::uint32_t>(b - targets.begin()),
          static_cast<std::uint32_t>(e - targets.begin())};
}

std::pair<std::uint32_t, std::uint32_t> simulator::range(std::size_t population_id,
                                                         std::size_t p) const {
  const neuron_block& b = blocks_[population_id];
  const std::uint64_t c = chunk_[population_id];
  const auto lo = static_cast<std::uint32_t>(std::min<std::uint64_t>(b.end, b.begin + c * p));
  const auto hi = static_cast<std::uint32_t>(std::min<std::uint64_t>(b.end, b.begin + c * (p + 1)));
  return {lo, hi};
}

std::size_t simulator::global_owner(std::size_t population_id, std::uint32_t i) const {
  // The rank's block, then the thread's share of it, as range() cuts them.
  const std::size_t n = net_->pop(population_id).size();
  const unsigned r = rank_of(n, ranks(), i);
  const neuron_block b = rank_block(n, ranks(), r);
  const auto threads = static_cast<unsigned>(parts_.size());
  return std::size_t{r} * threads + rank_of(b.end - b.begin, threads, i - b.begin);
}

void simulator::reset() {
  now_ = time_ms::zero();
  // Initial states are drawn serially in neuron order: independent of threads.
  for (std::size_t k = 0; k < net_->population_count(); ++k) net_->pop(k).reset(options_.seed);
  for (std::size_t p = 0; p < parts_.size(); ++p) {
    auto& part = parts_[p];
    part.queue->clear();
    part.samples.assign(samplers_.size(), {});
    part.short_term.assign(net_->projection_count(), {});
    for (std::size_t k = 0; k < net_->projection_count(); ++k)
      if (const auto& stp = net_->proj(k).short_term())
        part.short_term[k].assign(net_->proj(k).groups(), initial_short_term(*stp));
    for (std::size_t k = 0; k < net_->population_count(); ++k) {
      const auto [lo, hi] = range(k, p);
      net_->pop(k).predict(lo, hi, 0.0, part.sched);
    }
    for (std::size_t r = 0; r < samplers_.size(); ++r)
      part.sched.schedule(
          event{time_ms::zero(), 0, 0, static_cast<std::uint16_t>(r), event_kind::sample});
  }
  // Poisson inputs: one stream per neuron, its first spike queued (in
  // both paths; on the windowed path it wakes the neuron up).
  const auto inputs = net_->poisson_inputs();
  for (std::size_t d = 0; d < inputs.size(); ++d) {
    auto& st = drives_[d];
    const drive_view& v = parts_[0].pops[inputs[d].population].drives[drive_slot_[d]];
    const neuron_block b = blocks_[inputs[d].population];
    for (std::uint32_t i = b.begin; i < b.end; ++i) {
      st.generators[i].reseed(
          derive_seed(options_.seed, stream::poisson_input, std::uint64_t{d} << 32 | i));
      st.next_ms[i] = inputs[d].rate_hz > 0 ? v.draw_after(i, inputs[d].start_ms)
                                             : std::numeric_limits<double>::infinity();
      if (st.next_ms[i] < std::numeric_limits<double>::infinity())
        parts_[owner(inputs[d].population, i)].sched.schedule(
            event{time_ms{st.next_ms[i]}, i, 0, v.event_target, event_kind::delivery});
    }
  }
  for (auto& part : parts_) {
    part.outbox[0].clear();
    part.outbox[1].clear();
  }
  exchanged_.clear();
}

void simulator::run_until(time_ms t_end) {
  if (t_end < now_)
    throw parameter_error(fmt::format("simulator: cannot run back in time from {} ms to {} ms",
                                      now_.count(), t_end.count()));
  const delivery_path to = path();
  if (to == delivery_path::windowed)
    if (const auto why = windowed_obstacle(); !why.empty())
      throw parameter_error("simulator: the windowed delivery path does not apply: " + why);
  if (to != path_) switch_path(to);
  if (to == delivery_path::windowed) {
    run_windowed(t_end);
  } else if (!split_) {
    process(0, t_end);
  } else {
    run_parallel(t_end);
  }
  now_ = t_end;
}

void simulator::process(std::size_t p, time_ms t_end) {
  auto& part = parts_[p];
  auto& q = *part.queue;
  while (!q.empty() && q.top().time < t_end) {
    const event e = q.pop();  // 1. pop
    ++part.counters.events;
    switch (e.kind) {
      case event_kind::delivery:
        if (e.target >= first_drive_target_)
          drive_input(part, e);
        else
          deliver(part, p, e);  // 2-4
        break;
      case event_kind::crossing:
        fire(part, p, e);  // 5-6
        break;
      case event_kind::sample:
        sample(part, p, e);
        break;
    }
  }
}

void simulator::deliver(partition& part, std::size_t p, const event& e) {
  const projection& pr = net_->proj(e.target);
  auto targets = pr.group_targets(e.payload);
  std::uint64_t first = pr.group_begin(e.payload);
  std::size_t offset = 0;
  if (split_) {
    // Targets are sorted within a group: this partition's are a sub-range.
    const auto [b, en] = own_targets(e.target, e.payload, p);
    offset = b;
    targets = targets.subspan(offset, en - b);
    first += offset;
  }
  if (const auto& early = arrival_signals_[e.target]; !early.empty())
    early.emit(arrival{e.time, e.index, e.payload, first, targets});
  // 2-3. advance each target lazily and apply its input
  auto& post = net_->pop(pr.post_population());
  // Short-term plasticity scales the group's weights by its efficacy now.
  const auto& stp = pr.short_term();
  const double efficacy =
      stp ? short_term_arrival(*stp, part.short_term[e.target][e.payload], e.time.count()) : 1.0;
  const auto scaled = [efficacy](float w) {
    return static_cast<float>(static_cast<double>(w) * efficacy);
  };
  float uniform = 0.0f;
  std::span<const float> weights;
  if (pr.uniform_weight()) {
    uniform = stp ? scaled(pr.weight(0)) : pr.weight(0);
    post.deliver(e.time.count(), pr.compartment(), targets, uniform, part.sched);
  } else {
    weights = pr.group_weights(e.payload).subspan(offset, targets.size());
    if (stp) {
      part.scaled_weights.resize(weights.size());
      std::transform(weights.begin(), weights.end(), part.scaled_weights.begin(), scaled);
      weights = part.scaled_weights;
    }
    post.deliver(e.time.count(), pr.compartment(), targets, weights, part.sched);
  }
  part.counters.synaptic_events += targets.size();
  // 4. notify
  const auto& listeners = delivery_signals_[e.target];
  if (!listeners.empty())
    for (std::size_t k = 0; k < targets.size(); ++k)
      listeners.emit(delivery{e.time, e.index, targets[k], first + k,
                              weights.empty() ? uniform : weights[k]});
}

void simulator::fire(partition& part, std::size_t p, const event& e) {
  // 5. threshold: a stale prediction is dropped here
  if (!net_->pop(e.target).fire_if_current(e.index, e.payload, e.time.count(), part.sched)) {
    ++part.counters.stale_predictions;
    return;
  }
  ++part.counters.spikes;
  // 6. emit
  spike_signals_[e.target].emit(e.time, e.index);
  for (const std::uint16_t k : net_->outgoing(e.target)) {
    if (!inline_[k]) continue;
    const projection& pr = net_->proj(k);
    for (std::uint32_t g = pr.first_group(e.index); g < pr.last_group(e.index); ++g)
      deliver(part, p, event{e.time, e.index, g, k, event_kind::delivery});
  }
  if (!split_)
    schedule_deliveries(part, p, e.time, e.target, e.index);
  else
    part.outbox[0].push_back({e.time.count(), {e.target, e.index}});
}

void simulator::schedule_deliveries(partition& part, std::size_t p, time_ms t, std::uint16_t pop,
                                    std::uint32_t neuron) {
  for (const std::uint16_t k : net_->outgoing(pop)) {
    if (inline_[k]) continue;
    const projection& pr = net_->proj(k);
    for (std::uint32_t g = pr.first_group(neuron); g < pr.last_group(neuron); ++g) {
      if (!owns_target(k, g, p)) continue;  // (no target in this partition)
      part.sched.schedule(
          event{t + time_ms{pr.group_delay_ms(g)}, neuron, g, k, event_kind::delivery});
    }
  }
}

namespace {
std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}
// The first of the partitions' errors, as a message (empty: none).
std::string first_error(const std::vector<std::exception_ptr>& errors) {
  for (const auto& e : errors)
    if (e) return message_of(e);
  return {};
}
// One spike of the exchange between processes: 16 bytes.
struct spike_record {
  double time_ms;
  std::uint32_t neuron;
  std::uint16_t population;
  std::uint16_t unused = 0;
};
static_assert(sizeof(spike_record) == 16);
}  // namespace

std::string simulator::exchange(int box, const std::string& error) {
  // [error length][error][spike records]
  std::size_t count = 0;
  for (const auto& part : parts_) count += part.outbox[box].size();
  const std::uint64_t length = error.size();
  send_.resize(sizeof length + error.size() + count * sizeof(spike_record));
  std::byte* w = send_.data();
  std::memcpy(w, &length, sizeof length);
  std::memcpy(w + sizeof length, error.data(), error.size());
  w += sizeof length + error.size();
  for (const auto& part : parts_)
    for (const auto& [t, who] : part.outbox[box]) {
      const spike_record rec{t, who.second, who.first};
      std::memcpy(w, &rec, sizeof rec);
      w += sizeof rec;
    }
  comm_->all_gather(send_, received_, offsets_);
  ++exchanges_;
  exchanged_bytes_ += received_.size();
  exchanged_.clear();
  std::string failure;
  for (unsigned r = 0; r < comm_->size(); ++r) {
    const std::byte* at = received_.data() + offsets_[r];
    const std::byte* end = received_.data() + offsets_[r + 1];
    std::uint64_t n = 0;
    std::memcpy(&n, at, sizeof n);
    at += sizeof n;
    if (n > 0 && failure.empty())
      failure = fmt::format("rank {}: {}",
                            r, std::string_view(reinterpret_cast<const char*>(at), n));
    at += n;
    for (; at + sizeof(spike_record) <= end; at += sizeof(spike_record)) {
      spike_record rec;
      std::memcpy(&rec, at, sizeof rec);
      exchanged_.push_back({rec.time_ms, {rec.population, rec.neuron}});
    }
  }
  return failure;
}

void simulator::import_window(std::size_t p, int box) {
  if (comm_) {
    import_spikes(p, exchanged_);
    return;
  }
  for (const auto& src : parts_) import_spikes(p, src.outbox[box]);
}

void simulator::run_parallel(time_ms t_end) {
  const std::size_t n = parts_.size();
  detail::spin_barrier sync(static_cast<std::uint32_t>(n));
  std::vector<std::exception_ptr> errors(n);
  std::atomic<bool> failed{false};
  std::string remote;  // the first failed process's error (distributed runs)
  const time_ms start = now_;

  auto work = [&](std::size_t p) {
    this_partition = p;
    auto& part = parts_[p];
    time_ms t0 = start;
    while (t0 < t_end) {
      const time_ms t1 = std::min(t0 + time_ms{window_ms_}, t_end);
      if (!failed.load()) {
        try {
          process(p, t1);
        } catch (...) {
          errors[p] = std::current_exception();
          failed = true;
        }
      }
      if (n > 1) sync.arrive_and_wait();
      if (comm_) {
        // Every process learns of every failure here, so all stop together.
        if (p == 0) remote = exchange(0, first_error(errors));
        if (n > 1) sync.arrive_and_wait();
      }
      if (failed.load() || !remote.empty()) break;  // every thread sees the same here
      // Exchange: every partition imports the window's spikes and schedules
      // the deliveries to its own neurons (the import order does not matter:
      // the queue orders events by what they are).
      try {
        import_window(p, 0);
      } catch (...) {
        errors[p] = std::current_exception();
        failed = true;
      }
      if (n > 1) sync.arrive_and_wait();
      part.outbox[0].clear();
      if (failed.load() && !comm_) break;
      t0 = t1;
    }
    this_partition = 0;
  };

  std::vector<std::jthread> workers;
  for (std::size_t p = 1; p < n; ++p) workers.emplace_back(work, p);
  work(0);
  workers.clear();  // joins
  exchanged_.clear();  // imported
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  if (!remote.empty()) throw distributed_error(remote);
}

void simulator::sample(partition& part, std::size_t p, const event& e) {
  const auto& s = samplers_[e.target];
  const auto& pop = net_->pop(s.population);
  auto& out = part.samples[e.target];
  for (std::size_t c = 0; c < s.neurons.size(); ++c) {
    const auto i = s.neurons[c];
    if (owner(s.population, i) == p)
      out.push_back({e.time.count(), c, pop.state_value(i, s.variable, e.time.count())});
  }
  part.sched.schedule(event{e.time + s.interval, 0, 0, e.target, event_kind::sample});
}

const simulator::state_samples& simulator::state_recording(std::size_t recorder) const {
  if (recorder >= samplers_.size())
    throw parameter_error(fmt::format("state_recording: no recorder {}", recorder));
  gathered_.resize(samplers_.size());
  auto& g = gathered_[recorder];
  g = samplers_[recorder];
  std::vector<sample_value> all;
  for (const auto& part : parts_)
    all.insert(all.end(), part.samples[recorder].begin(), part.samples[recorder].end());
  if (comm_) all = comm_->all_gather_values(std::span<const sample_value>(all));  // every process's
  std::sort(all.begin(), all.end(), [](const sample_value& a, const sample_value& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.column < b.column;
  });
  const std::size_t n = g.neurons.size();
  for (std::size_t k = 0; k < all.size(); ++k) {
    if (k % n == 0) g.times_ms.push_back(all[k].time_ms);
    g.values.push_back(all[k].value);
  }
  return g;
}

simulation_counters simulator::counters() const {
  simulation_counters c;
  for (const auto& part : parts_) {
    c.events += part.counters.events;
    c.stale_predictions += part.counters.stale_predictions;
    c.settled += part.counters.settled;
    c.settled_in_part += part.counters.settled_in_part;
    c.spikes += part.counters.spikes;
    c.synaptic_events += part.counters.synaptic_events;
    c.drive_inputs += part.counters.drive_inputs;
  }
  c.windows = parts_[0].counters.windows;
  return c;
}

std::size_t simulator::record_state(std::size_t population_id, std::string_view variable,
                                    std::vector<std::uint32_t> neurons, time_ms interval) {
  if (population_id >= net_->population_count())
    throw parameter_error(
        fmt::format("record_state: population id {} out of range", population_id));
  const auto& pop = net_->pop(population_id);
  if (!(interval.count() > 0.0) || !interval.is_finite())
    throw parameter_error(
        fmt::format("record_state: interval must be > 0 ms, got {}", interval.count()));
  if (neurons.empty()) throw parameter_error("record_state: no neurons given");
  for (auto i : neurons)
    if (i >= pop.size())
      throw parameter_error(
          fmt::format("record_state: neuron {} out of range for population '{}' "
                      "of size {}",
                      i, pop.name(), pop.size()));
  if (samplers_.size() >= std::numeric_limits<std::uint16_t>::max())
    throw parameter_error("record_state: too many recorders");
  const std::size_t var = pop.state_index(variable);
  samplers_.push_back(
      {population_id, var, std::string(variable), std::move(neurons), interval, {}, {}});
  const auto r = static_cast<std::uint16_t>(samplers_.size() - 1);
  for (auto& part : parts_) {
    part.samples.resize(samplers_.size());
    part.sched.schedule(event{now_, 0, 0, r, event_kind::sample});
  }
  return r;
}

// ---------------------------------------------------------------------------
// Poisson inputs on the ordered path: one queued event per spike.

void simulator::drive_input(partition& part, const event& e) {
  const std::size_t d = e.target - first_drive_target_;
  const auto& in = net_->poisson_inputs()[d];
  auto& st = drives_[d];
  const std::uint32_t i = e.index;
  // A wake-up left over from the windowed path, or a repeated one.
  if (st.next_ms[i] != e.time.count()) return;
  const double t = e.time.count();
  net_->pop(in.population).deliver(t, in.compartment, std::span<const std::uint32_t>(&i, 1),
                                   in.weight, part.sched);
  ++part.counters.drive_inputs;
  ++part.counters.synaptic_events;
  const drive_view& v = part.pops[in.population].drives[drive_slot_[d]];
  st.next_ms[i] = v.draw_after(i, t);
  if (st.next_ms[i] < std::numeric_limits<double>::infinity())
    part.sched.schedule(event{time_ms{st.next_ms[i]}, i, 0, e.target, event_kind::delivery});
}

// ---------------------------------------------------------------------------
// The windowed path.

void simulator::switch_path(delivery_path to) {
  if (to == delivery_path::ordered) {
    // Dense Poisson inputs queue no events on the windowed path; the
    // ordered path needs one per neuron at its next spike.
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      auto& part = parts_[p];
      for (const auto& wp : part.pops)
        for (const auto& v : wp.drives)
          if (!v.sparse)
            for (std::uint32_t i = wp.lo; i < wp.hi; ++i)
              if (v.next_ms[i] < std::numeric_limits<double>::infinity())
                part.sched.schedule(
                    event{time_ms{v.next_ms[i]}, i, 0, v.event_target, event_kind::delivery});
    }
  }
  path_ = to;
}

void simulator::import_spikes(std::size_t p, const std::vector<outgoing_spike>& spikes) {
  auto& part = parts_[p];
  for (const auto& [t, who] : spikes) schedule_deliveries(part, p, time_ms{t}, who.first, who.second);
}

void simulator::run_windowed(time_ms t_end) {
  const std::size_t n = parts_.size();
  const time_ms start = now_;
  std::vector<std::exception_ptr> errors(n);
  std::atomic<bool> failed{false};
  std::string remote;  // the first failed process's error (distributed runs)
  detail::spin_barrier sync(static_cast<std::uint32_t>(n));

  auto work = [&](std::size_t p) {
    this_partition = p;
    auto& part = parts_[p];
    int parity = 0;
    time_ms a = start;
    const auto guarded = [&](auto&& f) {
      if (failed.load(std::memory_order_relaxed)) return;
      try {
        f();
      } catch (...) {
        errors[p] = std::current_exception();
        failed = true;
      }
    };
    while (a < t_end) {
      time_ms b = std::min(a + time_ms{window_ms_}, t_end);
      guarded([&] {
        // Every partition finished reading this outbox a window ago; the
        // other one holds the previous window's spikes of everyone.
        part.outbox[parity].clear();
        import_window(p, parity ^ 1);
        b = window(p, a, b, part.outbox[parity]);
      });
      if (n > 1) sync.arrive_and_wait();
      if (comm_) {
        // The window's spikes of every process; every process learns of
        // every failure here, so all stop together.
        if (p == 0) remote = exchange(parity, first_error(errors));
        if (n > 1) sync.arrive_and_wait();
      }
      if (failed.load() || !remote.empty()) break;
      parity ^= 1;
      a = b;
    }
    // The last window's spikes, scheduled for the next run.
    if (remote.empty()) guarded([&] { import_window(p, parity ^ 1); });
    if (n > 1) sync.arrive_and_wait();
    this_partition = 0;
  };

  if (n == 1) {
    work(0);
  } else {
    std::vector<std::jthread> workers;
    for (std::size_t p = 1; p < n; ++p) workers.emplace_back(work, p);
    work(0);
    workers.clear();  // joins
  }
  for (auto& part : parts_) {
    part.outbox[0].clear();
    part.outbox[1].clear();
  }
  exchanged_.clear();  // imported
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  if (!remote.empty()) throw distributed_error(remote);
}

namespace {
void mark(std::vector<std::uint64_t>& bits, std::uint32_t k) {
  bits[k >> 6] |= std::uint64_t{1} << (k & 63);
}
}  // namespace

time_ms simulator::window(std::size_t p, time_ms a, time_ms b_max,
                          std::vector<outgoing_spike>& out) {
  auto& part = parts_[p];
  auto& q = *part.queue;
  double b = b_max.count();
  part.deliveries.clear();
  part.spans.clear();
  bool per_synapse = false;  // some population reads weights per entry (weighted)
  for (auto& wp : part.pops) wp.weighted = false;
  part.due_samples.clear();
  if (p == 0) ++part.counters.windows;

  // Fetches a delivery's targets into the cache (rows are rarely cached).
  const auto prefetch_row = [](const window_target& sp) {
    const auto* row = reinterpret_cast<const char*>(sp.targets);
    const auto* row_end = reinterpret_cast<const char*>(sp.targets + sp.count);
    for (const char* c = row; c < row_end; c += 64) __builtin_prefetch(c);
  };

  // 1. pop the window's events: deliveries into spans, wake-ups into the
  // active sets. A sampling instant ends the window just after it.
  event e;
  while (q.pop_before(b, e)) {
    ++part.counters.events;
    if (e.kind == event_kind::crossing) {
      auto& wp = part.pops[e.target];
      mark(wp.active_bits, e.index - wp.lo);
    } else if (e.kind == event_kind::sample) {
      part.due_samples.push_back(e);
      b = std::nextafter(e.time.count(), std::numeric_limits<double>::infinity());
    } else if (e.target >= first_drive_target_) {
      auto& wp = part.pops[net_->poisson_inputs()[e.target - first_drive_target_].population];
      mark(wp.active_bits, e.index - wp.lo);
    } else {
      const projection& pr = net_->proj(e.target);
      auto targets = pr.group_targets(e.payload);
      std::size_t offset = 0;
      if (split_) {
        const auto [lo, hi] = own_targets(e.target, e.payload, p);
        offset = lo;
        targets = targets.subspan(offset, hi - lo);
      }
      if (targets.empty()) continue;
      part.deliveries.push_back({e.time.count(), pr.compartment(), pr.weight(0)});
      const float* weights =
          pr.uniform_weight() ? nullptr : pr.group_weights(e.payload).data() + offset;
      if (weights || window_listeners_[e.target]) {
        per_synapse = true;
        part.pops[pr.post_population()].weighted = true;
      }
      const std::uint64_t first = pr.group_begin(e.payload) + offset;
      part.spans.push_back({targets.data(), weights, pr.weight(0),
                            static_cast<std::uint32_t>(targets.size()), pr.post_population(),
                            e.target, e.payload, first});
      if (window_listeners_[e.target])
        part.arrivals[e.target].push_back({e.time.count(), e.payload,
                                           static_cast<std::uint32_t>(targets.size()), first,
                                           targets.data()});
    }
  }
  // Each target's inputs counted (and the targets marked active), the
  // next deliveries' target rows fetched ahead (they are rarely cached).
  for (std::size_t d = 0; d < part.spans.size(); ++d) {
    if (d + 2 < part.spans.size()) prefetch_row(part.spans[d + 2]);
    const window_target& sp = part.spans[d];
    auto& wp = part.pops[sp.population];
    std::uint32_t* count = wp.count.data() - wp.lo;
    const std::uint32_t* __restrict targets = sp.targets;
    const std::uint32_t n = sp.count;
    if (a.count() < wp.dense_until_ms) {  // every neuron is active anyway
      for (std::uint32_t k = 0; k < n; ++k) ++count[targets[k]];
    } else {
      for (std::uint32_t k = 0; k < n; ++k)
        if (count[targets[k]]++ == 0) mark(wp.active_bits, targets[k] - wp.lo);
    }
  }

  // 2. the active neurons of each population, and their slice offsets
  std::uint32_t total = 0;
  for (std::size_t k = 0; k < part.pops.size(); ++k) {
    auto& wp = part.pops[k];
    wp.active.clear();
    wp.begin.clear();
    if (a.count() < wp.dense_until_ms) {
      for (std::uint32_t i = wp.lo; i < wp.hi; ++i) wp.active.push_back(i);
      std::fill(wp.active_bits.begin(), wp.active_bits.end(), 0);
    } else {
      for (std::size_t w = 0; w < wp.active_bits.size(); ++w) {
        for (std::uint64_t bits = wp.active_bits[w]; bits != 0; bits &= bits - 1)
          wp.active.push_back(wp.lo + static_cast<std::uint32_t>(w * 64 + std::countr_zero(bits)));
        wp.active_bits[w] = 0;
      }
    }
    for (const std::uint32_t i : wp.active) {
      wp.begin.push_back(total);
      const std::uint32_t c = wp.count[i - wp.lo];
      wp.count[i - wp.lo] = total;  // from here on: the write cursor
      total += c;
    }
    wp.begin.push_back(total);
  }

  // Followed projections (window_listener) see the window's deliveries
  // before the scatter reads their weights.
  // Populations where a delay group arrives twice are marked.
  part.repeated.assign(part.pops.size(), 0);
  bool repeated = false;
  for (std::size_t j = 0; j < window_listeners_.size(); ++j) {
    window_listener* l = window_listeners_[j];
    if (l && l->window_begin(p, a.count(), b, part.arrivals[j])) {
      part.repeated[net_->proj(j).post_population()] = 1;
      repeated = true;
    }
  }

  // 3. scatter: every target's slice fills in event order
  part.narrow = part.spans.size() <= std::size_t{1} << 16;
  if (part.narrow)
    part.entry_delivery16.resize(total);
  else
    part.entry_delivery32.resize(total);
  part.entry_weight.resize(per_synapse ? total : 0);
  const auto scatter = [&](auto* __restrict entries) {
    using index = std::remove_cvref_t<decltype(*entries)>;
    float* __restrict entry_weights = part.entry_weight.data();
    for (std::uint32_t d = 0; d < part.spans.size(); ++d) {
      if (d + 2 < part.spans.size()) prefetch_row(part.spans[d + 2]);
      const window_target& sp = part.spans[d];
      std::uint32_t* count = part.pops[sp.population].count.data() - part.pops[sp.population].lo;
      const std::uint32_t* __restrict targets = sp.targets;
      const std::uint32_t n = sp.count;
      const auto entry = static_cast<index>(d);
      if (sp.weights) {
        const float* __restrict weights = sp.weights;
        for (std::uint32_t k = 0; k < n; ++k) {
          const std::uint32_t pos = count[targets[k]]++;
          entries[pos] = entry;
          entry_weights[pos] = weights[k];
        }
      } else if (part.pops[sp.population].weighted) {
        for (std::uint32_t k = 0; k < n; ++k) {
          const std::uint32_t pos = count[targets[k]]++;
          entries[pos] = entry;
          entry_weights[pos] = sp.weight;
        }
      } else {  // (the population's loop reads the delivery's weight)
        for (std::uint32_t k = 0; k < n; ++k) entries[count[targets[k]]++] = entry;
      }
    }
  };
  if (part.narrow)
    scatter(part.entry_delivery16.data());
  else
    scatter(part.entry_delivery32.data());
  part.counters.synaptic_events += total;
  // A delay group arriving twice: its inputs' weights revised before any
  // spike.
  for (std::size_t k = 0; repeated && k < part.pops.size(); ++k)
    if (part.repeated[k])
      for (std::size_t slice = 0; slice < part.pops[k].active.size(); ++slice)
        revise_slice(part, p, k, slice, {}, -std::numeric_limits<double>::infinity());

  // 4. run each population's active neurons through the window; 6. emit
  part.delivery_scratch.resize(window_inputs::delivery_scratch_per_delivery *
                               part.deliveries.size());
  std::uint32_t revising = ~std::uint32_t{0};  // the neuron whose spikes revise_spikes holds
  std::size_t running = 0;                     // the population running
  auto revise = [&](std::size_t slice, double t, double from) {
    const std::uint32_t neuron = part.pops[running].active[slice];
    if (neuron != revising) part.revise_spikes.clear();
    revising = neuron;
    part.revise_spikes.push_back(t);
    // (The inputs at t itself came before the spike.)
    revise_slice(part, p, running, slice, part.revise_spikes,
                 std::max(std::nextafter(t, std::numeric_limits<double>::infinity()), from));
  };
  for (std::size_t k = 0; k < part.pops.size(); ++k) {
    auto& wp = part.pops[k];
    const bool followed = followed_[k] != 0;
    if (wp.active.empty()) {
      if (followed) end_followed(p, k, {});
      continue;
    }
    window_inputs in;
    in.deliveries = part.deliveries;
    in.active = wp.active;
    in.begin = wp.begin.data();
    if (part.narrow)
      in.delivery16 = part.entry_delivery16.data();
    else
      in.delivery32 = part.entry_delivery32.data();
    in.weight = wp.weighted ? part.entry_weight.data() : nullptr;
    in.drives = wp.drives;
    in.t_begin = a.count();
    in.t_end = b;
    in.delivery_scratch = part.delivery_scratch.data();
    in.neuron_scratch = &part.neuron_scratch;
    if (followed) {
      running = k;
      revising = ~std::uint32_t{0};
      in.revise = delegate<void(std::size_t, double, double)>::from(revise);
    }
    window_counts counts;
    part.fired.clear();
    net_->pop(k).run_window(in, part.sched, part.fired, counts);
    for (const std::uint32_t i : wp.active) wp.count[i - wp.lo] = 0;
    part.counters.drive_inputs += counts.drive_inputs;
    part.counters.synaptic_events += counts.drive_inputs;
    part.counters.stale_predictions += counts.reexamined;
    part.counters.settled += counts.settled;
    part.counters.settled_in_part += counts.settled_in_part;
    part.counters.spikes += part.fired.size();
    const auto& listeners = spike_signals_[k];
    for (const auto& f : part.fired) {
      if (!listeners.empty()) listeners.emit(time_ms{f.time_ms}, f.neuron);
      out.push_back({f.time_ms, {static_cast<std::uint16_t>(k), f.neuron}});
    }
    if (followed) end_followed(p, k, part.fired);
  }
  for (std::size_t j = 0; j < window_listeners_.size(); ++j) part.arrivals[j].clear();

  // 5. samples of the instant that ended the window
  for (const event& due : part.due_samples) sample(part, p, due);
  return time_ms{b};
}

void simulator::end_followed(std::size_t p, std::size_t population,
                             std::span<const fired_spike> fired) {
  for (std::size_t j = 0; j < window_listeners_.size(); ++j)
    if (window_listeners_[j] && net_->proj(j).post_population() == population)
      window_listeners_[j]->window_end(p, fired);
}

void simulator::revise_slice(partition& part, std::size_t p, std::size_t population,
                             std::size_t slice, std::span<const double> spikes, double from) {
  const auto& wp = part.pops[population];
  const std::uint32_t neuron = wp.active[slice];
  std::uint32_t e = wp.begin[slice + 1];
  // The slice is in time order: walk back to the first input at or after
  // `from`.
  while (e > wp.begin[slice] && part.deliveries[part.entry_delivery(e - 1)].time_ms >= from) --e;
  for (; e < wp.begin[slice + 1]; ++e) {
    const std::uint32_t d = part.entry_delivery(e);
    const window_target& sp = part.spans[d];
    window_listener* l = window_listeners_[sp.projection];
    if (!l) continue;
    const auto pos = std::lower_bound(sp.targets, sp.targets + sp.count, neuron) - sp.targets;
    part.entry_weight[e] = l->revised_weight(p, neuron, spikes,
                                             sp.first_synapse + static_cast<std::uint64_t>(pos),
                                             sp.group, part.deliveries[d].time_ms);
  }
}

}  // namespace apical
