#!/usr/bin/env python3
"""The CUBA network (Brette et al. 2007, benchmark 2) written once in PyNN
and run on pyNN.apical and pyNN.brian2 side by side, over several seeds:
rates and CVs of both, and the times of both (bench/README.md).

    PYTHONPATH=build/python /usr/bin/python3 bench/pynn_cuba.py --seeds 3 --n 1000

With --n below 4000 the connection probability is raised so that every cell
keeps the benchmark's 64 excitatory and 16 inhibitory inputs (pconn =
0.02 * 4000 / n). One backend per process (--backend runs one network and
prints its figures as JSON).
"""
import argparse
import json
import subprocess
import sys
import time

import numpy as np


def run_one(backend, seed, n, tstop):
    import importlib
    sim = importlib.import_module("apical.pynn" if backend == "apical" else "pyNN.brian2")
    from pyNN.random import NumpyRNG, RandomDistribution

    t0 = time.perf_counter()
    extra = {"rng_seed": seed} if backend == "apical" else {}
    sim.setup(timestep=0.1, min_delay=0.2, max_delay=1.0, **extra)
    cell = dict(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=10.0, v_rest=-49.0, v_reset=-60.0,
                v_thresh=-50.0, cm=0.2, tau_refrac=5.0)
    n_exc = n * 4 // 5
    exc = sim.Population(n_exc, sim.IF_curr_exp(**cell))
    inh = sim.Population(n - n_exc, sim.IF_curr_exp(**cell))
    rng = NumpyRNG(seed=seed)
    for p in (exc, inh):
        p.initialize(v=RandomDistribution("uniform", low=-60.0, high=-50.0, rng=rng))
        p.record("spikes")
    conn = sim.FixedProbabilityConnector(0.02 * 4000 / n, rng=rng)
    w_exc, w_inh = 1e-3 * 0.27 * (0 + 60), 1e-3 * 4.5 * (-80 + 60)   # nA, as the script
    for pre, w, receptor in ((exc, w_exc, "excitatory"), (inh, w_inh, "inhibitory")):
        for post in (exc, inh):
            sim.Projection(pre, post, conn, sim.StaticSynapse(weight=w, delay=0.2),
                           receptor_type=receptor)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    sim.run(tstop)
    run_s = time.perf_counter() - t1
    out = {"backend": backend, "seed": seed, "n": n, "build_s": build_s, "run_s": run_s}
    for name, p in (("E", exc), ("I", inh)):
        trains = p.get_data("spikes").segments[0].spiketrains
        counts = np.array([len(st) for st in trains])
        cvs = [np.std(np.diff(st.magnitude)) / np.mean(np.diff(st.magnitude))
               for st in trains if len(st) >= 3]
        out[f"rate_{name}"] = counts.sum() / len(trains) / (tstop / 1000.0)
        out[f"cv_{name}"] = float(np.mean(cvs)) if cvs else float("nan")
    sim.end()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=["apical", "brian2"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--tstop", type=float, default=1000.0)
    a = ap.parse_args()
    if a.backend:
        print(json.dumps(run_one(a.backend, a.seed, a.n, a.tstop)))
        return
    rows = []
    for seed in range(1, a.seeds + 1):
        for backend in ("apical", "brian2"):   # alternating, one process each
            r = subprocess.run([sys.executable, __file__, "--backend", backend, "--seed",
                                str(seed), "--n", str(a.n), "--tstop", str(a.tstop)],
                               capture_output=True, text=True, check=True)
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    print("| backend | E rate (Hz) | E CV | I rate (Hz) | I CV | build (s) | run (s) |")
    print("|---|---|---|---|---|---|---|")
    for backend in ("apical", "brian2"):
        rs = [r for r in rows if r["backend"] == backend]
        cells = [f"{np.mean([r[k] for r in rs]):.3f} ± {np.std([r[k] for r in rs]):.3f}"
                 for k in ("rate_E", "cv_E", "rate_I", "cv_I", "build_s", "run_s")]
        print(f"| pyNN.{backend} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
