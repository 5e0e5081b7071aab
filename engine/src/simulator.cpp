#include "apical/engine/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <exception>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {
namespace {
thread_local std::size_t this_partition = 0;
}

std::size_t simulator::current_partition() {
  return this_partition;
}

simulator::simulator(network& net, simulation_options options)
    : net_(&net),
      options_(options),
      spike_signals_(net.population_count()),
      delivery_signals_(net.projection_count()) {
  if (options.threads == 0) throw parameter_error("simulator: threads must be >= 1, got 0");
  for (unsigned p = 0; p < options.threads; ++p) parts_.emplace_back(options.queue);
  for (std::size_t k = 0; k < net.population_count(); ++k) {
    const std::size_t n = net.pop(k).size();
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
    for (std::uint32_t i = 0; local && options.threads > 1 && i < pr.pre_size(); ++i)
      for (std::uint64_t s = pr.row_begin(i); local && s < pr.row_end(i); ++s)
        local = owner(pr.pre_population(), i) == owner(pr.post_population(), pr.targets()[s]);
    inline_[k] = local;
    if (!local) window_ms_ = std::min(window_ms_, pr.min_delay_ms());
  }
  if (options.threads > 1 && !(window_ms_ > 0.0))
    throw parameter_error(fmt::format(
        "simulator: threads = {} needs every synaptic delay between partitions to be > 0 ms "
        "(parallel windows are as long as the minimum delay); a projection here has delay 0",
        options.threads));
  reset();
}

simulator::~simulator() = default;

std::pair<std::uint32_t, std::uint32_t> simulator::range(std::size_t population_id,
                                                         std::size_t p) const {
  const auto n = static_cast<std::uint32_t>(net_->pop(population_id).size());
  const std::uint32_t c = chunk_[population_id];
  const auto lo = static_cast<std::uint32_t>(std::min<std::uint64_t>(n, std::uint64_t{c} * p));
  const auto hi =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(n, std::uint64_t{c} * (p + 1)));
  return {lo, hi};
}

void simulator::reset() {
  now_ = time_ms::zero();
  // Initial states are drawn serially in neuron order: independent of threads.
  for (std::size_t k = 0; k < net_->population_count(); ++k) net_->pop(k).reset(options_.seed);
  for (std::size_t p = 0; p < parts_.size(); ++p) {
    auto& part = parts_[p];
    part.queue->clear();
    part.outbox.clear();
    part.samples.assign(samplers_.size(), {});
    for (std::size_t k = 0; k < net_->population_count(); ++k) {
      const auto [lo, hi] = range(k, p);
      net_->pop(k).predict(lo, hi, 0.0, part.sched);
    }
    for (std::size_t r = 0; r < samplers_.size(); ++r)
      part.sched.schedule(
          event{time_ms::zero(), 0, 0, static_cast<std::uint16_t>(r), event_kind::sample});
  }
}

void simulator::run_until(time_ms t_end) {
  if (t_end < now_)
    throw parameter_error(fmt::format("simulator: cannot run back in time from {} ms to {} ms",
                                      now_.count(), t_end.count()));
  if (parts_.size() == 1) {
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
  if (parts_.size() > 1) {
    // Targets are sorted within a group: this partition's are a sub-range.
    const auto [lo, hi] = range(pr.post_population(), p);
    const auto b = std::lower_bound(targets.begin(), targets.end(), lo) - targets.begin();
    const auto en = std::lower_bound(targets.begin(), targets.end(), hi) - targets.begin();
    offset = static_cast<std::size_t>(b);
    targets = targets.subspan(offset, static_cast<std::size_t>(en - b));
    first += offset;
  }
  // 2-3. advance each target lazily and apply its input
  auto& post = net_->pop(pr.post_population());
  if (pr.uniform_weight()) {
    post.deliver(e.time.count(), pr.compartment(), targets, pr.weight(0), part.sched);
  } else {
    post.deliver(e.time.count(), pr.compartment(), targets,
                 pr.group_weights(e.payload).subspan(offset, targets.size()), part.sched);
  }
  part.counters.synaptic_events += targets.size();
  // 4. notify
  const auto& listeners = delivery_signals_[e.target];
  if (!listeners.empty())
    for (std::size_t k = 0; k < targets.size(); ++k)
      listeners.emit(delivery{e.time, e.index, targets[k], first + k, pr.weight(first + k)});
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
  if (parts_.size() == 1)
    schedule_deliveries(part, p, e.time, e.target, e.index);
  else
    part.outbox.push_back({e.time.count(), {e.target, e.index}});
}

void simulator::schedule_deliveries(partition& part, std::size_t p, time_ms t, std::uint16_t pop,
                                    std::uint32_t neuron) {
  for (const std::uint16_t k : net_->outgoing(pop)) {
    if (inline_[k]) continue;
    const projection& pr = net_->proj(k);
    std::pair<std::uint32_t, std::uint32_t> mine{0, 0};
    if (parts_.size() > 1) mine = range(pr.post_population(), p);
    for (std::uint32_t g = pr.first_group(neuron); g < pr.last_group(neuron); ++g) {
      if (parts_.size() > 1) {
        // Skip groups with no target in this partition.
        const auto targets = pr.group_targets(g);
        const auto it = std::lower_bound(targets.begin(), targets.end(), mine.first);
        if (it == targets.end() || *it >= mine.second) continue;
      }
      part.sched.schedule(
          event{t + time_ms{pr.group_delay_ms(g)}, neuron, g, k, event_kind::delivery});
    }
  }
}

void simulator::run_parallel(time_ms t_end) {
  const std::size_t n = parts_.size();
  std::barrier sync(static_cast<std::ptrdiff_t>(n));
  std::vector<std::exception_ptr> errors(n);
  std::atomic<bool> failed{false};
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
      sync.arrive_and_wait();
      if (failed.load()) break;  // every thread sees the same flag here
      // Exchange: every partition imports the window's spikes and schedules
      // the deliveries to its own neurons (the import order does not matter:
      // the queue orders events by what they are).
      try {
        for (const auto& src : parts_)
          for (const auto& [t, who] : src.outbox)
            schedule_deliveries(part, p, time_ms{t}, who.first, who.second);
      } catch (...) {
        errors[p] = std::current_exception();
        failed = true;
      }
      sync.arrive_and_wait();
      part.outbox.clear();
      if (failed.load()) break;
      t0 = t1;
    }
    this_partition = 0;
  };

  std::vector<std::jthread> workers;
  for (std::size_t p = 1; p < n; ++p) workers.emplace_back(work, p);
  work(0);
  workers.clear();  // joins
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
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
    c.spikes += part.counters.spikes;
    c.synaptic_events += part.counters.synaptic_events;
  }
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

}  // namespace apical
