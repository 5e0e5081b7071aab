#!/usr/bin/env python3
"""A DistanceDependentProbabilityConnector on a 2-D sheet, written once in
PyNN and built on pyNN.apical (apical's C++ rule compiles the expression)
and on pyNN.brian2 (PyNN's own numpy algorithm) side by side: the time to
build the projection and whether the drawn synapses follow the
probability.

    PYTHONPATH=build/python /usr/bin/python3 bench/pynn_distance_connector.py [--side 70]

The sheet: side x side IF_curr_exp cells on a unit grid, connected to
itself with probability 0.5 exp(-d / 3) (d in grid units, no
self-connections). For each backend: the build time (Projection() and
len(), which builds apical's network), the synapse count against its
binomial mean and standard deviation, and the largest z-score of the
counts in distance bins of one unit (1 to 16). One backend per
process (--backend prints its figures as JSON).
"""
import time

import numpy as np

from pynn_side_by_side import backend_module
from pynn_source_runs import side_by_side

EXPRESSION = "0.5 * exp(-d / 3)"


def positions(side):
    from pyNN.space import Grid2D
    return Grid2D(dx=1.0, dy=1.0).generate_positions(side * side)


def run_one(backend, side):
    sim = backend_module(backend)
    sim.setup(timestep=0.1, min_delay=0.1)
    from pyNN.space import Grid2D
    pop = sim.Population(side * side, sim.IF_curr_exp(), structure=Grid2D(dx=1.0, dy=1.0))
    t0 = time.perf_counter()
    prj = sim.Projection(pop, pop, sim.DistanceDependentProbabilityConnector(
        EXPRESSION, allow_self_connections=False), sim.StaticSynapse(weight=0.1, delay=1.0))
    n = len(prj)
    build_s = time.perf_counter() - t0
    pairs = np.asarray(prj.get("weight", format="list"))[:, :2].astype(int)
    sim.end()
    return {"build_s": build_s, "synapses": n, "pre": pairs[:, 0].tolist(),
            "post": pairs[:, 1].tolist()}


def expected(side):
    """Per distance bin of one unit: the mean and variance of the count."""
    pos = positions(side).T
    mean, var = np.zeros(64), np.zeros(64)
    for j in range(len(pos)):
        d = np.sqrt(((pos - pos[j]) ** 2).sum(axis=1))
        p = 0.5 * np.exp(-d / 3)
        p[j] = 0.0
        b = np.minimum(d.astype(int), 63)
        np.add.at(mean, b, p)
        np.add.at(var, b, p * (1 - p))
    return mean, var


def main():
    side, runs = side_by_side(__file__, run_one, "side", int, 70)
    mean, var = expected(side)
    pos = positions(side).T
    print(f"{side}x{side} sheet, {side ** 4:.3g} pairs, p = {EXPRESSION}; "
          f"expected synapses {mean.sum():.0f} +- {np.sqrt(var.sum()):.0f}")
    print(f"{'backend':8} {'build (s)':>10} {'synapses':>9} {'z total':>8} {'max |z| bin':>12}")
    for backend, got in runs.items():
        pre, post = np.asarray(got["pre"]), np.asarray(got["post"])
        d = np.sqrt(((pos[pre] - pos[post]) ** 2).sum(axis=1))
        counts = np.bincount(np.minimum(d.astype(int), 63), minlength=64)
        z_bins = (counts[1:16] - mean[1:16]) / np.sqrt(var[1:16])
        z_total = (got["synapses"] - mean.sum()) / np.sqrt(var.sum())
        print(f"{backend:8} {got['build_s']:10.2f} {got['synapses']:9d} {z_total:8.2f} "
              f"{np.abs(z_bins).max():12.2f}")


if __name__ == "__main__":
    main()
