#!/usr/bin/env python3
"""One cell driven by a DCSource, written once in PyNN and run on pyNN.apical
and pyNN.brian2 side by side: spike times of both against the closed-form
first-passage times, and the largest difference of V (docs/pynn.md).

    PYTHONPATH=build/python /usr/bin/python3 bench/pynn_dc_source.py [--dt 0.1]

IF_curr_exp and IF_cond_exp (no synapses: both relax to v_rest + R I) with
tau_m 20 ms, cm 0.5 nF (R = 40 MOhm), v_rest -65, v_thresh -50, v_reset
-70 mV, tau_refrac 2 ms, and 1 nA from 10.05 ms (off the 0.1 ms grid) to
100 ms (E = -25 mV): the first spike comes tau_m ln(40 / 25) after the
onset, the next ones every tau_refrac + tau_m ln(45 / 25). One backend per
process (--backend prints its figures as JSON).
"""
import math
import time

import numpy as np

from pynn_source_runs import cell_at_rest, largest_v_difference, recorded, set_up, side_by_side

CELL = dict(tau_m=20.0, cm=0.5, v_rest=-65.0, v_thresh=-50.0, v_reset=-70.0, tau_refrac=2.0)
AMPLITUDE, START, STOP, TSTOP = 1.0, 10.05, 100.0, 150.0


def closed_form():
    e = CELL["v_rest"] + CELL["tau_m"] / CELL["cm"] * AMPLITUDE
    first = START + CELL["tau_m"] * math.log((e - CELL["v_rest"]) / (e - CELL["v_thresh"]))
    period = CELL["tau_refrac"] + CELL["tau_m"] * math.log((e - CELL["v_reset"]) /
                                                          (e - CELL["v_thresh"]))
    n = int((STOP - first) // period) + 1
    return first + period * np.arange(n)


def run_one(backend, dt):
    sim, t0 = set_up(backend, dt)
    out = {}
    for name in ("IF_curr_exp", "IF_cond_exp"):
        p = cell_at_rest(sim, getattr(sim, name), CELL)
        sim.DCSource(amplitude=AMPLITUDE, start=START, stop=STOP).inject_into(p)
        out[name] = p
    sim.run(TSTOP)
    result = {"seconds": time.perf_counter() - t0}
    for name, p in out.items():
        result[name] = recorded(p)
    sim.end()
    return result


def main():
    dt, runs = side_by_side(__file__, run_one)
    expected = closed_form()
    print(f"closed form: {len(expected)} spikes, first {expected[0]:.6f} ms, "
          f"last {expected[-1]:.6f} ms")
    for name in ("IF_curr_exp", "IF_cond_exp"):
        for backend, r in runs.items():
            s = np.asarray(r[name]["spikes"])
            d = s - expected if len(s) == len(expected) else np.full(1, np.nan)
            print(f"{name} {backend} (dt {dt} ms): {len(s)} spikes, t - closed form from "
                  f"{d.min():.3g} to {d.max():.3g} ms, {r['seconds']:.2f} s")
        a, b = runs["apical"][name], runs["brian2"][name]
        first_spike = min([expected[0]] + a["spikes"][:1] + b["spikes"][:1])
        dv = largest_v_difference(a, b, first_spike)
        print(f"{name}: largest |V_apical - V_brian2| before the first spike {dv.max():.3g} mV")


if __name__ == "__main__":
    main()
