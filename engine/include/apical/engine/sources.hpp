#pragma once
// Spike sources: populations that fire on their own and ignore input. They
// are neuron models like any other (neuron_model.hpp), so they connect,
// record and reset the same way.
//
// poisson_source
//   Exact Poisson process: intervals are exponential with mean 1000/rate_hz
//   ms, drawn from one rng per neuron (seeded from the population's
//   initial-state stream), never rounded to a grid.
//   | name     | unit | default | meaning                         |
//   | rate_hz  | Hz   | 10      | mean rate                       |
//   | start_ms | ms   | 0       | no spike before                 |
//   | stop_ms  | ms   | inf     | no spike at or after            |
//
// regular_source
//   Spikes at start_ms + phase_ms + k * 1000/rate_hz.
//   | rate_hz  | Hz | 10  | rate                                    |
//   | start_ms | ms | 0   | first spike at start_ms + phase_ms      |
//   | stop_ms  | ms | inf | no spike at or after                    |
//   | phase_ms | ms | 0   | offset of the first spike               |
//
// spike_time_source
//   Replays given spike times: neuron c fires at raster.channel(c). The
//   raster is a parameter, so a new sample is presented by set_params()
//   followed by simulator::reset().
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>

#include "apical/engine/error.hpp"
#include "apical/engine/neuron_model.hpp"
#include "apical/engine/spike_raster.hpp"

namespace apical {

namespace detail {
inline constexpr double inf = std::numeric_limits<double>::infinity();
inline void require(bool ok, std::string_view model, std::string_view field, double value,
                    std::string_view expected) {
  if (!ok)
    throw parameter_error(std::string(model) + ": parameter '" + std::string(field) + "' " +
                          std::string(expected) + ", got " + std::to_string(value));
}
}  // namespace detail

struct poisson_source {
  static constexpr std::string_view name = "poisson_source";
  static constexpr int compartments = 1;
  struct parameters {
    double rate_hz = 10.0;
    double start_ms = 0.0;
    double stop_ms = detail::inf;
  };
  struct derived {
    parameters p;
    double mean_interval_ms;
  };
  struct state {
    double next_ms = detail::inf;
    rng generator;
  };
  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"rate_hz", &parameters::rate_hz, "Hz", "mean rate"},
        {"start_ms", &parameters::start_ms, "ms", "no spike before"},
        {"stop_ms", &parameters::stop_ms, "ms", "no spike at or after"}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {{"next_ms", &state::next_ms, "ms", "next spike time"}};
    return f;
  }
  static derived derive(const parameters& p) {
    detail::require(p.rate_hz >= 0 && std::isfinite(p.rate_hz), name, "rate_hz", p.rate_hz,
                    "must be finite and >= 0");
    detail::require(p.start_ms >= 0 && std::isfinite(p.start_ms), name, "start_ms", p.start_ms,
                    "must be finite and >= 0");
    detail::require(p.stop_ms >= p.start_ms, name, "stop_ms", p.stop_ms, "must be >= start_ms");
    return {p, p.rate_hz > 0 ? 1000.0 / p.rate_hz : detail::inf};
  }
  static void draw_next(state& s, const derived& d, double from_ms) {
    if (d.p.rate_hz <= 0) {
      s.next_ms = detail::inf;
      return;
    }
    const double t = from_ms + s.generator.exponential(d.mean_interval_ms);
    s.next_ms = t < d.p.stop_ms ? t : detail::inf;
  }
  static void init(state& s, const derived& d, rng& r) {
    s.generator.reseed(r());
    draw_next(s, d, d.p.start_ms);
  }
  static void advance(state&, const derived&, double, double) {}
  static void receive(state&, const derived&, int, double, double) {}
  static double next_spike(const state& s, const derived&, double) { return s.next_ms; }
  static void fire(state& s, const derived& d, double t_ms) { draw_next(s, d, t_ms); }
};

