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
import json
import time

from pynn_side_by_side import alternate, arguments, backend_module, run_and_measure


def run_one(backend, seed, n, tstop):
    sim = backend_module(backend)
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
    return run_and_measure(sim, tstop, (("E", exc), ("I", inh)),
                           {"backend": backend, "seed": seed, "n": n, "build_s": build_s})


def main():
    ap = arguments(__doc__)
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()
    if a.backend:
        print(json.dumps(run_one(a.backend, a.seed, a.n, a.tstop)))
        return
    alternate(__file__, a.seeds, ["--n", str(a.n), "--tstop", str(a.tstop)],
              [("rate_E", "E rate (Hz)"), ("cv_E", "E CV"), ("rate_I", "I rate (Hz)"),
               ("cv_I", "I CV"), ("build_s", "build (s)"), ("run_s", "run (s)")])


if __name__ == "__main__":
    main()
