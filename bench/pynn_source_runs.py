"""What bench/pynn_dc_source.py and bench/pynn_ac_source.py share: one
backend per process, side by side, and V of two backends compared."""
import argparse
import json
import subprocess
import sys
import time

import numpy as np

from pynn_side_by_side import backend_module


def side_by_side(script, run_one, option="dt", kind=float, default=0.1):
    """With --backend B: prints run_one(B, value) as JSON and exits, value
    that of --OPTION (--dt unless told). Without: runs `script` once per
    backend (apical, brian2), each in its own process, and returns
    (value, {backend: its figures})."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--" + option, type=kind, default=default)
    ap.add_argument("--backend")
    args = ap.parse_args()
    value = getattr(args, option)
    if args.backend:
        print(json.dumps(run_one(args.backend, value)))
        sys.exit(0)
    runs = {}
    for backend in ("apical", "brian2"):
        r = subprocess.run([sys.executable, script, "--backend", backend, "--" + option,
                            str(value)], capture_output=True, text=True, check=True)
        runs[backend] = json.loads(r.stdout.strip().splitlines()[-1])
    return value, runs


def set_up(backend, dt):
    """The PyNN module of `backend`, set up with timestep and min_delay dt,
    and the time (perf_counter) just before its setup()."""
    sim = backend_module(backend)
    t0 = time.perf_counter()
    sim.setup(timestep=dt, min_delay=dt)
    return sim, t0


def cell_at_rest(sim, celltype, cell):
    """One cell of `celltype` (parameters `cell`) at v_rest, recording its
    spikes and V."""
    p = sim.Population(1, celltype(**cell))
    p.initialize(v=cell["v_rest"])
    p.record(["spikes", "v"])
    return p


def recorded(p):
    """The spikes (ms) and V (its times in ms, mV) of one recorded cell."""
    import quantities as pq
    seg = p.get_data().segments[0]
    v = seg.analogsignals[0]
    return {"spikes": np.asarray(seg.spiketrains[0].rescale(pq.ms)).tolist(),
            "t": np.asarray(v.times.rescale(pq.ms)).tolist(),
            "v": np.asarray(v.magnitude)[:, 0].tolist()}


def largest_v_difference(a, b, until_ms):
    """The largest |V_a - V_b| (mV) over the common samples before until_ms."""
    n = min(len(a["v"]), len(b["v"]))
    before = np.asarray(a["t"][:n]) < until_ms
    return np.abs(np.asarray(a["v"][:n]) - np.asarray(b["v"][:n]))[before].max()