struct regular_source {
  static constexpr std::string_view name = "regular_source";
  static constexpr int compartments = 1;
  struct parameters {
    double rate_hz = 10.0;
    double start_ms = 0.0;
    double stop_ms = detail::inf;
    double phase_ms = 0.0;
  };
  struct derived {
    parameters p;
    double period_ms;
  };
  struct state {
    double count = 0.0;  // spikes emitted so far
  };
  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"rate_hz", &parameters::rate_hz, "Hz", "rate"},
        {"start_ms", &parameters::start_ms, "ms", "first spike at start_ms + phase_ms"},
        {"stop_ms", &parameters::stop_ms, "ms", "no spike at or after"},
        {"phase_ms", &parameters::phase_ms, "ms", "offset of the first spike"}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {{"count", &state::count, "1", "spikes emitted"}};
    return f;
  }
  static derived derive(const parameters& p) {
    detail::require(p.rate_hz >= 0 && std::isfinite(p.rate_hz), name, "rate_hz", p.rate_hz,
                    "must be finite and >= 0");
    detail::require(p.start_ms >= 0 && std::isfinite(p.start_ms), name, "start_ms", p.start_ms,
                    "must be finite and >= 0");
    detail::require(p.phase_ms >= 0 && std::isfinite(p.phase_ms), name, "phase_ms", p.phase_ms,
                    "must be finite and >= 0");
    detail::require(p.stop_ms >= p.start_ms, name, "stop_ms", p.stop_ms, "must be >= start_ms");
    return {p, p.rate_hz > 0 ? 1000.0 / p.rate_hz : detail::inf};
  }
  static void init(state& s, const derived&, rng&) { s.count = 0; }
  static void advance(state&, const derived&, double, double) {}
  static void receive(state&, const derived&, int, double, double) {}
  static double next_spike(const state& s, const derived& d, double) {
    if (!(d.period_ms < detail::inf)) return detail::inf;
    // Computed from the count, not accumulated, so times do not drift.
    const double t = d.p.start_ms + d.p.phase_ms + s.count * d.period_ms;
    return t < d.p.stop_ms ? t : detail::inf;
  }
  static void fire(state& s, const derived&, double) { s.count += 1.0; }
};

struct spike_time_source {
  static constexpr std::string_view name = "spike_time_source";
  static constexpr int compartments = 1;
  struct parameters {
    // Shared, so that copying parameters (and presenting a new sample) does
    // not copy the spike times more than once.
    std::shared_ptr<const spike_raster> raster;
  };
  struct derived {
    std::shared_ptr<const spike_raster> raster;
  };
  struct state {
    double cursor = 0.0;  // index of the next spike within the neuron's channel
    std::uint32_t channel = 0;
  };
  static std::span<const field<parameters>> parameter_fields() { return {}; }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {{"cursor", &state::cursor, "1", "spikes emitted"}};
    return f;
  }
  static derived derive(const parameters& p) {
    if (p.raster) {
      const auto& r = *p.raster;
      for (std::size_t c = 0; c < r.channels(); ++c) {
        const auto times = r.channel(c);
        for (std::size_t k = 0; k < times.size(); ++k)
          if (!(times[k] >= 0.0) || !std::isfinite(times[k]) || (k > 0 && times[k] < times[k - 1]))
            throw parameter_error("spike_time_source: channel " + std::to_string(c) + " spike " +
                                  std::to_string(k) + " has time " + std::to_string(times[k]) +
                                  " ms; times must be finite, >= 0 and sorted ascending");
      }
    }
    return {p.raster};
  }
  // Neuron i replays channel i; init() is called in neuron order.
  static void init(state& s, const derived&, rng&, std::uint32_t neuron) {
    s.cursor = 0.0;
    s.channel = neuron;
  }
  static void advance(state&, const derived&, double, double) {}
  static void receive(state&, const derived&, int, double, double) {}
  static double next_spike(const state& s, const derived& d, double) {
    if (!d.raster || s.channel >= d.raster->channels()) return detail::inf;
    const auto times = d.raster->channel(s.channel);
    const auto k = static_cast<std::size_t>(s.cursor);
    return k < times.size() ? times[k] : detail::inf;
  }
  static void fire(state& s, const derived&, double) { s.cursor += 1.0; }
};

}  // namespace apical
