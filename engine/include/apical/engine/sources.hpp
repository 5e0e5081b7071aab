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
// gamma_source
//   Gamma renewal process: intervals are Gamma-distributed with the given
//   shape and mean 1000/rate_hz ms (CV 1/sqrt(shape); shape 1 is Poisson,
//   larger shapes are more regular), drawn like poisson_source's. The first
//   spike comes one interval after start_ms (as if a spike were at start_ms).
//   | rate_hz  | Hz | 10  | mean rate                             |
//   | shape    | -  | 2   | shape (order) of the interval law     |
//   | start_ms | ms | 0   | no spike before; the process starts   |
//   | stop_ms  | ms | inf | no spike at or after                  |
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

namespace detail {
// What sources that draw each interval from a stream of their own share:
// the next spike time and the stream, seeded from the population's
// initial-state stream. Source::interval(stream, d) draws one interval (ms);
// a rate of 0 gives no spike, and none comes at or after stop_ms.
template <class Source>
struct renewal_source {
  static constexpr int compartments = 1;
  struct state {
    double next_ms = inf;
    rng generator;
  };
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {{"next_ms", &state::next_ms, "ms", "next spike time"}};
    return f;
  }
  template <class Derived>
  static void draw_next(state& s, const Derived& d, double from_ms) {
    if (d.p.rate_hz <= 0) {
      s.next_ms = inf;
      return;
    }
    const double t = from_ms + Source::interval(s.generator, d);
    s.next_ms = t < d.p.stop_ms ? t : inf;
  }
  template <class Derived>
  static void init(state& s, const Derived& d, rng& r) {
    s.generator.reseed(r());
    draw_next(s, d, d.p.start_ms);
  }
  template <class Derived>
  static void advance(state&, const Derived&, double, double) {}
  template <class Derived>
  static void receive(state&, const Derived&, int, double, double) {}
  template <class Derived>
  static double next_spike(const state& s, const Derived&, double) {
    return s.next_ms;
  }
  template <class Derived>
  static void fire(state& s, const Derived& d, double t_ms) {
    draw_next(s, d, t_ms);
  }
};
// The checks of the parameters every renewal source has.
inline void require_window(std::string_view model, double rate_hz, double start_ms,
                           double stop_ms) {
  require(rate_hz >= 0 && std::isfinite(rate_hz), model, "rate_hz", rate_hz,
          "must be finite and >= 0");
  require(start_ms >= 0 && std::isfinite(start_ms), model, "start_ms", start_ms,
          "must be finite and >= 0");
  require(stop_ms >= start_ms, model, "stop_ms", stop_ms, "must be >= start_ms");
}
}  // namespace detail

struct poisson_source : detail::renewal_source<poisson_source> {
  static constexpr std::string_view name = "poisson_source";
  struct parameters {
    double rate_hz = 10.0;
    double start_ms = 0.0;
    double stop_ms = detail::inf;
  };
  struct derived {
    parameters p;
    double mean_interval_ms;
  };
  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"rate_hz", &parameters::rate_hz, "Hz", "mean rate"},
        {"start_ms", &parameters::start_ms, "ms", "no spike before"},
        {"stop_ms", &parameters::stop_ms, "ms", "no spike at or after"}};
    return f;
  }
  static derived derive(const parameters& p) {
    detail::require_window(name, p.rate_hz, p.start_ms, p.stop_ms);
    return {p, p.rate_hz > 0 ? 1000.0 / p.rate_hz : detail::inf};
  }
  static double interval(rng& stream, const derived& d) {
    return stream.exponential(d.mean_interval_ms);
  }
};

struct gamma_source : detail::renewal_source<gamma_source> {
  static constexpr std::string_view name = "gamma_source";
  struct parameters {
    double rate_hz = 10.0;
    double shape = 2.0;
    double start_ms = 0.0;
    double stop_ms = detail::inf;
  };
  struct derived {
    parameters p;
    double scale_ms;  // of the interval law: mean interval / shape
  };
  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"rate_hz", &parameters::rate_hz, "Hz", "mean rate"},
        {"shape", &parameters::shape, "", "shape of the Gamma interval law (CV 1/sqrt(shape))"},
        {"start_ms", &parameters::start_ms, "ms", "no spike before"},
        {"stop_ms", &parameters::stop_ms, "ms", "no spike at or after"}};
    return f;
  }
  static derived derive(const parameters& p) {
    detail::require_window(name, p.rate_hz, p.start_ms, p.stop_ms);
    detail::require(p.shape > 0 && std::isfinite(p.shape), name, "shape", p.shape,
                    "must be finite and > 0");
    return {p, p.rate_hz > 0 ? 1000.0 / (p.rate_hz * p.shape) : detail::inf};
  }
  static double interval(rng& stream, const derived& d) {
    return stream.gamma(d.p.shape, d.scale_ms);
  }
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
    detail::require_window(name, p.rate_hz, p.start_ms, p.stop_ms);
    detail::require(p.phase_ms >= 0 && std::isfinite(p.phase_ms), name, "phase_ms", p.phase_ms,
                    "must be finite and >= 0");
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
