"""What bench/pynn_cuba.py and bench/pynn_brunel_alpha.py share: one network
run per process on each backend, seeds alternating, and a table of the
means and standard deviations over the seeds."""
import argparse
import json
import subprocess
import sys
import time

import numpy as np


def backend_module(backend):
    """The PyNN module of `backend` ('apical' or 'brian2')."""
    import importlib
    return importlib.import_module("apical.pynn" if backend == "apical" else "pyNN.brian2")


def arguments(doc, seeds=3, tstop=1000.0):
    """The options both scripts take: --backend (one run, printed as JSON),
    --seed, --seeds (alternating runs) and --tstop (ms)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--backend", choices=["apical", "brian2"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=seeds)
    ap.add_argument("--tstop", type=float, default=tstop)
    return ap


def run_and_measure(sim, tstop, populations, figures):
    """Runs the network for tstop ms and ends it: `figures` with the run's
    wall time (run_s) and the spike figures of each (name, population)."""
    t0 = time.perf_counter()
    sim.run(tstop)
    figures["run_s"] = time.perf_counter() - t0
    for name, p in populations:
        figures.update(spike_figures(name, p, tstop))
    sim.end()
    return figures


def spike_figures(name, population, tstop):
    """Mean rate (Hz) and mean CV of the interspike intervals (cells with at
    least 3 spikes) of a population that recorded its spikes, and the
    fraction of its cells that never fired, keyed rate_/cv_/silent_<name>."""
    trains = population.get_data("spikes").segments[0].spiketrains
    counts = np.array([len(st) for st in trains])
    cvs = [np.std(np.diff(st.magnitude)) / np.mean(np.diff(st.magnitude))
           for st in trains if len(st) >= 3]
    return {f"rate_{name}": counts.sum() / len(trains) / (tstop / 1000.0),
            f"cv_{name}": float(np.mean(cvs)) if cvs else float("nan"),
            f"silent_{name}": float(np.mean(counts == 0))}


def alternate(script, seeds, args, columns):
    """Runs `script --backend B --seed S *args` for S = 1..seeds, apical and
    brian2 alternating, one process each; prints each run's JSON and then a
    table of mean ± sd over the seeds of `columns` ((key, heading) pairs)."""
    rows = []
    for seed in range(1, seeds + 1):
        for backend in ("apical", "brian2"):
            r = subprocess.run([sys.executable, script, "--backend", backend, "--seed", str(seed),
                                *args], capture_output=True, text=True, check=True)
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    print("| backend | " + " | ".join(h for _, h in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for backend in ("apical", "brian2"):
        rs = [r for r in rows if r["backend"] == backend]
        cells = [f"{np.mean([r[k] for r in rs]):.3f} ± {np.std([r[k] for r in rs]):.3f}"
                 for k, _ in columns]
        print(f"| pyNN.{backend} | " + " | ".join(cells) + " |")
