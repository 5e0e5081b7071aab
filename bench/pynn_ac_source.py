#!/usr/bin/env python3
"""One IF_curr_exp cell driven to spiking by an ACSource, written once in
PyNN and run on pyNN.apical and pyNN.brian2 side by side: spike times of
both against a 30-digit reference (docs/pynn.md).

    PYTHONPATH=build/python /usr/bin/python3 bench/pynn_ac_source.py [--dt 0.1]

The cell: tau_m 20 ms, cm 0.5 nF (R = 40 MOhm), v_rest -65, v_thresh -50,
v_reset -70 mV, tau_refrac 2 ms, no synaptic input. The source: offset
0.55 nA (E = -43 mV, above threshold) plus 0.3 nA at 20 Hz (4.4 mV at the
membrane) from `start` to 1000 ms; 500 ms. Two cells in one run: the
source starting at 10 ms (on the 0.1 ms grid) and at 10.05 ms (off it).
The reference is the closed form V = E + (V0 - E - V_p(t0)) e^{-(t -
t0)/tau_m} + V_p(t), V_p the sinusoid's particular solution, evaluated
with mpmath at 30 digits: the first sample (every 0.001 ms) at or above
threshold (candidates picked in double precision within 1e-9 mV, each
decided at 30 digits) and the crossing bisected to 1e-20 ms. One backend
per process (--backend prints its figures as JSON).
"""
import time

import numpy as np

from pynn_source_runs import cell_at_rest, largest_v_difference, recorded, set_up, side_by_side

CELL = dict(tau_m=20.0, cm=0.5, v_rest=-65.0, v_thresh=-50.0, v_reset=-70.0, tau_refrac=2.0)
SOURCE = dict(amplitude=0.3, offset=0.55, frequency=20.0, phase=0.0, stop=1000.0)
STARTS = (10.0, 10.05)
TSTOP = 500.0


def reference(start_ms):
    import mpmath
    mpmath.mp.dps = 30
    mpf = mpmath.mpf
    tau, r = mpf(CELL["tau_m"]), mpf(CELL["tau_m"]) / mpf(CELL["cm"])
    rest = mpf(CELL["v_rest"]) + r * mpf(SOURCE["offset"])
    w = 2 * mpmath.pi * mpf(SOURCE["frequency"]) / 1000
    b = r * mpf(SOURCE["amplitude"]) / mpmath.sqrt(1 + (w * tau) ** 2)
    start, th = mpf(start_ms), mpf(CELL["v_thresh"])
    shift = mpmath.radians(SOURCE["phase"]) - mpmath.atan(w * tau)

    def v(t0, v0, t):
        vp = lambda u: b * mpmath.sin(w * (u - start) + shift)  # noqa: E731
        return rest + (v0 - rest - vp(t0)) * mpmath.exp(-(t - t0) / tau) + vp(t)

    def v_double(t0, v0, t):
        vp = lambda u: float(b) * np.sin(float(w) * (u - start_ms) + float(shift))  # noqa: E731
        return (float(rest) + (v0 - float(rest) - vp(t0)) * np.exp(-(t - t0) / CELL["tau_m"])
                + vp(t))

    spikes, t0, v0 = [], start, mpf(CELL["v_rest"])
    t = float(t0)
    while t < TSTOP:
        grid = t + 0.001 * np.arange(1, 10001)
        near = np.nonzero(v_double(float(t0), float(v0), grid) >= CELL["v_thresh"] - 1e-9)[0]
        above = [k for k in near if v(t0, v0, mpf(grid[k])) >= th]
        if not above:
            t = grid[-1]
            continue
        lo, hi = mpf(grid[above[0] - 1] if above[0] else t), mpf(grid[above[0]])
        while hi - lo > mpf("1e-20"):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if v(t0, v0, mid) >= th else (mid, hi)
        spikes.append(hi)
        t0, v0 = hi + mpf(CELL["tau_refrac"]), mpf(CELL["v_reset"])
        t = float(t0)
    return np.array([float(x) for x in spikes if x < TSTOP])


def run_one(backend, dt):
    sim, t0 = set_up(backend, dt)
    cells = []
    for start in STARTS:
        p = cell_at_rest(sim, sim.IF_curr_exp, CELL)
        sim.ACSource(start=start, **SOURCE).inject_into(p)
        cells.append(p)
    sim.run(TSTOP)
    result = {"seconds": time.perf_counter() - t0, "cells": [recorded(p) for p in cells]}
    sim.end()
    return result


def main():
    dt, runs = side_by_side(__file__, run_one)
    for k, start in enumerate(STARTS):
        t0 = time.perf_counter()
        expected = reference(start)
        print(f"start {start} ms: reference {len(expected)} spikes, first {expected[0]:.9f} ms, "
              f"last {expected[-1]:.9f} ms ({time.perf_counter() - t0:.1f} s)")
        for backend, r in runs.items():
            s = np.asarray(r["cells"][k]["spikes"])
            # Each reference spike against the backend's nearest one.
            near = s[np.argmin(np.abs(s[None, :] - expected[:, None]), axis=1)] if len(s) else s
            d = near - expected
            print(f"  {backend} (dt {dt} ms): {len(s)} spikes, nearest spike - reference from "
                  f"{d.min():.3g} to {d.max():.3g} ms, {r['seconds']:.2f} s")
        a, b = runs["apical"]["cells"][k], runs["brian2"]["cells"][k]
        print(f"  largest |V_apical - V_brian2| before the first spike: "
              f"{largest_v_difference(a, b, expected[0]):.3g} mV")


if __name__ == "__main__":
    main()
