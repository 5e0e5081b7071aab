#!/usr/bin/env python3
"""One IF_curr_alpha (or, with --cell cond, IF_cond_alpha) cell under the
same input on pyNN.apical and pyNN.brian2 (dt 0.1 and 0.01 ms): how far
each of Brian2's spikes lies from apical's exact ones (bench/README.md).

    PYTHONPATH=build/python /usr/bin/python3 bench/pynn_alpha_cell.py [--cell cond]

The input: Poisson trains (2000 Hz excitatory, 0.6 nA or 0.012 uS; 500 Hz
inhibitory, -1.0 nA or 0.05 uS; numpy seed 5) on the 0.1 ms grid, so that
both backends receive exactly the same inputs and only the spikes' times can
differ by the grid. A third solution, scipy's DOP853 at tolerances of 1e-12
on the same equations (from threshold event to event), checks apical's.
One backend per process (--backend prints its spike times as JSON).
"""
import argparse
import json
import subprocess
import sys

import numpy as np

from pynn_side_by_side import backend_module


TSTOP, TAU_SYN, V_TH, V_RESET, T_REF = 1000.0, 0.5, -50.0, -65.0, 2.0


def input_trains():
    rng = np.random.default_rng(5)
    trains = []
    for rate_hz in (2000.0, 500.0):
        t = np.cumsum(rng.exponential(1000.0 / rate_hz, int(2 * rate_hz * TSTOP / 1000)))
        trains.append(np.unique(np.round(t[t < TSTOP], 1)).tolist())
    return trains


def weights(cell_kind):
    return (0.012, 0.05) if cell_kind == "cond" else (0.6, -1.0)


def scipy_spikes(cell_kind):
    """The spike times from scipy's DOP853 (rtol = atol = 1e-12): state V and
    (y, g) of each alpha synapse; inputs arrive 1 ms after their spikes."""
    from scipy.integrate import solve_ivp
    w = weights(cell_kind)
    arrivals = sorted((t + 1.0, k) for k, train in enumerate(input_trains()) for t in train)

    def rhs(_, x, clamped):
        v, y_e, g_e, y_i, g_i = x
        drive = (g_e * (0.0 - v) + g_i * (-80.0 - v) if cell_kind == "cond" else g_e + g_i)
        dv = 0.0 if clamped else ((-65.0 - v) / 20.0 + drive)  # cm 1 nF, tau_m 20 ms
        return [dv, -y_e / TAU_SYN, (y_e - g_e) / TAU_SYN, -y_i / TAU_SYN, (y_i - g_i) / TAU_SYN]

    def threshold(_, x, clamped):
        return x[0] - V_TH
    threshold.terminal, threshold.direction = True, 1
    x, t, ref_until, spikes = np.array([V_RESET, 0, 0, 0, 0.0]), 0.0, -1.0, []
    for t_next, k in arrivals + [(TSTOP, None)]:
        while t < t_next:
            clamped = t < ref_until
            end = min(ref_until, t_next) if clamped else t_next
            sol = solve_ivp(rhs, (t, end), x, args=(clamped,), method="DOP853", rtol=1e-12,
                            atol=1e-12, events=None if clamped else threshold)
            if sol.status == 1:
                t, x = sol.t_events[0][0], sol.y_events[0][0].copy()
                spikes.append(t)
                x[0], ref_until = V_RESET, t + T_REF
                continue
            t, x = end, sol.y[:, -1]
        if k is not None:
            x[1 + 2 * k] += np.e * w[k]
    return spikes


def spike_times(backend, dt, cell_kind):
    sim = backend_module(backend)
    sim.setup(timestep=dt, min_delay=0.1)
    trains = input_trains()
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=trains))
    params = dict(tau_m=20.0, cm=1.0, tau_syn_E=TAU_SYN, tau_syn_I=TAU_SYN, v_rest=-65.0,
                  v_thresh=V_TH, v_reset=V_RESET, tau_refrac=T_REF)
    celltype = (sim.IF_cond_alpha(e_rev_E=0.0, e_rev_I=-80.0, **params) if cell_kind == "cond"
                else sim.IF_curr_alpha(**params))
    cell = sim.Population(1, celltype)
    cell.initialize(v=V_RESET)
    cell.record("spikes")
    w_e, w_i = weights(cell_kind)
    for part, w, receptor in ((src[0:1], w_e, "excitatory"), (src[1:2], w_i, "inhibitory")):
        sim.Projection(part, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=w, delay=1.0),
                       receptor_type=receptor)
    sim.run(TSTOP)
    times = cell.get_data().segments[0].spiketrains[0].magnitude.tolist()
    sim.end()
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=["apical", "brian2"])
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--cell", choices=["curr", "cond"], default="curr")
    a = ap.parse_args()
    if a.backend:
        print(json.dumps(spike_times(a.backend, a.dt, a.cell)))
        return
    runs = {}
    for backend, dt in (("apical", 0.1), ("brian2", 0.1), ("brian2", 0.01)):
        r = subprocess.run([sys.executable, __file__, "--backend", backend, "--dt", str(dt),
                            "--cell", a.cell], capture_output=True, text=True, check=True)
        runs[backend, dt] = np.array(json.loads(r.stdout.strip().splitlines()[-1]))
    exact = runs["apical", 0.1]
    print(f"apical: {len(exact)} spikes, first {exact[:3].round(6).tolist()} ms")
    reference = np.array(scipy_spikes(a.cell))
    same = len(reference) == len(exact)
    print(f"scipy DOP853: {len(reference)} spikes" + (
        f", apical's within {np.abs(reference - exact).max():.2e} ms of them" if same else ""))
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
