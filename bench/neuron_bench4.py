#!/usr/bin/python3
"""Runs the Brette et al. (2007) benchmark-4 network in NEURON, exactly and
event-driven (an ARTIFICIAL_CELL driven by NEURON's discrete event queue;
bench/neuron/b4lif.mod), for comparison with `apical simulate --preset
brette-bench4`: the same neurons, weights, 0.1 ms delays, p = 0.02 without
autapses, and Poisson kicks (+10 mV, 100 Hz) during the first 50 ms.

    /usr/bin/python3 bench/neuron_bench4.py [--duration MS] [--seed N]

Prints one JSON line: build_s (creating cells and NetCons), sim_s (the run),
rates and the CV of ISIs. Needs Debian's neuron, neuron-dev and
python3-neuron; the mechanism is compiled with nrnivmodl into a temporary
folder.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def compile_mechanism(work):
    """nrnivmodl of Debian's neuron-dev 8.2 looks for its makefile in
    /usr/bin and its library in /usr/lib: point it at /usr/lib/nrn through a
    folder of links. Only the mechanism library is needed (building the
    'special' executable may fail)."""
    bindir = os.path.join(work, "nrnbin", "bin")
    os.makedirs(bindir)
    for name in os.listdir("/usr/bin"):
        if name.startswith("nrn") or name in ("nocmodl", "modlunit", "mkthreadsafe"):
            os.symlink(os.path.join("/usr/bin", name), os.path.join(bindir, name))
    os.symlink("/usr/lib/nrn/nrnmech_makefile", os.path.join(bindir, "nrnmech_makefile"))
    env = dict(os.environ, NRNHOME_EXEC=os.path.join(work, "nrnbin"))
    subprocess.run(["nrnivmodl", "-loadflags", "-L/usr/lib/nrn -Wl,-rpath,/usr/lib/nrn"],
                   cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lib = os.path.join(work, "x86_64", "libnrnmech.so")
    if not os.path.exists(lib):
        sys.exit("nrnivmodl failed to build the mechanism (needs neuron-dev)")
    return lib


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="neuron_b4_")
    shutil.copy(os.path.join(HERE, "neuron", "b4lif.mod"), work)
    lib = compile_mechanism(work)
    from neuron import h
    h.nrn_load_dll(lib)

    rng = np.random.default_rng(a.seed)
    n_e, n = 3200, 4000
    t0 = time.perf_counter()
    cells = [h.B4LIF() for _ in range(n)]
    v0 = rng.uniform(-60.0, -50.0, size=n)
    for c, v in zip(cells, v0):
        c.v0 = v
    netcons = []
    for i in range(n):
        w = 0.25 if i < n_e else -2.25
        targets = np.nonzero(rng.random(n) < 0.02)[0]
        for j in targets:
            if j == i:
                continue
            nc = h.NetCon(cells[i], cells[j])
            nc.weight[0] = w
            nc.delay = 0.1
            netcons.append(nc)
    tvec, idvec = h.Vector(), h.Vector()
    recorders = []
    for i, c in enumerate(cells):
        nc = h.NetCon(c, None)
        nc.record(tvec, idvec, i)
        recorders.append(nc)
    # Poisson kicks: independent trains of mean ISI 10 ms during 50 ms.
    kick_ncs = [h.NetCon(None, c) for c in cells]
    for nc in kick_ncs:
        nc.weight[0] = 10.0
    kicks = []
    for i in range(n):
        t = rng.exponential(10.0)
        while t < 50.0:
            kicks.append((t, i))
            t += rng.exponential(10.0)

    def deliver_kicks():
        for t, i in kicks:
            kick_ncs[i].event(t)

    handler = h.FInitializeHandler(deliver_kicks)  # noqa: F841 (kept alive)
    h.load_file("stdrun.hoc")
    cvode = h.CVode()
    cvode.active(1)  # only artificial cells: a pure discrete-event run
    build_s = time.perf_counter() - t0

    h.finitialize()
    t0, c0 = time.perf_counter(), time.process_time()
    h.continuerun(a.duration)
    sim_s, sim_cpu_s = time.perf_counter() - t0, time.process_time() - c0

    ids = np.asarray(idvec, dtype=int)
    times = np.asarray(tvec)
    dur_s = a.duration / 1000.0
    cvs = []
    for i in range(n):
        t = np.sort(times[ids == i])
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(isi.std() / isi.mean())
    print(json.dumps({
        "peer": "neuron", "version": h.nrnversion(5), "preset": "brette-bench4",
        "duration_ms": a.duration, "neurons": n, "synapses": len(netcons),
        "build_s": build_s, "sim_s": sim_s, "sim_cpu_s": sim_cpu_s,
        "rate_e_hz": float((ids < n_e).sum() / (n_e * dur_s)),
        "rate_i_hz": float((ids >= n_e).sum() / ((n - n_e) * dur_s)),
        "cv_isi": float(np.mean(cvs)) if cvs else float("nan"),
        "spikes": int(len(ids)),
    }))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
