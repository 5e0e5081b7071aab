// The example models of examples/models against an independent reference:
// the same equations integrated by classical Runge-Kutta (RK4) on a fine
// grid, written here from the differential equations (no closed forms).
//
// Tolerance. RK4 has a global error of order (h / tau)^4 relative to the
// variables' scale: with h = 1e-3 ms and time constants of 2 ms and more,
// below 1e-12 mV. A reference spike time is found by bisecting the RK4 step
// that crosses threshold on its own length, to 1e-14 ms, so its error is
// that voltage error divided by the slope at the crossing: below 1e-11 ms.
// The engine locates each crossing to 1e-10 ms, and an error in one spike
// time shifts the ones after it, so differences of a few 1e-10 ms are
// expected after a dozen spikes (and observed). The tolerance, 1e-7 ms,
// leaves two to three orders of magnitude of margin, and is still a
// thousand times finer than the 0.1 ms grid of a step-based simulator.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <vector>

#include <doctest/doctest.h>

#include "apical/engine/network.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/engine/sources.hpp"
#include "lif_adaptive.hpp"
#include "lif_alpha.hpp"

using namespace apical;
using examples::lif_adaptive;
using examples::lif_alpha;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double step_ms = 1e-3;
constexpr double tolerance_ms = 1e-7;

template <std::size_t N>
using vec = std::array<double, N>;

struct input {
  double t_ms;
  float weight;
};

// A neuron for the reference: x[0] is V; the rest are its other variables.
template <std::size_t N>
struct reference_neuron {
  std::function<vec<N>(const vec<N>&)> free;     // dx/dt outside refractoriness
  std::function<vec<N>(const vec<N>&)> clamped;  // dx/dt while V is clamped
  std::function<void(vec<N>&, double weight, bool refractory)> receive;
  std::function<void(vec<N>&)> reset;
  double v_th_mv;
  double t_ref_ms;
};

template <std::size_t N, class F>
vec<N> rk4(const F& f, const vec<N>& x, double h) {
  const auto axpy = [](const vec<N>& a, double s, const vec<N>& b) {
    vec<N> r;
    for (std::size_t i = 0; i < N; ++i) r[i] = a[i] + s * b[i];
    return r;
  };
  const vec<N> k1 = f(x);
  const vec<N> k2 = f(axpy(x, h / 2, k1));
  const vec<N> k3 = f(axpy(x, h / 2, k2));
  const vec<N> k4 = f(axpy(x, h, k3));
  vec<N> r;
  for (std::size_t i = 0; i < N; ++i) r[i] = x[i] + h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  return r;
}

// Spike times of one neuron from state x at time 0, with the given inputs
// (sorted by time), until t_end_ms. Steps of step_ms, shortened to land on
// each input and on the end of each refractory period.
template <std::size_t N>
std::vector<double> reference_spikes(const reference_neuron<N>& m, vec<N> x,
                                     const std::vector<input>& inputs, double t_end_ms) {
  std::vector<double> spikes;
  double t = 0.0, ref_until = -inf;
  std::size_t k = 0;
  const auto spike = [&](double at) {
    spikes.push_back(at);
    m.reset(x);
    ref_until = at + m.t_ref_ms;
  };
  while (t < t_end_ms) {
    for (; k < inputs.size() && inputs[k].t_ms <= t; ++k) {
      m.receive(x, static_cast<double>(inputs[k].weight), t < ref_until);
      if (t >= ref_until && x[0] >= m.v_th_mv) spike(t);
    }
    const bool refractory = t < ref_until;
    double stop = std::min(t_end_ms, k < inputs.size() ? inputs[k].t_ms : inf);
    if (refractory) stop = std::min(stop, ref_until);
    const double h = std::min(step_ms, stop - t);
    const double t_next = stop - t <= step_ms ? stop : t + step_ms;
    if (refractory) {
      x = rk4(m.clamped, x, h);
      t = t_next;
      continue;
    }
    const vec<N> next = rk4(m.free, x, h);
    if (next[0] < m.v_th_mv) {
      x = next;
      t = t_next;
      continue;
    }
    double lo = 0.0, hi = h;  // V(t + lo) < V_th <= V(t + hi), by RK4 steps of that length
    for (int i = 0; i < 100 && hi - lo > 1e-14; ++i) {
      const double mid = 0.5 * (lo + hi);
      (rk4(m.free, x, mid)[0] >= m.v_th_mv ? hi : lo) = mid;
    }
    x = rk4(m.free, x, hi);
    t += hi;
    spike(t);
  }
  return spikes;
}

