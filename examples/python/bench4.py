#!/usr/bin/env python3
"""Benchmark 4 of Brette et al. (2007) from Python: 3200 excitatory and 800
inhibitory LIF neurons with delta synapses, kicked by a Poisson burst in the
first 50 ms, then self-sustained. Prints the rates and draws a raster plot
(bench4_raster.png) when matplotlib is installed.

    PYTHONPATH=build/python python3 examples/python/bench4.py [duration_ms]
"""
import sys

import numpy as np

import apical

duration_ms = float(sys.argv[1]) if len(sys.argv) > 1 else 1000.0

net = apical.Network(seed=1)
cell = dict(tau_m_ms=20.0, e_l_mv=-49.0, v_th_mv=-50.0, v_reset_mv=-60.0, t_ref_ms=5.0,
            v_init_min_mv=-60.0, v_init_max_mv=-50.0)
E = net.population("E", 3200, model="lif_delta", **cell)
I = net.population("I", 800, model="lif_delta", **cell)
for pre, post, w in ((E, E, 0.25), (E, I, 0.25), (I, E, -2.25), (I, I, -2.25)):
    net.connect(pre, post, rule="fixed_probability", p=0.02, weight_mv=w, delay_ms=0.1)
for pop in (E, I):
    net.poisson_input(pop, rate_hz=100.0, weight=10.0, stop_ms=50.0, name="kick_" + pop.name)
spikes = {pop.name: net.record_spikes(pop) for pop in (E, I)}
v = net.record_state(E, "v_mv", neurons=[0, 1, 2], interval_ms=0.1)

summary = net.run(duration_ms, threads=2)
print(f"{summary['neurons']} neurons, {summary['synapses']} synapses, "
      f"{summary['duration_ms']:.0f} ms in {summary['sim_s']:.2f} s "
      f"(build {summary['build_s']:.2f} s)")
for name, pop in (("E", E), ("I", I)):
    rate = len(spikes[name]) / pop.size / (duration_ms / 1000.0)
    print(f"  {name}: {len(spikes[name])} spikes, {rate:.1f} Hz")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed (apt-get install python3-matplotlib): no raster plot")
    sys.exit(0)

fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(8, 6),
                               gridspec_kw={"height_ratios": [3, 1]})
ax1.plot(spikes["E"].times_ms, spikes["E"].ids, ",", color="tab:blue", label="E")
ax1.plot(spikes["I"].times_ms, spikes["I"].ids + E.size, ",", color="tab:red", label="I")
ax1.set_ylabel("neuron")
ax1.set_title("Brette et al. (2007) benchmark 4 (apical)")
ax2.plot(v.times_ms, v.values)
ax2.set_xlabel("time (ms)")
ax2.set_ylabel("V (mV), 3 E cells")
fig.tight_layout()
fig.savefig("bench4_raster.png", dpi=120)
print("wrote bench4_raster.png")
