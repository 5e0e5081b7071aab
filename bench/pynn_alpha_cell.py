#!/usr/bin/env python3
"""One IF_curr_alpha cell under the same input on pyNN.apical and
pyNN.brian2 (dt 0.1 and 0.01 ms): how far each of Brian2's spikes lies
from apical's exact ones (bench/README.md).

    PYTHONPATH=build/python /usr/bin/python3 bench/pynn_alpha_cell.py

The input: Poisson trains (2000 Hz excitatory, 0.6 nA; 500 Hz inhibitory,
-1.0 nA; numpy seed 5) on the 0.1 ms grid, so that both backends receive
exactly the same inputs and only the spikes' times can differ by the grid.
One backend per process (--backend prints its spike times as JSON).
"""
import argparse
import json
import subprocess
import sys

import numpy as np

from pynn_side_by_side import backend_module


def spike_times(backend, dt, tstop=1000.0):
    sim = backend_module(backend)
    sim.setup(timestep=dt, min_delay=0.1)
    rng = np.random.default_rng(5)
    trains = []
    for rate_hz in (2000.0, 500.0):
        t = np.cumsum(rng.exponential(1000.0 / rate_hz, int(2 * rate_hz * tstop / 1000)))
        trains.append(np.unique(np.round(t[t < tstop], 1)).tolist())
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=trains))
    cell = sim.Population(1, sim.IF_curr_alpha(tau_m=20.0, cm=1.0, tau_syn_E=0.5, tau_syn_I=0.5,
                                               v_rest=-65.0, v_thresh=-50.0, v_reset=-65.0,
                                               tau_refrac=2.0))
    cell.initialize(v=-65.0)
    cell.record("spikes")
    for part, w, receptor in ((src[0:1], 0.6, "excitatory"), (src[1:2], -1.0, "inhibitory")):
        sim.Projection(part, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=w, delay=1.0),
                       receptor_type=receptor)
    sim.run(tstop)
    times = cell.get_data().segments[0].spiketrains[0].magnitude.tolist()
    sim.end()
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=["apical", "brian2"])
    ap.add_argument("--dt", type=float, default=0.1)
    a = ap.parse_args()
    if a.backend:
        print(json.dumps(spike_times(a.backend, a.dt)))
        return
    runs = {}
    for backend, dt in (("apical", 0.1), ("brian2", 0.1), ("brian2", 0.01)):
        r = subprocess.run([sys.executable, __file__, "--backend", backend, "--dt", str(dt)],
                           capture_output=True, text=True, check=True)
        runs[backend, dt] = np.array(json.loads(r.stdout.strip().splitlines()[-1]))
    exact = runs["apical", 0.1]
    print(f"apical: {len(exact)} spikes, first {exact[:3].round(6).tolist()} ms")
    for dt in (0.1, 0.01):
        grid = runs["brian2", dt]
        # Each of Brian2's spikes against apical's nearest.
        nearest = exact[np.abs(grid[:, None] - exact[None, :]).argmin(axis=1)]
        off = grid - nearest
        close = np.abs(off) <= dt
        print(f"brian2 dt {dt} ms: {len(grid)} spikes, {close.sum()} within dt of one of "
              f"apical's (Brian2 - apical from {off[close].min():.4f} to {off[close].max():.4f} "
              f"ms); the others at {grid[~close].round(3).tolist()} ms")

if __name__ == "__main__":
    main()
