#pragma once
// Spike traces for plasticity rules, decayed lazily in closed form.
//
// A trace of a spike train {s} with time constant tau is
//   all_to_all:  x(t) = sum over s <= t of exp(-(t - s) / tau)   (x <- x + 1)
//   nearest:     x(t) = exp(-(t - s_last) / tau)                  (x <- 1)
// It is stored as its value at the owner's last spike and the time of that
// spike; reading it at t multiplies by exp(-(t - t_last) / tau). Nothing is
// stepped on a grid, and reading never changes it, so a trace read at an
// exact spike time is exact up to rounding.
//
// THE TWO FACTORS. A read at t > t_last is computed as
//   (value * exp((t_last - A) / tau)) * exp((A - t) / tau),
// A = anchor(t) = the start of t's period, periods being P ms long (a power
// of two, at most 4 tau_min, so that neither factor exceeds e^4). The
// second factor (a `moment`) is the same for every owner read at t; the
// first (the entry `lifted` to A) changes only when the owner spikes or t
// enters another period. Loops that read many owners at one time, or one
// owner at many times, compute each factor once and multiply: the same
// bits as at(), so every path through a plastic projection rounds alike.
// A read at t = t_last is the stored value itself.
//
// THE TRACE INVARIANT. Traces belong to neurons and compartments, never to
// synapses: one value per (neuron, time constant) on each side, shared by
// every synapse of that neuron. A plastic projection keeps
//   - presynaptic traces per (presynaptic neuron, delay group): the spike
//     train of the neuron as it arrives at the synapse (spike time + delay).
//     A projection with one delay (the usual case) has one group per neuron;
//     synapses of one neuron with different delays see different arrival
//     trains and so different traces;
//   - postsynaptic traces per (postsynaptic neuron, target compartment): the
//     spikes of the neuron as seen in the compartment the projection targets.
// A rule reads only the traces of its synapse's presynaptic group and of its
// synapse's postsynaptic neuron in the projection's target compartment.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "apical/engine/checkpoint.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/time.hpp"

namespace apical::learning {

enum class trace_kind {
  all_to_all,  // every spike adds 1: every pair of spikes interacts
  nearest,     // every spike resets to 1: only the most recent spike counts
};

struct trace_spec {
  double tau_ms;
  trace_kind kind;
};

template <std::size_t N>
using trace_values = std::array<double, N>;

// N traces for each of `owners` owners (neurons or delay groups). The N
// traces of one owner jump at the same spikes, so they share one time stamp
// and one cache line.
template <std::size_t N>
class trace_table {
 public:
  trace_table() = default;
  trace_table(std::size_t owners, const std::array<trace_spec, N>& specs)
      : specs_(specs), entries_(owners) {
    double tau_min = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < N; ++j) {
      inv_tau_[j] = 1.0 / specs[j].tau_ms;
      tau_min = std::min(tau_min, specs[j].tau_ms);
    }
    if (N > 0) period_ms_ = std::exp2(std::floor(std::log2(4.0 * tau_min)));
    inv_period_ = 1.0 / period_ms_;  // (exact: a power of two)
  }
  // An owner's entry to write (a checkpoint's traces restored).
  auto& raw(std::uint32_t owner) { return entries_[owner]; }

  std::size_t size() const { return entries_.size(); }
  const std::array<trace_spec, N>& specs() const { return specs_; }

  // One owner's traces: their value at its last spike, and its time.
  struct entry {
    double t_ms = 0.0;
    trace_values<N> value{};
  };
  const entry& raw(std::uint32_t owner) const { return entries_[owner]; }

  // The traces of `owner` at t_ms (>= the owner's last spike).
  trace_values<N> at(std::uint32_t owner, double t_ms) const { return at(entries_[owner], t_ms); }
  // The same for an entry kept aside (a copy replayed up to some time).
  trace_values<N> at(const entry& e, double t_ms) const { return at(e, moment_of(t_ms)); }