// The spike times of neuron 0 of a population of M, driven by the inputs
// through a spike-time source (one channel per input, delay 0).
template <class M>
std::vector<double> engine_spikes(typename M::parameters p, const std::vector<input>& inputs,
                                  double t_end_ms) {
  auto raster = std::make_shared<spike_raster>();
  std::vector<synapse> synapses;
  for (std::uint32_t c = 0; c < inputs.size(); ++c) {
    const double t[] = {inputs[c].t_ms};
    raster->add_channel(t);
    synapses.push_back({c, 0, inputs[c].weight, 0.0});
  }
  network net;
  auto& neuron = net.add_population<M>("neuron", 1, p);
  if (!inputs.empty()) {
    auto& source = net.add_population<spike_time_source>("inputs", inputs.size(), {raster});
    net.connect(source, neuron, 0, synapses);
  }
  simulator sim(net);
  spike_recorder recorder(sim, {neuron.id()});
  sim.run(time_ms{t_end_ms});
  std::vector<double> times;
  for (const auto& s : recorder.spikes()) times.push_back(s.time_ms);
  return times;
}

void check_same_spikes(const std::vector<double>& engine, const std::vector<double>& reference) {
  REQUIRE(engine.size() == reference.size());
  double worst = 0.0;
  for (std::size_t k = 0; k < engine.size(); ++k) {
    CAPTURE(k);
    CAPTURE(reference[k]);
    CHECK(std::abs(engine[k] - reference[k]) < tolerance_ms);
    worst = std::max(worst, std::abs(engine[k] - reference[k]));
  }
  MESSAGE(engine.size() << " spikes, largest difference from the reference " << worst << " ms");
}

reference_neuron<2> adaptive_reference(const lif_adaptive::parameters& p) {
  // x = {V, w}
  return {[p](const vec<2>& x) {
            return vec<2>{(p.e_l_mv - x[0] + p.i_e_mv - x[1]) / p.tau_m_ms, -x[1] / p.tau_w_ms};
          },
          [p](const vec<2>& x) {
            return vec<2>{0.0, -x[1] / p.tau_w_ms};
          },
          [](vec<2>& x, double w, bool refractory) {
            if (!refractory) x[0] += w;
          },
          [p](vec<2>& x) {
            x[0] = p.v_reset_mv;
            x[1] += p.b_mv;
          },
          p.v_th_mv,
          p.t_ref_ms};
}

reference_neuron<3> alpha_reference(const lif_alpha::parameters& p) {
  // x = {V, I, y}
  const auto currents = [p](const vec<3>& x) {
    return vec<3>{0.0, (-x[1] + x[2]) / p.tau_s_ms, -x[2] / p.tau_s_ms};
  };
  return {[p, currents](const vec<3>& x) {
            vec<3> d = currents(x);
            d[0] = (p.e_l_mv - x[0] + p.i_e_mv + x[1]) / p.tau_m_ms;
            return d;
          },
          currents,
          [](vec<3>& x, double w, bool) { x[2] += std::numbers::e * w; },
          [p](vec<3>& x) { x[0] = p.v_reset_mv; },
          p.v_th_mv,
          p.t_ref_ms};
}

const std::vector<input> kicks = {{12.25, 3.0f},  {37.3, 3.0f},  {60.2, -4.0f},  {61.0, 2.5f},
                                  {80.1, 6.0f},   {80.15, 6.0f}, {120.9, -4.0f}, {150.7, 3.0f},
                                  {151.05, 8.0f}, {231.4, 5.0f}};

}  // namespace

TEST_CASE("lif_adaptive: spike times match an RK4 reference (tau_w > tau_m)") {
  lif_adaptive::parameters p;
  p.i_e_mv = 30.0;  // V_inf = -40 mV, above threshold: tonic firing that adapts
  p.b_mv = 2.0;
  p.tau_w_ms = 100.0;
  const double t_end = 300.0;
  const auto engine = engine_spikes<lif_adaptive>(p, kicks, t_end);
  const auto reference =
      reference_spikes(adaptive_reference(p), {p.v_init_min_mv, 0.0}, kicks, t_end);
  CHECK(engine.size() > 10);
  check_same_spikes(engine, reference);
}

TEST_CASE("lif_adaptive: spike times match an RK4 reference (tau_w < tau_m)") {
  lif_adaptive::parameters p;
  p.i_e_mv = 30.0;
  p.b_mv = 6.0;
  p.tau_w_ms = 5.0;  // w decays faster than V: V - V_th can rise and fall back
  p.t_ref_ms = 0.5;
  const double t_end = 250.0;
  const auto engine = engine_spikes<lif_adaptive>(p, kicks, t_end);
  const auto reference =
      reference_spikes(adaptive_reference(p), {p.v_init_min_mv, 0.0}, kicks, t_end);
  CHECK(engine.size() > 10);
  check_same_spikes(engine, reference);
}

