#pragma once
// A deliberately naive reference for a leaky membrane driven by exponential
// currents and a sinusoid (lif_exp_injected, lif_delta_injected): classical
// Runge-Kutta in long double with small steps, and spike times found by
// sampling V every step and bisecting (by integrating again) the first
// step that ends at or above threshold.
#include <algorithm>
#include <cmath>
#include <vector>

#include "apical/engine/random.hpp"
#include "apical/engine/recorders.hpp"
#include "apical/engine/simulator.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::test {

struct sine_membrane {
  // tau_m V' = rest - V + I_e + I_i + on A sin(omega (t - origin) + phi),
  // I_x' = -I_x / tau_x.
  long double tau_m = 20, tau_e = 5, tau_i = 10, rest = -70;
  long double amplitude = 0, omega = 0, phi = 0, origin = 0;
  bool on = false;
  long double v = -70, i_e = 0, i_i = 0;
  bool clamped = false;  // refractory: V held

  long double dv(long double t, long double v_, long double e, long double i) const {
    if (clamped) return 0;
    const long double s = on ? amplitude * std::sin(omega * (t - origin) + phi) : 0.0L;
    return (rest - v_ + e + i + s) / tau_m;
  }
  void step(long double t, long double h) {
    const long double ke1 = -i_e / tau_e, ki1 = -i_i / tau_i;
    const long double kv1 = dv(t, v, i_e, i_i);
    const long double e2 = i_e + h / 2 * ke1, i2 = i_i + h / 2 * ki1;
    const long double kv2 = dv(t + h / 2, v + h / 2 * kv1, e2, i2);
    const long double ke2 = -e2 / tau_e, ki2 = -i2 / tau_i;
    const long double e3 = i_e + h / 2 * ke2, i3 = i_i + h / 2 * ki2;
    const long double kv3 = dv(t + h / 2, v + h / 2 * kv2, e3, i3);
    const long double ke3 = -e3 / tau_e, ki3 = -i3 / tau_i;
    const long double e4 = i_e + h * ke3, i4 = i_i + h * ki3;
    const long double kv4 = dv(t + h, v + h * kv3, e4, i4);
    const long double ke4 = -e4 / tau_e, ki4 = -i4 / tau_i;
    v += h / 6 * (kv1 + 2 * kv2 + 2 * kv3 + kv4);
    i_e += h / 6 * (ke1 + 2 * ke2 + 2 * ke3 + ke4);
    i_i += h / 6 * (ki1 + 2 * ki2 + 2 * ki3 + ki4);
  }
  // From t0 to t1 in equal steps of at most h.
  void advance(long double t0, long double t1, long double h) {
    if (t1 <= t0) return;
    const long double n = std::ceil((t1 - t0) / h);
    const long double dt = (t1 - t0) / n;
    for (long double k = 0; k < n; ++k) step(t0 + k * dt, dt);
  }

  // The spikes in [t0, t1) (V_th, V_reset, t_ref): sampled every h, each
  // first step ending at or above threshold bisected to 1e-13 ms.
  std::vector<double> spikes(long double t0, long double t1, long double h, long double v_th,
                             long double v_reset, long double t_ref) {
    std::vector<double> out;
    long double t = t0;
    while (t < t1) {
      const long double next = std::min(t1, t + h);
      sine_membrane at_end = *this;
      at_end.advance(t, next, h);
      if (at_end.v < v_th) {
        *this = at_end;
        t = next;
        continue;
      }
      long double lo = t, hi = next;
      while (hi - lo > 1e-13L) {
        const long double mid = (lo + hi) / 2;
        sine_membrane m = *this;
        m.advance(t, mid, h);
        (m.v >= v_th ? hi : lo) = mid;
      }
      advance(t, hi, h);
      out.push_back(static_cast<double>(hi));
      v = v_reset;
      clamped = true;
      advance(hi, hi + t_ref, h);
      clamped = false;
      t = hi + t_ref;
    }
    return out;
  }
};

// One input of a scripted run: weight into compartment at t_ms.
struct scripted_input {
  double t_ms;
  int compartment;
  double weight;
};

// The largest difference between V of Model (advanced in closed form
// through the inputs, sampled every `every_ms` up to until_ms) and the
// reference, which starts in the same state and receives the same inputs:
// compartment 0 through deliver(ref, weight), 1-3 setting the parts of the
// constant current on top of e_l_mv, 4 switching the sinusoid.
template <class Model, class Deliver>
double largest_trajectory_error(const typename Model::parameters& p, sine_membrane ref,
                                const std::vector<scripted_input>& inputs, double until_ms,
                                double every_ms, Deliver deliver) {
  const auto d = Model::derive(p);
  typename Model::state s;
  rng r(1);
  Model::init(s, d, r);
  double parts[3] = {p.i_inj_init_mv, 0.0, 0.0};
  ref.v = s.v_mv;
  ref.rest = p.e_l_mv + p.i_inj_init_mv;
  ref.on = p.ac_on_init != 0;
  const long double h = 1e-3L;
  double t = 0.0, most = 0.0;
  std::size_t next = 0;
  for (double sample = 0.0; sample <= until_ms; sample += every_ms) {
    while (next < inputs.size() && inputs[next].t_ms <= sample) {
      const auto& in = inputs[next++];
      Model::advance(s, d, t, in.t_ms);
      ref.advance(t, in.t_ms, h);
      t = in.t_ms;
      Model::receive(s, d, in.compartment, in.weight, t);
      if (in.compartment == 0) {
        deliver(ref, in.weight);
      } else if (in.compartment <= models::injection_parts) {
        parts[in.compartment - 1] = in.weight;
        ref.rest = p.e_l_mv + models::injected(parts[0], parts[1], parts[2]);
      } else {
        ref.on = in.weight != 0;
      }
    }
    Model::advance(s, d, t, sample);
    ref.advance(t, sample, h);
    t = sample;
    most = std::max(most, std::abs(s.v_mv - static_cast<double>(ref.v)));
  }
  return most;
}

// The spikes of one neuron of Model (no input but its own current) over
// [0, until_ms), run by the engine.
template <class Model>
std::vector<double> engine_spikes(const typename Model::parameters& p, double until_ms) {
  network net;
  net.add_population<Model>("N", 1, p);
  simulator sim(net);
  spike_recorder rec(sim, {0});
  sim.run(time_ms{until_ms});
  std::vector<double> out;
  for (const auto& x : rec.spikes()) out.push_back(x.time_ms);
  return out;
}

// A reference for the neuron of engine_spikes(): from V = v_init_min_mv,
// the constant current and the sinusoid on from time 0.
template <class Parameters>
sine_membrane reference_of(const Parameters& p) {
  sine_membrane ref;
  ref.tau_m = p.tau_m_ms;
  ref.rest = p.e_l_mv + p.i_inj_init_mv;
  ref.amplitude = p.ac_amplitude_mv;
  ref.omega = 2 * 3.14159265358979323846264338327950288L * p.ac_frequency_hz / 1000;
  ref.phi = p.ac_phase_deg * 3.14159265358979323846264338327950288L / 180;
  ref.origin = p.ac_start_ms;
  ref.on = p.ac_on_init != 0;
  ref.v = p.v_init_min_mv;
  return ref;
}

}  // namespace apical::test