  // What every read at one time shares (THE TWO FACTORS above).
  struct moment {
    double t_ms = 0.0;
    double anchor_ms = 0.0;
    trace_values<N> decay{};  // exp((anchor - t) / tau)
  };
  double anchor(double t_ms) const { return period_ms_ * period_index(t_ms); }
  // The number of t's period (its anchor / period_ms()).
  double period_index(double t_ms) const { return std::floor(t_ms * inv_period_); }
  moment moment_of(double t_ms) const {
    moment m{t_ms, anchor(t_ms), {}};
    for (std::size_t j = 0; j < N; ++j) m.decay[j] = std::exp((m.anchor_ms - t_ms) * inv_tau_[j]);
    return m;
  }
  // An entry's first factor for reads in the period starting at anchor_ms.
  trace_values<N> lift(const entry& e, double anchor_ms) const {
    trace_values<N> v;
    for (std::size_t j = 0; j < N; ++j)
      v[j] = e.value[j] * std::exp((e.t_ms - anchor_ms) * inv_tau_[j]);
    return v;
  }
  double period_ms() const { return period_ms_; }
  // The read itself, from an entry lifted to the anchor of a moment and
  // that moment's decay (its time after the entry's).
  static trace_values<N> decayed(const trace_values<N>& lifted, const trace_values<N>& decay) {
    trace_values<N> v;
    for (std::size_t j = 0; j < N; ++j) v[j] = lifted[j] * decay[j];
    return v;
  }
  trace_values<N> at(std::uint32_t owner, const moment& m) const { return at(entries_[owner], m); }
  trace_values<N> at(const entry& e, const moment& m) const {
    if (e.t_ms == m.t_ms) return e.value;
    return decayed(lift(e, m.anchor_ms), m.decay);
  }

  // A spike of `owner` at t_ms: decay to t_ms, then jump.
  void spike(std::uint32_t owner, double t_ms) { spike(entries_[owner], t_ms); }
  void spike(entry& e, double t_ms) const {
    const trace_values<N> now = at(e, t_ms);
    for (std::size_t j = 0; j < N; ++j)
      e.value[j] = specs_[j].kind == trace_kind::nearest ? 1.0 : now[j] + 1.0;
    e.t_ms = t_ms;
  }

  // Every trace back to 0 (no spike seen), of all owners or of [begin, end).
  void clear() {
    for (auto& e : entries_) e = entry{};
  }
  void clear(std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) entries_[i] = entry{};
  }

 private:
  std::array<trace_spec, N> specs_{};
  std::array<double, N> inv_tau_{};
  double period_ms_ = 1.0;
  double inv_period_ = 1.0;
  std::vector<entry> entries_;
};

// Checkpoints of traces: the entries of owners 0 .. owners-1, owner i's
// taken from the table table_of(i) returns.
template <std::size_t N, class TableOf>
void save_traces(checkpoint_writer& w, std::size_t owners, TableOf table_of) {
  std::vector<double> values;
  values.reserve(owners * (N + 1));
  for (std::size_t i = 0; i < owners; ++i) {
    const auto& e = table_of(i).raw(static_cast<std::uint32_t>(i));
    values.push_back(e.t_ms);
    values.insert(values.end(), e.value.begin(), e.value.end());
  }
  w.array(std::span<const double>(values));
}
// Reads what save_traces wrote into every entry of `table`; a time after
// `now` or a value that is not finite is refused (file_error naming the
// field).
template <std::size_t N>
void load_traces(checkpoint_reader& r, trace_table<N>& table, time_ms now, std::string_view field) {
  std::vector<double> values;
  r.array(values, table.size() * (N + 1), field);
  for (std::size_t i = 0; i < table.size(); ++i) {
    auto& e = table.raw(static_cast<std::uint32_t>(i));
    e.t_ms = values[i * (N + 1)];
    for (std::size_t j = 0; j < N; ++j) e.value[j] = values[i * (N + 1) + 1 + j];
    bool finite = std::isfinite(e.t_ms);
    for (const double v : e.value) finite = finite && std::isfinite(v);
    if (!finite || e.t_ms > now.count())
      throw file_error(
          fmt::format("{}: checkpoint field '{}': entry {} has time {} ms (the "
                      "checkpoint is at {} ms) or a value that is not finite",
                      r.source(), field, i, e.t_ms, now.count()));
  }
}

}  // namespace apical::learning