TEST_CASE("lif_adaptive: under a constant drive the interspike intervals lengthen") {
  lif_adaptive::parameters p;
  p.i_e_mv = 30.0;
  p.b_mv = 2.0;
  const auto spikes = engine_spikes<lif_adaptive>(p, {}, 500.0);
  REQUIRE(spikes.size() > 5);
  for (std::size_t k = 2; k < spikes.size(); ++k)
    CHECK(spikes[k] - spikes[k - 1] >= spikes[k - 1] - spikes[k - 2] - 1e-9);
  const double first = spikes[1] - spikes[0], last = spikes.back() - spikes[spikes.size() - 2];
  MESSAGE("interspike intervals from " << first << " ms to " << last << " ms");
  CHECK(last > 1.3 * first);
  // Without adaptation the intervals are all equal (a plain LIF).
  p.b_mv = 0.0;
  const auto plain = engine_spikes<lif_adaptive>(p, {}, 500.0);
  REQUIRE(plain.size() > 5);
  for (std::size_t k = 2; k < plain.size(); ++k)
    CHECK(plain[k] - plain[k - 1] == doctest::Approx(plain[1] - plain[0]).epsilon(1e-9));
}

TEST_CASE("lif_alpha: spike times match an RK4 reference") {
  lif_alpha::parameters p;
  p.i_e_mv = 13.0;  // V_inf = -57 mV, below threshold: inputs make the spikes
  p.t_ref_ms = 1.0;
  const double t_end = 260.0;
  std::vector<input> inputs = kicks;
  for (auto& in : inputs) in.weight *= 3.0f;
  const auto engine = engine_spikes<lif_alpha>(p, inputs, t_end);
  const auto reference =
      reference_spikes(alpha_reference(p), {p.v_init_min_mv, 0.0, 0.0}, inputs, t_end);
  CHECK(engine.size() >= 4);
  check_same_spikes(engine, reference);
}

TEST_CASE("lif_alpha: spike times match an RK4 reference under tonic drive (tau_s > tau_m)") {
  lif_alpha::parameters p;
  p.i_e_mv = 16.0;  // V_inf = -54 mV: tonic firing, shifted by the inputs
  p.tau_m_ms = 4.0;
  p.tau_s_ms = 7.0;
  const double t_end = 260.0;
  const auto engine = engine_spikes<lif_alpha>(p, kicks, t_end);
  const auto reference =
      reference_spikes(alpha_reference(p), {p.v_init_min_mv, 0.0, 0.0}, kicks, t_end);
  CHECK(engine.size() > 10);
  check_same_spikes(engine, reference);
}

TEST_CASE("lif_alpha: a crossing shorter than any search step is not missed") {
  // One input from rest: V peaks once. Put the threshold a hair below the
  // peak (V is above it for a few microseconds), then a hair above it.
  lif_alpha::parameters p;
  const auto d = lif_alpha::derive(p);
  lif_alpha::state s{.v_mv = p.e_l_mv};
  lif_alpha::receive(s, d, 0, 10.0, 0.0);
  const auto v_at = [&](double t) {
    auto c = s;
    lif_alpha::advance(c, d, 0.0, t);
    return c.v_mv;
  };
  double lo = 0.0, hi = 30.0;  // golden-section search for the peak
  for (int i = 0; i < 200; ++i) {
    const double a = hi - 0.618 * (hi - lo), b = lo + 0.618 * (hi - lo);
    (v_at(a) < v_at(b) ? lo : hi) = v_at(a) < v_at(b) ? a : b;
  }
  const double t_peak = 0.5 * (lo + hi), v_peak = v_at(t_peak);
  REQUIRE(v_peak > p.e_l_mv + 1.0);

  for (const double below : {1e-6, 1e-9}) {
    p.v_th_mv = v_peak - below;
    p.v_reset_mv = p.v_th_mv - 10.0;
    const auto dd = lif_alpha::derive(p);
    const double t = lif_alpha::next_spike(s, dd, 0.0);
    CAPTURE(below);
    REQUIRE(t < inf);
    CHECK(t <= t_peak);
    CHECK(t > t_peak - 0.1);
    auto c = s;
    lif_alpha::advance(c, dd, 0.0, t);
    CHECK(c.v_mv >= p.v_th_mv - 1e-12);
  }
  p.v_th_mv = v_peak + 1e-9;
  CHECK(lif_alpha::next_spike(s, lif_alpha::derive(p), 0.0) == inf);
}

TEST_CASE("example models: invalid parameters are rejected with the field named") {
  lif_adaptive::parameters a;
  a.tau_w_ms = a.tau_m_ms;
  CHECK_THROWS_WITH_AS(lif_adaptive::derive(a),
                       doctest::Contains("lif_adaptive: parameter 'tau_w_ms' must differ"),
                       parameter_error);
  lif_alpha::parameters b;
  b.v_reset_mv = b.v_th_mv;
  CHECK_THROWS_WITH_AS(lif_alpha::derive(b),
                       doctest::Contains("lif_alpha: parameter 'v_reset_mv' must be below"),
                       parameter_error);
}
