#!/usr/bin/python3
"""Runs the Brette et al. (2007) benchmark-4 network in apical and in NEURON
(exact, event-driven; bench/neuron_bench4.py) in the same run and prints
times, rates and the ratio.

    /usr/bin/python3 bench/compare_neuron.py [--duration MS] [--repeat N]
        [--apical build/apps/apical]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import apical_run  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--apical", default=apical_run.DEFAULT_BINARY)
    a = ap.parse_args()
    apical_run.require_binary(a.apical)
    ap_runs, nrn_runs = [], []
    for k in range(a.repeat):
        ap_runs.append(apical_run.simulate(a.apical, "brette-bench4", a.duration, seed=k + 1))
        r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "neuron_bench4.py"),
                            "--duration", str(a.duration), "--seed", str(k + 1)],
                           check=True, capture_output=True, text=True)
        nrn_runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
    med = lambda runs, key: statistics.median(x[key] for x in runs)  # noqa: E731
    print(f"brette-bench4, {a.duration:g} ms, {a.repeat} runs each (medians)\n")
    print("| | sim s (wall) | sim s (CPU) | build s | rate E Hz | rate I Hz | CV ISI |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in (("apical", ap_runs), ("NEURON", nrn_runs)):
        print(f"| {name} | {med(runs, 'sim_s'):.3f} | {med(runs, 'sim_cpu_s'):.3f} | "
              f"{med(runs, 'build_s'):.2f} | {med(runs, 'rate_e_hz'):.2f} | "
              f"{med(runs, 'rate_i_hz'):.2f} | {med(runs, 'cv_isi'):.3f} |")
    print(f"\nNEURON / apical simulation time: wall {med(nrn_runs, 'sim_s') / med(ap_runs, 'sim_s'):.1f}x, "
          f"CPU {med(nrn_runs, 'sim_cpu_s') / med(ap_runs, 'sim_cpu_s'):.1f}x")


if __name__ == "__main__":
    main()
