#!/usr/bin/env python3
"""PyNN's Brunel example (brunel.py: IF_curr_alpha cells, tau_syn 0.1 ms,
the weights and Poisson drive of Brunel 2000's case C, delays 1.5 ms)
written once and run on pyNN.apical and pyNN.brian2 side by side, over
several seeds, at a size Brian2 builds in minutes: rates and CVs of all
cells and the times of both (bench/README.md).

    PYTHONPATH=build/python /usr/bin/python3 bench/pynn_brunel_alpha.py --seeds 3 --order 250

--order is brunel.py's order_eff (1000 there: 4000 E and 1000 I cells);
every other figure follows from it as in brunel.py (in-degrees 0.1 of each
population, external rate 2 nu_thresh per synapse). With --network SEED
the recurrent synapses are drawn once by numpy from SEED and given to both
backends as a FromListConnector, so that only the Poisson drive and the
initial potentials change with --seed. One backend per process (--backend
runs one network and prints its figures as JSON).
"""
import json
import time

from pynn_side_by_side import alternate, arguments, backend_module, run_and_measure


def drawn_synapses(network_seed, n_pre, n_post, epsilon, k):
    """Pairs (i, j), each with probability epsilon (self-connections allowed,
    as FixedProbabilityConnector's default), for projection k."""
    import numpy as np
    rng = np.random.default_rng([network_seed, k])
    i, j = np.nonzero(rng.random((n_pre, n_post)) < epsilon)
    return list(zip(i.tolist(), j.tolist()))


def run_one(backend, seed, order, tstop, network_seed=None):
    sim = backend_module(backend)
    from pyNN.random import NumpyRNG, RandomDistribution

    t0 = time.perf_counter()
    extra = {"rng_seed": seed} if backend == "apical" else {}
    dt, delay, j_eff, tau_m, tau_syn, theta, epsilon = 0.1, 1.5, 5.0, 20.0, 0.1, 20.0, 0.1
    sim.setup(timestep=dt, max_delay=delay, **extra)
    n_e, n_i = 4 * order, order
    c_e = int(epsilon * n_e)
    w_e = j_eff / tau_syn * 0.00041363506632638   # nA, brunel.py's "fudge"
    w_i = -5.0 * w_e
    nu_thresh = theta / (j_eff * c_e * tau_m)
    p_rate = 1000.0 * 2.0 * nu_thresh * c_e
    cell = sim.IF_curr_alpha(tau_m=tau_m, tau_syn_E=tau_syn, tau_syn_I=tau_syn, tau_refrac=2.0,
                             v_rest=0.0, v_reset=0.0, v_thresh=theta, cm=0.001)
    exc, inh = sim.Population(n_e, cell), sim.Population(n_i, cell)
    rng = NumpyRNG(seed=seed)
    for p in (exc, inh):
        p.initialize(v=RandomDistribution("uniform", low=0.0, high=theta, rng=rng))
        p.record("spikes")
        drive = sim.Population(p.size, sim.SpikeSourcePoisson(rate=p_rate))
        sim.Projection(drive, p, sim.OneToOneConnector(), sim.StaticSynapse(weight=w_e, delay=dt),
                       receptor_type="excitatory")
    k = 0
    for pre, w, receptor in ((exc, w_e, "excitatory"), (inh, w_i, "inhibitory")):
        for post in (exc, inh):
            conn = (sim.FixedProbabilityConnector(epsilon, rng=rng) if network_seed is None else
                    sim.FromListConnector(drawn_synapses(network_seed, pre.size, post.size,
                                                         epsilon, k)))
            k += 1
            sim.Projection(pre, post, conn, sim.StaticSynapse(weight=w, delay=delay),
                           receptor_type=receptor)
    build_s = time.perf_counter() - t0
    return run_and_measure(sim, tstop, (("E", exc), ("I", inh)),
                           {"backend": backend, "seed": seed, "order": order,
                            "network": network_seed, "build_s": build_s})


def main():
    ap = arguments(__doc__)
    ap.add_argument("--order", type=int, default=250)
    ap.add_argument("--network", type=int, help="draw the recurrent synapses once from this seed")
    a = ap.parse_args()
    if a.backend:
        print(json.dumps(run_one(a.backend, a.seed, a.order, a.tstop, a.network)))
        return
    fixed = [] if a.network is None else ["--network", str(a.network)]
    alternate(__file__, a.seeds, ["--order", str(a.order), "--tstop", str(a.tstop), *fixed],
              [("rate_E", "E rate (Hz)"), ("cv_E", "E CV"), ("silent_E", "E silent"),
               ("rate_I", "I rate (Hz)"), ("cv_I", "I CV"), ("silent_I", "I silent"),
               ("build_s", "build (s)"), ("run_s", "run (s)")])


if __name__ == "__main__":
    main()
